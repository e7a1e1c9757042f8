"""Progress for every step that takes more than a few seconds, on stderr, never in records.

On a terminal a tqdm bar; otherwise (a log file, a CI job, a grid worker, a terminal of no width)
plain lines, one every ``interval`` seconds at most. Either appears only once
a step has run ``delay`` seconds, so quick steps print nothing. The CLIs'
``--quiet`` turns all of it off for the process (:func:`set_quiet`).

    from al.progress import progress

    with progress(len(texts), "embedding", unit="texts") as bar:
        for batch in batches:
            ...
            bar.update(len(batch))

When items cost unequal time (texts run short ones first, in batches of one
padded length), give the step's ``work`` in any unit (padded tokens) and each
update's share of it: the share done and the time left then come from the
work, while the line still counts the items:

    with progress(len(texts), "embedding", unit="texts", work=n_tokens) as bar:
        for batch in batches:
            ...
            bar.update(len(batch), work=batch_tokens)
"""
from __future__ import annotations

import functools
import os
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator, TextIO

_quiet = False
_open_displays = 0  # progress() displays open now: a step that reports itself needs no heartbeat
_waits = 0  # waits on a person open now (waiting_on_a_person)
_waited = 0.0  # seconds spent in such waits that ended
_waits_lock = threading.Lock()  # the two change together, and a heartbeat reads them from its own thread


def set_quiet(quiet: bool) -> None:
    """Silence (or restore) every progress display of this process."""
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    return _quiet


@contextmanager
def quiet_while(quiet: bool) -> Iterator[None]:
    """:func:`set_quiet` for the block, then as it was (a command's ``main`` called in-process leaves no trace)."""
    before = _quiet
    set_quiet(quiet)
    try:
        yield
    finally:
        set_quiet(before)


class PlainProgress:
    """Progress as plain lines: ``desc: 3,200/13,195 texts (24%), 41 s, about 2 min left``.

    With ``work``: ``desc: 3,200/11,540 texts (31% of the work), 41 s, about 2 min left``.

    Parameters
    ----------
    total : int or None
        Items of the step (the unit the line counts).
    desc, unit : str
    delay : float
        Seconds before the first line; a step done sooner prints nothing.
    interval : float
        Least seconds between two lines.
    stream : text stream (default stderr)
    work : float or None
        The step's work in any unit (e.g. padded tokens), when items cost
        unequal time: the share done and the time left are then the work's,
        which each :meth:`update` adds to with ``work=``. None: the items'.
    """

    def __init__(self, total: int | None, desc: str, unit: str = "it", delay: float = 2.0,
                 interval: float = 10.0, stream: TextIO | None = None, work: float | None = None) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.delay, self.interval = delay, interval
        self.stream = stream if stream is not None else sys.stderr
        self.work = work
        self.n = 0
        self.work_done = 0.0
        self.start = time.perf_counter()
        self.last: float | None = None

    def update(self, n: int = 1, work: float | None = None) -> None:
        """``n`` more items done, and (with a ``work`` total) ``work`` more of the work; None counts ``n``."""
        self.n += n
        self.work_done += n if work is None else work
        now = time.perf_counter()
        if now - self.start < self.delay:
            return
        if self._share() == 1.0:  # complete: the closing line says so ("... done in"), not a 100 % line before it
            self.last = now
        elif self.last is None or now - self.last >= self.interval:
            self._line(now)

    def close(self, stopped: bool = False) -> None:
        """Say that the step finished (``stopped``: that it stopped before), if it spoke at all."""
        if self.last is not None:
            self._line(time.perf_counter(), final=True, stopped=stopped)

    def _line(self, now: float, final: bool = False, stopped: bool = False) -> None:
        self.last = now
        elapsed = now - self.start
        share = self._share()
        count = f"{self.n:,}/{self.total:,}" if self.total else f"{self.n:,}"
        if final and stopped:
            text = f"{self.desc}: stopped after {duration(elapsed)}, {count} {self.unit}"
        elif final:
            text = f"{self.desc}: {self.n:,} {_one_of(self.unit) if self.n == 1 else self.unit} done in " \
                   f"{duration(elapsed)}"
        elif share is not None:
            left = f", about {duration(elapsed * (1 - share) / share)} left" if 0 < share < 1 else ""
            of = " of the work" if self.work is not None else ""
            text = f"{self.desc}: {count} {self.unit} ({share:.0%}{of}), {duration(elapsed)}{left}"
        else:
            text = f"{self.desc}: {count} {self.unit}, {duration(elapsed)}"
        print(text, file=self.stream, flush=True)

    def _share(self) -> float | None:
        """The share of the step done, in [0, 1]: the work's with a ``work`` total, else the items'; None if unknown."""
        if self.work is not None:
            return min(1.0, self.work_done / self.work) if self.work > 0 else None
        return min(1.0, self.n / self.total) if self.total else None


class _TqdmWork:
    """A tqdm bar over the work (``total=work``) that counts the items done in its description.

    ``desc: 3,200/11,540 texts |####      | 31% of the work [00:41<01:31]``
    """

    def __init__(self, total: int | None, desc: str, unit: str, delay: float, work: float) -> None:
        from tqdm.auto import tqdm

        self.total, self.desc, self.unit, self.n = total, desc, unit, 0
        self.bar = tqdm(total=work, desc=self._label(), delay=delay, leave=False, file=sys.stderr,
                        dynamic_ncols=True,
                        bar_format="{desc} |{bar}| {percentage:.0f}% of the work [{elapsed}<{remaining}]")

    def _label(self) -> str:
        count = f"{self.n:,}/{self.total:,}" if self.total else f"{self.n:,}"
        return f"{self.desc}: {count} {self.unit}"

    def update(self, n: int = 1, work: float | None = None) -> None:
        self.n += n
        self.bar.set_description_str(self._label(), refresh=False)  # shown with the next refresh
        self.bar.update(n if work is None else work)

    def close(self) -> None:
        self.bar.close()


@functools.lru_cache(maxsize=None)
def _spaced_tqdm() -> type:
    """tqdm, its slow rate read ``3.62 s/run`` (tqdm's own: ``3.62s/ runs`` for the unit `` runs``, which reads
    ``2.50 runs/s`` when fast)."""
    from tqdm.auto import tqdm

    class SpacedTqdm(tqdm):  # type: ignore[misc, valid-type]
        @staticmethod
        def format_meter(*args: object, **kwargs: object) -> str:
            line = tqdm.format_meter(*args, **kwargs)
            unit = kwargs.get("unit")
            if isinstance(unit, str) and unit.startswith(" "):
                line = line.replace(f"s/{unit}", f" s/{_one_of(unit.strip())}")
            return line

    return SpacedTqdm


class _Silent:
    """A bar that says nothing, but counts as the others do (``n``, ``total``: a caller may read or set them)."""

    def __init__(self, total: int | None = None) -> None:
        self.total, self.n = total, 0

    def update(self, n: int = 1, work: float | None = None) -> None:
        self.n += n

    def close(self) -> None:
        pass


def _one_of(unit: str) -> str:
    """The singular of a progress unit: ``rounds`` -> ``round``, ``batches`` -> ``batch``; ``it`` as it is."""
    if unit.endswith(("ches", "shes", "sses", "xes")):
        return unit[:-2]
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in its number: ``"1 run"``, ``"3 runs"``, ``"10,000 resamples"``.

    ``plural`` is the plural where it is not ``noun + "s"``.
    """
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def duration(seconds: float) -> str:
    """``42 s``, ``7 min``, ``1.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def time_so_far(seconds: float) -> str:
    """``45 s``, ``1 min 30 s``, ``12 min``, ``2 h 5 min 30 s``: a clock's time so far, to 10 s from 90 s on, so
    that lines every 30 s never say one time twice (:func:`duration` rounds 90 s and 120 s both to ``2 min``)."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    hours, rest = divmod(int(round(seconds / 10)) * 10, 3600)
    parts = zip((hours, *divmod(rest, 60)), ("h", "min", "s"))
    return " ".join(f"{value} {unit}" for value, unit in parts if value)


def draws_bars() -> bool:
    """Whether stderr is a terminal a bar can be drawn on: a terminal with a width. A pseudo-terminal of no size
    (``script -qc CMD /dev/null``, some job runners) draws no tqdm bar at all: it gets the plain lines."""
    if not sys.stderr.isatty():
        return False
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns > 0
    except (OSError, ValueError):  # a stream with no file descriptor that says it is a terminal: taken at its word
        return True


@contextmanager
def progress(total: int | None, desc: str, unit: str = "it", delay: float = 2.0, enabled: bool = True,
             work: float | None = None) -> Iterator[PlainProgress | _Silent | object]:
    """A progress display for one step; ``update(n)`` as work is done. See the module docstring.

    With ``work`` (the step's work in any unit), every ``update`` passes its part, ``update(n, work=w)``:
    the share done and the time left are the work's, the line still counts ``total`` items.
    """
    if _quiet or not enabled:
        bar: object = _Silent(total)
    elif (bars := draws_bars()) and work is not None:
        bar = _TqdmWork(total, desc, unit, delay, work)
    elif bars:
        bar = _spaced_tqdm()(total=total, desc=desc, unit=f" {unit}", delay=delay, leave=False, file=sys.stderr,
                             dynamic_ncols=True)
    else:
        bar = PlainProgress(total, desc, unit, delay, work=work)
    global _open_displays
    shown = not isinstance(bar, _Silent)  # a display that prints nothing leaves the heartbeat on
    _open_displays += shown
    try:
        yield bar
    except BaseException:  # Ctrl-C, an error: not "done"
        if isinstance(bar, PlainProgress):
            bar.close(stopped=True)
        else:
            bar.close()  # type: ignore[attr-defined]
        raise
    finally:
        _open_displays -= shown
    bar.close()  # type: ignore[attr-defined]


@contextmanager
def waiting_on_a_person() -> Iterator[None]:
    """A step that waits for a person's answers (a labeling session's strategy that asks as it picks): the time
    is the person's, so a :func:`heartbeat` neither counts it nor prints meanwhile."""
    global _waits, _waited
    began = time.perf_counter()
    with _waits_lock:
        _waits += 1
    try:
        yield
    finally:
        with _waits_lock:
            _waits -= 1
            _waited += time.perf_counter() - began


def _waits_now() -> tuple[int, float]:
    """(waits on a person open now, seconds of those that ended), read together."""
    with _waits_lock:
        return _waits, _waited


@contextmanager
def heartbeat(desc: str, delay: float = 15.0, interval: float = 30.0) -> Iterator[None]:
    """``desc: 45 s so far`` on stderr after ``delay`` seconds of the step's own time and every ``interval``
    after, while a step that may report nothing of its own runs (a user's strategy); silent while a
    :func:`progress` display is open (the step reports itself), under ``--quiet``, for a step done within
    ``delay``, and while it waits on a person (:func:`waiting_on_a_person`: not counted either). A step that
    said ``so far`` ends with ``desc: done in 50 s`` (else its last line seemed to hang), unless it raised."""
    if _quiet:
        yield
        return
    done = threading.Event()
    start, waited_before = time.perf_counter(), _waits_now()[1]
    said = threading.Event()  # a "so far" line was printed

    def beat() -> None:
        wait, due = delay, delay
        while not done.wait(wait):
            open_waits, waited = _waits_now()
            if open_waits:  # a person's time: the step's own clock stands still
                wait = min(1.0, delay, interval)
                continue
            own = time.perf_counter() - start - (waited - waited_before)  # less the person's time
            if (left := due - own) > 0:  # waits ended since: the step's own time is not due yet
                wait = left
                continue
            if not _open_displays:
                print(f"{desc}: {time_so_far(own)} so far", file=sys.stderr, flush=True)
                said.set()
            due, wait = own + interval, interval

    thread = threading.Thread(target=beat, name="al-heartbeat", daemon=True)
    thread.start()
    finished = False
    try:
        yield
        finished = True
    finally:
        done.set()
        thread.join()
        if finished and said.is_set() and not _open_displays:
            own = time.perf_counter() - start - (_waits_now()[1] - waited_before)
            print(f"{desc}: done in {time_so_far(own)}", file=sys.stderr, flush=True)
