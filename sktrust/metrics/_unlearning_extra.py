"""Helpers for evaluating class-wise unlearning against retrained models."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted


class _ClassAlignedClassifier(ClassifierMixin, BaseEstimator):
    """A fitted classifier seen with a larger label set (probability 0 on new labels)."""

    def __init__(self, estimator=None, classes=None):
        self.estimator = estimator
        self.classes = classes

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return np.asarray(self.classes)

    def predict_proba(self, X):
        proba = np.asarray(self.estimator.predict_proba(X))
        out = np.zeros((proba.shape[0], len(self.classes_)), dtype=proba.dtype)
        own = np.asarray(self.estimator.classes_)
        out[:, np.searchsorted(self.classes_, own)] = proba
        return out

    def predict(self, X):
        return np.asarray(self.estimator.predict(X))


def align_classes(model, classes):
    """Make a classifier report probabilities over ``classes``, a superset of its own.

    A model retrained after class-wise forgetting no longer knows the
    forgotten class; membership-inference metrics that read the probability
    of the true label need that probability, which is exactly 0. The returned
    wrapper pads ``predict_proba`` with zero columns so that the retrained
    reference can be scored on the forget rows like the unlearned model.

    Parameters
    ----------
    model : fitted classifier
        With ``predict``, ``predict_proba`` and ``classes_``.
    classes : array-like
        Sorted labels, a superset of ``model.classes_``.

    Returns
    -------
    aligned : classifier
        ``model`` itself when it already has these classes, else a wrapper.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktrust.metrics import align_classes
    >>> model = LogisticRegression().fit([[0], [1], [2], [3]], [0, 0, 2, 2])
    >>> align_classes(model, [0, 1, 2]).predict_proba([[3]]).shape
    (1, 3)
    """
    check_is_fitted(model)
    classes = np.asarray(classes)
    own = np.asarray(model.classes_)
    if own.shape == classes.shape and np.all(own == classes):
        return model
    if not np.all(np.isin(own, classes)):
        raise ValueError(
            f"classes must contain every class of the model; missing "
            f"{np.setdiff1d(own, classes).tolist()}."
        )
    return _ClassAlignedClassifier(model, np.sort(classes))
