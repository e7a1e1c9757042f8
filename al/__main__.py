"""``python -m al``: the commands, one line each; ``python -m al COMMAND ARGS...`` runs ``python -m al.COMMAND``.

Installed, the same is the ``al`` command (``al simulate --budget 600``), beside ``al-simulate`` and the others.
"""
from __future__ import annotations

import importlib
import sys
from typing import Sequence

#: Each command, the module whose ``main(argv)`` runs it, and what it does.
COMMANDS: dict[str, tuple[str, str]] = {
    "simulate": ("al.simulate", "run one active-learning simulation (the main job; resumes where it stopped)"),
    "grid": ("al.grid", "run every simulation of a grid file, here on several workers or on a Ray cluster"),
    "report": ("al.report", "compare the strategies of finished runs: curves, areas, paired tests, tables"),
    "plot": ("al.plot", "draw a metric against labeled-set size, one line per strategy"),
    "analyze": ("al.analyze", "how well an embedding space's class centroids fit your labels, before any budget"),
    "annotate": ("al.annotate.__main__", "label your own texts in a local web page, a strategy picking each batch"),
    "cache": ("al.cache", "list or prune what al's cache holds"),
    "testing": ("al.testing.__main__", "check a strategy of your own against the interface's rules"),
}

#: Words a user may try for a command, and the command that does it (named in the error, not run).
OTHER_WORDS: dict[str, str] = {
    "check": "testing", "test": "testing", "lint": "testing", "run": "simulate", "sim": "simulate",
    "label": "annotate", "labeling": "annotate", "labelling": "annotate", "serve": "annotate", "analyse": "analyze",
    "compare": "report", "curves": "plot",
}


def usage() -> str:
    """The command list ``python -m al`` prints."""
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {what}" for name, (_, what) in COMMANDS.items()]
    return "\n".join(["usage: python -m al COMMAND [ARGS...]   (or: python -m al.COMMAND [ARGS...])", "",
                      "commands:", *lines, "", "python -m al COMMAND --help gives a command's options."])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv[0]`` names on the rest; print the command list for none, ``-h`` or ``--help``."""
    from al.errors import did_you_mean

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if args else sys.stderr)  # no command: an error, said where errors go
        return 0 if args else 2
    if args[0] == "--version":
        from al import __version__

        print(f"al {__version__}")
        return 0
    if args[0] not in COMMANDS:
        meant = (f" (did you mean {OTHER_WORDS[args[0].lower()]}?)" if args[0].lower() in OTHER_WORDS
                 else did_you_mean([args[0]], COMMANDS))
        print(f"error: unknown command {args[0]!r}{meant}; known: "
              f"{', '.join(COMMANDS)}; python -m al lists them", file=sys.stderr)
        return 2
    return importlib.import_module(COMMANDS[args[0]][0]).main(args[1:])


if __name__ == "__main__":
    from al.cli import exit_with

    exit_with(main)
