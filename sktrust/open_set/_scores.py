"""Post-hoc known-ness scores on classifier logits: MSP, max-logit, energy."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from scipy.special import logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin

from sktrust.base import OpenSetMixin
from sktrust.open_set._common import (
    _PostHocMixin,
    check_labels_known_to_classifier,
    check_rejection_params,
    check_two_classes,
)
from sktrust.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)


def _check_logits(logits):
    logits = np.asarray(logits, dtype=float)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(
            f"logits must have shape (n_samples, n_classes>=2); got {logits.shape}."
        )
    if not np.all(np.isfinite(logits)):
        raise ValueError("logits contain NaN or infinite values.")
    return logits


def msp_score(logits):
    """Maximum softmax probability (Hendrycks & Gimpel, 2017).

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)

    Returns
    -------
    score : ndarray of shape (n_samples,)
        Higher means more likely a known class.

    Examples
    --------
    >>> from sktrust.open_set import msp_score
    >>> msp_score([[0.0, 0.0], [5.0, 0.0]]).round(3)
    array([0.5  , 0.993])
    """
    return softmax(_check_logits(logits), axis=1).max(axis=1)


def max_logit_score(logits):
    """Maximum logit (Vaze et al., 2022: a good closed-set classifier is all you need).

    Examples
    --------
    >>> from sktrust.open_set import max_logit_score
    >>> max_logit_score([[1.0, 3.0], [0.5, -1.0]])
    array([3. , 0.5])
    """
    return _check_logits(logits).max(axis=1)


def energy_score(logits, temperature=1.0):
    """Negative free energy ``T * logsumexp(logits / T)`` (Liu et al., 2020).

    Higher means more likely known (the paper's energy is the negative).

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.open_set import energy_score
    >>> bool(np.isclose(energy_score([[0.0, 0.0]])[0], np.log(2)))
    True
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0; got {temperature!r}.")
    logits = _check_logits(logits)
    return temperature * logsumexp(logits / temperature, axis=1)


_SCORES = {"msp": msp_score, "max_logit": max_logit_score, "energy": energy_score}


def classifier_logits(estimator, X):
    """Logits of a fitted classifier, as an ``(n_samples, n_classes)`` array.

    Uses the torch adapter for nets and linear models, else
    ``decision_function`` (a binary ``(n,)`` output ``d`` becomes ``[0, d]``).
    Raises ``TypeError`` when the classifier exposes neither.
    """
    from sktrust.nn import as_torch_model

    try:
        return as_torch_model(estimator).logits(X).cpu().numpy().astype(float)
    except TypeError:
        pass
    if hasattr(estimator, "decision_function"):
        d = np.asarray(estimator.decision_function(X), dtype=float)
        if d.ndim == 1:
            d = np.column_stack([np.zeros_like(d), d])
        return d
    raise TypeError(
        f"{type(estimator).__name__} exposes no logits (no torch adapter, no "
        "decision_function); use method='msp', which needs only predict_proba."
    )


class PostHocOpenSetClassifier(_PostHocMixin, OpenSetMixin, ClassifierMixin,
                               MetaEstimatorMixin, BaseEstimator):
    """Open-set recognition with a post-hoc score on any classifier.

    Fits (or copies) a closed-set classifier and scores each row's
    known-ness from its outputs: the maximum softmax probability (``"msp"``),
    the maximum logit (``"max_logit"``) or the negative energy
    (``"energy"``). These are the standard baselines every open-set method is
    compared with; with a good closed-set model they are strong.

    With the default ``threshold=None`` the classifier never rejects; set
    ``threshold="auto"`` to reject the rows scoring below the
    ``1 - known_rate`` quantile of the training scores.

    Read more in the :ref:`User Guide <open_set>`.

    Parameters
    ----------
    estimator : classifier, default=None
        ``None`` is ``LogisticRegression(max_iter=1000)``. A model trained
        elsewhere can be passed as ``FrozenEstimator(model)``.
    method : {"msp", "max_logit", "energy"}, default="max_logit"
        Known-ness score. ``"max_logit"`` and ``"energy"`` need logits (a
        torch-adaptable model or ``decision_function``).
    temperature : float, default=1.0
        Temperature of the energy score.
    unknown_label : int, float, str or None, default=-1
        Label returned for rejected rows; must not be a training class.
    threshold : None, "auto" or float, default=None
        Rejection threshold on ``score_samples``; a finite float, in [0, 1]
        for ``method="msp"``.
    known_rate : float, default=0.95
        Fraction of training rows kept as known when ``threshold="auto"``.

    Attributes
    ----------
    estimator_ : classifier
    classes_ : ndarray of shape (n_classes,)
    threshold_ : float or None
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sktrust.open_set import PostHocOpenSetClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = PostHocOpenSetClassifier(threshold="auto", known_rate=0.9).fit(X, y)
    >>> far = X[:2] + 100.0
    >>> clf.score_samples(far).shape
    (2,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "method": [StrOptions(set(_SCORES))],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        **OpenSetMixin._open_set_parameter_constraints,
    }

    def __init__(self, estimator=None, *, method="max_logit", temperature=1.0,
                 unknown_label=-1, threshold=None, known_rate=0.95):
        self.estimator = estimator
        self.method = method
        self.temperature = temperature
        self.unknown_label = unknown_label
        self.threshold = threshold
        self.known_rate = known_rate

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the classifier on known classes and set ``threshold_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        X, _ = self._fit_known_classes(X, y, (0.0, 1.0) if self.method == "msp" else ())
        self._set_threshold(self._score(X))
        return self

    def _fit_known_classes(self, X, y, score_range=()):
        """Fit prologue shared with subclasses: validate, fit or copy, check labels.

        Sets ``estimator_`` and ``classes_``; refuses one class, labels the
        classifier does not know, a clashing or NaN ``unknown_label`` and a
        float ``threshold`` outside ``score_range`` (``(low, high)`` of
        ``score_samples``). Returns the validated ``X, y``.
        """
        X, y = validate_data(self, X, y)
        self._fit_estimator(X, y)
        self.classes_ = np.asarray(self.estimator_.classes_)
        check_two_classes(self, self.classes_)
        check_labels_known_to_classifier(y, self.classes_)
        self._check_unknown_label()
        check_rejection_params(self, *score_range)
        return X, y

    def _logits(self, X):
        return classifier_logits(self.estimator_, X)

    def _score(self, X):
        if self.method == "msp":
            return self.estimator_.predict_proba(X).max(axis=1)
        if self.method == "energy":
            return energy_score(self._logits(X), self.temperature)
        return max_logit_score(self._logits(X))

    def score_samples(self, X):
        """Known-ness of each row (higher = more likely a known class).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        X = self._validate_fitted(X)
        return self._score(X)

    def predict_proba(self, X):
        """Closed-set class probabilities of the wrapped classifier."""
        X = self._validate_fitted(X)
        return self.estimator_.predict_proba(X)

    def decision_function(self, X):
        """Closed-set decision function (sklearn shapes: ``(n,)`` when binary)."""
        X = self._validate_fitted(X)
        logits = self._logits(X)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def _predict_closed(self, X):
        X = self._validate_fitted(X)
        return self.estimator_.predict(X)
