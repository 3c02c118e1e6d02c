"""UnlearningSearchCV: tuned on held-out data against retraining, base fitted once."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from sktrust.metrics import align_classes, unlearning_report
from sktrust.unlearning import RetrainUnlearner, SSDUnlearner, UnlearningSearchCV

SSD_GRID = {"alpha": [10.0, 20.0, 50.0, 100.0, 200.0], "dampening": [0.5, 1.0]}


@pytest.fixture(scope="module")
def ssd_search_class3(digits_split, digits_mlp):
    X_fit, y_fit, X_val, y_val = digits_split[:4]
    forget = y_fit == 3
    search = UnlearningSearchCV(SSDUnlearner(FrozenEstimator(digits_mlp)), SSD_GRID,
                                random_state=0)
    search.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
    search.unlearn(X_fit[forget], y_fit[forget], X_fit[~forget], y_fit[~forget])
    return search, forget


def test_ssd_tuned_on_validation_forgets_a_class_and_keeps_the_rest(
        ssd_search_class3, digits_split, digits_mlp):
    """The issue's headline check: forget-class accuracy < 0.05, retain within 3 points."""
    search, forget = ssd_search_class3
    X_fit, y_fit, _, _, X_te, y_te = digits_split
    is3 = y_te == 3
    assert search.score(X_te[is3], y_te[is3]) < 0.05
    assert search.score(X_fit[forget], y_fit[forget]) < 0.05
    orig = digits_mlp
    assert search.score(X_te[~is3], y_te[~is3]) >= orig.score(X_te[~is3], y_te[~is3]) - 0.03
    assert (search.score(X_fit[~forget], y_fit[~forget])
            >= orig.score(X_fit[~forget], y_fit[~forget]) - 0.03)
    assert len(search.cv_results_["score"]) == 10
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]
    assert search.best_score_ == min(search.cv_results_["score"])


def test_best_point_is_closer_to_retraining_than_doing_nothing(ssd_search_class3,
                                                                 digits_split, digits_mlp):
    search, forget = ssd_search_class3
    X_fit, y_fit, _, _, X_te, y_te = digits_split
    ref = align_classes(search.reference_estimator_, search.classes_)
    args = (X_fit[forget], y_fit[forget], X_fit[~forget], y_fit[~forget], X_te, y_te)
    kw = {"reference": ref, "forget_classes": [3]}
    gap_ssd = unlearning_report(search, *args, **kw)["avg_gap"]
    gap_nothing = unlearning_report(digits_mlp, *args, **kw)["avg_gap"]
    assert gap_ssd < gap_nothing / 5


def test_baseline_score_is_the_score_of_an_edit_that_changes_nothing(digits_split,
                                                                       digits_mlp):
    # alpha=1e9 selects no weight, so that point leaves the model as it is and
    # must score exactly the "do nothing" baseline; a real dampening beats it.
    X_fit, y_fit, X_val, y_val = digits_split[:4]
    forget = y_fit == 3
    search = UnlearningSearchCV(SSDUnlearner(FrozenEstimator(digits_mlp)),
                                {"alpha": [1e9, 10.0]}, random_state=0)
    search.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
    search.unlearn(X_fit[forget], y_fit[forget], X_fit[~forget], y_fit[~forget])
    assert search.cv_results_["score"][0] == pytest.approx(search.baseline_score_)
    assert search.best_score_ < search.baseline_score_ / 2


class _CountingMLP(MLPClassifier):
    n_fits = 0

    def fit(self, X, y):
        type(self).n_fits += 1
        return super().fit(X, y)


def test_base_model_is_fitted_once_plus_one_retrain(iris):
    X, y = iris
    forget = y == 2
    base = _CountingMLP((8,), max_iter=100, random_state=0)
    _CountingMLP.n_fits = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = UnlearningSearchCV(SSDUnlearner(base), {"alpha": [1.0, 5.0, 20.0]},
                                    random_state=0).fit(X, y)
        assert _CountingMLP.n_fits == 1
        search.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    assert _CountingMLP.n_fits == 2  # the reference retrain, none per grid point
    assert len(search.cv_results_["params"]) == 3


def test_validation_rows_are_held_out_when_not_given(iris):
    X, y = iris
    search = UnlearningSearchCV(SSDUnlearner(LogisticRegression(max_iter=300)),
                                {"alpha": [5.0]}, validation_fraction=0.2,
                                random_state=0).fit(X, y)
    assert search.X_val_.shape == (30, 4)
    assert np.bincount(search.y_val_).tolist() == [10, 10, 10]


def test_reference_with_several_seeds_is_averaged(iris):
    X, y = iris
    forget = np.arange(150) % 10 == 0
    ref = RetrainUnlearner(MLPClassifier((8,), max_iter=30, random_state=0),
                           n_references=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = UnlearningSearchCV(
            SSDUnlearner(MLPClassifier((8,), max_iter=30, random_state=0)),
            {"alpha": [5.0, 50.0]}, reference=ref, random_state=0).fit(X, y)
        search.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    assert len(search.reference_estimator_) == 2


def test_bad_grids_and_missing_labels_raise(iris):
    X, y = iris
    with pytest.raises(ValueError, match="base-model parameters"):
        UnlearningSearchCV(SSDUnlearner(), {"estimator__alpha": [1e-4]}).fit(X, y)
    search = UnlearningSearchCV(SSDUnlearner(LogisticRegression(max_iter=300)),
                                {"alpha": [5.0]}, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="needs the retain set"):
        search.unlearn(X[:5], y[:5])
    with pytest.raises(ValueError, match="y_forget and y_retain"):
        search.unlearn(X[:5], None, X[5:], y[5:])
