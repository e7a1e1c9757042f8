"""``python -m al.testing``: the conformance checks by strategy name, one line each."""
from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from al.testing.__main__ import main

BROKEN = '''
import numpy as np
from al.strategy import Strategy


class Crashes(Strategy):
    """Raises an error of its own."""

    def query(self, state, n):
        raise ValueError("my\\nbug")


class Normalises(Strategy):
    """Writes into the embeddings it was shown."""

    requires = frozenset({"embeddings"})

    def query(self, state, n):
        emb = state.embeddings
        emb /= 2
        return state.indices_unlabeled[:n]


class Caches(Strategy):
    """Writes into al's cache, as ALPS does with its masked-LM head."""

    def query(self, state, n):
        from al.cache import cache_dir

        (cache_dir("mine") / "x").mkdir(parents=True, exist_ok=True)
        return state.indices_unlabeled[:n]


class WarnsPerPool(Strategy):
    """Warns of each pool it meets, with its size (as ALPS does of the MLM head it fits for each), and of a choice."""

    def query(self, state, n):
        import warnings

        warnings.warn(f"a pool of {len(state.indices_unlabeled)} texts (loss {len(state.indices_unlabeled) / 7:.2f})")
        warnings.warn("using the first texts")
        return state.indices_unlabeled[:n]


class Repeats(Strategy):
    """Picks the first unlabeled text n times: not distinct."""

    def query(self, state, n):
        return np.repeat(state.indices_unlabeled[:1], n)


class CrashesInNumpy(Strategy):
    """Hands numpy what it refuses: the error is raised inside numpy's own Python code."""

    def query(self, state, n):
        np.linalg.inv(np.zeros((2, 2)))


class SetInInfo(Strategy):
    def query(self, state, n):
        self.last_info = {"picked": set(state.indices_unlabeled[:n].tolist())}
        return state.indices_unlabeled[:n]


class Exits(Strategy):
    """Ends the process from its query (a script's habit): no check, no run may end with it, exit 0."""

    def query(self, state, n):
        raise SystemExit(0)


class FewCandidates(Strategy):
    """Asks top_n for more texts than the candidates it gives it."""

    def query(self, state, n):
        from al.strategy import top_n

        return top_n(np.zeros(3), state.indices_unlabeled[:3], n)


class SetOrder(Strategy):
    """Scores by the label first in a set of the label names: the first differs with Python's hash seed."""

    requires = frozenset({"proba"})

    def query(self, state, n):
        first = state.label_names.index(next(iter(set(state.label_names))))
        scores = state.proba[state.indices_unlabeled, first]
        return state.indices_unlabeled[np.argsort(-scores, kind="stable")[:n]]


class SortedOrder(SetOrder):
    """The same, from the names sorted: one answer in every process."""

    def query(self, state, n):
        first = state.label_names.index(sorted(set(state.label_names))[0])
        scores = state.proba[state.indices_unlabeled, first]
        return state.indices_unlabeled[np.argsort(-scores, kind="stable")[:n]]


class NeedsMargins(Strategy):
    """Calls a classifier method neither the checks' logistic regression nor their dropout stand-in has."""
    classifier_methods = ("predict_margins",)

    def query(self, state, n):
        return state.indices_unlabeled[:n]


class Seeded(Strategy):
    """Takes the run's seed."""

    def __init__(self, seed: int = 0):
        super().__init__()
        self.seed = seed

    def query(self, state, n):
        return np.random.default_rng(self.seed).choice(state.indices_unlabeled, n, replace=False)
'''


def line_of(text: str) -> int:
    """The line of BROKEN holding ``text``."""
    return next(i for i, line in enumerate(BROKEN.splitlines(), 1) if text in line)


@pytest.fixture
def broken_module(tmp_path, monkeypatch):
    (tmp_path / "brokenstrategies.py").write_text(BROKEN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "brokenstrategies"
    sys.modules.pop("brokenstrategies", None)


def test_passing_strategies_say_ok_and_exit_0(capsys):
    assert main(["random", "margin"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in out] == ["ok: random", "ok: margin"]
    assert "same picks with the same seed" in out[0]


def test_a_broken_strategy_is_one_error_line_and_exit_2(broken_module, capsys):
    assert main(["random", f"{broken_module}:Repeats"]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("ok: random")
    errors = captured.err.strip().splitlines()
    assert len(errors) == 1
    assert errors[0].startswith(f"error: strategy '{broken_module}:Repeats' returned duplicate indices")
    assert errors[0].count("Repeats") == 1  # the name typed, once


def test_picks_that_change_with_python_s_hash_seed_are_refused(broken_module, capsys):
    """Iterating a set of strings passed every in-process check, and each run of the same command picked otherwise."""
    assert main([f"{broken_module}:SetOrder", f"{broken_module}:SortedOrder"]) == 2
    captured = capsys.readouterr()
    (error,) = captured.err.strip().splitlines()
    assert error.startswith(f"error: {broken_module}:SetOrder picks [") and error.endswith(
        "under PYTHONHASHSEED=4: its answer depends on Python's hash seed, which changes from process to process, so "
        "the same command picks otherwise in each run; it iterates a set of strings, or a dict or list built from "
        "one: sort it first (sorted(...))")
    assert captured.out.startswith(f"ok: {broken_module}:SortedOrder (") and captured.out.rstrip().endswith(
        "the same picks in another process)")


def test_check_strategy_in_python_compares_other_hash_seeds_too(broken_module):
    """The README lists the check among check_strategy's, and only python -m al.testing ran it."""
    import importlib

    from al.testing import ConformanceError, check_strategy

    module = importlib.import_module(broken_module)
    for given in (module.SetOrder, f"{broken_module}:SetOrder"):  # a class of an importable module, or a name
        with pytest.raises(ConformanceError, match=r"picks \[.* under PYTHONHASHSEED=4: its answer depends on "
                                                   r"Python's hash seed"):
            check_strategy(given)
    check_strategy(module.SortedOrder)
    check_strategy(module.SetOrder, other_processes=False)  # asked not to: the in-process checks pass it
    check_strategy(lambda: module.SetOrder())  # no name a process can import: not compared (documented)


def test_a_fault_found_by_the_checks_is_the_strategy_s_error_not_a_check_that_could_not_run(broken_module, capsys):
    assert main([f"{broken_module}:SetInInfo"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: strategy '{broken_module}:SetInInfo' put set in last_info['picked']; expected numbers, strings, "
        f"lists or dicts of them: convert it (float(x), x.tolist(), str(x))"
    )


def test_the_run_s_seed_is_refused_as_a_strategy_parameter(broken_module, capsys):
    assert main([f"{broken_module}:Seeded", "--strategy-param", "seed=3"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (f"error: strategy '{broken_module}:Seeded': seed is set by the run's seed "
                                    f"(--seed), not as a strategy parameter; remove it from the strategy's params")
    assert main([f"{broken_module}:Seeded"]) == 0


def test_an_unknown_name_or_parameter_is_refused_before_any_check(capsys):
    assert main(["cvirz"]) == 2
    assert "did you mean cvirs" in capsys.readouterr().err
    assert main(["dal", "--strategy-param", "sub_batchs=2"]) == 2
    err = capsys.readouterr().err
    assert "sub_batchs" in err and "reaches every strategy" not in err  # one strategy: nothing shared to say
    # a param of one strategy of two: the error says the flag went to both
    assert main(["random", "dal", "--strategy-param", "sub_batches=2"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "error: strategy 'random' has no parameter 'sub_batches'; accepted: none (--strategy-param reaches every "
        "strategy named: check them in separate commands)")


def test_a_parameter_given_twice_is_refused(capsys):
    """--strategy-param k=3 --strategy-param k=4 kept 4 unsaid."""
    assert main(["dal", "--strategy-param", "sub_batches=2", "--strategy-param", "sub_batches=3"]) == 2
    assert capsys.readouterr().err.strip() == ("error: --strategy-param gives sub_batches twice (sub_batches=2 and "
                                               "sub_batches=3); give it once")
    assert main(["dal", "--strategy-param", "d=2020-01-01", "--strategy-param", "d=3"]) == 2  # no JSON form: said
    assert capsys.readouterr().err.strip() == "error: --strategy-param gives d twice (d=2020-01-01 and d=3); give it once"


def test_params_reach_the_strategy(capsys):
    assert main(["dal", "--strategy-param", "sub_batches=2", "--strategy-param", "max_epochs=3"]) == 0
    assert capsys.readouterr().out.startswith("ok: dal(")


def test_a_strategy_needing_another_classifier_says_how_to_check_it(broken_module, capsys):
    assert main([f"{broken_module}:NeedsMargins"]) == 2
    err = capsys.readouterr().err
    assert "could not be checked" in err and "check_strategy(cls, classifier=" in err
    assert "--classifier" not in err  # al.simulate's flag: this command has none


def test_a_strategy_calling_predict_proba_dropout_is_checked_on_the_dropout_stand_in(capsys):
    """python -m al.testing bald said "could not be checked", and the README's check_strategy(cls, classifier=...)
    failed with the classifier one would pass (bert takes texts; the synthetic pools give vectors)."""
    from al.testing import DropoutLogreg, check_strategy

    assert main(["bald"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("; fitted al.testing.DropoutLogreg, noisy logits standing in "
                                                     "for MC dropout")
    check_strategy("bald")  # in Python too, with no classifier given
    check_strategy("bald", classifier=DropoutLogreg)
    draws = DropoutLogreg().fit(np.eye(4, dtype=np.float32), sp.csr_matrix(np.eye(4, dtype=np.int8)))
    p = draws.predict_proba_dropout(np.eye(4, dtype=np.float32), n_samples=3, seed=0)
    assert p.shape == (3, 4, 4) and p.dtype == np.float32 and not np.allclose(p[0], p[1])
    assert np.array_equal(p, draws.predict_proba_dropout(np.eye(4, dtype=np.float32), n_samples=3, seed=0))


def test_a_strategy_s_own_exception_is_its_line_and_the_next_strategy_is_checked(broken_module, capsys):
    assert main(["random", f"{broken_module}:Crashes", "margin"]) == 2
    captured = capsys.readouterr()
    assert [line.split(" (")[0] for line in captured.out.splitlines()] == ["ok: random", "ok: margin"]
    where = sys.modules[broken_module].__file__
    assert captured.err.strip() == (f"error: {broken_module}:Crashes raised ValueError on a synthetic pool: my bug "
                                    f"(at {where}:{line_of('raise ValueError')}) "
                                    f"(run al.testing.check_strategy on it in Python for the traceback)")


def test_writing_into_a_view_says_the_arrays_are_read_only_and_how_to_copy(broken_module, capsys):
    assert main([f"{broken_module}:Normalises"]) == 2
    where = sys.modules[broken_module].__file__
    assert capsys.readouterr().err.strip() == (
        f"error: {broken_module}:Normalises raised ValueError on a synthetic pool: output array is read-only "
        f"(at {where}:{line_of('emb /= 2')}) (run al.testing.check_strategy on it in Python for the traceback); "
        f"if it is one of the state's arrays, read-only: change a copy, e.g. emb = state.embeddings.copy()")


def test_an_exception_raised_inside_numpy_names_the_strategy_s_line(broken_module, capsys):
    assert main([f"{broken_module}:CrashesInNumpy"]) == 2
    where = sys.modules[broken_module].__file__
    assert capsys.readouterr().err.strip().startswith(
        f"error: {broken_module}:CrashesInNumpy raised LinAlgError on a synthetic pool: Singular matrix "
        f"(at {where}:{line_of('np.linalg.inv')}) (run al.testing.check_strategy"
    )


def test_what_a_strategy_caches_for_the_synthetic_pools_is_not_kept(broken_module, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache"))
    assert main([f"{broken_module}:Caches"]) == 0
    assert not (tmp_path / "cache").exists()
    import os

    assert os.environ["AL_CACHE_DIR"] == str(tmp_path / "cache")  # the user's setting back


def test_warnings_alike_but_for_their_numbers_are_one_line_and_a_temporary_cache_is_said(broken_module, capsys):
    """ALPS's warning of the MLM head fitted for each synthetic pool, with its loss, came four times, and "cached for
    later runs" of a cache removed after the checks."""
    import warnings

    with warnings.catch_warnings(record=True) as shown:  # what the command's showwarning passes on
        warnings.simplefilter("always")
        assert main([f"{broken_module}:WarnsPerPool", f"{broken_module}:Caches"]) == 0
    lines = [str(w.message) for w in shown]
    assert len(lines) == 2, lines
    said = re.fullmatch(r"a pool of \d+ texts \(loss [\d.]+\) \(and (\d+) more like it with other numbers, on the "
                        r"synthetic pools\)", lines[0])
    assert said and int(said.group(1)) >= 2
    assert lines[1] == "using the first texts"  # the same text each time: shown once, as any command shows it
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("a later round with a label not yet labeled, the same picks in another process)")
    assert out[1].endswith("the same picks in another process); what it cached for the synthetic pools went to a "
                           "temporary cache, now removed")  # the other processes' caches too


def test_a_strategy_that_exits_the_process_is_its_line_and_the_next_strategy_is_checked(broken_module, capsys):
    """``raise SystemExit(0)`` in a query ended al.testing (and al.simulate, and a grid) at once with exit 0."""
    assert main([f"{broken_module}:Exits", "margin"]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("ok: margin")
    where = sys.modules[broken_module].__file__
    assert captured.err.strip() == (f"error: {broken_module}:Exits raised SystemExit on a synthetic pool: 0 "
                                    f"(at {where}:{line_of('raise SystemExit')}) "
                                    f"(run al.testing.check_strategy on it in Python for the traceback)")


def test_top_n_asked_for_more_than_its_candidates_is_the_strategy_s_fault_in_its_words(broken_module, capsys):
    """It said "asked for 5 texts but only 3 are unlabeled" (false: the pool had many) as a check that could not
    run."""
    assert main([f"{broken_module}:FewCandidates"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: strategy '{broken_module}:FewCandidates': top_n was asked for 5 of 3 candidates; give it at least "
        f"5 (e.g. state.indices_unlabeled), or ask for at most 3")


def test_a_slow_strategy_s_checks_say_they_still_run(tmp_path, monkeypatch, capsys):
    """A strategy taking 20 s a query printed nothing for minutes, where al.simulate says 'query ...: 15 s so far'."""
    import functools

    import al.progress
    import al.testing.__main__ as cli

    (tmp_path / "slowstrategies.py").write_text(
        "import time\nfrom al.strategy import Strategy\n\n\nclass Slow(Strategy):\n"
        "    def query(self, state, n):\n        time.sleep(0.05)\n        return state.indices_unlabeled[:n]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "heartbeat", functools.partial(al.progress.heartbeat, delay=0.02, interval=60))
    try:
        assert main(["slowstrategies:Slow"]) == 0
    finally:
        sys.modules.pop("slowstrategies", None)
    assert "checking slowstrategies:Slow on synthetic pools: 0 s so far\n" in capsys.readouterr().err
