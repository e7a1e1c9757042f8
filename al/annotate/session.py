"""An annotation session: the engine's loop in a background thread, a person as its annotator.

:class:`Session` builds an :class:`al.engine.Simulation` whose annotator is a
:class:`HumanAnnotator`: the loop asks it for labels exactly as it asks the
gold labels in a simulation, and ``labels()`` waits until the person has
answered every text asked for. Answers arrive from web requests
(:mod:`al.annotate.app`), go into SQLite (:mod:`al.annotate.store`) before
the request returns, and wake the loop.

Resuming: the finished rounds are in ``rounds.jsonl`` (:class:`al.records.RunRecords`,
as for a simulation), the answers in SQLite. A restarted session replays the
unfinished round from its records: the strategy asks for the same texts, the
ones answered before come back from the database at once, and the page shows
the first one without an answer.

Skips: a skipped text is stored as skipped, left out of the labeled set,
never shown again, and spends its place in the budget (the engine's rule).

Evaluation: a session has no test split. With ``--dev FILE`` every round is
evaluated on that labeled file; without it, by k-fold cross-validation over
the labeled texts so far (out-of-fold predictions of ``folds`` classifiers
trained as the round's own). The record says which in ``evaluation``.
Cross-validation runs in a worker thread while the person answers the next
batch, so the pause between batches is the round's own training and query.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
import traceback
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from al import __version__
from al.annotate.data import Reading, SessionTexts
from al.annotate.store import DB_FILE, Answer, AnswerStore, count_answers
from al.config import SimulationConfig, result_settings
from al.errors import (ALError, AnswerChangedError, ClassifierNeededError, ConfigError, DataError, ForeignConfigError,
                       NotAskedError, NotPendingError, UnknownLabelError, and_more, exception_text, spelled)
from al.io import remove_stale_temporaries
from al.metrics import evaluate
from al.progress import counted, waiting_on_a_person
from al.records import CONFIG_FILE, ROUNDS_FILE, RunRecords, package_versions, process_alive, read_config
from al.simulate import source_changed, stored_settings, strategy_source  # stored: settings added later as defaults
from al.stopping import StoppingSignals, advice

#: Held (``flock``) by the process serving a session, so that two never serve one directory.
LOCK_FILE = ".lock"
#: What a session writes in its directory (its database's journals too), besides hidden files such as its lock.
SESSION_FILES = frozenset({CONFIG_FILE, ROUNDS_FILE, DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", f"{DB_FILE}-journal"})
#: Why removing a session directory that :func:`holds_nothing` loses nothing, as its refusals say.
HOLDS_NO_ANSWERS = "it holds no answers (no text answered, no round finished)"
#: Longest time one answer may claim (a day): longer values are a clock or client error and are not stored.
MAX_ANSWER_SECONDS = 86400.0


def holds_nothing(directory: str | Path, locked: bool = False) -> bool:
    """Whether a session directory holds nothing to lose: no answer, no finished round, no file but a session's own,
    a ``config.json`` (if any) that a session wrote (:func:`is_session_config`), and no server (``locked``: this
    process holds its lock; else another process holding it serves it).

    A session stopped before its first answer leaves such a directory (its
    settings, and a database of none), as did a start refused for a busy port
    before the port was bound first (b69c28e).
    """
    directory = Path(directory)
    if not directory.is_dir() or (not locked and _served(directory)):
        return False
    if any(p.name not in SESSION_FILES and not p.name.startswith(".") for p in directory.iterdir()):
        return False
    if (directory / CONFIG_FILE).exists() and not is_session_config(directory):  # someone else's config.json
        return False
    rounds = directory / ROUNDS_FILE
    if rounds.exists() and (not rounds.is_file() or rounds.read_bytes().strip()):
        return False
    return count_answers(directory) == 0


def is_session_config(directory: str | Path) -> bool:
    """Whether ``directory`` holds a ``config.json`` that a session wrote: its settings with their ``session`` block,
    and the session's own facts beside them (``session.settings_digest``). A simulation's run, or a file of another
    program named so, is not one (nor a damaged file)."""
    try:
        stored = read_config(Path(directory))
    except ALError:
        return False
    return (stored is not None and isinstance(stored.get("config", {}).get("session"), dict)
            and isinstance(stored.get("session"), dict) and isinstance(stored["session"].get("settings_digest"), str))


def _served(directory: Path) -> bool:
    """Whether a process may be serving a session directory: its lock names a live process of this machine, or
    cannot be read. Read only: a lock taken to test it could turn away a server starting at that moment.

    It decides only whether a refusal may say that removing the directory loses nothing. A server in the
    instant between taking the lock and writing its pid reads as none, and a stale lock naming a pid now
    reused, or another machine's, reads as served (the advice is then left out).
    """
    try:
        holder = ((directory / LOCK_FILE).read_text().splitlines() or [""])[0].split()  # line 2: the page's address
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError):
        return True
    if len(holder) != 3 or holder[1] != "pid" or not holder[2].isdigit():  # as Session._hold_lock writes it
        return bool(holder)
    if holder[0] != os.uname().nodename:  # another machine's (a shared disk): cannot tell, so it may be
        return True
    if int(holder[2]) == os.getpid():  # this process's: whether a session it opened still holds it
        with open(directory / LOCK_FILE) as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
        return False
    return process_alive(int(holder[2]))


#: Why a text that has no answer is not taken: the loop is computing (a restarted server's round again), or it was
#: never asked. The page keeps the ticks of an answer refused so (``annotate.js``), to be sent when it is asked.
NOT_ASKED_YET = "not asked yet: the session is computing, as a restarted server does before it asks again"
#: What a person does after the loop stopped on an error (the page and the terminal say it).
STOPPED_ADVICE = ("the answers so far are kept; stop this server (Ctrl-C in its terminal), fix the cause, and "
                  "run the same command again to go on")


def stopped_advice(error: str) -> str:
    """:data:`STOPPED_ADVICE` as a sentence after ``error``; where the error says already to run the command again
    (a strategy's), only what it leaves out: the answers are kept, and this server stops first."""
    if "run the same command" in error:
        return "The answers so far are kept; stop this server (Ctrl-C in its terminal) before that"
    return STOPPED_ADVICE[0].upper() + STOPPED_ADVICE[1:]

class SessionClosed(Exception):
    """Raised inside the loop's thread when the session ends while it waits for answers."""


class UnknownTextError(NotPendingError):
    """An answer or a change names an id that no text of the session has (the page answers 404)."""


class HumanAnnotator:
    """The engine's annotator in a session: labels come from the file or from a person's answers.

    ``labels(indices)`` returns at once for texts labeled in the data file or
    answered before; the others become *pending*, in the order asked, and it
    waits until each has an answer. :meth:`answer` takes one answer for a
    pending text (from any thread) and commits it before returning.

    Parameters
    ----------
    store : AnswerStore
    texts : SessionTexts
    label_names : sequence of str
    """

    def __init__(self, store: AnswerStore, texts: SessionTexts, label_names: Sequence[str]) -> None:
        self.store = store
        self.texts = texts
        self.label_names = tuple(label_names)
        self.round = 0
        self._reading_round: int | None = None  # set by at_round: the loop reads an earlier round's labels
        self._index = texts.index_of()
        self._columns = {name: j for j, name in enumerate(self.label_names)}
        self._cond = threading.Condition()
        self._pending: list[int] = []
        self._closed = False
        self._stopped: str | None = None  # why the loop stopped on an error (:meth:`fail`): answers are refused
        self._computing_since: float | None = time.monotonic()
        self._waited_once = False
        self.last_compute_seconds: float | None = None
        #: Whether the loop has asked for labels yet: before that it is embedding the pool (the first texts may
        #: be answered meanwhile, :meth:`ask_ahead`); after, it trains and queries.
        self.loop_asked = False

    # ------------------------------------------------------------ the engine's side

    def labels(self, indices: np.ndarray) -> sp.csr_matrix:
        asked = [int(i) for i in np.asarray(indices).ravel()]
        with self._cond:
            self.loop_asked = True
            missing = [i for i in asked if not self.known(i)]
            if missing:
                if self._computing_since is not None and self._waited_once:
                    self.last_compute_seconds = time.monotonic() - self._computing_since
                self._computing_since = None
                self._pending = missing
                self._cond.notify_all()
                with waiting_on_a_person():  # a strategy asking as it picks: no "query ... so far" for this time
                    while not all(i in self.store for i in missing):
                        if self._closed:
                            raise SessionClosed
                        self._cond.wait(0.5)
            if missing or self._pending:  # waited, or asked ahead (ask_ahead) and all answered before the loop came
                self._pending = []
                self._waited_once = True
                self._computing_since = time.monotonic()
            return sp.csr_matrix(np.stack([self._row(i) for i in asked]) if asked
                                 else np.zeros((0, len(self.label_names)), dtype=np.int8), dtype=np.int8)

    def ask_ahead(self, indices: Sequence[int]) -> None:
        """Make ``indices`` pending now, before the loop asks for them: a session's first texts (a seeded draw
        that needs no embedding) are on the page while the pool is embedded, and the loop's first
        :meth:`labels` (the same texts) waits only for those still unanswered. Nothing is done while texts are
        pending already."""
        with self._cond:
            if not self._pending:
                self._pending = [i for i in (int(j) for j in indices) if not self.known(i)]
                self._cond.notify_all()

    def skipped(self, indices: np.ndarray) -> np.ndarray:
        out = np.zeros(len(indices), dtype=bool)
        for k, i in enumerate(np.asarray(indices).ravel()):
            seen = None if int(i) in self.texts.given else self.store.as_of(int(i), self._read_round())
            out[k] = seen is not None and seen[1]
        return out

    def _read_round(self) -> int:
        return self.round if self._reading_round is None else self._reading_round

    @contextmanager
    def at_round(self, round_: int) -> Iterator[None]:
        """Inside the block the loop reads labels and skips as round ``round_`` did (a resumed run refitting a
        warm-started classifier); answers and edits meanwhile still belong to the current round."""
        self._reading_round = round_
        try:
            yield
        finally:
            self._reading_round = None

    def known(self, index: int) -> bool:
        return index in self.texts.given or index in self.store

    def _row(self, index: int) -> np.ndarray:
        if index in self.texts.given:
            return self.texts.given[index]
        seen = self.store.as_of(index, self._read_round())  # a change made during a round counts from the next
        row = np.zeros(len(self.label_names), dtype=np.int8)
        if seen is not None and not seen[1]:
            row[[self._columns[name] for name in seen[0]]] = 1
        return row

    # ------------------------------------------------------------ the person's side

    def check_labels(self, labels: Sequence[str]) -> tuple[str, ...]:
        """The labels in the session's order; UnknownLabelError for a name the session lacks."""
        if isinstance(labels, (str, bytes)) or not all(isinstance(n, str) for n in labels):
            raise UnknownLabelError(f"labels must be a list of label names, got {spelled(labels)}")
        unknown = sorted(set(labels) - set(self.label_names))
        if unknown:
            raise UnknownLabelError(
                f"unknown label(s) {', '.join(map(repr, unknown))}; this session's labels: "
                f"{', '.join(self.label_names)}"
            )
        return tuple(name for name in self.label_names if name in set(labels))

    def position(self, text_id: str, listed_at: str = "/api/state for the current one") -> int:
        """The pool position of ``text_id``; :class:`UnknownTextError` naming where the ids are (``listed_at``)."""
        index = self._index.get(str(text_id))
        if index is None:
            text = str(text_id)
            shown = repr(text) if len(text) <= 100 else f"{text[:100]!r}... ({len(text):,} characters)"
            raise UnknownTextError(f"no text with id {shown} in this session; ask {listed_at}")
        return index

    def answer(self, text_id: str, labels: Sequence[str], skipped: bool = False,
               seconds: float | None = None) -> Answer:
        """Take the answer for a pending text; it is on disk when this returns.

        Raises
        ------
        UnknownLabelError
            A label the session does not have (nothing is stored).
        NotPendingError
            The text is not waiting for an answer: answered otherwise already
            (perhaps in another tab), labeled in the data file, or not asked
            yet; or the loop stopped on an error (:meth:`fail`), so no text
            waits. The answer it holds, sent again, is taken as given (its
            reply may have been lost with the server) and returned.
        """
        chosen = () if skipped else self.check_labels(labels)
        if seconds is not None and not (0.0 <= float(seconds) <= MAX_ANSWER_SECONDS):
            seconds = None
        with self._cond:
            if self._stopped is not None:
                raise NotPendingError(f"the session stopped ({self._stopped}), so no answer is taken; {STOPPED_ADVICE}")
            index = self.position(text_id)
            if index in self.store:
                stored = self.store.get(index)
                if (stored.skipped, set(stored.labels)) == (bool(skipped), set(chosen)):
                    return stored  # the same answer again: its reply was lost (a server killed after saving it)
            if self.known(index):
                raise NotPendingError(
                    f"text {text_id!r} is not waiting for an answer (answered already, perhaps in another tab"
                    f"{'' if index in self.store else ', or labeled in the data file'}); the next text is at "
                    f"/api/state"
                )
            if index not in self._pending:  # a restarted server replaying its round, or an id not asked now
                asking = any(i not in self.store for i in self._pending)  # a text waits: this one is another's
                why = "not in the batch this round asks" if asking else NOT_ASKED_YET
                raise NotAskedError(f"text {text_id!r} is not waiting for an answer yet ({why}); send it once "
                                    f"/api/state shows it")
            answer = self.store.add(index, text_id, chosen, skipped, seconds, self.round, self.texts.texts[index])
            self._cond.notify_all()
        return answer

    def edit(self, text_id: str, labels: Sequence[str], skipped: bool = False,
             expected: tuple[Sequence[str], bool] | None = None) -> Answer:
        """Change an answer given earlier; the loop reads the change from its next round on.

        (The running round keeps reading what it read so far, so that a
        restart replays it exactly.) Before the loop has read any label in
        this process (while the pool is embedded at a session's start), the
        change counts from the running round: nothing has read the old answer.
        ``expected``: the answer (labels, skipped) as the sender saw it; where
        the stored one differs (changed in another tab meanwhile), the change
        is refused (:class:`~al.errors.AnswerChangedError`) rather than
        overwriting what the sender never saw.
        """
        chosen = () if skipped else self.check_labels(labels)
        with self._cond:
            index = self.position(text_id, "/api/answers for the answers to change")
            if index not in self.store:
                raise NotPendingError(f"text {text_id!r} has no answer to change"
                                      + (" (its labels come from the data file)" if index in self.texts.given else ""))
            stored = self.store.get(index)
            if expected is not None and (set(expected[0]), bool(expected[1])) != (set(stored.labels), stored.skipped):
                now = "skipped" if stored.skipped else ", ".join(stored.labels) or "no label"
                raise AnswerChangedError(f"the answer to text {text_id!r} was changed elsewhere (another tab?) since "
                                         f"this page showed it; it is now: {now}; reload to see it, then change it "
                                         f"again if need be")
            answer = self.store.edit(index, chosen, skipped, self.round + (1 if self.loop_asked else 0))
            self._cond.notify_all()
        return answer

    def current(self) -> int | None:
        """Pool position of the first pending text without an answer (None: nothing to answer now)."""
        with self._cond:
            return next((i for i in self._pending if i not in self.store), None)

    def wait_for_text(self, timeout: float, until: Callable[[], bool] = lambda: False) -> None:
        """Return when a text waits for an answer, ``until()`` holds, or ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed and not until():
                if any(i not in self.store for i in self._pending):
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(min(left, 0.5))

    def computing_for(self) -> float | None:
        with self._cond:
            return None if self._computing_since is None else time.monotonic() - self._computing_since

    def advance(self, round_: int) -> None:
        """The loop starts round ``round_`` (answers given from now on belong to it)."""
        with self._cond:
            self.round = round_

    def fail(self, reason: str) -> None:
        """The loop stopped on an error (``reason``): from now on :meth:`answer` refuses every answer."""
        with self._cond:
            self._stopped = reason
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


class DeferredMetrics(Mapping[str, Any]):
    """A round's metrics computed in a worker thread; reading them waits for the result."""

    def __init__(self, future: Future) -> None:
        self._future = future

    def _value(self) -> Mapping[str, Any]:
        return self._future.result()

    def __getitem__(self, key: str) -> Any:
        return self._value()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._value())

    def __len__(self) -> int:
        return len(self._value())


def cross_validated_metrics(make_classifier: Callable[[int], Any], X: Any, y_labeled: sp.csr_matrix,
                            label_names: Sequence[str], folds: int, seed: int) -> dict[str, Any]:
    """Macro/micro F1 of out-of-fold predictions: k classifiers, each trained on the other folds.

    Parameters
    ----------
    make_classifier : callable seed -> Classifier
    X : the classifier's input for the labeled texts (rows of ``y_labeled``)
    y_labeled : csr_matrix of shape (n_labeled, n_labels)
    folds : int, at least 2 (fewer when fewer texts are labeled)
    seed : int
        Seeds the fold assignment and the classifiers.

    Returns
    -------
    :func:`al.metrics.evaluate`'s dict plus ``evaluation`` (what was done); macro- and micro-F1 None, and
    ``evaluation`` saying why, with fewer than two labeled texts or no label given to any of them.
    """
    n = y_labeled.shape[0]
    k = min(folds, n)
    if k < 2:
        return {"macro_f1": None, "micro_f1": None, "evaluation": f"none (only {n} labeled text)"}
    if not y_labeled.nnz:  # every label's F1 is 0 whatever the classifier predicts: nothing to measure
        return {"macro_f1": None, "micro_f1": None, "evaluation": "none (no labeled text has a label yet)"}
    rng = np.random.default_rng([seed, n, 11])
    fold_of = rng.permutation(np.arange(n) % k)
    predicted = np.zeros(y_labeled.shape, dtype=np.int8)
    rows = X if isinstance(X, np.ndarray) else np.asarray(X, dtype=object)
    for f in range(k):
        train, held = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
        model = make_classifier(int(rng.integers(2**31 - 1)))
        train_rows = rows[train] if isinstance(X, np.ndarray) else [X[i] for i in train]
        held_rows = rows[held] if isinstance(X, np.ndarray) else [X[i] for i in held]
        model.fit(train_rows, y_labeled[train])
        predicted[held] = model.predict(held_rows)
    metrics = evaluate(y_labeled, predicted, label_names)
    return {**metrics, "evaluation": f"cross-validation: {k} folds over the {n} labeled texts"}


@dataclass
class SessionOptions:
    """What a session adds to a simulation's settings.

    Attributes
    ----------
    data_path : Path
        The texts to label (CSV or JSON lines).
    dev : tuple (texts, Y, path) or None
        A labeled evaluation file.
    guidelines : str or None
        Shown above the text.
    folds : int
        Cross-validation folds when there is no dev file.
    stop_set_size : int
        Texts of the pool whose predictions the stabilizing-predictions criterion compares.
    label_sep, label_columns : how the data file gives labels (``--label-sep``, ``--label-columns``)
    label_columns_in_config : bool
        Whether ``config.json`` records ``label_columns`` (when named). False
        for a session whose ``config.json`` recorded none when it began
        (started before sessions recorded how they read their files): it
        stays as it was, and the database records them (:data:`al.annotate.store.READING_KEY`).
    legacy_union : bool
        Read the labels given as sessions did before the label-source rule
        (:class:`al.annotate.data.Reading`): a session that began so, on a
        file giving labels both ways; recorded in the database only.
    """

    data_path: Path
    text_column: str = "text"
    dev: tuple[list[str], np.ndarray, Path] | None = None
    dev_digest: str | None = None
    guidelines: str | None = None
    folds: int = 5
    stop_set_size: int = 2000
    extra: dict[str, Any] = field(default_factory=dict)
    label_sep: str = "|"
    label_columns: list[str] | None = None
    label_columns_in_config: bool = True
    legacy_union: bool = False

    def reading(self) -> Reading:
        """How the session reads its files, as its database records it."""
        columns = self.label_columns
        return Reading(self.text_column, self.label_sep, None if columns is None else tuple(columns),
                       self.legacy_union)


class SessionRecords(RunRecords):
    """A simulation's records, each round also holding its answers: ``answers`` and ``seconds_person``.

    ``answers`` lists, for the texts that round asked a person about, ``id``,
    ``index`` (pool position), ``seconds`` (time on the text) and ``skipped``.
    """

    what = "session"
    replaces_unfinished = False  # its answers may be in the database before a round finishes: never replaced
    # a larger budget continues the session, unless a stored round that picked for the old one holds answers
    # (Session.open refuses that: a person's answers are never dropped)

    def __init__(self, directory: str | Path, store: AnswerStore | None, locked: bool = True) -> None:
        super().__init__(directory)
        self.store = store
        self.locked = locked

    def nothing_to_lose(self) -> str | None:
        """:func:`holds_nothing`, as this process finds it (``locked``: it holds the lock, serving the session;
        else a comparison before the session opens, where another process serving it holds something)."""
        return HOLDS_NO_ANSWERS if holds_nothing(self.directory, locked=self.locked) else None

    def compare(
        self,
        settings: dict[str, Any],
        stored_settings: Callable[[dict[str, Any]], dict[str, Any]] = lambda stored: stored.get("config", {}),
        data_digest: str | None = None,
        corpus_digest: str | None = None,
    ) -> dict[str, Any] | None:
        """:meth:`RunRecords.compare`, after two refusals of a session's own, each in plain words.

        Raises
        ------
        ConfigError
            ``config.json`` is there but no session wrote it (:func:`is_session_config`);
            the data file given holds other bytes than the one the session began
            with (the same bytes at another path are the same file): a session's
            pool must not change, so it resumes only on that file, and
            its answers so far can be exported meanwhile (a session holding no
            answer is said to be removable instead).
        """
        if (self.directory / CONFIG_FILE).is_file() and not is_session_config(self.directory):
            try:
                read_config(self.directory)  # a damaged file is named as such
            except ForeignConfigError:  # another program's JSON: said below
                pass
            raise ConfigError(f"{self.directory} holds a {CONFIG_FILE} that no annotation session wrote (a "
                              f"simulation's run, or another program's file); pass another --out for a new session")
        previous = read_config(self.directory)
        if previous is not None:
            before, now = stored_settings(previous), settings
            began = (before.get("session") or {}).get("data_sha256")
            given = (now.get("session") or {}).get("data_sha256")
            if began is not None and given == began and before.get("data_path") != now.get("data_path"):
                # the same bytes at another path, or the same path spelt otherwise (from another folder)
                settings = {**settings, "data_path": before.get("data_path")}
            elif began is not None and given is not None and given != began:
                said = (f"{now.get('data_path')} changed since the session began (other bytes)"
                        if before.get("data_path") == now.get("data_path") else
                        f"{now.get('data_path')} is not the session's data file, {before.get('data_path')} (other "
                        f"bytes)")
                restore = ("restore that file to resume" if before.get("data_path") == now.get("data_path") else
                           "give that file (its bytes, at any path) to resume")
                empty = self.nothing_to_lose()
                if empty:
                    raise ConfigError(f"{said}; {empty}, so removing {self.directory} loses nothing; or {restore}")
                raise ConfigError(f"{said}; {restore}, or export the answers so far with "
                                  f"`python -m al.annotate export {self.directory} -o FILE`")
            was, is_ = before.get("session") or {}, settings.get("session") or {}
            if was.get("dev_sha256") and is_.get("dev_sha256") and was["dev_sha256"] != is_["dev_sha256"]:
                # the rounds so far were scored on the dev file as it was: the answers are not what changed
                said = (f"dev file {is_.get('dev')} changed since the session began (other bytes)"
                        if was.get("dev") == is_.get("dev") else
                        f"dev file {is_.get('dev')} is not the session's, {was.get('dev')} (other bytes)")
                raise ConfigError(f"{said}, and its rounds were scored on it; restore it (its bytes, at any path) to "
                                  f"resume, or export the answers so far with `python -m al.annotate export "
                                  f"{self.directory} -o FILE` for a new session")
            if was.get("dev_sha256") and was.get("dev_sha256") == is_.get("dev_sha256") and \
                    was.get("dev") != is_.get("dev"):  # the same bytes at another path: the session's
                settings = {**settings, "session": {**is_, "dev": was.get("dev")}}
        return super().compare(settings, stored_settings, data_digest, corpus_digest)

    def append(self, record: dict[str, Any]) -> None:
        round_ = int(record["round"])
        answers = self.store.in_round(round_)
        record = {
            **record,
            "answers": [{"id": a.text_id, "index": a.pool_index, "seconds": a.seconds,
                         "skipped": self._skipped_as_of(a, round_)} for a in answers],
            "seconds_person": round(sum(a.seconds or 0.0 for a in answers), 3),
        }
        super().append(record)

    def _skipped_as_of(self, answer: Answer, round_: int) -> bool:
        """Whether the answer was a skip as the round read it: an edit made since counts from a later round."""
        seen = self.store.as_of(answer.pool_index, round_)
        return answer.skipped if seen is None else seen[1]


def session_advice(rounds: Sequence[Mapping[str, Any]], budget: int) -> list[dict[str, Any]]:
    """:func:`al.stopping.advice` after the rounds so far, ``labeled_budget`` read as a session's budget.

    A session's budget counts the texts shown, skips included (a skip spends
    its place), so the budget is spent once the texts a round trained on and
    skipped reach it, not its labeled texts alone (which never do after a skip).
    While a label had only one side among the texts the last round trained on
    (its ``labeled_counts``: no text carried it, or every one did), that
    classifier was certain of it by construction, so ``max_uncertainty`` says
    so instead of advising a stop.

    Parameters
    ----------
    rounds : the session's finished round records, in order (at least one)
    budget : int
    """
    said = advice(rounds, budget)
    last_counts = rounds[-1].get("labeled_counts") or {}
    one_sided = [name for name, count in last_counts.items() if count in (0, rounds[-1]["n_labeled"])]
    if one_sided:
        names = ", ".join(one_sided[:3]) + and_more(len(one_sided))
        said = [{"criterion": "max_uncertainty", "stop": False,
                 "detail": f"not yet telling: {names} {'is' if len(one_sided) == 1 else 'are'} on every labeled "
                           f"text or on none, and the classifier is sure of such a label whatever the text"}
                if a["criterion"] == "max_uncertainty" else a for a in said]
    last = rounds[-1]
    shown = len(rounds[0].get("initial", ())) + sum(len(r.get("picked", ())) for r in rounds[:-1])
    n_labeled = int(last["n_labeled"])
    skipped = max(shown - n_labeled, 0)
    detail = (f"{n_labeled} labeled and {skipped} skipped of {budget} texts" if skipped
              else f"{n_labeled} of {budget} labeled") + f" when round {len(rounds)} ended"
    spent = {"criterion": "labeled_budget", "stop": shown >= budget, "detail": detail}
    return [spent if a["criterion"] == "labeled_budget" else a for a in said]


def validate_loop(config: SimulationConfig) -> SimulationConfig:
    """``config.validate()`` but for ``budget <= initial``, which :func:`check_sizes` reports with the pool's conflicts.

    A simulation's budget is its labeled-set size at the end; a session's counts
    the texts shown, and its conflicts with ``initial`` are told together with
    those with the data file, known only once it is read.
    """
    sizes = (config.initial, config.budget)
    try:
        if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes) and \
                config.budget <= config.initial:
            replace(config, budget=config.initial + 1).validate()  # every other setting, as al.simulate checks it
            return config
        return config.validate()
    except ClassifierNeededError as exc:  # the classifiers it names: those a session can fit
        raise ClassifierNeededError(session_classifiers(config, exc), needs=exc.needs) from None


def session_classifiers(config: SimulationConfig, exc: ClassifierNeededError) -> str:
    """``exc``'s message (the strategy's classifier methods lacking) with the classifiers offered cut to those that
    read no dev split (a session has none): ``bald``'s dropout is bert's alone, which reads one in every fit."""
    from al.config import Component

    able = list(exc.able)
    usable = [name for name in able if not replace(config, classifier=Component(name, {}))
              .make_classifier_factory()(config.seed).uses_dev]
    head = exc.needs
    if usable:
        return f"{head}; use --classifier {' or '.join(usable)}, or another strategy"
    if not able:
        return str(exc)  # on no classifier of al's: its own advice (a misspelt method, or another strategy)
    one = len(able) == 1
    return (f"{head}; only {' and '.join(able)} {'has' if one else 'have'} it, and {'it reads' if one else 'they read'} "
            f"a dev split in every fit, which a session has none of (--dev only measures each round): choose another "
            f"strategy")


def check_sizes(initial: int, budget: int, n_pool: int, n_given: int, source: str | Path) -> None:
    """Refuse ``--initial`` and ``--budget`` that do not fit each other and the data file, every conflict in one line.

    A session needs ``max(n_given, 1) <= initial < budget <= n_pool``: the texts
    labeled in the file start it, topped up to ``initial``; the budget counts
    every text shown (the initial ones and skips included) and cannot exceed the
    pool. The message names each conflict and the changes that fix them all.

    Parameters
    ----------
    initial, budget : int, positive
    n_pool : int
        Texts in the data file.
    n_given : int
        Texts of the data file that carry labels already.
    source : the data file, as the message names it

    Raises
    ------
    ConfigError
        ``budget <= initial``, or more texts labeled in the file than ``initial``.
    DataError
        Only ``budget`` or ``initial`` larger than the pool.
    """
    conflicts: list[str] = []
    if budget <= initial:
        conflicts.append(f"--budget ({budget}) must be larger than --initial ({initial}): a session's budget counts "
                         f"every text shown, the initial ones and skips included")
    over = [f"--{name} ({value})" for name, value in (("budget", budget), ("initial", initial)) if value > n_pool]
    if over:
        conflicts.append(f"{' and '.join(over)} {'are' if len(over) > 1 else 'is'} larger than the pool ({counted(n_pool, 'text')} "
                         f"of {source})")
    if n_given > initial:  # a row of 0s is an answer (none of the labels); one of empty cells is a text to ask about
        every = (" (every text: 0 in every label cell, or an empty labels list, is an answer, none of the labels; a "
                 "text to ask about gives no labels: empty label cells in a CSV, null or no key in JSON lines)"
                 if n_given >= n_pool else "")
        conflicts.append(f"{n_given} texts of {source} carry labels already{every}, more than --initial ({initial})")
    if not conflicts:
        return
    lowest = max(n_given, 1)  # initial may not drop below the texts labeled in the file
    if lowest >= n_pool:
        fix = f"add texts without labels to {source}: a session needs one to ask about"
    else:
        b, i = min(budget, n_pool), max(initial, lowest)
        fixes = []
        if i < b:  # the pool and the labeled texts alone were in the way
            fixes.append(" and ".join(([f"lower --budget to at most {n_pool}"] if budget > n_pool else [])
                                      + ([f"raise --initial to {lowest}"] if initial < lowest else [])))
        else:
            if b > lowest:  # keep the budget (as far as the pool allows), lower --initial
                span = f"to {lowest}" if b - 1 == lowest else f"below {b}" if lowest == 1 else f"to {lowest}-{b - 1}"
                fixes.append(f"lower --budget to {n_pool} and --initial {span}" if budget > n_pool
                             else f"lower --initial {span}")
            if i < n_pool:  # keep --initial (raised to the labeled texts), raise --budget
                span = f"to {n_pool}" if i + 1 == n_pool else f"above {i} (at most {n_pool}: the pool)"
                fixes.append(f"raise --initial to {lowest} and --budget {span}" if initial < lowest
                             else f"raise --budget {span}")
        fix = " or ".join(fixes)
    message = "; ".join(conflicts) + "; " + fix
    error = ConfigError if budget <= initial or n_given > initial else DataError
    raise error(message)


#: A value of a classifier's param that reads no dev split, offered where the param's value is ``"dev"``.
NOT_DEV = {"threshold": "fixed", "k": 10}


def check_no_dev_split(config: SimulationConfig) -> None:
    """Refuse a classifier that reads a dev split (``uses_dev``), naming what reads it: a session has none.

    A session's ``--dev`` file only measures the rounds (it is the test split of
    the loop), so a classifier whose fit reads a dev split cannot train in one.
    Its params set to ``"dev"`` (given or by default) are what read it where the
    values of :data:`NOT_DEV` in their place give a classifier that reads none;
    otherwise it reads one in every fit, whatever its params.

    Raises
    ------
    ConfigError
        One line: the classifier, what reads dev, and the params to pass (or that it cannot be used).
    """
    if not config.make_classifier_factory()(config.seed).uses_dev:
        return
    given = dict(config.classifier.params)
    reading = [k for k, v in config.resolved()["classifier"]["params"].items() if v == "dev"]
    instead = {k: NOT_DEV.get(k, "fixed") for k in reading}
    fixed = False
    if reading:
        other = replace(config, classifier=replace(config.classifier, params={**given, **instead}))
        try:
            fixed = not other.make_classifier_factory()(config.seed).uses_dev
        except (ALError, TypeError, ValueError):  # a value of NOT_DEV this classifier does not take
            pass
    name = config.classifier.name
    if not fixed:
        default = SimulationConfig().classifier.name
        raise ConfigError(f"classifier {name} reads a dev split in every fit, whatever its params, and a session has "
                          f"none (--dev only measures each round), so {name} cannot be used in a session; choose a "
                          f"classifier that reads no dev split, e.g. --classifier {default}")
    what = ", ".join(f"{k}=dev" + ("" if k in given else " (its default)") for k in reading)
    flags = " ".join(f"--classifier-param {k}={v}" for k, v in instead.items())
    raise ConfigError(f"classifier {name} reads a dev split through {what}, and a session has none (--dev only "
                      f"measures each round); pass {flags}")


def batch_plan(initial: int, step: int, budget: int) -> str:
    """How a session of these sizes asks its texts, e.g. ``'10 batches of 50 after the 100 initial texts'``.

    The last batch shrinks to fit the budget, as in a simulation
    (:func:`al.config.n_rounds`), so a ``step`` beyond ``budget - initial``
    gives one batch of what is left, said as such.
    """
    full, rest = divmod(budget - initial, step)
    batches = (f"1 batch of {rest}" if full == 0 else
               f"{full} batch{'es' if full > 1 else ''} of {step}" + (f" and a last of {rest}" if rest else ""))
    if rest:  # a larger budget would ask that batch anew, dropping its answers (Session._check_raised_budget)
        whole = " or ".join(str(b) for b in (initial + full * step, initial + (full + 1) * step) if b > initial)
        batches += (f" ({'--step ' + str(step) + ' capped by the budget, ' if full == 0 else ''}cut short: once any "
                    f"of it is answered, a larger --budget cannot extend the session; --budget {whole} ends on whole "
                    f"batches)")
    return f"{batches} after the {initial} initial texts, {budget} in all"


def more_budget(initial: int, step: int, budget: int) -> str:
    """What a larger budget does to a complete session of these sizes: ask more, or nothing where its last batch
    was cut short to fit ``budget`` (the larger one would ask that batch anew, dropping its answers)."""
    if (budget - initial) % step == 0:
        return "a larger --budget asks more"
    return (f"its last batch was cut short to fit --budget {budget}, so a larger --budget cannot extend it: start "
            f"another session with --out")


def settings_digest(settings: Mapping[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of a session's result settings as canonical JSON.

    ``embed_precision`` counts only when it is not fp32: sessions stored before
    the setting existed embedded in fp32 and keep their digest.
    """
    settings = result_settings(dict(settings))
    if settings.get("embed_precision") == "fp32":
        del settings["embed_precision"]
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Session:
    """One annotation session in ``config.out``: records, answers, and the loop's thread.

    Parameters
    ----------
    config : SimulationConfig
        ``out`` is the session directory; ``labels`` the session's labels;
        ``dataset``/``data_path`` the texts file.
    texts : SessionTexts
    options : SessionOptions
    embed : callable texts -> ndarray, optional
        Sentence embeddings; default the config's model through the
        embedding cache. Tests pass precomputed ones.
    """

    def __init__(self, config: SimulationConfig, texts: SessionTexts, options: SessionOptions,
                 embed: Callable[[Sequence[str]], np.ndarray] | None = None) -> None:
        self.config = config
        self.texts = texts
        self.options = options
        self.embed = embed
        self.label_names: tuple[str, ...] = tuple(config.labels or ())
        self.error: str | None = None
        self.finished = False
        self.answered_under: int | None = None  # the --budget of the start before this one (open() reads it)
        #: Where the end of the budget is said in the terminal (``print`` to stderr by the command; None: nowhere).
        self.say: Callable[[str], None] | None = None
        self.started_at = time.monotonic()
        self._thread: threading.Thread | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="al-evaluate")
        self._last_record: dict[str, Any] | None = None
        #: A raised budget's stored rounds, those computed again included: what the page shows until they are.
        self._stored_rounds: list[dict[str, Any]] = []
        self._lock: Any = None
        self._checked = False
        #: Set when the session closes: the embedder it made stops between passes (nothing new is computed).
        self._stopping = threading.Event()
        #: (distinct texts to embed, distinct texts) of the pool, counted as the loop starts (:meth:`_count_to_embed`).
        self._to_embed: tuple[int, int] | None = None
        self._embedder: Any = None  # the session's own SentenceEmbedder, where no embed was given

    # ------------------------------------------------------------ setting up

    @property
    def directory(self) -> Path:
        return self.config.run_dir

    def settings(self) -> dict[str, Any]:
        settings = self.config.resolved()
        settings["session"] = {
            "data_sha256": self.texts.digest,
            "text_column": self.options.text_column,
            "n_given": len(self.texts.given),
            "dev": str(self.options.dev[2]) if self.options.dev is not None else None,
            "dev_sha256": self.options.dev_digest,
            "folds": self.options.folds if self.options.dev is None else None,
            "stop_set_size": self.options.stop_set_size,
        }
        # recorded only when given otherwise, so that sessions stored before they existed keep their settings
        if self.options.label_sep != "|":
            settings["session"]["label_sep"] = self.options.label_sep
        if self.options.label_columns is not None and self.options.label_columns_in_config:
            settings["session"]["label_columns"] = list(self.options.label_columns)
        return settings

    def check(self) -> "Session":
        """Check the settings against each other and the texts; reads and writes nothing on disk.

        Raises
        ------
        ConfigError, DataError
            Bad settings; ``--initial`` and ``--budget`` that do not fit each
            other or the pool (every conflict in one line: :func:`check_sizes`).
        """
        config = validate_loop(self.config)
        if not self.label_names:
            raise ConfigError("a session needs its labels: --labels or --label-file")
        check_no_dev_split(config)
        check_sizes(config.initial, config.budget, len(self.texts.texts), len(self.texts.given),
                    self.options.data_path)
        self._checked = True
        return self

    def open(self) -> "Session":
        """Check the directory and the database, write the config, build the loop; nothing runs yet.

        Runs :meth:`check` first unless it ran. A session directory this call
        creates (and locks) is removed again when opening fails, before its lock
        is released; a directory that was there, or that another process locked
        first, never is.

        Raises
        ------
        ConfigError, DataError
            What :meth:`check` raises; a directory or database of another session.
        """
        if not self._checked:
            self.check()
        config = self.config
        settings = self.settings()
        self.digest = settings_digest(settings)
        created = self._hold_lock()
        try:
            self.store = AnswerStore(self.directory, self.digest, self.label_names, self.options.reading().to_dict())
            self.records = SessionRecords(self.directory, self.store)
            previous = self.records.check(settings, stored_settings)
            stored_digest = ((previous or {}).get("session") or {}).get("settings_digest")
            if isinstance(stored_digest, str):  # the same settings as this version resolves them: its own digest
                self.digest = self.store.settings_digest = stored_digest  # (params added since read as defaults)
            self.store.open()
            self.store.keep_texts(self.texts.texts)  # answers stored before they kept their text (the same file)
            self._check_raised_budget(previous)
            self.answered_under = self.store.answering_budget()  # the last start's budget, before this one's
            self.store.note_budget(config.budget)  # the budget answers from now on are given under
            meta = {
                "version": __version__,
                "packages": package_versions(),
                "given": {"strategy": config.strategy.to_dict(), "classifier": config.classifier.to_dict()},
                "corpus": {
                    "name": Path(self.options.data_path).stem,
                    "label_names": list(self.label_names),
                    "split_sizes": {"train": len(self.texts.texts), "dev": 0,
                                    "test": len(self.options.dev[0]) if self.options.dev is not None else 0},
                    "label_groups": None,
                },
                "session": {"settings_digest": self.digest, "database": self.store.path.name},
                "strategy_source": strategy_source(config),  # a user's strategy's file: its edits noted on resume
                "data_file": str(Path(config.data_path).resolve()),  # export finds it from any folder
            }
            existing = self.records.start(settings, meta, stored_settings, continued=self.config.continued_rounds)
            if existing and (changed := source_changed(previous, meta["strategy_source"], self.directory)):
                warnings.warn(changed.replace("pass another --out", "start another session with --out"),
                              UserWarning, stacklevel=2)  # only where rounds it keeps came from the old code
            self.annotator = HumanAnnotator(self.store, self.texts, self.label_names)
            self.annotator.round = len(existing)
            if existing:
                self._last_record = existing[-1]
            if self.records.dropped:  # they measure the same labeled texts again: shown as stored till then
                self._stored_rounds = [*existing, *self.records.dropped_rounds]
            self.simulation = self._simulation()
        except BaseException:
            lock, self._lock = self._lock, None  # kept until the directory is gone: no other server can take it
            self.close()
            if created:  # leave no trace of a session that never started (this call made the directory)
                shutil.rmtree(self.directory, ignore_errors=True)
            lock.close()
            raise
        return self

    def _hold_lock(self) -> bool:
        """Take the session directory's lock (released when the process ends, even by SIGKILL); returns whether
        this call made the directory (``mkdir`` that fails on one there: another process's never counts).

        Then the temporaries of the session's own atomic writes (``.rounds.jsonl.*.tmp``,
        ``.config.json.*.tmp``) can only be a killed process's leftovers: they go at once.
        """
        directory = self.directory
        if directory.exists() and not directory.is_dir():
            raise ConfigError(f"session directory {directory} is a file; pass a directory as --out")
        for attempt in range(3):
            try:
                directory.mkdir(parents=True)
                created = True
            except FileExistsError:  # there already, or made by another process a moment ago
                created = False
            try:
                lock = open(directory / LOCK_FILE, "a+")
                break
            except FileNotFoundError:  # another start that made it failed and removed it meanwhile: make it again
                if attempt == 2:
                    raise ConfigError(f"session directory {directory} keeps vanishing as this start opens it (another "
                                      f"process removes it); stop that process, or pass another --out") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            lines = lock.read().splitlines() or [""]
            lock.close()
            holder = lines[0].split()
            holder = (f"process {holder[2]} on {holder[0]}" if len(holder) == 3 and holder[1] == "pid"  # as written
                      else " ".join(holder) or "another process")
            page = f" at {lines[1].strip()}" if len(lines) > 1 and lines[1].strip() else ""
            raise ConfigError(f"{directory} is being served already{page} (by {holder}); use that page, or stop "
                              f"that server first") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.uname().nodename} pid {os.getpid()}\n")
        lock.flush()
        self._lock = lock
        for name in (CONFIG_FILE, ROUNDS_FILE):  # no other writer of these exists while the lock is held
            remove_stale_temporaries(directory, f".{name}.", older_than=None)
        return created

    def note_address(self, address: str) -> None:
        """Write the page's address (no token) under the holder's line of the lock file: a second start on this
        directory names the page to use."""
        if self._lock is None:
            return
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"{os.uname().nodename} pid {os.getpid()}\n{address}\n")
        self._lock.flush()

    def _corpus(self):
        from al.datasets.corpus import make_corpus

        n_pool, n_labels = len(self.texts.texts), len(self.label_names)
        Y_pool = np.zeros((n_pool, n_labels), dtype=np.int8)
        for i, row in self.texts.given.items():
            Y_pool[i] = row
        dev_texts, Y_dev = ([], np.zeros((0, n_labels), dtype=np.int8))
        if self.options.dev is not None:
            dev_texts, Y_dev = self.options.dev[0], self.options.dev[1]
        texts = list(self.texts.texts) + list(dev_texts)
        splits = {"train": np.arange(n_pool), "dev": np.arange(0),
                  "test": np.arange(n_pool, n_pool + len(dev_texts))}
        return make_corpus(Path(self.options.data_path).stem, texts, np.vstack([Y_pool, Y_dev]), self.label_names,
                           splits)

    def start_indices(self) -> np.ndarray:
        """The texts labeled in the file, topped up with a seeded random draw to ``initial`` texts."""
        given = np.array(sorted(self.texts.given), dtype=np.int64)
        others = np.setdiff1d(np.arange(len(self.texts.texts)), given)
        need = self.config.initial - len(given)
        if need > len(others):
            raise ConfigError(f"--initial ({self.config.initial}) is larger than the {len(self.texts.texts)} texts "
                              f"of {self.options.data_path}")
        drawn = np.random.default_rng([self.config.seed, 0, 0]).choice(others, need, replace=False)
        return np.sort(np.concatenate([given, drawn]))

    def _check_raised_budget(self, previous: Mapping[str, Any] | None) -> None:
        """Refuse a budget under which a batch holding answers would be another batch: one that shrank to fit the
        budget the answers were given under, or that budget's last batch (an extension, stopped while its batch was
        answered, then asked for the budget before it), and every round after a stored one computed again.

        The budget the answers were given under is the one the store noted (:meth:`AnswerStore.note_budget`), else
        the stored ``config.json``'s; it is noted anew once this check passes.
        """
        stored = ((previous or {}).get("config") or {}).get("budget")
        noted = self.store.answering_budget()
        given = noted or stored
        budget, step = self.config.budget, self.config.step
        if not isinstance(given, int) or isinstance(given, bool):
            return
        export = (f"start another session with --out (export this one's answers with `python -m al.annotate export "
                  f"{self.directory} -o FILE`)")
        start: set[int] | None = None

        def answered_from(round_: int) -> list[Answer]:
            """The answers of round ``round_`` on; round 0's start texts aside (its seeded draw is any budget's)."""
            nonlocal start
            start = set(self.start_indices().tolist()) if start is None else start
            return [a for a in self.store.all()
                    if a.round >= round_ and not (a.round == 0 and a.pool_index in start)]

        def unrecorded(round_: int, held: str) -> ConfigError:
            """Answers past the budget's end: an extension by a version that did not note its budget."""
            return ConfigError(f"{self.directory}: its round {round_ + 1} holds {held} given under a budget above "
                               f"{given} that was not recorded (an extension by an earlier version, stopped in that "
                               f"batch), so which batch they answered is not known; {export}")

        if budget == given:
            last = self.config.n_rounds - 1  # the last round asks nothing: answers there came from an extension
            if noted is None and (orphans := answered_from(last)):
                raise unrecorded(last, counted(len(orphans), "answer"))
            return
        # the first round whose batch differs under the two budgets (each round before it asked the same batch)
        shown, differs, was = self.config.initial, 0, 0
        while shown < max(given, budget):
            was, now = min(step, max(0, given - shown)), min(step, max(0, budget - shown))
            if was != now:
                break
            shown, differs = shown + now, differs + 1
        answered = answered_from(differs)
        if not answered:
            return
        held = counted(len(answered), "answer")
        if budget < given:  # an extension stopped in its batch, then run with the budget before it
            raise ConfigError(f"{self.directory}: its batch of round {differs + 1} was asked under --budget {given} "
                              f"and holds {held}; a budget of {budget} would ask another batch there and drop them: "
                              f"give --budget {given} to go on, or {export}")
        if was == 0:
            raise unrecorded(differs, held)
        raise ConfigError(
            f"{self.directory}: its batch of round {differs + 1} shrank to fit --budget {given} and holds {held}; a "
            f"budget of {budget} would pick that batch anew and drop them: keep --budget {given}, or {export}")

    def _simulation(self):
        from al.engine import Simulation

        config = self.config
        corpus = self._corpus()
        embed = self.embed
        if embed is None:
            from al.embedders import SentenceEmbedder

            # its bound method: the engine finds the embedder through it (ALPS's encoder pass, shared)
            self._embedder = SentenceEmbedder(config.model, device=config.device, show_progress=True,
                                              precision=config.embed_precision, stop=self._stopping)
            embed = self._embedder.encode
        make_classifier = config.make_classifier_factory()
        return Simulation(
            corpus=corpus,
            strategy=config.make_strategy(),
            make_classifier=make_classifier,
            embed=embed,
            initial=config.initial,
            step=config.step,
            budget=config.budget,
            seed=config.seed,
            records=self.records,
            on_round=self._on_round,
            observers=[StoppingSignals(self.options.stop_set_size, config.seed, self.records)],
            annotator=self.annotator,
            evaluator=self._evaluator(make_classifier),
            start=self.start_indices(),
        )

    def _evaluator(self, make_classifier: Callable[[int], Any]):
        label_names = self.label_names
        if self.options.dev is not None:
            Y_dev = self.options.dev[1]
            name = self.options.dev[2].name

            def on_dev(classifier, features, labeled, y_labeled):
                metrics = evaluate(Y_dev, classifier.predict(features.test), label_names)
                return {**metrics, "evaluation": f"dev file {name} ({len(Y_dev)} texts)"}

            return on_dev
        folds, seed = self.options.folds, self.config.seed

        def cross_validated(classifier, features, labeled, y_labeled):
            X = features.pool_rows(labeled)
            return DeferredMetrics(self._executor.submit(
                cross_validated_metrics, make_classifier, X, y_labeled, label_names, folds, seed))

        return cross_validated

    # ------------------------------------------------------------ running

    def start(self) -> "Session":
        """Run the loop in a background thread (returns at once)."""
        self._thread = threading.Thread(target=self._run, name="al-session", daemon=True)
        self._thread.start()
        self._executor.submit(self._warm_up)
        return self

    def _warm_up(self) -> None:
        """Fit a throwaway classifier on a few random rows while the person reads the first texts.

        The first fit in a process imports the solver's modules (about 2 s
        for scikit-learn here); done now, it is not part of the first pause
        between batches. Only for classifiers on embeddings (a fine-tuned
        model's first fit is no warm-up).
        """
        try:
            classifier = self.config.make_classifier_factory()(self.config.seed)
            if classifier.input != "embeddings":
                return
            rng = np.random.default_rng(0)
            Y = np.tile(np.array([[1, 0], [0, 1]], dtype=np.int8), (4, 1))
            classifier.fit(rng.normal(size=(8, 4)).astype(np.float32), sp.csr_matrix(Y))
        except Exception:  # noqa: BLE001 - a warm-up that fails changes nothing; the real fit reports errors
            return

    def _count_to_embed(self) -> None:
        """Count the pool's texts the embedding cache lacks, for the page's first-start message; before the loop
        runs, so before a strategy's preparation (ALPS's shared encoder pass) fills the cache."""
        if self._embedder is None or self._to_embed is not None or not hasattr(self._embedder, "uncached"):
            return
        pool = self.simulation.corpus.texts[self.simulation.corpus.splits["train"]].tolist()
        try:
            self._to_embed = (self._embedder.uncached(pool), len(set(pool)))
        except Exception:  # noqa: BLE001 - a cache the count cannot read: the page says it as before, the embedding
            pass           # itself reports what is wrong

    def _run(self) -> None:
        try:
            if not self.records.rounds:  # the first texts while the pool is embedded (the loop asks them first)
                self._count_to_embed()
                self.annotator.ask_ahead(self.simulation.start)
            ran = len(self.records.rounds) < self.config.n_rounds
            if ran:
                self.simulation.run()
            self.finished = True
            if ran and self.say is not None:  # a session complete when it opened said so in its start line
                self.say(f"done: {self.done_message()} (the page stays up until Ctrl-C)")
        except SessionClosed:
            return
        except Exception as exc:  # noqa: BLE001 - shown on the page; the traceback goes to stderr
            if self._stopping.is_set():  # the session is closing: what stopped the loop is no error of its own
                return
            error = str(exc) if isinstance(exc, ALError) else exception_text(exc)
            self.annotator.fail(error)  # answers are refused before the page can read that the session stopped
            self.error = error
            if not isinstance(exc, ALError):
                traceback.print_exc(file=sys.stderr)
            print(f"error: the session stopped: {' '.join(error.rstrip('.').split())}. {stopped_advice(error)}",
                  file=sys.stderr, flush=True)
        finally:
            self.annotator.wake()

    def _on_round(self, record: dict[str, Any]) -> None:
        self._last_record = record
        self.annotator.advance(int(record["round"]) + 1)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the loop (it is waiting for answers, or stops at its next wait; an embedding of the pool in
        progress stops after the passes running, its vectors so far cached) and close the database.

        From here on an error of the loop's thread is not reported: the loop stops
        because the session does (a thread still computing when the process ends
        meets an interpreter that takes no new work).
        """
        self._stopping.set()
        if hasattr(self, "annotator"):
            self.annotator.close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)
        if hasattr(self, "store"):
            self.store.close()
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    # ------------------------------------------------------------ what the page shows

    def text(self, index: int) -> dict[str, Any]:
        return {"id": self.texts.ids[index], "text": self.texts.texts[index]}

    def label_counts(self) -> dict[str, int]:
        counts = np.zeros(len(self.label_names), dtype=np.int64)
        for row in self.texts.given.values():
            counts += row
        columns = {name: j for j, name in enumerate(self.label_names)}
        for answer in self.store.all():
            if not answer.skipped:
                for name in answer.labels:
                    counts[columns[name]] += 1
        return dict(zip(self.label_names, counts.tolist()))

    def done_message(self, n_labeled: int | None = None) -> str:
        """``the budget is spent: N texts labeled. Export them with python -m al.annotate export DIR -o FILE``, FILE
        named after the session's folder (``aid-labeled.jsonl``): one name for every session's export would write
        over another's."""
        if n_labeled is None:
            answers = self.store.all()
            n_labeled = len(self.texts.given) + sum(not a.skipped for a in answers)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.directory.resolve().name).strip("._-") or "session"
        return (f"the budget is spent: {counted(n_labeled, 'text')} labeled. Export them with: python -m "
                f"al.annotate export {self.directory} -o {name}-labeled.jsonl")

    def _preparing(self) -> str:
        """What a session's start does before its first round: ``embedding 174 of the 401 texts (227 cached)``."""
        if self._to_embed is None:  # not counted yet, or embeddings given (tests)
            return f"embedding {len(self.texts.texts)} texts (cached after the first start)"
        missing, distinct = self._to_embed
        if not missing:
            return f"reading the {distinct} texts' cached embeddings"
        if missing == distinct:
            return f"embedding {distinct} texts (cached after the first start)"
        return f"embedding {missing} of the {distinct} texts ({distinct - missing} cached)"

    def batch_size(self, round_: int) -> int:
        """Texts a person is asked about in round ``round_``: the start's unlabeled texts (round 0) and the picks."""
        config = self.config
        shown_before = min(config.budget, config.initial + config.step * round_)
        picks = max(0, min(config.step, config.budget - shown_before))
        return picks + (config.initial - len(self.texts.given) if round_ == 0 else 0)

    def state(self, wait: float = 0.0) -> dict[str, Any]:
        """Everything the page shows; with ``wait`` > 0, first wait that long for a text to answer."""
        if wait > 0:
            self.annotator.wait_for_text(wait, until=lambda: self.finished or self.error is not None)
        index = self.annotator.current()
        answers = self.store.all()
        n_skipped = sum(a.skipped for a in answers)
        n_labeled = len(self.texts.given) + len(answers) - n_skipped
        rounds = self.records.rounds
        current_round = min(len(rounds), self.config.n_rounds - 1)
        answered, asked = len(self.store.in_round(current_round)), self.batch_size(current_round)
        if self.error is not None:
            phase, message = "failed", f"the session stopped: {self.error.rstrip('.')}. {stopped_advice(self.error)}"
        elif self.finished:
            phase, message = "done", self.done_message(n_labeled)  # no full stop: the command is copied whole
        elif index is not None:
            phase, message = "answering", f"text {min(answered + 1, asked)} of {asked} in this round's batch"
            first = self.config.initial - len(self.texts.given)
            if current_round == 0 and 0 < first < asked:  # the start's texts, then the first picks, in one batch
                initial = (f"{first} of the {self.config.initial} initial texts not labeled in the file"
                           if self.texts.given else f"{first} initial {'text' if first == 1 else 'texts'}")
                message += f" (the {initial}, then the first {asked - first} picked)"
        elif not rounds and not self.annotator.loop_asked:  # the first texts may be answered already
            phase, message = "starting", f"preparing: {self._preparing()} and training the first classifier"
        else:
            took = ""
            if self.annotator.last_compute_seconds is not None:  # training, evaluation and the query, last time
                took = f"; last time this took {self.annotator.last_compute_seconds:.1f} s"
            then = ("measuring it (the budget is spent: no text follows)" if n_labeled + n_skipped >= self.config.budget
                    else "choosing the next ones")
            phase, message = "computing", f"training the classifier on the {n_labeled} labeled texts and {then}{took}"
        last = self._last_record or {}
        shown = rounds
        if len(rounds) < len(self._stored_rounds):  # an extension's stored rounds not computed again yet
            shown = self._stored_rounds
            last = shown[-1]
        return {
            "phase": phase,
            "message": message,
            "text": self.text(index) if index is not None and phase != "failed" else None,
            "batch": {"answered": answered, "asked": asked},
            "round": current_round + 1,
            "n_rounds": self.config.n_rounds,
            # what the person answers: the last round only measures, and the first batch holds the initial texts
            "batch_number": min(current_round + 1, self.config.n_rounds - 1),
            "n_batches": self.config.n_rounds - 1,
            "n_labeled": n_labeled,
            "n_skipped": n_skipped,
            "shown": n_labeled + n_skipped,
            "budget": self.config.budget,
            "label_counts": self.label_counts(),
            "last_compute_seconds": self.annotator.last_compute_seconds,
            "computing_seconds": self.annotator.computing_for() if phase in ("starting", "computing") else None,
            "metrics": {k: last.get(k) for k in ("macro_f1", "micro_f1", "evaluation", "n_labeled")} if last else None,
            "advice": session_advice(shown, self.config.budget) if shown else [],
            # the round the advice (and the metrics) read, counted from 1: the batch since may have added labels
            "advice_round": len(shown) or None,
            "last_answer": ({**answers[-1].to_dict(), "text": self.texts.texts[answers[-1].pool_index]}
                            if answers else None),
        }

    def answers(self) -> list[dict[str, Any]]:
        """Every answer, newest first, with its text."""
        return [{**a.to_dict(), "text": self.texts.texts[a.pool_index]} for a in reversed(self.store.all())]
