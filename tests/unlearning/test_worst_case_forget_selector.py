"""WorstCaseForgetSelector: projection, and sets harder (easier) than random ones."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.neural_network import MLPClassifier

from sktrust.unlearning import WorstCaseForgetSelector
from sktrust.unlearning._worst_case import project_capped_simplex


@pytest.mark.parametrize("m", [1, 3.5, 7])
def test_projection_lands_in_the_capped_simplex(m):
    a = np.random.RandomState(0).normal(size=10) * 3
    w = project_capped_simplex(a, m)
    assert w.min() >= 0 and w.max() <= 1
    assert w.sum() == pytest.approx(m, abs=1e-3)


@pytest.fixture(scope="module")
def small_digits(digits_split):
    X, y = digits_split[0][:900], digits_split[1][:900]
    mlp = MLPClassifier((64,), max_iter=100, random_state=0).fit(X, y)
    return X, y, mlp


def _retrain_forget_error(mlp, X, y, idx):
    f = np.zeros(len(y), dtype=bool)
    f[idx] = True
    retrained = clone(mlp).fit(X[~f], y[~f])
    return 100 - 100 * retrained.score(X[f], y[f])


def test_hardest_set_is_harder_and_easiest_easier_than_random(small_digits):
    X, y, mlp = small_digits
    m = 90
    rng = np.random.RandomState(0)
    random_ua = np.mean([_retrain_forget_error(mlp, X, y, rng.choice(len(y), m,
                                                                     replace=False))
                         for _ in range(3)])
    hard = WorstCaseForgetSelector(FrozenEstimator(mlp), n_forget=m,
                                   random_state=0).fit(X, y)
    easy = WorstCaseForgetSelector(FrozenEstimator(mlp), n_forget=m, mode="easiest",
                                   random_state=0).fit(X, y)
    assert len(np.unique(hard.forget_indices_)) == m
    assert _retrain_forget_error(mlp, X, y, hard.forget_indices_) < random_ua
    assert _retrain_forget_error(mlp, X, y, easy.forget_indices_) > random_ua
    assert hard.objective_history_[-1] < hard.objective_history_[0]
    Xf, yf, Xr, yr = hard.split(X, y)
    assert len(yf) == m and len(yr) == len(y) - m
    np.testing.assert_array_equal(hard.predict(X), mlp.predict(X))


def test_bad_sizes_raise(small_digits):
    X, y, mlp = small_digits
    with pytest.raises(ValueError, match="leaves no retain rows"):
        WorstCaseForgetSelector(FrozenEstimator(mlp), n_forget=900).fit(X, y)
    sel = WorstCaseForgetSelector(FrozenEstimator(mlp), n_forget=5,
                                  outer_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="rows passed to fit"):
        sel.split(X[:10], y[:10])
    with pytest.raises(ValueError, match="got 10 rows of X and 900 labels"):
        sel.split(X[:10], y)
    with pytest.raises(ValueError, match="features"):
        sel.split(X[:, :5], y)
