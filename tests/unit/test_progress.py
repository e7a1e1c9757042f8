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
        "embedding: 400/1,000 texts (40%), 4 s, about 6 s left",
        "embedding: 750/1,000 texts (75%), 15 s, about 5 s left",
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
    assert capsys.readouterr().err == "work: 4 steps done in 1 s\n"  # complete: one line, not a 100 % one before it
    for unit, one in (("rounds", "round"), ("batches", "batch"), ("texts", "text"), ("it", "it")):  # "1 rounds"
        with progress(1, "work", unit=unit, delay=0.0) as bar:
            clock.now += 1
            bar.update(1)
        assert capsys.readouterr().err == f"work: 1 {one} done in 1 s\n"
    set_quiet(True)
    try:
        with progress(4, "work", delay=0.0) as bar:
            clock.now += 1
            bar.update(4)
        assert capsys.readouterr().err == ""
    finally:
        set_quiet(False)


def test_with_work_the_share_and_the_time_left_are_the_work_s_while_the_line_counts_texts(clock):
    """Short texts first, many to a pass: counted in texts, 80% done would promise 1 s left; by the work, 27 s."""
    stream = io.StringIO()
    bar = PlainProgress(10_000, "embedding", "texts", delay=2.0, interval=10.0, stream=stream, work=4_000)
    clock.now += 3.0
    bar.update(8_000, work=400)  # 3 s for the short texts, a tenth of the padded tokens
    clock.now += 27.0
    bar.update(2_000, work=3_600)
    bar.close()
    assert stream.getvalue().splitlines() == [
        "embedding: 8,000/10,000 texts (10% of the work), 3 s, about 27 s left",
        "embedding: 10,000 texts done in 30 s",
    ]


def test_progress_passes_work_on_and_quiet_takes_it_too(clock, capsys):
    set_quiet(False)
    with progress(4, "work", unit="texts", delay=0.0, work=100) as bar:
        clock.now += 1
        bar.update(3, work=25)
    assert "work: 3/4 texts (25% of the work), 1 s, about 3 s left" in capsys.readouterr().err
    set_quiet(True)
    try:
        with progress(4, "work", delay=0.0, work=100) as bar:
            clock.now += 1
            bar.update(4, work=100)
        assert capsys.readouterr().err == ""
    finally:
        set_quiet(False)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_bar_fills_with_the_work_and_names_the_texts(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(progress_module.sys, "stderr", terminal)
    set_quiet(False)
    with progress(10_000, "embedding", unit="texts", delay=0.0, work=4_000) as bar:
        bar.update(8_000, work=400)
        bar.bar.refresh()  # tqdm redraws at most every 0.1 s: draw now
    shown = terminal.getvalue()
    assert "embedding: 8,000/10,000 texts |" in shown and "| 10% of the work [" in shown
    with progress(3, "grid", unit="runs", delay=0.0) as bar:  # without work: tqdm itself, as the grid needs
        assert hasattr(bar, "set_postfix_str")


def test_a_terminal_of_no_width_gets_the_plain_lines_not_a_bar_it_cannot_draw(monkeypatch):
    """A pseudo-terminal of no size (``script -qc CMD /dev/null``) drew no tqdm bar and, being a terminal, no plain
    line either: a grid's runs went by in silence."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    from al.progress import PlainProgress, draws_bars

    leader, follower = pty.openpty()  # a new pseudo-terminal: 0 rows, 0 columns
    try:
        with os.fdopen(os.dup(follower), "w") as terminal:
            monkeypatch.setattr(progress_module.sys, "stderr", terminal)
            set_quiet(False)
            assert terminal.isatty() and os.get_terminal_size(terminal.fileno()).columns == 0
            assert not draws_bars()
            with progress(3, "grid", unit="runs", delay=0.0) as bar:
                assert isinstance(bar, PlainProgress)
            fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # given a size: a bar
            assert draws_bars()
            with progress(3, "grid", unit="runs", delay=0.0) as bar:
                assert hasattr(bar, "set_postfix_str")
    finally:
        os.close(leader)
        os.close(follower)


def test_on_a_terminal_a_slow_rate_reads_seconds_a_run_and_a_fast_one_runs_a_second(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(progress_module.sys, "stderr", terminal)
    set_quiet(False)
    with progress(30, "grid", unit="runs", delay=0.0) as bar:
        slow = bar.format_meter(n=2, total=30, elapsed=7.24, unit=bar.unit, prefix="grid")
        fast = bar.format_meter(n=20, total=30, elapsed=8.0, unit=bar.unit, prefix="grid")
        unknown_total = bar.format_meter(n=2, total=None, elapsed=7.24, unit=bar.unit, prefix="grid")
    assert "3.62 s/run]" in slow and "s/ runs" not in slow
    assert "2.50 runs/s]" in fast
    assert "3.62 s/run]" in unknown_total


def test_durations():
    assert [progress_module.duration(s) for s in (4.2, 600, 7200)] == ["4 s", "10 min", "2.0 h"]


def test_times_so_far_every_30_s_are_all_different():
    """A grid's 'working, 2 min so far' came twice (90 s and 120 s): the clock's lines say 10 s under an hour."""
    said = [progress_module.time_so_far(30 * k) for k in range(1, 240)]
    assert len(set(said)) == len(said)
    assert said[:6] == ["30 s", "60 s", "1 min 30 s", "2 min", "2 min 30 s", "3 min"]
    assert [progress_module.time_so_far(s) for s in (89.4, 3598, 3630, 7504)] == ["89 s", "1 h", "1 h 30 s",
                                                                              "2 h 5 min"]


def test_a_step_stopped_by_ctrl_c_does_not_say_done(clock, capsys):
    with pytest.raises(KeyboardInterrupt):
        with progress(860, "embedding", unit="texts", delay=0.0) as bar:
            clock.now += 10
            bar.update(244)
            raise KeyboardInterrupt
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "embedding: stopped after 10 s, 244/860 texts"
    assert not any("done" in line for line in err)
