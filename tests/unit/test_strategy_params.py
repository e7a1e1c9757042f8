"""Built-in strategies refuse a bad parameter value when constructed, so a run refuses it before any data loads."""
from __future__ import annotations

import math

import pytest

from al import checks
from al.config import SimulationConfig
from al.errors import ConfigError, spelled
from al.simulate import main


@pytest.mark.parametrize("value", [1, 7, True + 1])
def test_integer_passes_integers_at_the_bound_or_above(value):
    assert checks.integer("s", "k", value) == value


@pytest.mark.parametrize("value, at_least", [(0, 1), (-1, 0), (1, 2), (True, 1), (1.0, 1), ("3", 1), (None, 1)])
def test_integer_refuses_what_is_not_an_integer_or_below_the_bound(value, at_least):
    with pytest.raises(ConfigError, match=rf"^s k must be .*, got {spelled(value)}; give one such, or leave it out for its default$".replace("(", r"\(").replace(")", r"\)")):
        checks.integer("s", "k", value, at_least=at_least)


def test_integer_names_its_bound():
    with pytest.raises(ConfigError, match="must be an integer of at least 2, got 1"):
        checks.integer("bald", "n_samples", 1, at_least=2)
    with pytest.raises(ConfigError, match="must be a positive integer, got 0"):
        checks.integer("dal", "hidden", 0)


@pytest.mark.parametrize("value, low_open, high_open, ok", [
    (0.0, False, False, True), (1.0, False, False, True), (0.0, True, False, False), (1.0, False, True, False),
    (0.5, True, True, True), (-0.1, False, False, False), (1.1, False, False, False), (math.nan, False, False, False), (math.inf, False, False, False), (-math.inf, False, False, False),
    (False, False, False, False), ("0.5", False, False, False),
])
def test_number_keeps_to_its_interval(value, low_open, high_open, ok):
    if ok:
        assert checks.number("s", "t", value, 0.0, 1.0, low_open=low_open, high_open=high_open) == value
    else:
        with pytest.raises(ConfigError, match="s t must be a number in "):
            checks.number("s", "t", value, 0.0, 1.0, low_open=low_open, high_open=high_open)


def test_number_writes_its_interval_as_math_does():
    with pytest.raises(ConfigError, match=r"must be a number in \(0, 1\), got 1.5"):
        checks.number("badge", "threshold", 1.5, 0.0, 1.0, low_open=True, high_open=True)
    with pytest.raises(ConfigError, match=r"must be a number in \(0, inf\), got 0"):
        checks.number("dal", "learning_rate", 0, 0.0, float("inf"), low_open=True)
    with pytest.raises(ConfigError, match=r"must be a number in \[0, 1\], got 2"):
        checks.number("dal", "target_accuracy", 2, 0.0, 1.0)


BAD_PARAMS = [
    ("dal", {"sub_batches": -1}, "dal sub_batches must be a positive integer, got -1"),
    ("dal", {"sub_batches": "abc"}, "dal sub_batches must be a positive integer, got 'abc'"),
    ("dal", {"subsample_factor": 0}, "dal subsample_factor must be a positive integer, got 0"),
    ("dal", {"batch_size": 0}, "dal batch_size must be a positive integer, got 0"),
    ("dal", {"hidden": 0}, "dal hidden must be a positive integer, got 0"),
    ("dal", {"n_layers": -1}, "dal n_layers must be an integer of at least 0, got -1"),
    ("dal", {"max_epochs": -1}, "dal max_epochs must be an integer of at least 0, got -1"),
    ("dal", {"target_accuracy": 1.5}, r"dal target_accuracy must be a number in \[0, 1\], got 1.5"),
    ("dal", {"learning_rate": -0.1}, r"dal learning_rate must be a number in \(0, inf\), got -0.1"),
    ("cvirs", {"threshold": 5}, r"cvirs threshold must be a number in \(0, 1\), got 5"),
    ("cvirs", {"threshold": "abc"}, r"cvirs threshold must be a number in \(0, 1\), got 'abc'"),
    ("badge", {"threshold": -1}, r"badge threshold must be a number in \(0, 1\), got -1"),
    ("badge", {"max_gradient_bytes": -5}, "badge max_gradient_bytes must be an integer of at least 0, got -5"),
    ("bald", {"n_samples": 0}, "bald n_samples must be an integer of at least 2, got 0"),
    ("adaptive", {"betas": []}, r"adaptive betas must be a non-empty list of numbers in \[0, 1\], got \[\]"),
    ("adaptive", {"ties_per_beta": 0}, "adaptive ties_per_beta must be a positive integer, got 0"),
    ("adaptive", {"C": 0}, r"adaptive C must be a number in \(0, inf\), got 0"),
    ("alps", {"n_init": 0}, "alps n_init must be a positive integer, got 0"),
]


@pytest.mark.parametrize("name, params, message", BAD_PARAMS)
def test_a_bad_value_fails_while_the_settings_are_validated(name, params, message):
    config = SimulationConfig(strategy={"name": name, "params": params})
    with pytest.raises(ConfigError, match=message):
        config.validate()


@pytest.mark.parametrize("name", sorted({name for name, _, _ in BAD_PARAMS}))
def test_the_defaults_pass(name):
    classifier = "bert" if name == "bald" else "logreg"  # bald reads dropout passes
    SimulationConfig(strategy={"name": name}, classifier={"name": classifier}).validate()


def test_the_command_refuses_a_bad_value_in_one_line_before_any_data_loads_and_writes_nothing(
        tmp_path, monkeypatch, capsys):
    import al.datasets

    def no_loading(*args, **kwargs):
        raise AssertionError("data loaded before the settings were validated")

    monkeypatch.setattr(al.datasets, "load_corpus", no_loading)
    out = tmp_path / "r"
    code = main(["--strategy", "dal", "--strategy-param", "sub_batches=-1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err == ("error: dal sub_batches must be a positive integer, got -1; give one such, or leave "
                                 "it out for its default\n")
    assert not out.exists()


SPACE_AND_CLASSIFIER = [
    ({"space": {"name": "snnl", "params": {"alpha": "abc"}}}, r"space 'snnl' alpha must be a number in \(-inf, inf\)"),
    ({"space": {"name": "snnl", "params": {"alpha": float("nan")}}}, "space 'snnl' alpha must be a number"),
    ({"space": {"name": "snnl", "params": {"gamma": "abc"}}}, "space 'snnl' gamma must be a number"),
    ({"space": {"name": "snnl", "params": {"eta": -1}}}, r"space 'snnl' eta must be a number in \(0, inf\), got -1"),
    ({"space": {"name": "am", "params": {"delta": "abc"}}}, "space 'am' delta must be a number"),
    ({"space": {"name": "am", "params": {"negatives": 1}}}, "space 'am' negatives must be an integer of at least 2"),
    ({"space": {"name": "aan", "params": {"aux_weight": -1}}}, "space 'aan' aux_weight must be a number"),
    ({"space": {"name": "clld", "params": {"lam": 2}}}, r"space 'clld' lam must be a number in \[0, 1\], got 2"),
    ({"space": {"name": "clld", "params": {"confusable": "abc"}}}, "space 'clld' confusable must be an integer"),
    ({"space": {"name": "clld", "params": {"confusable": 2, "tau": "abc"}}}, "space 'clld' tau must be a number"),
    ({"space": {"name": "clld", "params": {"tau": 3}}}, "space 'clld' tau=3 is read by nothing: .* confusable is 0"),
    ({"space": {"name": "clld", "params": {"dropout": "abc"}}}, "space 'clld' dropout must be a number in"),
    ({"space": {"name": "clld", "params": {"ldm": "adaptive", "tau": 3}}}, "space 'clld' tau=3 is read by nothing"),
    ({"strategy": {"name": "dal", "params": {"learning_rate": math.inf}}},
     r"dal learning_rate must be a number in \(0, inf\), got inf"),
    ({"classifier": {"name": "bert", "params": {"aux": "clld", "aux_tau": 3}}},
     r"bert aux_tau=3 is read by nothing: CLLD puts it on the aux_confusable label pairs, and none is given"),
    ({"classifier": {"name": "bert", "params": {"aux": "am", "aux_delta": "abc"}}},
     r"bert aux_delta must be a number in \[0, inf\), got 'abc'"),
    ({"classifier": {"name": "bert", "params": {"aux_tau": 3}}},
     r"bert aux_tau is read by nothing with aux=None \(aux_tau by aux=clld\)"),
    ({"classifier": {"name": "bert", "params": {"aux": "aan", "aux_delta": 0.2}}},
     r"bert aux_delta is read by nothing with aux='aan' \(aux_delta by aux=am\)"),
    ({"classifier": {"name": "bert", "params": {"weight_decay": -1}}}, "bert weight_decay must be a number"),
    # bert's own checks say what to give, as the others do (learning_rate=0 suggested nothing; inf passed)
    *[({"classifier": {"name": "bert", "params": {"learning_rate": rate}}},
       rf"^classifier 'bert': learning_rate must be a positive number, got {shown}; give one such \(1e-4 suits "
       rf"MiniLM, 2e-5 to 5e-5 bert-base\), or leave it out for its default$")
      for rate, shown in ((0, "0"), (math.inf, "inf"), (math.nan, "nan"), (-1e-5, "-1e-05"))],
    ({"classifier": {"name": "bert", "params": {"batch_size": 0}}},
     r"^classifier 'bert': batch_size must be a positive integer, got 0; give one such, or leave it out for its "
     r"default$"),
    ({"classifier": {"name": "bert", "params": {"warmup_ratio": 1}}},
     r"warmup_ratio must lie in \[0, 1\), got 1; give one such, or leave it out for its default$"),
    ({"classifier": {"name": "bert", "params": {"pos_weight": "none"}}},
     r"pos_weight must be one of auto, null, got 'none'; give one of them, or leave it out for its default$"),
    ({"strategy": {"name": "bald"}},
     "strategy 'bald' needs a classifier with predict_proba_dropout, which classifier 'logreg' lacks; use "
     "--classifier bert, or another strategy"),
]


@pytest.mark.parametrize("settings, message", SPACE_AND_CLASSIFIER)
def test_space_classifier_and_their_pairing_are_checked_before_data_loads(settings, message):
    with pytest.raises(ConfigError, match=message):
        SimulationConfig(**settings)._validated()


@pytest.mark.parametrize("settings", [
    {"space": {"name": "clld", "params": {"confusable": 2, "tau": 3, "lam": 0.3}}},
    {"space": {"name": "clld", "params": {"ldm": "adaptive"}}},
    {"space": {"name": "am", "params": {"negatives": 2, "delta": 0.0}}},
    {"space": {"name": "snnl", "params": {"alpha": 0, "gamma": 1.5, "eta": 0.5}}},
    {"space": {"name": "snnl", "params": {"alpha": -100}}},  # seed 002's entangling setting
    {"classifier": {"name": "bert", "params": {"aux": "clld", "aux_tau": 3, "aux_confusable": [[0, 1]]}}},
    {"classifier": {"name": "bert", "params": {"aux_confusable": []}}},
    {"classifier": {"name": "bert", "params": {"aux": "am", "aux_delta": 0.2, "aux_negatives": 3}}},
    {"strategy": {"name": "bald"}, "classifier": {"name": "bert"}},
])
def test_values_in_range_and_read_pass(settings):
    SimulationConfig(**settings).validate()


def test_a_knn_k_above_the_labeled_texts_is_a_warning_that_names_the_cap():
    import numpy as np
    import scipy.sparse as sp

    from al.classifiers.knn import KNNClassifier

    X = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    Y = sp.csr_matrix(np.array([[1, 0], [0, 1]] * 3))
    with pytest.warns(UserWarning, match="knn k=50 is more than the labeled texts, so it is capped at their number"):
        classifier = KNNClassifier(k=50).fit(X, Y)
    assert classifier.k_ == 6


def test_a_data_file_of_the_other_format_or_missing_is_refused_while_the_settings_are_validated(tmp_path, monkeypatch):
    data = tmp_path / "texts.csv"
    data.write_text("text,food\n")
    with pytest.raises(ConfigError, match=r"texts.csv is a .csv file, but --dataset is 'jsonl'; .*pass --dataset csv$"):
        SimulationConfig(dataset="jsonl", data_path=str(data))._validated()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"data path no/texts.csv does not exist \(a relative path is read from the "
                                          r"current directory: looked for .*no/texts.csv\); fix --data-path"):
        SimulationConfig(dataset="csv", data_path="no/texts.csv")._validated()


def test_a_split_column_missing_from_a_csv_header_is_refused_while_the_settings_are_validated(tmp_path):
    data = tmp_path / "texts.csv"
    data.write_text("\ufefftext,food,split\na,1,train\n")
    with pytest.raises(ConfigError, match=r"texts.csv has no split column 'splt' \(did you mean split\?\); columns: "
                                          r"text, food, split; fix --split-column \(data_options split_column\)"):
        SimulationConfig(dataset="csv", data_path=str(data), data_options={"split_column": "splt"})._validated()
    for options in ({"split_column": "split"}, {}):  # named, or the default (absent: the hash split, at load)
        SimulationConfig(dataset="csv", data_path=str(data), data_options=options)._validated()
    data.write_text("text,food,Split\na,1,train\n")
    SimulationConfig(dataset="csv", data_path=str(data))._validated()
    with pytest.raises(ConfigError, match=r"has no split column 'split' \(did you mean Split\?\)"):
        SimulationConfig(dataset="csv", data_path=str(data), data_options={"split_column": "split"})._validated()


def test_a_split_column_no_object_of_a_json_lines_file_holds_is_refused_while_the_settings_are_validated(tmp_path):
    data = tmp_path / "texts.jsonl"
    data.write_text('{"text": "a", " food": 1}\n\n{"text": "b", "food": 0, "part": "test"}\n')
    with pytest.raises(ConfigError, match=r"texts.jsonl has no split column 'prat' \(did you mean part\?\); columns: "
                                          r"text, food, part; fix --split-column \(data_options split_column\)"):
        SimulationConfig(dataset="jsonl", data_path=str(data), data_options={"split_column": "prat"})._validated()
    # held by an object after the first: taken (the load reads it); a line that is no JSON: the load says so
    SimulationConfig(dataset="jsonl", data_path=str(data), data_options={"split_column": "part"})._validated()
    data.write_text('{"text": "a"}\n{not json\n')
    SimulationConfig(dataset="jsonl", data_path=str(data), data_options={"split_column": "prat"})._validated()


def test_a_split_column_misspelt_is_not_taken_for_a_label_column_of_a_near_name(tmp_path):
    """--split-column fold on a file of labels food, water: "(did you mean food?)", a label column."""
    data = tmp_path / "texts.csv"
    data.write_text("text,food,water\na,1,0\n")
    with pytest.raises(ConfigError, match=r"texts.csv has no split column 'fold'; columns: text, food, water; fix"):
        SimulationConfig(dataset="csv", data_path=str(data), data_options={"split_column": "fold"}).validate()
