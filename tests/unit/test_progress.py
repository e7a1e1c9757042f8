"""Progress: plain lines off a terminal, nothing for quick steps, nothing under --quiet, never in records."""
from __future__ import annotations

import io

import pytest

import al.progress as progress_module
from al.progress import PlainProgress, progress, set_quiet


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "perf_counter", clock)
    return clock


def test_plain_lines_after_the_delay_at_most_every_interval(clock):
    stream = io.StringIO()
    bar = PlainProgress(1000, "embedding", "texts", delay=2.0, interval=10.0, stream=stream)
    clock.now += 1.0
    bar.update(100)  # 1 s in: before the delay, silent
    assert stream.getvalue() == ""
    clock.now += 3.0
    bar.update(300)  # 4 s in, 400 of 1000: 6 s left at this pace
    clock.now += 5.0
    bar.update(100)  # 9 s in, but only 5 s since the last line
    clock.now += 6.0
    bar.update(250)  # 15 s in, 750 of 1000: 5 s left
    bar.close()
    assert stream.getvalue().splitlines() == [
        "embedding: 400/1000 texts (40%), 4 s, about 6 s left",
        "embedding: 750/1000 texts (75%), 15 s, about 5 s left",
        "embedding: 750 texts done in 15 s",
    ]


def test_a_quick_step_prints_nothing(clock):
    stream = io.StringIO()
    bar = PlainProgress(10, "quick", delay=2.0, stream=stream)
    clock.now += 1.5
    bar.update(10)
    bar.close()
    assert stream.getvalue() == ""


def test_off_a_terminal_progress_is_plain_and_quiet_silences_it(clock, capsys):
    set_quiet(False)
    with progress(4, "work", unit="steps", delay=0.0) as bar:
        assert isinstance(bar, PlainProgress)  # pytest's stderr is no terminal
        clock.now += 1
        bar.update(4)
    assert "work: 4/4 steps (100%), 1 s" in capsys.readouterr().err
    set_quiet(True)
    try:
        with progress(4, "work", delay=0.0) as bar:
            clock.now += 1
            bar.update(4)
        assert capsys.readouterr().err == ""
    finally:
        set_quiet(False)


def test_durations():
    assert [progress_module.duration(s) for s in (4.2, 600, 7200)] == ["4 s", "10 min", "2.0 h"]
