"""``al.simulate.run`` called from Python: its errors and warnings name ``SimulationConfig``'s keywords, not the
command's flags, and a warning met inside al points at the caller's line."""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import al.simulate
from al.config import SimulationConfig
from al.errors import ConfigError, DataError
from al.simulate import in_file_terms, run, source_changed, strategy_source


def split_named_file(path: Path) -> Path:
    """600 texts, 8 labels joined by ``|``, and a split column named ``Split`` (the rule reads ``split``)."""
    rng = np.random.default_rng(1)
    rows = ["text,labels,Split"]
    for i in range(600):
        labels = [name for name in "abcdefgh" if rng.random() < 0.2] or ["a"]
        rows.append(f"message {i} about {' '.join(labels)},{'|'.join(labels)},"
                    f"{rng.choice(['train', 'train', 'dev', 'test'])}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_an_error_of_run_names_the_keyword_to_change_not_the_flag(tmp_path):
    with pytest.raises(ConfigError) as caught:
        run(SimulationConfig(budget="200", out=str(tmp_path / "run")))
    assert "give budget=600" in str(caught.value) and "--" not in str(caught.value)


def test_a_warning_of_run_names_the_keyword_and_points_at_the_callers_line(tmp_path):
    data = split_named_file(tmp_path / "split.csv")
    config = SimulationConfig(dataset="csv", data_path=str(data), labels=["a", "b"], budget=5000,
                              out=str(tmp_path / "run"))
    with warnings.catch_warnings(record=True) as seen, pytest.raises(DataError) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        run(config)
    assert "lower budget to at most" in str(caught.value) and "--budget" not in str(caught.value)
    split = [w for w in seen if "'Split'" in str(w.message)]
    assert len(split) == 1, [str(w.message) for w in seen]
    assert "to split by 'Split': data_options[\"split_column\"] Split" in str(split[0].message)
    assert "--split-column" not in str(split[0].message)
    assert (split[0].filename, split[0].lineno) == (__file__, line)


def test_the_command_still_names_its_flags(tmp_path, capsys):
    data = split_named_file(tmp_path / "split.csv")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        code = al.simulate.main(["--dataset", "csv", "--data-path", str(data), "--labels", "a", "b", "--budget",
                                 "5000", "--out", str(tmp_path / "run")])
    assert code == 2 and "lower --budget to at most" in capsys.readouterr().err
    assert any("to split by 'Split': --split-column Split" in str(w.message) for w in seen)


@pytest.mark.parametrize("given", [{"budget": 200}, "cvirs", None])
def test_run_given_no_config_says_what_it_takes(given):
    with pytest.raises(TypeError, match=r"run\(\) takes a SimulationConfig, got .*SimulationConfig\(budget=600"):
        run(given)


@pytest.mark.parametrize(("message", "said"), [
    ("give --budget 600, say", "give budget=600, say"),
    ("use --classifier bert", "use classifier bert"),  # a word after a flag: a value only where surely one
    ("--classifier logreg or knn", "classifier logreg or knn"),
    ("leave --label-columns out", 'leave data_options["label_columns"] out'),
    ("add --space NAME (cea, snnl)", "add space=NAME (cea, snnl)"),
    ("or pass another --out", "or pass another out="),
    ("pass an --out you can write to", "pass an out you can write to"),
    ("pass --out runs/x to resume", "pass out runs/x to resume"),
    ("again (before each ->) and --out /tmp/r to resume it", "again (before each ->) and out='/tmp/r' to resume it"),
    ("fix --split-column (data_options split_column)", 'fix data_options["split_column"]'),
    ("lower --frequent/--rare (--frequent 3 --rare 3 keeps all 6)", "lower n_frequent/n_rare (n_frequent=3 n_rare=3 "
                                                                    "keeps all 6)"),
    ("fix it and run the same command to go on", "fix it and call run() again with the same config to go on"),
])
def test_flags_in_python_terms(message, said):
    assert in_file_terms(message, python=True) == said


def test_a_relative_out_that_names_a_folder_is_written_as_a_keyword(tmp_path, monkeypatch):
    """A resume's advice "and --out runs/x" read "and out runs/x" in Python terms, where an absolute path read
    "out='/tmp/r'"; a folder there is surely the value, whatever its path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "x").mkdir(parents=True)
    assert in_file_terms("again and --out runs/x to resume it", python=True) == "again and out='runs/x' to resume it"
    assert in_file_terms("pass --out runs/y to resume", python=True) == "pass out runs/y to resume"  # no such folder
    # a word after --out is prose, though a folder of that name is there: it read "another out='runs' the fixed code"
    assert in_file_terms("pass another --out runs the fixed code from the start", python=True) == \
        "pass another out runs the fixed code from the start"


NOTEBOOK_CELL = '''
import functools

import numpy as np

from al.strategy import Strategy, top_n


def logged(query):
    @functools.wraps(query)
    def wrapper(self, state, n):
        return query(self, state, n)
    return wrapper


class Cell(Strategy):
    kinds = frozenset({"a", "b", "c", "d"})
    groups = (frozenset({"food", "water", "shelter", "medical"}), frozenset({"fire", "storm"}))
    reducers = (np.mean, np.max)
    weights = {"a": 1.0, "b": 2.0}

    @logged
    def query(self, state, n, temperature=1.0):
        return top_n(-state.indices_unlabeled.astype(float), state.indices_unlabeled, n)
'''


def notebook_class(monkeypatch, source: str, lines_before: int = 0) -> type:
    """``Cell`` as a notebook defines it: in a module of no file, at a line of its cell's."""
    module = types.ModuleType("notebook_cells")
    monkeypatch.setitem(sys.modules, "notebook_cells", module)
    exec(compile("\n" * lines_before + source, "<cell>", "exec"), module.__dict__)
    return module.Cell


def test_a_strategy_defined_in_a_jupyter_cell_is_known_by_its_code(monkeypatch):
    """Jupyter's cells run in a __main__ of no file, where inspect raises OSError, not TypeError: run() failed with
    'source code not available' on a class check_strategy had passed."""
    module = types.ModuleType("__main__")  # as IPython's kernel makes it: no __file__
    monkeypatch.setitem(sys.modules, "__main__", module)
    exec(compile(NOTEBOOK_CELL, "<ipython-input-3>", "exec"), module.__dict__)
    source = strategy_source(SimulationConfig(strategy=module.Cell))
    assert source["file"] == "strategy Cell (defined in __main__, no file)" and len(source["digest"]) > 16


def test_a_strategy_of_no_file_is_known_by_its_code_not_where_it_stands(monkeypatch):
    first = strategy_source(SimulationConfig(strategy=notebook_class(monkeypatch, NOTEBOOK_CELL)))
    again = strategy_source(SimulationConfig(strategy=notebook_class(monkeypatch, NOTEBOOK_CELL, lines_before=7)))
    edited = strategy_source(SimulationConfig(strategy=notebook_class(
        monkeypatch, NOTEBOOK_CELL.replace("-state.indices", "state.indices"))))
    constant = strategy_source(SimulationConfig(strategy=notebook_class(
        monkeypatch, NOTEBOOK_CELL.replace('"d"}', '"e"}'))))
    default = strategy_source(SimulationConfig(strategy=notebook_class(
        monkeypatch, NOTEBOOK_CELL.replace("temperature=1.0", "temperature=2.0"))))
    weight = strategy_source(SimulationConfig(strategy=notebook_class(
        monkeypatch, NOTEBOOK_CELL.replace('"b": 2.0', '"b": 5.0'))))
    assert first == again and first["file"] == "strategy Cell (defined in notebook_cells, no file)"
    # the decorated query's own body, a set's member, a default, a dict's value: each another digest
    assert len({first["digest"], edited["digest"], constant["digest"], default["digest"], weight["digest"]}) == 5
    note = source_changed({"strategy_source": first}, edited, "runs/nb")
    assert note.startswith("strategy Cell (defined in notebook_cells, no file) changed since runs/nb last ran")
    assert source_changed({"strategy_source": first}, again, "runs/nb") is None


def test_a_strategy_of_no_file_digests_alike_in_another_process(tmp_path):
    """A set's order is the process's string hashing's: the digest must not follow it."""
    script = tmp_path / "digest.py"
    script.write_text("import sys, types\nfrom al.simulate import class_code_digest\n"
                      "module = types.ModuleType('cells'); sys.modules['cells'] = module\n"
                      f"exec({NOTEBOOK_CELL!r}, module.__dict__)\nprint(class_code_digest(module.Cell))\n")
    digests = {subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    # (a tuple of sets, a tuple of numpy's functions: their reprs hold hash orders and addresses)
    assert len(digests) == 1 and len(digests.pop().strip()) == 32


def test_numpy_integers_are_integers_of_a_config():
    config = SimulationConfig(seed=np.int64(3), budget=np.int32(300), pool_size=np.uint16(2000), n_rare=np.int8(4))
    config.validate()
    assert (config.seed, config.budget, config.pool_size, config.n_rare) == (3, 300, 2000, 4)
    assert all(type(v) is int for v in (config.seed, config.budget, config.pool_size, config.n_rare))
    assert config.run_dir == SimulationConfig(seed=3, budget=300, pool_size=2000, n_rare=4).run_dir
    with pytest.raises(ConfigError, match="seed must be an integer"):
        SimulationConfig(seed=np.float64(3)).validate()


def test_the_settings_a_run_records_give_its_config_again():
    """``config.json``'s ``config`` (``resolved()``) records a pretrained space's scope, period and target as null."""
    config = SimulationConfig(strategy={"name": "cvirs", "params": {"threshold": 0.4}}, budget=300, seed=2)
    recorded = config.resolved()
    assert recorded["space_scope"] is None
    again = SimulationConfig(**recorded).validate()
    assert again.resolved() == recorded and again.run_dir == config.run_dir


@pytest.mark.parametrize(("given", "said"), [
    ({"space_scope": "encoder"}, "space_scope='encoder' is read only with a fitted space, and this run's space is "
                                 "pretrained: not read"),
    ({"space_every": 3, "space_for": "strategy"},
     "space_every=3, space_for='strategy' are read only with a fitted space"),
    ({"labels": ["a", "b"], "n_frequent": 2}, "n_frequent=2 not read: labels=['a', 'b'] keeps exactly those labels"),
    ({"labels": []}, "labels=[] names no label, so the automatic pick is used (5 frequent + 5 rare labels); give "
                     "labels=None for it, or name the labels to keep"),  # it ran 10 labels unsaid
])
def test_run_warns_of_a_keyword_its_run_does_not_read(tmp_path, monkeypatch, given, said):
    monkeypatch.setattr(al.simulate, "run_as_command", lambda config, quiet: [])
    with pytest.warns(UserWarning) as seen:
        run(SimulationConfig(out=str(tmp_path / "run"), **given))
    assert [said in str(w.message) for w in seen] == [True]
    assert seen[0].filename == __file__


def test_run_warns_of_nothing_for_defaults_and_a_fitted_space(tmp_path, monkeypatch):
    monkeypatch.setattr(al.simulate, "run_as_command", lambda config, quiet: [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(SimulationConfig(out=str(tmp_path / "a"), labels=["a", "b"]))
        run(SimulationConfig(out=str(tmp_path / "b"), space="cea", space_scope="encoder", space_every=2))


def test_run_warns_that_threads_is_recorded_not_applied_where_the_process_runs_others(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(al.simulate, "run_as_command", lambda config, quiet: [])
    other = torch.get_num_threads() + 1
    with pytest.warns(UserWarning, match=rf"threads={other} is recorded with the run, not applied: .*"
                                         rf"al.device.limit_threads\({other}\) first"):
        run(SimulationConfig(out=str(tmp_path / "a"), threads=other))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(SimulationConfig(out=str(tmp_path / "b"), threads=torch.get_num_threads()))


def test_run_leaves_the_warning_filters_a_library_adds_as_it_loads(tmp_path, monkeypatch):
    def loads_a_library(config, quiet):
        warnings.filterwarnings("ignore", message="a library's own noise")
        return []

    monkeypatch.setattr(al.simulate, "run_as_command", loads_a_library)
    shown = warnings.showwarning
    with warnings.catch_warnings():
        run(SimulationConfig(out=str(tmp_path / "run")))
        assert any(f[1] is not None and f[1].pattern == "a library's own noise" for f in warnings.filters)
        assert warnings.showwarning is shown


def test_overlapping_runs_in_two_threads_restore_how_warnings_show_and_reword_their_own_alone(tmp_path, monkeypatch):
    """Thread A in, B in, A out, B out: the second call had saved the first's hook, so the hook stayed for good and
    reworded every later warning of the process."""
    import threading

    a_in, b_in, a_out, warned = threading.Event(), threading.Event(), threading.Event(), threading.Event()

    def first(config, quiet):
        a_in.set()
        b_in.wait(5)
        warned.wait(5)
        return []

    def second(config, quiet):
        b_in.set()
        a_out.wait(5)
        return []

    monkeypatch.setattr(al.simulate, "run_as_command", lambda config, quiet: (first if config.seed == 1 else second)(
        config, quiet))
    before = warnings.showwarning
    a = threading.Thread(target=lambda: (run(SimulationConfig(seed=1, out=str(tmp_path / "a"))), a_out.set()))
    a.start()
    a_in.wait(5)
    b = threading.Thread(target=run, args=(SimulationConfig(seed=2, out=str(tmp_path / "b")),))
    b.start()
    b_in.wait(5)
    with warnings.catch_warnings(record=True) as seen:  # this thread is in no run: its words stay
        warnings.simplefilter("always")
        warnings.warn("use --budget 5 here")
    warned.set()
    a.join(5)
    b.join(5)
    assert warnings.showwarning is before and [str(w.message) for w in seen] == ["use --budget 5 here"]


def test_validate_called_from_python_names_keywords_and_python_values():
    """SimulationConfig(budget=None).validate() said 'got null; give --budget 600': the command line's words to a
    Python caller (run() reworded them; validate() did not)."""
    with pytest.raises(ConfigError) as caught:
        SimulationConfig(budget=None).validate()
    assert str(caught.value) == ("budget must be a positive integer (a number of texts), got None; give budget=600, "
                                 "say, its default")
    with pytest.raises(ConfigError, match=r"got True$"):
        SimulationConfig(seed=True).validate()
    with pytest.raises(ConfigError, match=r"raise budget or lower initial$"):
        SimulationConfig(initial=300, budget=200).validate()
    # both sides of a change, as a resume's refusal says them
    assert in_file_terms("(pool_size: 500 -> null; labels: null -> ['a']; warm_start: true -> false; got 'true')",
                         python=True) == "(pool_size: 500 -> None; labels: None -> ['a']; warm_start: True -> False; " \
                                        "got 'true')"


def test_numpy_scalars_in_a_component_s_params_are_python_s_numbers_recorded_and_checked_as_such():
    """sub_batches=np.int64(5) passed validate() and then failed run() writing config.json (int64 is not JSON
    serializable); logreg's C=np.int64(2) was refused where C=2 passes."""
    import json

    config = SimulationConfig(strategy={"name": "dal", "params": {"sub_batches": np.int64(5)}},
                              classifier={"name": "logreg", "params": {"C": np.int64(2), "threshold": np.float32(0.5),
                                                                       "class_weight": {np.int64(0): np.int64(1)}}})
    assert config.validate() is config
    assert type(config.strategy.params["sub_batches"]) is int and type(config.classifier.params["C"]) is int
    assert json.loads(json.dumps(config.resolved()))["classifier"]["params"]["class_weight"] == {"0": 1}


def test_labels_given_as_a_set_or_an_array_are_the_same_run_in_every_process():
    """labels={"food", "water", ...} took the set's order, which PYTHONHASHSEED changes: other picks in another
    process, and the same script refused its own run folder the next time."""
    script = ("from al.config import SimulationConfig; import numpy as np; "
              "print(SimulationConfig(labels={'food', 'water', 'shelter', 'request'}).labels, "
              "SimulationConfig(labels=np.array(['water', 'food'])).labels)")
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "3", "7")}
    assert outputs == {"('food', 'request', 'shelter', 'water') ('water', 'food')\n"}


@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "Y_labeled": a["Y_labeled"] * 0.3}, "diagnostics (the labeled set) got labels holding 0.3"),
    (lambda a: {**a, "embeddings_unlabeled": a["embeddings_unlabeled"][:, :3]},
     "diagnostics got labeled vectors of 4 dimensions and unlabeled ones of 3; expected both from one encoder"),
    (lambda a: {**a, "label_names": "ab"}, "diagnostics (the labeled set) got label names as one string 'ab'"),
    (lambda a: {**a, "k": 2.5}, "diagnostics' k must be a whole number"),
    (lambda a: {**a, "embeddings_labeled": np.full_like(a["embeddings_labeled"], np.nan)},
     "diagnostics (the labeled set) got embeddings holding NaN or infinity in row 0"),
])
def test_diagnostics_checks_what_it_is_given_as_analyze_pool_does(change, message):
    """diagnostics(...) computed on scores where analyze_pool refused them, and met a bad k or dimension with
    faiss's own errors."""
    from al.analysis.diagnostics import diagnostics

    rng = np.random.default_rng(0)
    good = {"embeddings_labeled": rng.normal(size=(20, 4)), "Y_labeled": np.eye(2, dtype=int)[np.arange(20) % 2],
            "embeddings_unlabeled": rng.normal(size=(30, 4)),
            "Y_unlabeled_for_evaluation_only": np.eye(2, dtype=int)[np.arange(30) % 2], "label_names": ["a", "b"],
            "k": np.int64(5)}
    assert diagnostics(**good)["k"] == 5  # a numpy integer is an integer
    with pytest.raises(ConfigError) as caught:
        diagnostics(**change(good))
    assert message in str(caught.value)


def test_a_dataframe_as_data_path_is_refused_in_a_short_line_saying_how_to_give_it():
    """data_path=df was refused with the DataFrame's whole repr (800 characters) and YAML's advice."""
    import pandas as pd

    frame = pd.DataFrame({"text": [f"text {i}" for i in range(1500)], "food": [i % 2 for i in range(1500)]})
    with pytest.raises(ConfigError) as caught:
        SimulationConfig(dataset="csv", data_path=frame).validate()
    assert str(caught.value) == ("data_path must be a path such as data/texts.csv (a string), got a pandas DataFrame; "
                                 "write it to a file first, df.to_csv('texts.csv', index=False), and give "
                                 "data_path='texts.csv' with dataset='csv'")
    with pytest.raises(ConfigError) as caught:
        SimulationConfig(dataset="csv", data_path=list(range(1000))).validate()
    assert len(str(caught.value)) < 200


def test_a_strategy_instance_is_refused_saying_to_pass_its_class_and_params():
    from strategies.uncertainty import LeastConfidence

    with pytest.raises(ConfigError, match=r"got LeastConfidence\(\); pass the class and its params, \{'name': "
                                          r"LeastConfidence, 'params': \{\.\.\.\}\}: each run builds its own instance"):
        SimulationConfig(strategy=LeastConfidence())
