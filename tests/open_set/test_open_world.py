"""open_world_report: IoU, AP by hand and by brute force, bootstrap coverage."""

import numpy as np
import pytest
from scipy.stats import norm

from sktrust.open_set import average_precision, box_iou, open_world_report


def test_iou_of_hand_made_boxes():
    iou = box_iou([[0, 0, 2, 2], [0, 0, 1, 1]], [[1, 0, 3, 2], [5, 5, 6, 6]])
    np.testing.assert_allclose(iou, [[1 / 3, 0], [0, 0]])
    with pytest.raises(ValueError, match="x2 >= x1"):
        box_iou([[2, 0, 1, 1]], [[0, 0, 1, 1]])


def test_ap_of_a_three_image_example_with_a_duplicate():
    boxes_true = [[[0, 0, 10, 10]], [[0, 0, 10, 10], [20, 20, 30, 30]], []]
    boxes_pred = [[[0, 0, 10, 10], [0, 0, 10, 10]],        # hit, then duplicate (FP)
                  [[20, 20, 30, 30], [50, 50, 60, 60]],    # hit, miss
                  [[0, 0, 5, 5]]]                          # no truth: FP
    scores = [[0.9, 0.8], [0.7, 0.6], [0.95]]
    # ranked: FP, TP, FP, TP, FP; 3 truths -> precision envelope 0.5 at
    # recall 1/3 and 2/3: AP = 1/3 * 0.5 + 1/3 * 0.5.
    assert average_precision(boxes_true, boxes_pred, scores) == pytest.approx(1 / 3)
    rep = open_world_report([1, 0, 0], [0.5, 0.1, 0.2], boxes_true=boxes_true,
                            boxes_pred=boxes_pred, box_scores=scores, n_bootstrap=0)
    assert rep["localisation"]["iou_0.5"]["ap"]["value"] == pytest.approx(1 / 3)
    assert rep["localisation"]["iou_0.5"]["hit_rate"] == 1.0


def _brute_force_ap(boxes_true, boxes_pred, scores, t):
    items = [(s, i, j) for i, sc in enumerate(scores) for j, s in enumerate(sc)]
    items.sort(key=lambda x: -x[0])
    used = [set() for _ in boxes_true]
    tp = []
    for _, i, j in items:
        best, best_iou = None, -1.0
        for g, gt in enumerate(boxes_true[i]):
            if g in used[i]:
                continue
            v = box_iou([boxes_pred[i][j]], [gt])[0, 0]
            if v > best_iou:
                best, best_iou = g, v
        ok = best is not None and best_iou >= t
        if ok:
            used[i].add(best)
        tp.append(ok)
    n_true = sum(len(b) for b in boxes_true)
    prec = [sum(tp[:k + 1]) / (k + 1) for k in range(len(tp))]
    rec = [sum(tp[:k + 1]) / n_true for k in range(len(tp))]
    ap, last = 0.0, 0.0
    for k in range(len(tp)):
        if rec[k] > last:
            ap += (rec[k] - last) * max(prec[k:])
            last = rec[k]
    return ap


def test_ap_equals_a_brute_force_reference_on_random_boxes():
    rng = np.random.RandomState(0)

    def boxes(k):
        xy = rng.uniform(0, 20, size=(k, 2))
        return np.c_[xy, xy + rng.uniform(2, 8, size=(k, 2))].tolist()

    bt = [boxes(rng.randint(0, 4)) for _ in range(15)]
    bp = [boxes(rng.randint(0, 5)) for _ in range(15)]
    sc = [rng.rand(len(b)).tolist() for b in bp]
    for t in (0.1, 0.3, 0.5):
        assert average_precision(bt, bp, sc, iou_threshold=t) == pytest.approx(
            _brute_force_ap(bt, bp, sc, t), abs=1e-12)


def test_bootstrap_intervals_cover_the_true_auroc_about_95_percent():
    rng = np.random.RandomState(0)
    true_auroc = norm.cdf(1 / np.sqrt(2))  # known ~ N(1, 1), unknown ~ N(0, 1)
    covered = []
    for draw in range(100):
        y = np.r_[np.ones(80, bool), np.zeros(40, bool)]
        s = np.r_[rng.normal(1, 1, 80), rng.normal(0, 1, 40)]
        auroc = open_world_report(y, s, n_bootstrap=200, random_state=draw)[
            "detection"]["auroc"]
        covered.append(auroc["ci_low"] <= true_auroc <= auroc["ci_high"])
    assert 0.89 <= np.mean(covered) <= 0.99


def test_auroc_equals_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.RandomState(0)
    y = rng.rand(200) < 0.6
    s = rng.randint(0, 20, 200).astype(float)
    rep = open_world_report(y, s, n_bootstrap=0)
    assert rep["detection"]["auroc"]["value"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_per_category_results_and_their_counts():
    y = np.r_[np.ones(50, bool), np.zeros(10, bool)]
    s = np.r_[np.linspace(0.5, 1.0, 50), np.r_[np.full(7, 0.1), np.full(3, 0.9)]]
    cats = np.r_[["normal"] * 50, ["tumour"] * 7, ["cyst"] * 3]
    rep = open_world_report(y, s, categories=cats, n_bootstrap=50, random_state=0)
    assert rep["categories"]["tumour"]["n"] == 7
    assert rep["categories"]["tumour"]["auroc"]["value"] == 1.0
    assert rep["categories"]["cyst"]["auroc"]["value"] < 0.5
    assert rep["macro_auroc"] == pytest.approx(np.mean(
        [rep["categories"][c]["auroc"]["value"] for c in ("tumour", "cyst")]))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="both known"):
        open_world_report([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="together"):
        open_world_report([1, 0], [0.1, 0.2], boxes_true=[[], []])
    with pytest.raises(ValueError, match="No ground-truth"):
        average_precision([[]], [[[0, 0, 1, 1]]], [[0.5]])


def test_malformed_boxes_and_scores_are_refused_with_a_clear_message():
    box = [[0, 0, 1, 1]]
    with pytest.raises(ValueError, match="finite"):
        box_iou([[0, 0, np.nan, 1]], box)
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        box_iou([[0, 0, 1]], box)
    with pytest.raises(ValueError, match=r"boxes_a must be numbers of shape \(n, 4\)"):
        box_iou([[0, 0, 1, 1], [0, 0, 1]], box)  # ragged: was numpy's "inhomogeneous shape"
    with pytest.raises(ValueError, match=r"boxes_pred must be numbers"):
        average_precision([box], [[["a", 0, 1, 1]]], [[0.5]])
    with pytest.raises(ValueError, match="one entry per image"):
        average_precision([box, box], [box], [[0.5]])
    with pytest.raises(ValueError, match="box_scores must be finite"):
        average_precision([box], [box], [[np.nan]])


def test_report_fpr_at_95tpr_equals_the_metric():
    from sktrust.metrics import fpr_at_tpr

    rng = np.random.RandomState(0)
    y_known = rng.rand(200) < 0.6
    score = rng.normal(size=200) + y_known
    report = open_world_report(y_known, score, n_bootstrap=10, random_state=0)
    expected = fpr_at_tpr(np.where(y_known, 0, -1), score, tpr=0.95)
    assert report["detection"]["fpr_at_95tpr"]["value"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("y_known", [["yes", "no", "yes"], [0, 1, 2], [1.0, np.nan, 0.0],
                                     np.array([True, None, False], dtype=object)])
def test_y_known_that_is_not_boolean_is_refused(y_known):
    # "yes"/"no" used to read as all known, and 2 as known, without a word.
    with pytest.raises(ValueError, match="y_known must be boolean"):
        open_world_report(y_known, [0.1, 0.2, 0.3], n_bootstrap=0)
    rep = open_world_report([True, False, True], [0.3, 0.1, 0.2], n_bootstrap=0)
    assert rep["detection"]["auroc"]["value"] == 1.0


def test_booleans_of_object_dtype_are_read_as_booleans():
    # A pandas column of object dtype holding True/False is a valid y_known; the
    # audit's dtype check refused it.
    pd = pytest.importorskip("pandas")
    ref = open_world_report([True, False, True, False], [0.3, 0.1, 0.2, 0.25], n_bootstrap=0)
    for y_known in (np.array([True, False, True, False], dtype=object),
                    pd.Series([True, False, True, False], dtype=object),
                    pd.Series([1, 0, 1, 0], dtype="boolean")):
        rep = open_world_report(y_known, [0.3, 0.1, 0.2, 0.25], n_bootstrap=0)
        for key in ("auroc", "fpr_at_95tpr"):
            assert rep["detection"][key]["value"] == ref["detection"][key]["value"]
        assert rep["detection"]["n_known"] == ref["detection"]["n_known"] == 2
    assert ref["detection"]["auroc"]["value"] == 0.75


@pytest.mark.parametrize("t", [0, -1, 2.0])
def test_iou_threshold_outside_zero_one_is_refused(t):
    # At 0 (or below) a box far from every true box counted as a hit: AP 1.
    far = [[[5, 5, 6, 6]]]
    with pytest.raises(ValueError, match=r"IoU threshold must be a number in \(0, 1\]"):
        average_precision([[[0, 0, 2, 2]]], far, [[0.9]], iou_threshold=t)
    with pytest.raises(ValueError, match=r"IoU threshold must be a number in \(0, 1\]"):
        open_world_report([1, 0], [0.9, 0.1], boxes_true=[[], [[0, 0, 2, 2]]],
                          boxes_pred=[[], [[5, 5, 6, 6]]], box_scores=[[], [0.9]],
                          iou_thresholds=(t,), n_bootstrap=0)
    assert average_precision([[[0, 0, 2, 2]]], far, [[0.9]], iou_threshold=0.1) == 0.0
