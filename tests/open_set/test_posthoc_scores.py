"""Post-hoc open-set scores: closed forms, and rejection behaviour."""

import numpy as np
import pytest
from scipy.special import logsumexp, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from sktrust.open_set import (
    COSTARROpenSet,
    EvidentialClassifier,
    PostHocOpenSetClassifier,
    TLCClassifier,
    energy_score,
    max_logit_score,
    msp_score,
)


def test_scores_match_their_closed_forms():
    rng = np.random.RandomState(0)
    z = rng.normal(size=(20, 4))
    np.testing.assert_allclose(msp_score(z), softmax(z, axis=1).max(1))
    np.testing.assert_allclose(max_logit_score(z), z.max(1))
    np.testing.assert_allclose(energy_score(z, 2.0), 2.0 * logsumexp(z / 2.0, axis=1))


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((3, 1)), [[np.nan, 0.0]]])
def test_bad_logits_raise(bad):
    with pytest.raises(ValueError, match="logits"):
        max_logit_score(bad)


@pytest.mark.parametrize("method", ["msp", "max_logit", "energy"])
def test_unknown_digits_score_lower_than_known_ones(method, digits):
    X, y = digits
    known = y < 6
    rng = np.random.RandomState(0)
    train = known & (rng.rand(len(y)) < 0.7)
    test = ~train
    clf = PostHocOpenSetClassifier(MLPClassifier((64,), max_iter=200, random_state=0),
                                   method=method).fit(X[train], y[train])
    s = clf.score_samples(X[test])
    from sklearn.metrics import roc_auc_score

    auroc = roc_auc_score(known[test], s)
    assert auroc > 0.75, auroc  # a random score gives 0.5


def test_auto_threshold_keeps_known_rate_and_rejects_far_points(iris):
    X, y = iris
    clf = PostHocOpenSetClassifier(threshold="auto", known_rate=0.9,
                                   unknown_label="unknown").fit(X, y.astype(str))
    assert clf.predict_known(X).mean() == pytest.approx(0.9, abs=0.02)
    far = X[:5] * 0 + np.array([[0.0, 0.0, 30.0, -30.0]])
    # max-logit of a linear model grows far from data: use MSP for far rejection
    msp = PostHocOpenSetClassifier(method="msp", threshold=0.99).fit(X, y)
    assert msp.predict(np.array([[5.8, 3.0, 4.2, 1.35]]))[0] in (-1, 1, 2)
    assert clf.predict(far).dtype.kind in "UO"


def test_threshold_none_never_rejects_and_predict_known_refuses(iris):
    X, y = iris
    clf = PostHocOpenSetClassifier().fit(X, y)
    assert set(clf.predict(X + 50)) <= {0, 1, 2}
    with pytest.raises(ValueError, match="threshold=None"):
        clf.predict_known(X)


def test_unknown_label_equal_to_a_class_is_refused_when_rejecting(iris):
    X, y = iris
    with pytest.raises(ValueError, match="unknown_label=1 is one of the training"):
        PostHocOpenSetClassifier(unknown_label=1, threshold="auto").fit(X, y)


def test_threshold_out_of_range_is_refused(iris):
    X, y = iris
    with pytest.raises(ValueError, match="known_rate"):
        PostHocOpenSetClassifier(threshold="auto", known_rate=1.5).fit(X, y)
    with pytest.raises(ValueError, match="threshold"):
        PostHocOpenSetClassifier(threshold="always").fit(X, y)


def test_decision_function_is_the_closed_set_one(breast_cancer):
    X, y = breast_cancer
    lr = LogisticRegression(max_iter=500).fit(X, y)
    clf = PostHocOpenSetClassifier(lr).fit(X, y)
    np.testing.assert_allclose(clf.decision_function(X), lr.decision_function(X))


@pytest.mark.parametrize("make, bad", [
    (lambda t: PostHocOpenSetClassifier(threshold=t), [np.nan, np.inf, -np.inf]),
    (lambda t: PostHocOpenSetClassifier(method="msp", threshold=t), [1.5, -0.1, np.nan]),
    (lambda t: COSTARROpenSet(threshold=t), [1.5, -3.0, np.nan]),
    (lambda t: EvidentialClassifier(threshold=t, max_epochs=1), [2.0, -0.5, np.inf]),
    (lambda t: TLCClassifier(threshold=t, max_epochs=1), [np.nan, np.inf, -0.5]),
])
def test_a_float_threshold_outside_the_score_range_is_refused(iris, make, bad):
    # Such a threshold rejects every row (or none) without a word.
    X, y = iris
    for t in bad:
        with pytest.raises(ValueError, match="threshold=.* is out of range"):
            make(t).fit(X, y)


def test_a_float_threshold_inside_the_score_range_is_used_as_is(iris):
    X, y = iris
    clf = COSTARROpenSet(threshold=0.0).fit(X, y)
    assert clf.threshold_ == 0.0 and np.all(clf.predict_known(X))
    assert PostHocOpenSetClassifier(threshold=-50.0).fit(X, y).threshold_ == -50.0


@pytest.mark.parametrize("estimator", [PostHocOpenSetClassifier, COSTARROpenSet])
@pytest.mark.parametrize("unknown, dtype_kind", [
    ("unknown", "O"), (None, "O"), (-1, "i"), (-1.5, "f")])
def test_rejecting_keeps_integer_classes_integers(iris, unknown, dtype_kind, estimator):
    # Integer classes with unknown_label="unknown" used to come back as "0", "1", ...
    # (OpenSetMixin, shared by every open-set estimator).
    from sktrust.metrics import open_set_report

    X, y = iris
    clf = estimator(threshold="auto", known_rate=0.5, unknown_label=unknown).fit(X, y)
    pred = clf.predict(X)
    known = clf.predict_known(X)
    assert pred.dtype.kind == dtype_kind and 0 < known.mean() < 1
    np.testing.assert_array_equal(pred[known], clf.estimator_.predict(X[known]))
    assert all(not isinstance(v, str) for v in pred[known].tolist())
    assert all(v is unknown or v == unknown for v in pred[~known].tolist())
    # open_set_report reads these predictions: y_true marks the rejected rows unknown.
    y_true = np.array(y, dtype=object)
    y_true[~known] = unknown
    report = open_set_report(y_true, clf.score_samples(X), unknown_label=unknown, y_pred=pred)
    assert report["open_set_accuracy"] == pytest.approx(
        np.mean([a == b or (a is None and b is None) for a, b in zip(pred, y_true)]))
    assert report["open_set_accuracy"] > 0.9


def test_rows_of_classes_the_frozen_model_does_not_know_are_refused(iris):
    # They would enter the "auto" threshold as if they were known rows.
    from sklearn.frozen import FrozenEstimator

    X, y = iris
    lr = LogisticRegression(max_iter=500).fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match=r"labels \[2\].*known classes only"):
        PostHocOpenSetClassifier(FrozenEstimator(lr), threshold="auto").fit(X, y)


@pytest.mark.parametrize("estimator", [PostHocOpenSetClassifier, COSTARROpenSet])
def test_nan_unknown_label_is_refused(iris, estimator):
    # NaN != NaN: rejected rows could never be found again by open_set_report.
    from sktrust.metrics import open_set_report

    X, y = iris
    with pytest.raises(ValueError, match="unknown_label=nan"):
        estimator(threshold="auto", unknown_label=np.nan).fit(X, y)
    with pytest.raises(ValueError, match="unknown_label=nan"):
        open_set_report([0.0, np.nan], [0.9, 0.1], unknown_label=np.nan)


@pytest.mark.parametrize("estimator", [PostHocOpenSetClassifier, COSTARROpenSet])
def test_frozen_model_with_string_labels_accepts_pandas_rows_of_a_subset_of_its_classes(
        iris, estimator):
    # The label checks must not refuse valid input: a DataFrame, string labels,
    # rows of only some of the frozen model's classes, unknown_label=None.
    pd = pytest.importorskip("pandas")
    from sklearn.frozen import FrozenEstimator

    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    lr = LogisticRegression(max_iter=500).fit(X, names)  # the wrapper passes arrays on
    rows = y < 2
    clf = estimator(FrozenEstimator(lr), threshold="auto", known_rate=0.8,
                    unknown_label=None).fit(df[rows], pd.Series(names[rows]))
    pred, known = clf.predict(df), clf.predict_known(df)
    assert list(clf.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    assert 0 < known.mean() < 1
    assert all(v is None for v in pred[~known])
    np.testing.assert_array_equal(pred[known], lr.predict(X[known]))
