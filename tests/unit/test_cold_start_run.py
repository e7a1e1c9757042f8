"""Cold starts in a run: the start each setting gives, the same for every strategy of one seed, recorded."""
from __future__ import annotations

import json

import numpy as np
import pytest

from al.config import SimulationConfig
from al.engine import Simulation
from al.errors import ConfigError
from al.initial import kmeans_start, label_name_start, label_text
from al.simulate import cold_start
from strategies.class_embedding import ClassEmbedding
from strategies.random_sampling import RandomSampling
from tests.conftest import hash_embed, synthetic_corpus


@pytest.fixture
def corpus():
    return synthetic_corpus(300)


def test_random_start_is_none(corpus):
    assert cold_start(SimulationConfig(), corpus, hash_embed) is None


def test_kmeans_start_is_seeded_and_the_texts_nearest_the_centres(corpus):
    pool = hash_embed(corpus.texts[corpus.splits["train"]].tolist())
    a = cold_start(SimulationConfig(initial_strategy="kmeans", initial=20, seed=3), corpus, hash_embed)
    assert np.array_equal(a, kmeans_start(pool, 20, 3)) and len(np.unique(a)) == 20
    b = cold_start(SimulationConfig(initial_strategy="kmeans", initial=20, seed=4), corpus, hash_embed)
    assert not np.array_equal(np.sort(a), np.sort(b))


def test_label_names_start_embeds_names_or_descriptions(corpus, tmp_path):
    pool = hash_embed(corpus.texts[corpus.splits["train"]].tolist())
    names = list(corpus.label_names)
    start = cold_start(SimulationConfig(initial_strategy="label_names", initial=12), corpus, hash_embed)
    expected = label_name_start(hash_embed([label_text(n) for n in names]), pool, 12)
    assert np.array_equal(start, expected)
    # a description made of a label's own words pulls texts of that label in
    descriptions = tmp_path / "labels.yaml"
    descriptions.write_text("".join(f"{n}: lab{j}w0 lab{j}w1 lab{j}w2 lab{j}w3\n" for j, n in enumerate(names)))
    config = SimulationConfig(initial_strategy="label_names", initial=12, label_descriptions=str(descriptions))
    described = cold_start(config.validate(), corpus, hash_embed)
    Y = corpus.Y[corpus.splits["train"]].toarray()
    for turn, position in enumerate(described[: len(names)]):
        assert Y[position, turn] == 1  # label j's turn took a text of label j
    assert Y[described].sum(axis=0).min() >= 2  # every label is in the start


def test_a_label_names_start_smaller_than_the_labels_warns_which_get_none(corpus):
    """--initial 5 with 10 labels: the turns go in label order, frequent first, and the rare labels a cold start
    most needs got no text, without a word."""
    import warnings

    names = list(corpus.label_names)
    assert len(names) > 3
    with pytest.warns(UserWarning) as caught:
        cold_start(SimulationConfig(initial_strategy="label_names", initial=2), corpus, hash_embed)
    rest = names[2:]
    assert [str(w.message) for w in caught] == [
        f"--initial 2 gives a text to 2 of the {len(names)} labels only: labels take turns in the run's label order "
        f"(frequent first, {', '.join(names[:3])}, ...), and {', '.join(rest[:3])}"
        f"{f' and {len(rest) - 3} more' if len(rest) > 3 else ''} get none; raise --initial to {len(names)} or more "
        f"for a text of each"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cold_start(SimulationConfig(initial_strategy="label_names", initial=len(names)), corpus, hash_embed)
        cold_start(SimulationConfig(initial_strategy="kmeans", initial=2), corpus, hash_embed)


def test_every_strategy_of_a_seed_gets_the_same_start_and_it_is_recorded(corpus):
    start = cold_start(SimulationConfig(initial_strategy="kmeans", initial=20, seed=1), corpus, hash_embed)
    from al.classifiers.linear import LogisticRegressionClassifier

    firsts = []
    for strategy in (RandomSampling(), ClassEmbedding()):
        rounds = Simulation(corpus=corpus, strategy=strategy, embed=hash_embed,
                            make_classifier=lambda s: LogisticRegressionClassifier(seed=s),
                            initial=20, step=10, budget=40, seed=1, start=start).run()
        firsts.append(rounds[0]["initial"])
    assert firsts[0] == firsts[1] == sorted(start.tolist())


def test_descriptions_need_the_label_names_start(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("a: b\n")
    with pytest.raises(ConfigError, match="label_names only"):
        SimulationConfig(label_descriptions=str(path)).validate()
    with pytest.raises(ConfigError, match="initial_strategy must be one of"):
        SimulationConfig(initial_strategy="names").validate()
    assert json.dumps(SimulationConfig(initial_strategy="kmeans").validate().resolved())  # recorded, JSON-ready


def test_a_bad_label_descriptions_file_is_refused_before_the_pool_is_embedded(corpus, tmp_path):
    from al.errors import DataError

    path = tmp_path / "descriptions.yaml"
    path.write_text("no_such_label: a text\n")
    config = SimulationConfig(initial_strategy="label_names", label_descriptions=str(path))

    def embed(texts):
        raise AssertionError("the pool was embedded before the file was read")

    with pytest.raises(DataError, match="names unknown label"):
        cold_start(config, corpus, embed)


def test_a_label_names_start_records_which_label_took_each_text(corpus):
    """Round 0 recorded the sorted start alone: which label's name took a text could not be told."""
    from al.classifiers.linear import LogisticRegressionClassifier
    from al.errors import ConfigError
    from al.initial import label_name_start, label_text
    from al.simulate import start_reasons

    config = SimulationConfig(initial_strategy="label_names", initial=12)
    start = cold_start(config, corpus, hash_embed)
    names = list(corpus.label_names)
    assert start_reasons(config, corpus, start) == names * 3  # labels take turns: 4 labels, 12 texts
    assert start_reasons(SimulationConfig(initial_strategy="kmeans"), corpus, start) is None
    pool = hash_embed(corpus.texts[corpus.splits["train"]].tolist())
    taken = label_name_start(hash_embed([label_text(n) for n in names]), pool, 12)  # in the order taken
    rounds = Simulation(corpus=corpus, strategy=RandomSampling(), embed=hash_embed,
                        make_classifier=lambda s: LogisticRegressionClassifier(seed=s), initial=12, step=10,
                        budget=32, start=start, start_reasons=start_reasons(config, corpus, start)).run()
    by_text = dict(zip(rounds[0]["initial"], rounds[0]["initial_reasons"]))
    assert by_text == {int(taken[k]): names[k % 4] for k in range(12)}
    assert rounds[0]["initial"] == sorted(by_text) and "initial_reasons" not in rounds[1]
    with pytest.raises(ConfigError, match="one reason per start text, got 2 for 12"):
        Simulation(corpus=corpus, strategy=RandomSampling(), embed=hash_embed,
                   make_classifier=lambda s: LogisticRegressionClassifier(seed=s), initial=12, step=10, budget=32,
                   start=start, start_reasons=names[:2])
