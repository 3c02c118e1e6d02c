"""Blindspot and Gaussian fine-tuning: regression forgetting moves toward retraining."""

import warnings

import numpy as np
import pytest
from scipy.stats import wasserstein_distance
from sklearn.base import clone
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor

from sktrust.unlearning import BlindspotUnlearner, GaussianFineTuneUnlearner


def _mae(model, X, y):
    return float(np.mean(np.abs(model.predict(X) - y)))


@pytest.fixture(scope="module")
def low_targets_forgotten():
    """Forget the rows whose target is below its 30% quantile (the paper's "age <= 30")."""
    X, y = make_friedman1(n_samples=2000, noise=0.5, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    q = np.quantile(y_tr, 0.3)
    f, f_te = y_tr < q, y_te < q
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(hidden_layer_sizes=(64,), max_iter=300, random_state=0)
        mlp.fit(X_tr, y_tr)
        retrained = clone(mlp).fit(X_tr[~f], y_tr[~f])
    data = (X_tr[f], y_tr[f], X_tr[~f], y_tr[~f])
    fitted = {}
    for name, cls in [("blindspot", BlindspotUnlearner),
                      ("gaussian", GaussianFineTuneUnlearner)]:
        fitted[name] = cls(FrozenEstimator(mlp), random_state=0).fit(X_tr, y_tr)
        fitted[name].unlearn(*data)
    return mlp, retrained, fitted, X_tr, y_tr, f, X_te, y_te, f_te


def test_blindspot_moves_forget_error_half_way_to_retraining(low_targets_forgotten):
    mlp, retrained, fitted, _, _, _, X_te, y_te, f_te = low_targets_forgotten
    u = fitted["blindspot"]
    orig_f, ref_f = _mae(mlp, X_te[f_te], y_te[f_te]), _mae(retrained, X_te[f_te], y_te[f_te])
    assert ref_f > orig_f  # retraining does forget this region
    assert _mae(u, X_te[f_te], y_te[f_te]) >= orig_f + 0.5 * (ref_f - orig_f)
    # the retain region costs at most 15% relative
    assert _mae(u, X_te[~f_te], y_te[~f_te]) <= 1.15 * _mae(mlp, X_te[~f_te], y_te[~f_te])


def test_predictions_on_forget_rows_get_closer_to_retraining(low_targets_forgotten):
    mlp, retrained, fitted, X_tr, _, f, _, _, _ = low_targets_forgotten
    ref = retrained.predict(X_tr[f])
    before = wasserstein_distance(mlp.predict(X_tr[f]), ref)
    for u in fitted.values():
        assert wasserstein_distance(u.predict(X_tr[f]), ref) < before


def test_gaussian_moves_less_than_blindspot(low_targets_forgotten):
    mlp, _, fitted, _, _, _, X_te, y_te, f_te = low_targets_forgotten
    orig_f = _mae(mlp, X_te[f_te], y_te[f_te])
    gauss = _mae(fitted["gaussian"], X_te[f_te], y_te[f_te])
    blind = _mae(fitted["blindspot"], X_te[f_te], y_te[f_te])
    assert orig_f < gauss < blind


def test_gaussian_targets_follow_the_training_target_distribution(low_targets_forgotten):
    _, _, fitted, _, y_tr, f, _, _, _ = low_targets_forgotten
    u = fitted["gaussian"]
    assert u.noise_mean_ == pytest.approx(y_tr.mean())
    assert u.noise_std_ == pytest.approx(y_tr.std())
    noise = u.forget_targets_
    n = noise.shape[0]
    assert n == f.sum()
    se = y_tr.std() / np.sqrt(n)
    assert abs(noise.mean() - y_tr.mean()) < 3 * se
    assert abs(noise.std() - y_tr.std()) < 3 * y_tr.std() / np.sqrt(2 * n)


@pytest.mark.parametrize("cls", [BlindspotUnlearner, GaussianFineTuneUnlearner])
def test_default_is_a_regressor_and_classifiers_are_refused(cls, iris):
    from sklearn.base import is_regressor

    assert is_regressor(cls())
    X, y = iris
    from sklearn.neural_network import MLPClassifier

    u = cls(MLPClassifier(hidden_layer_sizes=(8,), max_iter=50), epochs=1).fit(X, y)
    with pytest.raises(TypeError, match="regressors only"):
        u.unlearn(X[:5], y[:5], X[5:], y[5:])


def test_search_tunes_a_regression_unlearner_against_retraining(low_targets_forgotten):
    from sktrust.unlearning import UnlearningSearchCV

    mlp, _, _, X_tr, y_tr, f, X_te, y_te, _ = low_targets_forgotten
    search = UnlearningSearchCV(GaussianFineTuneUnlearner(FrozenEstimator(mlp),
                                                          random_state=0),
                                {"epochs": [1, 3]}, random_state=0)
    search.fit(X_tr, y_tr, X_val=X_te[:200], y_val=y_te[:200])
    search.unlearn(X_tr[f], y_tr[f], X_tr[~f], y_tr[~f])
    scores = search.cv_results_["score"]
    assert len(scores) == 2 and search.best_score_ == min(scores)
    assert {"forget_mae", "retain_mae", "test_mae"} <= set(search.cv_results_)
    # the mean MAE gap of the best point is below doing nothing
    ref = search.reference_report_
    nothing = np.mean([abs(_mae(mlp, X, y) - ref[k]) for k, (X, y) in {
        "forget_mae": (X_tr[f], y_tr[f]), "retain_mae": (X_tr[~f], y_tr[~f]),
        "test_mae": (X_te[:200], y_te[:200])}.items()])
    assert search.best_score_ < nothing


@pytest.mark.parametrize("cls", [BlindspotUnlearner, GaussianFineTuneUnlearner])
def test_bad_retain_targets_raise_a_clear_error(cls):
    X, y = make_friedman1(n_samples=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u = cls(MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0),
                epochs=1, random_state=0).fit(X, y)
    f = np.arange(60) < 10
    with pytest.raises(ValueError, match="X_retain has 50 rows but y_retain has 5"):
        u.unlearn(X[f], y[f], X[~f], y[~f][:5])
    y_nan = y[~f].copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="y_retain contains NaN"):
        u.unlearn(X[f], y[f], X[~f], y_nan)
    with pytest.raises(ValueError, match="2 target.*predicts 1"):
        u.unlearn(X[f], y[f], X[~f], np.c_[y[~f], y[~f]])
    assert not u.is_unlearned_


def test_gaussian_refuses_nan_forget_targets():
    X, y = make_friedman1(n_samples=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u = GaussianFineTuneUnlearner(
            MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0),
            epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="y_forget contains NaN"):
        u.unlearn(X[:10], np.full(10, np.nan), X[10:], y[10:])
