"""The exception tree of ``al``.

Every error a user can cause derives from :class:`ALError`; the CLI turns it
into one line on stderr and exit code 2. Messages say what was expected, what
came, and how to fix it.
"""
from __future__ import annotations

from typing import Iterable


class ALError(Exception):
    """Base class of all errors raised by ``al`` on bad input or state; its text is one line.

    Line breaks inside a message (a constructor's or a library's own error
    quoted in it) are folded into spaces, so every command's error stays one
    line on stderr.
    """

    def __str__(self) -> str:
        return " ".join(super().__str__().split())


class ConfigError(ALError):
    """A setting is missing, malformed or inconsistent with another."""


class RunBusyError(ConfigError):
    """Another process is writing the run directory (it holds the directory's lock)."""


class DataError(ALError):
    """A data set cannot be found, read or reduced as asked."""


class ModelError(ALError):
    """A model name or path cannot be resolved to local weights."""


class QueryError(ALError):
    """A strategy returned an invalid answer or could not answer."""


class EmptyPoolError(QueryError):
    """The unlabeled pool holds fewer texts than a query asks for."""


class ViewNotAvailableError(QueryError):
    """A strategy read a view of the state (``proba``, ``embeddings``, ...) that this simulation does not offer.

    Usually the strategy reads a view it does not declare in ``requires``.
    """


class NotFittedError(ALError):
    """A fitted-state method was called before ``fit``."""


class AnswerError(ALError):
    """A person's answer in an annotation session cannot be taken as sent."""


class UnknownLabelError(AnswerError):
    """An answer names a label the session does not have."""


class NotPendingError(AnswerError):
    """An answer is for a text that is not waiting for one (answered already, in another tab, or never asked)."""


def did_you_mean(words: Iterable[str], known: Iterable[str], cutoff: float = 0.7) -> str:
    """`` (did you mean budget?)``: the known names closest to misspelt ``words``, one each, for an error line.

    ``""`` when none is close (:func:`difflib.get_close_matches` at ``cutoff``);
    several guesses are joined with ``or``, each named once.
    """
    import difflib  # only when an error is being worded: every module imports this one

    known = [str(k) for k in known]
    guesses: list[str] = []
    for word in words:
        guesses += [g for g in difflib.get_close_matches(str(word), known, n=1, cutoff=cutoff) if g not in guesses]
    return f" (did you mean {' or '.join(guesses)}?)" if guesses else ""
