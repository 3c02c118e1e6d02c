"""FEAMOEClassifier: logistic-regression limit, fairness, drift, exact Shapley values."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sktrust.interpretable import FEAMOEClassifier
from sktrust.interpretable._feamoe import fairness_gap


def _make(n, *, flip=False, seed=0, leak=0.5):
    """Sensitive column s (last) leaks into x1 and into the label."""
    rng = np.random.RandomState(seed)
    s = rng.randint(0, 2, n)
    X = rng.normal(size=(n, 4))
    X[:, 1] += s
    w = np.array([-2.0 if flip else 2.0, 1.0, -1.0, 0.5])
    logit = X @ w + leak * s - 0.5
    y = (rng.rand(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return np.column_stack([X, s]), y


def _gap(clf, X):
    p = clf.predict_proba(X)[:, 1]
    s = X[:, -1]
    return abs(p[s == 0].mean() - p[s == 1].mean())


def test_one_expert_without_penalty_is_logistic_regression():
    X, y = _make(2000)
    clf = FEAMOEClassifier(epochs=150, batch_size=2000, lr=0.1, random_state=0).fit(
        X[:, :4], y)
    lr = LogisticRegression(C=np.inf).fit(X[:, :4], y)
    np.testing.assert_allclose(clf.expert_coef_[0], lr.coef_[0], atol=1e-2)
    np.testing.assert_allclose(clf.expert_intercept_, lr.intercept_, atol=1e-2)


def test_fairness_penalty_halves_the_parity_gap_at_small_accuracy_cost():
    # The card's check: lam=5 cuts the DP gap by >= 50% at <= 3 points of accuracy.
    X, y = _make(2000)
    X_test, y_test = _make(4000, seed=1)
    plain = FEAMOEClassifier(sensitive_feature=4, lam=0.0, random_state=0).fit(X, y)
    fair = FEAMOEClassifier(sensitive_feature=4, lam=5.0, random_state=0).fit(X, y)
    assert _gap(fair, X_test) <= 0.5 * _gap(plain, X_test)
    assert fair.score(X_test, y_test) >= plain.score(X_test, y_test) - 0.03
    # The absolute penalty has a constant gradient: at the same lam it removes almost
    # all of the gap, and pays for it in accuracy.
    hard = FEAMOEClassifier(sensitive_feature=4, lam=5.0, penalty="absolute",
                            random_state=0).fit(X, y)
    assert _gap(hard, X_test) <= 0.2 * _gap(plain, X_test)
    assert _gap(hard, X_test) < _gap(fair, X_test)
    assert hard.score(X_test, y_test) < fair.score(X_test, y_test)
    # The sensitive column is never an input.
    assert np.all(fair.expert_coef_[:, 4] == 0) and np.all(fair.gate_coef_[:, 4] == 0)


@pytest.mark.parametrize("kind", ["eo", "eopp"])
def test_odds_penalties_reduce_their_own_gap(kind):
    X, y = _make(2000)
    X_test, y_test = _make(4000, seed=1)
    gaps = []
    for lam in (0.0, 5.0):
        clf = FEAMOEClassifier(sensitive_feature=4, fairness=kind, lam=lam,
                               random_state=0).fit(X, y)
        gaps.append(fairness_gap(clf.predict_proba(X_test)[:, 1], y_test, X_test[:, 4], kind))
    assert gaps[1] <= 0.5 * gaps[0]


@pytest.fixture(scope="module")
def streams():
    """Ten windows; the first coefficient flips sign from window 5."""
    out = {}
    for lam in (0.0, 5.0):
        clf = FEAMOEClassifier(sensitive_feature=4, lam=lam, random_state=0)
        rows = []
        for w in range(10):
            X, y = _make(500, flip=w >= 5, seed=10 + w)
            clf.partial_fit(X, y)
            X_test, y_test = _make(2000, flip=w >= 5, seed=100 + w)
            rows.append((clf.score(X_test, y_test), _gap(clf, X_test), X_test, y_test))
        out[lam] = (clf, rows)
    return out


def test_partial_fit_follows_a_concept_flip(streams):
    clf, rows = streams[0.0]
    X0, y0 = _make(500, seed=10)
    frozen = LogisticRegression().fit(X0[:, :4], y0)
    X2, y2 = _make(1000, flip=True, seed=77)
    regime2 = LogisticRegression().fit(X2[:, :4], y2)
    for acc, _, X_test, y_test in rows[6:8]:  # within two windows of the flip
        assert acc >= regime2.score(X_test[:, :4], y_test) - 0.05
        assert frozen.score(X_test[:, :4], y_test) <= 0.6
    assert clf.n_experts_ > 1 and any(h["grew"] for h in clf.history_[5:])
    assert clf.history_[5]["accuracy_before"] < clf.history_[4]["accuracy"] - clf.drift_tol


def test_fair_stream_keeps_a_lower_gap_at_similar_accuracy(streams):
    # The card's check over the drift stream: gap at least halved, <= 3 points lost.
    plain, fair = streams[0.0][1], streams[5.0][1]
    assert np.mean([r[1] for r in fair]) <= 0.5 * np.mean([r[1] for r in plain])
    assert np.mean([r[0] for r in fair]) >= np.mean([r[0] for r in plain]) - 0.03
    # ... and window by window the penalised gap stays below the unpenalised one.
    assert all(f[1] < p[1] for f, p in zip(fair, plain))


def test_old_experts_stay_frozen_when_one_is_added():
    X, y = _make(400)
    clf = FEAMOEClassifier(grow="on_window", epochs=5, random_state=0).fit(X, y)
    before = clf.expert_coef_.copy()
    X2, y2 = _make(400, flip=True, seed=1)
    clf.partial_fit(X2, y2)
    assert clf.n_experts_ == 2
    np.testing.assert_allclose(clf.expert_coef_[0], before[0], atol=1e-6)
    assert np.abs(clf.expert_coef_[1] - before[0]).max() > 1e-3
    assert clf.gate_proba(X2).shape == (400, 2)


def test_closed_form_shap_matches_kernel_shap_on_the_routed_expert(streams):
    import shap

    clf, rows = streams[0.0]
    clf_hard = FEAMOEClassifier(**{**clf.get_params(), "routing": "hard"})
    for attr, value in vars(clf).items():
        if attr.endswith("_") or attr.startswith("_"):
            setattr(clf_hard, attr, value)
    X = rows[-1][2][:4]
    phi = clf_hard.shap_values(X)
    mu = clf_hard.input_mean_
    k = clf_hard.gate_proba(X).argmax(axis=1)
    logit = np.log(clf_hard.predict_proba(X)[:, 1]) - np.log(clf_hard.predict_proba(X)[:, 0])
    for i in range(len(X)):
        w, b = clf_hard.expert_coef_[k[i]], clf_hard.expert_intercept_[k[i]]
        peer = shap.KernelExplainer(lambda Z, w=w, b=b: Z @ w + b, mu[None])
        ref = peer.shap_values(X[i:i + 1], nsamples=200, silent=True)[0]
        np.testing.assert_allclose(phi[i], ref, atol=1e-3)
        # Efficiency: the values add up to the model's own logit minus the one at mu.
        assert abs(phi[i].sum() - (logit[i] - (mu @ w + b))) < 1e-6
    assert np.all(phi[:, 4] == 0)


def test_bad_inputs_raise_clear_errors():
    X, y = _make(100)
    with pytest.raises(ValueError, match="Only binary classification"):
        FEAMOEClassifier().fit(X, np.arange(100) % 3)
    with pytest.raises(ValueError, match="needs exactly two"):
        FEAMOEClassifier().fit(X, np.zeros(100))
    with pytest.raises(ValueError, match="sensitive column must be binary"):
        FEAMOEClassifier(sensitive_feature=0).fit(X, y)
    with pytest.raises(ValueError, match="not a column name"):
        FEAMOEClassifier(sensitive_feature="s").fit(X, y)
    with pytest.raises(ValueError, match="exceeds max_experts"):
        FEAMOEClassifier(n_experts=3, max_experts=2).fit(X, y)
    clf = FEAMOEClassifier(sensitive_feature=4, epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.predict(X[:, :3])
    X_bad = X.copy()
    X_bad[0, 4] = 7
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.partial_fit(X_bad, y)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X_nan)
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.partial_fit(X, np.where(y == 1, 5, 0))


def test_empty_data_raises_a_clear_error_in_fit_partial_fit_and_predict():
    X, y = _make(100)
    with pytest.raises(ValueError, match="0 sample"):
        FEAMOEClassifier().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="0 sample"):
        FEAMOEClassifier().partial_fit(X[:0], y[:0], classes=[0, 1])
    clf = FEAMOEClassifier(sensitive_feature=4, epochs=2, random_state=0).fit(X, y)
    for call in (clf.predict, clf.predict_proba, clf.shap_values, clf.gate_proba):
        with pytest.raises(ValueError, match="0 sample"):
            call(X[:0])
    with pytest.raises(ValueError, match="0 sample"):
        clf.partial_fit(X[:0], y[:0])
    assert len(clf.history_) == 1  # the refused window left no trace
