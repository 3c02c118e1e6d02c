"""Tests for the unlearning evaluation metrics."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from sktrust.metrics import (
    avg_gap,
    classification_margins,
    klom,
    mia_efficacy,
    mia_membership_rate,
    prediction_wasserstein,
    regression_mia,
    remaining_accuracy,
    unlearning_accuracy,
    unlearning_report,
    zrf_score,
)
from sktrust.metrics import (
    test_accuracy as ta_metric,
)


@pytest.fixture(scope="module")
def cancer_split():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    rng = np.random.RandomState(0)
    idx = rng.permutation(len(y))
    tr, te = idx[:350], idx[350:]
    return X[tr], y[tr], X[te], y[te]


def test_accuracies_against_sklearn():
    X, y = load_digits(return_X_y=True)
    model = LogisticRegression(max_iter=200).fit(X[:1000], y[:1000])
    acc = 100 * model.score(X[1000:], y[1000:])
    assert remaining_accuracy(model, X[1000:], y[1000:]) == pytest.approx(acc)
    assert unlearning_accuracy(model, X[1000:], y[1000:]) == pytest.approx(100 - acc)
    keep = y[1000:] != 3
    expected = 100 * model.score(X[1000:][keep], y[1000:][keep])
    assert ta_metric(model, X[1000:], y[1000:], forget_classes=[3]) == (pytest.approx(expected))


def test_mia_on_overfit_model():
    # A random forest on 300 digits fits its training rows far better than
    # unseen rows (test accuracy ~0.92): the attack tells them apart.
    X, y = load_digits(return_X_y=True)
    idx = np.random.RandomState(0).permutation(len(y))
    X, y = X[idx], y[idx]
    X_tr, y_tr, X_te, y_te = X[:300], y[:300], X[300:600], y[300:600]
    X_ho, y_ho = X[600:700], y[600:700]
    model = RandomForestClassifier(n_estimators=30, random_state=0).fit(X_tr, y_tr)
    X_r, y_r, X_f, y_f = X_tr[100:], y_tr[100:], X_tr[:100], y_tr[:100]
    members = mia_membership_rate(model, X_r, y_r, X_te, y_te, X_f, y_f)
    held_out = mia_membership_rate(model, X_r, y_r, X_te, y_te, X_ho, y_ho)
    assert members > held_out + 30
    # SalUn's efficacy (non-member rate) is low for training rows.
    efficacy_train = mia_efficacy(model, X_r, y_r, X_te, y_te, X_f, y_f)
    efficacy_held_out = mia_efficacy(model, X_r, y_r, X_te, y_te, X_ho, y_ho)
    assert efficacy_train + 30 < efficacy_held_out
    assert 0 <= efficacy_train <= 100


def test_mia_feature_and_attacker_options(cancer_split):
    X, y, X_te, y_te = cancer_split
    model = DecisionTreeClassifier(random_state=0, max_depth=3).fit(X, y)
    for feature in ["confidence", "entropy", "correctness", "prob"]:
        value = mia_efficacy(model, X[50:], y[50:], X_te, y_te, X[:50], y[:50], feature=feature)
        assert 0 <= value <= 100
    value = mia_membership_rate(model, X[50:], y[50:], X_te, y_te, X[:50], y[:50], attacker="svc")
    assert 0 <= value <= 100


def test_mia_reproducible_and_bad_labels(cancer_split):
    X, y, X_te, y_te = cancer_split
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    args = (model, X[50:], y[50:], X_te, y_te, X[:50], y[:50])
    assert mia_efficacy(*args, random_state=3) == mia_efficacy(*args, random_state=3)
    with pytest.raises(ValueError, match="classes of the model"):
        mia_efficacy(model, X[50:], y[50:] + 5, X_te, y_te, X[:50], y[:50])
    with pytest.raises(ValueError, match="empty"):
        mia_efficacy(model, X[50:], y[50:], X_te, y_te, X[:0], y[:0])


def test_avg_gap():
    m = {"UA": 10, "RA": 99, "TA": 90, "MIA": 20}
    assert avg_gap(m, dict(m)) == 0.0
    full = {
        "unlearning_accuracy": 12,
        "remaining_accuracy": 99,
        "test_accuracy": 94,
        "mia_efficacy": 18,
    }
    assert avg_gap(m, full) == pytest.approx((2 + 0 + 4 + 2) / 4)
    # A list of retrain runs is averaged first: mean UA 12 -> same as above.
    other = dict(full, unlearning_accuracy=10)
    third = dict(full, unlearning_accuracy=14)
    assert avg_gap(m, [other, third]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="lacks 'mia_efficacy'"):
        avg_gap({"UA": 1, "RA": 1, "TA": 1}, m)


def test_classification_margins():
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    margins = classification_margins(logits, [0, 2])
    expected = [2.0 - np.log(2.0), 3.0 - np.log(1.0 + np.e)]
    np.testing.assert_allclose(margins, expected)
    np.testing.assert_allclose(
        classification_margins(logits, ["a", "c"], classes=["a", "b", "c"]), expected
    )


def test_klom_identical_and_separated():
    rng = np.random.RandomState(0)
    same = rng.normal(size=(50, 3))
    np.testing.assert_allclose(klom(same, same.copy()), 0.0, atol=1e-12)
    far = klom(rng.normal(-20, 1, size=(50, 3)), rng.normal(20, 1, size=(50, 3)))
    # P and Q share no bin: KL = sum_P p * log(p / eps) >= log(1 / eps) - log(k).
    assert np.all(far > np.log(1e5) - np.log(20))


def test_klom_hand_computed():
    # Two bins over [0, 2]: P = (1/2, 1/2), Q = (1, 0) -> Q raised to eps on
    # bin 2: KL = 1/2 log(1/2) + 1/2 log(1/2 / 1e-5).
    value = klom([0.0, 2.0], [0.0, 0.5], bins=2)
    expected = 0.5 * np.log(0.5) + 0.5 * np.log(0.5 / 1e-5)
    assert value == pytest.approx(expected)
    # Clipping: margins beyond the range collapse onto its ends.
    assert klom([500.0], [100.0]) == 0.0


def test_klom_bad_input():
    with pytest.raises(ValueError, match="rows"):
        klom(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="clip"):
        klom([0.0], [1.0], clip=(1, -1))


def test_zrf():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert zrf_score(p, p.copy()) == pytest.approx(1.0)
    assert zrf_score(p, p.copy(), legacy=True) == pytest.approx(1.0)
    # Disjoint supports: JS = ln 2 exactly.
    assert zrf_score([[1.0, 0.0]], [[0.0, 1.0]]) == pytest.approx(1 - np.log(2))
    q = np.array([[0.2, 0.3, 0.5], [0.3, 0.3, 0.4]])
    m = (p + q) / 2
    js = np.mean(0.5 * np.sum(p * np.log(p / m), axis=1) + 0.5 * np.sum(q * np.log(q / m), axis=1))
    assert zrf_score(p, q) == pytest.approx(1 - js)
    legacy = 0.5 * np.mean(m * np.log(m / p)) + 0.5 * np.mean(m * np.log(m / q))
    assert zrf_score(p, q, legacy=True) == pytest.approx(1 - legacy)
    with pytest.raises(ValueError, match="shape"):
        zrf_score(p, q[:, :2])
    with pytest.raises(ValueError, match="probabilities"):
        zrf_score(p * 2, q)


def test_regression_metrics():
    X, y = load_diabetes(return_X_y=True)
    overfit = DecisionTreeRegressor(random_state=0).fit(X[:300], y[:300])
    train_rate = regression_mia(overfit, X[:300], y[:300], X[300:380], y[300:380], X[:50], y[:50])
    test_rate = regression_mia(overfit, X[:300], y[:300], X[300:380], y[300:380], X[380:], y[380:])
    assert train_rate > test_rate
    assert prediction_wasserstein(overfit, overfit, X[:50]) == 0.0
    shallow = DecisionTreeRegressor(max_depth=1, random_state=0).fit(X, y)
    assert prediction_wasserstein(overfit, shallow, X[:50]) > 0


def test_unlearning_report_classifier(cancer_split):
    X, y, X_te, y_te = cancer_split
    X_f, y_f, X_r, y_r = X[:40], y[:40], X[40:], y[40:]
    original = LogisticRegression(C=100, max_iter=500).fit(X, y)
    original.unlearn_time_ = 0.25
    retrained = [
        LogisticRegression(C=100, max_iter=500).fit(X_r, y_r),
        DecisionTreeClassifier(random_state=0).fit(X_r, y_r),
    ]
    report = unlearning_report(original, X_f, y_f, X_r, y_r, X_te, y_te, reference=retrained)
    assert report["unlearning_accuracy"] == pytest.approx(unlearning_accuracy(original, X_f, y_f))
    assert report["mia_efficacy"] == pytest.approx(
        mia_efficacy(original, X_r, y_r, X_te, y_te, X_f, y_f)
    )
    assert report["seconds"] == 0.25
    ref_ra = np.mean([remaining_accuracy(m, X_r, y_r) for m in retrained])
    assert report["reference"]["remaining_accuracy"] == pytest.approx(ref_ra)
    assert report["avg_gap"] == pytest.approx(avg_gap(report, report["reference"]))
    self_report = unlearning_report(
        retrained[0], X_f, y_f, X_r, y_r, X_te, y_te, reference=retrained[0]
    )
    assert self_report["avg_gap"] == 0.0


def test_unlearning_report_regressor_and_no_reference():
    X, y = load_diabetes(return_X_y=True)
    model = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X[:300], y[:300])
    report = unlearning_report(
        model,
        X[:30],
        y[:30],
        X[30:300],
        y[30:300],
        X[300:],
        y[300:],
        reference=model,
    )
    assert set(report) >= {"forget_mae", "retain_mae", "test_mae", "regression_mia"}
    assert report["prediction_wasserstein"] == 0.0

    clf = DummyClassifier(strategy="most_frequent").fit(X, y > 150)
    report = unlearning_report(
        clf, X[:30], y[:30] > 150, X[30:], y[30:] > 150, X[:10], y[:10] > 150
    )
    assert "mia_efficacy" in report and "avg_gap" not in report


def test_accuracy_bad_input():
    model = DummyClassifier().fit([[0]], [0])
    with pytest.raises(ValueError, match="empty"):
        unlearning_accuracy(model, np.zeros((0, 1)), [])
    with pytest.raises(ValueError, match="inconsistent"):
        remaining_accuracy(model, [[0], [1]], [0])
    with pytest.raises(ValueError, match="no rows left"):
        ta_metric(model, [[0], [1]], [2, 2], forget_classes=[2])
    with pytest.raises((TypeError, ValueError), match="model"):
        ta_metric(object(), [[0]], [0])
