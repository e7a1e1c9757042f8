"""Nested settings: components bound to their constructors, resume compares only what changes results."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from al.config import Component, SimulationConfig, from_mapping, normalise_mapping
from al.errors import ConfigError
from al.grid import expand_grid
from al.records import RunRecords
from al.simulate import stored_settings


def start(directory, config: SimulationConfig):
    """Start or resume a run in ``directory`` and finish a round of it (a run with none is replaced, not
    compared; a resume writes its settings with its first round)."""
    records = RunRecords(directory)
    rounds = records.start(config.resolved(), {}, stored_settings=stored_settings)
    records.append({"round": len(rounds), "picked": []})
    return rounds


def test_resolved_params_are_completed_by_the_constructors_defaults():
    resolved = SimulationConfig(strategy={"name": "dal", "params": {"sub_batches": 5}}).resolved()
    assert resolved["strategy"]["params"]["sub_batches"] == 5
    assert resolved["strategy"]["params"]["subsample_factor"] == 10  # DAL's default
    assert resolved["classifier"] == {"name": "logreg", "params": {
        "C": 1.0, "class_weight": "balanced", "max_iter": 1000, "threshold": "fixed"}}
    # a default given explicitly is the same run as the default left out
    assert SimulationConfig(classifier={"name": "logreg", "params": {"C": 1.0}}).resolved() == \
        SimulationConfig().resolved()


def test_bert_fine_tunes_the_sentence_model_unless_told_otherwise():
    config = SimulationConfig(model="all-mpnet-base-v2", classifier="bert")
    assert config.classifier_kwargs()["model"] == "all-mpnet-base-v2"
    other = SimulationConfig(classifier={"name": "bert", "params": {"model": "bert-base-uncased"}})
    assert other.classifier_kwargs()["model"] == "bert-base-uncased"


def test_resume_ignores_settings_that_do_not_change_results(tmp_path):
    start(tmp_path, SimulationConfig(seed=1))
    start(tmp_path, SimulationConfig(seed=1, device="cpu", diagnostics=True, stopping=False, out=str(tmp_path)))
    with pytest.raises(ConfigError, match="other settings \\(seed: 1 -> 2\\)"):
        start(tmp_path, SimulationConfig(seed=2))
    with pytest.raises(ConfigError, match="classifier.params.threshold: 'fixed' -> 'dev'"):
        start(tmp_path, SimulationConfig(seed=1, classifier={"name": "logreg", "params": {"threshold": "dev"}}))


def test_a_bert_setting_never_blocks_resuming_a_logreg_run_stored_in_the_flat_layout(tmp_path):
    """config.json of earlier versions: flat, with bert-only settings even for logreg runs."""
    flat = {"strategy": "class_embedding", "strategy_params": {}, "dataset": "disaster", "data_path": None,
            "labels": None, "n_frequent": 5, "n_rare": 5, "data_options": {}, "pool_size": None,
            "model": "all-MiniLM-L6-v2", "classifier": "logreg", "classifier_model": None, "threshold": "fixed",
            "max_length": 128, "epochs": 15, "batch_size": 16, "learning_rate": None, "warm_start": False,
            "initial": 100, "step": 50, "budget": 600, "seed": 0, "diagnostics": False, "device": "auto",
            "out": None}
    tmp_path.joinpath("config.json").write_text(json.dumps({"config": flat, "version": "0.1.0"}))
    tmp_path.joinpath("rounds.jsonl").write_text(json.dumps({"round": 0, "picked": []}) + "\n")
    records = RunRecords(tmp_path)
    assert len(records.start(SimulationConfig().resolved(), {}, stored_settings=stored_settings)) == 1  # resumes
    records.append({"round": 1, "picked": []})  # with its first new round a resume writes config.json
    stored = json.loads(tmp_path.joinpath("config.json").read_text())["config"]
    assert stored["classifier"]["name"] == "logreg" and "epochs" not in stored  # rewritten in the new layout
    tmp_path.joinpath("config.json").write_text(json.dumps({"config": {**flat, "threshold": "dev"}}))
    with pytest.raises(ConfigError, match="classifier"):
        start(tmp_path, SimulationConfig())


def test_flat_bert_settings_map_to_the_classifier_params():
    values, notes = normalise_mapping({"classifier": "bert", "epochs": 4, "learning_rate": 2e-5}, "x.yaml")
    assert values["classifier"] == {"name": "bert", "params": {"max_epochs": 4, "learning_rate": 2e-5}}
    assert notes == ['x.yaml: epochs, learning_rate at the top level are deprecated; write classifier: '
                     '{name: bert, params: {max_epochs: 4, learning_rate: 2e-05}}']
    # with another classifier they are read by nothing: said as whose they are, with the bert line that reads them
    with pytest.raises(ConfigError, match=r"^x: epochs at the top level is the bert classifier's \(deprecated "
                                          r"there\), and x names no bert classifier beside it \(classifier logreg\); "
                                          r"write classifier: \{name: bert, params: \{max_epochs: 4\}\} there, or "
                                          r"leave it out$"):
        normalise_mapping({"epochs": 4, "threshold": "dev"}, "x")
    values, _ = normalise_mapping({"threshold": "dev"}, "x")  # the one key every classifier reads
    assert values["classifier"] == {"name": "logreg", "params": {"threshold": "dev"}}


@pytest.mark.parametrize("value, message", [
    (3, "strategy must be a name, a Strategy class or a mapping"),
    ({"name": "random", "param": {}}, "strategy must be a name or a mapping"),
    ({"params": {"threshold": 0.3}}, r"strategy must be a name or a mapping .*: it names no component \(name: ...\)"),
    ({"name": "random", "params": [1]}, "strategy.params must be a mapping"),
])
def test_malformed_components(value, message):
    with pytest.raises(ConfigError, match=message):
        SimulationConfig(strategy=value)


def test_component_labels():
    assert Component("dal", {"sub_batches": 5, "a": 1}).label() == "dal(a=1, sub_batches=5)"
    assert Component.coerce("random", "s") == Component("random", {})


def test_grid_lists_cells_with_misspelled_parameters_as_not_run(tmp_path):
    spec = {"out": str(tmp_path), "settings": {"budget": 200},
            "grid": {"strategy": ["random", {"name": "dal", "params": {"sub_batchs": 5}},
                                  {"name": "dal", "params": {"sub_batches": 5}}],
                     "classifier": ["logreg", {"name": "logreg", "params": {"treshold": "dev"}}]}}
    _, runs = expand_grid(spec)
    problems = {r.name: r.problem for r in runs if r.problem}
    assert set(problems) == {
        "strategy-dal_sub_batchs=5__classifier-logreg", "strategy-dal_sub_batchs=5__classifier-logreg_treshold=dev",
        "strategy-random__classifier-logreg_treshold=dev", "strategy-dal_sub_batches=5__classifier-logreg_treshold=dev",
    }
    assert "strategy 'dal' has no parameter 'sub_batchs'" in problems["strategy-dal_sub_batchs=5__classifier-logreg"]
    ok = next(r for r in runs if r.name == "strategy-dal_sub_batches=5__classifier-logreg")
    assert ok.problem is None and ok.config.strategy.params == {"sub_batches": 5}


def test_grid_maps_flat_settings_with_one_note(tmp_path):
    notes: list[str] = []
    spec = {"out": str(tmp_path), "settings": {"classifier": "bert", "epochs": 2},
            "grid": {"seed": [0, 1]}}
    _, runs = expand_grid(spec, "g.yaml", notes)
    assert all(r.config.classifier.params == {"max_epochs": 2} for r in runs)
    assert len(notes) == 1 and "write classifier: {name: bert, params: {max_epochs: 2}}" in notes[0]


def test_a_run_stored_before_a_strategy_param_existed_resumes_at_its_default(tmp_path):
    """DAL gained warm_start after runs were stored: their config.json lacks it, and they ran the faithful form."""
    config = SimulationConfig(strategy="dal")
    resolved = config.resolved()
    old = {**resolved, "strategy": {"name": "dal", "params": {
        k: v for k, v in resolved["strategy"]["params"].items() if k != "warm_start"}}}
    assert "warm_start" not in old["strategy"]["params"] and resolved["strategy"]["params"]["warm_start"] is False
    assert stored_settings({"config": old}) == resolved
    tmp_path.joinpath("config.json").write_text(json.dumps({"config": old}))
    tmp_path.joinpath("rounds.jsonl").write_text(json.dumps({"round": 0, "picked": []}) + "\n")
    assert len(start(tmp_path, config)) == 1  # resumes
    tmp_path.joinpath("config.json").write_text(json.dumps({"config": old}))
    with pytest.raises(ConfigError, match="strategy.params.warm_start: false -> true"):
        start(tmp_path, SimulationConfig(strategy={"name": "dal", "params": {"warm_start": True}}))


def test_classifier_and_space_params_added_since_are_read_as_their_defaults():
    config = SimulationConfig(strategy="class_embedding", space="cea", space_every=2)
    resolved = config.validate().resolved()
    old = json.loads(json.dumps(resolved))
    del old["classifier"]["params"]["max_iter"]
    dropped = sorted(old["space"]["params"])[0]
    del old["space"]["params"][dropped]
    assert stored_settings({"config": old}) == resolved
    # a stored value is kept as stored, never overwritten by a default
    old["classifier"]["params"]["C"] = 0.5
    assert stored_settings({"config": old})["classifier"]["params"]["C"] == 0.5
    # a component that no longer exists is compared as stored
    gone = {**resolved, "strategy": {"name": "retired_strategy", "params": {"x": 1}}}
    assert stored_settings({"config": gone})["strategy"] == {"name": "retired_strategy", "params": {"x": 1}}


def test_a_data_path_is_the_same_setting_however_it_is_spelt(tmp_path, monkeypatch):
    data = tmp_path / "data.csv"
    data.write_text("text,a\nx,1\n")
    (tmp_path / "link.csv").symlink_to(data)
    (tmp_path / "other.csv").write_text("text,a\nx,1\n")  # same bytes, another file
    run = tmp_path / "run"
    start(run, SimulationConfig(dataset="csv", data_path=str(data)))
    monkeypatch.chdir(tmp_path)
    start(run, SimulationConfig(dataset="csv", data_path="data.csv"))  # relative: resumes
    start(run, SimulationConfig(dataset="csv", data_path=str(tmp_path / "link.csv")))  # through a link: resumes
    with pytest.raises(ConfigError, match="data_path: .*other.csv"):
        start(run, SimulationConfig(dataset="csv", data_path=str(tmp_path / "other.csv")))
    data.unlink()  # the stored path (link.csv, the last spelling resumed) now leads nowhere: not known to be the same
    with pytest.raises(ConfigError, match="data_path: .*link.csv' -> 'data.csv'"):
        start(run, SimulationConfig(dataset="csv", data_path="data.csv"))


def test_a_model_param_added_since_reads_as_the_run_s_model_not_the_constructor_s():
    """The run passes its sentence model to a classifier given none: a stored run lacking it used that model."""
    resolved = SimulationConfig(model="all-mpnet-base-v2", classifier="bert").resolved()
    assert resolved["classifier"]["params"]["model"] == "all-mpnet-base-v2"
    old = json.loads(json.dumps(resolved))
    del old["classifier"]["params"]["model"]
    assert stored_settings({"config": old}) == resolved


def test_a_run_whose_data_moved_with_it_is_known_by_the_data_file_s_digest(tmp_path):
    """Runs and data copied elsewhere: the stored path is gone, the bytes are the same."""
    from al.simulate import data_file_digest

    first, second = tmp_path / "old" / "data.csv", tmp_path / "new" / "data.csv"
    first.parent.mkdir()
    first.write_text("text,a\nx,1\n")
    run = tmp_path / "run"

    def begin(path):
        config = SimulationConfig(dataset="csv", data_path=str(path))
        records = RunRecords(run)
        rounds = records.start(config.resolved(), {"data_digest": data_file_digest(str(path))},
                               stored_settings=stored_settings)
        records.append({"round": len(rounds), "picked": []})  # a run to keep; a resume writes its settings so
        return rounds

    begin(first)
    second.parent.mkdir()
    first.rename(second)
    begin(second)  # the same bytes elsewhere: resumes
    assert json.loads((run / "config.json").read_text())["config"]["data_path"] == str(second)
    second.write_text("text,a\ny,0\n")  # other bytes at the stored path's successor
    (tmp_path / "third.csv").write_text("text,a\nx,1\n")
    second.rename(tmp_path / "moved-away.csv")
    with pytest.raises(ConfigError, match="data_path"):
        begin(tmp_path / "moved-away.csv")  # stored path gone and other bytes: not the same
    begin(tmp_path / "third.csv")  # the recorded bytes (x,1) under yet another name: the same


def test_a_setting_added_since_a_run_was_stored_is_compared_at_its_default(tmp_path):
    """A stored run without `pool_size` used the whole pool: resuming it with a subsample is refused."""
    resolved = SimulationConfig(strategy="random").resolved()
    old = {k: v for k, v in resolved.items() if k != "pool_size"}
    assert stored_settings({"config": old}) == resolved
    tmp_path.joinpath("config.json").write_text(json.dumps({"config": old}))
    tmp_path.joinpath("rounds.jsonl").write_text(json.dumps({"round": 0, "picked": []}) + "\n")
    assert len(start(tmp_path, SimulationConfig(strategy="random"))) == 1  # resumes
    with pytest.raises(ConfigError, match="pool_size: null -> 500"):
        start(tmp_path, SimulationConfig(strategy="random", pool_size=500))


WRONG_TYPES = {
    "data_path": (5, "data_path must be a path such as data/texts.csv (a string) or null, got 5 (int)"),
    "label_descriptions": (5, "label_descriptions must be a path such as labels.yaml (a string) or null, got 5"),
    "out": (5, "out must be a path such as runs/my-run (a string) or null, got 5 (int)"),
    "model": (5, "model must be a string such as all-MiniLM-L6-v2, got 5 (int)"),
    "model list": (["a"], "model must be a string such as all-MiniLM-L6-v2, got ['a'] (list)"),
    "dataset": (["csv"], "dataset must be a string such as disaster, got ['csv'] (list)"),
    "device": (0, "device must be a string such as auto, got 0 (int)"),
    "pool_size": (True, "pool_size must be a positive integer, or left out (null) for the whole pool, got true"),
    "labels": (5, "labels must be a list of label names such as [food, water] (or one name), got 5;"),
    "labels of numbers": ([1, "food"], "labels must be a list of label names such as [food, water] (or one name), "
                                       "got [1, 'food']; quote a name"),
    "labels mapping": ({"food": 1}, "labels must be a list of label names"),
}


@pytest.mark.parametrize("key, value, message", [(k.split()[0], *v) for k, v in WRONG_TYPES.items()],
                         ids=WRONG_TYPES.keys())
def test_a_setting_of_the_wrong_type_is_one_config_error_naming_it(key, value, message):
    problems = from_mapping({key: value}, "a.yaml")._problems()  # as a grid's cell meets it: the file's words
    assert problems and message in str(problems[0])


def test_paths_given_as_path_objects_are_taken_as_their_strings(tmp_path):
    """From Python, a local model directory or a data file is naturally a pathlib.Path."""
    config = SimulationConfig(model=tmp_path / "model", data_path=tmp_path / "d.csv", out=tmp_path / "run")
    config._check_types()
    assert (config.model, config.data_path, config.out) == (str(tmp_path / "model"), str(tmp_path / "d.csv"),
                                                           str(tmp_path / "run"))


def test_one_label_given_as_a_string_is_a_one_label_list():
    """`labels: food` in a file means the label food (as `--labels food` does), not the letters f, o, o, d."""
    assert from_mapping({"labels": "food"}).labels == ("food",)
    assert from_mapping({"labels": ["food", "water"]}).labels == ("food", "water")


def test_a_run_directory_under_home_is_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert SimulationConfig(out="~/runs/x").run_dir == tmp_path / "runs" / "x"


def test_a_users_file_names_its_default_run_directory():
    """Every own-data run used to default to ``runs/csv-...``: a second file's run met the first file's records
    and was refused as other data."""
    tickets = SimulationConfig(dataset="csv", data_path="~/data/My Tickets (v2).csv", strategy="random")
    assert tickets.run_dir == Path("runs/csv-My_Tickets_v2-random-logreg-seed0")
    assert SimulationConfig(dataset="jsonl", data_path="a/b.jsonl", seed=3).run_dir.name == \
        "jsonl-b-class_embedding-logreg-seed3"
    assert SimulationConfig(dataset="csv", data_path="a/b.csv", out="mine").run_dir == Path("mine")
    assert SimulationConfig().run_dir == Path("runs/disaster-class_embedding-logreg-seed0")


def test_a_strategy_or_classifier_given_params_names_its_default_run_directory_with_them():
    """Two variants of one strategy met in one folder, the second refused as other settings, with the advice to pass
    another --out."""
    cvirs = SimulationConfig(strategy={"name": "cvirs", "params": {"threshold": 0.3}})
    assert cvirs.run_dir == Path("runs/disaster-cvirs_threshold=0.3-logreg-seed0")
    assert cvirs.default_run_dir(with_params=False) == Path("runs/disaster-cvirs-logreg-seed0")
    both = SimulationConfig(dataset="csv", data_path="t.csv",
                            classifier={"name": "logreg", "params": {"threshold": "dev"}},
                            strategy={"name": "dal", "params": {"warm_start": True, "sub_batches": 5}})
    assert both.run_dir.name == "csv-t-dal_sub_batches=5_warm_start=true-logreg_threshold=dev-seed0"  # sorted
    assert SimulationConfig(strategy={"name": "alps", "params": {"model": "/m/my model"}}).run_dir.name == \
        "disaster-alps_model=_m_my_model-logreg-seed0"
    long = SimulationConfig(strategy={"name": "adaptive", "params": {"betas": [0.05 * i for i in range(21)]}})
    assert re.fullmatch(r"disaster-adaptive_params-[0-9a-f]{10}-logreg-seed0", long.run_dir.name)
    assert long.run_dir != SimulationConfig(strategy={"name": "adaptive", "params": {"betas": [0.1]}}).run_dir
    # a default given, or every param of a run's config.json (resolved): the folder of the params left out
    assert SimulationConfig(strategy={"name": "cvirs", "params": {"threshold": 0.5}}).run_dir == \
        Path("runs/disaster-cvirs-logreg-seed0")
    assert SimulationConfig(classifier={"name": "bert", "params": {"show_progress": False}}).run_dir.name == \
        "disaster-class_embedding-bert-seed0"  # changes no result
    assert {SimulationConfig(classifier={"name": "logreg", "params": {"threshold": t}}).run_dir.name
            for t in (1, 1.0)} == {"disaster-class_embedding-logreg_threshold=1-seed0"}
    for name in ("logreg", "knn"):  # a threshold 'fixed' is 0.5, the default of both however each writes it
        assert {SimulationConfig(classifier={"name": name, "params": {"threshold": t}}).run_dir.name
                for t in ("fixed", 0.5)} == {f"disaster-class_embedding-{name}-seed0"}
    for config in (SimulationConfig(strategy="dal", classifier="knn"), cvirs, both):
        assert from_mapping(config.resolved()).run_dir == config.run_dir
        again = from_mapping(config.resolved())  # the console names it as the command that made it did
        assert [again.shown(which) for which in ("strategy", "classifier")] == \
            [config.shown(which) for which in ("strategy", "classifier")]
    assert (both.shown("strategy"), both.shown("classifier")) == ("dal(sub_batches=5, warm_start=true)",
                                                                  "logreg(threshold=dev)")
    assert from_mapping(SimulationConfig().resolved()).shown("classifier") == "logreg"  # not logreg(C=1.0, ...)


def test_a_run_under_the_older_default_name_of_the_same_file_is_named(tmp_path, monkeypatch):
    """Runs on a user's file moved to a folder named after it: the same command met no run, and said nothing of the
    one in the folder it used to resume."""
    from al.simulate import data_file_digest, older_default_run

    monkeypatch.chdir(tmp_path)
    data = tmp_path / "my-data.csv"
    data.write_text("text,a\nx,1\n")
    config = SimulationConfig(dataset="csv", data_path=str(data), strategy="random")
    older = Path("runs/csv-random-logreg-seed0")
    assert config.default_run_dir(named_after_file=False) == older
    digest = data_file_digest(str(data))
    assert older_default_run(config, digest) is None  # nothing there
    older.mkdir(parents=True)
    (older / "config.json").write_text(json.dumps({"config": {}, "data_digest": "other"}))
    assert older_default_run(config, digest) is None  # another file's run
    (older / "config.json").write_text(json.dumps({"config": {}, "data_digest": digest}))
    assert older_default_run(config, digest) == older
    assert older_default_run(SimulationConfig(dataset="csv", data_path=str(data), strategy="random", out="x"),
                             digest) is None  # --out given
    config.run_dir.mkdir(parents=True)  # the new folder holds a run: it is the one resumed
    assert older_default_run(config, digest) is None


def test_files_named_in_other_letters_get_folders_of_their_own_and_their_earlier_one_is_named(tmp_path, monkeypatch):
    """Folders kept ASCII letters alone: données é.csv and données è.csv shared csv-donn_es (the second run was
    refused for other settings), and every 日本語.csv, 数据.csv ... shared csv-data."""
    import unicodedata

    from al.simulate import data_file_digest, older_default_run

    def folder(name):
        return SimulationConfig(dataset="csv", data_path=name, strategy="random").default_run_dir().name

    assert folder("données é.csv") == "csv-données_é-random-logreg-seed0"
    assert folder("données è.csv") == "csv-données_è-random-logreg-seed0"
    assert folder(unicodedata.normalize("NFD", "données é.csv")) == folder("données é.csv")  # as macOS writes it
    assert folder("日本語.csv") == "csv-日本語-random-logreg-seed0" != folder("数据.csv")
    assert folder("my file (v2).csv") == "csv-my_file_v2-random-logreg-seed0"  # ASCII names as before
    # marks of other scripts are kept (vowel signs had been '_': हिंदी and हांदी shared csv-ह_द); a long name is
    # cut
    assert folder("हिंदी.csv") == "csv-हिंदी-random-logreg-seed0" != folder("हांदी.csv")
    long = folder("数" * 80 + ".csv")  # 240 bytes: the folder's name had been longer than a file system takes
    assert len(long.encode()) < 200 and long != folder("数" * 81 + ".csv")
    # earlier versions' name, from the stem as given: a decomposed é was two characters there
    decomposed = SimulationConfig(dataset="csv", data_path=unicodedata.normalize("NFD", "données é.csv"))
    assert decomposed.default_run_dir(named_after_file="ascii").name == "csv-donne_es_e-class_embedding-logreg-seed0"
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "données.csv"
    data.write_text("text,a\nx,1\n")
    digest = data_file_digest(str(data))
    config = SimulationConfig(dataset="csv", data_path=str(data), strategy="random")
    older = config.default_run_dir(named_after_file="ascii")
    assert older == Path("runs/csv-donn_es-random-logreg-seed0")
    older.mkdir(parents=True)
    (older / "config.json").write_text(json.dumps({"config": config.resolved(), "data_digest": digest}))
    assert older_default_run(config, digest) == older  # the run made before: named, with the --out that resumes it


def test_a_run_under_the_default_name_without_its_params_is_named_where_it_holds_the_same_ones(tmp_path, monkeypatch):
    """Default folders gained the params given: the same command met no run, and said nothing of the one it resumed
    before; a run of other params (or none) there is not this one."""
    from al.simulate import older_default_run

    monkeypatch.chdir(tmp_path)
    config = SimulationConfig(strategy={"name": "cvirs", "params": {"threshold": 0.3}})
    older = config.default_run_dir(with_params=False)
    older.mkdir(parents=True)
    stored = {"config": config.resolved()}
    for threshold, named in ((0.5, None), (0.3, older)):
        stored["config"]["strategy"]["params"]["threshold"] = threshold
        (older / "config.json").write_text(json.dumps(stored))
        assert older_default_run(config, None) == named
        assert older_default_run(config, None, config.resolved()) == named
    (older / "config.json").write_text(json.dumps({"config": {**stored["config"], "dataset": "reuters"}}))
    assert older_default_run(config, None) is None  # another data set's
    (older / "config.json").write_text(json.dumps(stored))
    # an earlier version's flat settings, and a classifier stored before it gained a param: read as this version
    flat = {"dataset": "disaster", "strategy": "cvirs", "strategy_params": {"threshold": 0.3}, "classifier": "logreg",
            "seed": 0, "budget": 600}
    resolved = config.resolved()
    short = {**resolved, "classifier": {"name": "logreg", "params": {
        k: v for k, v in resolved["classifier"]["params"].items() if k != "max_iter"}}}
    for earlier in (flat, short):
        (older / "config.json").write_text(json.dumps({"config": earlier}))
        assert older_default_run(config, None) == older
    (older / "config.json").write_text(json.dumps(stored))
    plain = SimulationConfig(strategy="cvirs")  # no params: its folder is the older one, resumed as before
    assert plain.run_dir == older and older_default_run(plain, None) is None
    config.run_dir.mkdir(parents=True)
    assert older_default_run(config, None) is None


def test_seeds_run_from_zero_to_below_max_seed():
    from al.config import MAX_SEED

    assert MAX_SEED == 2**32
    SimulationConfig(seed=MAX_SEED - 1).validate()
    for seed in (MAX_SEED, 2**70, -1):
        with pytest.raises(ConfigError, match=f"seed must be an integer from 0 to {MAX_SEED - 1} .*got {seed}"):
            SimulationConfig(seed=seed).validate()


def test_a_key_given_twice_in_a_settings_file_is_refused_with_both_lines(tmp_path):
    from al.config import load_yaml

    path = tmp_path / "sim.yaml"
    path.write_text("strategy: random\nbudget: 300\nstrategy: cvirs\n")
    with pytest.raises(ConfigError, match=r"sim.yaml: key 'strategy' is given twice \(lines 1 and 3\); keep one"):
        load_yaml(path)
    path.write_text("classifier: {name: logreg, params: {C: 1, C: 2}}\n")
    with pytest.raises(ConfigError, match=r"key 'C' is given twice \(line 1\)"):
        load_yaml(path)
    path.write_text("base: &b {budget: 300}\nrun:\n  <<: *b\n  budget: 400\n")  # a merge may be overridden
    assert load_yaml(path)["run"] == {"budget": 400}


def test_a_bad_size_is_advised_a_value_the_other_sizes_take():
    """--initial 0 with --budget 100 was advised --initial 100, its default, which the budget then refuses."""
    said = []
    for given in ({"initial": 0, "budget": 100}, {"budget": 0, "initial": 700}, {"budget": 0}):
        with pytest.raises(ConfigError) as caught:
            SimulationConfig(**given).validate()
        said.append(str(caught.value).split("; give ")[1])
    # from Python, in its keywords (the command line's flags where the command validates)
    assert said == ["a number below budget (100)", "a number above initial (700)", "budget=600, say, its default"]
    refused = [str(SimulationConfig(**given)._problems()[0]).split("; give ")[1] for given in (
        {"initial": 0, "budget": 100}, {"budget": 0})]
    assert refused == ["a number below --budget (100)", "--budget 600, say, its default"]  # the command's words
    # problems() called from one's own code says them as validate() does (it gave the flags)
    listed = [str(SimulationConfig(**given).problems()[0]).split("; give ")[1] for given in (
        {"initial": 0, "budget": 100}, {"budget": 0})]
    assert listed == ["a number below budget (100)", "budget=600, say, its default"]
    assert "give labels, or n_frequent/n_rare above 0" in str(SimulationConfig(n_frequent=0, n_rare=0).problems()[0])


def test_every_independent_problem_of_a_config_is_named_in_the_order_validate_meets_them():
    """A grid's dry run named a cell's first problem only: its misspelt strategy showed once the budget was mended."""
    config = from_mapping({"budget": "250", "strategy": "class_embeding", "seed": 3, "threads": 0})
    messages = [str(p) for p in config._problems()]
    assert len(messages) == 3, messages
    assert messages[0] == ("budget must be a positive integer (a number of texts), got '250'; give --budget 600, say, "
                           "its default")
    assert messages[1].startswith("threads must be a positive integer")
    assert messages[2].startswith("unknown strategy 'class_embeding' (did you mean class_embedding?)")
    with pytest.raises(ConfigError, match="^budget must be a positive integer"):  # validate: the first
        config.validate()
    # a part that reads one that failed is not checked: no query sizes after bad sizes (they would say more of the
    # same); a constructor is given seed 0 after a bad seed, so its params' values are checked beside it
    assert [str(p) for p in from_mapping({"budget": 0, "strategy": "dal"})._problems()] == [
        "budget must be a positive integer (a number of texts), got 0; give --budget 600, say, its default"]
    # each size is its own part: a bad step and a bad budget are two problems, their order one more once both pass
    assert [str(p).split(" (")[0] for p in from_mapping({"step": 20.5, "budget": "100"}).problems()] == [
        "step must be a positive integer", "budget must be a positive integer"]
    assert [str(p).split(":")[0] for p in from_mapping({"initial": 300, "budget": 200}).problems()] == [
        "budget (200) must be larger than the initial labeled set (300)"]
    only_seed = from_mapping({"seed": -1, "classifier": "knn", "strategy": "cvirs"}).problems()
    assert len(only_seed) == 1 and str(only_seed[0]).startswith("seed must be an integer from 0")
    seed_and_c = [str(p) for p in from_mapping({"seed": "1", "classifier": {"name": "logreg",
                                                                           "params": {"C": "high"}}}).problems()]
    assert len(seed_and_c) == 2 and seed_and_c[0].startswith("seed must be an integer from 0"), seed_and_c
    assert seed_and_c[1].startswith("logreg C must be a positive number, got 'high'")  # a grid's dry run: every cell
    assert SimulationConfig().problems() == []
    # a space is given no seed: its params are checked beside a bad seed
    seed_and_space = [str(p) for p in from_mapping({"seed": -1, "space": {"name": "cea",
                                                                           "params": {"epochs": "x"}}}).problems()]
    assert len(seed_and_space) == 2 and "space 'cea'" in seed_and_space[1] and "epochs" in seed_and_space[1]


def test_a_strategy_given_other_settings_is_not_built_on_a_bad_one(tmp_path, monkeypatch):
    """run_params naming the budget: a bad budget was said twice, once as a strategy param never given."""
    (tmp_path / "budgeted_strategy.py").write_text(
        "from al.strategy import Strategy\n\n\nclass Budgeted(Strategy):\n"
        "    run_params = {'budget': 'budget'}\n\n"
        "    def __init__(self, budget: int = 10):\n        super().__init__()\n        self.budget = budget\n\n"
        "    def query(self, state, n):\n        return state.indices_unlabeled[:n]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    problems = [str(p) for p in from_mapping({"budget": "250", "strategy": "budgeted_strategy:Budgeted"})._problems()]
    assert problems == ["budget must be a positive integer (a number of texts), got '250'; give --budget 600, say, "
                        "its default"]
    assert from_mapping({"budget": 250, "strategy": "budgeted_strategy:Budgeted"}).problems() == []


def test_every_param_of_the_wrong_kind_is_named_in_one_line():
    """alpha=abc and topk=2.5: topk was named once alpha was mended."""
    import inspect

    from al.config import check_param_types

    def component(alpha: float = 0.5, topk: int = 5, keep: bool = False):
        """A constructor's parameters."""

    params = inspect.signature(component).parameters.values()
    with pytest.raises(ConfigError) as caught:
        check_param_types(params, {"alpha": "abc", "topk": 2.5, "keep": True}, "strategy 'x'")
    assert str(caught.value) == (
        "strategy 'x' param alpha must be a number, got 'abc'; write a number such as 0.5 or 1e-3; and param topk "
        "must be an integer, got 2.5; write a whole number such as 5 (1e3 and 2.0 are read as fractions)")


@pytest.mark.parametrize("name, said", [
    ("data.csv", "(now named after the params given)"),  # an ASCII name: folder names of earlier versions alike
    ("données.csv", "(now named after the file's whole name and the params given)"),
])
def test_the_earlier_folder_s_warning_says_what_the_name_is_now_after(tmp_path, monkeypatch, name, said):
    """For data.csv with C=0.5, the warning said the folder was now named after "the file's whole name and the
    params given", where an ASCII name is spelt as before."""
    import al.embedders
    from al.simulate import data_file_digest, main
    from tests.unit.test_analyze_own_data import HashEmbedder
    from tests.unit.test_grid import _csv

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    data = _csv(tmp_path / name)
    args = ["--dataset", "csv", "--data-path", str(data), "--labels", "a", "b", "--initial", "10", "--step", "5",
            "--budget", "20", "--strategy", "random", "--classifier-param", "C=0.5"]
    config = SimulationConfig(dataset="csv", data_path=str(data), labels=("a", "b"), initial=10, step=5, budget=20,
                              strategy="random", classifier={"name": "logreg", "params": {"C": 0.5}})
    older = config.default_run_dir(named_after_file="ascii", with_params=False)
    older.mkdir(parents=True)
    (older / "config.json").write_text(json.dumps({"config": config.resolved(),
                                                   "data_digest": data_file_digest(str(data))}))
    with pytest.warns(UserWarning, match="under the default name an earlier version gave it") as caught:
        assert main([*args, "--quiet"]) == 0
    (warning,) = [str(w.message) for w in caught if "earlier version" in str(w.message)]
    assert said + "; this run starts in " in warning, warning
