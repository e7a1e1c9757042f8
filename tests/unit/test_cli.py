"""``python -m al.simulate``: bad input gets one clear line, exit code 2, nothing written."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from al.errors import ConfigError
from al.simulate import build_parser, config_from_args, main, parse_params


@pytest.fixture
def empty_text_csv(tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text("text,a,b\nfine,1,0\n   ,0,1\n")
    return path


BAD_INPUTS = {
    "unknown strategy": (["--strategy", "cvris"], "unknown strategy 'cvris' (did you mean cvirs?); known: "),
    "unknown dataset": (["--dataset", "imdb"], "unknown dataset 'imdb'; known: csv, disaster, jsonl, reuters"),
    "misspelt dataset": (["--dataset", "reuter"], "unknown dataset 'reuter' (did you mean reuters?); known: "),
    "a file as dataset": (["--dataset", "my/texts.tsv"], "unknown dataset 'my/texts.tsv'; known: csv, disaster, "
                          "jsonl, reuters; for a file of your own give --dataset csv --data-path my/texts.tsv"),
    "a format as dataset": (["--dataset", "tsv"], "unknown dataset 'tsv'; known: csv, disaster, jsonl, reuters; a .tsv "
                            "file is read by --dataset csv"),
    "json as dataset": (["--dataset", "json"], "unknown dataset 'json' (did you mean jsonl?); known: csv, disaster, "
                        "jsonl, reuters; a .json file is read by --dataset jsonl"),
    "unknown model": (["--model", "no-such-model-xyz"], "model 'no-such-model-xyz' is not installed locally"),
    "missing model dir": (["--model", "./no/such/dir"], "model path ./no/such/dir does not exist"),
    "unknown classifier": (["--classifier", "svm"], "unknown classifier 'svm'; known: bert, knn, logreg"),
    "misspelt classifier": (["--classifier", "knnn"], "unknown classifier 'knnn' (did you mean knn?); known: "),
    "budget not above initial": (["--budget", "100"], "budget (100) must be larger than the initial labeled set (100)"),
    "step zero": (["--step", "0"], "step (--step) must be a positive integer (a number of texts), got 0; give "
                                   "--step 50, say, its default"),
    "step negative": (["--step", "-5"], "step (--step) must be a positive integer (a number of texts), got -5"),
    "initial larger than pool": (
        ["--pool-size", "50", "--initial", "60", "--budget", "100"],
        "initial labeled set (60) is larger than the pool (50 texts); lower --initial to at most 49 and --budget to "
        "at most 50, or raise --pool-size (leave it out for the whole pool)",
    ),
    "budget larger than the whole pool": (
        ["--budget", "20000"],
        "budget (20000) is larger than the pool (11572 texts); lower --budget to at most 11572, or give data whose "
        "pool holds more texts (the pool is the texts of the train split that carry a kept label)",
    ),
    "labels absent": (["--labels", "food", "unicorns"], "label(s) 'unicorns' not in corpus 'disaster'"),
    "missing data path": (["--dataset", "reuters", "--data-path", "/no/such/reuters.tar.gz"], "does not exist"),
    "reuters without a path": (["--dataset", "reuters"], "needs --data-path"),
    "bad strategy param": (["--strategy-param", "nokey"], "expects KEY=VALUE"),
    "strategy rejects param": (["--strategy", "random", "--strategy-param", "k=1"],
                               "strategy 'random' has no parameter 'k'; accepted: none"),
    "misspelled strategy param": (["--strategy", "dal", "--strategy-param", "sub_batchs=5"],
                                  "strategy 'dal' has no parameter 'sub_batchs' (did you mean sub_batches?); "
                                  "accepted: "),
    "misspelled classifier param": (["--classifier-param", "treshold=dev"],
                                    "classifier 'logreg' has no parameter 'treshold' (did you mean threshold?); "
                                    "accepted: C, class_weight, "),
    "bert-only param on logreg": (["--classifier-param", "max_epochs=3"], "classifier 'logreg' has no parameter"),
    "logreg C not a number": (["--classifier-param", "C=abc"], "C must be a positive number, got 'abc'"),
    "logreg C negative": (["--classifier-param", "C=-1"], "C must be a positive number, got -1"),
    "logreg threshold misspelt": (["--classifier-param", "threshold=dve"], "threshold must be a number in (0, 1], 'fixed' (0.5) or 'dev' (per label, tuned on the dev split), got 'dve' (did you mean dev?)"),
    "bert choice written as Python's None": (["--classifier", "bert", "--classifier-param", "pos_weight=none"],
                                             "pos_weight must be one of auto, null, got 'none'"),
    "logreg class weight misspelt": (["--classifier-param", "class_weight=balnced"],
                                     "class_weight must be balanced, null (none) or per class such as {0: 1, 1: 5}"),
    "misspelled knn param": (["--classifier", "knn", "--classifier-param", "wieghts=similarity"],
                             "classifier 'knn' has no parameter 'wieghts' (did you mean weights?); accepted: k, "
                             "threshold, warm_start, weights"),
    "seed as a classifier param": (["--classifier-param", "seed=3"], "seed is set by the run"),
    "a classifier's own refusal names it": (["--classifier", "knn", "--classifier-param", "k=0"],
                                            "error: classifier 'knn': k must be a positive integer or 'dev', got 0"),
    "a refusal that names its classifier is not named twice": (["--classifier-param", "C=-1"],
                                                                "error: logreg C must be a positive number, got -1"),
    "a refusal that names its space is not named twice": (["--space", "cea", "--space-param", "epochs=0"],
                                                           "error: space 'cea' epochs must be a positive integer"),
    "precision as a strategy param": (["--strategy", "alps", "--strategy-param", "precision=bf16"],
                                      "precision is set by the run's embed_precision (--embed-precision)"),
    "bad classifier param": (["--classifier-param", "C"], "--classifier-param expects KEY=VALUE"),
    "threads zero": (["--threads", "0"], "threads (--threads) must be a positive integer (or left out: the process's own), got 0"),
    "label descriptions a directory": (["--initial-strategy", "label_names", "--label-descriptions", "."],
                                       "label descriptions file . is a directory; give a YAML file"),
    "label descriptions not there": (["--initial-strategy", "label_names", "--label-descriptions", "sub/d.yaml"],
                                     "label descriptions file sub/d.yaml does not exist (a relative path is read from "
                                     "the current directory: looked for "),
    "space param of the other scope": (["--space", "clld", "--space-scope", "encoder", "--space-param", "ldm=adaptive"],
                                       "space 'clld' has no parameter 'ldm' (it belongs to the head scope: "
                                       "--space-scope head); accepted: amp, batch_size, epochs, lam, learning_rate, "
                                       "max_length, model, positive"),
    "another objective's param not offered": (["--space", "cea", "--space-param", "foo=1"],
                                              "space 'cea' has no parameter 'foo'; accepted: batch_size, dim, dropout, "
                                              "epochs, hidden, learning_rate, positive"),
    "encoder space's model path missing": (["--space", "cea", "--space-scope", "encoder", "--space-param",
                                            "model=./no/such/model"],
                                           "space 'cea' (encoder scope) param model: model path ./no/such/model "
                                           "does not exist"),
    "pool size above the pool": (["--pool-size", "99999999", "--budget", "150"],
                                 "--pool-size 99999999 is larger than the pool of disaster (11572 texts); give at most "
                                 "11572, or leave --pool-size out"),
}


#: Settings refused before any data loads: out of range, or given together where one would be ignored.
REFUSED_BEFORE_DATA = {
    "seed of more than 32 bits": (["--seed", "1180591620717411303424", "--initial-strategy", "kmeans"],
                                  "seed (--seed) must be an integer from 0 to 4294967295 (numpy and scikit-learn take 32-bit "
                                  "seeds), got 1180591620717411303424"),
    "negative count": (["--frequent", "-1"], "n_frequent (--frequent) must be a non-negative integer, got -1; give 0 "
                                              "or more"),
    "descriptions of a random start": (["--label-descriptions", "x.yaml"], "label_descriptions is read by "
                                       "--initial-strategy label_names only; got initial_strategy 'random': add "
                                       "--initial-strategy label_names, or remove --label-descriptions"),
    "space every 0": (["--space", "cea", "--space-every", "0"], "space_every (--space-every) must be a positive "
                      "integer, got 0; give 1 to fit the space every round, or N for every N rounds"),
    "labels and frequent": (["--labels", "food", "water", "--frequent", "3"],
                            "labels ['food', 'water'] and n_frequent (--frequent) both choose the labels"),
    "threshold twice": (["--threshold", "dev", "--classifier-param", "threshold=fixed"],
                        "--threshold dev and --classifier-param threshold=fixed both set the classifier's threshold; "
                        "give one of them"),
    "deprecated flag and its param": (["--classifier", "bert", "--epochs", "3", "--classifier-param", "max_epochs=5"],
                                      "--epochs 3 and --classifier-param max_epochs=5 both set"),
    "space scope without a space": (["--space-scope", "encoder"],
                                    "space_scope (--space-scope) is read only with a fitted space, but the space is "
                                    "pretrained; add --space NAME"),
    "space every without a space": (["--space-every", "3"], "space_every (--space-every) is read only with a fitted"),
    "space params without a space": (["--space-param", "epochs=3"],
                                     "space params (--space-param) are read only with a fitted space, but the space is "
                                     "pretrained; add --space NAME (cea, snnl, aan, am, clld) or drop them"),
    # YAML 1.2: "no" and "off" are text, and a true/false param given text is refused, not read as truthy
    "strategy bool param given no": (["--strategy", "dal", "--strategy-param", "warm_start=no"],
                                     "strategy 'dal' param warm_start must be true or false, got 'no'; write true"),
    "classifier bool param given off": (["--classifier", "bert", "--classifier-param", "warm_start=off"],
                                        "classifier 'bert' param warm_start must be true or false, got 'off'"),
    # the adapters' params are their library's: a bool default there takes true or false alone too
    "modAL bool param given no": (["--strategy", "modal:margin_sampling", "--strategy-param", "random_tie_break=no"],
                                  "strategy 'modal:margin_sampling' param random_tie_break must be true or false, "
                                  "got 'no'"),
    "small-text bool param given off": (["--strategy", "smalltext:EmbeddingKMeans", "--strategy-param", "normalize=off"],
                                        "strategy 'smalltext:EmbeddingKMeans' param normalize must be true or false"),
}


@pytest.mark.parametrize("argv, message", REFUSED_BEFORE_DATA.values(), ids=REFUSED_BEFORE_DATA.keys())
def test_an_ignored_or_impossible_setting_is_refused_before_data_loads(argv, message, tmp_path, monkeypatch, capsys):
    import al.datasets

    monkeypatch.setattr(al.datasets, "load_corpus", lambda *a, **k: pytest.fail("data loaded"))
    assert main([*argv, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    code = main([*argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1, err  # one line, no traceback
    assert not out.exists()  # nothing half-written


def test_an_empty_out_is_named_as_empty(capsys):
    assert main(["--out", ""]) == 2
    assert capsys.readouterr().err == ("error: out (--out) must name a path such as runs/my-run, got an empty one "
                                       "(''); give a path, or leave it out for the default\n")


@pytest.mark.parametrize("command, flag", [("al.report", "-o"), ("al.analyze", "--out")])
def test_an_empty_output_folder_is_named_as_empty_not_taken_for_the_working_directory(tmp_path, capsys, monkeypatch,
                                                                                      command, flag):
    """Path("") is ".": al.report -o '' said '-o . holds files no report wrote (...)'."""
    import importlib

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    argv = [str(tmp_path), flag, ""] if command == "al.report" else [flag, ""]
    assert importlib.import_module(command).main(argv) == 2
    assert capsys.readouterr().err == f"error: {flag} is empty; give the path of a directory to write into\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("given, shown", [("model=", "null"), ("model=''", "''"), ("model=null", "null")])
def test_an_empty_bert_model_is_refused_before_the_data_loads(tmp_path, capsys, given, shown):
    """model= (YAML's null) failed after the start line with a traceback from resolve_model, leaving config.json."""
    assert main(["--classifier", "bert", "--classifier-param", given, "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (f"error: classifier 'bert': model must name the encoder to fine-tune, a hub "
                                       f"name or a local folder, got {shown}; leave it out to fine-tune the run's "
                                       f"--model\n")
    assert not (tmp_path / "run").exists()


def test_a_deprecated_bert_flag_given_to_another_classifier_says_whose_it_is(tmp_path, capsys):
    assert main(["--batch-size", "16", "--out", str(tmp_path / "run")]) == 2
    warning, error = capsys.readouterr().err.splitlines()
    assert warning == "warning: --batch-size is deprecated; use --classifier-param batch_size=16"
    assert error == ("error: classifier 'logreg' has no parameter 'batch_size'; accepted: C, class_weight, max_iter, "
                     "threshold (--batch-size sets the bert classifier's batch_size; leave it out)")


def test_empty_texts(empty_text_csv, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["--dataset", "csv", "--data-path", str(empty_text_csv), "--labels", "a", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "line 3: empty text in column 'text'" in err and err.count("\n") == 1
    assert not out.exists()


def test_no_traceback_from_a_real_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "al.simulate", "--budget", "50", "--out", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == "error: budget (50) must be larger than the initial labeled set (100): " \
                            "the budget is the labeled-set size at the end; raise --budget or lower --initial\n"
    assert result.stdout == ""


def test_a_warning_of_a_command_is_one_line(tmp_path):
    """A column left out of the labels is said in one line, as errors are: no source line, no warning class."""
    path = tmp_path / "texts.csv"
    rows = [f"text number {i},{i % 2},{(i + 1) % 2},{5 if i == 10 else i % 2}" for i in range(60)]
    path.write_text("text,food,water,retweets\n" + "\n".join(rows) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "al.simulate", "--dataset", "csv", "--data-path", str(path), "--labels", "food",
         "water", "--describe"],
        capture_output=True, text=True, timeout=120,
    )  # 60 texts are too few for the labels to be measured: an error follows the warning
    warned = [line for line in result.stderr.splitlines() if "retweets" in line]
    assert warned == [f"warning: {path} line 12: column 'retweets' holds 5 where its other 59 filled cells are 0 or 1 "
                      f"(1 such cell(s)), so it is not read as a label column; if it is one, fix the cell, or name "
                      f"the label columns with --label-columns"]
    assert "UserWarning" not in result.stderr and "warnings.warn" not in result.stderr


def test_a_misspelt_parameter_is_never_guessed_as_one_that_is_refused():
    """'objectiv' was answered 'did you mean objective?', and objective is refused as a space parameter."""
    from al.config import SimulationConfig
    from al.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        SimulationConfig(space={"name": "cea", "params": {"objectiv": "x"}}).validate()
    err = str(refused.value)
    assert "space 'cea' has no parameter 'objectiv'; accepted: " in err and "did you mean" not in err


def test_a_librarys_arithmetic_warning_names_where_it_arose_and_al_s_own_do_not():
    from al.cli import one_line_warning

    import sklearn.metrics

    from al import report

    assert one_line_warning("divide by zero encountered in divide", RuntimeWarning, report.__file__, 12) == \
        "warning: divide by zero encountered in divide (at al/report.py:12)\n"
    ranking = sklearn.metrics._ranking.__file__  # a library's, named from its package as a report needs it
    assert one_line_warning("invalid value encountered in scalar divide", RuntimeWarning, ranking, 3).endswith(
        " (at sklearn/metrics/_ranking.py:3)\n")
    from al import device
    from strategies import alps

    assert one_line_warning("bf16 is\nslow here", RuntimeWarning, device.__file__, 9) == \
        "warning: bf16 is slow here\n"
    assert one_line_warning("data encountered in divide", UserWarning, report.__file__, 1) == \
        "warning: data encountered in divide\n"
    assert one_line_warning("fit_steps is small", UserWarning, alps.__file__, 5) == "warning: fit_steps is small\n"
    # a user's own warning says where, as an error of theirs does
    assert one_line_warning("no label\nseen", UserWarning, "/home/me/mine.py", 7) == \
        "warning: no label seen (at /home/me/mine.py:7)\n"


def test_numpy_s_warning_names_the_line_of_the_user_s_code_that_met_it():
    """A strategy's mean over no texts said "warning: Mean of empty slice" alone, its next warning numpy's own line."""
    import inspect

    import numpy as np

    from al.cli import _shown_once, one_line_warning

    shown = []
    show = _shown_once(lambda message, category, filename, lineno, *rest: shown.append((filename, lineno)))
    numpy_file = np.__file__  # a library's line, as numpy's warnings give it
    show("Mean of empty slice", RuntimeWarning, numpy_file, 134); line = inspect.currentframe().f_lineno  # noqa: E702
    show("a user's own warning", UserWarning, numpy_file, 7)  # not an arithmetic one: where it says
    from al import engine

    # al's own RuntimeWarning (a classifier's constant guess) stays al's: it was placed in the user's calling line
    show("round 1: the classifier predicted no label", RuntimeWarning, engine.__file__, 9)
    assert shown == [(__file__, line), (numpy_file, 7), (engine.__file__, 9)]
    assert one_line_warning("Mean of empty slice", RuntimeWarning, "/u/mine.py", 3) == \
        "warning: Mean of empty slice (at /u/mine.py:3)\n"
    assert one_line_warning("Degrees of freedom <= 0 for slice", RuntimeWarning, "/u/mine.py", 4).endswith("4)\n")


def test_characters_the_figures_font_lacks_are_one_line_however_many_and_however_often():
    """A label 配送 drew two matplotlib warnings a figure, for each figure: ten lines for one fact."""
    import io
    import warnings

    from matplotlib.figure import Figure

    from al.cli import _shown_once

    caught = []
    for _ in range(2):  # two figures
        fig = Figure()
        fig.subplots().set_title("配送 café")
        with warnings.catch_warnings(record=True) as each:
            warnings.simplefilter("always")
            fig.savefig(io.BytesIO(), format="png")
        caught += [w for w in each if "missing from font" in str(w.message)]
    if len(caught) < 4:
        pytest.skip("this machine's matplotlib font has these characters")
    shown = []
    show = _shown_once(lambda message, category, filename, lineno, *rest: shown.append(str(message)))
    for w in caught:
        show(w.message, w.category, w.filename, w.lineno)
    show("another warning", UserWarning, "x.py", 1)
    assert shown == ["the figures' font (DejaVu Sans) lacks some characters of the names drawn ('配' first): they are "
                     "drawn as empty boxes, and nothing else changes; a font that has them, set as matplotlib's "
                     "font.family (matplotlibrc), draws them", "another warning"]


def test_help_documents_every_option():
    text = build_parser().format_help()
    for flag in ["--dataset", "--data-path", "--labels", "--model", "--classifier", "--initial", "--step",
                 "--budget", "--seed", "--out", "--device", "--strategy", "--config", "--describe"]:
        assert flag in text


def config_of(argv):
    return config_from_args(build_parser().parse_args(argv))


def test_a_bad_value_a_settings_file_gives_is_said_with_the_file_s_name(tmp_path, capsys):
    """step: 0 in sim.yaml said "error: step must be ..." where an unknown key said "sim.yaml: unknown setting"."""
    path = tmp_path / "sim.yaml"
    path.write_text("step: 0\nbudget: 200\n")
    assert main(["--config", str(path), "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == (f"error: {path}: step must be a positive integer (a number of texts), got 0; "
                                       f"give step: 50, say, its default\n")
    assert main(["--config", str(path), "--step", "0", "--out", str(tmp_path / "r")]) == 2  # the flag's value
    assert capsys.readouterr().err.startswith("error: step (--step) must be a positive integer")


def test_a_settings_file_listing_several_strategies_is_pointed_to_a_grid(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("strategy: [random, cvirs]\n")
    with pytest.raises(ConfigError, match=r"got \['random', 'cvirs'\]; a simulation runs one strategy: to compare "
                                          r"several, list them in a grid file's axis \(grid: \{strategy: \[random, "
                                          r"cvirs\]\}\) and run python -m al.grid$"):
        config_of(["--config", str(path)])


def test_yaml_config_and_flag_override(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("strategy: random\nbudget: 300\nlabels: [food, water]\n")
    config = config_of(["--config", str(path), "--budget", "400"])
    assert (config.strategy.name, config.budget, config.labels) == ("random", 400, ("food", "water"))


def test_flags_equal_to_their_defaults_still_override_the_file(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("budget: 1000\nstrategy: cvirs\nseed: 4\nclassifier: {name: logreg, params: {threshold: dev}}\n")
    config = config_of(["--config", str(path), "--budget", "600", "--strategy", "class_embedding", "--seed", "0",
                        "--threshold", "fixed"])
    assert (config.budget, config.strategy.name, config.seed) == (600, "class_embedding", 0)
    assert config.classifier.params == {"threshold": "fixed"}
    untouched = config_of(["--config", str(path)])  # no flag: the file's values
    assert (untouched.budget, untouched.strategy.name, untouched.seed) == (1000, "cvirs", 4)


def test_defaults_live_in_the_config_dataclass_alone():
    from al.config import SimulationConfig

    assert config_of([]) == SimulationConfig()
    assert vars(build_parser().parse_args([])) == {}  # no flag carries a default of its own


def test_yaml_no_and_yes_are_text_true_and_false_are_booleans(tmp_path):
    """``mixed_precision=no`` is the documented choice "no", from a flag and from a file (YAML 1.1 read it as False)."""
    config = config_of(["--classifier", "bert", "--classifier-param", "mixed_precision=no",
                        "--classifier-param", "warm_start=true", "--strategy", "dal",
                        "--strategy-param", "warm_start=False"])
    assert config.classifier.params == {"mixed_precision": "no", "warm_start": True}
    assert config.strategy.params == {"warm_start": False}
    config.make_classifier_factory()(0)._check_params()  # "no" is one of bert's choices
    path = tmp_path / "sim.yaml"
    path.write_text("classifier: {name: bert, params: {mixed_precision: no}}\nlabels: [yes, no, on, off]\n"
                    "stopping: FALSE\n")
    config = config_of(["--config", str(path)])
    assert config.classifier.params == {"mixed_precision": "no"}
    assert config.labels == ("yes", "no", "on", "off") and config.stopping is False


def test_yaml_integers_are_read_as_yaml_1_2_reads_them(tmp_path):
    """``k=010`` is ten, not YAML 1.1's octal 8; ``1:30`` is text, not 1.1's sexagesimal 90."""
    config = config_of(["--strategy", "cvirs", "--strategy-param", "k=010"])
    assert config.strategy.params == {"k": 10}
    assert parse_params(["a=1_000", "b=0x1f", "c=-012", "d=1:30", "e=0b11", "f=1:30.5", "g=2e-5", "h=.5"],
                        "--strategy-param") == \
        {"a": 1000, "b": 31, "c": -12, "d": "1:30", "e": "0b11", "f": "1:30.5", "g": 2e-5, "h": 0.5}
    path = tmp_path / "sim.yaml"
    path.write_text("budget: 0600\nseed: 010\n")
    config = config_of(["--config", str(path)])
    assert (config.budget, config.seed) == (600, 10)
    path.write_text("budget: 600\nseed: !!int abc\n")  # a tag on no integer: the file's error, not a ValueError
    with pytest.raises(ConfigError, match=r"is not valid YAML at line 2, column 7: !!int 'abc' is no integer"):
        config_of(["--config", str(path)])


def test_nested_components_from_yaml_and_flags(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("strategy: {name: dal, params: {sub_batches: 5}}\n"
                    "classifier: {name: bert, params: {max_epochs: 2, max_length: 64}}\n")
    config = config_of(["--config", str(path), "--strategy-param", "subsample_factor=3",
                        "--classifier-param", "learning_rate=2e-5"])
    assert config.strategy.to_dict() == {"name": "dal", "params": {"sub_batches": 5, "subsample_factor": 3}}
    assert config.classifier.params == {"max_epochs": 2, "max_length": 64, "learning_rate": 2e-5}
    # another strategy on the command line drops the file's params for the old one
    assert config_of(["--config", str(path), "--strategy", "random"]).strategy.to_dict() == \
        {"name": "random", "params": {}}


def test_unknown_parameters_fail_before_any_data_loads(tmp_path, monkeypatch, capsys):
    import al.datasets

    def no_loading(*args, **kwargs):
        raise AssertionError("data loaded before the settings were validated")

    monkeypatch.setattr(al.datasets, "load_corpus", no_loading)
    code = main(["--strategy", "cvirs", "--strategy-param", "treshold=0.4", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "strategy 'cvirs' has no parameter 'treshold' (did you mean threshold?); accepted: " in err
    assert err.count("\n") == 1 and not (tmp_path / "r").exists()


def test_flat_settings_of_earlier_versions_are_mapped_with_one_deprecation_line(tmp_path, capsys):
    path = tmp_path / "old.yaml"
    path.write_text("strategy: dal\nstrategy_params: {sub_batches: 5}\nclassifier: bert\nepochs: 3\n"
                    "threshold: dev\nwarm_start: true\nclassifier_model: all-MiniLM-L6-v2\n")
    notes = []
    config = config_from_args(build_parser().parse_args(["--config", str(path), "--max-length", "64"]), notes)
    assert config.strategy.params == {"sub_batches": 5}
    assert config.classifier.to_dict() == {"name": "bert", "params": {
        "max_epochs": 3, "threshold": "dev", "warm_start": True, "model": "all-MiniLM-L6-v2", "max_length": 64}}
    assert len(notes) == 3  # strategy_params, the flat classifier keys, the old flag: one line each
    assert "write strategy: {name: dal, params: {sub_batches: 5}}" in notes[0]
    assert "write classifier: {name: bert, params: {" in notes[1] and '"max_epochs": 3' not in notes[1]
    assert "--max-length is deprecated; use --classifier-param max_length=64" in notes[2]


def test_a_flag_naming_another_component_says_the_files_params_are_not_read(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("classifier: {name: logreg, params: {C: 0.5}}\nstrategy: {name: cvirs, params: {threshold: 0.4}}\n")
    notes = []
    config = config_from_args(build_parser().parse_args(["--config", str(path), "--classifier", "knn"]), notes)
    assert config.classifier.name == "knn" and "C" not in config.classifier.params
    assert notes == [f"--classifier knn replaces {path}'s classifier logreg, so its params (C=0.5) are not read; "
                     "give --classifier-param KEY=VALUE for knn's own"]
    notes = []  # the same name keeps the file's params, a component without params loses nothing: no note
    config = config_from_args(build_parser().parse_args(["--config", str(path), "--classifier", "logreg",
                                                         "--strategy", "cvirs"]), notes)
    assert config.classifier.params["C"] == 0.5 and config.strategy.params == {"threshold": 0.4} and notes == []
    from al.config import SimulationConfig, default_params

    # a run's config.json gives every param: only those set otherwise are named (502 characters of defaults before)
    every = {**default_params(SimulationConfig(classifier="bert").classifier_class()), "max_epochs": 3}
    path.write_text(json.dumps({"classifier": {"name": "bert", "params": every}}))
    notes = []
    config_from_args(build_parser().parse_args(["--config", str(path), "--classifier", "logreg"]), notes)
    assert notes == [f"--classifier logreg replaces {path}'s classifier bert, so its params (max_epochs=3) are not "
                     "read; give --classifier-param KEY=VALUE for logreg's own"]
    path.write_text(json.dumps({"classifier": {"name": "bert", "params": {**every, "max_epochs": 15}}}))
    notes = []  # all at their defaults: nothing the file set is lost
    config_from_args(build_parser().parse_args(["--config", str(path), "--classifier", "logreg"]), notes)
    assert notes == []


def test_on_off_flags_undo_a_config_files_choice(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("diagnostics: true\nstopping: false\n")

    def read(*flags):
        config = config_from_args(build_parser().parse_args(["--config", str(path), *flags]))
        return config.diagnostics, config.stopping

    assert read() == (True, False)
    assert read("--no-diagnostics", "--stopping") == (False, True)
    assert read("--diagnostics", "--no-stopping") == (True, False)
    assert not vars(build_parser().parse_args([]))  # neither given: the file's choice stands


def test_bad_yaml_files(tmp_path, capsys):
    path = tmp_path / "sim.yaml"
    for text, message in [
        ("strategy: random\nbugdet: 300\n", "unknown setting(s) 'bugdet' (did you mean budget?)"),
        ("strategy: [random\nbudget: 3\n", "is not valid YAML at line"),
        ("- random\n- cvirs\n", "must hold a mapping of settings, got list; expected a YAML file of settings, "
                                "written as key: value lines (budget: 600), not a list of - items"),
        ("random\n", "must hold a mapping of settings, got str; expected a YAML file of settings, written as key: "
                     "value lines (budget: 600), not one str value"),
        ("strategy: {name: random, parms: {}}\n", "strategy must be a name or a mapping {name: ..., params: {...}}"),
        ("out: runs/g\nsettings: {budget: 300}\ngrid: {strategy: [random]}\n",
         f"{path} is a grid file (it has settings and grid), not one simulation's settings; run it with "
         f"python -m al.grid {path}"),
    ]:
        path.write_text(text)
        assert main(["--config", str(path), "--out", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_describe_prints_the_corpus(capsys):
    assert main(["--describe"]) == 0
    out = capsys.readouterr().out
    assert "corpus disaster" in out and "label cardinality" in out
    # the Disaster Response CSV: 26,246 messages, 35 categories; the 10 kept ones leave these out
    assert out.rstrip().splitlines()[-1] == "repeated: 45 texts repeat an earlier text (kept: duplicates are data)"
    # why each label is left out: the pick, the eligibility rule, or no text at all (PII and child_alone)
    assert out.rstrip().splitlines()[-2] == (
        "left out: 11,669 of 26,246 texts, which carry none of the 10 kept labels (6,317 carry no label at all); 27 "
        "of 37 labels (eligible, not among the 5 most and 5 least frequent: food, earthquake, storm, shelter, floods, "
        "medical_help, infrastructure_related, water, other_weather, buildings, medical_products, transport and 9 "
        "more; under the rule of >= 20 pool texts, >= 10 dev and >= 10 test texts and at most 50% of the 21,045 pool "
        "texts before the label reduction: related, tools, shops, offer; on no text: PII, child_alone)")


def test_describe_of_a_file_whose_labels_cannot_be_picked_prints_every_label_then_why(tmp_path, capsys):
    """A new file of 2 labels under 5 + 5 given: --describe, where a user looks up the counts to pick labels by,
    was the eligibility error alone. Under the default 5 + 5, not given, the file keeps both labels, said."""
    data = tmp_path / "d.csv"
    rows = ["text,a,b,split"] + [f"pool {i},{int(i < 30)},{int(i % 3 == 0)},train" for i in range(60)]
    rows += [f"{split} {i},{int(i < 10)},{int(i % 2)},{split}" for split in ("dev", "test") for i in range(20)]
    data.write_text("\n".join(rows) + "\n")
    assert main(["--dataset", "csv", "--data-path", str(data), "--describe", "--frequent", "5"]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("corpus d: 100 texts, 2 labels") and "  a          30      10      10" in captured.out
    assert captured.out.endswith("(every label of the corpus, before the label reduction, which failed:)\n")
    assert captured.err.startswith("error: corpus 'd' has 2 labels with >= 20 pool texts") and \
        "(--frequent 1 --rare 1 keeps all 2)" in captured.err and captured.err.count("\n") == 1
    settings = tmp_path / "run.yaml"  # a settings file's counts are given too
    settings.write_text(f"dataset: csv\ndata_path: {data}\nn_rare: 5\n")
    assert main(["--config", str(settings), "--describe"]) == 2
    assert "but 5 frequent + 5 rare = 10 were asked for" in capsys.readouterr().err
    # a misspelt label: its error lists the labels there are, and the table of every label was noise above it
    assert main(["--dataset", "csv", "--data-path", str(data), "--describe", "--labels", "a", "bb"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: label(s) 'bb' not in corpus 'd'")
    settings.write_text(f"dataset: csv\ndata_path: {data}\nlabels: []\nmodel: no-such-model\n")  # named none
    assert main(["--config", str(settings), "--describe"]) == 0  # and the model is no data setting: not looked for
    assert "keeping all 2" in capsys.readouterr().err
    for given in ([], ["--frequent", "1", "--rare", "1"]):
        assert main(["--dataset", "csv", "--data-path", str(data), "--describe", *given]) == 0
        captured = capsys.readouterr()
        assert captured.out.startswith("corpus d: 70 texts, 2 labels") and "label reduction" not in captured.out
        assert captured.err == ("" if given else "note: d.csv has 2 eligible labels, fewer than the default 5 frequent "
                                "+ 5 rare: keeping all 2 (1 frequent + 1 rare, as --frequent 1 --rare 1); --labels or "
                                "--frequent/--rare pick others\n")


def test_describe_refuses_flags_it_would_not_read_and_takes_a_settings_file_whole(tmp_path, capsys):
    assert main(["--describe", "--strategy", "dal", "--budget", "300"]) == 2
    assert capsys.readouterr().err == ("error: --describe prints the corpus and reads only the data settings, not "
                                       "--strategy, --budget; leave them out, or run without --describe\n")
    # space params without a space: said to be unread by --describe, where the advice was to add --space NAME
    assert main(["--describe", "--space-param", "epochs=3"]) == 2
    assert capsys.readouterr().err == ("error: --describe prints the corpus and reads only the data settings, not "
                                       "--space-param; leave it out, or run without --describe\n")
    settings = tmp_path / "run.yaml"  # a run's settings file: its strategy and budget are the run's, not refused
    settings.write_text("strategy: dal\nbudget: 300\npool_size: 2000\n")
    assert main(["--config", str(settings), "--describe"]) == 0
    assert "; --pool-size keeps 2,000 pool texts\n" in capsys.readouterr().out


def test_list_strategies(capsys, monkeypatch):
    """Each strategy with the params --strategy-param takes, at their defaults (the run's own, seed..., left out)."""
    import al.progress

    beats = []  # the list takes seconds (small-text's and modAL's imports) and said nothing meanwhile
    real = al.progress.heartbeat
    monkeypatch.setattr(al.progress, "heartbeat", lambda desc, *times: beats.append((desc, times)) or real(desc, *times))
    assert main(["--list-strategies"]) == 0
    assert beats == [("listing the strategies (small-text's and modAL's take seconds to import)", (2.0, 5.0))]
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert {"random", "class_embedding", "smalltext:*"} <= set(lines)
    assert lines["random"] == "random"
    assert " sub_batches=10 " in lines["dal"] and "warm_start=false" in lines["dal"] and "seed" not in lines["dal"]
    assert " fit_steps=250 " in lines["alps"] and "surprisal" not in lines["alps"]  # a function: Python only
    assert lines["smalltext:*"].endswith("smalltext:NAME names one of its strategies, each below with its params")
    members = [name for name in lines if name.startswith("smalltext:") and name != "smalltext:*"]
    assert members == ["smalltext:RandomSampling", "smalltext:LeastConfidence", "smalltext:PredictionEntropy",
                       "smalltext:BreakingTies", "smalltext:CategoryVectorInconsistencyAndRanking",
                       "smalltext:EmbeddingKMeans", "smalltext:GreedyCoreset", "smalltext:LightweightCoreset",
                       "smalltext:ContrastiveActiveLearning", "smalltext:DiscriminativeActiveLearning"]
    # each member with the params --strategy-param takes, at the library's defaults
    assert lines["smalltext:DiscriminativeActiveLearning"].split()[1:] == ["num_iterations=1", "unlabeled_factor=10"]
    assert lines["smalltext:RandomSampling"] == "  smalltext:RandomSampling"
    assert lines["modal:margin_sampling"].split()[1:] == ["random_tie_break=false"]
    # a param a function or a name may fill is shown at its named default; one only a function fills is not
    assert lines["modal:uncertainty_batch_sampling"].split()[1:] == ['metric="euclidean"', "n_jobs=null"]
    assert "surprisal" not in lines["alps"]
    assert lines["modal:max_score"].split()[1:] == ["random_tie_break=true"]  # modAL's `bool = 1`, as it is given


def test_embed_precision_from_a_flag_or_a_file_and_a_bad_one_in_one_line(tmp_path, capsys):
    assert config_of([]).embed_precision == "fp32"
    assert config_of(["--embed-precision", "bf16"]).embed_precision == "bf16"
    path = tmp_path / "sim.yaml"
    path.write_text("embed_precision: bf17\n")
    code = main(["--config", str(path), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: {path}: embed_precision must be one of fp32, bf16, got 'bf17'\n"


def test_a_run_from_before_embed_precision_resumes_in_fp32_and_refuses_bf16(tmp_path):
    from al.records import RunRecords
    from al.simulate import stored_settings

    resolved = config_of(["--strategy", "random"]).resolved()
    old = {k: v for k, v in resolved.items() if k != "embed_precision"}
    assert stored_settings({"config": old}) == resolved
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"config": old}))
    (run_dir / "rounds.jsonl").write_text('{"round": 0}\n')  # a round finished: a run to keep
    records = RunRecords(run_dir)
    records.check(resolved, stored_settings)  # the same run: resumes
    bf16 = config_of(["--strategy", "random", "--embed-precision", "bf16"]).resolved()
    with pytest.raises(ConfigError, match="embed_precision: 'fp32' -> 'bf16'"):
        records.check(bf16, stored_settings)


def test_fp16_on_a_cpu_stops_at_the_settings_before_any_data_loads(tmp_path, monkeypatch, capsys):
    import al.simulate

    monkeypatch.setattr(al.simulate, "load_config_corpus", lambda *a, **k: pytest.fail("data loaded"))
    out = tmp_path / "run"
    code = main(["--classifier", "bert", "--classifier-param", "mixed_precision=fp16", "--device", "cpu",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "mixed_precision='fp16' needs cuda" in err, err
    assert not out.exists()


def test_a_finished_run_asked_with_other_data_options_loads_its_data_to_compare(tmp_path, monkeypatch, capsys):
    """Other data options may read the same corpus or not: a finished run is not called complete unread."""
    import al.simulate
    from al.records import RunRecords

    data = tmp_path / "texts.csv"
    data.write_text("text,food,water\n" + "".join(f"text {i},{i % 2},{(i + 1) % 2}\n" for i in range(9)))
    out = tmp_path / "run"
    argv = ["--dataset", "csv", "--data-path", str(data), "--budget", "150", "--out", str(out), "--quiet"]
    config = config_of(argv)
    records = RunRecords(out)
    records.start(config.resolved(), {"corpus_digest": "c1"})
    for r in range(config.n_rounds):
        records.append({"round": r, "n_labeled": 100 + 50 * r, "macro_f1": 0.5, "micro_f1": 0.6,
                        "picked": [0] * (50 if r + 1 < config.n_rounds else 0)})
    loaded = []

    def load(*args, **kwargs):
        loaded.append(True)
        raise ConfigError("the data would load here")

    monkeypatch.setattr(al.simulate, "load_config_corpus", load)
    assert main(argv) == 0 and not loaded  # the same settings: complete, nothing read
    assert main([*argv, "--label-columns", "food", "water"]) == 2 and loaded
    assert "the data would load here" in capsys.readouterr().err


def test_embed_precision_reaches_the_run_s_embedder(monkeypatch):
    import al.embedders
    from al.simulate import build_simulation

    made = []

    class Recording:
        def __init__(self, model, **kwargs):
            made.append(kwargs.get("precision", "fp32"))

        def encode(self, texts):
            raise AssertionError("not called while building")

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", Recording)
    build_simulation(config_of(["--strategy", "random", "--embed-precision", "bf16", "--pool-size", "300",
                                 "--budget", "200"]))
    assert made == ["bf16"]


def test_embed_precision_and_device_reach_alps_and_stay_out_of_its_stored_params():
    """ALPS runs its own masked LM: the run's --embed-precision and --device are its, never a param of its own."""
    config = config_of(["--strategy", "alps", "--embed-precision", "bf16", "--device", "cpu"])
    strategy = config.make_strategy()
    assert (strategy.precision, strategy.device) == ("bf16", "cpu")
    assert (strategy._embed.precision, strategy._embed.device) == ("bf16", "cpu")
    params = config.resolved()["strategy"]["params"]
    assert "precision" not in params and "device" not in params  # runs stored before the setting resume
    default = config_of(["--strategy", "alps"]).make_strategy()
    assert (default.precision, default._embed.precision, default.device) == ("fp32", "fp32", "auto")
    assert config_of(["--strategy", "cvirs", "--embed-precision", "bf16"]).make_strategy() is not None


def test_embed_precision_reaches_an_encoder_space_and_stays_out_of_its_stored_params():
    """Encoder scope re-embeds the pool with its fine-tuned encoder: in the run's --embed-precision, as the
    pretrained vectors are; the setting is the run's, never a space param."""
    argv = ["--space", "aan", "--space-scope", "encoder"]
    assert config_of([*argv, "--embed-precision", "bf16"]).make_space().precision == "bf16"
    assert config_of(argv).make_space().precision == "fp32"
    params = config_of([*argv, "--embed-precision", "bf16"]).resolved()["space"]["params"]
    assert "precision" not in params and "device" not in params  # runs stored before the setting resume
    assert params == config_of(argv).resolved()["space"]["params"]


def test_precision_as_a_space_param_is_refused():
    with pytest.raises(ConfigError, match=r"precision is set by the run's embed_precision \(--embed-precision\)"):
        config_of(["--space", "cea", "--space-scope", "encoder", "--space-param", "precision=bf16"])._validated()
    with pytest.raises(ConfigError, match=r"device is set by the run's device"):  # passed to a space whatever it declares
        config_of(["--space", "cea", "--space-scope", "encoder", "--space-param", "device=cpu"]).validate()


def test_a_seed_the_run_does_not_pass_is_said_to_be_fixed():
    """ALPS declares run_params without seed: 'seed is set by the run's seed (--seed)' sent the user to a flag that
    never reaches it (its vectors, cached once per pool, are every seed's)."""
    with pytest.raises(ConfigError) as refused:
        config_of(["--strategy", "alps", "--strategy-param", "seed=1"])._validated()  # as the command validates
    assert str(refused.value) == ("strategy 'alps': seed is fixed at its default (seed=0), and the run's --seed does "
                                  "not reach it (what it computes is cached once per pool, for every run); remove it "
                                  "from the strategy's params")
    assert "seed" not in config_of(["--strategy", "alps", "--seed", "3"]).strategy_kwargs()


def test_only_a_strategy_s_own_run_params_are_set_by_the_run():
    """ALPS names precision in run_params; a user's strategy may have a precision param of its own meaning."""
    from al.config import _resolved_params, _run_set
    from al.strategy import Strategy
    from strategies.alps import ALPS

    class OwnPrecision(Strategy):
        def __init__(self, precision: str = "high") -> None:
            super().__init__()
            self.precision = precision

        def query(self, state, n):
            raise AssertionError("not queried")

    assert _run_set(OwnPrecision) == {"seed": "seed", "device": "device"}
    assert _resolved_params(OwnPrecision, {}) == {"precision": "high"}
    assert _run_set(ALPS)["precision"] == "embed_precision"
    assert "precision" not in _resolved_params(ALPS, {}) and "device" not in _resolved_params(ALPS, {})


def test_no_stopping_leaves_the_stop_set_pass_out_and_a_bad_value_gets_one_line(tmp_path, capsys):
    from al.simulate import build_simulation
    from al.stopping import StoppingSignals

    assert config_of([]).stopping is True
    assert config_of(["--no-stopping"]).stopping is False

    def observers(config):
        return [type(o) for o in build_simulation(config)[1].observers]

    assert StoppingSignals in observers(config_of([]))
    assert StoppingSignals not in observers(config_of(["--no-stopping"]))
    path = tmp_path / "sim.yaml"
    path.write_text("stopping: maybe\n")
    code = main(["--config", str(path), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err == (f"error: {path}: stopping must be true or false, got 'maybe'; write true or false "
                                 f"(yes, no, on and off are read as text)\n")


def test_diagnostics_on_a_pool_that_runs_short_of_k_unlabeled_texts_warns_that_their_ratios_are_1():
    """--pool-size 150 --budget 60: from 50 labeled texts on every text is among the 100 nearest, so every
    recorded proximity ratio is exactly 1, which nothing said."""
    import warnings

    from al.simulate import build_simulation

    with pytest.warns(UserWarning) as caught:
        build_simulation(config_of(["--diagnostics", "--pool-size", "150", "--initial", "20", "--step", "10",
                                    "--budget", "60"]))
    assert [str(w.message) for w in caught] == [
        "--diagnostics searches the 100 unlabeled texts nearest each centroid, and from 50 labeled texts on the pool "
        "of 150 holds no more than 100 unlabeled texts: there each proximity ratio is 1 by construction (its ceiling "
        "is 1), whatever the space"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_simulation(config_of(["--diagnostics", "--pool-size", "161", "--initial", "20", "--step", "10",
                                    "--budget", "60"]))  # 101 unlabeled texts left at the end: k never reaches all
        build_simulation(config_of(["--pool-size", "150", "--initial", "20", "--step", "10", "--budget", "60"]))


def test_a_pool_cut_that_leaves_a_kept_label_without_a_text_warns_as_the_run_is_built():
    """Said where the run is built (a grid's worker passes it on with the run's name), not where the corpus is
    cut, which a worker does once for all its runs."""
    from al.simulate import build_simulation

    for flags, advice in (([], "; raise --pool-size, or name the labels to keep with --labels"),
                          (["--labels", "aid_related", "weather_related", "direct_report", "request", "other_aid",
                            "hospitals", "fire", "missing_people", "aid_centers", "clothing"], "; raise --pool-size")):
        with pytest.warns(UserWarning) as caught:
            build_simulation(config_of(["--pool-size", "60", "--initial", "10", "--step", "10", "--budget", "30",
                                        *flags]))
        assert [str(w.message) for w in caught] == [
            "--pool-size 60 leaves 1 kept label of disaster without a pool text (clothing): no strategy can pick one, "
            f"and each enters macro-F1 as 0 in every round{advice}"]


def test_a_run_resumed_across_no_stopping_says_why_it_has_no_stopping_table(tmp_path, capsys, monkeypatch):
    """Rounds run with --no-stopping, then without: the table was left out without a word."""
    import al.simulate

    signals = {"kappa": None, "max_uncertainty": 0.9}
    rounds = [{"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5, "micro_f1": 0.7,
               **({"stopping": signals} if i >= 2 else {})} for i in range(4)]
    monkeypatch.setattr(al.simulate, "run_as_command", lambda config, quiet: rounds)
    assert main(["--out", str(tmp_path / "run"), "--budget", "250"]) == 0
    captured = capsys.readouterr()
    assert "where each stopping criterion would have stopped" not in captured.out
    assert "note: no stopping table: the rounds at 100, 150 labeled texts ran with --no-stopping" in captured.err


def test_threads_limit_the_process_and_are_not_a_result_setting(tmp_path, monkeypatch):
    """--threads 1 runs on one torch thread (a two-worker grid's share on two cores), set by the command alone:
    run() called from Python leaves its caller's threads as they are; a run resumes on any count."""
    torch = pytest.importorskip("torch")
    import al.simulate
    from al.config import changed_settings, result_settings
    from al.device import torch_threads

    seen = []

    class Built(Exception):
        pass

    def build(config, *args, **kwargs):
        seen.append(torch.get_num_threads())
        raise Built

    monkeypatch.setattr(al.simulate, "build_simulation", build)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # restored after the test
        monkeypatch.setenv(variable, os.environ.get(variable, ""))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=None), torch_threads(2):  # BLAS pools and torch's count restored on exit
        with pytest.raises(Built):
            al.simulate.run(config_of(["--threads", "1", "--out", str(tmp_path / "run")]))
        for argv in ([], ["--threads", "1"]):
            with pytest.raises(Built):
                main([*argv, "--out", str(tmp_path / "run")])
    assert seen == [2, 2, 1]
    one, every = config_of(["--threads", "1"]).resolved(), config_of([]).resolved()
    assert one["threads"] == 1 and "threads" not in result_settings(one) and changed_settings(every, one) == []



@pytest.mark.parametrize("module", ["al.simulate", "al.grid", "al.report", "al.plot", "al.analyze", "al.annotate"])
def test_an_argument_error_is_one_line_with_the_option_meant(module, capsys):
    """argparse's usage block is left out: the error, a close option for a misspelt one, where the options are."""
    import importlib

    main_of = importlib.import_module(module if module != "al.annotate" else "al.annotate.__main__").main
    required = {"al.annotate": ["--data", "x.csv", "--out", "s"], "al.grid": ["g.yaml"], "al.report": ["runs"],
                "al.plot": ["runs"]}.get(module, [])
    with pytest.raises(SystemExit) as exc:
        main_of([*required, "--sede", "1"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1, err
    assert err.startswith("error: ") and f"python -m {module} --help lists the options" in err
    if module in ("al.simulate", "al.annotate", "al.analyze"):  # they have --seed
        assert "unrecognized arguments: --sede 1 (did you mean --seed?)" in err, err
    else:
        assert "unrecognized arguments: --sede 1;" in err, err


def test_an_output_path_that_cannot_be_written_is_refused_in_one_line_before_any_work(tmp_path, capsys):
    import importlib

    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir.png").mkdir()
    (tmp_path / "runs").mkdir()
    grid = tmp_path / "grid.yaml"
    grid.write_text("out: runs\nsettings: {budget: 200}\ngrid: {strategy: [random]}\n")
    cases = {
        "al.plot": (["runs", "-o", "a-dir.png"], "-o a-dir.png is a directory; give a file path, e.g. a-dir.png/out.png"),
        "al.plot ": (["runs", "-o", "curves.pgn"], "-o curves.pgn ends in .pgn; expected one of .png, "),
        "al.plot  ": (["runs", "-o", "a-file/curves.png"], "a-file is a file, not a folder"),
        "al.report": (["runs", "-o", "a-file"], "-o a-file is a file; give a directory"),
        "al.grid": ([str(grid), "--out", "a-file", "--dry-run"], "a-file is a file; give a directory"),
        "al.analyze": (["--out", "a-file"], "--out a-file is a file; give a directory"),
        "al.annotate.__main__": (["export", "runs", "-o", "a-dir.png"], "-o a-dir.png is a directory"),
    }
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for module, (argv, message) in cases.items():
            code = importlib.import_module(module.strip()).main(argv)
            err = capsys.readouterr().err
            assert code == 2 and err.count("\n") == 1 and message in err, (module, err)
    finally:
        os.chdir(cwd)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-dir.png", "a-file", "grid.yaml", "runs"]
    assert not any((tmp_path / "runs").iterdir())


def test_a_per_class_weight_of_logreg_from_yaml_or_json_reaches_scikit_learn():
    from al.classifiers.linear import LogisticRegressionClassifier

    for weights in ({0: 1, 1: 5}, {"0": 1, "1": 5}):  # YAML keeps numbers, JSON makes them strings
        model = LogisticRegressionClassifier(class_weight=weights)
        model._check_params()
        assert model._class_weight() == {0: 1.0, 1: 5.0}
    with pytest.raises(ConfigError, match="class_weight must be balanced, null"):
        LogisticRegressionClassifier(class_weight={"0": 1, "2": 5})._check_params()
    with pytest.raises(ConfigError, match="class_weight must be balanced, null"):
        LogisticRegressionClassifier(class_weight={0: -1})._check_params()


def test_a_report_that_fails_leaves_no_empty_directory(tmp_path, capsys):
    from al.report import main as report

    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "config.json").write_text('{"config": ')
    (run / "rounds.jsonl").write_text('{"round": 0}\n')
    assert report([str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert "config.json is not JSON" in err and err.count("\n") == 1, err
    assert not (tmp_path / "report").exists()


def test_a_settings_file_that_is_not_utf8_text_or_is_a_directory_gets_one_line(tmp_path, capsys):
    from al.grid import main as grid

    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00bad")
    for run, argv, message in (
        (main, ["--config", str(tmp_path / "binary.yaml")], "is not UTF-8 text (byte 0xff at offset 0)"),
        (main, ["--config", str(tmp_path)], "is a directory; expected a YAML file of settings"),
        (grid, [str(tmp_path / "binary.yaml"), "--dry-run"], "is not UTF-8 text (byte 0xff at offset 0)"),
        (grid, [str(tmp_path / "none.yaml")], "does not exist; expected a YAML grid file (out, settings, grid; see "
                                              "simulations/)"),
    ):
        assert run([*argv, *(["--out", str(tmp_path / "run")] if run is main else [])]) == 2
        err = capsys.readouterr().err
        named = "config file " if run is main else "grid file "  # a grid file is no file of one run's settings
        assert err.startswith(f"error: {named}") and message in err and err.count("\n") == 1, err


def test_a_bf16_encoder_space_run_stored_before_the_setting_reached_it_resumes_in_fp32():
    from al.simulate import keep_space_precision

    def space():
        return config_of(["--space", "aan", "--space-scope", "encoder", "--embed-precision", "bf16"]).make_space()

    old, new, fresh = space(), space(), space()
    keep_space_precision(old, [{"round": 0, "space": {"scope": "encoder", "cpu_threads": 2}}])
    keep_space_precision(new, [{"round": 0, "space": {"scope": "encoder", "embed_precision": "bf16"}}])
    keep_space_precision(fresh, [])
    assert (old.precision, new.precision, fresh.precision) == ("fp32", "bf16", "bf16")
    keep_space_precision(None, [{"round": 0}])  # the pretrained space: nothing to keep

    class PluginSpace:  # a user's space with a precision of its own, which this rule is not about
        scope, precision = "custom", "bf16"

    plugin = PluginSpace()
    keep_space_precision(plugin, [{"round": 0, "space": {}}])
    assert plugin.precision == "bf16"


def test_did_you_mean_names_each_close_guess_once():
    from al.errors import did_you_mean

    known = ["budget", "step", "strategy", "seed"]
    assert did_you_mean(["bugdet"], known) == " (did you mean budget?)"
    assert did_you_mean(["stratgy", "bugdet", "budgte"], known) == " (did you mean strategy or budget?)"
    assert did_you_mean(["zzz"], known) == ""
    assert did_you_mean([], known) == ""
    assert did_you_mean(["CSV"], ["csv", "jsonl"]) == " (did you mean csv?)"  # case alone: below difflib's cutoff
    assert did_you_mean(["Seed"], known) == " (did you mean seed?)"
    assert did_you_mean(["CC"], ["C", "max_iter"]) == " (did you mean C?)"  # a doubled key: below the cutoff
    assert did_you_mean(["cc"], ["C"]) == " (did you mean C?)"
    assert did_you_mean(["cv", "kn", "a"], ["C", "k", "ab"]) == ""  # another letter more, or one fewer: no guess
    # other libraries' short names, which difflib finds nothing for: the name each component accepts
    assert did_you_mean(["lr"], ["learning_rate", "dim"]) == " (did you mean learning_rate?)"
    assert did_you_mean(["epoch"], ["max_epochs", "model"]) == " (did you mean max_epochs?)"  # bert
    assert did_you_mean(["epoch"], ["epochs", "max_epochs"]) == " (did you mean epochs?)"  # a space
    assert did_you_mean(["lr"], ["C", "max_iter"]) == ""  # logreg takes no learning rate: no guess


def test_an_error_quoting_a_multi_line_message_stays_one_line():
    from al.errors import ConfigError

    assert str(ConfigError("strategy 'x' could not be constructed: ValueError: bad k\nsee  the docs")) == \
        "strategy 'x' could not be constructed: ValueError: bad k see the docs"


@pytest.mark.parametrize("text, message", [
    ("data_path: 5\n", "data_path must be a path such as data/texts.csv (a string) or null, got 5 (int)"),
    ("label_descriptions: 5\n", "label_descriptions must be a path such as labels.yaml"),
    ("out: 5\n", "out must be a path such as runs/my-run"),
    ("model: [a]\n", "model must be a string such as all-MiniLM-L6-v2, got ['a'] (list)"),
    ("dataset: [csv]\n", "dataset must be a string such as disaster, got ['csv'] (list)"),
    ("pool_size: true\n", "pool_size must be a positive integer, or left out (null) for the whole pool, got true"),
    ("labels: 5\n", "labels must be a list of label names"),
    ("strategy: random\nstrategy: cvirs\n", "sim.yaml: key 'strategy' is given twice (lines 1 and 2); keep one"),
    ("space_every: 3\n", "error: space_every is read only with a fitted space"),  # the file's key, no flag
    ("labels: [food]\nn_rare: 2\n", "error: labels ['food'] and n_rare both choose the labels"),
])
def test_a_settings_file_with_a_wrong_or_ignored_setting_gets_one_line(text, message, tmp_path, monkeypatch, capsys):
    import al.datasets

    monkeypatch.setattr(al.datasets, "load_corpus", lambda *a, **k: pytest.fail("data loaded"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "sim.yaml"
    path.write_text(text)
    assert main(["--config", str(path)]) == 2  # no --out: the file's own (or the default under runs/)
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim.yaml"]  # nothing written


def test_a_second_config_file_is_refused_not_dropped_unsaid(tmp_path, capsys):
    """--config a.yaml --config b.yaml ran b's settings alone: a's seed and C were lost without a word."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("seed: 3\n")
    second.write_text("budget: 150\n")
    with pytest.raises(SystemExit) as caught:  # argparse's exit, as for every bad flag
        main(["--config", str(first), "--config", str(second), "--out", str(tmp_path / "run")])
    assert caught.value.code == 2 and not (tmp_path / "run").exists()
    assert capsys.readouterr().err == (f"error: argument --config: given twice ({first} and {second}), and one "
                                       f"file's settings would be dropped; give one (flags beside it override its "
                                       f"settings); python -m al.simulate --help lists the options\n")
    from al.annotate.__main__ import main as annotate

    with pytest.raises(SystemExit) as caught:
        annotate(["--data", "texts.csv", "--config", str(first), "--config", str(second)])
    assert caught.value.code == 2 and "argument --config: given twice" in capsys.readouterr().err


def to_dict_pick(config):
    return {key: config.to_dict()[key] for key in ("labels", "n_frequent", "n_rare")}


def test_a_flag_overriding_the_file_s_choice_is_no_conflict(tmp_path):
    """--labels over a file's n_frequent, --space pretrained over a file's fitted space: the flag wins."""
    path = tmp_path / "sim.yaml"
    path.write_text("n_frequent: 3\nspace: cea\nspace_scope: encoder\n")
    notes = []
    config = config_from_args(build_parser().parse_args(["--config", str(path), "--labels", "food", "--space",
                                                         "pretrained"]), notes)
    assert config.labels == ("food",) and config.space.name == "pretrained"
    # the file's count is not read, nor recorded: the run's config.json read again gives the same record
    assert (config.n_frequent, config.n_rare) == (5, 5) and to_dict_pick(config) == to_dict_pick(config_of(
        ["--labels", "food"]))
    assert f"--labels replaces {path}'s n_frequent 3 (not read, nor recorded)" in notes
    # and the other way: --frequent/--rare over a file's labels (it was refused, though flags win over the file)
    path.write_text("labels: [food, water]\n")
    notes = []
    config = config_from_args(build_parser().parse_args(["--config", str(path), "--frequent", "2", "--rare", "1"]),
                              notes)
    assert (config.labels, config.n_frequent, config.n_rare) == (None, 2, 1)
    assert notes == [f"--frequent/--rare replace {path}'s labels ['food', 'water'] (not read, nor recorded)"]
    with pytest.raises(ConfigError, match="both choose the labels"):  # both flags: still refused
        config_of(["--config", str(path), "--labels", "food", "--frequent", "2"])
    path.write_text("n_frequent: 3\nspace: cea\nspace_scope: encoder\n")
    config = config_of(["--config", str(path), "--space-every", "2"])  # the file's space is fitted
    assert config.space_every == 2 and config.space_scope == "encoder"


def test_a_model_path_that_is_a_file_is_called_a_file(tmp_path, capsys, monkeypatch):
    model = tmp_path / "weights.bin"
    model.write_text("")
    assert main(["--model", str(model), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert f"model path {model} is a file, not a directory; expected a model directory" in err
    assert err.count("\n") == 1 and not (tmp_path / "r").exists()
    monkeypatch.chdir(tmp_path)  # data/mine.csv reads like a hub id (owner/name), but it lies here
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mine.csv").write_text("text\n")
    assert main(["--model", "data/mine.csv", "--out", str(tmp_path / "r")]) == 2
    assert "model path data/mine.csv is a file, not a directory" in capsys.readouterr().err


def test_an_encoder_space_s_max_length_over_its_model_s_is_refused_before_the_data_loads(tmp_path, monkeypatch,
                                                                                          capsys):
    """It was refused at the space's first fit, after the pool's embedding pass (minutes on a cold cache)."""
    import al.datasets

    monkeypatch.setattr(al.datasets, "load_corpus", lambda *a, **k: pytest.fail("data loaded"))
    given = ["--space", "cea", "--space-scope", "encoder", "--space-param", "max_length=9999"]
    said = ("error: space 'cea' (encoder scope) max_length 9999 is more tokens than all-MiniLM-L6-v2 reads (512: its "
            "position embeddings); give at most max_length=512\n")
    assert main([*given, "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == said and not (tmp_path / "r").exists()
    from al.analyze import main as analyze

    assert analyze([*given, "--out", str(tmp_path / "a")]) == 2
    assert capsys.readouterr().err == said and not (tmp_path / "a").exists()


def test_a_gpu_that_is_not_there_is_refused_before_anything_is_written(tmp_path, monkeypatch, capsys):
    import al.datasets
    import al.device
    from al.errors import ConfigError as Refused

    def no_gpu(device="auto"):
        raise Refused(f"device {device!r} asked for, but no CUDA GPU is visible; use --device cpu or auto")

    monkeypatch.setattr(al.device, "resolve_device", no_gpu)
    monkeypatch.setattr(al.datasets, "load_corpus", lambda *a, **k: pytest.fail("data loaded"))
    assert main(["--device", "cuda:1", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err == "error: device 'cuda:1' asked for, but no CUDA GPU is visible; use --device cpu or auto\n"
    assert not (tmp_path / "r").exists()
    (tmp_path / "mine.csv").write_text("text,labels\n" + "".join(f"text {i},a\n" for i in range(30)))
    own = ["--dataset", "csv", "--data-path", str(tmp_path / "mine.csv"), "--device", "cuda:1"]
    assert main([*own, "--out", str(tmp_path / "r")]) == 2  # a file of one's own: read before the run to pick labels
    assert capsys.readouterr().err == err
    from al.analyze import main as analyze

    assert analyze([*own, "--out", str(tmp_path / "a")]) == 2
    assert capsys.readouterr().err == err and not (tmp_path / "a").exists()


def test_ctrl_c_while_the_data_loads_is_an_interruption_not_a_bad_file(tmp_path, monkeypatch, capsys):
    """pandas may wrap a KeyboardInterrupt that arrives mid-read in a ParserError."""
    import pandas as pd

    import al.datasets.disaster

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise pd.errors.ParserError("Error tokenizing data. C error: Calling read(nbytes) on source failed")

    monkeypatch.setattr(al.datasets.disaster.pd, "read_csv", interrupted)
    monkeypatch.setattr("al.simulate._LOADED_CORPORA", {})
    assert main(["--describe"]) == 130
    assert capsys.readouterr().err == "interrupted; run the same command again\n"  # no run to resume


def test_a_reader_that_went_away_is_no_error():
    """``python -m al.simulate --describe | head -1``: no BrokenPipeError traceback; the status main returned
    stands; a BrokenPipeError of another pipe, stdout still read, is an error as before."""
    import os
    import subprocess
    import sys

    def gone(body: str) -> subprocess.CompletedProcess:
        script = (f"import sys, time\nfrom al.cli import exit_with, sigterm_stops\ndef main():\n{body}\n"
                  f"exit_with(main)\n")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe's output is buffered
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env)
        child.stdout.close()  # the reader goes away at once
        err = child.stderr.read()
        return subprocess.CompletedProcess(child.args, child.wait(), None, err)

    done = gone("    time.sleep(0.5)\n    print('x' * 100)\n    return 2")  # the flush at exit meets the pipe
    assert (done.returncode, done.stderr) == (2, "")
    done = gone("    time.sleep(0.5)\n    for i in range(100000):\n        print(i)\n    return 2")  # stopped writing
    assert (done.returncode, done.stderr) == (0, "")
    # a simulation stopped between rounds (its work, inside sigterm_stops, met the closed pipe): exited 0, and a
    # script took the run for finished
    done = gone("    time.sleep(0.5)\n    with sigterm_stops():\n        for i in range(100000):\n            print(i)\n"
                "    return 0")
    assert (done.returncode, done.stderr) == (141, "")
    done = gone("    time.sleep(0.5)\n    with sigterm_stops():\n        pass\n    for i in range(100000):\n"
                "        print(i)\n    return 0")  # its work done, the lines after it cut: 0
    assert (done.returncode, done.stderr) == (0, "")
    other = subprocess.run([sys.executable, "-c", "from al.cli import exit_with\n"
                            "def main():\n    raise BrokenPipeError('a worker went away')\nexit_with(main)\n"],
                           capture_output=True, text=True)
    assert other.returncode == 1 and "BrokenPipeError: a worker went away" in other.stderr


def test_list_strategies_names_a_required_param(tmp_path, monkeypatch, capsys):
    """A plugin whose constructor needs a param shows it as required."""
    import al.registry

    from al.strategy import Strategy

    class NeedsK(Strategy):
        def __init__(self, k: int, scale: float = 1.0) -> None:
            super().__init__()

        def query(self, state, n):
            return state.indices_unlabeled[:n]

    monkeypatch.setitem(al.registry._REGISTRY, "needs_k", NeedsK)
    assert main(["--list-strategies"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("needs_k"))
    assert line.split()[1:] == ["k=<required>", "scale=1.0"]


def test_raised_at_names_the_innermost_line_outside_al_and_the_libraries():
    import json

    from al.errors import raised_at
    from al.strategy import validate_answer

    def users_code():
        return json.loads("{not json")  # raised inside the standard library: this line is named

    try:
        users_code()
    except ValueError as exc:
        assert raised_at(exc) == f" (at {__file__}:{users_code.__code__.co_firstlineno + 1})"
    try:
        validate_answer(object(), None, 1, "x")  # raised inside al itself: the caller's line here
    except Exception as exc:  # noqa: BLE001
        assert raised_at(exc) == f" (at {__file__}:{exc.__traceback__.tb_lineno})"  # the call's line
    assert raised_at(ValueError("never raised")) == ""


def test_a_round_line_shows_the_strategy_s_work_run_ahead_of_the_embedding():
    from al.simulate import format_round

    record = {"round": 0, "n_labeled": 100, "macro_f1": 0.5, "micro_f1": 0.6, "seconds_train": 1.0,
              "seconds_query": 0.25, "seconds_evaluate": 0.5}
    assert "query 0.2s  eval" in format_round(record, 11)
    assert "query 0.2s (+75.3s before the embedding)  eval" in format_round({**record, "seconds_prepare": 75.31}, 11)
    # every part of the round's time its record holds, in the order it ran: a bert round's stop-set pass was not
    # on the line, so its parts did not add up to the round
    timed = {**record, "seconds_embed": 40.04, "seconds_replay": 3.0, "seconds_space": 2.0, "seconds_train_dev": 0.4,
             "seconds_stopping": 2.5, "seconds_diagnostics": 1.25}
    assert format_round(timed, 11) == ("round  1/11  labeled   100  macro-F1 0.500  micro-F1 0.600  embed 40.0s  "
                                       "replay 3.0s  space 2.0s  train 1.0s (dev 0.4s)  query 0.2s  eval 0.5s  "
                                       "stop 2.5s  diagnostics 1.2s")


@pytest.mark.parametrize("argv, said", [
    (["--initial", "0"], "error: initial (--initial) must be a positive integer (a number of texts), got 0; give "
                         "--initial 100, say, its default"),
    (["--space", "cea", "--space-every", "0"], "error: space_every (--space-every) must be a positive integer, got 0; "
                                               "give 1 to fit the space every round, or N for every N rounds"),
])
def test_a_bad_value_given_by_a_flag_is_named_by_its_flag(argv, said, capsys):
    assert main([*argv, "--quiet"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [said]


def test_a_bad_value_from_a_config_file_keeps_the_file_s_name_for_it(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("initial: 0\n")
    assert main(["--config", str(tmp_path / "c.yaml"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {tmp_path / 'c.yaml'}: initial must be a positive "
                                                            f"integer (a number of texts), got 0; give initial: 100, "
                                                            f"say, its default"]


def test_advice_names_a_setting_as_the_config_file_writes_it_and_a_flag_given_as_the_flag(tmp_path, capsys,
                                                                                           monkeypatch):
    """The file's pool_size is told as ``pool_size``; the same setting given by a flag over the file, as the flag."""
    monkeypatch.chdir(tmp_path)  # the default run directory is not the checkout's (README command 1 writes one there)
    (tmp_path / "c.yaml").write_text("pool_size: 99999999\nbudget: 150\n")
    assert main(["--config", str(tmp_path / "c.yaml"), "--quiet"]) == 2
    said = capsys.readouterr().err.strip()
    assert said.endswith("give at most 11572, or leave pool_size out to use the whole pool"), said
    assert main(["--config", str(tmp_path / "c.yaml"), "--pool-size", "88888888", "--quiet"]) == 2
    said = capsys.readouterr().err.strip()
    assert said.endswith("give at most 11572, or leave --pool-size out to use the whole pool"), said


def test_file_set_options_reads_the_file_s_keys_and_leaves_out_the_flags_given(tmp_path):
    from al.simulate import file_set_options

    def told(text: str, *flags: str) -> frozenset:
        path = tmp_path / "c.yaml"
        path.write_text(text)
        return file_set_options(build_parser().parse_args(["--config", str(path), *flags]))

    assert told("budget: 200\nstrategy: {name: dal, params: {warm_start: true}}\ndata_options: {label_sep: ';'}\n",
                "--budget", "300") == {"strategy", "strategy_param", "data_options", "label_sep"}
    assert told("strategy_params: {k: 1}\n") == {"strategy_params", "strategy_param"}
    assert told("classifier: {name: knn, params: {k: 3}}\n") == {"classifier", "classifier_param"}  # no threshold
    assert "threshold" in told("classifier: {name: knn, params: {threshold: dev}}\n")
    assert "threshold" in told("threshold: dev\n") and "threshold" in told("classifier_params: {threshold: 0.3}\n")
    assert "threshold" not in told("classifier_params: [0.3]\n")
    assert told("- a list\n") == frozenset()
    assert file_set_options(build_parser().parse_args([])) == frozenset()


def test_which_params_take_true_or_false():
    """Annotated bool, bool | None (None too), or unannotated with a bool default; the rest are left alone."""
    import inspect
    from typing import Optional

    from al.config import check_param_types

    def component(a: bool = True, b=False, c: bool | None = None, d: Optional[bool] = None, e: int = 1, f=None,
                  g: bool = None, h: "bool|None" = None, i: "t.Optional[bool]" = None):
        """A constructor's parameters."""

    params = inspect.signature(component).parameters.values()
    for given in ({"a": True, "b": False}, {"c": None, "d": None, "g": None, "h": None, "i": None}, {"c": False},
                  {"e": 3, "f": "no"}):
        check_param_types(params, given, "strategy 'x'")
    for name in "ghi":  # None allowed, text is not
        with pytest.raises(ConfigError, match=f"{name} must be true or false or null, got 'no'"):
            check_param_types(params, {name: "no"}, "strategy 'x'")
    import numpy as np

    check_param_types(params, {"a": np.bool_(True)}, "strategy 'x'")
    for name, value, message in (("a", "no", "a must be true or false, got 'no'"), ("a", None, "got null"),
                                 ("b", "off", "b must be true or false, got 'off'"),
                                 ("c", "yes", "c must be true or false or null, got 'yes'"),
                                 ("d", 1, "d must be true or false or null, got 1")):
        with pytest.raises(ConfigError, match=message):
            check_param_types(params, {name: value}, "strategy 'x'")


def test_params_annotated_str_take_text_only():
    """A ``mode: str`` given mode=3 took the number 3 without a word, so ``mode == "3"`` was silently false."""
    import datetime
    import inspect
    from pathlib import Path

    from al.config import check_param_types

    def component(mode: str = "max", model: "str | None" = None, free=None):
        """A constructor's parameters."""

    params = inspect.signature(component).parameters.values()
    check_param_types(params, {"mode": "3", "model": None, "free": 3}, "strategy 'x'")
    for value in ({0: 1, 1: 5}, ["a"], Path("m"), None):  # what YAML does not misread: the component's own check says
        check_param_types(params, {"mode": value}, "strategy 'x'")
    from al.errors import spelled

    for value, typed in ((3, "3"), (2.5, "2.5"), (True, "true"), (datetime.date(2020, 1, 1), "2020-01-01")):
        with pytest.raises(ConfigError, match=rf"^strategy 'x' param mode must be text, got "
                                              rf"{re.escape(spelled(value))}; "
                                              rf"quote it \(mode: '{typed}' in YAML, --strategy-param "
                                              rf"mode='\"{typed}\"' in a shell\): unquoted, it is "
                                              rf"read as a number, true/false or a date$"):
            check_param_types(params, {"mode": value}, "strategy 'x'")
    from al.config import SimulationConfig

    SimulationConfig(classifier={"name": "logreg", "params": {"class_weight": {0: 1, 1: 5}}}).validate()  # per class
    with pytest.raises(ConfigError, match=r"^classifier 'y' param model must be text or null, got 7; quote it "
                                          r"\(model: '7' in YAML, --classifier-param model="):
        check_param_types(params, {"model": 7}, "classifier 'y'")


def test_params_annotated_int_or_float_take_numbers_of_that_kind():
    """A ``k: int`` given 2.0 (YAML's 1e3 is 1000.0) or text is refused; a ``float`` takes an integer too."""
    import inspect
    from typing import Optional

    import numpy as np

    from al.config import check_param_types

    def component(k: int = 5, rate: float = 0.1, cap: Optional[int] = None, width: "int | None" = None,
                  level: int | str = 1, bare=3):
        """A constructor's parameters."""

    params = inspect.signature(component).parameters.values()
    for given in ({"k": 3, "rate": 1}, {"k": np.int64(3), "rate": np.float32(0.5)}, {"cap": None, "width": None},
                  {"level": "high", "bare": 2.5}, {"bare": None}):  # int | str: anything; unannotated: a number
        check_param_types(params, given, "strategy 'x'")
    for name, value, message in (
            ("k", 2.0, "strategy 'x' param k must be an integer, got 2.0; write a whole number such as 5 (1e3 and "
                       "2.0 are read as fractions)"),
            ("k", "abc", "param k must be an integer, got 'abc'; write a whole number such as 5"),
            ("k", True, "param k must be an integer, got true"),
            ("bare", "abc", "param bare must be a number or null, got 'abc'; write a number such as 3 (its default)"),
            ("cap", 1e3, "param cap must be an integer or null, got 1000.0"),
            ("width", "x", "param width must be an integer or null, got 'x'"),
            ("rate", "fast", "strategy 'x' param rate must be a number, got 'fast'; write a number such as 0.5 or "
                             "1e-3"),
            ("rate", None, "param rate must be a number, got null")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            check_param_types(params, {name: value}, "strategy 'x'")
    check_param_types(params, {"k": 2.0}, "strategy 'x'", kinds=("bool",))  # the bool check alone


def test_a_strategy_of_your_own_gets_a_number_of_the_kind_it_declares(tmp_path, monkeypatch, capsys):
    """Its constructor took k=2.5 for ``k: int`` without a word: refused while the settings are checked."""
    (tmp_path / "kind_checked.py").write_text(
        "from al.strategy import Strategy\n\n\nclass TopK(Strategy):\n"
        "    def __init__(self, k: int = 5):\n        super().__init__()\n        self.k = k\n\n"
        "    def query(self, state, n):\n        return state.indices_unlabeled[:n]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["--strategy", "kind_checked:TopK", "--strategy-param", "k=2.5", "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == ("error: strategy 'kind_checked:TopK' param k must be an integer, got 2.5; write a "
                                       "whole number such as 5 (1e3 and 2.0 are read as fractions)\n")
    assert not (tmp_path / "run").exists()


def test_a_strategy_taking_kwargs_still_gets_the_kinds_its_named_parameters_declare(tmp_path, monkeypatch, capsys):
    """A constructor with ``**extra`` took k=2.5, flag=yes (truthy text) and w=abc without a word: the check was
    skipped for every parameter, its named ones too. A name near a named one, passed on to ``**extra``, is warned."""
    (tmp_path / "open_ended.py").write_text(
        "from al.strategy import Strategy\n\n\nclass T(Strategy):\n"
        "    def __init__(self, k: int = 3, flag: bool = False, weight: float = 1.0, **extra):\n"
        "        super().__init__()\n        self.k = k\n\n"
        "    def query(self, state, n):\n        return state.indices_unlabeled[:n]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    base = ["--strategy", "open_ended:T", "--initial", "10", "--step", "5", "--budget", "20", "--pool-size", "200"]
    for param, said in (("k=2.5", "param k must be an integer, got 2.5"),
                        ("flag=yes", "param flag must be true or false, got 'yes'"),
                        ("weight=abc", "param weight must be a number, got 'abc'")):
        assert main([*base, "--strategy-param", param, "--out", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: strategy 'open_ended:T' {said}") and err.count("\n") == 1, err
        assert not (tmp_path / "run").exists()
    from al.config import SimulationConfig

    with pytest.warns(UserWarning, match=re.escape("strategy 'open_ended:T': param 'wieght' goes to its **extra, not "
                                                   "to its parameter 'weight': misspelt? (write weight=...)")):
        SimulationConfig(strategy={"name": "open_ended:T", "params": {"wieght": 2.0, "other": 1}}).validate()


def test_an_annotation_other_than_bool_lifts_the_check():
    """A default of False with ``int | bool`` takes 2; unannotated, the default's type says true or false."""
    import inspect

    from al.config import check_param_types

    def annotated(verbose: int | bool = False):
        """Takes a level too."""

    def bare(verbose=False):
        """Takes true or false."""

    check_param_types(inspect.signature(annotated).parameters.values(), {"verbose": 2}, "strategy 'x'")
    with pytest.raises(ConfigError, match="verbose must be true or false, got 2"):
        check_param_types(inspect.signature(bare).parameters.values(), {"verbose": 2}, "strategy 'x'")


def test_a_classifier_made_from_python_refuses_text_for_true_or_false_as_a_settings_file_does():
    from al.classifiers import make_classifier

    with pytest.raises(ConfigError, match="classifier 'knn' param warm_start must be true or false, got 'no'"):
        make_classifier("knn", warm_start="no")
    assert make_classifier("knn", warm_start=False).warm_start is False
    with pytest.raises(ConfigError, match="^classifier 'logreg' param C must be a number, got 'abc'; write a number"):
        make_classifier("logreg", C="abc")  # a number of another kind too
    assert make_classifier("logreg", C=1).C == 1


def test_a_component_s_own_check_that_breaks_on_text_is_one_line_naming_the_kind(capsys):
    """bert's check compares learning_rate > 0, which raises TypeError for text: the kind is said instead."""
    assert main(["--classifier", "bert", "--classifier-param", "learning_rate=abc"]) == 2
    assert capsys.readouterr().err == ("error: classifier 'bert' param learning_rate must be a number, got 'abc'; "
                                       "write a number such as 0.5 or 1e-3\n")


def test_list_strategies_refuses_the_options_it_does_not_read(capsys):
    assert main(["--list-strategies", "--budget", "-5", "--dataset", "nosuch"]) == 2
    assert capsys.readouterr().err == ("error: --list-strategies prints the known strategies and reads no other option, "
                                       "not --budget, --dataset; leave them out, or run without --list-strategies\n")
    assert main(["--list-strategies", "--quiet"]) == 0
    assert "class_embedding" in capsys.readouterr().out


def test_a_command_shows_each_warning_once():
    import warnings

    from al.cli import ArgumentParser

    parser = ArgumentParser(prog="x")
    with warnings.catch_warnings(record=True) as shown:  # what the command's showwarning passes on
        warnings.simplefilter("always")
        for _ in range(2):  # two commands in one process: each shows it once
            parser.parse_args([])
            for i in range(3):
                warnings.warn("lbfgs failed  to converge", UserWarning)  # the same message, however spaced
            warnings.warn("another one", UserWarning)
    assert [str(w.message) for w in shown] == ["lbfgs failed  to converge", "another one"] * 2


def test_the_line_after_a_stop_says_where_the_same_command_goes_on(tmp_path):
    """A stop in round 0 said 'resume from the last finished round' when none had finished."""
    from al.records import RunRecords
    from al.simulate import resume_advice

    config = config_from_args(build_parser().parse_args(["--out", str(tmp_path / "run")]))
    assert resume_advice(config) == ("no round finished yet: the same command starts the run again (vectors "
                                     "embedded so far are kept)")
    records = RunRecords(tmp_path / "run")
    records.start({"strategy": "random", "seed": 0}, {})
    assert resume_advice(config).startswith("no round finished yet")
    for i in range(2):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "picked": [0] * 50})
    assert resume_advice(config) == "run the same command again to resume after round 2; round 3 starts again"
    assert resume_advice(None).startswith("no round finished yet")  # stopped before the settings were read
    records.append({"round": 2, "n_labeled": 200, "picked": []})  # a finished run of budget 200, extended to 600:
    # round 3 is computed again
    assert resume_advice(config) == "run the same command again to resume after round 2; round 3 starts again"
    whole = config_from_args(build_parser().parse_args(["--out", str(tmp_path / "whole")]))
    records = RunRecords(tmp_path / "whole")
    records.start({"strategy": "random", "seed": 0}, {})
    for i in range(11):  # stopped after its last round was written: no round 12 to start again
        records.append({"round": i, "n_labeled": 100 + 50 * i, "picked": [0] * 50 if i < 10 else []})
    assert resume_advice(whole) == "its 11 rounds are all written: the same command finds it complete"


def test_a_fixed_threshold_is_the_same_run_as_its_number():
    """knn writes its default threshold 0.5, logreg "fixed": --threshold fixed on a knn run was refused as other
    settings (classifier.params.threshold: 0.5 -> 'fixed'), and --classifier-param threshold=0.5 on a logreg one."""
    from al.config import changed_settings

    for classifier in ("knn", "logreg"):
        default = config_of(["--classifier", classifier]).resolved()
        for given in (["--threshold", "fixed"], ["--classifier-param", "threshold=0.5"]):
            assert changed_settings(default, config_of(["--classifier", classifier, *given]).resolved()) == []
        other = config_of(["--classifier", classifier, "--classifier-param", "threshold=0.4"]).resolved()
        assert changed_settings(default, other) == ["classifier"]


def test_a_run_that_names_its_labels_resumes_whatever_counts_of_the_automatic_pick_come_beside_them(tmp_path):
    """A settings file's n_frequent: 3 beside --labels is read by nothing, but was compared: a finished run made
    without it was refused (n_frequent: 5 -> 3), in a grid too, where settings give it to every data entry."""
    from al.config import changed_settings
    from al.records import RunRecords

    settings = tmp_path / "sim.yaml"
    settings.write_text("n_frequent: 3\nn_rare: 2\n")
    from al.config import from_mapping

    named = config_of(["--labels", "food", "water"]).resolved()
    assert config_of(["--config", str(settings), "--labels", "food", "water"]).resolved() == named  # the flag wins
    # a grid's settings give the counts to every data entry, one naming labels too: kept, and not compared
    named_in_file = from_mapping({"n_frequent": 3, "n_rare": 2, "labels": ["food", "water"]}).resolved()
    assert (named_in_file["n_frequent"], named_in_file["n_rare"]) == (3, 2)
    assert changed_settings(named, named_in_file) == changed_settings(named_in_file, named) == []
    records = RunRecords(tmp_path / "run")
    records.start(named, {})
    records.append({"round": 0, "n_labeled": 100, "picked": []})
    assert [r["n_labeled"] for r in RunRecords(tmp_path / "run").start(named_in_file, {})] == [100]  # resumed
    # the automatic pick reads them: compared there, and between a pick and labels named
    picked = config_of([]).resolved()
    assert changed_settings(picked, config_of(["--config", str(settings)]).resolved()) == ["n_frequent", "n_rare"]
    assert changed_settings(picked, named_in_file) == ["labels", "n_frequent", "n_rare"]
    assert changed_settings(named_in_file, picked) == ["labels", "n_frequent", "n_rare"]
    with pytest.raises(ConfigError, match=r"holds a run with other settings \(labels: "):
        RunRecords(tmp_path / "run").start(picked, {})


@pytest.mark.parametrize("argv", [
    [],
    ["--strategy", "margin", "--pool-size", "2000", "--budget", "250", "--seed", "1"],
    ["--labels", "food", "water", "--classifier", "knn", "--threshold", "dev"],
    ["--space", "cea", "--space-scope", "head", "--space-for", "strategy", "--strategy", "class_embedding"],
])
def test_a_run_s_config_json_given_as_config_is_that_run_again(tmp_path, argv, capsys, monkeypatch):
    """It was refused as unknown settings 'config', 'corpus', ... (did you mean label_descriptions?), and its
    config block alone as null space options 'read only with a fitted space'."""
    original = config_of([*argv, "--out", str(tmp_path / "first")]).resolved()
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"config": original, "version": "0.1.0", "corpus": {"name": "disaster"}}))
    notes = []
    again = config_from_args(build_parser().parse_args(["--config", str(path), "--out", str(tmp_path / "again")]),
                             notes)
    assert {**again.resolved(), "out": None} == {**original, "out": None}
    assert notes == []  # --out given: where the run goes is said; it warned to give --out
    config_from_args(build_parser().parse_args(["--config", str(path)]), notes)
    assert notes == [f"{path} is a run's config.json: its settings are read, all but out, so this run goes to the "
                     f"default directory; give --out {tmp_path} to resume that run, or another --out"]
    monkeypatch.chdir(tmp_path)
    own = config_of(argv).run_dir  # the run in its own default directory: that is where it goes, no note
    own.mkdir(parents=True)
    (own / "config.json").write_text(path.read_text())
    notes.clear()
    config_from_args(build_parser().parse_args(["--config", str(own / "config.json")]), notes)
    assert notes == []


def test_an_empty_config_file_is_said_to_hold_no_settings(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    notes = []
    config = config_from_args(build_parser().parse_args(["--config", str(path)]), notes)
    assert notes == [f"{path} holds no settings: every setting is at its default"] and config.budget == 600


def test_a_strategy_s_own_model_is_resolved_before_anything_is_written(tmp_path, capsys):
    """ALPS's model=/nonexistent started the run (its config.json written) and failed after the data loaded, in
    the words of --model's own error."""
    from al.simulate import main, run_models

    assert run_models(config_of(["--strategy", "alps", "--strategy-param", "model=x"])) == [
        ("all-MiniLM-L6-v2", ""), ("x", "strategy 'alps' param model")]
    assert run_models(config_of(["--classifier", "bert", "--classifier-param", "model=y"]))[1] == (
        "y", "classifier 'bert' param model")
    from al.config import SimulationConfig
    from al.strategy import Strategy

    class OwnModel(Strategy):  # a param named model that names no model: not resolved
        def __init__(self, model: str = "linear"):
            super().__init__()

    config = SimulationConfig(strategy={"name": "x", "params": {"model": "linear"}})
    object.__setattr__(config, "strategy_class", lambda: OwnModel)  # frozen: this instance alone
    assert run_models(config) == [("all-MiniLM-L6-v2", "")]
    out = tmp_path / "run"
    assert main(["--strategy", "alps", "--strategy-param", f"model={tmp_path / 'none'}", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"error: strategy 'alps' param model: model path {tmp_path / 'none'} does not "
                                       f"exist; pass an existing directory or a model name\n")
    assert not out.exists()
    space = ["--space", "cea", "--space-scope", "encoder", "--space-param", "model=z"]
    assert run_models(config_of(["--strategy", "class_embedding", *space]))[-1] == (
        "z", "space 'cea' (encoder scope) param model")  # its fit loaded it after the data, the run named
    space[-1] = f"model={tmp_path / 'none'}"
    assert main(["--strategy", "class_embedding", *space, "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"error: space 'cea' (encoder scope) param model: model path "
                                       f"{tmp_path / 'none'} does not exist; pass an existing directory or a model "
                                       f"name\n")
    assert not out.exists()


def test_a_label_the_strategy_skipped_is_said_once_on_the_console():
    """class_embedding skips a label with no labeled text (no centroid) for whole rounds: it was in rounds.jsonl
    alone, and its F1 stayed 0 with nothing on screen to say why."""
    from al.simulate import skipped_note

    said: set[str] = set()
    record = {"picked": [1, 2], "strategy_info": {"skipped_labels": ["veg-oil"]}}
    assert skipped_note(record, said, "class_embedding") == (
        "note: class_embedding picked nothing for veg-oil: no labeled text carries it, so it has no centroid; it "
        "gets no pick until one of its texts comes in with another label's picks (strategy_info.skipped_labels)")
    assert skipped_note(record, said, "class_embedding") is None  # said once
    both = {"picked": [3], "strategy_info": {"skipped_labels": ["veg-oil", "fire", "aid"]}}
    assert skipped_note(both, said, "class_embedding").startswith(
        "note: class_embedding picked nothing for fire, aid: no labeled text carries them, so they have no centroid; "
        "they get no pick until texts of theirs come in")
    assert skipped_note({"picked": [], "strategy_info": {"skipped_labels": ["x"]}}, said, "s") is None  # no query
    assert skipped_note({"picked": [1], "strategy_info": {"targets": ["a"]}}, said, "s") is None
    drawn = {"picked": [4, 5], "strategy_info": {"targets": [], "skipped_labels": ["a", "b"], "fallback": "random"}}
    fresh: set[str] = set()
    assert skipped_note(drawn, fresh, "class_embedding") == (
        "note: class_embedding drew its 2 picks at random: no labeled text carries any label yet, so no label has a "
        "centroid; it picks by centroids once one does (strategy_info.fallback)")
    assert skipped_note(drawn, fresh, "class_embedding") is None  # said once
    later = {"picked": [6], "strategy_info": {"targets": ["a"], "skipped_labels": ["b"]}}
    assert skipped_note(later, fresh, "class_embedding").startswith(  # not taken as said by the random round
        "note: class_embedding picked nothing for b: no labeled text carries it")
    assert skipped_note({**drawn, "picked": [4]}, set(), "s").startswith("note: s drew its 1 pick at random")


def test_a_run_read_from_its_config_json_is_named_on_the_start_line_as_the_command_named_it(tmp_path, monkeypatch,
                                                                                           capsys):
    """`--config runs/X/config.json --out runs/X-again` printed `logreg(C=1.0, class_weight=balanced, max_iter=1000,
    threshold=fixed) classifier`, as if every default were a variant; the command had said `logreg classifier`."""
    import al.embedders
    from tests.unit.test_analyze_own_data import HashEmbedder
    from tests.unit.test_grid import _csv

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    data = _csv(tmp_path / "d.csv")
    base = ["--dataset", "csv", "--data-path", str(data), "--labels", "a", "b", "--initial", "10", "--step", "5",
            "--budget", "20", "--strategy", "cvirs", "--strategy-param", "threshold=0.3"]
    said = []
    for argv in ([*base, "--out", str(tmp_path / "first")],
                 ["--config", str(tmp_path / "first" / "config.json"), "--out", str(tmp_path / "again")]):
        assert main(argv) == 0
        said.append(next(line for line in capsys.readouterr().err.splitlines() if line.startswith("starting: ")))
    assert said[0].startswith("starting: cvirs(threshold=0.3) on d ") and " logreg classifier -> " in said[0]
    assert said[1] == said[0].replace(str(tmp_path / "first"), str(tmp_path / "again"))


def test_a_run_s_config_json_given_from_elsewhere_reads_its_relative_data_file_where_the_run_was_started(
        tmp_path, monkeypatch, capsys):
    """The README's `--config runs/X/config.json --out runs/X-again` said 'data path d.csv does not exist' from
    another directory, where labeled_texts on the same run finds the file."""
    import al.embedders
    from al.records import read_rounds
    from tests.unit.test_analyze_own_data import HashEmbedder
    from tests.unit.test_grid import _csv

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    (tmp_path / "project").mkdir()
    _csv(tmp_path / "project" / "d.csv")
    monkeypatch.chdir(tmp_path / "project")
    assert main(["--dataset", "csv", "--data-path", "d.csv", "--labels", "a", "b", "--initial", "10", "--step", "5",
                 "--budget", "20", "--out", "runs/first", "--quiet"]) == 0
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    capsys.readouterr()
    first = tmp_path / "project" / "runs" / "first"
    assert main(["--config", str(first / "config.json"), "--out", "again", "--quiet"]) == 0
    assert capsys.readouterr().err.startswith(
        f"warning: data_path d.csv of {first / 'config.json'} is not found from here ({tmp_path / 'elsewhere'}): read "
        f"from the directory the run was started in, {tmp_path / 'project' / 'd.csv'}\n")
    assert [r["picked"] for r in read_rounds("again")] == [r["picked"] for r in read_rounds(first)]


def test_a_command_called_in_process_leaves_the_progress_display_as_it_was(tmp_path):
    """`main([... "--quiet"])` left every later run of the same process quiet (a notebook, the next test)."""
    import al.progress
    from al.analyze import main as analyze

    assert not al.progress.is_quiet()
    for command, bad in ((main, ["--budget", "-1"]), (analyze, ["--seed", "-1"])):  # refused at once: said, rc 2
        assert command([*bad, "--quiet", "--out", str(tmp_path / "x")]) == 2
        assert not al.progress.is_quiet()


def test_the_start_line_spells_params_as_a_command_line_or_yaml_file_gives_them(tmp_path, monkeypatch, capsys):
    """It echoed `logreg(class_weight=None)` for `--classifier-param class_weight=null`, and a refused value read
    `got True` for `true`: Python's spelling, where the user had typed the command line's."""
    import al.embedders
    from al.config import Component, console_spelling
    from tests.unit.test_analyze_own_data import HashEmbedder
    from tests.unit.test_grid import _csv

    assert [console_spelling(v) for v in (True, False, None, "dev", 0.3, 5)] == ["true", "false", "null", "dev",
                                                                                  "0.3", "5"]
    assert Component("x", {"b": None, "a": True}).label(console_spelling) == "x(a=true, b=null)"
    assert Component("x", {"b": None, "a": True}).label() == "x(a=True, b=None)"  # reports and folders: as before
    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    data = _csv(tmp_path / "d.csv")
    assert main(["--dataset", "csv", "--data-path", str(data), "--labels", "a", "b", "--initial", "10", "--step", "5",
                 "--budget", "20", "--classifier-param", "class_weight=null", "--out", str(tmp_path / "r")]) == 0
    start = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("starting: "))
    assert " logreg(class_weight=null) classifier -> " in start
    assert main(["--dataset", "csv", "--data-path", str(data), "--labels", "a", "b", "--classifier-param",
                 "C=true"]) == 2
    assert "logreg C must be a positive number, got true; " in capsys.readouterr().err


def test_a_mapping_param_written_without_a_space_after_its_colons_is_refused_with_the_fix(tmp_path, capsys):
    """YAML reads {0:1,1:0} as {'0:1': None, '1:0': None}: the classifier then said its class_weight was wrong and
    showed that mapping, with no word of why."""
    from al.config import SimulationConfig, glued_key

    assert glued_key({"0:1": None}) == "0:1" and glued_key([{"a": {"b:c": None}}]) == "b:c"
    assert glued_key({0: 1, "url": "http://x"}) is None and glued_key({"a:b": 1}) is None  # a value: a real key
    assert main(["--classifier-param", "class_weight={0:1,1:0}", "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == (
        "error: --classifier-param 'class_weight={0:1,1:0}': YAML reads '0:1' as one key with no value (a colon in "
        "a mapping needs a space after it); write class_weight='{0: 1, 1: 0}'\n")
    with pytest.raises(ConfigError, match=r"^classifier.params class_weight: YAML reads '0:1' as one key with no "
                                          r"value; a colon in a mapping needs a space after it: \{0: 1\}, not \{0:1\}$"):
        SimulationConfig(classifier={"name": "logreg", "params": {"class_weight": {"0:1": None}}})
    assert not (tmp_path / "r").exists()


def test_a_user_strategy_s_own_warning_names_its_line(tmp_path, monkeypatch):
    """A strategy's warnings.warn said "warning: ..." with no place, where numpy's next to it named the line."""
    import al.embedders
    from tests.unit.test_analyze_own_data import HashEmbedder
    from tests.unit.test_grid import _csv

    (tmp_path / "warnmod.py").write_text(
        "import warnings\n\nfrom al.strategy import Strategy\n\n\nclass Noisy(Strategy):\n"
        "    def query(self, state, n):\n        warnings.warn('few texts left')\n"
        "        return state.indices_unlabeled[:n]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "warnmod", raising=False)
    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    data = _csv(tmp_path / "d.csv")
    import warnings

    from al.cli import one_line_warning

    with warnings.catch_warnings(record=True) as seen:  # what the command's showwarning is handed
        warnings.simplefilter("always")
        assert main(["--dataset", "csv", "--data-path", str(data), "--labels", "a", "b", "--initial", "10", "--step",
                     "5", "--budget", "20", "--strategy", "warnmod:Noisy", "--out", str(tmp_path / "r")]) == 0
    (w,) = [w for w in seen if str(w.message) == "few texts left"][:1]
    assert one_line_warning(w.message, w.category, w.filename, w.lineno) == \
        "warning: few texts left (at warnmod.py:8)\n"
    sys.modules.pop("warnmod", None)


def test_a_settings_file_s_data_path_found_beside_it_says_where_relative_paths_are_read(tmp_path, monkeypatch,
                                                                                          capsys):
    """--config walk/my.yaml with data_path: texts.csv (beside it) said only that ./texts.csv did not exist."""
    (tmp_path / "walk").mkdir()
    (tmp_path / "walk" / "texts.csv").write_text("text,a\nx,1\n")
    (tmp_path / "walk" / "my.yaml").write_text("dataset: csv\ndata_path: texts.csv\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "walk/my.yaml", "--describe"]) == 2
    assert capsys.readouterr().err == (
        f"error: data path texts.csv does not exist (a relative path is read from the current directory: looked for "
        f"{tmp_path / 'texts.csv'}); fix data_path (it is there beside walk/my.yaml: a relative path in a settings "
        f"file is read from the working directory, not the file's folder; write data_path: walk/texts.csv, or an "
        f"absolute path)\n")
    (tmp_path / "walk" / "texts.csv").unlink()  # nowhere: no word of the file's folder
    assert main(["--config", "walk/my.yaml", "--describe"]) == 2
    assert capsys.readouterr().err.endswith("); fix data_path\n")
    # data_path: ../texts.csv, in the parent folder, which is the working directory: it said "beside walk/my.yaml"
    # and advised walk/../texts.csv
    (tmp_path / "texts.csv").write_text("text,a\nx,1\n")
    (tmp_path / "walk" / "my.yaml").write_text("dataset: csv\ndata_path: ../texts.csv\n")
    assert main(["--config", "walk/my.yaml", "--describe"]) == 2
    assert capsys.readouterr().err.endswith(
        "; fix data_path (it is found from walk/my.yaml's folder: a relative path in a settings file is read from the "
        "working directory, not the file's folder; write data_path: texts.csv, or an absolute path)\n")


def test_a_pick_no_one_asked_for_is_called_the_default(tmp_path, capsys):
    """A file with no eligible label said "but 5 frequent + 5 rare = 10 were asked for" to a user who had asked for
    nothing: the counts are the default's."""
    data = tmp_path / "d.csv"
    data.write_text("text,split,labels\n" + "".join(f"text {i},train,{'a|b' if i % 2 else 'a'}\n" for i in range(60)))
    assert main(["--dataset", "csv", "--data-path", str(data), "--describe"]) == 2
    assert "before the label reduction, but the default 5 frequent + 5 rare = 10 were asked for (" in \
        capsys.readouterr().err
    assert main(["--dataset", "csv", "--data-path", str(data), "--describe", "--rare", "5"]) == 2  # given: as given
    assert "before the label reduction, but 5 frequent + 5 rare = 10 were asked for (" in capsys.readouterr().err
