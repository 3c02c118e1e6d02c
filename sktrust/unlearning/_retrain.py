"""Exact unlearning by retraining from scratch on the retain set."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from sktrust.base import BaseUnlearner
from sktrust.utils._sklearn_compat import Interval
from sktrust.utils._validation import check_random_state_seed


def _reseed(estimator, seed):
    """Set every ``random_state`` parameter (nested ones too) to ``seed``."""
    params = {k: seed for k in estimator.get_params(deep=True)
              if k == "random_state" or k.endswith("__random_state")}
    return estimator.set_params(**params) if params else estimator


class RetrainUnlearner(BaseUnlearner):
    """Exact unlearning: refit the whole estimator on the retain set.

    The gold standard every approximate unlearner is judged against. ``unlearn``
    replaces ``estimator_`` with ``clone(estimator).fit(X_retain, y_retain)``:
    same hyperparameters, same seed. For a ``Pipeline`` the whole pipeline is
    refitted, preprocessing included, which is what exact unlearning requires
    (a scaler fitted on all rows still carries the forget rows).

    Read more in the :ref:`User Guide <unlearning>`.

    Parameters
    ----------
    estimator : estimator, default=None
        Model to unlearn from. ``None`` is
        ``MLPClassifier(hidden_layer_sizes=(64,), random_state=0)``. A model
        trained elsewhere may be passed as ``FrozenEstimator(model)``: it is
        copied for prediction and its unfitted clone is what gets retrained.
    n_references : int, default=1
        With ``n_references > 1``, ``unlearn`` also retrains that many models
        with different seeds (derived from ``random_state``) into
        ``references_``, for metrics that average over retrained models (KLOM,
        average gap).
    device : str, default="auto"
        Unused by exact retraining; kept for the shared unlearner API.
    random_state : int, RandomState instance or None, default=None
        Seeds the extra references. The main retrained model keeps the
        estimator's own seed.
    keep_original : bool, default=False
        Keep the model as fitted in ``original_estimator_``.
    store_training_data : bool, default=False
        Keep the training rows so that ``unlearn(X_forget)`` alone is enough.

    Attributes
    ----------
    estimator_ : estimator
        The current model (the retrained one after ``unlearn``).
    classes_ : ndarray
        Class labels (classifiers only): those of the current model, so a
        class whose rows were all forgotten disappears after ``unlearn``.
    references_ : list of estimators
        Models retrained with different seeds (set by ``unlearn``).
    unlearn_history_ : list of dict
        One ``{"n_forget", "seconds"}`` entry per ``unlearn`` call.
    unlearn_time_ : float
        Seconds taken by the last ``unlearn``.
    is_unlearned_ : bool
        Whether ``unlearn`` has been called.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Set when ``X`` has string column names.

    See Also
    --------
    sktrust.base.BaseUnlearner : the shared unlearner protocol.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktrust.unlearning import RetrainUnlearner
    >>> X, y = load_iris(return_X_y=True)
    >>> forget = y == 2
    >>> u = RetrainUnlearner(LogisticRegression(max_iter=500)).fit(X, y)
    >>> _ = u.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    >>> sorted(set(u.predict(X)))
    [np.int64(0), np.int64(1)]
    """

    _parameter_constraints: dict = {
        **BaseUnlearner._parameter_constraints,
        "n_references": [Interval(Integral, 1, None, closed="left")],
    }

    _requires_retain = True

    def __init__(self, estimator=None, *, n_references=1, device="auto",
                 random_state=None, keep_original=False, store_training_data=False):
        super().__init__(estimator, device=device, random_state=random_state,
                         keep_original=keep_original,
                         store_training_data=store_training_data)
        self.n_references = n_references

    def _unfitted(self):
        est = self._base_estimator()
        if isinstance(est, FrozenEstimator):
            est = est.estimator
        return clone(est)

    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        if y_retain is None and self._inner_tags().target_tags.required:
            raise ValueError(
                "RetrainUnlearner.unlearn needs y_retain to refit a supervised model."
            )
        self.estimator_ = self._unfitted().fit(X_retain, y_retain)
        if hasattr(self.estimator_, "classes_"):
            # Forgetting a whole class leaves the retrained model without it.
            self.classes_ = np.asarray(self.estimator_.classes_)
        self.references_ = [self.estimator_]
        if self.n_references > 1:
            base_seed = check_random_state_seed(self.random_state)
            for i in range(1, self.n_references):
                ref = _reseed(self._unfitted(), base_seed + i)
                self.references_.append(ref.fit(X_retain, y_retain))
