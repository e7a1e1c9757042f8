"""The exception tree of ``al``.

Every error a user can cause derives from :class:`ALError`; the CLI turns it
into one line on stderr and exit code 2. Messages say what was expected, what
came, and how to fix it.
"""
from __future__ import annotations

import functools
import os
import sysconfig
from typing import Any, Iterable, Sequence


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


class ClassifierNeededError(ConfigError):
    """A strategy calls a classifier method (its ``classifier_methods``) that the run's classifier lacks.

    ``needs``: what is lacking, without advice (``strategy 'bald' needs a classifier with predict_proba_dropout,
    which classifier 'logreg' lacks``), for a command that words its own; ``able``: al's classifiers that have
    every method it calls; ``nowhere``: where none has, which methods no classifier of al's has, with the names
    perhaps meant (``no classifier of al's has predict_probaa (did you mean predict_probaa -> predict_proba?)``).
    """

    def __init__(self, message: str, needs: str = "", able: Sequence[str] = (), nowhere: str = "") -> None:
        super().__init__(message)
        self.needs = needs or message
        self.able = tuple(able)
        self.nowhere = nowhere


class SpaceReadersError(ConfigError):
    """A task-specific space given to a strategy that reads no embeddings, and to nothing else that reads them."""


class RunBusyError(ConfigError):
    """Another process is writing the run directory (it holds the directory's lock)."""


class DataError(ALError):
    """A data set cannot be found, read or reduced as asked."""


class LabelPickError(DataError):
    """The labels asked for cannot be picked from a corpus that was read: too few eligible, unknown or ineligible
    names (``--describe`` then shows every label's counts to pick by).

    ``keep_all``: (frequent, rare) that keep every eligible label, where too few (two or more) are eligible for
    what was asked and nothing suggests the file was misread; else None.
    """

    keep_all: tuple[int, int] | None = None


class ForeignConfigError(DataError):
    """A ``config.json`` that is JSON but holds no run's settings: another program's file, or one edited by hand."""


class ModelError(ALError):
    """A model name or path cannot be resolved to local weights."""


class QueryError(ALError):
    """A strategy returned an invalid answer or could not answer."""


class InterfaceError(QueryError):
    """A strategy used the strategy interface as it cannot be used: ``state.reveal`` or ``top_n`` given what they
    cannot take, ``last_info`` holding a value with no JSON form.

    A run reports it as any :class:`QueryError`; :func:`al.testing.check_strategy`
    tells it by its type from an error a strategy raises for reasons of its
    own, and reports it as the strategy's fault.
    """


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


class NotAskedError(NotPendingError):
    """An answer for a text the session does not ask now (a restarted server computing its round, or an id not in
    this round's batch): a page keeps its ticks for when it is asked (``reason`` ``not_asked`` in the 409)."""


class AnswerChangedError(AnswerError):
    """A change of an answer that was changed elsewhere (another tab, the answers page) since the sender saw it."""


def spelled(value: Any) -> str:
    """A setting's value as a command line, a YAML file or ``config.json`` writes it, for messages: ``true``,
    ``false``, ``null``; any other value as its ``repr`` (``'dev'``, ``0.5``)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    return repr(value)


def and_more(total: int, shown: int = 3) -> str:
    """`` and 4 more``: what a message that names the first ``shown`` of ``total`` things leaves out ("" for none)."""
    return f" and {total - shown} more" if total > shown else ""


def did_you_mean(words: Iterable[str], known: Iterable[str], cutoff: float = 0.7) -> str:
    """`` (did you mean budget?)``: the known names closest to misspelt ``words``, one each, for an error line.

    ``""`` when none is close (:func:`difflib.get_close_matches` at ``cutoff``);
    several guesses are joined with ``or``, each named once.
    """
    known = [str(k) for k in known]
    guesses: list[str] = []
    for word in words:
        if (guess := closest(str(word), known, cutoff)) is not None and guess not in guesses:
            guesses.append(guess)
    return f" (did you mean {' or '.join(guesses)}?)" if guesses else ""


def closest(word: str, known: Sequence[str], cutoff: float = 0.7) -> str | None:
    """The one of ``known`` that a misspelt ``word`` most likely meant (:func:`did_you_mean`), or None."""
    import difflib  # only when an error is being worded: every module imports this one

    close = ([k for k in known if k.lower() == word.lower() and k != word][:1]  # CSV: csv
             or [k for k in SHORT_NAMES.get(word.lower(), ()) if k in known][:1]
             or difflib.get_close_matches(word, known, n=1, cutoff=cutoff) or _swapped(word, known)
             or _doubled_key(word, known))
    return close[0] if close else None


#: Short names other libraries take for parameters al spells out (``lr`` for ``learning_rate``), each with the
#: names it may mean, the first of them a component accepts being the guess; difflib finds none of these.
SHORT_NAMES = {
    "lr": ("learning_rate",), "epoch": ("epochs", "max_epochs"), "n_epochs": ("epochs", "max_epochs"),
    "num_epochs": ("epochs", "max_epochs"), "bs": ("batch_size",), "wd": ("weight_decay",),
    "maxlen": ("max_length",), "seq_len": ("max_length",), "max_seq_length": ("max_length",),
}


def _doubled_key(word: str, known: list[str]) -> list[str]:
    """The first of ``known`` that is ``word`` with one doubled letter single, case aside (``CC`` -> ``C``): a
    held key, below difflib's cutoff in a one-letter name. Not any letter more (``cv`` is no ``C``)."""
    folded = word.lower()
    for name in known:
        if len(folded) == len(name) + 1 and any(folded[i] == folded[i + 1] and folded[:i] + folded[i + 1:] ==
                                                name.lower() for i in range(len(name))):
            return [name]
    return []


def _swapped(word: str, known: list[str]) -> list[str]:
    """The first of ``known`` that is ``word`` with two neighbouring letters swapped (``cvs`` -> ``csv``): short
    names that a typist's slip leaves below difflib's cutoff."""
    for name in known:
        if len(name) == len(word) and name != word:
            differ = [i for i, (a, b) in enumerate(zip(word, name)) if a != b]
            if len(differ) == 2 and differ[1] == differ[0] + 1 and word[differ[0]] == name[differ[1]] \
                    and word[differ[1]] == name[differ[0]]:
                return [name]
    return []


def exception_text(exc: BaseException) -> str:
    """``ValueError: k must be >= 0``, its text on one line; ``MemoryError`` alone for one raised with no text
    (not ``MemoryError: ``)."""
    said = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {said}" if said else type(exc).__name__


def raised_at(exc: BaseException) -> str:
    """`` (at path/file.py:12)``: where ``exc`` was raised in code a user may edit, for a one-line report.

    The innermost frame of its traceback outside the ``al`` package, the
    standard library and installed libraries (a user's strategy, or a
    built-in one under ``strategies/`` in a checkout); the innermost frame of
    all where every frame is theirs; "" without a traceback. A syntax error is
    where its file could not be compiled.
    """
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno and os.path.isfile(exc.filename):
        return f" (at {exc.filename}:{exc.lineno})"  # the file it could not compile, not the importer that tried
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    if not frames:
        return ""
    own = [(f, n) for f, n in frames if is_users(f)]
    path, line = (own or frames)[-1]
    return f" (at {path}:{line})"


def is_users(filename: str) -> bool:
    """Whether ``filename`` is code a user may edit: outside the ``al`` package, the standard library and installed
    libraries (a user's strategy, or a built-in one under ``strategies/`` in a checkout), and not ``<string>``."""
    return not filename.startswith("<") and not os.path.abspath(filename).startswith(_not_users())


def is_al(filename: str) -> bool:
    """Whether ``filename`` is a file of the ``al`` package itself (one of :func:`is_users`'s others)."""
    return os.path.abspath(filename).startswith(_not_users()[0])


@functools.cache
def _not_users() -> tuple[str, ...]:
    """The folders of :func:`is_users`'s others: the ``al`` package's, the standard library's, installed libraries'."""
    return (os.path.dirname(os.path.abspath(__file__)) + os.sep, *{
        os.path.abspath(sysconfig.get_paths()[key]) + os.sep for key in ("stdlib", "platstdlib", "purelib", "platlib")
    })
