"""Generative vs discriminative linear probes: shared-variance naive Bayes and curves."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from sktrust.utils._sklearn_compat import (
    Interval,
    _fit_context,
    validate_data,
    validate_params,
)


class SharedVarianceGaussianNB(ClassifierMixin, BaseEstimator):
    """Gaussian naive Bayes with one diagonal variance shared by all classes.

    The pooled variance makes the decision rule linear, so this is the
    *generative* linear probe of Zheng et al. (2023): on frozen embeddings with
    few labels it reaches its best error much sooner than logistic regression
    (see :func:`linear_probe_curve`). Unlike scikit-learn's
    :class:`~sklearn.naive_bayes.GaussianNB` the variance is shared across
    classes and ``var_smoothing`` is an absolute amount.

    Read more in the :ref:`User Guide <open_set>`.

    Parameters
    ----------
    var_smoothing : float, default=1e-9
        Added to every per-class variance before pooling.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_count_ : ndarray of shape (n_classes,)
    class_prior_ : ndarray of shape (n_classes,)
    theta_ : ndarray of shape (n_classes, n_features)
        Class means.
    var_ : ndarray of shape (n_features,)
        Pooled variance ``sum_c prior_c * (var_c + var_smoothing)``.
    coef_ : ndarray of shape (n_classes, n_features)
        ``theta_ / var_``: the equivalent linear rule.
    intercept_ : ndarray of shape (n_classes,)
        ``log prior - sum(theta_**2 / var_) / 2``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    .. [1] C. Zheng, G. Wu, F. Bao, Y. Cao, C. Li and J. Zhu, "Revisiting
       Discriminative vs. Generative Classifiers: Theory and Implications",
       ICML 2023.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sktrust.open_set import SharedVarianceGaussianNB
    >>> X, y = load_iris(return_X_y=True)
    >>> nb = SharedVarianceGaussianNB().fit(X, y)
    >>> nb.coef_.shape, round(nb.score(X, y), 2)
    ((3, 4), 0.96)
    """

    _parameter_constraints: dict = {
        "var_smoothing": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, var_smoothing=1e-9):
        self.var_smoothing = var_smoothing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit class means and the pooled variance.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        for attr in ("classes_", "class_count_", "theta_", "_ssd"):
            self.__dict__.pop(attr, None)
        return self._update(X, y, np.unique(y))

    def partial_fit(self, X, y, classes=None):
        """Update the statistics with a new batch (exact, Chan et al.'s merge).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All classes; required on the first call.

        Returns
        -------
        self : object
        """
        first = not hasattr(self, "classes_")
        if first:
            self._validate_params()
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        X, y = validate_data(self, X, y, reset=first)
        check_classification_targets(y)
        return self._update(X, y, np.unique(classes) if first else self.classes_)

    def _update(self, X, y, classes):
        if not hasattr(self, "classes_"):
            self.classes_ = np.asarray(classes)
            k, d = len(self.classes_), X.shape[1]
            self.class_count_ = np.zeros(k)
            self.theta_ = np.zeros((k, d))
            self._ssd = np.zeros((k, d))  # sums of squared deviations
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y contains labels {unseen.tolist()[:10]} not in classes "
                             f"{self.classes_.tolist()[:20]}.")
        for i, c in enumerate(self.classes_):
            rows = X[y == c]
            n_new = rows.shape[0]
            if n_new == 0:
                continue
            n_old = self.class_count_[i]
            mean_new = rows.mean(axis=0)
            delta = mean_new - self.theta_[i]
            total = n_old + n_new
            self._ssd[i] += ((rows - mean_new) ** 2).sum(axis=0) + (
                delta ** 2 * n_old * n_new / total)
            self.theta_[i] += delta * n_new / total
            self.class_count_[i] = total
        seen = self.class_count_ > 0
        if seen.sum() < 2 and len(self.classes_) < 2:
            raise ValueError("y has only one class; a classifier needs 2 or more.")
        self.class_prior_ = self.class_count_ / self.class_count_.sum()
        var_c = np.divide(self._ssd, self.class_count_[:, None],
                          out=np.zeros_like(self._ssd), where=seen[:, None])
        self.var_ = (self.class_prior_[:, None] * (var_c + self.var_smoothing)).sum(axis=0)
        if np.any(self.var_ <= 0):
            raise ValueError("A feature has zero variance in every class; set "
                             "var_smoothing > 0.")
        with np.errstate(divide="ignore"):
            log_prior = np.log(self.class_prior_)
        self.coef_ = self.theta_ / self.var_
        self.intercept_ = log_prior - 0.5 * (self.theta_ ** 2 / self.var_).sum(axis=1)
        return self

    def _joint_log_likelihood(self, X):
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False)
        return X @ self.coef_.T + self.intercept_

    def predict_log_proba(self, X):
        """Log posterior class probabilities."""
        return log_softmax(self._joint_log_likelihood(X), axis=1)

    def predict_proba(self, X):
        """Posterior class probabilities."""
        return softmax(self._joint_log_likelihood(X), axis=1)

    def predict(self, X):
        """Class with the highest posterior."""
        idx = np.argmax(self._joint_log_likelihood(X), axis=1)
        return self.classes_[idx]


def _draw_with_all_classes(rng, y, size, classes, max_tries=1000):
    if size < len(classes):
        raise ValueError(f"size={size} is smaller than the {len(classes)} classes.")
    for _ in range(max_tries):
        idx = rng.choice(len(y), size=size, replace=False)
        if len(np.unique(y[idx])) == len(classes):
            return idx
    raise ValueError(f"Could not draw {size} rows holding all {len(classes)} classes "
                     f"in {max_tries} tries; use larger sizes.")


@validate_params(
    {
        "X_train": ["array-like"], "y_train": ["array-like"],
        "X_test": ["array-like"], "y_test": ["array-like"],
        "sizes": ["array-like", None],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "estimators": [dict, None],
        "scaler": "no_validation",
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def linear_probe_curve(X_train, y_train, X_test, y_test, *, sizes=None, n_repeats=5,
                       estimators=None, scaler=None, random_state=None):
    """Test error of linear probes against the number of training rows.

    For each size ``m``, draws ``m`` training rows at random (again until
    every class is present), fits the scaler on them only, fits every probe
    and records its test error; ``n_repeats`` times. This is the protocol of
    Zheng et al. (2023) for frozen embeddings.

    Parameters
    ----------
    X_train, y_train : array-like
        Pool to draw training rows from.
    X_test, y_test : array-like
        Held-out rows.
    sizes : array-like of int, default=None
        ``None``: about 8 sizes spaced geometrically from ``4 * n_classes``
        to the pool size.
    n_repeats : int, default=5
    estimators : dict of str to estimator, default=None
        ``None``: ``{"naive_bayes": SharedVarianceGaussianNB(), "logistic":
        LogisticRegression(C=1.0, max_iter=1000)}``.
    scaler : transformer, "passthrough" or None, default=None
        ``None`` is :class:`~sklearn.preprocessing.MinMaxScaler`.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    curve : pandas.DataFrame
        Columns ``size``, ``repeat``, ``estimator``, ``error``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sktrust.open_set import linear_probe_curve
    >>> X, y = load_digits(return_X_y=True)
    >>> df = linear_probe_curve(X[:1000], y[:1000], X[1000:], y[1000:],
    ...                         sizes=[30, 100], n_repeats=2, random_state=0)
    >>> df.shape
    (8, 4)
    """
    import pandas as pd

    X_train, y_train = np.asarray(X_train, dtype=float), np.asarray(y_train)
    X_test, y_test = np.asarray(X_test, dtype=float), np.asarray(y_test)
    for name, X_, y_ in (("train", X_train, y_train), ("test", X_test, y_test)):
        if X_.ndim != 2 or y_.ndim != 1 or len(X_) != len(y_):
            raise ValueError(f"X_{name} must be 2-D and y_{name} 1-D with one label per row; "
                             f"got shapes {X_.shape} and {y_.shape}.")
    classes = np.unique(y_train)
    rng = check_random_state(random_state)
    if sizes is None:
        lo, hi = 4 * len(classes), len(y_train)
        sizes = np.unique(np.geomspace(min(lo, hi), hi, 8).astype(int))
    if estimators is None:
        estimators = {"naive_bayes": SharedVarianceGaussianNB(),
                      "logistic": LogisticRegression(C=1.0, max_iter=1000)}
    scaler = MinMaxScaler() if scaler is None else scaler
    rows = []
    for size in np.asarray(sizes, dtype=int):
        if size > len(y_train):
            raise ValueError(f"size={size} exceeds the {len(y_train)} training rows.")
        for repeat in range(n_repeats):
            idx = _draw_with_all_classes(rng, y_train, int(size), classes)
            X_s, X_t = X_train[idx], X_test
            if scaler != "passthrough":
                fitted = clone(scaler).fit(X_s)
                X_s, X_t = fitted.transform(X_s), fitted.transform(X_t)
            for name, est in estimators.items():
                model = clone(est).fit(X_s, y_train[idx])
                error = float(np.mean(model.predict(X_t) != y_test))
                rows.append({"size": int(size), "repeat": repeat, "estimator": name,
                             "error": error})
    return pd.DataFrame(rows, columns=["size", "repeat", "estimator", "error"])


def plot_linear_probe_curve(curve, ax=None):
    """Mean test error (and its spread) against the training size, per probe.

    Parameters
    ----------
    curve : pandas.DataFrame
        Output of :func:`linear_probe_curve`.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    from sklearn.utils._optional_dependencies import check_matplotlib_support

    check_matplotlib_support("plot_linear_probe_curve")
    import matplotlib.pyplot as plt

    missing = {"size", "estimator", "error"} - set(getattr(curve, "columns", ()))
    if missing:
        raise ValueError(f"curve must be the DataFrame of linear_probe_curve; it lacks the "
                         f"columns {sorted(missing)}.")

    if ax is None:
        _, ax = plt.subplots()
    for name, group in curve.groupby("estimator", sort=False):
        stats = group.groupby("size")["error"].agg(["mean", "std"]).fillna(0.0)
        ax.plot(stats.index, stats["mean"], marker="o", label=name)
        ax.fill_between(stats.index, stats["mean"] - stats["std"],
                        stats["mean"] + stats["std"], alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("training rows")
    ax.set_ylabel("test error")
    ax.legend()
    return ax
