"""The task-specific embedding objectives against values worked out by hand from the papers."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

from al.errors import ConfigError  # noqa: E402
from al.spaces.objectives import (  # noqa: E402
    POSITIVE,
    adaptive_label_distance,
    annealed_temperature,
    cea_loss,
    clld_contrastive_loss,
    clld_loss,
    confusable_pairs,
    cosine_matrix,
    margin_loss,
    multilabel_confusion,
    negative_supervision_loss,
    pair_label_distance,
    positive_mask,
    sample_cea_pairs,
    sample_negative_supervision,
    soft_nearest_neighbour_loss,
    static_label_distance,
)

E = math.e

# Five texts, three labels: 0 {0}, 1 {0, 1}, 2 {1}, 3 {2}, 4 {} (no label).
Y5 = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=np.int8)


def t(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)


def finite_grad(x: torch.Tensor) -> bool:
    return x.grad is not None and bool(torch.isfinite(x.grad).all())


# ------------------------------------------------------------------ positive_mask


def test_shares_one_label_makes_positives_and_empty_rows_form_their_own_class():
    mask = positive_mask(Y5, "shares")
    assert mask.dtype == torch.bool and mask.shape == (5, 5)
    pairs = {(i, j) for i, j in zip(*np.nonzero(mask.numpy()))}
    # 0-1 share label 0, 1-2 share label 1; 0-2 share nothing; 3 and 4 are alone.
    assert pairs == {(0, 1), (1, 0), (1, 2), (2, 1)}

    two_empty = np.array([[0, 0], [0, 0], [1, 0]])
    assert positive_mask(two_empty).numpy().tolist() == [[False, True, False], [True, False, False],
                                                         [False, False, False]]


def test_exact_needs_identical_label_sets():
    Y = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0]])
    mask = positive_mask(Y, "exact").numpy()
    assert {(i, j) for i, j in zip(*np.nonzero(mask))} == {(0, 1), (1, 0), (3, 4), (4, 3)}
    assert not positive_mask(Y, "shares").numpy().diagonal().any()


@pytest.mark.parametrize("as_input", [np.asarray, sp.csr_matrix, torch.from_numpy])
def test_positive_mask_takes_ndarray_sparse_and_tensor(as_input):
    assert torch.equal(positive_mask(as_input(Y5)), positive_mask(Y5))
    assert POSITIVE == ("shares", "exact")


def test_unknown_convention_is_a_config_error():
    with pytest.raises(ConfigError, match="positive must be one of shares, exact, got 'same'"):
        positive_mask(Y5, "same")


# ------------------------------------------------------------------ cosine


def test_cosine_matrix_by_hand_and_safe_for_a_zero_row():
    a = t([[3, 4], [0, 0]]).requires_grad_()
    b = t([[1, 0], [0, 2]])
    # (3, 4)/5 . (1, 0) = 0.6, . (0, 1) = 0.8; the zero row gives 0, not NaN.
    cos = cosine_matrix(a, b)
    assert cos.detach().numpy() == pytest.approx(np.array([[0.6, 0.8], [0.0, 0.0]]), abs=1e-6)
    cos.sum().backward()
    assert finite_grad(a)


# ------------------------------------------------------------------ CEA


def test_cea_loss_by_hand():
    u = t([[1, 0], [1, 1], [0, 0]]).requires_grad_()
    v = t([[1, 0], [0, 1], [1, 0]])
    # pair 0: cos = 1,            target 1: (1 - 1)^2 = 0
    # pair 1: cos = 1/sqrt(2),    target 0: (0.70711 - 0)^2 = 0.5   (negatives go to 0, not -1)
    # pair 2: zero vector, cos 0, target 1: (0 - 1)^2 = 1
    # mean = (0 + 0.5 + 1) / 3 = 0.5
    loss = cea_loss(u, v, np.array([1.0, 0.0, 1.0], dtype=np.float32))
    assert loss.item() == pytest.approx(0.5, abs=1e-6)
    loss.backward()
    assert finite_grad(u)


def test_cea_pairs_never_pair_a_text_with_itself_and_respect_the_labels():
    rng = np.random.default_rng(0)
    Y = (np.random.default_rng(1).random((40, 4)) < 0.3).astype(np.int8)
    mask = positive_mask(Y).numpy()
    anchors, partners, targets = sample_cea_pairs(sp.csr_matrix(Y), rng)
    assert anchors.dtype == partners.dtype == np.int64 and targets.dtype == np.float32
    assert len(anchors) == len(partners) == len(targets)
    assert (anchors != partners).all()
    assert np.array_equal(anchors, np.sort(anchors, kind="stable"))  # anchors in order 0..n-1
    positive = targets == 1.0
    assert mask[anchors[positive], partners[positive]].all()  # the positive shares a label
    assert not mask[anchors[~positive], partners[~positive]].any()  # the negative shares none
    for i in range(len(Y)):  # the positive, if any, comes first; then the negative, if any
        mine = targets[anchors == i].tolist()
        assert mine == [1.0] * bool(mask[i].any()) + [0.0] * bool((~mask[i]).sum() > 1)


def test_cea_pairs_without_positive_or_without_negative():
    # text 2 has no positive (its label is alone): only its negative pair.
    anchors, partners, targets = sample_cea_pairs(np.array([[1, 0], [1, 0], [0, 1]]), np.random.default_rng(0))
    assert list(zip(anchors.tolist(), targets.tolist())) == [(0, 1.0), (0, 0.0), (1, 1.0), (1, 0.0), (2, 0.0)]
    assert partners.tolist()[:2] == [1, 2] and partners.tolist()[4] in (0, 1)
    # one class only: no negatives, each text keeps its positive pair.
    anchors, partners, targets = sample_cea_pairs(np.ones((3, 1)), np.random.default_rng(0))
    assert anchors.tolist() == [0, 1, 2] and targets.tolist() == [1.0, 1.0, 1.0]
    assert (anchors != partners).all()


def test_cea_partners_are_drawn_uniformly_from_every_candidate():
    # text 0 (label a) has positives {1, 2, 3} and negatives {4, 5, 6, 7}: over 4,000 epochs each positive
    # should come about 1/3 of the time and each negative 1/4 (binomial sd about 0.0075 and 0.0068)
    Y = np.array([[1, 0]] * 4 + [[0, 1]] * 4)
    rng = np.random.default_rng(0)
    drawn = np.array([sample_cea_pairs(Y, rng)[1][:2] for _ in range(4000)])  # text 0's positive, negative
    np.testing.assert_allclose(np.bincount(drawn[:, 0], minlength=4)[1:] / 4000, [1 / 3] * 3, atol=0.03)
    np.testing.assert_allclose(np.bincount(drawn[:, 1], minlength=8)[4:] / 4000, [1 / 4] * 4, atol=0.03)


def test_cea_pairs_depend_on_the_generator_alone():
    Y = (np.random.default_rng(2).random((50, 3)) < 0.4).astype(np.int8)
    state = np.random.get_state()
    first = sample_cea_pairs(Y, np.random.default_rng(7))
    again = sample_cea_pairs(Y, np.random.default_rng(7))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    rng = np.random.default_rng(7)
    epoch0, epoch1 = sample_cea_pairs(Y, rng)[1], sample_cea_pairs(Y, rng)[1]  # the generator advanced
    assert np.array_equal(epoch0, first[1]) and not np.array_equal(epoch0, epoch1)
    assert np.array_equal(np.random.get_state()[1], state[1])  # global state untouched


# ------------------------------------------------------------------ SNNL


def test_annealed_temperature_at_the_first_epochs():
    # T = 1 / (1 + i)^0.55: 1, 2^-0.55 = exp(-0.55 * 0.693147) = 0.683020, 3^-0.55 = exp(-0.55 * 1.098612) = 0.546491
    assert [annealed_temperature(i) for i in range(3)] == pytest.approx([1.0, 0.683020, 0.546491], abs=1e-6)
    with pytest.raises(ConfigError, match="epochs count from 0"):
        annealed_temperature(-1)


def test_soft_nearest_neighbour_loss_by_hand():
    # A = (1, 0) and B = (0, 1) carry label 0, C = (-1, 0) label 1; T = 1, d = 1 - cos.
    # d_AB = 1, d_AC = 2, d_BC = 1 -> exp(-d): AB e^-1 = 0.367879, AC e^-2 = 0.135335, BC e^-1.
    # A: -log(e^-1 / (e^-1 + e^-2)) = log(1 + e^-1) = 0.313262    (C stays in A's denominator)
    # B: -log(e^-1 / (e^-1 + e^-1)) = log 2 = 0.693147
    # C: no positive in the batch -> left out of the mean
    # loss = (0.313262 + 0.693147) / 2 = 0.503204
    z = t([[1, 0], [0, 1], [-1, 0]]).requires_grad_()
    Y = np.array([[1, 0], [1, 0], [0, 1]])
    loss = soft_nearest_neighbour_loss(z, Y, temperature=1.0)
    assert loss.item() == pytest.approx((math.log(1 + 1 / E) + math.log(2)) / 2, abs=1e-6)
    assert loss.item() == pytest.approx(0.503204, abs=1e-6)
    loss.backward()
    assert finite_grad(z)
    # T = 0.5 doubles the exponents: A: log(1 + e^-2) = 0.126928, B: log 2; mean 0.410038
    assert soft_nearest_neighbour_loss(z, Y, 0.5).item() == pytest.approx(0.410038, abs=1e-6)


def test_soft_nearest_neighbour_loss_exact_convention():
    # exact: A {0, 1} and B {0} are not positives, so only B-C ({0}, {0}) count.
    # A = (1, 0), B = (0, 1), C = (0, 1): d_BC = 0, d_AB = d_AC = 1.
    # B: -log(e^0 / (e^0 + e^-1)) = log(1 + e^-1) = 0.313262, C the same; A left out -> 0.313262
    z = t([[1, 0], [0, 1], [0, 1]])
    Y = np.array([[1, 1], [1, 0], [1, 0]])
    assert soft_nearest_neighbour_loss(z, Y, 1.0, "exact").item() == pytest.approx(0.313262, abs=1e-6)
    # shares: A-B, A-C, B-C are all positives: every row's numerator equals its denominator -> 0
    assert soft_nearest_neighbour_loss(z, Y, 1.0, "shares").item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("case", ["no positive", "one class", "zero vector", "one row"])
def test_soft_nearest_neighbour_loss_on_degenerate_batches(case):
    z, Y = {
        "no positive": (t([[1, 0], [0, 1], [1, 1]]), np.eye(3)),
        "one class": (t([[1, 0], [0, 1], [1, 1]]), np.ones((3, 1))),
        "zero vector": (t([[0, 0], [0, 1], [1, 1]]), np.array([[1, 0], [1, 0], [0, 1]])),
        "one row": (t([[1, 2]]), np.ones((1, 1))),
    }[case]
    z.requires_grad_()
    loss = soft_nearest_neighbour_loss(z, Y, annealed_temperature(2))
    assert torch.isfinite(loss) and loss.grad_fn is not None
    if case in ("no positive", "one row"):
        assert loss.item() == 0.0
    loss.backward()
    assert finite_grad(z)


# ------------------------------------------------------------------ AAN / AM


def test_negative_supervision_loss_by_hand():
    # anchor 0 = (1, 0): negatives (0, 1) cos 0 -> 1 + 0 = 1, (-1, 0) cos -1 -> 0, third is padding: mean 0.5
    # anchor 1: no valid negative -> skipped
    # anchor 2 = (0, 1): negative (1, 1) cos 0.707107 -> 1.707107
    # loss = (0.5 + 1.707107) / 2 = 1.103553
    anchor = t([[1, 0], [1, 0], [0, 1]]).requires_grad_()
    negatives = t([[[0, 1], [-1, 0], [5, 5]], [[0, 1], [0, 1], [0, 1]], [[1, 1], [0, 0], [0, 0]]])
    valid = np.array([[True, True, False], [False, False, False], [True, False, False]])
    loss = negative_supervision_loss(anchor, negatives, valid)
    assert loss.item() == pytest.approx((0.5 + 1 + 1 / math.sqrt(2)) / 2, abs=1e-6)
    loss.backward()
    assert finite_grad(anchor)


def test_negative_supervision_loss_without_negatives_is_a_differentiable_zero():
    anchor = t([[1, 0], [0, 0]]).requires_grad_()
    loss = negative_supervision_loss(anchor, torch.zeros(2, 4, 2), torch.zeros(2, 4, dtype=torch.bool))
    assert loss.item() == 0.0
    loss.backward()
    assert finite_grad(anchor)


def test_margin_loss_by_hand():
    # anchor 0 = (1, 0): s_pos = cos((1,0), (1,1)) = 0.707107; negatives (0,1) 0 and (-1,0) -1: mean -0.5
    #   max(0, 0.4 - 0.707107 - 0.5) = max(0, -0.807107) = 0
    # anchor 1 = (0, 1): s_pos = cos((0,1), (1,0)) = 0; negative (0, 2) cos 1, the other padding
    #   max(0, 0.4 - 0 + 1) = 1.4
    # anchor 2: no positive -> skipped;  loss = (0 + 1.4) / 2 = 0.7
    anchor = t([[1, 0], [0, 1], [1, 0]]).requires_grad_()
    positive = t([[1, 1], [1, 0], [0, 0]])
    negatives = t([[[0, 1], [-1, 0]], [[0, 2], [9, 9]], [[0, 1], [0, 1]]])
    valid = torch.tensor([[True, True], [True, False], [True, True]])
    loss = margin_loss(anchor, positive, negatives, valid, positive_mask=np.array([True, True, False]))
    assert loss.item() == pytest.approx(0.7, abs=1e-6)
    loss.backward()
    assert finite_grad(anchor)
    # the margin delta moves anchor 1 only (anchor 0 stays below zero): (0 + 1.0 + 0.2) / 2 = 0.6
    assert margin_loss(anchor, positive, negatives, valid, delta=0.2,
                       positive_mask=[True, True, False]).item() == pytest.approx(0.6, abs=1e-6)


def test_margin_loss_averages_the_valid_negatives():
    # anchor (1, 0), positive (0, 1): s_pos = 0; negatives (1, 0) cos 1 and (1, 1) cos 0.707107, the third slot
    # padding: mean 0.853553 (the 1/(n-1) mean, n - 1 = 2); max(0, 0.4 - 0 + 0.853553) = 1.253553
    negatives = t([[[1, 0], [1, 1], [-5, 3]]])
    loss = margin_loss(t([[1, 0]]), t([[0, 1]]), negatives, [[True, True, False]])
    assert loss.item() == pytest.approx(1.253553, abs=1e-6)


def test_margin_loss_without_any_complete_anchor_is_a_differentiable_zero():
    anchor = t([[1, 0], [0, 1]]).requires_grad_()
    negatives = t([[[0, 1]], [[1, 0]]])
    loss = margin_loss(anchor, anchor.detach(), negatives, [[False], [True]], positive_mask=[True, False])
    assert loss.item() == 0.0
    loss.backward()
    assert finite_grad(anchor)


def test_negative_supervision_samples_are_negatives_without_repeats():
    Y = (np.random.default_rng(3).random((16, 4)) < 0.3).astype(np.int8)
    mask = positive_mask(Y).numpy()
    pos, neg = sample_negative_supervision(Y, np.random.default_rng(0), n=4)
    assert pos.tolist() == [-1] * 16 and neg.shape == (16, 4) and neg.dtype == np.int64
    for i, row in enumerate(neg):
        taken = row[row >= 0]
        assert (row[len(taken):] == -1).all()  # padding at the end
        assert len(set(taken.tolist())) == len(taken) == min(4, int((~mask[i]).sum()) - 1)
        assert i not in taken and not mask[i, taken].any()


def test_margin_samples_one_positive_then_negatives():
    # texts 0, 1 share label 0; text 2 is alone (no positive); text 3 empty
    Y = np.array([[1, 0], [1, 1], [0, 0], [0, 0]])
    pos, neg = sample_negative_supervision(Y, np.random.default_rng(0), n=4, margin=True)
    assert neg.shape == (4, 3)
    assert pos.tolist() == [1, 0, 3, 2]  # the empty texts are each other's positives
    assert sorted(neg[0].tolist()) == [-1, 2, 3] and sorted(neg[2].tolist()) == [-1, 0, 1]
    lone = sample_negative_supervision(np.array([[1, 0], [0, 1]]), np.random.default_rng(0), n=2, margin=True)
    assert lone[0].tolist() == [-1, -1] and lone[1].tolist() == [[1], [0]]


def test_negative_supervision_sampling_is_seeded_and_checks_n():
    Y = (np.random.default_rng(4).random((16, 3)) < 0.4).astype(np.int8)
    a = sample_negative_supervision(Y, np.random.default_rng(5), margin=True)
    b = sample_negative_supervision(Y, np.random.default_rng(5), margin=True)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    with pytest.raises(ConfigError, match="n must be an integer >= 2 for AM, got 1"):
        sample_negative_supervision(Y, np.random.default_rng(0), n=1, margin=True)


# ------------------------------------------------------------------ label distance


def test_static_label_distance():
    ldm = static_label_distance(3, [(0, 2)], tau=5.0)
    assert ldm.tolist() == [[1, 1, 5], [1, 1, 1], [5, 1, 1]]
    with pytest.raises(ConfigError, match=r"two distinct label indices in \[0, 3\), got \(1, 3\)"):
        static_label_distance(3, [(1, 3)])


def test_multilabel_confusion_by_hand():
    Y_true = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0]])
    Y_pred = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [0, 0, 0]])
    # text 0 {0} predicted {0, 1}: TP of 0; carries 0, predicted 1 without carrying it -> C[0,1] += 1
    # text 1 {0, 1} predicted {1, 2}: TP of 1; 2 predicted wrongly -> C[0,2] += 1, C[1,2] += 1
    # text 2 {2} predicted {0, 2}: TP of 2; C[2,0] += 1
    # text 3 {1} predicted {}: nothing
    assert multilabel_confusion(Y_true, sp.csr_matrix(Y_pred)).tolist() == [[1, 1, 1], [0, 1, 1], [1, 0, 1]]


def test_confusable_pairs_rank_symmetric_counts_ties_to_lower_indices():
    C = np.array([[9, 2, 0, 1], [1, 9, 0, 0], [0, 3, 9, 0], [2, 0, 0, 9]])
    # sums: (0,1) 2+1 = 3, (0,3) 1+2 = 3, (1,2) 0+3 = 3, (0,2) 0, (1,3) 0, (2,3) 0
    assert confusable_pairs(C, 2) == [(0, 1), (0, 3)]
    assert confusable_pairs(C, 10) == [(0, 1), (0, 3), (1, 2)]  # never-confused pairs left out


def test_adaptive_label_distance_arithmetic():
    ldm = np.array([[1.0, 1.0], [1.0, 1.0]])
    counts = np.array([[8.0, 3.0], [0.0, 5.0]])
    # step 25 of 100: epsilon = 1 - 25/100 = 0.75; new = (counts - ldm) * 0.75 + ldm
    # [[7*0.75+1, 2*0.75+1], [-1*0.75+1, 4*0.75+1]] = [[6.25, 2.5], [0.25, 4.0]]
    assert adaptive_label_distance(ldm, counts, 25, 100).tolist() == [[6.25, 2.5], [0.25, 4.0]]
    assert adaptive_label_distance(ldm, counts, 100, 100).tolist() == ldm.tolist()  # epsilon 0: no change
    assert ldm.tolist() == [[1.0, 1.0], [1.0, 1.0]]  # input left alone


def test_pair_label_distance_is_the_mean_over_label_pairs():
    ldm = np.array([[1.0, 5.0], [5.0, 2.0]])
    Y = np.array([[1, 1], [0, 1], [0, 0]])
    # (0,1): labels {0,1} x {1}: mean(ldm[0,1], ldm[1,1]) = (5 + 2) / 2 = 3.5
    # (0,0): {0,1} x {0,1}: (1 + 5 + 5 + 2) / 4 = 3.25; (1,1): ldm[1,1] = 2; the empty row: 1.0
    expected = [[3.25, 3.5, 1.0], [3.5, 2.0, 1.0], [1.0, 1.0, 1.0]]
    assert pair_label_distance(Y, ldm).numpy() == pytest.approx(np.array(expected))
    one_hot = np.array([[1, 0], [0, 1]])
    assert pair_label_distance(one_hot, ldm).numpy() == pytest.approx(one_hot @ ldm @ one_hot.T)  # paper's eq. 7


# ------------------------------------------------------------------ CLLD


# Two texts, A {0} and B {1}; their two dropout views, stacked [A1, B1; A2, B2].
CLLD_Z = [[1, 0], [0, 1], [1, 0], [-1, 0]]
CLLD_Y = np.array([[1, 0], [0, 1]])


def test_clld_contrastive_loss_by_hand():
    # cos: A1A2 = 1, A1B1 = 0, A1B2 = -1, B1A2 = 0, B1B2 = 0, A2B2 = -1
    # sim = (cos + 1) / 2: A1A2 1, A1B1 .5, A1B2 0, B1A2 .5, B1B2 .5, A2B2 0; LDM all ones -> unchanged
    # positives: each row's other view only, so z_i is one-hot and KL(z_i || q_i) = -log q_i(view)
    # A1: others B1 .5, A2 1, B2 0 -> log(e^.5 + e^1 + e^0) - 1 = log(5.367003) - 1 = 0.680270
    # B1: others .5, .5, .5        -> log 3 = 1.098612
    # A2: others A1 1, B1 .5, B2 0 -> 0.680270 (as A1)
    # B2: others A1 0, B1 .5, A2 0 -> log(1 + e^.5 + 1) - .5 = log(3.648721) - .5 = 0.794377
    # loss = (0.680270 + 1.098612 + 0.680270 + 0.794377) / 4 = 0.813382
    z = t(CLLD_Z).requires_grad_()
    loss = clld_contrastive_loss(z, CLLD_Y, static_label_distance(2))
    hand = (2 * (math.log(math.exp(0.5) + E + 1) - 1) + math.log(3) + math.log(2 + math.exp(0.5)) - 0.5) / 4
    assert loss.item() == pytest.approx(hand, abs=1e-6) and hand == pytest.approx(0.813382, abs=1e-6)
    loss.backward()
    assert finite_grad(z)


def test_clld_label_distance_scales_the_confusable_pairs():
    # tau = 5 between labels 0 and 1 multiplies every A-B similarity by 5: A1B1 2.5, A1B2 0, B1A2 2.5, A2B2 0
    # A1: log(e^2.5 + e + 1) - 1 = log(15.900776) - 1 = 1.766368;  A2 the same
    # B1: log(2 e^2.5 + e^.5) - .5 = log(26.013709) - .5 = 2.758624
    # B2: unchanged, 0.794377;  loss = (2 * 1.766368 + 2.758624 + 0.794377) / 4 = 1.771434
    loss = clld_contrastive_loss(t(CLLD_Z), CLLD_Y, static_label_distance(2, [(0, 1)]))
    hand = (2 * (math.log(math.exp(2.5) + E + 1) - 1) + math.log(2 * math.exp(2.5) + math.exp(0.5)) - 0.5
            + math.log(2 + math.exp(0.5)) - 0.5) / 4
    assert loss.item() == pytest.approx(hand, abs=1e-5) and hand == pytest.approx(1.771434, abs=1e-6)


def test_clld_diagonal_is_masked_after_the_label_distance():
    # One text with label 0, two views; LDM[0, 0] = 0 makes every similarity 0.
    # Masked after the product (ours): row 1's only other row is its view, q = 1, KL = 0 -> loss 0.
    # Paper's order (-1e6 on the diagonal, then times LDMM = 0): the diagonal becomes 0 = exp(0) weight,
    # q(view) = 1/2, KL = log 2 = 0.693147 per row: self-similarity back in the softmax.
    z = t([[1, 0], [0.6, 0.8]]).requires_grad_()
    ldm = np.array([[0.0, 1.0], [1.0, 1.0]])
    loss = clld_contrastive_loss(z, np.array([[1, 0]]), ldm)
    assert loss.item() == pytest.approx(0.0, abs=1e-7)
    loss.backward()
    assert finite_grad(z)
    # with another text of label 1 in the batch, the self term would still count: check against masking by hand
    # rows [A1, B1, A2, B2], LDM[0,0] = 0: A1A2 sim becomes 0, A-B pairs keep (cos + 1) / 2
    z = t(CLLD_Z)
    # A1: others B1 .5, A2 0, B2 0 -> log(e^.5 + 1 + 1) - 0 = log(3.648721) = 1.294377;  A2 the same
    # B1: others A1 .5, A2 .5, B2 .5 -> log 3;  B2: others A1 0, B1 .5, A2 0 -> 0.794377
    hand = (2 * math.log(2 + math.exp(0.5)) + math.log(3) + math.log(2 + math.exp(0.5)) - 0.5) / 4
    assert clld_contrastive_loss(z, CLLD_Y, ldm).item() == pytest.approx(hand, abs=1e-6)


@pytest.mark.parametrize("case", ["one class", "zero vector", "empty rows", "one text"])
def test_clld_on_degenerate_batches(case):
    z, Y = {
        "one class": (t([[1, 0], [0, 1], [1, 1], [1, -1]]), np.ones((2, 1))),
        "zero vector": (t([[0, 0], [0, 1], [0, 0], [1, 1]]), np.array([[1, 0], [0, 1]])),
        "empty rows": (t([[1, 0], [0, 1], [1, 1], [1, -1]]), np.zeros((2, 3))),
        "one text": (t([[1, 2], [2, 1]]), np.array([[0, 1]])),
    }[case]
    z.requires_grad_()
    loss = clld_contrastive_loss(z, Y, static_label_distance(Y.shape[1]))
    assert torch.isfinite(loss)
    loss.backward()
    assert finite_grad(z)


def test_clld_loss_weights_bce_of_the_first_view_and_the_contrastive_term():
    # logits 0 everywhere: BCE = log 2 = 0.693147 per entry; contrastive 0.813382 (above)
    # 0.5 * 0.693147 + 0.5 * 0.813382 = 0.753265;  lam = 0.25: 0.173287 + 0.610037 = 0.783323
    z = t(CLLD_Z).requires_grad_()
    logits = torch.zeros(2, 2, requires_grad=True)
    ldm = static_label_distance(2)
    loss = clld_loss(logits, CLLD_Y, z, ldm)
    assert loss.item() == pytest.approx(0.753265, abs=1e-6)
    assert clld_loss(logits, CLLD_Y, z, ldm, lam=0.25).item() == pytest.approx(0.783323, abs=1e-6)
    both = torch.cat([logits, torch.full((2, 2), 9.0)])  # the second view's logits are ignored
    assert clld_loss(both, CLLD_Y, z, ldm).item() == pytest.approx(0.753265, abs=1e-6)
    loss.backward()
    assert finite_grad(z) and finite_grad(logits)


def test_bad_shapes_are_config_errors():
    with pytest.raises(ConfigError, match=r"z must hold the two views of the 2 texts stacked, shape \(4, d\)"):
        clld_contrastive_loss(t([[1, 0], [0, 1]]), CLLD_Y, static_label_distance(2))
    with pytest.raises(ConfigError, match=r"ldm must have shape \(2, 2\)"):
        pair_label_distance(CLLD_Y, np.ones((3, 3)))
    with pytest.raises(ConfigError, match="z has 2 rows but Y has 3"):
        soft_nearest_neighbour_loss(t([[1, 0], [0, 1]]), np.eye(3), 1.0)


def test_clld_normalises_the_target_over_every_positive_of_a_row():
    # Texts A {0}, B {0}, C {1}; rows [A1, B1, C1, A2, B2, C2] = (1,0), (1,0), (0,1), (1,0), (1,0), (0,1).
    # sim = (cos + 1) / 2: 1 among the A and B rows, .5 between them and C's, 1 between C1 and C2.
    # A1's positives are A2 (its view), B1 and B2 (same class): target 1/3 each, all at sim 1, so
    # KL = sum z log z - z log q = -log 3 - (1 - log Z) with Z = 3e + 2e^.5; so for B1, A2, B2.
    # C1 (and C2): its view alone, KL = log(4e^.5 + e) - 1.
    z = t([[1, 0], [1, 0], [0, 1], [1, 0], [1, 0], [0, 1]])
    Y = np.array([[1, 0], [1, 0], [0, 1]])
    a_row = math.log(3 * E + 2 * math.exp(0.5)) - 1 - math.log(3)
    c_row = math.log(4 * math.exp(0.5) + E) - 1
    hand = (4 * a_row + 2 * c_row) / 6
    assert clld_contrastive_loss(z, Y, static_label_distance(2)).item() == pytest.approx(hand, abs=1e-6)
    assert hand == pytest.approx(0.636861, abs=1e-6)  # (4 x 0.339577 + 2 x 1.231429) / 6


# ------------------------------------------------------------------ one batch of a fitted space (al.spaces.training)

# Three texts: 0 and 1 share label 0, 2 alone has label 1; logits 0 give a task BCE of log 2.
BATCH_Y = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]


def _batch(*hidden):
    from al.spaces.training import Batch

    return Batch([t(h) for h in hidden], torch.zeros(3, 2), t(BATCH_Y))


def test_snnl_batch_sums_every_layer_at_the_epoch_s_temperature_times_alpha():
    from al.spaces.training import batch_loss

    # epoch 1: T = 1 / (1 + 1) ** 0.55.  Layer 1 (1,0), (1,0), (0,1): anchors 0 and 1 each have their
    # positive at d = 0 and text 2 at d = 1: l = log(1 + e^(-1/T)); anchor 2 has no positive, left out.
    # Layer 2 (1,0), (0,1), (1,0): anchor 0, positive at d = 1, text 2 at d = 0: log(1 + e^(1/T));
    # anchor 1, both others at d = 1: log 2.  Total: log 2 + alpha (l1 + l2).
    T = 1 / 2 ** 0.55
    l1 = math.log(1 + math.exp(-1 / T))
    l2 = (math.log(1 + math.exp(1 / T)) + math.log(2)) / 2
    loss = batch_loss("snnl", _batch([[1, 0], [1, 0], [0, 1]], [[1, 0], [0, 1], [1, 0]]), 1,
                      np.random.default_rng(0), {"alpha": 2.0, "eta": 1.0, "gamma": 0.55})
    assert loss.item() == pytest.approx(math.log(2) + 2.0 * (l1 + l2), abs=1e-5)


def test_negative_supervision_batches_by_hand():
    from al.spaces.training import batch_loss

    # z = (1,0), (0,1), (1,1)/sqrt2: cos 0-1 = 0, 0-2 = 1-2 = sqrt(1/2).
    # AAN: every anchor's negatives are the other label's texts: 1 + cos = 1 + sqrt(1/2) for each.
    # AM: anchors 0 and 1 are each other's positive (s = 0) with negative text 2:
    # max(0, .4 - 0 + sqrt(1/2)); anchor 2 has no positive and is skipped (else it would add .4).
    z = [[1, 0], [0, 1], [math.sqrt(0.5), math.sqrt(0.5)]]
    aan = batch_loss("aan", _batch(z), 0, np.random.default_rng(0), {"aux_weight": 0.5, "negatives": 4})
    assert aan.item() == pytest.approx(math.log(2) + 0.5 * (1 + math.sqrt(0.5)), abs=1e-6)
    am = batch_loss("am", _batch(z), 0, np.random.default_rng(0), {"aux_weight": 1.0, "negatives": 4, "delta": 0.4})
    assert am.item() == pytest.approx(math.log(2) + 0.4 + math.sqrt(0.5), abs=1e-6)
