"""Calibration metrics: expected calibration error and reliability diagrams."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_consistent_length
from sklearn.utils.validation import column_or_1d

from sktrust.utils._sklearn_compat import Interval, StrOptions, validate_params


def _top_label(y_true, y_prob, pos_label, labels):
    """Confidence of the predicted class and whether it is right, per row."""
    y_true = column_or_1d(y_true)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    if y_true.shape[0] == 0:
        raise ValueError("y_true is empty: calibration needs at least one row.")
    check_consistent_length(y_true, y_prob)
    if y_prob.ndim not in (1, 2):
        raise ValueError(
            f"y_prob must be 1-D (binary) or 2-D (n_samples, n_classes); got "
            f"{y_prob.ndim} dimensions."
        )
    if not np.all(np.isfinite(y_prob)) or y_prob.min() < 0 or y_prob.max() > 1:
        raise ValueError("y_prob must hold finite probabilities in [0, 1].")

    if y_prob.ndim == 1:
        classes = np.unique(y_true) if labels is None else np.asarray(labels)
        if classes.size > 2:
            raise ValueError(
                f"1-D y_prob is for binary targets; y_true has {classes.size} "
                "classes. Pass y_prob of shape (n_samples, n_classes)."
            )
        if pos_label is None:
            pos_label = classes[-1] if classes.size else 1
        elif pos_label not in classes and classes.size == 2:
            raise ValueError(
                f"pos_label={pos_label!r} is not one of the labels {classes.tolist()}."
            )
        is_pos = y_true == pos_label
        predicted_pos = y_prob > 0.5
        confidence = np.where(predicted_pos, y_prob, 1.0 - y_prob)
        return confidence, predicted_pos == is_pos

    n_classes = y_prob.shape[1]
    if n_classes < 2:
        raise ValueError("y_prob must have at least two columns (classes).")
    if not np.allclose(y_prob.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            "Each row of y_prob must sum to 1 (class probabilities, e.g. the "
            "output of predict_proba)."
        )
    if labels is None:
        if np.issubdtype(y_true.dtype, np.integer) and np.all((y_true >= 0) & (y_true < n_classes)):
            labels = np.arange(n_classes)
        else:
            labels = np.unique(y_true)
    labels = np.asarray(labels)
    if labels.shape[0] != n_classes:
        raise ValueError(
            f"y_prob has {n_classes} columns but there are {labels.shape[0]} "
            "labels; pass labels= (e.g. estimator.classes_) in column order."
        )
    unseen = ~np.isin(y_true, labels)
    if np.any(unseen):
        raise ValueError(
            f"y_true holds labels {np.unique(y_true[unseen]).tolist()[:10]} that are "
            f"not in labels {labels.tolist()[:20]}."
        )
    predicted = labels[np.argmax(y_prob, axis=1)]
    return y_prob.max(axis=1), predicted == y_true


_PARAMS = {
    "y_true": ["array-like"],
    "y_prob": ["array-like"],
    "n_bins": [Interval(Integral, 1, None, closed="left")],
    "strategy": [StrOptions({"uniform", "quantile"})],
    "pos_label": [Real, str, None],
    "labels": ["array-like", None],
}


@validate_params(_PARAMS, prefer_skip_nested_validation=True)
def calibration_bins(y_true, y_prob, *, n_bins=15, strategy="uniform", pos_label=None, labels=None):
    """Per-bin confidence, accuracy and count of top-label predictions.

    Each row is binned by the confidence of its predicted class (the largest
    probability). Bins are right-closed, ``(lo, hi]``, the first one also holds
    its lower edge.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Class probabilities (columns in the order of ``labels``), or for binary
        targets the probability of ``pos_label``. A 1-D probability of exactly
        0.5 predicts the negative class.
    n_bins : int, default=15
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: equal-width bins over [0, 1]. ``"quantile"``: edges at
        quantiles of the confidences, so bins hold about the same number of
        rows (duplicate edges are merged, so there may be fewer bins).
    pos_label : int, float, bool or str, default=None
        Positive class for 1-D ``y_prob``; None means the larger label.
    labels : array-like of shape (n_classes,), default=None
        Class of each column of 2-D ``y_prob``. None means ``0..n_classes-1``
        when ``y_true`` holds such integers, else the sorted labels of
        ``y_true``.

    Returns
    -------
    bins : :class:`~sklearn.utils.Bunch`
        ``edges`` (n_bins + 1,), and per bin ``confidence`` (mean confidence),
        ``accuracy`` (fraction correct), both NaN for empty bins, and ``count``.

    See Also
    --------
    expected_calibration_error : The weighted gap between the two.
    ReliabilityDisplay : Plot of these bins.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.metrics import calibration_bins
    >>> y_prob = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> bins = calibration_bins([0, 1, 1, 1], y_prob, n_bins=2)
    >>> bins.count.tolist(), bins.accuracy.tolist()
    ([0, 4], [nan, 0.75])
    """
    confidence, correct = _top_label(y_true, y_prob, pos_label, labels)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.unique(np.quantile(confidence, np.linspace(0.0, 1.0, n_bins + 1)))
        if edges.size == 1:
            edges = np.array([edges[0], edges[0]])
    which = np.searchsorted(edges[1:-1], confidence, side="left")
    n_out = edges.size - 1
    count = np.bincount(which, minlength=n_out)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, weights=confidence, minlength=n_out) / count
        accuracy = np.bincount(which, weights=correct, minlength=n_out) / count
    return Bunch(edges=edges, confidence=mean_conf, accuracy=accuracy, count=count)


@validate_params(_PARAMS, prefer_skip_nested_validation=True)
def expected_calibration_error(
    y_true, y_prob, *, n_bins=15, strategy="uniform", pos_label=None, labels=None
):
    """Expected calibration error (ECE) of the top-label confidence.

    .. math::

        \\mathrm{ECE} = \\sum_b \\frac{n_b}{n} \\left| \\mathrm{acc}_b -
        \\mathrm{conf}_b \\right|

    over the bins of :func:`calibration_bins` (Guo et al., 2017). 0 is
    perfectly calibrated; values are fractions in [0, 1].

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Class probabilities, or the probability of ``pos_label`` (binary).
    n_bins : int, default=15
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Bin edges: equal width, or quantiles of the confidences.
    pos_label : int, float, bool or str, default=None
        Positive class for 1-D ``y_prob``; None means the larger label.
    labels : array-like of shape (n_classes,), default=None
        Class of each column of 2-D ``y_prob``, see :func:`calibration_bins`.

    Returns
    -------
    ece : float
        Expected calibration error.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of
       modern neural networks", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.metrics import expected_calibration_error
    >>> y_prob = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> round(expected_calibration_error([0, 1, 1, 1], y_prob, n_bins=2), 4)
    0.0
    >>> round(expected_calibration_error([0, 1, 1, 1], y_prob, n_bins=10), 4)
    0.4
    """
    bins = calibration_bins(
        y_true,
        y_prob,
        n_bins=n_bins,
        strategy=strategy,
        pos_label=pos_label,
        labels=labels,
    )
    filled = bins.count > 0
    weights = bins.count[filled] / bins.count.sum()
    gaps = np.abs(bins.accuracy[filled] - bins.confidence[filled])
    return float(np.sum(weights * gaps))


class ReliabilityDisplay:
    """Reliability diagram: accuracy against confidence, per bin.

    Build it with :meth:`from_estimator` or :meth:`from_predictions`; the
    constructor only stores precomputed bins. Bars show the accuracy of each
    non-empty bin; the diagonal is perfect calibration, and the legend gives the
    expected calibration error.

    Parameters
    ----------
    edges : ndarray of shape (n_bins + 1,)
        Bin edges.
    confidence : ndarray of shape (n_bins,)
        Mean confidence per bin (NaN when empty).
    accuracy : ndarray of shape (n_bins,)
        Accuracy per bin (NaN when empty).
    count : ndarray of shape (n_bins,)
        Rows per bin.
    ece : float
        Expected calibration error.
    estimator_name : str, default=None
        Name shown in the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the diagram.
    figure_ : matplotlib Figure
        Figure containing the diagram.
    bars_ : matplotlib BarContainer
        The accuracy bars.
    line_ : matplotlib Line2D
        The diagonal.

    See Also
    --------
    calibration_bins : The numbers behind the diagram.
    sklearn.calibration.CalibrationDisplay : Positive-class calibration curve.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktrust.metrics import ReliabilityDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=500).fit(X, y)
    >>> disp = ReliabilityDisplay.from_estimator(clf, X, y, n_bins=10)
    >>> 0 <= disp.ece <= 1
    True
    """

    def __init__(self, *, edges, confidence, accuracy, count, ece, estimator_name=None):
        self.edges = edges
        self.confidence = confidence
        self.accuracy = accuracy
        self.count = count
        self.ece = ece
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, name=None, ref_line=True, **kwargs):
        """Draw the diagram.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a new figure.
        name : str, default=None
            Legend name; overrides ``estimator_name``.
        ref_line : bool, default=True
            Draw the diagonal of perfect calibration.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.bar`.

        Returns
        -------
        display : ReliabilityDisplay
            Object that stores the computed values.
        """
        from sklearn.utils._optional_dependencies import check_matplotlib_support

        check_matplotlib_support("ReliabilityDisplay.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        label = f"ECE = {self.ece:.3f}"
        if name is not None:
            label = f"{name} ({label})"
        filled = self.count > 0
        lefts = self.edges[:-1][filled]
        widths = np.diff(self.edges)[filled]
        bar_kwargs = {"edgecolor": "black", "alpha": 0.8, "label": label}
        bar_kwargs.update(kwargs)
        self.bars_ = ax.bar(lefts, self.accuracy[filled], width=widths, align="edge", **bar_kwargs)
        self.line_ = None
        if ref_line:
            (self.line_,) = ax.plot([0, 1], [0, 1], "k--", label="Perfectly calibrated")
        ax.set(
            xlim=(0, 1),
            ylim=(0, 1),
            xlabel="Confidence (predicted class)",
            ylabel="Accuracy",
        )
        ax.legend(loc="upper left")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_prob,
        *,
        n_bins=15,
        strategy="uniform",
        pos_label=None,
        labels=None,
        name=None,
        ax=None,
        **kwargs,
    ):
        """Plot a reliability diagram from labels and predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
            Class probabilities, or the probability of ``pos_label``.
        n_bins : int, default=15
            Number of bins.
        strategy : {"uniform", "quantile"}, default="uniform"
            Bin edges, see :func:`calibration_bins`.
        pos_label : int, float, bool or str, default=None
            Positive class for 1-D ``y_prob``.
        labels : array-like of shape (n_classes,), default=None
            Class of each column of ``y_prob``.
        name : str, default=None
            Legend name.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.bar`.

        Returns
        -------
        display : ReliabilityDisplay
        """
        bins = calibration_bins(
            y_true,
            y_prob,
            n_bins=n_bins,
            strategy=strategy,
            pos_label=pos_label,
            labels=labels,
        )
        ece = expected_calibration_error(
            y_true,
            y_prob,
            n_bins=n_bins,
            strategy=strategy,
            pos_label=pos_label,
            labels=labels,
        )
        display = cls(
            edges=bins.edges,
            confidence=bins.confidence,
            accuracy=bins.accuracy,
            count=bins.count,
            ece=ece,
            estimator_name=name,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        n_bins=15,
        strategy="uniform",
        name=None,
        ax=None,
        **kwargs,
    ):
        """Plot a reliability diagram of a fitted classifier on ``(X, y)``.

        Parameters
        ----------
        estimator : fitted classifier
            Must have ``predict_proba`` and ``classes_``.
        X : array-like of shape (n_samples, n_features)
            Input rows.
        y : array-like of shape (n_samples,)
            True labels.
        n_bins : int, default=15
            Number of bins.
        strategy : {"uniform", "quantile"}, default="uniform"
            Bin edges, see :func:`calibration_bins`.
        name : str, default=None
            Legend name; None uses the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.bar`.

        Returns
        -------
        display : ReliabilityDisplay
        """
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"{type(estimator).__name__} has no predict_proba; a reliability "
                "diagram needs class probabilities."
            )
        y_prob = estimator.predict_proba(X)
        name = type(estimator).__name__ if name is None else name
        return cls.from_predictions(
            y,
            y_prob,
            n_bins=n_bins,
            strategy=strategy,
            labels=getattr(estimator, "classes_", None),
            name=name,
            ax=ax,
            **kwargs,
        )
