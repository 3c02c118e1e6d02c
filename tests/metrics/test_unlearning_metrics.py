"""Tests for the unlearning evaluation metrics."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from sktrust.metrics import (
    anamnesis_index,
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


def _line(w, b):
    """A fitted LinearRegression with f(x) = w * x + b."""
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    model.coef_, model.intercept_ = np.array([w]), b
    return model


def test_anamnesis_index_matches_a_hand_counted_adam_relearning():
    # Every row is x = 1, y = 3 and every prediction stays below 3, so the L1
    # gradient of w and b is the constant -1 and each Adam step (m_hat/sqrt(v_hat)
    # = 1) adds lr = 0.01 to both: f(1) grows by 0.02 per step. The original
    # predicts 2.9 (MAE 0.1), target MAE 1.05 * 0.1 = 0.105, i.e. f(1) >= 2.895:
    # from f = 2.0 that takes ceil(0.895 / 0.02) = 45 steps, from f = 1.0 95.
    X, y = np.ones((8, 1)), np.full(8, 3.0)
    original, unlearned, retrained = _line(1.45, 1.45), _line(1.0, 1.0), _line(0.5, 0.5)
    before = (unlearned.coef_.copy(), unlearned.intercept_)
    ain = anamnesis_index(unlearned, retrained, original, X, y, X[:2], y[:2],
                          batch_size=1, max_epochs=20)
    assert ain == pytest.approx(45 / 95, abs=1e-12)
    # alpha = 0.5: target MAE 0.15, f(1) >= 2.85: 43 steps against 93.
    ain = anamnesis_index(unlearned, retrained, original, X, y, X[:2], y[:2],
                          alpha=0.5, batch_size=1, max_epochs=20)
    assert ain == pytest.approx(43 / 93, abs=1e-12)
    # The models passed in are never trained.
    assert unlearned.coef_[0] == before[0][0] and unlearned.intercept_ == before[1]


def test_anamnesis_index_warns_when_undefined_or_censored():
    X, y = np.ones((8, 1)), np.full(8, 3.0)
    original = _line(1.45, 1.45)
    with pytest.warns(UserWarning, match="undefined"):
        assert np.isnan(anamnesis_index(original, original, original, X, y, X, y))
    with pytest.warns(UserWarning, match="bound"):
        anamnesis_index(_line(1.0, 1.0), _line(0.5, 0.5), original, X, y, X, y,
                        batch_size=8, max_epochs=2)
    with pytest.raises(ValueError, match="alpha"):
        anamnesis_index(original, original, original, X, y, X, y, alpha=-1)
    with pytest.raises(ValueError, match="X_forget_val"):
        anamnesis_index(original, original, original, X, y, X[:0], y[:0])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        anamnesis_index(original, original, original, X_nan, y, X, y)
    with pytest.raises(ValueError, match="y_forget_val contains NaN"):
        anamnesis_index(original, original, original, X, y, X, np.r_[np.nan, y[1:]])
    with pytest.raises(ValueError, match="y_train contains NaN"):
        anamnesis_index(original, original, original, X, np.r_[np.nan, y[1:]], X, y)
    with pytest.raises(ValueError, match="2D"):
        anamnesis_index(original, original, original, X[:, 0], y, X, y)
    with pytest.raises(ValueError, match="X_train has"):
        anamnesis_index(original, original, original, X, y[:-1], X, y)


@pytest.fixture(scope="module")
def region_regression():
    """MLP regressors with and without the rows of one input region."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(600, 2))
    y = 2 * np.sin(2 * X[:, 0]) + X[:, 1]
    region = X[:, 0] > 1.0
    val = (np.arange(600) % 4 == 0) & region
    train = ~val

    def mlp(seed, rows):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return MLPRegressor(hidden_layer_sizes=(32,), max_iter=400,
                                random_state=seed).fit(X[rows], y[rows])

    keep = train & ~region
    return {"X_train": X[train], "y_train": y[train], "X_val": X[val], "y_val": y[val],
            "original": mlp(0, train), "retrained": mlp(0, keep), "retrained_1": mlp(1, keep)}


def test_anamnesis_index_separates_retraining_from_doing_nothing(region_regression):
    d = region_regression
    args = (d["X_train"], d["y_train"], d["X_val"], d["y_val"])
    kw = {"alpha": 1.0, "max_epochs": 30}
    # Doing nothing keeps the forget region: it needs no relearning step at all.
    nothing = anamnesis_index(d["original"], d["retrained"], d["original"], *args, **kw)
    # A model retrained with another seed relearns about as slowly as the reference.
    other_seed = anamnesis_index(d["retrained_1"], d["retrained"], d["original"], *args, **kw)
    same = anamnesis_index(d["retrained"], d["retrained"], d["original"], *args, **kw)
    assert nothing == 0.0
    assert same == 1.0
    # An unlearner is read through its estimator_: exact retraining scores 1.
    from sklearn.frozen import FrozenEstimator

    from sktrust.unlearning import RetrainUnlearner

    X_tr, y_tr = d["X_train"], d["y_train"]
    region = X_tr[:, 0] > 1.0
    retrain = RetrainUnlearner(FrozenEstimator(d["original"])).fit(X_tr, y_tr).unlearn(
        X_tr[region], y_tr[region], X_tr[~region], y_tr[~region])
    assert anamnesis_index(retrain, d["retrained"], d["original"], *args, **kw) == 1.0
    assert 0.5 < other_seed < 2.0
