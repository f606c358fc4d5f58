"""The bootstrap's weighted AP against evaluating the resampled predictions directly."""

from __future__ import annotations

import numpy as np
import pytest

from poseval_refine.metrics.ap import precision_recall, voc_ap, weighted_ap


def _direct(item, labels, item_gt, w, no_prediction_ap=0.0) -> float:
    """AP of the resample built for real: each prediction repeated as often as its item is drawn, copies
    kept together in the pooled ranking, then the evaluation's own precision/recall and VOC AP."""
    rep = w[item]
    lab = np.repeat(labels, rep)
    num_gt = int(w @ item_gt)
    if len(lab) == 0:
        return no_prediction_ap if num_gt == 0 else 0.0
    scores = -np.arange(len(lab), dtype=np.float64)  # already in ranking order
    p, r = precision_recall(scores, lab, num_gt, stable=True)
    return voc_ap(p, r) * 100.0


@pytest.mark.parametrize("n_items,n_preds", [(5, 60), (30, 2000), (400, 300)])  # the last takes the cumsum path
def test_weighted_ap_is_the_ap_of_the_repeated_predictions(n_items, n_preds):
    rng = np.random.default_rng(n_items)
    item = rng.integers(0, n_items, n_preds)
    # runs of true positives at the top, more false positives further down, as in a real ranking
    labels = rng.random(n_preds) < np.linspace(0.95, 0.2, n_preds)
    item_gt = np.bincount(item[labels], minlength=n_items) + rng.integers(0, 3, n_items)
    weights = rng.multinomial(n_items, np.full(n_items, 1 / n_items), size=40)
    weights[0] = 1
    weights[1] = 0
    weights[1, :2] = [3, 0]
    weights[2, labels.nonzero()[0][:1]] = 0  # first true positive's item not drawn
    got = weighted_ap(item, labels, item_gt, weights, chunk_elements=4096)
    want = np.array([_direct(item, labels, item_gt, w) for w in weights])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert got[0] == want[0]  # the evaluation itself: bit for bit


def test_weighted_ap_without_true_positives_or_gt():
    item = np.array([0, 1, 0])
    labels = np.zeros(3, bool)
    w = np.array([[1, 1], [2, 0], [0, 2]])
    assert weighted_ap(item, labels, np.array([2, 1]), w).tolist() == [0.0, 0.0, 0.0]
    # predictions but no GT: recall 0/0, NaN as in the evaluation; nothing drawn and no GT: the protocol's value
    assert np.isnan(weighted_ap(item, labels, np.array([0, 0]), w)).all()
    assert weighted_ap(np.array([1]), np.array([True]), np.array([0, 1]), np.array([[1, 0]]),
                       no_prediction_ap=-1.0).tolist() == [-1.0]
