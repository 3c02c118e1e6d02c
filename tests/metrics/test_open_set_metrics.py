"""Tests for open-set metrics: checks (a)-(d) of the Open-set API card."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from sktrust.metrics import (
    auroc_scorer,
    fpr95_scorer,
    fpr_at_tpr,
    open_set_report,
    oscr_score,
    oscr_scorer,
)


def test_a_perfect_score():
    rng = np.random.RandomState(0)
    y = np.r_[rng.randint(0, 3, size=30), np.full(10, -1)]
    score = np.r_[rng.uniform(1, 2, size=30), rng.uniform(0, 0.9, size=10)]
    y_pred_closed = np.where(rng.uniform(size=40) < 0.7, y, (y + 1) % 3)
    report = open_set_report(y, score, y_pred_closed)
    closed_acc = np.mean(y_pred_closed[:30] == y[:30])
    assert report["auroc"] == 1.0
    assert report["fpr_at_95tpr"] == 0.0
    assert report["oscr"] == pytest.approx(closed_acc, abs=1e-12)
    assert report["closed_set_accuracy"] == pytest.approx(closed_acc)
    assert report["aupr_in"] == pytest.approx(1.0)
    assert report["aupr_out"] == pytest.approx(1.0)


def test_b_reversed_scores():
    y = np.r_[np.zeros(10, dtype=int), np.full(5, -1)]
    score = np.r_[np.linspace(0, 1, 10), np.linspace(2, 3, 5)]
    report = open_set_report(y, score, np.zeros(15, dtype=int))
    assert report["auroc"] == 0.0
    assert report["fpr_at_95tpr"] == 1.0
    assert report["oscr"] == 0.0


def test_c_auroc_matches_sklearn():
    rng = np.random.RandomState(42)
    y = np.where(rng.uniform(size=200) < 0.3, -1, rng.randint(0, 4, size=200))
    score = rng.normal(size=200)
    report = open_set_report(y, score)
    expected = roc_auc_score(y != -1, score)
    assert abs(report["auroc"] - expected) < 1e-12
    assert set(report) == {"auroc", "aupr_in", "aupr_out", "fpr_at_95tpr"}


def test_d_six_point_oscr_by_hand():
    # Sorted by score: known A (right), unknown, known C (right), known D
    # (right), unknown, known B (wrong). Closed-set accuracy 3/4.
    # Curve (FPR, CCR): (0,0) (0,1/4) (1/2,1/4) (1/2,1/2) (1/2,3/4) (1,3/4)
    # (1,3/4) (1,3/4): area 1/2 * 1/4 + 1/2 * 3/4 = 1/2.
    y = np.array([0, -1, 1, 2, -1, 1])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y_pred_closed = np.array([0, 0, 1, 2, 1, 0])
    assert oscr_score(y, score, y_pred_closed) == 0.5
    report = open_set_report(y, score, y_pred_closed)
    assert report["oscr"] == 0.5
    assert report["closed_set_accuracy"] == 0.75
    assert report["auroc"] == 0.5  # 4 of 8 known/unknown pairs ordered right


def test_oscr_with_ties():
    # All scores tied: one point (1, closed-set accuracy); area = acc / 2.
    y = np.array([0, 1, -1, -1])
    score = np.ones(4)
    assert oscr_score(y, score, [0, 1, 0, 0]) == pytest.approx(0.5)


def test_fpr_at_tpr_threshold_definition():
    # Known scores 1..20: the threshold accepting 95% (19 of 20) is 2.
    known = np.arange(1, 21, dtype=float)
    unknown = np.array([1.5, 2.0, 2.5, 0.5])
    y = np.r_[np.zeros(20, dtype=int), np.full(4, -1)]
    score = np.r_[known, unknown]
    assert fpr_at_tpr(y, score) == pytest.approx(2 / 4)  # 2.0 (tie) and 2.5
    # 10 knowns: 95% needs all 10 -> threshold 1 accepts 1.5, 2.0, 2.5.
    y10 = np.r_[np.zeros(10, dtype=int), np.full(4, -1)]
    score10 = np.r_[known[:10], unknown]
    assert fpr_at_tpr(y10, score10) == pytest.approx(3 / 4)
    assert fpr_at_tpr(y10, score10, tpr=0.5) == pytest.approx(0.0)


def test_threshold_and_y_pred_give_open_set_metrics():
    y = np.array([0, 1, 1, -1, -1])
    score = np.array([0.9, 0.8, 0.4, 0.5, 0.1])
    closed = np.array([0, 1, 0, 1, 0])
    report = open_set_report(y, score, closed, threshold=0.45)
    # Open-set predictions: 0, 1, -1, 1, -1 -> 3 of 5 right.
    assert report["open_set_accuracy"] == pytest.approx(0.6)
    # Per class F1: class 0: 1; class 1: P=1/2, R=1/2 -> 1/2; unknown: P=1/2,
    # R=1/2 -> 1/2. Macro = 2/3.
    assert report["macro_f1"] == pytest.approx(2 / 3)
    same = open_set_report(y, score, closed, y_pred=[0, 1, -1, 1, -1])
    assert same["macro_f1"] == pytest.approx(report["macro_f1"])


def test_string_labels():
    y = np.array(["a", "b", "unknown", "unknown"])
    report = open_set_report(y, [0.9, 0.8, 0.2, 0.1], ["a", "a", "b", "a"], unknown_label="unknown")
    assert report["oscr"] == 0.5 and report["auroc"] == 1.0


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([0, 1], [0.1, 0.2]), {}, "both known rows and unknown"),
        (([0, -1], [0.1]), {}, "inconsistent numbers"),
        (([0, -1], [0.1, np.nan]), {}, "finite"),
        (([0, -1], [0.1, 0.2]), {"threshold": 0.1}, "needs y_pred_closed"),
        (
            ([0, -1], [0.1, 0.2], [0, 0]),
            {"threshold": 0.1, "y_pred": [0, 0]},
            "not both",
        ),
        (([], []), {}, "empty"),
    ],
)
def test_open_set_report_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        open_set_report(*args, **kwargs)


class _MaxProbOpenSet(LogisticRegression):
    """Logistic regression with max-probability known-ness, for the scorers."""

    def __init__(self, unknown_label=-1, C=1.0):
        super().__init__(C=C)
        self.unknown_label = unknown_label

    def score_samples(self, X):
        return self.predict_proba(X).max(axis=1)


def test_scorers_agree_with_report():
    rng = np.random.RandomState(0)
    X_known = np.r_[rng.normal(-3, 1, size=(40, 2)), rng.normal(3, 1, size=(40, 2))]
    y_known = np.repeat([0, 1], 40)
    est = _MaxProbOpenSet(unknown_label=-7).fit(X_known, y_known)
    X = np.r_[X_known, rng.normal(0, 0.5, size=(20, 2))]
    y = np.r_[y_known, np.full(20, -7)]
    report = open_set_report(y, est.score_samples(X), est.predict(X), unknown_label=-7)
    assert oscr_scorer(est, X, y) == pytest.approx(report["oscr"])
    assert auroc_scorer(est, X, y) == pytest.approx(report["auroc"])
    assert fpr95_scorer(est, X, y) == pytest.approx(-report["fpr_at_95tpr"])
    assert auroc_scorer(est, X, y) > 0.8


def test_scorer_needs_score_samples():
    est = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(TypeError, match="score_samples"):
        auroc_scorer(est, [[0.0], [1.0]], [0, -1])


def test_scorers_read_unknown_label_through_a_pipeline():
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.RandomState(0)
    X_known = np.r_[rng.normal(-3, 1, size=(40, 2)), rng.normal(3, 1, size=(40, 2))]
    y_known = np.array(["a", "b"]).repeat(40)
    pipe = make_pipeline(StandardScaler(), _MaxProbOpenSet(unknown_label="unk"))
    pipe.fit(X_known, y_known)
    X = np.r_[X_known, rng.normal(0, 0.5, size=(20, 2))]
    y = np.r_[y_known, np.full(20, "unk")]
    report = open_set_report(y, pipe.score_samples(X), pipe.predict(X), unknown_label="unk")
    assert auroc_scorer(pipe, X, y) == pytest.approx(report["auroc"])
    assert oscr_scorer(pipe, X, y) == pytest.approx(report["oscr"])
    assert fpr95_scorer(pipe, X, y) == pytest.approx(-report["fpr_at_95tpr"])
    # Model selection on a pipeline: folds of known rows plus unknown rows.
    folds = [(np.r_[0:30, 40:70], np.r_[30:40, 70:100]),
             (np.r_[10:40, 50:80], np.r_[0:10, 40:50, 80:100])]
    scores = cross_val_score(pipe, X, y, scoring=auroc_scorer, cv=folds, error_score="raise")
    assert np.all(scores > 0.8)


def test_report_reads_unknown_label_none():
    # Open-set estimators accept unknown_label=None; their predictions must be scorable.
    y = np.array([0, 1, None, None], dtype=object)
    report = open_set_report(y, [0.9, 0.8, 0.2, 0.1], [0, 0, 1, 0], unknown_label=None,
                             y_pred=np.array([0, 1, None, 0], dtype=object))
    assert report["auroc"] == 1.0 and report["oscr"] == 0.5
    assert report["open_set_accuracy"] == 0.75
    assert fpr_at_tpr(y, [0.9, 0.8, 0.2, 0.1], unknown_label=None) == 0.0


@pytest.mark.parametrize("unknown", ["unknown", None])
def test_report_scores_integer_classes_with_an_unknown_label_of_another_type(unknown):
    y = np.array([0, 1, 1, unknown, unknown], dtype=object)
    y_pred = np.array([0, 1, unknown, unknown, 0], dtype=object)
    report = open_set_report(y, [0.9, 0.8, 0.3, 0.2, 0.6], unknown_label=unknown, y_pred=y_pred)
    # Same numbers as with an integer unknown label.
    ref = open_set_report(np.array([0, 1, 1, -1, -1]), [0.9, 0.8, 0.3, 0.2, 0.6],
                          y_pred=np.array([0, 1, -1, -1, 0]))
    assert report == pytest.approx(ref)
    assert report["open_set_accuracy"] == 0.6
