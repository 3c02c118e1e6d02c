"""SharedVarianceGaussianNB and linear_probe_curve: exact forms and the NB-vs-LR claim."""

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression

from sktrust.open_set import (
    SharedVarianceGaussianNB,
    linear_probe_curve,
    plot_linear_probe_curve,
)


def test_predict_proba_equals_a_pooled_diagonal_gaussian_discriminant(iris):
    X, y = iris
    eps = 1e-3
    nb = SharedVarianceGaussianNB(var_smoothing=eps).fit(X, y)
    prior = np.bincount(y) / len(y)
    mu = np.array([X[y == c].mean(0) for c in range(3)])
    var = sum(prior[c] * (X[y == c].var(0) + eps) for c in range(3))
    log_joint = np.log(prior) - 0.5 * (((X[:, None, :] - mu[None]) ** 2) / var).sum(-1)
    np.testing.assert_allclose(nb.predict_proba(X), softmax(log_joint, axis=1),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(nb.var_, var, rtol=1e-12)
    scores = X @ nb.coef_.T + nb.intercept_
    np.testing.assert_array_equal(nb.classes_[scores.argmax(1)], nb.predict(X))


def test_partial_fit_on_two_halves_equals_fit(digits):
    X, y = digits
    full = SharedVarianceGaussianNB().fit(X, y)
    rng = np.random.RandomState(0)
    order = rng.permutation(len(y))
    a, b = order[:700], order[700:]
    inc = SharedVarianceGaussianNB().partial_fit(X[a], y[a], classes=np.arange(10))
    inc.partial_fit(X[b], y[b])
    for attr in ("theta_", "var_", "class_prior_", "coef_", "intercept_"):
        np.testing.assert_allclose(getattr(inc, attr), getattr(full, attr),
                                   rtol=1e-10, atol=1e-10)


def test_bad_inputs_are_refused(iris):
    X, y = iris
    with pytest.raises(ValueError, match="classes must be passed"):
        SharedVarianceGaussianNB().partial_fit(X, y)
    nb = SharedVarianceGaussianNB().partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes"):
        nb.partial_fit(X, y)
    with pytest.raises(ValueError, match="var_smoothing"):
        SharedVarianceGaussianNB(var_smoothing=0.0).fit(np.ones((4, 2)), [0, 0, 1, 1])
    with pytest.raises(ValueError, match="smaller than"):
        linear_probe_curve(X, y, X, y, sizes=[2])


def _paper_simulation(n, rng):
    """K=2, 100 features, variance 100 on half of them and 1 on the rest.

    The card's class means -1 / +1 separate the classes perfectly here (both
    errors are 0), so the means are -0.2 / +0.2: Bayes error about 0.08.
    """
    y = rng.randint(0, 2, n)
    scale = np.r_[np.full(50, 10.0), np.ones(50)]
    X = np.where(y[:, None] == 1, 0.2, -0.2) + rng.normal(size=(n, 100)) * scale
    return X, y


def test_naive_bayes_wins_with_few_rows_and_ties_with_many():
    rng = np.random.RandomState(0)
    X_pool, y_pool = _paper_simulation(10_000, rng)
    X_test, y_test = _paper_simulation(4000, rng)
    curve = linear_probe_curve(X_pool, y_pool, X_test, y_test, sizes=[50], n_repeats=5,
                               random_state=0)
    err = curve.pivot(index="repeat", columns="estimator", values="error")
    assert (err["naive_bayes"] < err["logistic"]).sum() >= 4
    big = linear_probe_curve(X_pool, y_pool, X_test, y_test, sizes=[10_000], n_repeats=1,
                             random_state=0)
    e = big.set_index("estimator")["error"]
    assert abs(e["naive_bayes"] - e["logistic"]) <= 0.02


def test_curve_has_every_row_and_every_draw_holds_all_classes(digits):
    X, y = digits

    class Recorder(LogisticRegression):
        seen = []

        def fit(self, X, y, sample_weight=None):
            Recorder.seen.append(len(np.unique(y)))
            return super().fit(X, y, sample_weight)

    curve = linear_probe_curve(X[:1000], y[:1000], X[1000:], y[1000:], sizes=[12, 40],
                               n_repeats=3, random_state=0,
                               estimators={"nb": SharedVarianceGaussianNB(),
                                           "rec": Recorder(max_iter=200)})
    assert len(curve) == 3 * 2 * 2
    assert Recorder.seen == [10] * 6
    ax = plot_linear_probe_curve(curve)
    assert len(ax.get_lines()) == 2


def test_curve_refuses_labels_that_do_not_match_the_rows(iris):
    X, y = iris
    with pytest.raises(ValueError, match="one label per row"):
        linear_probe_curve(X, y[:10], X, y, sizes=[30], n_repeats=1)
    with pytest.raises(ValueError, match="one label per row"):
        linear_probe_curve(X, y, X, y[:-1], sizes=[30], n_repeats=1)


def test_plot_refuses_a_table_that_is_not_a_curve():
    import pandas as pd

    with pytest.raises(ValueError, match="lacks the columns"):
        plot_linear_probe_curve(pd.DataFrame({"size": [10], "err": [0.1]}))
    with pytest.raises(ValueError, match="lacks the columns"):
        plot_linear_probe_curve(np.zeros((3, 3)))
