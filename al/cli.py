"""What every command line shares: an argument error is one line on stderr, exit code 2.

argparse prints its whole usage above the error; a user who typed ``--stratgy``
wants the one line that says what was wrong and what was meant::

    error: unrecognized arguments: --stratgy (did you mean --strategy?); python -m al.simulate --help lists the options
"""
from __future__ import annotations

import argparse
import difflib
from typing import NoReturn


class ArgumentParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` whose errors are one line: the problem, a close option name for a
    misspelt one, and where the options are listed; exit code 2."""

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split())
        guesses = self._close_options(message)
        hint = f" (did you mean {' or '.join(guesses)}?)" if guesses else ""
        self.exit(2, f"error: {message}{hint}; {self.prog} --help lists the options\n")

    def _close_options(self, message: str) -> list[str]:
        """Known option strings close to the unknown ones an ``unrecognized arguments`` message names."""
        prefix = "unrecognized arguments:"
        if not message.startswith(prefix):
            return []
        known = [s for s in self._option_string_actions if s.startswith("--")]
        guesses: list[str] = []
        for word in message[len(prefix):].split():
            if word.startswith("--"):
                name = word.split("=", 1)[0]
                guesses += [g for g in difflib.get_close_matches(name, known, n=1, cutoff=0.7) if g not in guesses]
        return guesses

