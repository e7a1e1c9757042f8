"""Task-specific spaces in the loop: head scope fits, settings, records, resume, no label leak."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import scipy.sparse as sp

from al.analysis.curves import Run
from al.classifiers.base import Classifier
from al.classifiers.linear import LogisticRegressionClassifier
from al.config import SimulationConfig
from al.engine import Simulation
from al.errors import ConfigError
from al.records import RunRecords, read_rounds
from al.simulate import build_parser, config_from_args, stored_settings
from al.spaces.head import HeadSpace
from strategies.class_embedding import ClassEmbedding
from strategies.random_sampling import RandomSampling
from tests.conftest import hash_embed, synthetic_corpus

FAST = dict(epochs=3, dim=16, hidden=32)


def labeled_problem(n=60, d=24, n_labels=3, seed=0):
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, n_labels)) < 0.4).astype(np.int8)
    X = rng.normal(size=(n, d)).astype(np.float32) + 2.0 * Y @ rng.normal(size=(n_labels, d)).astype(np.float32)
    return X, sp.csr_matrix(Y)


@pytest.mark.parametrize("objective", ["cea", "snnl", "aan", "am", "clld"])
def test_head_space_is_deterministic_unit_norm_and_learns(objective):
    X, Y = labeled_problem()
    a = HeadSpace(objective, **FAST).fit(X, Y, seed=5)
    b = HeadSpace(objective, **FAST).fit(X, Y, seed=5)
    c = HeadSpace(objective, **FAST).fit(X, Y, seed=6)
    Za, Zb, Zc = a.transform(X), b.transform(X), c.transform(X)
    assert Za.shape == (60, 16) and Za.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(Za, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(Za, Zb)  # same seed, same space, bit for bit
    assert not np.array_equal(Za, Zc)
    longer = HeadSpace(objective, **{**FAST, "epochs": 15}).fit(X, Y, seed=5).info()
    assert longer["loss"] < longer["loss_first_epoch"]  # training lowers its objective


def test_head_space_leaves_the_global_torch_state_alone():
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    X, Y = labeled_problem()
    HeadSpace("aan", **FAST).fit(X, Y, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_the_head_adam_is_torch_adam_bit_for_bit_without_importing_dynamo():
    import subprocess
    import sys

    import torch

    from al.spaces.head import Adam

    def train(make):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(8, 5), torch.nn.GELU(), torch.nn.Linear(5, 3))
        unused = torch.nn.Linear(3, 2)  # never gets a gradient: no state, no step, as in torch.optim.Adam
        optimiser = make(list(net.parameters()) + list(unused.parameters()))
        g = torch.Generator().manual_seed(1)
        for _ in range(25):
            optimiser.zero_grad()
            net(torch.randn(16, 8, generator=g)).pow(2).mean().backward()
            optimiser.step()
        return [p.detach().clone() for p in [*net.parameters(), *unused.parameters()]]

    ours, theirs = train(lambda p: Adam(p, lr=1e-2)), train(lambda p: torch.optim.Adam(p, lr=1e-2))
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    code = ("import sys, numpy as np, scipy.sparse as sp; from al.spaces.head import HeadSpace; "
            "X = np.random.default_rng(0).normal(size=(40, 16)).astype(np.float32); "
            "Y = sp.csr_matrix((np.arange(40)[:, None] % 2 == np.arange(2)).astype(np.int8)); "
            "HeadSpace('cea', epochs=2, dim=8, hidden=8).fit(X, Y, seed=0); print('torch._dynamo' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"  # a head fit never pays the 2.4 s compiler import


def test_cea_head_brings_texts_sharing_a_label_closer():
    X, Y = labeled_problem(n=80, seed=2)
    Z = HeadSpace("cea", epochs=30, dim=16, hidden=64).fit(X, Y, seed=0).transform(X)
    Yd = Y.toarray().astype(bool)
    share = (Yd.astype(int) @ Yd.T.astype(int)) > 0
    np.fill_diagonal(share, False)
    disjoint = ~share
    np.fill_diagonal(disjoint, False)
    S = Z @ Z.T
    # CEA's targets: cosine 1 for positives, 0 for negatives
    assert S[share].mean() - S[disjoint].mean() > 0.4


def test_snnl_s_sign_of_alpha_disentangles_or_entangles():
    # seed 002 l.477-478: alpha = 100 pulls texts of a class together, -100 pushes them apart; the soft nearest
    # neighbour loss of the fitted space (higher = more entangled) orders the three fits
    from al.analysis.quality import soft_nearest_neighbour_loss

    X, Y = labeled_problem()
    loss = {alpha: soft_nearest_neighbour_loss(HeadSpace("snnl", alpha=alpha, **FAST).fit(X, Y, seed=0).transform(X),
                                               Y, 0.1) for alpha in (100, 0, -100)}
    assert loss[100] < loss[0] < loss[-100]


def test_clld_with_dev_label_distance_needs_a_dev_split():
    X, Y = labeled_problem()
    with pytest.raises(ConfigError, match="dev split"):
        HeadSpace("clld", ldm="adaptive", **FAST).fit(X, Y, seed=0)
    fitted = HeadSpace("clld", ldm="adaptive", **FAST).fit(X, Y, seed=0, dev_inputs=X[:20], Y_dev=Y[:20])
    assert fitted.transform(X).shape == (60, 16)


def test_clld_records_the_confusable_pairs_it_found_on_dev():
    """confusable=k picks its pairs on dev at every fit, and no record said which: labels 0 and 1 share one centre
    here, so the pair a probe confuses is (0, 1)."""
    rng = np.random.default_rng(0)
    Y = np.zeros((200, 4), dtype=np.int8)
    Y[np.arange(200), rng.integers(0, 4, 200)] = 1
    centres = 3 * rng.normal(size=(4, 24)).astype(np.float32)
    centres[1] = centres[0]
    X = (Y @ centres + rng.normal(size=(200, 24))).astype(np.float32)
    train, dev = slice(0, 120), slice(120, 200)
    fitted = HeadSpace("clld", confusable=1, **FAST).fit(X[train], sp.csr_matrix(Y[train]), seed=0,
                                                        dev_inputs=X[dev], Y_dev=sp.csr_matrix(Y[dev]))
    assert fitted.info()["confusable_pairs"] == [[0, 1]]
    assert "confusable_pairs" not in HeadSpace("clld", **FAST).fit(X[train], sp.csr_matrix(Y[train]), seed=0).info()


def test_clld_adaptive_label_distance_follows_algorithm_1_s_schedule(monkeypatch):
    # seed 003 Alg. 1: the matrix starts as ones and is updated once an epoch from epoch > epochs / 5 (here 10
    # epochs: after epochs 3..10, counted from 1), LDM <- (counts - LDM) * (1 - epoch / epochs) + LDM; each
    # epoch's batches use the matrix as it stood when the epoch began
    import al.spaces.head as head
    import al.spaces.objectives as objectives

    updates, used = [], {}
    real_update, real_loss = objectives.adaptive_label_distance, head.batch_loss

    def update(ldm, confusion, step, total):
        out = real_update(ldm, confusion, step, total)
        updates.append((step, total, np.array(ldm), np.array(confusion), out))
        return out

    def loss(objective, batch, epoch, rng, params, positive, ldm):
        used.setdefault(epoch, np.array(ldm))
        return real_loss(objective, batch, epoch, rng, params, positive, ldm)

    monkeypatch.setattr(objectives, "adaptive_label_distance", update)
    monkeypatch.setattr(head, "batch_loss", loss)
    X, Y = labeled_problem()
    HeadSpace("clld", ldm="adaptive", epochs=10, dim=16, hidden=32).fit(X, Y, seed=0, dev_inputs=X[:20], Y_dev=Y[:20])
    assert [(step, total) for step, total, *_ in updates] == [(e, 10) for e in range(3, 11)]
    for epoch in range(3):
        np.testing.assert_array_equal(used[epoch], np.ones((3, 3)))
    for step, _, before, counts, after in updates:
        epsilon = 1 - step / 10
        np.testing.assert_allclose(after, (counts - before) * epsilon + before)
        if step < 10:
            np.testing.assert_array_equal(used[step], after)  # epoch `step` (from 0) is the next one
    for (_, _, _, _, after), (_, _, before, _, _) in zip(updates, updates[1:]):
        np.testing.assert_array_equal(before, after)
    assert all(c.shape == (3, 3) and (c >= 0).all() and (c == np.round(c)).all() for _, _, _, c, _ in updates)


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("space, match", [
    ("nope", "unknown space 'nope'; known"),
    ("cae", r"unknown space 'cae' \(did you mean cea\?\)"),
    ({"name": "pretrained", "params": {"dim": 3}}, "pretrained space takes no params"),
    ({"name": "cea", "params": {"alpha": 100}}, "does not use alpha"),
    ({"name": "cea", "params": {"dimm": 3}}, "has no parameter 'dimm'"),
    ({"name": "cea", "params": {"objective": "aan"}}, "objective is its name"),
    ({"name": "snnl", "params": {"epochs": 0}}, "space 'snnl' epochs must be a positive integer, got 0;"),
    ({"name": "aan", "params": {"positive": "some"}}, "space 'aan' positive must be one of shares, exact, got 'some'"),
    ({"name": "am", "params": {"positive": "exat"}}, r"space 'am' positive must be one of shares, exact, got 'exat' "
                                                     r"\(did you mean exact\?\); give one such"),
    ({"name": "cea", "params": {"learning_rate": -1}}, r"space 'cea' learning_rate must be a number in \(0, inf\), got -1; give one such"),
    ({"name": "clld", "params": {"learning_rate": 0}}, r"space 'clld' learning_rate must be a number in \(0, inf\), got 0;"),
    ({"name": "snnl", "params": {"learning_rate": "abc"}}, r"space 'snnl' learning_rate must be a number in \(0, inf\), got 'abc';"),
    ({"name": "clld", "params": {"batch_size": 1}},
     "space 'clld' batch_size must be an integer of at least 2 \\(its loss compares the texts of a batch\\), got 1;"),
    ({"name": "am", "params": {"batch_size": 1}}, "space 'am' batch_size must be an integer of at least 2 \\(its loss compares"),
])
def test_bad_space_settings_fail_before_data_loads(space, match):
    with pytest.raises(ConfigError, match=match):
        SimulationConfig(space=space).validate()
    with pytest.raises(ConfigError, match=match):  # the encoder scope checks them alike
        SimulationConfig(space=space, space_scope="encoder").validate()


def test_a_batch_of_one_pair_is_a_cea_batch():
    SimulationConfig(space={"name": "cea", "params": {"batch_size": 1}}).validate()
    SimulationConfig(space={"name": "cea", "params": {"batch_size": 1}}, space_scope="encoder").validate()


def test_scope_and_period_are_checked():
    with pytest.raises(ConfigError, match="space_scope"):
        SimulationConfig(space="cea", space_scope="body").validate()
    with pytest.raises(ConfigError, match="space_every"):
        SimulationConfig(space="cea", space_every=0).validate()
    with pytest.raises(ConfigError, match="has no parameter 'ldm'"):  # the encoder scope has a static LDM only
        SimulationConfig(space={"name": "clld", "params": {"ldm": "adaptive"}}, space_scope="encoder").validate()
    with pytest.raises(ConfigError, match=r"^space 'clld' ldm must be one of static, adaptive, got 'adaptiv' \(did "
                                          r"you mean adaptive\?\); give one such"):  # the head scope's
        SimulationConfig(space={"name": "clld", "params": {"ldm": "adaptiv"}}).validate()


def test_flags_reach_the_config_and_the_resolved_settings():
    args = build_parser().parse_args(["--space", "am", "--space-scope", "head", "--space-every", "2",
                                      "--space-param", "epochs=7", "--space-param", "delta=0.3"])
    config = config_from_args(args)
    assert (config.space.name, config.space_scope, config.space_every) == ("am", "head", 2)
    resolved = config.validate().resolved()
    params = resolved["space"]["params"]
    assert params["epochs"] == 7 and params["delta"] == 0.3 and params["negatives"] == 4  # paper default filled
    assert "alpha" not in params and "lam" not in params  # other objectives' params are not recorded
    assert "runs/disaster-class_embedding-am-head-logreg-seed0" == config.run_dir.as_posix()


def test_pretrained_runs_record_no_scope_and_old_runs_resume_as_pretrained():
    resolved = SimulationConfig().resolved()
    assert resolved["space"] == {"name": "pretrained", "params": {}}
    assert resolved["space_scope"] is None and resolved["space_every"] is None
    old = {k: v for k, v in resolved.items() if k not in ("space", "space_scope", "space_every")}
    assert stored_settings({"config": old}) == resolved  # a run from before spaces resumes


def test_report_labels_name_the_space():
    base = SimulationConfig(strategy="class_embedding").resolved()
    assert Run("a", base, []).strategy == "class_embedding"
    adapted = SimulationConfig(strategy="class_embedding", space="cea", space_every=2).validate().resolved()
    given = {"strategy": {"name": "class_embedding", "params": {}}, "space": {"name": "cea", "params": {}}}
    assert Run("b", adapted, [], {"given": given}).strategy == "class_embedding@cea/every2"
    given["space"] = {"name": "snnl", "params": {"epochs": 2}}
    encoder = SimulationConfig(space=given["space"], space_scope="encoder").validate().resolved()
    assert Run("c", encoder, [], {"given": given}).strategy == "class_embedding@snnl(epochs=2)-encoder"


# ---------------------------------------------------------------- in the loop


def simulate(corpus, space, strategy=None, records=None, every=1, **kwargs):
    return Simulation(corpus=corpus, strategy=strategy or ClassEmbedding(),
                      make_classifier=lambda s: LogisticRegressionClassifier(seed=s), embed=hash_embed,
                      initial=20, step=10, budget=60, seed=0, records=records, space=space, space_every=every,
                      **kwargs)


def strip_times(rounds):
    drop = ("seconds", "resumed")
    out = []
    for r in rounds:
        r = {k: v for k, v in r.items() if not k.startswith(drop)}
        if "space" in r:
            r["space"] = {k: v for k, v in r["space"].items() if k != "seconds_fit"}
        out.append(r)
    return out


def test_rounds_record_the_space_and_its_fit_period(corpus):
    rounds = simulate(corpus, HeadSpace("cea", **FAST), every=2).run()
    assert [r["space"]["fitted_round"] for r in rounds] == [0, 0, 2, 2, 4]
    assert [r["space"]["fitted_on"] for r in rounds] == [20, 20, 40, 40, 60]
    assert all(r["space"]["name"] == "cea" and r["space"]["scope"] == "head" for r in rounds)
    assert [r["seconds_space"] > 0 for r in rounds] == [True, False, True, False, True]


class Spy(ClassEmbedding):
    """class_embedding that keeps the embeddings it was shown."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def query(self, state, n):
        self.seen.append(np.array(state.view("embeddings")))
        return super().query(state, n)


def test_strategies_and_classifiers_read_the_adapted_space(corpus):
    spy = Spy()
    rounds = simulate(corpus, HeadSpace("cea", **FAST), strategy=spy).run()
    assert spy.seen[0].shape[1] == 16  # the head's dimension, not the pretrained 64
    pretrained = hash_embed(corpus.texts[corpus.splits["train"]].tolist())
    assert spy.seen[0].shape != pretrained.shape
    assert not np.array_equal(spy.seen[0], spy.seen[1])  # re-fit every round
    plain = simulate(corpus, None).run()
    assert [r["picked"] for r in rounds] != [r["picked"] for r in plain]


def test_space_for_strategy_leaves_the_classifier_on_the_pretrained_vectors(corpus):
    spy = Spy()
    plain = simulate(corpus, None).run()
    alone = simulate(corpus, HeadSpace("cea", **FAST), strategy=spy, space_for="strategy").run()
    assert spy.seen[0].shape[1] == 16  # the strategy reads the head's space
    # same 20 random texts, same classifier on the same pretrained vectors: round 0 scores as without a space
    assert alone[0]["macro_f1"] == plain[0]["macro_f1"] and alone[0]["micro_f1"] == plain[0]["micro_f1"]
    assert alone[0]["picked"] != plain[0]["picked"]  # only the picks change
    everyone = simulate(corpus, HeadSpace("cea", **FAST), space_for="all").run()
    assert everyone[0]["picked"] == alone[0]["picked"]  # same space, same picks
    assert everyone[0]["macro_f1"] != plain[0]["macro_f1"]  # but there the classifier read the space too


def test_the_last_round_fits_no_space_nobody_reads(corpus):
    from al.observers import EmbeddingDiagnostics

    # budget 60: rounds at 20, 30, 40, 50, 60 labeled texts; the last one queries nothing
    alone = simulate(corpus, HeadSpace("cea", **FAST), space_for="strategy").run()
    assert [r["space"]["fitted_round"] for r in alone] == [0, 1, 2, 3, 3]
    assert alone[-1]["seconds_space"] == 0.0 and alone[-1]["picked"] == []
    # the classifier reads it (space_for all), or an observer does: the last round fits as every other
    everyone = simulate(corpus, HeadSpace("cea", **FAST)).run()
    assert [r["space"]["fitted_round"] for r in everyone] == [0, 1, 2, 3, 4]
    watched = simulate(corpus, HeadSpace("cea", **FAST), space_for="strategy",
                       observers=[EmbeddingDiagnostics(k=5)]).run()
    assert watched[-1]["space"]["fitted_round"] == 4
    # nothing else changes: the same picks and scores in every round
    assert [r["picked"] for r in alone] == [r["picked"] for r in watched]
    assert [r["macro_f1"] for r in alone] == [r["macro_f1"] for r in watched]


def test_a_slow_space_fit_prints_that_it_is_still_running(corpus, monkeypatch, capsys):
    """A head of 4,000 epochs fitted for 19 s between the starting line and the round's line, saying nothing."""
    import time

    import al.engine
    import al.progress

    monkeypatch.setattr(al.engine, "QUERY_HEARTBEAT", (0.05, 0.1))
    monkeypatch.setattr(al.progress, "_quiet", False)  # as a command without --quiet leaves it

    class Slow(HeadSpace):
        def fit(self, *args, **kwargs):
            time.sleep(0.3)
            return super().fit(*args, **kwargs)

    simulate(corpus, Slow("cea", **FAST)).run()
    beats = [line for line in capsys.readouterr().err.splitlines() if "so far" in line]
    assert beats and beats[0] == "fitting the cea space (20 texts labeled): 0 s so far", beats


def test_space_for_classifier_leaves_the_strategy_on_the_pretrained_vectors(corpus):
    spy = Spy()
    plain = simulate(corpus, None).run()
    alone = simulate(corpus, HeadSpace("cea", **FAST), strategy=spy, space_for="classifier").run()
    pretrained = hash_embed(corpus.texts[corpus.splits["train"]].tolist())
    np.testing.assert_array_equal(spy.seen[0], pretrained)
    assert alone[0]["picked"] == plain[0]["picked"]  # class_embedding's round-0 picks read no classifier
    assert alone[0]["macro_f1"] != plain[0]["macro_f1"]


def test_space_for_reaches_config_flags_run_dir_and_labels():
    args = build_parser().parse_args(["--space", "cea", "--space-for", "strategy"])
    config = config_from_args(args).validate()
    assert config.space_for == "strategy"
    assert config.run_dir.as_posix() == "runs/disaster-class_embedding-cea-head-for-strategy-logreg-seed0"
    resolved = config.resolved()
    assert resolved["space_for"] == "strategy"
    assert SimulationConfig().resolved()["space_for"] is None  # no fit, nobody reads one
    given = {"strategy": {"name": "class_embedding", "params": {}}, "space": {"name": "cea", "params": {}}}
    assert Run("a", resolved, [], {"given": given}).strategy == "class_embedding@cea (strategy only)"
    with pytest.raises(ConfigError, match="space_for must be one of all, strategy, classifier"):
        SimulationConfig(space="cea", space_for="pool").validate()
    # a run from before the setting resumes: everyone read its space
    old = {k: v for k, v in SimulationConfig(space="cea").validate().resolved().items() if k != "space_for"}
    assert stored_settings({"config": old})["space_for"] == "all"


def test_a_resumed_run_refits_the_space_it_was_using(corpus, tmp_path, capsys):
    expected = simulate(corpus, HeadSpace("aan", **FAST), every=2).run()

    class Crash(Exception):
        pass

    def crash_after_round_2(record):
        if record["round"] == 2:
            raise Crash

    records = RunRecords(tmp_path)
    records.start({"space": "aan"}, {})
    with pytest.raises(Crash):
        simulate(corpus, HeadSpace("aan", **FAST), records=records, every=2, on_round=crash_after_round_2).run()
    again = RunRecords(tmp_path)
    again.start({"space": "aan"}, {})
    capsys.readouterr()
    simulate(corpus, HeadSpace("aan", **FAST), records=again, every=2).run()
    assert strip_times(read_rounds(tmp_path)) == strip_times(expected)
    said = capsys.readouterr().err

    def crash_after_round_3(record):  # round 3 uses the space of round 2: the resumed run must refit that one
        if record["round"] == 3:
            raise Crash

    other = RunRecords(tmp_path / "b")
    other.start({"space": "aan"}, {})
    with pytest.raises(Crash):
        simulate(corpus, HeadSpace("aan", **FAST), records=other, every=2, on_round=crash_after_round_3).run()
    other = RunRecords(tmp_path / "b")
    other.start({"space": "aan"}, {})
    simulate(corpus, HeadSpace("aan", **FAST), records=other, every=2).run()
    assert strip_times(read_rounds(tmp_path / "b")) == strip_times(expected)
    # said, where nothing had told a space fitted again from a new one (the console counts rounds from 1)
    assert said.count("resuming: fitting round 3's space again (it serves rounds 3-4: --space-every 2)") == 1, said


def test_a_resumed_warm_started_run_fits_the_space_of_its_period_once(corpus, tmp_path, capsys):
    """A warm-started classifier reading the space refits the finished rounds first, the last space's fit among
    them: the round that resumes in that space's period reads it, where it had been fitted a second time."""
    from al.classifiers.knn import KNNClassifier

    fitted_rounds = []

    class CountingSpace(HeadSpace):
        def fit(self, inputs, Y, seed, dev_inputs=None, Y_dev=None):
            fitted_rounds.append(len(inputs))
            return super().fit(inputs, Y, seed, dev_inputs, Y_dev)

    def knn_run(records=None, on_round=None):
        return Simulation(corpus=corpus, strategy=ClassEmbedding(),
                          make_classifier=lambda s: KNNClassifier(k=3, seed=s), embed=hash_embed, initial=20,
                          step=10, budget=60, seed=0, records=records,
                          space=CountingSpace("cea", **FAST), space_every=2, on_round=on_round)

    expected = knn_run().run()

    class Crash(Exception):
        pass

    def crash_after_round_2(record):  # round 3 reads round 2's space
        if record["round"] == 2:
            raise Crash

    records = RunRecords(tmp_path)
    records.start({"space": "cea"}, {})
    with pytest.raises(Crash):
        knn_run(records, crash_after_round_2).run()
    again = RunRecords(tmp_path)
    again.start({"space": "cea"}, {})
    fitted_rounds.clear()
    capsys.readouterr()
    rounds = knn_run(again).run()
    assert fitted_rounds == [20, 40, 60]  # rounds 0 and 2 for the refit, then round 4: round 2's not again
    assert strip_times(read_rounds(tmp_path)) == strip_times(expected)
    assert rounds[3]["seconds_space"] == 0.0 and rounds[3]["space"]["seconds_fit"] > 0
    assert "fitting round 3's space again" not in capsys.readouterr().err


class RecordingSpace(HeadSpace):
    """A head space that keeps the label rows each fit reads."""

    def __init__(self, **kwargs):
        super().__init__("cea", **kwargs)
        self.label_rows = []

    def fit(self, inputs, Y, seed, dev_inputs=None, Y_dev=None):
        self.label_rows.append(Y.toarray().copy())
        return super().fit(inputs, Y, seed, dev_inputs, Y_dev)


def test_the_space_never_reads_a_label_of_an_unlabeled_text(corpus):
    space = RecordingSpace(**FAST)
    rounds = simulate(corpus, space, strategy=RandomSampling()).run()
    Y_pool = corpus.Y[corpus.splits["train"]].toarray()
    labeled = list(rounds[0]["initial"])
    for r, rows in zip(rounds, space.label_rows):
        assert np.array_equal(rows, Y_pool[labeled])  # exactly the labeled texts' rows, in order
        labeled += r["picked"]
    # behaviour: other gold labels on the unlabeled texts change nothing the space or the loop does in round 0
    Y = corpus.Y.toarray()
    pool = corpus.splits["train"]
    unlabeled = np.setdiff1d(np.arange(len(pool)), rounds[0]["initial"])
    Y[pool[unlabeled]] = 1 - Y[pool[unlabeled]]
    scrambled = dataclasses.replace(corpus, Y=sp.csr_matrix(Y))
    again = simulate(scrambled, HeadSpace("cea", **FAST), strategy=RandomSampling()).run()
    assert strip_times(again)[0]["space"] == strip_times(rounds)[0]["space"]
    assert again[0]["picked"] == rounds[0]["picked"]


class TextClassifier(Classifier):
    input = "texts"

    def __init__(self, seed=0):
        self.seed = seed

    def fit(self, X, Y, X_dev=None, Y_dev=None):
        self.thresholds_ = np.full(Y.shape[1], 0.5, dtype=np.float32)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.thresholds_)), 0.5, dtype=np.float32)


def test_a_space_nobody_reads_is_refused(corpus):
    with pytest.raises(ConfigError, match="neither strategy 'random' nor the classifier reads them"):
        Simulation(corpus=corpus, strategy=RandomSampling(), make_classifier=lambda s: TextClassifier(s),
                   embed=hash_embed, initial=20, step=10, budget=30, space=HeadSpace("cea", **FAST))
    # a text classifier with an embedding strategy: the strategy sees the adapted space
    spy = Spy()
    Simulation(corpus=synthetic_corpus(200), strategy=spy, make_classifier=lambda s: TextClassifier(s),
               embed=hash_embed, initial=20, step=10, budget=30, space=HeadSpace("cea", **FAST)).run()
    assert spy.seen[0].shape[1] == 16


def test_space_for_is_checked_against_who_reads_embeddings(corpus):
    with pytest.raises(ConfigError, match="--space-for strategy, but strategy 'random' reads no embeddings"):
        simulate(corpus, HeadSpace("cea", **FAST), strategy=RandomSampling(), space_for="strategy")
    with pytest.raises(ConfigError, match="--space-for classifier, but the classifier reads texts"):
        Simulation(corpus=corpus, strategy=ClassEmbedding(), make_classifier=lambda s: TextClassifier(s),
                   embed=hash_embed, initial=20, step=10, budget=30, space=HeadSpace("cea", **FAST),
                   space_for="classifier")
    simulate(corpus, HeadSpace("cea", **FAST), strategy=RandomSampling(), space_for="classifier")  # allowed


@pytest.mark.parametrize(("settings", "match"), [
    ({"strategy": "random", "space_for": "strategy"}, "--space-for strategy, but strategy 'random' reads no embeddings"
                                                      " view; use"),
    # DAL queries in the fitted space through logreg's representations under --space-for all: said, not "none"
    ({"strategy": "dal", "space_for": "strategy"}, "strategy 'dal' reads no embeddings view (it reads the "
                                                   "classifier's representations, which are the fitted space's only "
                                                   "with --space-for all or classifier); use"),
    ({"strategy": "class_embedding", "space_for": "classifier", "classifier": "bert"},
     "--space-for classifier, but the classifier reads texts"),
    ({"strategy": "random", "classifier": "bert"}, "neither strategy 'random' nor the classifier reads them"),
])
def test_who_reads_a_space_is_checked_by_the_settings_alone(settings, match):
    """Before data loads, so that a grid's --dry-run and its cell checks name such a cell."""
    with pytest.raises(ConfigError, match=re.escape(match)):
        SimulationConfig(space="cea", **settings)._validated()
    SimulationConfig(space="cea", strategy="random")._validated()  # the logreg classifier reads the space


def test_space_params_at_the_top_level_say_where_params_go(tmp_path):
    from al.config import from_mapping
    from al.grid import expand_grid

    hint = "a space's params go inside it: space: {name: NAME, params: {...}}"
    with pytest.raises(ConfigError, match=re.escape(f"unknown setting(s) 'space_params'; {hint}")):
        from_mapping({"space": "cea", "space_params": {"epochs": 2}}, "s.yaml")
    with pytest.raises(ConfigError, match=re.escape(f"unknown setting(s) ['space_params'] in settings; {hint}")):
        expand_grid({"out": str(tmp_path), "settings": {"space_params": {"epochs": 3}}, "grid": {"space": ["cea"]}})
    # the flag's name, --space-param, as a key: no misspelt space_for
    with pytest.raises(ConfigError, match=re.escape(f"unknown setting(s) 'space_param'; {hint}; known: ")):
        from_mapping({"space": "cea", "space_param": {"epochs": 2}}, "s.yaml")
    with pytest.raises(ConfigError, match=re.escape(f"unknown setting(s) ['space_param'] in settings; {hint}")):
        expand_grid({"out": str(tmp_path), "settings": {"space_param": {"epochs": 3}}, "grid": {"space": ["cea"]}})
    with pytest.raises(ConfigError, match=re.escape("unknown setting(s) 'spaec' (did you mean space?); known: ")):
        from_mapping({"spaec": "cea"}, "s.yaml")  # a misspelt setting still gets its guess


def test_a_fit_that_diverges_is_refused_not_recorded_as_nan():
    """learning_rate=1e30 gave loss NaN: with space_for strategy the run ended 'fine', picks in index order and
    "loss": NaN in rounds.jsonl; with space_for all a scikit-learn traceback."""
    from al.spaces.head import HeadSpace

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 16)).astype(np.float32)
    Y = sp.csr_matrix((rng.random((40, 3)) < 0.4).astype(np.int8))
    with pytest.raises(ConfigError, match=r"^space 'cea' \(head scope\) diverged: its training loss became nan in "
                                          r"epoch 1; lower its learning_rate \(given 1e\+30\), e\.g\. --space-param "
                                          r"learning_rate=1e\+29$"):
        HeadSpace("cea", learning_rate=1e30, hidden=8, dim=4).fit(X, Y, 0)
    assert np.isfinite(HeadSpace("cea", hidden=8, dim=4).fit(X, Y, 0).info()["loss"])  # the default trains


def test_check_fit_refuses_vectors_that_are_not_finite_and_takes_a_loss_that_rose():
    import warnings

    from al.spaces.training import check_fit

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_fit("cea", "head", [0.5, 0.4], 1e-3, np.ones((2, 3)))  # a fit as it should be: nothing said
        check_fit("clld", "head", [0.41, 69.2], 1e-3, np.ones((2, 3)))  # clld's adaptive distances: its loss rises
    with pytest.raises(ConfigError, match="its vectors are not finite"):
        check_fit("cea", "head", [0.5, 0.4], 1e-3, np.array([[np.inf, 0.0]]))
    with pytest.raises(ConfigError, match=r"training loss became inf in epoch 2"):
        check_fit("snnl", "encoder", [2.0, float("inf")], 0.5, np.zeros(0))


def test_a_fitted_encoder_s_embedding_pass_is_named_as_the_fitted_encoder(monkeypatch):
    """Its progress line said 'embedding with all-MiniLM-L6-v2' right after 'fitting the cea encoder space'."""
    import al.embedders
    from al.spaces.encoder import FittedEncoder

    class Encoder:
        max_seq_length = 128

    seen = {}
    monkeypatch.setattr(al.embedders.SentenceEmbedder, "encode",
                        lambda self, texts: seen.update(said=self.described_as, cache=self.cache) or texts)
    FittedEncoder(Encoder(), "all-MiniLM-L6-v2", {}).transform(["a text"])
    assert seen == {"said": "the fitted encoder (fine-tuned all-MiniLM-L6-v2)", "cache": False}


def test_who_reads_the_fitted_space_is_what_the_start_line_names(corpus):
    """The start line said nothing of the classifier reading the space under --space-for all (its round-0 score
    then moves with the space before any query)."""
    from al.observers import EmbeddingDiagnostics
    from strategies.random_sampling import RandomSampling

    space = HeadSpace("cea", **FAST)
    assert simulate(corpus, space).space_readers == ["strategy", "classifier"]
    assert simulate(corpus, space, space_for="strategy").space_readers == ["strategy"]
    assert simulate(corpus, space, space_for="classifier").space_readers == ["classifier"]
    assert simulate(corpus, space, strategy=RandomSampling()).space_readers == ["classifier"]  # reads no embedding
    assert simulate(corpus, None).space_readers == []
    # --diagnostics measure in the space the strategy is handed: the fitted one, unless it serves the classifier alone
    diagnostics = [EmbeddingDiagnostics(k=5)]
    assert simulate(corpus, space, observers=diagnostics).space_readers == ["strategy", "classifier", "diagnostics"]
    assert simulate(corpus, space, space_for="strategy", observers=diagnostics).space_readers == [
        "strategy", "diagnostics"]
    assert simulate(corpus, space, space_for="classifier", observers=diagnostics).space_readers == ["classifier"]


def test_the_start_line_names_who_reads_the_space_and_how_often_it_is_fitted(tmp_path, monkeypatch, capsys):
    import al.embedders
    from al.simulate import main
    from tests.unit.test_analyze_own_data import HashEmbedder
    from tests.unit.test_grid import _csv

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    data = _csv(tmp_path / "d.csv")
    base = ["--dataset", "csv", "--data-path", str(data), "--labels", "a", "b", "--initial", "10", "--step", "5",
            "--budget", "20", "--space", "cea", "--space-param", "epochs=2"]
    said = {}
    for name, extra in (("all", []), ("strategy", ["--space-for", "strategy", "--space-every", "2"]),
                        ("diagnostics", ["--diagnostics"]), ("once", ["--space-every", "3"]),
                        ("twice", ["--space-every", "2"]),
                        ("two rounds", ["--space-for", "strategy", "--budget", "15"])):
        assert main([*base, *extra, "--strategy", "class_embedding", "--out", str(tmp_path / name)]) == 0
        said[name] = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("starting: "))
    assert "in the cea(epochs=2) space (head scope, re-fit every round, read by the strategy and the classifier) " \
        in said["all"], said
    # 3 rounds (10, 15, 20 labeled). The last queries nothing: a space the strategy alone reads is fitted at rounds
    # 0 and 1 with --space-every 1, at 0 alone with 2; one the classifier reads too, at 0 and 2 with 2, at 0 with 3
    assert "(head scope, fitted once, on round 1's labeled texts (--space-every 2 spans the run's 3 rounds: the last " \
        "queries nothing), read by the strategy alone) on " in said["strategy"], said
    assert "(head scope, fitted once, on round 1's labeled texts (--space-every 3 spans the run's 3 rounds), " \
        "read by the strategy and the classifier) on " in said["once"], said
    assert "(head scope, re-fit every 2 rounds, read by the strategy and the classifier) on " in said["twice"], said
    assert "(head scope, fitted once, on round 1's labeled texts (the run's 2 rounds: the last queries nothing), " \
        "read by the strategy alone) on " in said["two rounds"], said  # at --space-every 1 too
    assert "(head scope, re-fit every round, read by the strategy, the classifier and the diagnostics) on " \
        in said["diagnostics"], said
