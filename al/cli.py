"""What every command line shares: an argument error is one line on stderr, exit code 2, and an output
path is checked before any work.

argparse prints its whole usage above the error; a user who typed ``--stratgy``
wants the one line that says what was wrong and what was meant::

    error: unrecognized arguments: --stratgy (did you mean --strategy?); python -m al.simulate --help lists the options
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn, Sequence, TextIO

from al.errors import ConfigError, and_more, did_you_mean, is_users


def one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                     line: str | None = None) -> str:
    """``warning: <message>`` on one line: a command's warnings read like its errors (no source line, no class).
    A library's arithmetic warning (numpy's ``divide by zero encountered in divide``) says nothing of where it
    arose: it names the file and line that met it, for a report of it; so does a user's own warning (their
    strategy's ``warnings.warn``), as their errors do."""
    where = ""
    if _arithmetic(message, category):
        where = f" (at {_package_path(filename)}:{lineno})"
    elif is_users(filename) and not _built_in_strategy(filename):  # a user's own warning: where, as an error says
        where = f" (at {_package_path(filename)}:{lineno})"
    return f"warning: {' '.join(str(message).split())}{where}\n"


def _built_in_strategy(filename: str) -> bool:
    """Whether ``filename`` is one of the built-in strategies of a checkout (``strategies/`` beside ``al/``): code a
    user may edit, whose warnings are al's own all the same."""
    import al

    checkout = os.path.dirname(os.path.dirname(os.path.abspath(al.__file__)))
    return os.path.abspath(filename).startswith(os.path.join(checkout, "strategies") + os.sep)


def _arithmetic(message: Warning | str, category: type[Warning]) -> bool:
    """Whether a warning is a library's arithmetic one (numpy's ``divide by zero encountered in divide``), which
    says nothing of where it arose."""
    return issubclass(category, RuntimeWarning) and re.search(
        r"\bencountered in [\w ]+$|^Mean of empty slice|^Degrees of freedom <= 0", str(message)) is not None


def _users_line(filename: str, lineno: int) -> tuple[str, int]:
    """The innermost line of a user's code (:func:`al.errors.is_users`) on the stack of the warning being shown, where
    a library's own line (``numpy/_core/_methods.py:134``) is ``filename``; else ``(filename, lineno)``."""
    import sys

    if is_users(filename):
        return filename, lineno
    frame = sys._getframe(2)
    while frame is not None:
        if is_users(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return filename, lineno


def _package_path(filename: str) -> str:
    """``filename`` from its top package's folder (``sklearn/metrics/_ranking.py``, ``al/report.py``): the
    folder on ``sys.path`` that holds it is left out; a file outside them is named as it is."""
    import sys

    path = os.path.realpath(filename)
    roots = sorted((os.path.realpath(p) for p in sys.path if p and os.path.isdir(p)), key=len, reverse=True)
    root = next((r for r in roots if path.startswith(r.rstrip(os.sep) + os.sep)), None)
    return os.path.relpath(path, root) if root else filename


def _shown_once(show: Callable[..., None]) -> Callable[..., None]:
    """``warnings.showwarning`` that shows each message once per command (a solver's convergence warning repeated
    at every fit of a run is one line, not a hundred): the seen messages start afresh at each parse."""
    show = getattr(show, "shows", show)  # a command run twice in one process (tests) wraps the original once
    seen: set[tuple[type, str]] = set()

    def shown_once(message: Warning | str, category: type[Warning], filename: str, lineno: int, *args: object,
                   **kwargs: object) -> None:
        key = (category, " ".join(str(message).split()))
        if (glyph := _missing_glyph(str(message))) is not None:  # one line for every character a font lacks
            key, message = (category, "glyph"), glyph
        if key not in seen:
            seen.add(key)
            if _arithmetic(message, category):  # numpy's arithmetic warning: where a user's code met it
                filename, lineno = _users_line(filename, lineno)
            show(message, category, filename, lineno, *args, **kwargs)

    shown_once.shows = show  # type: ignore[attr-defined]
    return shown_once


#: matplotlib's warning for a character its font lacks: one for each character and each figure.
_GLYPH = re.compile(r"Glyph (?P<code>\d+) \(.*\) missing from font\(s\) (?P<font>.+?)\.?$")


def _missing_glyph(message: str) -> str | None:
    """matplotlib's "Glyph 37197 (\\N{CJK UNIFIED IDEOGRAPH-914D}) missing from font(s) DejaVu Sans." as one line
    for them all (:func:`_shown_once` shows it once), or None for another message."""
    match = _GLYPH.match(" ".join(message.split()))
    if match is None:
        return None
    character = chr(int(match["code"])) if int(match["code"]) < 0x110000 else match["code"]
    return (f"the figures' font ({match['font']}) lacks some characters of the names drawn ({character!r} first): "
            f"they are drawn as empty boxes, and nothing else changes; a font that has them, set as matplotlib's "
            f"font.family (matplotlibrc), draws them")


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help that names each option's default where it has one: ``(default: None)`` and a flag's
    ``(default: False)`` say nothing and are left out."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` whose errors are one line: the problem, a close option name for a
    misspelt one, and where the options are listed; exit code 2. Parsing also makes the command's
    warnings one line each (:func:`one_line_warning`). Every command has ``--version``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from al import __version__

        self.add_argument("--version", action="version", version=f"al {__version__}",
                          help="print al's version and exit")

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        warnings.formatwarning = one_line_warning
        warnings.showwarning = _shown_once(warnings.showwarning)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split())
        self.exit(2, f"error: {message}{self._close_options(message)}; {self.prog} --help lists the options\n")

    def _close_options(self, message: str) -> str:
        """`` (did you mean --seed?)`` for the unknown options an ``unrecognized arguments`` message names."""
        prefix = "unrecognized arguments:"
        if not message.startswith(prefix):
            return ""
        known = [s for s in self._option_string_actions if s.startswith("--")]
        return did_you_mean([w.split("=", 1)[0] for w in message[len(prefix):].split() if w.startswith("--")], known)


class GivenOnce(argparse.Action):
    """An option that may be given once (``--config``): a second one would drop the first unsaid."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if getattr(namespace, self.dest, None) not in (None, argparse.SUPPRESS):
            raise argparse.ArgumentError(self, f"given twice ({getattr(namespace, self.dest)} and {values}), and "
                                               f"one file's settings would be dropped; give one (flags beside it "
                                               f"override its settings)")
        setattr(namespace, self.dest, values)


def add_data_options(group: argparse._ArgumentGroup, dataset: str, n_frequent: int, n_rare: int,
                     label_sep_yaml: bool = False) -> None:
    """The corpus options that ``al.simulate`` and ``al.analyze`` share, into ``group``, none with a default
    (``SUPPRESS`` parsers: the defaults named in the help are :class:`al.config.SimulationConfig`'s).
    ``label_sep_yaml`` names the settings file's form of ``--label-sep`` too."""
    group.add_argument("--dataset", help=f"disaster (embedded default), reuters, csv or jsonl (default: {dataset})")
    group.add_argument("--data-path",
                       help="reuters: directory of reut2-*.sgm or reuters21578.tar.gz; csv/jsonl: the file; "
                       "disaster: optional CSV (default: the installed package's)")
    group.add_argument("--labels", nargs="+", metavar="LABEL",
                       help="keep exactly these labels (default: --frequent most and --rare least frequent)")
    group.add_argument("--frequent", type=int, dest="n_frequent", metavar="K",
                       help=f"frequent labels to keep (default: {n_frequent})")
    group.add_argument("--rare", type=int, dest="n_rare", metavar="K",
                       help=f"rare labels to keep: the least frequent eligible labels (default: {n_rare})")
    group.add_argument("--text-column", help="csv/jsonl: the text column (default 'text')")
    group.add_argument("--label-columns", nargs="+",
                       help="csv/jsonl: 0/1 label columns, or one column listing labels (default: every 0/1 "
                       "column, or else the 'labels' column; a file with both must name which)")
    group.add_argument("--split-column",
                       help="csv/jsonl: the column that puts each row in train, dev (or validation) or test "
                       "(default 'split'; without one, each text goes where a hash of it falls)")
    yaml = "; YAML: data_options: {label_sep: ','}" if label_sep_yaml else ""
    group.add_argument("--label-sep", metavar="SEP",
                       help="csv/jsonl: what joins the labels of a label-list cell that is not a JSON list, e.g. "
                       f"--label-sep , for 'food,water' (default '|'{yaml})")
    group.add_argument("--pool-size", type=int,
                       help="subsample the pool to this many texts, at most the pool's size; the dev and test splits "
                            "stay whole, so scores compare with full-pool runs (default: all)")


def check_own_folder(out: Path, flag: str, thing: str, command: str, own: Callable[[str], bool],
                     then: str = "replaced") -> None:
    """Refuse, before any work, an output folder holding files that ``command`` did not write (a user's notes, a
    run), which its ``thing`` would mix with or replace; files for which ``own(name)`` holds, and hidden ones
    (``.DS_Store``), do not count. The caller has taken a folder an earlier ``thing`` wrote already, which is then
    ``then`` (replaced, or resumed).

    Raises
    ------
    ConfigError
        One line naming a few of the files found.
    """
    if not out.is_dir():
        return
    found = sorted(p.name for p in out.iterdir() if not p.name.startswith(".") and not own(p.name))
    if found:
        raise ConfigError(f"{flag} {out} holds files no {thing} wrote ({', '.join(found[:3])}{and_more(len(found))}), "
                          f"which the {thing} would mix with or replace; give a new or empty directory, or one an "
                          f"earlier {command} wrote (its {thing} is then {then})")


def output_file(path: str | Path, what: str, suffixes: Sequence[str] = ()) -> Path:
    """``path`` checked as a file to write, before any work: not a directory, under folders (not files), in a
    folder this process can write (:func:`check_writable`), and ending in one of ``suffixes`` (lower case, with
    the dot) when given; else a one-line :class:`ConfigError`."""
    if str(path) == "-":  # the usual name of standard output: not written to
        raise ConfigError(f"{what} - (standard output) is not written to: the output is a file; give its path, e.g. "
                          f"{what} out{suffixes[0] if suffixes else ''}")
    if not str(path).strip():  # Path("") is ".", a directory: say what was given
        raise ConfigError(f"{what} is empty; give a file path, e.g. {what} out{suffixes[0] if suffixes else ''}")
    path = Path(path)
    if path.is_dir():
        example = path / f"out{suffixes[0] if suffixes else ''}"
        raise ConfigError(f"{what} {path} is a directory; give a file path, e.g. {example}")
    _parents_are_folders(path, what)
    if suffixes and path.suffix.lower() not in suffixes:
        stripped = path.name.rstrip(".")  # "labeled.jsonl." : a sentence's full stop copied with the command
        if not stripped or path.parent == Path("/dev"):  # /dev/stdout: no file of its folder to suggest
            example = Path(f"out{suffixes[0]}")
        else:  # x.ndjson. -> x.ndjson, x.txt -> x.jsonl
            example = path.with_name(stripped)
            example = example if example.suffix.lower() in suffixes else example.with_suffix(suffixes[0])
        raise ConfigError(f"{what} {path} ends in {path.suffix or 'no extension'!s}; expected one of "
                          f"{', '.join(suffixes)} (e.g. {what} {example})")
    check_writable(path, what)
    return path


def output_dir(path: str | Path, what: str) -> Path:
    """``path`` checked as a directory to write into, before any work: not a file, under folders (not files),
    and writable by this process (:func:`check_writable`)."""
    if not str(path).strip():  # Path("") is "." : the working directory, which no one meant
        raise ConfigError(f"{what} is empty; give the path of a directory to write into")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {path} is a file; give a directory (a new one, or one this command wrote)")
    _parents_are_folders(path, what)
    check_writable(path / "_", what, shown=path)
    return path


def check_writable(path: str | Path, what: str, shown: str | Path | None = None) -> None:
    """A one-line :class:`ConfigError` unless a file can be made beside ``path``.

    The nearest existing folder above ``path`` is probed: a file is created in it
    and removed at once, so nothing is left behind and no folder is made. A
    probe, not a permission check, since ``root`` passes every mode check but
    still cannot write ``/sys`` or a read-only mount. ``shown`` is the path the
    message names (default ``path``).
    """
    path = Path(path)
    shown = path if shown is None else shown
    folder = next((p for p in path.parents if p.exists()), Path("."))
    try:
        handle, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{what} {shown} cannot be written: {folder} refuses new files ({reason}); give a path "
                          f"in a folder you can write") from None
    os.close(handle)
    os.unlink(probe)


def _parents_are_folders(path: Path, what: str) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{what} {path}: {parent} is a file, not a folder; give a path inside a folder")
            return


#: The status of a command whose work a closed output pipe cut short: the shell's for a writer killed by SIGPIPE.
CUT_SHORT = 128 + 13
_work_cut_short = False  # a closed pipe stopped the work (:func:`sigterm_stops`' block), not the printing after it


def work_cut_short() -> None:
    """Record that a closed output pipe stopped the command's work (its rounds, a grid's runs): it exits
    :data:`CUT_SHORT`, not 0 (:func:`exit_with`)."""
    global _work_cut_short
    _work_cut_short = True


def exit_with(main: Callable[[], int]) -> NoReturn:
    """``sys.exit(main())``, and quietly when the reader of the output went away (``... | head``).

    Python would print a ``BrokenPipeError`` traceback and exit 1; what was
    read is what the reader asked for. The status ``main`` returned stands;
    where it stopped writing because of it, 0 where its work was done (the
    lines it printed after, a report's), :data:`CUT_SHORT` where the pipe
    stopped the work itself (:func:`work_cut_short`: a simulation between
    rounds, whose progress lines met ``2>&1 | head``; a script must not take
    it for finished, and its records resume). A ``BrokenPipeError`` while
    standard output is still read (another pipe's) is an error as before.
    Standard output is pointed at ``/dev/null`` so that the flush at exit
    does not fail again.
    """
    import sys

    try:
        code = main()
    except BrokenPipeError:
        if not _pipe_gone():
            raise
        code = CUT_SHORT if _work_cut_short else 0
    for stream in (sys.stdout, sys.stderr):  # ``2>&1 | head``: standard error's pipe went too
        try:
            stream.flush()
        except BrokenPipeError:
            pass
        if _pipe_gone(stream):
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
    sys.exit(code)


def _pipe_gone(stream: TextIO | None = None) -> bool:
    """Whether standard output (or ``stream``) is a pipe whose reader has closed it."""
    import select
    import sys

    try:
        poll = select.poll()
        poll.register((sys.stdout if stream is None else stream).fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll here, no file descriptor
        return False


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: the server stops as on Ctrl-C (a KeyboardInterrupt)."""


#: Whether SIGTERM reached :func:`_raise_terminated` inside :func:`sigterm_stops`'s block: a library whose
#: blocking call catches the :class:`Terminated` raised inside it and raises a KeyboardInterrupt of its own
#: (``ray.wait``) loses its type, not this.
_SIGTERM_RECEIVED = False


def _raise_terminated(signum: int, frame: object) -> None:
    global _SIGTERM_RECEIVED
    _SIGTERM_RECEIVED = True
    raise Terminated


def by_sigterm(stop: KeyboardInterrupt) -> bool:
    """Whether ``stop`` came from SIGTERM: a :class:`Terminated`, or a KeyboardInterrupt raised after one."""
    return isinstance(stop, Terminated) or _SIGTERM_RECEIVED


def stopped(stop: KeyboardInterrupt, advice: str | None = None) -> int:
    """A command's exit status after Ctrl-C (130) or SIGTERM (:func:`by_sigterm`, 143), saying first, with
    ``advice``, ``interrupted; ADVICE`` or ``terminated; ADVICE`` on stderr."""
    import sys

    if advice is not None:
        print(f"{'terminated' if by_sigterm(stop) else 'interrupted'}; {advice}", file=sys.stderr)
    return 128 + signal.SIGTERM if by_sigterm(stop) else 130


@contextmanager
def sigterm_stops() -> Iterator[None]:
    """Inside the block SIGTERM raises :class:`Terminated` (main thread only), so cleanup runs as on Ctrl-C; a
    closed output pipe that stops the block's work is recorded (:func:`work_cut_short`).

    (``al.annotate``: uvicorn takes SIGTERM while it serves, stops gracefully,
    puts back the handler found, this one, and raises the signal again, which
    lands here. ``al.grid``: its workers stop with it.)
    """
    global _SIGTERM_RECEIVED
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SIGTERM_RECEIVED = False
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    except BrokenPipeError:  # the output's reader went away while the work ran: it stopped there
        work_cut_short()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        _SIGTERM_RECEIVED = False  # read by stopped() inside the block only: a later Ctrl-C is Ctrl-C
