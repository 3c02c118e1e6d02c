"""Tests for ECE, calibration bins and the reliability diagram."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from sktrust.metrics import (
    ReliabilityDisplay,
    calibration_bins,
    expected_calibration_error,
)

Y_PROB = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
Y_TRUE = np.array([0, 1, 1, 1])


def test_ece_hand_computed():
    # 10 bins: confidences 0.9 (right), 0.8 (wrong), 0.7 (right), 0.6 (right)
    # fall in four bins: gaps 0.1, 0.8, 0.3, 0.4 -> mean 0.4.
    assert expected_calibration_error(Y_TRUE, Y_PROB, n_bins=10) == pytest.approx(0.4)
    # 2 bins: all in (0.5, 1]: mean confidence 0.75 = accuracy 0.75.
    assert expected_calibration_error(Y_TRUE, Y_PROB, n_bins=2) == pytest.approx(0)


def test_ece_multiclass_hand_computed():
    y_prob = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.5, 0.25, 0.25]])
    y_true = [0, 2, 2, 1]
    # Bins of width 0.5: (0.5, 1] holds 0.6 R, 0.7 W, 0.8 R -> conf 0.7,
    # acc 2/3; (0, 0.5] holds 0.5 W -> conf 0.5, acc 0.
    expected = 3 / 4 * abs(0.7 - 2 / 3) + 1 / 4 * 0.5
    assert expected_calibration_error(y_true, y_prob, n_bins=2) == pytest.approx(expected)


def test_binary_1d_equals_two_columns():
    rng = np.random.RandomState(0)
    p = rng.uniform(size=200)
    y = (rng.uniform(size=200) < p).astype(int)
    one = expected_calibration_error(y, p, n_bins=10)
    two = expected_calibration_error(y, np.c_[1 - p, p], n_bins=10)
    assert one == pytest.approx(two)
    strings = np.where(y == 1, "yes", "no")
    assert expected_calibration_error(strings, p, n_bins=10, pos_label="yes") == pytest.approx(one)


def test_perfect_calibration_has_small_ece():
    rng = np.random.RandomState(0)
    p = rng.uniform(size=20000)
    y = (rng.uniform(size=20000) < p).astype(int)
    assert expected_calibration_error(y, p, n_bins=10) < 0.02
    # Always-confident, half-wrong predictions: ECE = 1 - 0.5.
    y_prob = np.tile([[1.0, 0.0]], (10, 1))
    assert expected_calibration_error([0, 1] * 5, y_prob) == pytest.approx(0.5)


def test_calibration_bins_counts_and_quantile():
    bins = calibration_bins(Y_TRUE, Y_PROB, n_bins=10)
    assert bins.count.sum() == 4
    assert bins.count[[5, 6, 7, 8]].tolist() == [1, 1, 1, 1]
    assert np.isnan(bins.accuracy[0])
    rng = np.random.RandomState(0)
    p = rng.uniform(0.5, 1, size=100)
    q = calibration_bins(np.ones(100, dtype=int), p, n_bins=4, strategy="quantile")
    assert q.count.tolist() == [25, 25, 25, 25]


def test_labels_map_columns():
    y_prob = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert expected_calibration_error(["b", "a"], y_prob, labels=["b", "a"]) == pytest.approx(0.15)


@pytest.mark.parametrize(
    "y_true, y_prob, match",
    [
        ([0, 1], [[0.5, 0.6], [0.5, 0.5]], "sum to 1"),
        ([0, 1], [1.2, 0.5], "in \\[0, 1\\]"),
        ([0, 1, 1], [0.2, 0.5], "inconsistent numbers"),
        ([], [], "empty"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "binary"),
        ([0, 5, 7], [[0.5, 0.5]] * 3, "pass labels="),
    ],
)
def test_ece_bad_input(y_true, y_prob, match):
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(y_true, y_prob)


def test_reliability_display_from_estimator():
    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(X, y)
    disp = ReliabilityDisplay.from_estimator(clf, X, y, n_bins=10)
    expected = expected_calibration_error(y, clf.predict_proba(X), n_bins=10)
    assert disp.ece == pytest.approx(expected)
    assert len(disp.bars_.patches) == int((disp.count > 0).sum())
    heights = [bar.get_height() for bar in disp.bars_.patches]
    np.testing.assert_allclose(heights, disp.accuracy[disp.count > 0])
    texts = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert any(t.startswith("LogisticRegression (ECE = ") for t in texts)
    assert disp.figure_ is disp.ax_.figure
    np.testing.assert_allclose(disp.line_.get_xydata(), [[0, 0], [1, 1]])
    plt.close("all")


def test_reliability_display_from_predictions_on_given_ax():
    fig, ax = plt.subplots()
    disp = ReliabilityDisplay.from_predictions(Y_TRUE, Y_PROB, n_bins=10, name="model", ax=ax)
    assert disp.ax_ is ax
    assert disp.ece == pytest.approx(0.4)
    texts = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert "model (ECE = 0.400)" in texts
    plt.close("all")


def test_reliability_display_needs_predict_proba():
    from sklearn.svm import LinearSVC

    X, y = load_iris(return_X_y=True)
    with pytest.raises(TypeError, match="predict_proba"):
        ReliabilityDisplay.from_estimator(LinearSVC().fit(X, y), X, y)


def test_labels_must_cover_y_true():
    with pytest.raises(ValueError, match="not in labels"):
        expected_calibration_error([0, 5], [[0.5, 0.5]] * 2, labels=[0, 1])
