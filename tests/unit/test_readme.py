"""The README's custom-strategy example works as written."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from al.registry import get_strategy
from al.testing import check_strategy

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def example_module(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    source = next(b for b in blocks if b.startswith("# mystrategies.py"))
    (tmp_path / "mystrategies.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("mystrategies", None)


def test_readme_strategy_passes_conformance(example_module):
    cls = get_strategy("mystrategies:LeastConfident")
    check_strategy(cls)


def test_readme_strategy_in_a_simulation(example_module, corpus):
    from al.classifiers.linear import LogisticRegressionClassifier
    from al.engine import Simulation
    from tests.conftest import hash_embed

    strategy = get_strategy("mystrategies:LeastConfident")()
    rounds = Simulation(corpus, strategy, lambda s: LogisticRegressionClassifier(seed=s), hash_embed,
                        initial=20, step=10, budget=40).run()
    assert [r["n_labeled"] for r in rounds] == [20, 30, 40]
    assert strategy.last_scores is not None


def test_readme_opens_with_the_two_commands():
    text = README.read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, flags=re.S).group(1).strip().splitlines()
    assert first_block == [
        "bash install.sh && python -m al.simulate --strategy class_embedding --budget 600",
        "python -m pytest",
    ]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "\npython -m pytest\n" in ci  # CI runs the README's test command


def test_readme_grid_file_expands_as_described(tmp_path, monkeypatch):
    """The grid file of "The grid file" gives the 12 simulations, directory name and merged params it says."""
    from al.config import parse_yaml
    from al.grid import expand_grid

    section = README.read_text().split("### The grid file", 1)[1]
    spec = parse_yaml(re.search(r"```yaml\n(.*?)```", section, flags=re.S).group(1))
    monkeypatch.chdir(tmp_path)  # `out` and data paths are relative to where the command runs
    root, runs = expand_grid(spec, "README")
    assert root == tmp_path / "runs" / "mine" and len(runs) == 12
    by_name = {r.name: r.config for r in runs}
    named = re.search(r"`runs/mine/(data-[^`]+)`", section).group(1)
    assert named in by_name
    assert by_name[named].strategy.params == {"sub_batches": 5} and by_name[named].seed == 1
    assert by_name[named].data_path == str(tmp_path / "data" / "mine.csv")
    assert all(c.classifier.params == {"C": 0.5} for c in by_name.values())
