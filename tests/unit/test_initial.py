"""Cold starts from label names and from k-means, on hand examples."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from al.config import parse_yaml

from al.errors import ConfigError, DataError
from al.initial import kmeans_start, label_name_start, label_text, load_label_descriptions, nearest_distinct

# Two labels pointing along x and y; pool texts by angle:
#   0: (1, 0)       cos to x 1,     to y 0
#   1: (0.9, 0.1)   cos to x 0.994, to y 0.110
#   2: (0, 2)       cos to x 0,     to y 1 (length does not matter)
#   3: (0.1, 0.9)   cos to x 0.110, to y 0.994
#   4: (1, 1)       cos 0.707 to both
# Round-robin: x takes 0, y takes 2, x takes 1, y takes 3, x takes 4.
LABELS = np.array([[1.0, 0.0], [0.0, 1.0]])
POOL = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 2.0], [0.1, 0.9], [1.0, 1.0]])


def test_label_name_start_round_robin_by_hand():
    assert label_name_start(LABELS, POOL, 5).tolist() == [0, 2, 1, 3, 4]
    assert label_name_start(LABELS, POOL, 3).tolist() == [0, 2, 1]
    assert label_name_start(LABELS, POOL, 0).tolist() == []


def test_label_name_start_skips_texts_another_label_took():
    # both labels nearest text 0; the second label takes its next nearest
    labels = np.array([[1.0, 0.0], [1.0, 0.05]])
    pool = np.array([[1.0, 0.02], [0.0, 1.0], [1.0, 0.2]])
    # label 0: cos to 0 is 0.9998, to 2 0.981; label 1 (1, 0.05): to 0 0.9998+, to 2 0.987
    assert label_name_start(labels, pool, 2).tolist() == [0, 2]


def test_label_name_start_ties_go_to_the_lower_index():
    pool = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 0.0], [3.0, 0.0]])  # 1, 2, 3 all at cosine 1 to x
    assert label_name_start(np.array([[1.0, 0.0]]), pool, 3).tolist() == [1, 2, 3]


def test_label_name_start_refuses_bad_sizes_and_shapes():
    with pytest.raises(ConfigError, match=r"initial set \(6\) cannot be larger than the pool \(5 texts\)"):
        label_name_start(LABELS, POOL, 6)
    with pytest.raises(ConfigError, match="must be matrices of one dimension"):
        label_name_start(np.ones((2, 3)), POOL, 2)


# Three tight groups on a line: around 0 (texts 0-2), around 10 (3-5), around 20 (6-8).
# k-means with 3 clusters finds the three means 0, 10, 20; the texts nearest them are 1, 4 and 7.
GROUPS = np.array([[-0.5], [0.1], [0.6], [9.4], [10.1], [10.7], [19.5], [20.2], [20.5]])


def test_kmeans_start_takes_the_text_nearest_each_centre():
    picked = kmeans_start(GROUPS, 3, seed=0)
    assert sorted(picked.tolist()) == [1, 4, 7]
    assert len(set(kmeans_start(GROUPS, 9, seed=0).tolist())) == 9  # every text once


def test_duplicate_nearest_texts_fall_to_the_next_nearest():
    # centre 0 at 0 and centre 1 at 0.1 are both nearest text 0 (at 0.05): centre 0 takes it;
    # centre 1's next nearest are text 1 (at 1, distance 0.9) and text 2 (at -1, distance 1.1) -> text 1
    assert nearest_distinct(np.array([[0.0], [0.1]]), np.array([[0.05], [1.0], [-1.0]])).tolist() == [0, 1]
    # equal distances: the lower index; three centres on one point take the three texts there in order
    pool = np.array([[5.0], [0.0], [0.0], [0.0]])
    assert nearest_distinct(np.zeros((3, 1)), pool).tolist() == [1, 2, 3]
    # duplicate texts in the pool still give distinct picks through k-means
    picked = kmeans_start(np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [5.0, 5.0]]), 3, seed=0)
    assert sorted(picked.tolist()) == [0, 1, 3]


def test_kmeans_start_is_a_function_of_the_seed():
    gen = np.random.default_rng(0)
    pool = gen.normal(size=(300, 8))
    assert kmeans_start(pool, 20, seed=3).tolist() == kmeans_start(pool, 20, seed=3).tolist()
    with pytest.raises(ConfigError, match="cannot be larger than the pool"):
        kmeans_start(pool, 301, seed=0)


def test_label_descriptions_with_fallback_to_the_name(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("money-fx: foreign exchange markets and currencies\n")
    with pytest.warns(UserWarning, match=r"describes 1 of the run's 3 labels; veg-oil, medical_help take their name "
                                         r"instead$"):  # a file for other labels, or a typo, said so
        described = load_label_descriptions(path, ["money-fx", "veg-oil", "medical_help"])
    assert described == {
        "money-fx": "foreign exchange markets and currencies",
        "veg-oil": "veg oil",
        "medical_help": "medical help",
    }
    assert label_text("aid_related-x") == "aid related x"


def test_a_label_description_no_is_text(tmp_path):
    """YAML 1.2's booleans, as in every settings file: ``no`` and ``off`` are descriptions, not false."""
    path = tmp_path / "labels.yaml"
    path.write_text("grain: no\ncorn: off\n")
    assert load_label_descriptions(path, ["grain", "corn"]) == {"grain": "no", "corn": "off"}


@pytest.mark.parametrize("content, message", [
    ("grain: cereals\nnat-gas: natural gas\n", r"names unknown label\(s\) nat-gas; the run's labels: grain, corn"),
    ("grain: 3\n", r"the value of grain is not a non-empty string"),
    ("grain: [a, b]\n", r"the value of grain is not a non-empty string"),
    ("- grain\n", r"holds a list; expected a mapping label -> text"),
    ("grain: [unclosed\n", r"is not valid YAML at line 2, column 1: expected ',' or ']', but got '<stream end>' "
                            r"\(ParserError\)"),
])
def test_bad_label_descriptions_are_one_line_data_errors(tmp_path, content, message):
    path = tmp_path / "labels.yaml"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as info:
        load_label_descriptions(path, ["grain", "corn"])
    assert "\n" not in str(info.value)


def test_missing_or_unreadable_label_descriptions_file(tmp_path):
    from al.errors import ConfigError

    with pytest.raises(ConfigError, match="does not exist; expected a YAML file mapping label -> text"):
        load_label_descriptions(tmp_path / "nope.yaml", ["grain"])
    (tmp_path / "latin1.yaml").write_bytes("grain: céréales\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.yaml is not UTF-8 text \(byte 0xe9 at offset 8\)"):
        load_label_descriptions(tmp_path / "latin1.yaml", ["grain"])
    with pytest.raises(ConfigError, match="is a directory; expected a YAML file"):
        load_label_descriptions(tmp_path, ["grain"])


SIMULATIONS = Path(__file__).resolve().parents[2] / "simulations"


def test_cold_start_grid_file():
    spec = parse_yaml((SIMULATIONS / "cold-start.yaml").read_text())
    grid = spec["grid"]
    assert grid["initial_strategy"] == ["random", "label_names", "kmeans"]
    assert grid["strategy"] == ["random", "class_embedding"]
    assert grid["seed"] == list(range(10))
    reuters = next(d for d in grid["data"] if d["name"] == "reuters")
    assert reuters["labels"] == "money-fx grain crude trade interest wheat corn dlr veg-oil oilseed".split()


def test_cold_start_grid_expands():
    from al.grid import expand_grid

    _, runs = expand_grid(parse_yaml((SIMULATIONS / "cold-start.yaml").read_text()), "cold-start.yaml")
    assert len(runs) == 2 * 3 * 2 * 10


def test_a_file_describing_labels_the_run_left_out_is_read_for_the_kept_ones_and_a_typo_still_refused(tmp_path):
    """One file for every label of a data set: a run keeping some of them refused it, naming the others unknown."""
    path = tmp_path / "labels.yaml"
    path.write_text("grain: cereals\nnat-gas: natural gas\ncrude: oil\n")
    assert load_label_descriptions(path, ["grain", "corn"], ["nat-gas", "crude", "ship"]) == {
        "grain": "cereals", "corn": "corn"}
    path.write_text("grain: cereals\nnat-gs: natural gas\n")
    with pytest.raises(DataError) as typo:
        load_label_descriptions(path, ["grain", "corn"], ["nat-gas", "crude"])
    assert str(typo.value).endswith("names unknown label(s) nat-gs (did you mean nat-gas?); the run's labels: grain, "
                                    "corn (and 2 the run left out)")
    path.write_text("grain: cereals\ncrude: 3\n")  # a left-out label's description is still checked
    with pytest.raises(DataError, match="the value of crude is not a non-empty string"):
        load_label_descriptions(path, ["grain"], ["crude"])


def test_a_reduced_corpus_knows_the_labels_it_left_out_and_its_digest_does_not_count_them():
    from al.datasets.corpus import make_corpus
    from al.datasets.reduction import select_labels, subsample_pool
    from tests.conftest import synthetic_corpus

    corpus = synthetic_corpus(n_texts=300, n_labels=4)
    assert corpus.left_out_labels == ()
    names = list(corpus.label_names)
    kept = select_labels(corpus, names[:2])
    assert kept.left_out_labels == tuple(names[2:])
    assert select_labels(kept, names[:1]).left_out_labels == (*names[2:], names[1])
    smaller = subsample_pool(kept, 50)
    assert smaller.left_out_labels == kept.left_out_labels
    same = make_corpus(kept.name, kept.texts, kept.Y, kept.label_names, kept.splits)
    assert same.digest() == kept.digest() and same.left_out_labels == ()


def test_labels_a_loader_drops_count_as_left_out_and_a_run_s_descriptions_reach_the_loader(tmp_path):
    """A CSV's all-zero label column (and Disaster's child_alone) never reached left_out_labels: a file describing
    every label of the data set was refused naming it unknown."""
    from al.config import SimulationConfig
    from al.datasets import load_dataset
    from al.datasets.reduction import select_labels
    from al.simulate import cold_start
    from tests.conftest import hash_embed

    data = tmp_path / "texts.csv"
    rows = [f"text {i} about {'food' if i % 2 else 'water'},{i % 2},{(i + 1) % 2},{int(i % 5 == 0)},0"
            for i in range(60)]
    data.write_text("text,food,water,shelter,unused\n" + "\n".join(rows) + "\n")
    with pytest.warns(UserWarning, match="'unused' hold only zeros"):
        full = load_dataset("csv", str(data))
    assert full.left_out_labels == ("unused",)
    corpus = select_labels(full, ["food", "water"])
    assert set(corpus.left_out_labels) == {"shelter", "unused"}
    described = tmp_path / "d.yaml"
    described.write_text("food: meals\nunused: a category nobody used\nshelter: tents\n")
    config = SimulationConfig(initial_strategy="label_names", initial=4, label_descriptions=str(described))
    seen = []

    def embed(texts):
        seen.extend(texts)
        return hash_embed(texts)

    assert len(cold_start(config, corpus, embed)) == 4  # the file reached the start through left_out_labels
    assert "meals" in seen and "tents" not in seen and "water" in seen
