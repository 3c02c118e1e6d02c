"""DMMUnlearner: the influence attribution against exact refits, and the matching step."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sktrust.nn import as_torch_model
from sktrust.unlearning._dmm import DMMUnlearner, head_hessian, influence_logit_shift


@pytest.mark.parametrize("n_classes", [3, 2])
def test_influence_predicts_the_logit_changes_of_an_exact_refit(n_classes):
    # Card check 1: logistic regression over fixed features, 5% of the rows
    # removed; influence-predicted logit changes correlate with refitting.
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if n_classes == 2:
        X, y = X[y < 2], y[y < 2]
    n, C = len(y), 1.0
    lr = LogisticRegression(C=C, tol=1e-10, max_iter=10_000)
    full = lr.fit(X, y)
    model = as_torch_model(full)
    # sklearn's penalty ||W||^2 / (2C) on the summed loss is 1/(C n) on the mean
    H = head_hessian(model, X, damping=1.0 / (C * n))
    forget = np.random.RandomState(0).choice(n, size=int(0.05 * n), replace=False)
    keep = np.setdiff1d(np.arange(n), forget)
    predicted = influence_logit_shift(model, H, X[forget], y[forget], X, n)
    refit = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X[keep], y[keep])
    true = (as_torch_model(refit).logits(X).numpy()
            - model.logits(X).numpy())
    if n_classes == 2:
        predicted, true = predicted[:, 1], true[:, 1]
    r = np.corrcoef(predicted.ravel(), true.ravel())[0, 1]
    assert r > 0.9
    assert np.abs(true).max() > 0.05  # the refit really moved


@pytest.fixture(scope="module")
def wine_mlp():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((16,), max_iter=300, random_state=0).fit(X, y)
    forget = np.random.RandomState(1).choice(len(y), size=12, replace=False)
    keep = np.setdiff1d(np.arange(len(y)), forget)
    return X, y, mlp, (X[forget], y[forget], X[keep], y[keep])


def test_influence_targets_are_the_original_logits_plus_the_predicted_shift(wine_mlp):
    X, y, mlp, data = wine_mlp
    u = DMMUnlearner(FrozenEstimator(mlp), epochs=1, random_state=0).fit(X, y)
    u.unlearn(*data)
    model = as_torch_model(mlp)
    H = head_hessian(model, X, damping=u.damping)
    np.testing.assert_allclose(u.head_hessian_, H)
    rows = np.vstack([data[0], data[2][u.finetune_indices_]])
    expected = model.logits(rows).numpy() + influence_logit_shift(
        model, H, data[0], data[1], rows, len(y))
    np.testing.assert_allclose(u.predicted_logits_, expected, rtol=1e-5, atol=1e-5)
    # 12 forget rows + 3 * 12 distinct retain rows
    assert u.predicted_logits_.shape == (48, 3)
    assert len(set(u.finetune_indices_.tolist())) == 36
    # the caller's model is untouched
    np.testing.assert_array_equal(model.logits(X).numpy(), as_torch_model(mlp).logits(X).numpy())


def test_oracle_matching_brings_the_forget_logits_to_the_retrained_ones(wine_mlp):
    X, y, mlp, data = wine_mlp
    u = DMMUnlearner(FrozenEstimator(mlp), attribution="oracle", n_oracle_models=2,
                     random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u.unlearn(*data)
    targets = u.predicted_logits_[:12]
    before = np.abs(as_torch_model(mlp).logits(data[0]).numpy() - targets).mean()
    after = np.abs(as_torch_model(u.estimator_).logits(data[0]).numpy() - targets).mean()
    assert after < 0.5 * before
    assert u.losses_[-1] < u.losses_[0]


def test_dmm_bad_input():
    X, y = load_wine(return_X_y=True)
    with pytest.raises(TypeError, match="classifier"):
        DMMUnlearner(LinearRegression()).fit(X, y.astype(float))
    u = DMMUnlearner(MLPClassifier((4,), max_iter=20, random_state=0),
                     attribution="oracle", epochs=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u.fit(X, y)
        with pytest.raises(ValueError, match="every class"):
            u.unlearn(X[y == 2], y[y == 2], X[y != 2], y[y != 2])
    with pytest.raises(ValueError, match="retain"):
        DMMUnlearner(MLPClassifier((4,), max_iter=20), epochs=1).fit(X, y).unlearn(
            X[:3], y[:3])
