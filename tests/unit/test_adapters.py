"""small-text and modAL strategies in our loop: conformance, simulations, reference picks, library quirks."""
from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("small_text")
pytest.importorskip("modAL")

from al.classifiers.linear import LogisticRegressionClassifier  # noqa: E402
from al.engine import Simulation  # noqa: E402
from al.errors import ConfigError, QueryError  # noqa: E402
from al.registry import available, get_strategy  # noqa: E402
from al.strategy import PoolState, validate_answer  # noqa: E402
from al.testing import check_strategy, make_state  # noqa: E402
from strategies.adapters import (  # noqa: E402
    MODAL_FUNCTIONS,
    MODAL_REFUSED,
    SMALLTEXT_REFUSED,
    SMALLTEXT_STRATEGIES,
    ProbaEstimator,
)
from tests.conftest import hash_embed  # noqa: E402

pytestmark = [  # small-text's own notices, raised inside its code
    pytest.mark.filterwarnings("ignore:Default distance metric has changed:UserWarning"),
    pytest.mark.filterwarnings("ignore:The function get_flattened_unique_labels:DeprecationWarning"),
]

ALL_SPECS = [f"smalltext:{name}" for name in SMALLTEXT_STRATEGIES] + [f"modal:{name}" for name in MODAL_FUNCTIONS]
SIMULATED = [
    "smalltext:BreakingTies",
    "smalltext:PredictionEntropy",
    "smalltext:CategoryVectorInconsistencyAndRanking",
    "smalltext:EmbeddingKMeans",
    "smalltext:ContrastiveActiveLearning",
    "modal:uncertainty_sampling",
    "modal:margin_sampling",
    "modal:entropy_sampling",
    "modal:min_confidence",
    "modal:max_score",
    "modal:uncertainty_batch_sampling",
]
RANDOMISED = [  # draw from NumPy's global generator inside the library
    "smalltext:RandomSampling", "smalltext:LightweightCoreset", "smalltext:EmbeddingKMeans", "modal:max_score",
]

# Four unlabeled rows (2..5) with hand-checked picks for n=2:
# top-two margins .80 .05 .30 .02 -> BreakingTies / margin_sampling pick rows 3 and 5;
# smallest label probability .00 .10 .20 .38 -> min_confidence picks rows 2 and 3.
PROBA = np.array([
    [0.9, 0.2, 0.1],
    [0.1, 0.8, 0.3],
    [0.9, 0.1, 0.0],
    [0.5, 0.45, 0.1],
    [0.6, 0.3, 0.2],
    [0.4, 0.38, 0.42],
])


def simulate(corpus, spec: str, seed: int = 0) -> list[dict]:
    return Simulation(
        corpus, get_strategy(spec)(), lambda s: LogisticRegressionClassifier(seed=s), hash_embed,
        initial=20, step=10, budget=40, seed=seed,
    ).run()


def tiny_state(proba: np.ndarray = PROBA, rng_seed: int = 0) -> PoolState:
    return PoolState(
        indices_labeled=np.array([0, 1]),
        indices_unlabeled=np.arange(2, len(proba)),
        y_labeled=sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 1]])),
        label_names=("a", "b", "c"),
        rng=np.random.default_rng(rng_seed),
        views={"proba": lambda: proba},
    )


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_conformance(spec):
    check_strategy(get_strategy(spec))


@pytest.mark.parametrize("spec", SIMULATED)
def test_runs_in_a_simulation(corpus, spec):
    rounds = simulate(corpus, spec)
    assert [r["n_labeled"] for r in rounds] == [20, 30, 40]
    picked = np.concatenate([rounds[0]["initial"], *(r["picked"] for r in rounds)])
    assert len(np.unique(picked)) == 40


@pytest.mark.parametrize("spec", RANDOMISED)
def test_same_seed_same_picks(corpus, spec):
    first, second = simulate(corpus, spec, seed=5), simulate(corpus, spec, seed=5)
    assert [r["picked"] for r in first] == [r["picked"] for r in second]


def test_randomness_comes_from_the_state_rng_and_global_numpy_is_restored():
    strategy = get_strategy("smalltext:RandomSampling")()
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = strategy.query(make_state(rng_seed=1)[0], 10)
    assert np.array_equal(np.random.get_state()[1], before)
    assert np.array_equal(strategy.query(make_state(rng_seed=1)[0], 10), first)
    assert not np.array_equal(strategy.query(make_state(rng_seed=2)[0], 10), first)


def test_hand_checked_picks_on_a_tiny_pool():
    def picks(spec: str) -> set[int]:
        return set(get_strategy(spec)().query(tiny_state(), 2).tolist())

    assert picks("smalltext:BreakingTies") == picks("modal:margin_sampling") == {3, 5}
    assert picks("modal:min_confidence") == {2, 3}


@pytest.mark.parametrize("spec", ["smalltext:LeastConfidence", "smalltext:PredictionEntropy", "smalltext:BreakingTies",
                                  "modal:uncertainty_sampling", "modal:margin_sampling", "modal:entropy_sampling"])
def test_one_label_is_read_as_the_binary_distribution_1_minus_p_p(spec):
    """With one label, a row was one number: margin and entropy scored every text alike (picks in index order),
    least confidence took the most confident negatives (1 - p), and BreakingTies raised IndexError."""
    proba = np.array([[0.9], [0.1], [0.01], [0.62], [0.99], [0.45], [0.2], [0.05]])
    state = PoolState(indices_labeled=np.array([0, 1]), indices_unlabeled=np.arange(2, 8),
                      y_labeled=sp.csr_matrix(np.array([[1], [0]])), label_names=("spam",),
                      rng=np.random.default_rng(0), views={"proba": lambda: proba})
    assert sorted(get_strategy(spec)().query(state, 2).tolist()) == [3, 5]  # 0.62 and 0.45: nearest 0.5


def test_smalltext_breaking_ties_equals_the_library_on_its_own_classifier():
    from small_text.query_strategies import BreakingTies

    class FixedClassifier:
        def predict_proba(self, dataset):
            return PROBA[np.asarray(dataset)]

    theirs = BreakingTies().query(FixedClassifier(), np.arange(len(PROBA)), np.arange(2, 6), np.arange(2), None, n=2)
    ours = get_strategy("smalltext:BreakingTies")().query(tiny_state(), 2)
    assert np.array_equal(np.sort(ours), np.sort(theirs))


@pytest.mark.parametrize("function", ["margin_sampling", "uncertainty_sampling", "entropy_sampling", "avg_confidence"])
def test_modal_pick_equals_the_library_on_a_fitted_sklearn_estimator(function):
    import modAL.multilabel
    import modAL.uncertainty

    base, _ = make_state()
    estimator = base.classifier.model_  # a fitted OneVsRestClassifier(LogisticRegression)
    embeddings = base.embeddings
    state = PoolState(
        indices_labeled=base.indices_labeled, indices_unlabeled=base.indices_unlabeled, y_labeled=base.y_labeled,
        label_names=base.label_names, rng=np.random.default_rng(0),
        views={"proba": lambda: estimator.predict_proba(embeddings)},
    )
    library = getattr(modAL.uncertainty, function, None) or getattr(modAL.multilabel, function)
    positions, _ = library(estimator, embeddings[state.indices_unlabeled], n_instances=7)
    ours = get_strategy(f"modal:{function}")().query(state, 7)
    assert np.array_equal(ours, state.indices_unlabeled[positions])


def test_modal_predict_uses_the_classifier_thresholds():
    state, _ = make_state()
    estimator = ProbaEstimator(state.proba[state.indices_unlabeled], state.classifier.thresholds_)
    X = state.embeddings[state.indices_unlabeled]
    assert np.array_equal(estimator.predict(X), state.classifier.predict(X))


def test_modal_estimator_answers_for_its_pool_only():
    estimator = ProbaEstimator(PROBA[2:])
    assert estimator.classes_.tolist() == [0, 1, 2]
    assert estimator.predict(np.zeros((4, 1))).tolist() == (PROBA[2:] >= 0.5).astype(int).tolist()
    with pytest.raises(QueryError, match="4 unlabeled texts"):
        estimator.predict_proba(np.zeros((3, 1)))


def test_modal_active_learner_teach_fails_on_this_sklearn_but_the_adapter_works():
    from modAL.models import ActiveLearner
    from sklearn.linear_model import LogisticRegression

    state, _ = make_state()
    picked = get_strategy("modal:uncertainty_sampling")().query(state, 5)
    validate_answer(picked, state, 5, "modal:uncertainty_sampling")

    X = state.embeddings
    learner = ActiveLearner(estimator=LogisticRegression(), X_training=X[:12], y_training=np.arange(12) % 2)
    try:
        learner.teach(X[12:14], np.array([0, 1]))
    except TypeError as exc:
        assert "force_all_finite" in str(exc)
    else:
        pytest.skip("this modAL's ActiveLearner.teach works with this scikit-learn")


@pytest.mark.filterwarnings("ignore:The function from_arrays is experimental")
def test_smalltext_transformers_integration_fails_on_this_transformers_but_the_adapter_works(tmp_path):
    transformers = pytest.importorskip("transformers")

    state, _ = make_state()
    picked = get_strategy("smalltext:BreakingTies")().query(state, 5)
    validate_answer(picked, state, 5, "smalltext:BreakingTies")

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(vocab))
    if hasattr(tokenizer, "encode_plus"):
        pytest.skip("this transformers still has tokenizer.encode_plus")
    from small_text.integrations.transformers.datasets import TransformersDataset

    with pytest.raises(AttributeError, match="encode_plus"):
        TransformersDataset.from_arrays(["hello world"], np.array([0]), tokenizer)


def test_smalltext_gets_gold_labels_of_the_labeled_texts_only():
    state, _ = make_state()
    strategy = get_strategy("smalltext:CategoryVectorInconsistencyAndRanking")()
    seen = {}
    query = strategy._strategy.query

    def spy(clf, dataset, indices_unlabeled, indices_labeled, y, n):
        seen.update(dataset=dataset, indices_labeled=indices_labeled, y=y)
        return query(clf, dataset, indices_unlabeled, indices_labeled, y, n=n)

    strategy._strategy.query = spy
    strategy.query(state, 5)
    assert np.array_equal(seen["indices_labeled"], state.indices_labeled)
    assert sp.issparse(seen["y"]) and np.array_equal(seen["y"].toarray(), state.y_labeled.toarray())
    assert len(seen["dataset"]) == state.n_pool and vars(seen["dataset"]).keys() == {"rows"}


def test_smalltext_scores_follow_our_convention():
    strategy = get_strategy("smalltext:BreakingTies")()
    strategy.query(tiny_state(), 2)
    np.testing.assert_allclose(strategy.last_scores, [-0.8, -0.05, -0.3, -0.02])


def test_registry_resolves_the_families():
    assert {"smalltext:*", "modal:*"} <= set(available())
    cls = get_strategy("smalltext:BreakingTies")
    assert cls is get_strategy("smalltext:BreakingTies")
    assert cls.name == "smalltext:BreakingTies" and cls.requires == {"proba"}
    assert get_strategy("smalltext:ContrastiveActiveLearning").requires == {"embeddings", "proba"}
    assert get_strategy("smalltext:RandomSampling").requires == frozenset()
    assert get_strategy("modal:max_score").requires == {"proba", "classifier"}
    assert get_strategy("modal:margin_sampling").name == "modal:margin_sampling"


@pytest.mark.parametrize("spec, guess, listed", [
    ("smalltext:BreakingTie", "BreakingTies", "BreakingTies, CategoryVectorInconsistencyAndRanking"),
    ("smalltext:breakingties", "BreakingTies", "BreakingTies, CategoryVectorInconsistencyAndRanking"),
    ("modal:margin", "margin_sampling", "margin_sampling, max_loss"),
])
def test_unknown_names_list_the_supported_ones(spec, guess, listed):
    name = spec.partition(":")[2]
    with pytest.raises(ConfigError, match=f"unknown .* strategy '{name}' \\(did you mean {guess}\\?\\); supported: "
                                          f".*{listed}"):
        get_strategy(spec)


@pytest.mark.parametrize("spec, meant", [("modAL:margin_sampling", "modal:margin_sampling"),
                                         ("small-text:BreakingTies", "smalltext:BreakingTies"),
                                         ("Small_Text:GreedyCoreset", "smalltext:GreedyCoreset")])
def test_a_librarys_own_spelling_of_a_family_gets_the_familys_name(spec, meant):
    """modAL:margin_sampling said modAL defines no Strategy subclass; small-text:... to add a folder to PYTHONPATH."""
    with pytest.raises(ConfigError, match=f"^strategy '{spec}': '{spec.partition(':')[0]}' is no strategy family "
                                          f"\\(did you mean {meant}\\?\\)"):
        get_strategy(spec)


@pytest.mark.parametrize("spec", [f"smalltext:{n}" for n in SMALLTEXT_REFUSED] + [f"modal:{n}" for n in MODAL_REFUSED])
def test_refused_names_say_why(spec):
    with pytest.raises(ConfigError, match="cannot run in this loop: .+; supported: "):
        get_strategy(spec)


def test_small_text_s_notice_of_its_changed_default_metric_is_not_passed_on():
    """small-text 1.2+ warns on every GreedyCoreset built without the cosine metric; the metric used is known."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_strategy("smalltext:GreedyCoreset")()._strategy.distance_metric == "euclidean"
        assert get_strategy("smalltext:GreedyCoreset")(distance_metric="cosine")._strategy.distance_metric == "cosine"


def test_parameters_reach_the_wrapped_strategy():
    assert get_strategy("smalltext:EmbeddingKMeans")(normalize=False)._strategy.normalize is False
    assert get_strategy("smalltext:DiscriminativeActiveLearning")(num_iterations=2)._strategy.num_iterations == 2
    assert get_strategy("smalltext:ContrastiveActiveLearning")()._strategy.pbar is None
    assert get_strategy("modal:margin_sampling")(random_tie_break=True).params == {"random_tie_break": True}
    with pytest.raises(ConfigError, match="rejects the parameters"):
        get_strategy("smalltext:BreakingTies")(k=3)
    with pytest.raises(ConfigError, match="rejects the parameters"):
        get_strategy("smalltext:GreedyCoreset")(distance_metric="manhattan")
    with pytest.raises(ConfigError, match=r"rejects the parameters \['metric'\]; it takes: random_tie_break"):
        get_strategy("modal:margin_sampling")(metric="cosine")
    assert get_strategy("modal:uncertainty_batch_sampling")(metric="cosine").params == {"metric": "cosine"}
    with pytest.raises(ConfigError, match=r"sets \['n_instances'\] itself"):
        get_strategy("modal:margin_sampling")(n_instances=3)


def test_a_wrapped_count_refuses_a_fraction_before_the_pool_is_embedded():
    """small-text leaves its counts unannotated (typed ``int`` in its docstrings): ``k=2.5`` was taken and raised a
    TypeError inside scikit-learn at the first query; ``normalize`` and other parameters keep what they had."""
    from al.config import SimulationConfig

    with pytest.raises(ConfigError, match=r"param k must be an integer, got 2.5; .*; and param batch_size must be "
                                          r"an integer, got 1000.0"):
        get_strategy("smalltext:ContrastiveActiveLearning")(k=2.5, batch_size=1e3)
    for name, param in (("smalltext:DiscriminativeActiveLearning", "unlabeled_factor"),
                        ("smalltext:GreedyCoreset", "batch_size"),
                        ("smalltext:CategoryVectorInconsistencyAndRanking", "batch_size")):
        with pytest.raises(ConfigError, match=f"param {param} must be an integer, got 2.5"):
            SimulationConfig(strategy={"name": name, "params": {param: 2.5}}).validate()
    assert get_strategy("smalltext:ContrastiveActiveLearning")(k=3)._strategy.k == 3
    with pytest.raises(ConfigError, match=r"param prediction_threshold must be a number.*got 'high'"):
        get_strategy("smalltext:CategoryVectorInconsistencyAndRanking")(prediction_threshold="high")
    assert get_strategy("smalltext:CategoryVectorInconsistencyAndRanking")(
        epsilon=1)._strategy.epsilon == 1  # a number's default takes an integer


def test_a_wrapped_strategys_defaults_are_its_params_as_al_s_own_are():
    """normalize=true given (small-text's default) was another run than normalize left out; a misspelt parameter
    got no did-you-mean; a factory, which no command line can give, was taken and failed at the first query."""
    from al.config import SimulationConfig, default_params

    def resolved(name, params):
        return SimulationConfig(strategy={"name": name, "params": params}).resolved()["strategy"]["params"]

    assert resolved("smalltext:EmbeddingKMeans", {}) == resolved("smalltext:EmbeddingKMeans", {"normalize": True}) \
        == {"normalize": True}
    assert resolved("modal:margin_sampling", {"random_tie_break": False}) == resolved("modal:margin_sampling", {})
    assert default_params(get_strategy("smalltext:DiscriminativeActiveLearning")) == {
        "num_iterations": 1, "unlabeled_factor": 10}  # this adapter's num_iterations; no factory, no pbar
    for name, params, said in (
            ("smalltext:EmbeddingKMeans", {"normalise": False}, r"has no parameter 'normalise' \(did you mean "
                                                                r"normalize\?\); accepted: normalize$"),
            ("smalltext:DiscriminativeActiveLearning", {"classifier_factory": "x"},
             r"has no parameter 'classifier_factory'; accepted: num_iterations, unlabeled_factor$"),
            ("modal:margin_sampling", {"n_instances": 3},
             r"has no parameter 'n_instances'; accepted: random_tie_break")):
        with pytest.raises(ConfigError, match=said):
            SimulationConfig(strategy={"name": name, "params": params}).validate()


@pytest.mark.parametrize("spec, modules, pip", [
    ("smalltext:BreakingTies", ["small_text", "small_text.query_strategies"], "pip install small-text"),
    ("modal:margin_sampling", ["modAL", "modAL.uncertainty"], "pip install modal-python"),
])
def test_missing_library_names_the_install_command(monkeypatch, spec, modules, pip):
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)
    cls = get_strategy(spec)  # names resolve without the library
    with pytest.raises(ConfigError, match=pip):
        cls()


def test_import_needs_neither_library():
    code = (
        "import sys; sys.modules.update(small_text=None, modAL=None); "  # any import of either would fail
        "import al, strategies, strategies.adapters; from al.registry import get_strategy; "
        "print(get_strategy('smalltext:BreakingTies').requires, get_strategy('modal:margin_sampling').name)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "frozenset({'proba'}) modal:margin_sampling\n"


def test_query_sizes_are_the_step_and_a_last_step_shrunk_to_fit():
    from al.config import query_sizes

    assert query_sizes(100, 50, 600) == [50]
    assert query_sizes(100, 50, 620) == [50, 20]  # 100, 150, ..., 600, then 20 to reach 620
    assert query_sizes(100, 50, 120) == [20]
    assert query_sizes(10, 7, 30) == [7, 6]  # 10, 17, 24, then 6


def test_smalltext_dal_with_more_parts_than_a_query_has_texts_is_refused_while_settings_are_checked():
    """num_iterations above the query size met a ValueError at the first query, after the pool was embedded."""
    from al.config import Component, SimulationConfig

    def config(num_iterations, budget):
        return SimulationConfig(strategy=Component("smalltext:DiscriminativeActiveLearning",
                                                      {"num_iterations": num_iterations}), step=50, budget=budget)

    with pytest.raises(ConfigError) as each:
        config(51, 600)._validated()
    assert str(each.value) == (
        "strategy 'smalltext:DiscriminativeActiveLearning' splits each query into num_iterations=51 parts of at least "
        "one text, and each query asks for 50; lower --strategy-param num_iterations to at most 50, or raise --step")
    with pytest.raises(ConfigError, match=r"the last query asks for 20; lower --strategy-param num_iterations to at "
                                          r"most 20, or make --budget minus --initial a multiple of --step$"):
        config(21, 620)._validated()
    for parts in (0, -1, 2.0, None):  # met a ZeroDivisionError, "returned 0 indices" or a TypeError at the query
        with pytest.raises(ConfigError, match=rf"got num_iterations={json.dumps(parts)}; give --strategy-param "
                                              r"num_iterations a positive integer \(small-text's default: 1\)$"):
            config(parts, 600)._validated()
    one = SimulationConfig(strategy=Component("smalltext:DiscriminativeActiveLearning", {"num_iterations": 30}),
                           initial=190, step=20, budget=200)  # one query, of 10: raising --step changes nothing
    with pytest.raises(ConfigError, match=r"its one query asks for 10; lower --strategy-param num_iterations to at "
                                          r"most 10, or raise --budget minus --initial$"):
        one._validated()
    config(50, 600)._validated()
    config(20, 620)._validated()
    SimulationConfig(strategy=Component("smalltext:GreedyCoreset", {}), step=5, budget=110)._validated()


def test_a_modal_metric_no_distance_knows_is_refused_when_the_strategy_is_made():
    """metric=cosin reached scikit-learn at the first query, after the pool was embedded."""
    make = get_strategy("modal:uncertainty_batch_sampling")
    with pytest.raises(ConfigError, match=r"^strategy 'modal:uncertainty_batch_sampling': metric 'cosin' is no "
                                          r"distance scikit-learn knows \(did you mean cosine\?\) "
                                          r"\(InvalidParameterError\); give one of .*cosine, euclidean"):
        make(metric="cosin")
    for metric in ("cosine", "euclidean", "correlation", "chebyshev"):
        make(metric=metric)


@pytest.mark.parametrize("name, params, said", [
    ("smalltext:CategoryVectorInconsistencyAndRanking", {"prediction_threshold": 7}, "prediction_threshold must be a "
     "number in (0, 1), got 7"),  # it ran, ranking ties by index
    ("smalltext:DiscriminativeActiveLearning", {"unlabeled_factor": -1}, "unlabeled_factor must be a number in [1, "
     "inf), got -1"),  # numpy's 'Negative dimensions' at the first query, after the pool was embedded
    ("smalltext:ContrastiveActiveLearning", {"k": 0}, "k must be a number in [1, inf), got 0"),
    ("smalltext:GreedyCoreset", {"batch_size": 0}, "batch_size must be a number in [1, inf), got 0"),
])
def test_smalltext_parameters_out_of_their_range_are_refused_while_settings_are_checked(name, params, said):
    from al.config import Component, SimulationConfig

    with pytest.raises(ConfigError) as caught:
        SimulationConfig(strategy=Component(name, params), budget=150).validate()
    assert str(caught.value) == f"strategy {name!r} {said}; give one such, or leave it out for its default"
    SimulationConfig(strategy=Component(name, {}), budget=150).validate()  # the defaults lie inside
