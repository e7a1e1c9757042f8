"""Progress for every step that takes more than a few seconds, on stderr, never in records.

On a terminal a tqdm bar; otherwise (a log file, a CI job, a grid worker)
plain lines, one every ``interval`` seconds at most. Either appears only once
a step has run ``delay`` seconds, so quick steps print nothing. The CLIs'
``--quiet`` turns all of it off for the process (:func:`set_quiet`).

    from al.progress import progress

    with progress(len(texts), "embedding", unit="texts") as bar:
        for batch in batches:
            ...
            bar.update(len(batch))
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator, TextIO

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Silence (or restore) every progress display of this process."""
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    return _quiet


class PlainProgress:
    """Progress as plain lines: ``desc: 3200/13195 texts (24%), 41 s, about 2 min left``.

    Parameters
    ----------
    total : int or None
    desc, unit : str
    delay : float
        Seconds before the first line; a step done sooner prints nothing.
    interval : float
        Least seconds between two lines.
    stream : text stream (default stderr)
    """

    def __init__(self, total: int | None, desc: str, unit: str = "it", delay: float = 2.0,
                 interval: float = 10.0, stream: TextIO | None = None) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.delay, self.interval = delay, interval
        self.stream = stream if stream is not None else sys.stderr
        self.n = 0
        self.start = time.perf_counter()
        self.last: float | None = None

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self.start < self.delay:
            return
        if self.last is None or now - self.last >= self.interval:
            self._line(now)

    def close(self) -> None:
        if self.last is not None:  # it spoke: say that it finished
            self._line(time.perf_counter(), final=True)

    def _line(self, now: float, final: bool = False) -> None:
        self.last = now
        elapsed = now - self.start
        if final:
            text = f"{self.desc}: {self.n} {self.unit} done in {duration(elapsed)}"
        elif self.total:
            share = self.n / self.total
            left = f", about {duration(elapsed * (1 - share) / share)} left" if 0 < share < 1 else ""
            text = f"{self.desc}: {self.n}/{self.total} {self.unit} ({share:.0%}), {duration(elapsed)}{left}"
        else:
            text = f"{self.desc}: {self.n} {self.unit}, {duration(elapsed)}"
        print(text, file=self.stream, flush=True)


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def duration(seconds: float) -> str:
    """``42 s``, ``7 min``, ``1.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@contextmanager
def progress(total: int | None, desc: str, unit: str = "it", delay: float = 2.0, enabled: bool = True
             ) -> Iterator[PlainProgress | _Silent | object]:
    """A progress display for one step; ``update(n)`` as work is done. See the module docstring."""
    if _quiet or not enabled:
        bar: object = _Silent()
    elif sys.stderr.isatty():
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit=f" {unit}", delay=delay, leave=False, file=sys.stderr,
                   dynamic_ncols=True)
    else:
        bar = PlainProgress(total, desc, unit, delay)
    try:
        yield bar
    finally:
        bar.close()  # type: ignore[attr-defined]
