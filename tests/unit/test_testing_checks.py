"""What ``validate_answer``, ``top_n``, ``state.reveal`` and ``check_strategy`` tell a strategy's author: the
strategy's fault as a ConformanceError naming it once, what was expected, what came and how to fix it."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp

from al.errors import ConfigError, InterfaceError, QueryError
from al.strategy import PoolState, Strategy, top_n, validate_answer
from al.testing import ConformanceError, check_strategy, make_state
from tests.conftest import hash_embed

# ------------------------------------------------------------ validate_answer


def test_positions_in_the_unlabeled_set_are_named_as_such():
    state, _ = make_state()  # labeled 0-11, unlabeled 12-59
    positions = np.arange(5)  # what rng.permutation(len(state.indices_unlabeled))[:5] may give
    with pytest.raises(QueryError, match=r"^strategy 'mine' returned 5 indices of texts labeled already "
                                         r"\(0, 1, 2, 3, 4\); return an int array of 5 distinct indices from "
                                         r"state\.indices_unlabeled; if these are positions in "
                                         r"state\.indices_unlabeled, return state\.indices_unlabeled\[positions\] "
                                         r"\(the pool's indices\)$"):
        validate_answer(positions, state, 5, "mine")


def test_an_index_beyond_the_unlabeled_count_is_no_position():
    state, _ = make_state()
    with pytest.raises(QueryError, match=r"^strategy 'mine' returned 1 index outside the pool of 60 texts "
                                         r"\(0\.\.59: 70\); return an int array of 5 distinct indices from "
                                         r"state\.indices_unlabeled$"):
        validate_answer(np.r_[state.indices_unlabeled[:4], 70], state, 5, "mine")


def test_a_text_in_the_pool_that_is_neither_labeled_nor_offered_is_not_called_outside_the_pool():
    """An annotation session's skipped texts are in neither index set: a pick of one was "outside the pool"."""
    state, _ = make_state()  # labeled 0-11, unlabeled 12-59
    offered = PoolState(state.indices_labeled, state.indices_unlabeled[:-10], state.y_labeled, state.label_names,
                        state.rng)  # 50-59 skipped
    with pytest.raises(QueryError, match=r"^strategy 'mine' returned 1 index that is not an unlabeled pool text "
                                         r"\(55\); return"):
        validate_answer(np.r_[offered.indices_unlabeled[:4], 55], offered, 5, "mine", pool_size=60)


# ------------------------------------------------------------ top_n


@pytest.mark.parametrize(("candidates", "n", "said"), [
    (2, np.arange(2), r"got candidates 2 \(a number\) and n array\(\[0, 1\]\)"),  # n and candidates swapped
    (np.array([1.0, 2.0]), 1, r"got candidates of shape \(2,\), dtype float64 and n 1;"),
    (np.arange(2), 1.0, r"got n 1.0; expected a whole number"),
])
def test_top_n_refuses_arguments_out_of_order_or_of_another_kind(candidates, n, said):
    with pytest.raises(InterfaceError, match=r"^top_n\(scores, candidates, n\) " + said):
        top_n(np.array([0.1, 0.5]), candidates, n)
    assert top_n(np.array([]), np.array([]), 0).size == 0 and top_n([0.1, 0.5], [7, 9], np.int64(1)).tolist() == [9]


def test_top_n_refuses_the_whole_pool_s_scores_for_the_unlabeled_candidates():
    state, _ = make_state()
    with pytest.raises(InterfaceError, match=r"^top_n got 60 scores for 48 candidates; score the candidates' rows, "
                                             r"e\.g\. state\.proba\[state\.indices_unlabeled\]$"):
        top_n(state.proba.max(axis=1), state.indices_unlabeled, 5)


def test_top_n_refuses_a_score_matrix():
    state, _ = make_state()
    with pytest.raises(InterfaceError, match=r"^top_n got scores of shape \(48, 4\) for 48 candidates; expected one "
                                             r"score per candidate, shape \(48,\): reduce the other axes first"):
        top_n(state.proba[state.indices_unlabeled], state.indices_unlabeled, 5)
    assert issubclass(InterfaceError, QueryError)  # the engine reports it as any strategy error


def test_top_n_refuses_nan_scores_which_would_rank_in_index_order():
    """A centroid of a label with no labeled text is a mean over nothing: NaN similarities, and lexsort put them
    last in index order, so a run picked the pool's first texts without a word."""
    candidates = np.array([7, 3, 5, 9])
    with pytest.raises(InterfaceError, match=r"^top_n got 2 NaN score\(s\) of 4 \(the first is scores\[1\], of pool text 3\), "
                                             r"which would "
                                             r"rank in index order; .*np\.nan_to_num\(scores, nan=-np\.inf\)$"):
        top_n(np.array([0.2, np.nan, 0.9, np.nan]), candidates, 2)
    ranked = top_n(np.nan_to_num(np.array([0.2, np.nan, 0.9, np.nan]), nan=-np.inf), candidates, 3)
    assert ranked.tolist() == [5, 7, 3]  # -inf last, ties by index; inf is a number, not refused
    assert top_n(np.array([np.inf, 1.0, -np.inf, 0.0]), candidates, 4).tolist() == [7, 3, 9, 5]
    assert top_n(np.array([2, 1, 3, 0]), candidates, 2).tolist() == [5, 7]  # integer scores


class NearestTheRarestCentroid(Strategy):
    """Texts nearest the centroid of the label with the fewest labeled texts: NaN when it has none."""
    requires = frozenset({"embeddings"})

    def query(self, state, n):
        Y = state.y_labeled.toarray()
        members = state.indices_labeled[Y[:, Y.sum(axis=0).argmin()] == 1]
        with np.errstate(invalid="ignore"):
            centroid = state.embeddings[members].mean(axis=0) if len(members) else np.full(8, np.nan)
        return top_n(state.embeddings[state.indices_unlabeled] @ centroid, state.indices_unlabeled, n)


class SchedulesThreeRounds(Strategy):
    requires = frozenset({"proba"})
    weights = (1.0, 0.5, 0.25)

    def query(self, state, n):
        return top_n(self.weights[state.round] * state.proba[state.indices_unlabeled].max(axis=1),
                     state.indices_unlabeled, n)


def test_check_strategy_asks_a_later_round_where_a_label_has_no_labeled_text():
    """Both passed every check of round 0 with every label labeled, and failed in a real run."""
    with pytest.raises(ConformanceError, match=r"^strategy 'NearestTheRarestCentroid': top_n got 50 NaN score\(s\) "
                                               r"of 50 .* \(in round 3, where label 'label3' has no labeled text\)$"):
        check_strategy(NearestTheRarestCentroid)
    with pytest.raises(IndexError):  # its own error, unchanged
        check_strategy(SchedulesThreeRounds)


class ScoresThePool(Strategy):
    requires = frozenset({"proba"})

    def query(self, state, n):
        return top_n(state.proba[:, 0], state.indices_unlabeled, n)


def test_check_strategy_reports_a_misused_top_n_as_the_strategy_s_fault():
    with pytest.raises(ConformanceError, match=r"^strategy 'ScoresThePool': top_n got 60 scores for 48 candidates"):
        check_strategy(ScoresThePool)


# ------------------------------------------------------------ state kept between queries


class CountsItsCalls(Strategy):
    """Behaves otherwise from its second query on."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def query(self, state, n):
        self.calls += 1
        return state.indices_unlabeled[:n] if self.calls == 1 else state.indices_unlabeled[-n:]


class KeepsItsFirstProba(Strategy):
    """Caches the probabilities of its first query and never refreshes them."""

    requires = frozenset({"proba"})

    def __init__(self):
        super().__init__()
        self._proba = None

    def query(self, state, n):
        if self._proba is None:
            self._proba = np.array(state.proba)
        scores = -np.abs(self._proba[state.indices_unlabeled] - 0.5).min(axis=1)
        return top_n(scores, state.indices_unlabeled, n)


@pytest.mark.parametrize("cls", [CountsItsCalls, KeepsItsFirstProba])
def test_an_answer_depending_on_earlier_queries_is_caught(cls):
    with pytest.raises(ConformanceError, match=rf"^strategy '{cls.__name__}' answers \[.*\] after an earlier query, "
                                               r"where a new instance answers \[.*\]: its answer depends on its "
                                               r"earlier queries; keep no state between queries that is not derived "
                                               r"from the pool's texts alone; a resumed run builds a new instance$"):
        check_strategy(cls)


class KeepsVectorsOfThePoolTexts(Strategy):
    """Computes vectors from the pool's texts once, as ALPS does, and scores with this round's proba too."""

    requires = frozenset({"texts", "proba"})

    def __init__(self):
        super().__init__()
        self._vectors = None

    def query(self, state, n):
        if self._vectors is None:
            self._vectors = hash_embed(state.texts, dim=4)
        scores = (self._vectors * state.proba).sum(axis=1)[state.indices_unlabeled]
        return top_n(scores, state.indices_unlabeled, n)


def test_what_is_derived_from_the_pool_s_texts_alone_may_be_kept():
    check_strategy(KeepsVectorsOfThePoolTexts)


# ------------------------------------------------------------ last_info and state.reveal


class SetInInfo(Strategy):
    def query(self, state, n):
        self.last_info = {"picked": set(state.indices_unlabeled[:n].tolist())}
        return state.indices_unlabeled[:n]


def test_a_non_json_last_info_is_a_conformance_error_naming_the_key():
    with pytest.raises(ConformanceError, match=r"^strategy 'SetInInfo' put set in last_info\['picked'\]; expected "
                                               r"numbers, strings, lists or dicts of them"):
        check_strategy(SetInInfo)


class RevealsFloats(Strategy):
    requires = frozenset({"reveal"})

    def query(self, state, n):
        state.reveal(state.indices_unlabeled[:n].astype(float))
        return state.indices_unlabeled[:n]


def test_a_refused_reveal_is_a_conformance_error():
    with pytest.raises(ConformanceError, match=r"^strategy 'RevealsFloats': state\.reveal got an array of shape "
                                               r"\(5,\) and dtype float64; expected a 1-d integer array"):
        check_strategy(RevealsFloats)


class RevealsOutside(Strategy):
    """Reveals a labeled text's labels, or one past the pool, as ``which`` says."""

    requires = frozenset({"reveal"})

    def __init__(self, which: str = "labeled"):
        super().__init__()
        self.which = which

    def query(self, state, n):
        state.reveal(state.indices_labeled[0] if self.which == "labeled" else 10**6)
        return state.indices_unlabeled[:n]


@pytest.mark.parametrize("which, shown", [("labeled", "0"), ("past", "1000000")])
def test_a_reveal_outside_the_unlabeled_texts_is_refused_as_a_run_refuses_it(which, shown):
    """The check said "revealed the labels of 1 text it did not pick", or an IndexError of the synthetic pool."""
    with pytest.raises(ConformanceError, match=rf"^strategy 'RevealsOutside': state\.reveal got 1 of 1 indices that "
                                               rf"are not unlabeled pool texts \(e\.g\. \[{shown}\]\); reveal only "
                                               rf"indices from state\.indices_unlabeled$"):
        check_strategy(lambda: RevealsOutside(which), name="RevealsOutside")


class RevealsOneAtATime(Strategy):
    requires = frozenset({"reveal"})

    def query(self, state, n):
        picked = state.indices_unlabeled[:n]
        self.last_info = {"positives": [int(state.reveal(int(i)).sum()) for i in picked]}
        return picked


def test_reveal_takes_one_int():
    check_strategy(RevealsOneAtATime)
    state, revealed = make_state()
    i = int(state.indices_unlabeled[3])
    for one in (i, np.int64(i)):
        assert state.reveal(one).shape == (1, state.n_labels)
    assert [r.tolist() for r in revealed] == [[i], [i]]
    with pytest.raises(InterfaceError, match="state.reveal got bool"):
        state.reveal(True)


# ------------------------------------------------------------ not reproducible, a refitted classifier


class Unseeded(Strategy):
    def query(self, state, n):
        return np.random.default_rng().choice(state.indices_unlabeled, n, replace=False)


def test_not_reproducible_says_where_to_draw_from():
    with pytest.raises(ConformanceError, match=r"^strategy 'Unseeded' is not reproducible: \[.*\] then \[.*\] with "
                                               r"the same seed; draw random numbers from state\.rng, not from "
                                               r"np\.random or random$"):
        check_strategy(Unseeded)


class RefitsTheClassifier(Strategy):
    """Trains the round's classifier itself, without reading proba."""

    requires = frozenset({"classifier", "inputs"})

    def query(self, state, n):
        X = np.eye(4, 8, dtype=np.float32)
        state.classifier.fit(X, sp.csr_matrix(np.eye(4, dtype=np.int8)))
        return state.indices_unlabeled[:n]


class RefitsACopy(RefitsTheClassifier):
    def query(self, state, n):
        X = np.eye(4, 8, dtype=np.float32)
        mine = copy.deepcopy(state.classifier).fit(X, sp.csr_matrix(np.eye(4, dtype=np.int8)))
        scores = mine.predict_proba(state.inputs[state.indices_unlabeled])[:, 0]
        return top_n(scores, state.indices_unlabeled, n)


def test_a_refitted_classifier_is_named_as_the_change_and_a_copy_passes():
    with pytest.raises(ConformanceError, match=r"^strategy 'RefitsTheClassifier' changed the classifier it was given "
                                               r"\(it predicts otherwise after the query\); the classifier view is "
                                               r"read-only by convention: fit a copy, "
                                               r"copy\.deepcopy\(state\.classifier\)$"):
        check_strategy(RefitsTheClassifier)
    check_strategy(RefitsACopy)


# ------------------------------------------------------------ the strategy named once


class Duplicates(Strategy):
    def query(self, state, n):
        return [state.indices_unlabeled[0]] * n


def test_a_refused_answer_names_the_strategy_once():
    with pytest.raises(ConformanceError,
                       match=r"^strategy 'Duplicates' returned duplicate indices: index 12 \d+ times; return "):
        check_strategy(Duplicates)
    with pytest.raises(ConformanceError, match=r"^strategy 'mine:Duplicates' returned duplicate"):
        check_strategy(Duplicates, name="mine:Duplicates")


def test_make_state_is_still_a_state_and_its_reveal_list():
    state, revealed = make_state()
    assert isinstance(state, PoolState) and revealed == []


def test_check_strategy_takes_a_name_as_the_command_does():
    check_strategy("random", n=np.int64(5))
    with pytest.raises(ConfigError, match="did you mean random"):
        check_strategy("randm")


@pytest.mark.parametrize(("given", "n", "error", "said"), [
    ("instance", 5, TypeError, r"got the instance .*fresh instances; pass RandomSampling or lambda: RandomSampling"),
    (3, 5, TypeError, "takes a Strategy class, a strategy's name or a zero-argument callable, got int 3"),
    ("class", 0, ValueError, "n must be a whole number from 1 to 48 .*got 0"),
    ("class", 49, ValueError, "n must be a whole number from 1 to 48 .*got 49"),
    ("class", 2.0, ValueError, "n must be a whole number from 1 to 48 .*got 2.0"),
])
def test_check_strategy_refuses_what_it_cannot_check_in_its_own_words(given, n, error, said):
    from strategies.random_sampling import RandomSampling

    factory = {"instance": RandomSampling(), "class": RandomSampling}.get(given, given)
    with pytest.raises(error, match=said):
        check_strategy(factory, n=n)
