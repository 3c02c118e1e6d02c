"""Shared base classes and mixins: one verb per family, written once.

- :class:`BaseUnlearner` owns ``fit`` / ``unlearn`` for every unlearner.
- :class:`OpenSetMixin` gives open-set classifiers ``predict`` with optional
  rejection, ``predict_known`` and the ``threshold`` logic.
- :class:`BaseExplainer` owns ``fit(X_background)`` / ``explain(X)`` and
  returns :class:`shap.Explanation` objects.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import time
from abc import ABCMeta, abstractmethod
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from sktrust.exceptions import UnlearningError
from sktrust.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from sktrust.utils._validation import (
    check_classification_targets_known,
    check_non_empty,
)

__all__ = ["BaseExplainer", "BaseUnlearner", "OpenSetMixin", "is_open_set"]


# ---------------------------------------------------------------------------
# Unlearning
# ---------------------------------------------------------------------------
def _default_unlearning_estimator():
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(64,), random_state=0)


def _estimator_has(attr):
    def check(self):
        est = getattr(self, "estimator_", None)
        if est is None:
            est = self.estimator if self.estimator is not None else (
                _default_unlearning_estimator())
            if isinstance(est, FrozenEstimator):
                est = est.estimator
        return hasattr(est, attr)

    return check


def _row_keys(X):
    X = np.ascontiguousarray(np.asarray(X))
    return [row.tobytes() for row in X.reshape(X.shape[0], -1)]


class BaseUnlearner(MetaEstimatorMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for unlearners: a meta-estimator that can forget rows.

    ``fit`` clones and fits ``estimator`` into ``estimator_`` (or deep-copies
    the model inside a :class:`~sklearn.frozen.FrozenEstimator`), then calls
    the subclass hook ``_precompute(X, y)``. ``unlearn`` validates the forget
    (and retain) data, calls ``_unlearn``, checks that no parameter became
    NaN or infinite, and on *any* exception restores every fitted attribute to
    its state before the call. Prediction methods delegate to ``estimator_``.

    Subclasses write ``_unlearn(X_forget, y_forget, X_retain, y_retain)`` and,
    when they need it, ``_precompute``; set ``_requires_retain = True`` when
    retain data is mandatory.

    Parameters
    ----------
    estimator : estimator, default=None
        Model to unlearn from. ``None`` is
        ``MLPClassifier(hidden_layer_sizes=(64,), random_state=0)``.
    device : str, default="auto"
        Torch device for methods that edit the model through ``sktrust.nn``.
    random_state : int, RandomState instance or None, default=None
    keep_original : bool, default=False
        Keep a copy of the fitted model as ``original_estimator_``.
    store_training_data : bool, default=False
        Keep the training rows (``X_fit_``, ``y_fit_``) so that ``unlearn``
        can derive the retain set itself and can refuse forget rows that were
        never trained on.
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "device": [str, None],
        "random_state": ["random_state"],
        "keep_original": ["boolean"],
        "store_training_data": ["boolean"],
    }

    _requires_retain = False

    def __init__(self, estimator=None, *, device="auto", random_state=None,
                 keep_original=False, store_training_data=False):
        self.estimator = estimator
        self.device = device
        self.random_state = random_state
        self.keep_original = keep_original
        self.store_training_data = store_training_data

    # -- helpers ------------------------------------------------------------
    def _base_estimator(self):
        return _default_unlearning_estimator() if self.estimator is None else (
            self.estimator)

    def _inner_tags(self):
        est = self._base_estimator()
        if isinstance(est, FrozenEstimator):
            est = est.estimator
        return get_tags(est)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self._inner_tags()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags.required = inner.target_tags.required
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.sparse = False
        return tags

    def _validate_X(self, X, *, reset, y=None, name="X"):
        if name != "X" and hasattr(X, "__len__") and len(X) == 0:
            check_non_empty(np.asarray(X), name)
        allow_nan = self._inner_tags().input_tags.allow_nan
        kwargs = dict(reset=reset, ensure_all_finite=not allow_nan, dtype=None)
        if y is None:
            out = validate_data(self, X, **kwargs)
        else:
            out = validate_data(self, X, y, multi_output=True, **kwargs)
        check_non_empty(out[0] if y is not None else out, name)
        return out

    @staticmethod
    def _passthrough(X_orig, X_valid):
        """Give the inner estimator the caller's DataFrame (column names kept)."""
        return X_orig if hasattr(X_orig, "columns") else X_valid

    # -- fit ----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit (or copy) the model, then precompute what ``unlearn`` needs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        **fit_params : dict
            Passed to ``estimator.fit``.

        Returns
        -------
        self : object
        """
        if y is None and self._inner_tags().target_tags.required:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X_v, y_v = self._validate_X(X, reset=True, y=y) if y is not None else (
            self._validate_X(X, reset=True), None)
        X_in = self._passthrough(X, X_v)
        if isinstance(self.estimator, FrozenEstimator):
            self.estimator_ = copy.deepcopy(self.estimator.estimator)
            check_is_fitted(self.estimator_)
        else:
            self.estimator_ = clone(self._base_estimator())
            self.estimator_.fit(X_in, y_v if y is not None else y, **fit_params)
        if is_classifier(self.estimator_):
            self.classes_ = np.asarray(self.estimator_.classes_)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"The model knows only one class ({self.classes_.tolist()}); "
                    f"{type(self).__name__} needs a classifier trained on at least 2 "
                    "classes."
                )
            if y_v is not None:
                check_classification_targets_known(y_v, self.classes_)
        if self.keep_original:
            self.original_estimator_ = copy.deepcopy(self.estimator_)
        if self.store_training_data:
            self.X_fit_ = X_v.copy()
            self.y_fit_ = None if y_v is None else np.array(y_v, copy=True)
        self.unlearn_history_ = []
        self.is_unlearned_ = False
        self._precompute(X_in, y_v)
        return self

    def _precompute(self, X, y):
        """Hook: compute what the method needs from the training data."""

    # -- unlearn ------------------------------------------------------------
    def _retain_from_training(self, X_forget):
        """Remove forget rows from the stored training rows (multiset-aware)."""
        counts = {}
        for k in _row_keys(self.X_fit_):
            counts[k] = counts.get(k, 0) + 1
        remove = {}
        for k in _row_keys(X_forget):
            remove[k] = remove.get(k, 0) + 1
        missing = [k for k, c in remove.items() if counts.get(k, 0) < c]
        if missing:
            raise ValueError(
                f"{len(missing)} distinct row(s) of X_forget were not in the data "
                "passed to fit; only rows the model was trained on can be forgotten."
            )
        keep = np.ones(self.X_fit_.shape[0], dtype=bool)
        for i, k in enumerate(_row_keys(self.X_fit_)):
            if remove.get(k, 0) > 0:
                remove[k] -= 1
                keep[i] = False
        y_r = None if self.y_fit_ is None else self.y_fit_[keep]
        return self.X_fit_[keep], y_r, keep

    def unlearn(self, X_forget, y_forget=None, X_retain=None, y_retain=None):
        """Make the model forget ``X_forget``.

        Parameters
        ----------
        X_forget : array-like of shape (n_forget, n_features)
            Rows to forget. Must not be empty.
        y_forget : array-like of shape (n_forget,), default=None
            Their labels (required by supervised methods).
        X_retain, y_retain : array-like, default=None
            Rows to keep. Methods that need them raise ``ValueError`` when
            absent, unless ``store_training_data=True`` let ``fit`` keep the
            training rows, from which the forget rows are then removed.

        Returns
        -------
        self : object
            The unlearner, with ``estimator_`` edited in place.
        """
        check_is_fitted(self, "estimator_")
        Xf_v = self._validate_X(X_forget, reset=False, name="X_forget")
        Xf = self._passthrough(X_forget, Xf_v)
        yf = None
        if y_forget is not None:
            yf = np.asarray(y_forget)
            if yf.shape[0] != Xf_v.shape[0]:
                raise ValueError(
                    f"X_forget has {Xf_v.shape[0]} rows but y_forget has "
                    f"{yf.shape[0]}."
                )
            if hasattr(self, "classes_"):
                check_classification_targets_known(yf, self.classes_, "y_forget")
        keep_mask = None
        if X_retain is None and getattr(self, "X_fit_", None) is not None:
            Xr, yr, keep_mask = self._retain_from_training(Xf_v)
            if yf is None and self.y_fit_ is not None:
                yf = self.y_fit_[~keep_mask]
        elif X_retain is not None:
            Xr_v = self._validate_X(X_retain, reset=False, name="X_retain")
            Xr = self._passthrough(X_retain, Xr_v)
            yr = None if y_retain is None else np.asarray(y_retain)
            if yr is not None and yr.shape[0] != Xr_v.shape[0]:
                raise ValueError(
                    f"X_retain has {Xr_v.shape[0]} rows but y_retain has "
                    f"{yr.shape[0]}."
                )
            if yr is not None and hasattr(self, "classes_"):
                check_classification_targets_known(yr, self.classes_, "y_retain")
        else:
            Xr, yr = None, None
        if self._requires_retain and Xr is None:
            raise ValueError(
                f"{type(self).__name__}.unlearn needs the retain set: pass X_retain "
                "and y_retain, or fit with store_training_data=True."
            )

        snapshot = {k: copy.deepcopy(v) for k, v in vars(self).items()
                    if k.endswith("_") and not k.startswith("__")}
        start = time.perf_counter()
        try:
            self._unlearn(Xf, yf, Xr, yr)
            self._check_finite_parameters()
        except BaseException:
            for k in [k for k in vars(self) if k.endswith("_")
                      and not k.startswith("__") and k not in snapshot]:
                delattr(self, k)
            self.__dict__.update(snapshot)
            raise
        seconds = time.perf_counter() - start
        if keep_mask is not None:
            self.X_fit_ = self.X_fit_[keep_mask]
            if self.y_fit_ is not None:
                self.y_fit_ = self.y_fit_[keep_mask]
        self.unlearn_time_ = seconds
        self.unlearn_history_.append({"n_forget": int(Xf_v.shape[0]),
                                      "seconds": seconds})
        self.is_unlearned_ = True
        return self

    @abstractmethod
    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        """Edit ``self.estimator_`` so that it forgets ``X_forget``."""

    def _check_finite_parameters(self):
        """Raise when unlearning left a NaN or infinite weight in the model."""
        est = self.estimator_
        arrays = []
        for attr in ("coefs_", "intercepts_"):
            arrays += list(getattr(est, attr, []) or [])
        for attr in ("coef_", "intercept_"):
            if hasattr(est, attr):
                arrays.append(np.asarray(getattr(est, attr)))
        module = getattr(est, "module_", None)
        if module is not None:
            arrays += [p.detach().cpu().numpy() for p in module.parameters()]
        for a in arrays:
            if not np.all(np.isfinite(a)):
                raise UnlearningError(
                    f"{type(self).__name__}.unlearn produced non-finite weights; "
                    "the model was restored. Lower the learning rate or the "
                    "dampening strength."
                )

    # -- delegation ---------------------------------------------------------
    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict with the (possibly unlearned) model."""
        check_is_fitted(self, "estimator_")
        X_v = self._validate_X(X, reset=False)
        return self.estimator_.predict(self._passthrough(X, X_v))

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the (possibly unlearned) model."""
        check_is_fitted(self, "estimator_")
        X_v = self._validate_X(X, reset=False)
        return self.estimator_.predict_proba(self._passthrough(X, X_v))

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities of the (possibly unlearned) model."""
        check_is_fitted(self, "estimator_")
        X_v = self._validate_X(X, reset=False)
        return self.estimator_.predict_log_proba(self._passthrough(X, X_v))

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the (possibly unlearned) model."""
        check_is_fitted(self, "estimator_")
        X_v = self._validate_X(X, reset=False)
        return self.estimator_.decision_function(self._passthrough(X, X_v))

    @available_if(_estimator_has("transform"))
    def transform(self, X):
        """Transform with the (possibly unlearned) model."""
        check_is_fitted(self, "estimator_")
        X_v = self._validate_X(X, reset=False)
        return self.estimator_.transform(self._passthrough(X, X_v))

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the (possibly unlearned) model (accuracy or R^2)."""
        check_is_fitted(self, "estimator_")
        X_v = self._validate_X(X, reset=False)
        return self.estimator_.score(self._passthrough(X, X_v), y,
                                     sample_weight=sample_weight)


# ---------------------------------------------------------------------------
# Open set
# ---------------------------------------------------------------------------
def is_open_set(estimator):
    """True when ``estimator`` follows sktrust's open-set API.

    Examples
    --------
    >>> from sktrust.base import is_open_set
    >>> from sklearn.linear_model import LogisticRegression
    >>> is_open_set(LogisticRegression())
    False
    """
    return bool(getattr(estimator, "_open_set", False))


class OpenSetMixin:
    """Mixin for classifiers that can answer "none of the known classes".

    Subclasses define ``score_samples(X)`` (known-ness, higher = more likely
    known), the closed-set ``_predict_closed(X)`` (or ``predict_proba``), and
    the constructor parameters ``unknown_label``, ``threshold`` and
    ``known_rate``. In ``fit`` they call :meth:`_check_unknown_label` after
    setting ``classes_`` and :meth:`_set_threshold` with the known-ness
    scores of the training (or held-out) rows.

    With ``threshold=None`` (the default) ``predict`` is the closed-set argmax,
    so every sklearn check holds. ``threshold="auto"`` sets ``threshold_`` to
    the ``1 - known_rate`` quantile of the training scores; a float is used as
    is. ``predict`` then returns ``unknown_label`` where
    ``score_samples(X) < threshold_``; ``fit`` then refuses an
    ``unknown_label`` equal to a training class. (With ``threshold=None``
    nothing is rejected, so the label is never used and is not checked.)
    """

    _open_set = True

    _open_set_parameter_constraints: dict = {
        "unknown_label": [None, Real, str],
        "threshold": [None, StrOptions({"auto"}), Real],
        "known_rate": [Interval(Real, 0, 1, closed="neither")],
    }

    def _check_unknown_label(self):
        if self.threshold is None:
            # Nothing is ever rejected, so unknown_label cannot clash.
            return
        classes = np.asarray(self.classes_)
        label = self.unknown_label
        clash = False
        try:
            clash = bool(np.any(classes == label))
        except (TypeError, ValueError):
            clash = False
        if clash:
            raise ValueError(
                f"unknown_label={label!r} is one of the training classes "
                f"{classes.tolist()[:20]}; choose a value that is not a class, "
                "e.g. unknown_label=-1 or 'unknown'."
            )

    def _set_threshold(self, known_scores):
        if self.threshold is None:
            self.threshold_ = None
        elif isinstance(self.threshold, str):
            scores = np.asarray(known_scores, dtype=float)
            self.threshold_ = float(np.quantile(scores, 1.0 - self.known_rate))
        else:
            self.threshold_ = float(self.threshold)
        return self

    def _predict_closed(self, X):
        proba = self.predict_proba(X)
        return np.asarray(self.classes_)[np.argmax(proba, axis=1)]

    def _output_labels(self, closed, known):
        # Keep the type of every label: the classes' dtype when unknown_label is
        # of the same kind (a number with numbers, a string with strings), an
        # object array otherwise (integer classes with unknown_label="unknown"
        # must not come back as the strings "0", "1", ...).
        if known is None or np.all(known):
            return closed
        closed, label = np.asarray(closed), self.unknown_label
        kind, label_kind = closed.dtype.kind, np.asarray(label).dtype.kind
        same_kind = label is not None and (
            (kind in "iuf" and label_kind in "iuf") or (kind == label_kind == "U"))
        dtype = np.result_type(closed.dtype, np.asarray(label).dtype) if same_kind else object
        out = closed.astype(dtype, copy=True)
        out[~np.asarray(known)] = label
        return out

    def predict(self, X):
        """Predict classes; reject to ``unknown_label`` when ``threshold`` is set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "classes_")
        closed = self._predict_closed(X)
        if getattr(self, "threshold_", None) is None:
            return closed
        return self._output_labels(closed, self.predict_known(X))

    def predict_known(self, X):
        """Boolean mask: ``score_samples(X) >= threshold_``.

        Raises ``ValueError`` when the estimator was fitted with
        ``threshold=None``: there is no threshold to compare with.
        """
        check_is_fitted(self, "classes_")
        if getattr(self, "threshold_", None) is None:
            raise ValueError(
                f"{type(self).__name__} was fitted with threshold=None; set "
                "threshold='auto' or a float to decide known vs unknown."
            )
        return np.asarray(self.score_samples(X)) >= self.threshold_


# ---------------------------------------------------------------------------
# Explainers
# ---------------------------------------------------------------------------
class BaseExplainer(BaseEstimator, metaclass=ABCMeta):
    """Base class for explainers: ``fit(X_background)``, ``explain(X)``.

    ``fit`` validates and stores the background data (``background_``), then
    calls ``_fit(X, y)``. ``explain`` validates ``X`` against what ``fit``
    saw and wraps what ``_explain(X)`` returns, ``(values, base_values)``,
    in a :class:`shap.Explanation` with the data and feature names, so shap's
    plots (waterfall, beeswarm, bar) work with no glue.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.requires_fit = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Store background data and prepare the explainer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Background (reference) data.
        y : ignored

        Returns
        -------
        self : object
        """
        X_v = validate_data(self, X, reset=True, dtype="numeric")
        check_non_empty(X_v, "X_background")
        self.background_ = X_v.copy()
        self._fit(X_v, y)
        return self

    def _fit(self, X, y):
        """Hook for subclasses."""

    def _feature_names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return list(names)
        return [f"x{i}" for i in range(self.n_features_in_)]

    def explain(self, X):
        """Explain the model's output on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        explanation : shap.Explanation
            ``values`` of shape (n_samples, n_features) (or with a trailing
            output axis), ``base_values``, ``data`` and ``feature_names``.
        """
        import shap

        check_is_fitted(self, "background_")
        X_v = validate_data(self, X, reset=False, dtype="numeric")
        check_non_empty(X_v, "X")
        values, base_values = self._explain(X_v)
        return shap.Explanation(
            values=np.asarray(values),
            base_values=np.asarray(base_values),
            data=X_v,
            feature_names=self._feature_names(),
        )

    @abstractmethod
    def _explain(self, X):
        """Return ``(values, base_values)`` for validated ``X``."""
