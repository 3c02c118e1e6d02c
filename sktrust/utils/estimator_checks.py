"""Family checks that run beside scikit-learn's, for anyone's estimators.

Write your own unlearner, explainer or open-set classifier on sktrust's base
classes and test it with the same checks sktrust applies to its own:

>>> from sklearn.linear_model import LogisticRegression
>>> from sktrust.unlearning import RetrainUnlearner
>>> from sktrust.utils.estimator_checks import check_unlearner
>>> u = check_unlearner("RetrainUnlearner",
...                     RetrainUnlearner(LogisticRegression(max_iter=200)))
>>> len(u.unlearn_history_)
2
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import pickle

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.frozen import FrozenEstimator

__all__ = ["check_explainer", "check_open_set", "check_unlearner"]


def _blobs(n=90, n_features=4, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.normal(scale=4.0, size=(n_classes, n_features))
    y = np.arange(n) % n_classes
    X = centers[y] + rng.normal(size=(n, n_features))
    return X, y


def _fitted_state(model):
    return pickle.dumps(model)


def check_unlearner(name, unlearner):
    """The unlearner protocol: every sktrust unlearner passes this.

    - ``unlearn`` returns ``self``, records ``unlearn_history_`` and
      ``unlearn_time_``, and ``predict`` keeps its shape;
    - sequential calls work (two deletion requests);
    - an empty forget set, a wrong width, and unknown labels raise
      ``ValueError``, and leave the model exactly as it was;
    - a model passed as ``FrozenEstimator`` is never modified.

    Returns the unlearner after its two deletion requests.
    """
    X, y = _blobs()
    if is_regressor(unlearner):
        y = X[:, 0] + X[:, 1]
    u = clone(unlearner).fit(X, y)
    n = len(X)
    forget = np.arange(n) % 10 == 0
    retain = ~forget
    pred_shape = np.shape(u.predict(X))

    before = _fitted_state(u.estimator_)
    for bad_args, match in [
        ((X[:0], y[:0], X[retain], y[retain]), "empty"),
        ((X[forget][:, :2], y[forget], X[retain], y[retain]), "features"),
    ]:
        try:
            u.unlearn(*bad_args)
        except ValueError as exc:
            assert match in str(exc), f"{name}: unclear error {exc!r}"
        else:
            raise AssertionError(f"{name}.unlearn accepted bad input ({match}).")
        assert _fitted_state(u.estimator_) == before, f"{name}: bad input changed it"
    if not is_regressor(unlearner):
        try:
            u.unlearn(X[forget], np.full(forget.sum(), 99), X[retain], y[retain])
        except ValueError as exc:
            assert "99" in str(exc) or "label" in str(exc), f"{name}: {exc!r}"
        else:
            raise AssertionError(f"{name}.unlearn accepted an unknown label.")
        assert _fitted_state(u.estimator_) == before
    assert u.unlearn_history_ == []

    out = u.unlearn(X[forget], y[forget], X[retain], y[retain])
    assert out is u, f"{name}.unlearn must return self"
    assert u.is_unlearned_ and len(u.unlearn_history_) == 1
    assert u.unlearn_history_[0]["n_forget"] == int(forget.sum())
    assert u.unlearn_time_ >= 0
    assert np.shape(u.predict(X)) == pred_shape

    second = retain & (np.arange(n) % 10 == 1)
    retain2 = retain & ~second
    u.unlearn(X[second], y[second], X[retain2], y[retain2])
    assert len(u.unlearn_history_) == 2

    # A frozen, user-trained model is copied, never modified.
    inner = clone(unlearner).fit(X, y).estimator_
    snapshot = _fitted_state(inner)
    frozen = clone(unlearner).set_params(estimator=FrozenEstimator(inner)).fit(X, y)
    frozen.unlearn(X[forget], y[forget], X[retain], y[retain])
    assert _fitted_state(inner) == snapshot, f"{name} mutated the caller's model"
    return u


def check_explainer(name, explainer):
    """Explainers return a ``shap.Explanation`` of the right shape.

    Returns that explanation (of the first five rows).
    """
    import shap

    X, y = _blobs(n_classes=2)
    exp = clone(explainer).fit(X, y)
    out = exp.explain(X[:5])
    assert isinstance(out, shap.Explanation), f"{name}.explain must return Explanation"
    values = np.asarray(out.values)
    assert values.shape[:2] == (5, X.shape[1]), f"{name}: shape {values.shape}"
    assert np.all(np.isfinite(values))
    try:
        exp.explain(X[:2, :2])
    except ValueError:
        pass
    else:
        raise AssertionError(f"{name}.explain accepted the wrong number of features.")
    return out


def check_open_set(name, classifier):
    """The open-set API: rejection only with a threshold, ``"auto"`` keeps
    ``known_rate`` of training rows, ``unknown_label`` may not be a class.

    Returns the classifier fitted with ``threshold="auto"``.
    """
    X, y = _blobs(n=150)
    clf = clone(classifier).set_params(threshold=None).fit(X, y)
    assert set(np.unique(clf.predict(X))) <= set(clf.classes_)
    scores = clf.score_samples(X)
    assert scores.shape == (len(X),)

    auto = clone(classifier).set_params(threshold="auto", known_rate=0.8).fit(X, y)
    known = auto.predict_known(X)
    assert abs(known.mean() - 0.8) <= 0.06, f"{name}: kept {known.mean():.2f}"
    pred = auto.predict(X)
    assert np.all((pred == auto.unknown_label) == ~known)

    try:
        clone(classifier).set_params(unknown_label=int(y[0]), threshold="auto").fit(
            X, y)
    except ValueError as exc:
        assert "unknown_label" in str(exc)
    else:
        raise AssertionError(f"{name} accepted unknown_label equal to a class.")
    copy.deepcopy(clf)
    return auto
