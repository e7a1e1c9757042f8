"""``python -m al``: the command list, and each command run by its name."""
from __future__ import annotations

import configparser
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from al.__main__ import COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]


def test_no_command_lists_every_command_and_exits_2(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    for name, (_, what) in COMMANDS.items():
        assert re.search(rf"^  {name} +{re.escape(what)}$", err, re.M), name
    assert main(["--help"]) == 0 and capsys.readouterr().out == err


def test_every_runnable_module_of_al_is_a_command():
    """A module run as ``python -m al.X`` (it has a ``__main__`` guard or is a package's ``__main__.py``) is listed,
    and each listed module has the ``main(argv)`` the list calls."""
    runnable = set()
    for path in (ROOT / "al").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module != "al.__main__" and 'if __name__ == "__main__":' in path.read_text():
            runnable.add(module)
    assert runnable == {module for module, _ in COMMANDS.values()}
    for module, _ in COMMANDS.values():
        assert callable(importlib.import_module(module).main)


def test_a_command_runs_with_the_arguments_after_its_name(capsys):
    assert main(["testing", "random"]) == 0
    assert capsys.readouterr().out.startswith("ok: random (")
    with pytest.raises(SystemExit) as exited:
        main(["plot", "--help"])
    assert exited.value.code == 0 and "usage: python -m al.plot" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["grid", "report", "plot"])
def test_the_help_that_names_defaults_says_no_empty_one(command, capsys):
    """``--ray ADDRESS ... (default: None)`` and a flag's ``(default: False)`` said nothing; a default is named where
    there is one (the commands whose help names them), and each ends with its exit statuses."""
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert exited.value.code == 0 and "usage: python -m al." in out
    assert "(default: None)" not in out and "(default: False)" not in out
    assert "exit status: 0 when" in out and "2 when" in out and "130 on Ctrl-C" in out
    if command == "report":
        assert "(default: 10000)" in out


@pytest.mark.parametrize("word, close", [("simulat", " (did you mean simulate?)"), ("train", ""),
                                         ("check", " (did you mean testing?)"), ("Label", " (did you mean annotate?)")])
def test_an_unknown_command_is_one_line_with_exit_2(word, close, capsys):
    assert main([word, "--budget", "600"]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: unknown command {word!r}{close}; known: {', '.join(COMMANDS)}; python -m al lists "
                   f"them\n")


@pytest.mark.parametrize("command", ["simulate", "grid", "report", "plot", "analyze", "annotate", "cache", "testing"])
def test_every_command_prints_its_version(command, capsys):
    """--version before anything a command requires (grid's file, report's runs): the version, exit 0."""
    import importlib

    from al import __version__

    module = importlib.import_module(f"al.{command}" + (".__main__" if command in ("annotate", "testing") else ""))
    with pytest.raises(SystemExit) as exc:
        module.main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out == f"al {__version__}\n"


def test_python_dash_m_al_and_the_installed_command():
    done = subprocess.run([sys.executable, "-m", "al", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("al "), done.stderr
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    scripts = dict(line.split(" = ") for line in setup["options.entry_points"]["console_scripts"].split("\n") if line)
    assert scripts["al"] == "al.console:al"
    # every command installed, each through exit_with as python -m runs it (a closed pipe: no traceback)
    assert {name: target for name, target in scripts.items() if name != "al"} == {
        f"al-{command}": f"al.console:{command}" for command in COMMANDS}
    import al.console

    ran = []
    real = al.console._run
    try:
        al.console._run = ran.append
        for command in ["al", *COMMANDS]:
            getattr(al.console, command)()
    finally:
        al.console._run = real
    assert ran == ["al.__main__", *(module for module, _ in COMMANDS.values())]


def test_an_installed_command_whose_reader_went_away_is_no_traceback(tmp_path):
    """al grid g.yaml --dry-run | head -1 printed a BrokenPipeError traceback (exit 1): the console scripts called
    main without exit_with."""
    script = ("import sys, time\nfrom al import console\nsys.argv = ['al-testing', 'random']\n"
              "import al.testing.__main__ as t\nreal = t.main\n"
              "def main(argv=None):\n    time.sleep(0.5)\n    for i in range(100000):\n        print(i)\n    return 0\n"
              "t.main = main\nconsole.testing()\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=ROOT)
    child.stdout.close()
    err = child.stderr.read()
    assert (child.wait(), err) == (0, "")


def test_every_other_word_names_a_command():
    from al.__main__ import OTHER_WORDS

    assert set(OTHER_WORDS.values()) <= set(COMMANDS) and not set(OTHER_WORDS) & set(COMMANDS)
