"""TestableHalfspaceClassifier: certifies on Gaussian data, rejects otherwise."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sktrust.open_set import (
    TestableHalfspaceClassifier,
    TestRejectedError,
    UncertifiedModelWarning,
)


def _massart(seed, n=20_000, d=10):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    y = (X @ w > 0).astype(int)
    flip = rng.rand(n) < 0.1 * rng.rand(n)  # Massart: flip rate <= 0.1 per point
    y[flip] = 1 - y[flip]
    return X, y, w


def test_gaussian_massart_data_is_certified_and_learned():
    certified = 0
    for seed in range(10):
        X, y, w_star = _massart(seed)
        clf = TestableHalfspaceClassifier(random_state=seed).fit(X, y)
        certified += clf.certified_
        angle = np.arccos(np.clip(clf.coef_[0] @ w_star, -1, 1))
        assert angle < 0.1
        opt = np.mean((X @ w_star > 0).astype(int) != y)
        assert 1 - clf.score(X, y) <= opt + 0.02
        assert np.linalg.norm(clf.coef_) == pytest.approx(1.0)
    assert certified >= 9


def _non_gaussian(seed, n=20_000, d=10):
    rng = np.random.RandomState(seed)
    if seed % 2:
        X = np.exp(rng.normal(size=(n, d)))
        X = (X - X.mean(0)) / X.std(0)  # standardised log-normal
    else:
        side = rng.rand(n) < 0.5
        X = rng.normal(scale=0.3, size=(n, d)) + np.where(side, 3.0, -3.0)[:, None]
    y = (X @ np.ones(d) > 0).astype(int)
    return X, y


def test_non_gaussian_features_are_rejected():
    rejected = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UncertifiedModelWarning)
        for seed in range(10):
            X, y = _non_gaussian(seed)
            rejected += not TestableHalfspaceClassifier(random_state=seed).fit(X, y).certified_
    assert rejected >= 9


def test_on_reject_modes_warn_raise_and_fall_back():
    X, y = _non_gaussian(1, n=3000)
    with pytest.warns(UncertifiedModelWarning, match="rejected"):
        warn = TestableHalfspaceClassifier(random_state=0).fit(X, y)
    assert not warn.certified_ and warn.fallback_ is None
    assert not warn.test_report_["candidates"][0]["passed"]
    with pytest.raises(TestRejectedError, match="rejected"):
        TestableHalfspaceClassifier(on_reject="raise", random_state=0).fit(X, y)
    fb = TestableHalfspaceClassifier(on_reject="fallback", random_state=0).fit(X, y)
    np.testing.assert_array_equal(fb.predict(X), LogisticRegression().fit(X, y).predict(X))


def test_agnostic_mode_gives_one_candidate_per_sigma():
    X, y, w_star = _massart(0, n=5000, d=5)
    clf = TestableHalfspaceClassifier("agnostic", sigmas=(0.1, 0.3), random_state=0)
    clf.fit(X, y)
    assert clf.candidates_.shape == (2, 5)
    assert np.arccos(np.clip(clf.coef_[0] @ w_star, -1, 1)) < 0.15


def test_whitening_makes_scaled_gaussian_data_testable():
    X, y, _ = _massart(0, n=10_000, d=5)
    X = X * np.array([5.0, 0.2, 1.0, 3.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UncertifiedModelWarning)
        assert not TestableHalfspaceClassifier(random_state=0).fit(X, y).certified_
    assert TestableHalfspaceClassifier(whiten=True, random_state=0).fit(X, y).certified_


def test_bad_inputs_are_refused():
    X, y, _ = _massart(0, n=200, d=3)
    with pytest.raises(ValueError, match="Only binary"):
        TestableHalfspaceClassifier().fit(X, np.arange(200) % 3)
    with pytest.raises(ValueError, match="band_tol"):
        TestableHalfspaceClassifier(band_tol=(2.0, 0.5)).fit(X, y)


def test_a_fallback_without_decision_function_still_predicts():
    from sklearn.tree import DecisionTreeClassifier

    X, y = _non_gaussian(1, n=600)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    fb = TestableHalfspaceClassifier(on_reject="fallback", fallback_estimator=tree,
                                     max_iter=50, random_state=0).fit(X, y)
    assert not fb.certified_
    np.testing.assert_array_equal(fb.predict(X), tree.fit(X, y).predict(X))
    with pytest.raises(AttributeError, match="no decision_function"):
        fb.decision_function(X)


@pytest.mark.parametrize("params, match", [
    ({"sigmas": ()}, "sigmas"),
    ({"sigmas": (0.1, -0.2)}, "sigmas"),
    ({"band_tol": (0.5, 1.0, 2.0)}, "band_tol"),
])
def test_empty_or_negative_sigmas_and_malformed_band_tol_are_refused(params, match):
    X, y, _ = _massart(0, n=200, d=3)
    with pytest.raises(ValueError, match=match):
        TestableHalfspaceClassifier(max_iter=5, **params).fit(X, y)
