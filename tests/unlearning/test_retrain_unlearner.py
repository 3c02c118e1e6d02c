"""RetrainUnlearner is exact unlearning; BaseUnlearner's guarantees hold."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktrust.base import BaseUnlearner
from sktrust.unlearning import RetrainUnlearner


def test_unlearn_equals_training_from_scratch_on_the_retain_set(breast_cancer):
    X, y = breast_cancer
    forget = np.arange(len(X)) % 7 == 0
    base = MLPClassifier((16,), max_iter=60, random_state=0)
    u = RetrainUnlearner(base).fit(X, y).unlearn(X[forget], y[forget], X[~forget],
                                                 y[~forget])
    scratch = clone(base).fit(X[~forget], y[~forget])
    np.testing.assert_array_equal(u.predict_proba(X), scratch.predict_proba(X))


def test_pipeline_is_refitted_whole_scaler_included(iris):
    X, y = iris
    forget = y == 0
    u = RetrainUnlearner(make_pipeline(StandardScaler(), LogisticRegression()))
    u.fit(X, y).unlearn(X[forget], y[forget], X[~forget], y[~forget])
    scaler = u.estimator_[0]
    np.testing.assert_allclose(scaler.mean_, X[~forget].mean(axis=0))
    assert set(u.predict(X)) <= {1, 2}


def test_store_training_data_derives_the_retain_set_multiset_aware(iris):
    X, y = iris
    X = np.vstack([X, X[:1]])  # row 0 appears twice
    y = np.append(y, y[0])
    u = RetrainUnlearner(LogisticRegression(max_iter=300),
                         store_training_data=True).fit(X, y)
    u.unlearn(X[:1])  # removes one copy only
    assert u.X_fit_.shape[0] == len(X) - 1
    assert any(np.array_equal(r, X[0]) for r in u.X_fit_)
    scratch = LogisticRegression(max_iter=300).fit(X[1:], y[1:])
    np.testing.assert_allclose(u.predict_proba(X), scratch.predict_proba(X))
    with pytest.raises(ValueError, match="not in the data passed to fit"):
        u.unlearn(X[:1] + 1000.0)


def test_missing_retain_set_raises(iris):
    X, y = iris
    u = RetrainUnlearner(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="needs the retain set"):
        u.unlearn(X[:5], y[:5])


def test_n_references_retrains_with_different_seeds(iris):
    X, y = iris
    forget = np.arange(150) % 5 == 0
    u = RetrainUnlearner(MLPClassifier((8,), max_iter=20, random_state=0),
                         n_references=3, random_state=0).fit(X, y)
    u.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    assert len(u.references_) == 3
    w = [r.coefs_[0] for r in u.references_]
    assert not np.array_equal(w[1], w[2])
    assert u.references_[0] is u.estimator_


def test_frozen_estimator_is_never_mutated(iris):
    X, y = iris
    user_model = LogisticRegression(max_iter=300).fit(X, y)
    state = pickle.dumps(user_model)
    u = RetrainUnlearner(FrozenEstimator(user_model), keep_original=True).fit(X, y)
    forget = y == 2
    u.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    assert pickle.dumps(user_model) == state
    assert set(u.predict(X)) <= {0, 1}
    assert set(u.original_estimator_.predict(X)) == {0, 1, 2}


class _ExplodingUnlearner(BaseUnlearner):
    """Edits the model, then fails: the base class must undo the edit."""

    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        self.estimator_.coef_[:] = 0.0
        self.partial_state_ = "half-done"
        raise RuntimeError("boom")


class _NaNUnlearner(BaseUnlearner):
    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        self.estimator_.coef_[0, 0] = np.nan


@pytest.mark.parametrize("cls, error", [(_ExplodingUnlearner, RuntimeError),
                                        (_NaNUnlearner, ValueError)])
def test_failed_unlearn_restores_the_model_exactly(cls, error, iris):
    X, y = iris
    u = cls(LogisticRegression(max_iter=300)).fit(X, y)
    before = pickle.dumps(u.estimator_)
    proba = u.predict_proba(X)
    with pytest.raises(error):
        u.unlearn(X[:3], y[:3])
    assert pickle.dumps(u.estimator_) == before
    np.testing.assert_array_equal(u.predict_proba(X), proba)
    assert not hasattr(u, "partial_state_")
    assert u.unlearn_history_ == [] and not u.is_unlearned_


def test_bad_forget_inputs_give_clear_errors(iris):
    X, y = iris
    u = RetrainUnlearner(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="X_forget is empty"):
        u.unlearn(X[:0], y[:0], X, y)
    with pytest.raises(ValueError, match="expecting 4 features"):
        u.unlearn(X[:2, :3], y[:2], X, y)
    with pytest.raises(ValueError, match="not seen in fit"):
        u.unlearn(X[:2], [0, 9], X, y)
    with pytest.raises(ValueError, match="y_forget has 3"):
        u.unlearn(X[:2], y[:3], X, y)
    with pytest.raises(ValueError, match="NaN"):
        u.unlearn(np.full((2, 4), np.nan), y[:2], X, y)


def test_tags_follow_the_wrapped_estimator():
    from sklearn.base import is_classifier, is_regressor
    from sklearn.linear_model import Ridge

    assert is_classifier(RetrainUnlearner())
    assert is_regressor(RetrainUnlearner(Ridge()))


def test_forgetting_a_whole_class_updates_classes(iris):
    X, y = iris
    forget = y == 1
    u = RetrainUnlearner(LogisticRegression(max_iter=300)).fit(X, y)
    u.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    np.testing.assert_array_equal(u.classes_, [0, 2])
    assert u.predict_proba(X).shape == (150, 2)


@pytest.mark.parametrize("cls_name", ["RetrainUnlearner", "SSDUnlearner"])
def test_one_class_training_data_is_refused_by_name(cls_name):
    import sktrust.unlearning as U

    X = np.random.RandomState(0).randn(30, 3)
    with pytest.raises(ValueError, match="only one class"):
        getattr(U, cls_name)(MLPClassifier((4,), max_iter=5)).fit(X, np.zeros(30, int))


def test_retain_labels_must_match_retain_rows_in_the_base_class():
    X = np.random.RandomState(0).randn(40, 3)
    y = np.arange(40) % 2
    u = RetrainUnlearner(LogisticRegression()).fit(X, y)
    before = u.estimator_.coef_.copy()
    with pytest.raises(ValueError, match="X_retain has 35 rows but y_retain has 5"):
        u.unlearn(X[:5], y[:5], X[5:], y[5:10])
    np.testing.assert_array_equal(u.estimator_.coef_, before)
    assert u.unlearn_history_ == []
