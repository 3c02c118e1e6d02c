"""InfiniteDepthNTKClassifier: limits in closed form, the deep NTK, consistency."""

import numpy as np
import pytest
from scipy.special import expit
from sklearn.dummy import DummyClassifier
from sklearn.neighbors import KNeighborsClassifier

from sktrust.open_set import InfiniteDepthNTKClassifier, ntk_kernel


def test_nearest_is_one_nn_and_majority_is_most_frequent(iris):
    X, y = iris
    rng = np.random.RandomState(0)
    Xn = X + 1e-6 * rng.normal(size=X.shape)  # no distance ties
    train, test = np.arange(150) % 3 != 0, np.arange(150) % 3 == 0
    nn = InfiniteDepthNTKClassifier("nearest").fit(Xn[train], y[train])
    knn = KNeighborsClassifier(1).fit(Xn[train], y[train])
    np.testing.assert_array_equal(nn.predict(Xn[test]), knn.predict(Xn[test]))
    yb = np.r_[y[train][:60], np.zeros(20, dtype=int)]
    maj = InfiniteDepthNTKClassifier("majority").fit(Xn[train][:80], yb)
    dummy = DummyClassifier(strategy="most_frequent").fit(Xn[train][:80], yb)
    np.testing.assert_array_equal(maj.predict(Xn[test]), dummy.predict(Xn[test]))
    prior = DummyClassifier(strategy="prior").fit(Xn[train][:80], yb)
    np.testing.assert_allclose(maj.predict_proba(Xn[test]), prior.predict_proba(Xn[test]))


def test_singular_rule_matches_its_formula_and_returns_exact_matches():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    y = rng.randint(0, 3, 30)
    clf = InfiniteDepthNTKClassifier(alpha=2.5).fit(X, y)
    Q = rng.normal(size=(10, 3))
    d = np.linalg.norm(Q[:, None] - X[None], axis=2)
    w = np.stack([(d ** -2.5 * (y == c)).sum(1) for c in range(3)], axis=1)
    np.testing.assert_allclose(clf.predict_proba(Q), w / w.sum(1, keepdims=True),
                               rtol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), y)


def test_ntk_kernel_is_one_on_the_diagonal_and_matches_the_plain_recursion():
    rho = np.linspace(-1, 1, 11)
    a = np.sqrt([0.2, 0.5, 0.3])
    xi = lambda r: 0.2 + 0.5 * r + 0.3 * r ** 2  # noqa: E731
    dxi = lambda r: 0.5 + 0.6 * r  # noqa: E731
    sigma, K, K1 = rho.copy(), rho.copy(), 1.0
    for _ in range(4):
        K, sigma = K * dxi(sigma) + xi(sigma), xi(sigma)
        K1 = K1 * dxi(1.0) + 1.0
    np.testing.assert_allclose(ntk_kernel(rho, a, 4), K / K1, rtol=1e-12)
    assert ntk_kernel(1.0, a, 50) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="sum of squares 1"):
        ntk_kernel(rho, [1.0, 1.0], 2)


@pytest.fixture(scope="module")
def sphere_points():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    # Noise-free labels: with flipped labels the interpolating kernel and the
    # vote disagree more (0.92-0.98 here), as interpolation fits the flips.
    y = (X[:, 0] > 0).astype(int)
    rng.normal(size=200)
    Q = rng.normal(size=(2000, 3))
    return X, y, Q / np.linalg.norm(Q, axis=1, keepdims=True)


def test_supercritical_deep_ntk_becomes_one_nn(sphere_points):
    X, y, Q = sphere_points
    deep = InfiniteDepthNTKClassifier(depth=50, hermite_coefs=np.sqrt([0, 0.5, 0.5]))
    nn = InfiniteDepthNTKClassifier("nearest").fit(X, y)
    agree = np.mean(deep.fit(X, y).predict(Q) == nn.predict(Q))
    assert agree >= 0.99


def test_critical_deep_ntk_becomes_a_singular_vote(sphere_points):
    X, y, Q = sphere_points
    Q = Q[:1000]
    deep = InfiniteDepthNTKClassifier(depth=500).fit(X, y).predict(Q)
    agree = [np.mean(InfiniteDepthNTKClassifier(alpha=a).fit(X, y).predict(Q) == deep)
             for a in (2.0, 3.0, 4.0)]
    assert max(agree) >= 0.98


def test_singular_rule_approaches_bayes_error_and_one_nn_does_not():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(10000, 2))
    p = expit(4 * X[:, 0])
    y = (rng.rand(10000) < p).astype(int)
    train, test = slice(0, 8000), slice(8000, None)
    bayes = np.mean(np.minimum(p[test], 1 - p[test]))
    err_singular = 1 - InfiniteDepthNTKClassifier().fit(X[train], y[train]).score(
        X[test], y[test])
    err_nn = 1 - InfiniteDepthNTKClassifier("nearest").fit(X[train], y[train]).score(
        X[test], y[test])
    assert err_singular <= bayes + 0.03
    assert err_nn >= bayes + 0.05


def test_bad_inputs_are_refused(iris):
    X, y = iris
    with pytest.raises(ValueError, match="limit"):
        InfiniteDepthNTKClassifier("farthest").fit(X, y)
    with pytest.raises(ValueError, match="sum of squares"):
        InfiniteDepthNTKClassifier(depth=2, hermite_coefs=[1.0, 1.0]).fit(X, y)
    with pytest.raises(ValueError, match="one class"):
        InfiniteDepthNTKClassifier().fit(X[:10], y[:10])


def test_ntk_kernel_refuses_bad_rho_and_depth():
    a = [0.6, 0.8]
    for rho in (2.0, np.nan):
        with pytest.raises(ValueError, match="rho must"):
            ntk_kernel(rho, a, 3)
    for depth in (0, 2.5, True):
        with pytest.raises(ValueError, match="depth must"):
            ntk_kernel(0.5, a, depth)
