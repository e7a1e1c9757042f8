"""``python -m al.simulate``: bad input gets one clear line, exit code 2, nothing written."""
from __future__ import annotations

import subprocess
import sys

import pytest

from al.simulate import build_parser, config_from_args, main


@pytest.fixture
def empty_text_csv(tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text("text,a,b\nfine,1,0\n   ,0,1\n")
    return path


BAD_INPUTS = {
    "unknown strategy": (["--strategy", "cvris"], "unknown strategy 'cvris'; known: "),
    "unknown dataset": (["--dataset", "imdb"], "unknown dataset 'imdb'; known: csv, disaster, jsonl, reuters"),
    "unknown model": (["--model", "no-such-model-xyz"], "model 'no-such-model-xyz' is not installed locally"),
    "missing model dir": (["--model", "./no/such/dir"], "model path ./no/such/dir does not exist"),
    "unknown classifier": (["--classifier", "svm"], "unknown classifier 'svm'; known: bert, logreg"),
    "budget not above initial": (["--budget", "100"], "budget (100) must be larger than the initial labeled set (100)"),
    "step zero": (["--step", "0"], "step must be a positive integer, got 0"),
    "step negative": (["--step", "-5"], "step must be a positive integer, got -5"),
    "initial larger than pool": (
        ["--pool-size", "50", "--initial", "60", "--budget", "100"],
        "initial labeled set (60) is larger than the pool (50 texts)",
    ),
    "labels absent": (["--labels", "food", "unicorns"], "label(s) 'unicorns' not in corpus 'disaster'"),
    "missing data path": (["--dataset", "reuters", "--data-path", "/no/such/reuters.tar.gz"], "does not exist"),
    "reuters without a path": (["--dataset", "reuters"], "needs --data-path"),
    "bad strategy param": (["--strategy-param", "nokey"], "expects KEY=VALUE"),
    "strategy rejects param": (["--strategy", "random", "--strategy-param", "k=1"], "rejects its parameters"),
}


@pytest.mark.parametrize("argv, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    code = main([*argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1, err  # one line, no traceback
    assert not out.exists()  # nothing half-written


def test_empty_texts(empty_text_csv, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["--dataset", "csv", "--data-path", str(empty_text_csv), "--labels", "a", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "1 empty text(s) in column 'text'" in err and err.count("\n") == 1
    assert not out.exists()


def test_no_traceback_from_a_real_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "al.simulate", "--budget", "50", "--out", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == "error: budget (50) must be larger than the initial labeled set (100): " \
                            "the budget is the labeled-set size at the end\n"
    assert result.stdout == ""


def test_help_documents_every_option():
    text = build_parser().format_help()
    for flag in ["--dataset", "--data-path", "--labels", "--model", "--classifier", "--initial", "--step",
                 "--budget", "--seed", "--out", "--device", "--strategy", "--config", "--describe"]:
        assert flag in text


def test_yaml_config_and_flag_override(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("strategy: random\nbudget: 300\nlabels: [food, water]\nstrategy_params: {}\n")
    parser = build_parser()
    config = config_from_args(parser.parse_args(["--config", str(path), "--budget", "400"]), parser)
    assert (config.strategy, config.budget, config.labels) == ("random", 400, ("food", "water"))
    path.write_text("strategy: random\nbugdet: 300\n")
    assert main(["--config", str(path)]) == 2


def test_describe_prints_the_corpus(capsys):
    assert main(["--describe"]) == 0
    out = capsys.readouterr().out
    assert "corpus disaster" in out and "label cardinality" in out


def test_list_strategies(capsys):
    assert main(["--list-strategies"]) == 0
    assert {"random", "class_embedding"} <= set(capsys.readouterr().out.split())
