"""Open-set recognition metrics: AUROC, FPR at 95% TPR, OSCR and a report."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.utils import check_consistent_length
from sklearn.utils.validation import column_or_1d

from sktrust.utils._sklearn_compat import Interval, validate_params


def _check_open_set(y_true, known_score, unknown_label, y_pred_closed=None):
    """Validate inputs; return arrays and the boolean known mask."""
    y_true = column_or_1d(y_true)
    known_score = column_or_1d(known_score).astype(np.float64, copy=False)
    if y_pred_closed is not None:
        y_pred_closed = column_or_1d(y_pred_closed)
        check_consistent_length(y_true, known_score, y_pred_closed)
    else:
        check_consistent_length(y_true, known_score)
    if y_true.shape[0] == 0:
        raise ValueError("y_true is empty: open-set metrics need at least one row.")
    if not np.all(np.isfinite(known_score)):
        raise ValueError("known_score must be finite (no NaN or infinity).")
    if isinstance(unknown_label, Real) and np.isnan(unknown_label):
        raise ValueError("unknown_label=nan cannot mark rows (NaN != NaN); label unknown "
                         "rows with -1, None or a string such as 'unknown'.")
    is_known = y_true != unknown_label
    if is_known.all() or not is_known.any():
        raise ValueError(
            f"y_true must contain both known rows and unknown rows (labelled "
            f"unknown_label={unknown_label!r}); got "
            f"{int(is_known.sum())} known and {int((~is_known).sum())} unknown."
        )
    return y_true, known_score, y_pred_closed, is_known


def _fpr_at_tpr(known_score, is_known, tpr):
    scores_known = np.sort(known_score[is_known])
    n_known = scores_known.size
    # Highest threshold that accepts at least `tpr` of the known rows (ties >=).
    n_accept = int(np.ceil(tpr * n_known - 1e-9))
    n_accept = min(max(n_accept, 1), n_known)
    threshold = scores_known[n_known - n_accept]
    return float(np.mean(known_score[~is_known] >= threshold)), threshold


def _oscr(y_true, known_score, y_pred_closed, is_known):
    correct = is_known & (y_pred_closed == y_true)
    n_known, n_unknown = is_known.sum(), (~is_known).sum()
    order = np.argsort(-known_score, kind="stable")
    s = known_score[order]
    ccr = np.cumsum(correct[order]) / n_known
    fpr = np.cumsum(~is_known[order]) / n_unknown
    # One point per unique score: the last row of each run of tied scores.
    last_of_run = np.r_[s[1:] != s[:-1], True]
    x = np.r_[0.0, fpr[last_of_run], 1.0]
    y = np.r_[0.0, ccr[last_of_run], correct.sum() / n_known]
    return float(np.trapezoid(y, x))


_COMMON = {
    "y_true": ["array-like"],
    "known_score": ["array-like"],
    "unknown_label": [Real, str, None],
}


@validate_params(
    {**_COMMON, "tpr": [Interval(Real, 0, 1, closed="right")]},
    prefer_skip_nested_validation=True,
)
def fpr_at_tpr(y_true, known_score, *, tpr=0.95, unknown_label=-1):
    """Fraction of unknown rows accepted at the threshold that keeps ``tpr`` knowns.

    The threshold is the highest score that still accepts at least ``tpr`` of
    the known rows (``score >= threshold``, ties accepted): for ``tpr=0.95``,
    the 5% quantile of the known scores taken as an order statistic. The
    result is the fraction of unknown rows scoring at or above it. Lower is
    better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels, ``unknown_label`` for unknown rows.
    known_score : array-like of shape (n_samples,)
        Known-ness score, higher = more likely known (``score_samples``).
    tpr : float, default=0.95
        Fraction of known rows to accept, in (0, 1].
    unknown_label : int, float, str or None, default=-1
        Label marking unknown rows (the ``unknown_label`` of the open-set
        estimator whose output is scored).

    Returns
    -------
    fpr : float
        False-positive rate in [0, 1].

    Examples
    --------
    >>> from sktrust.metrics import fpr_at_tpr
    >>> y = [0, 1, 0, 1, -1, -1]
    >>> score = [0.9, 0.8, 0.7, 0.3, 0.5, 0.2]
    >>> fpr_at_tpr(y, score)  # accepts scores >= 0.3: one of two unknowns
    0.5
    """
    _, known_score, _, is_known = _check_open_set(y_true, known_score, unknown_label)
    return _fpr_at_tpr(known_score, is_known, tpr)[0]


@validate_params({**_COMMON, "y_pred_closed": ["array-like"]}, prefer_skip_nested_validation=True)
def oscr_score(y_true, known_score, y_pred_closed, *, unknown_label=-1):
    """Open-set classification rate: area under correct-classification vs FPR.

    Sweeping the threshold ``t`` over the unique scores, from the highest down:

    - ``CCR(t)`` = #{known rows with score >= t and a correct closed-set
      prediction} / #known;
    - ``FPR(t)`` = #{unknown rows with score >= t} / #unknown.

    OSCR is the trapezoidal area under CCR against FPR, with end points (0, 0)
    and (1, closed-set accuracy) (Dhamija et al., 2018). It is at most the
    closed-set accuracy, reached when every known row scores above every
    unknown row.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels, ``unknown_label`` for unknown rows.
    known_score : array-like of shape (n_samples,)
        Known-ness score, higher = more likely known.
    y_pred_closed : array-like of shape (n_samples,)
        Closed-set prediction (argmax over the known classes) of every row.
    unknown_label : int, float, str or None, default=-1
        Label marking unknown rows (the ``unknown_label`` of the open-set
        estimator whose output is scored).

    Returns
    -------
    oscr : float
        Area in [0, 1].

    References
    ----------
    .. [1] A. R. Dhamija, M. Günther and T. E. Boult, "Reducing network
       agnostophobia", NeurIPS 2018.

    Examples
    --------
    >>> from sktrust.metrics import oscr_score
    >>> y = [0, 1, -1, -1]
    >>> score = [0.9, 0.8, 0.2, 0.1]
    >>> oscr_score(y, score, [0, 0, 1, 0])  # perfect separation: = accuracy
    0.5
    """
    y_true, known_score, y_pred_closed, is_known = _check_open_set(
        y_true, known_score, unknown_label, y_pred_closed
    )
    return _oscr(y_true, known_score, y_pred_closed, is_known)


@validate_params(
    {
        **_COMMON,
        "y_pred_closed": ["array-like", None],
        "threshold": [Real, None],
        "y_pred": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def open_set_report(
    y_true,
    known_score,
    y_pred_closed=None,
    *,
    unknown_label=-1,
    threshold=None,
    y_pred=None,
):
    """All open-set metrics of a known-ness score and predictions, in one dict.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels, ``unknown_label`` for unknown rows. Both kinds must occur.
    known_score : array-like of shape (n_samples,)
        Known-ness score, higher = more likely known (``score_samples``).
    y_pred_closed : array-like of shape (n_samples,), default=None
        Closed-set predictions; needed for ``oscr``, ``closed_set_accuracy``,
        and for ``threshold``.
    unknown_label : int, float, str or None, default=-1
        Label marking unknown rows (the ``unknown_label`` of the open-set
        estimator whose output is scored).
    threshold : float, default=None
        Rows with ``known_score < threshold`` are rejected as unknown and the
        others keep their closed-set prediction; this gives the open-set
        predictions scored by ``open_set_accuracy`` and ``macro_f1``.
    y_pred : array-like of shape (n_samples,), default=None
        Open-set predictions (with ``unknown_label`` for rejections), e.g. the
        output of an open-set classifier's ``predict``; an alternative to
        ``threshold``.

    Returns
    -------
    report : dict
        ``auroc`` (known = positive class), ``aupr_in`` (average precision
        with known as positive), ``aupr_out`` (unknown as positive, scored by
        ``-known_score``), ``fpr_at_95tpr`` (see :func:`fpr_at_tpr`); with
        ``y_pred_closed``: ``oscr`` (see :func:`oscr_score`) and
        ``closed_set_accuracy`` (on known rows); with ``threshold`` or
        ``y_pred``: ``open_set_accuracy`` (on all rows) and ``macro_f1`` (unknown
        counted as one more class). Keys that cannot be computed are absent.

    Raises
    ------
    ValueError
        On mismatched lengths, non-finite scores, missing known or unknown
        rows, or ``threshold`` without ``y_pred_closed``.

    See Also
    --------
    oscr_score, fpr_at_tpr, oscr_scorer, auroc_scorer, fpr95_scorer

    Examples
    --------
    >>> from sktrust.metrics import open_set_report
    >>> y = [0, 1, 1, -1, -1]
    >>> score = [0.9, 0.8, 0.4, 0.5, 0.1]
    >>> report = open_set_report(y, score, [0, 1, 0, 1, 0], threshold=0.45)
    >>> round(report["auroc"], 4), round(report["closed_set_accuracy"], 4)
    (0.8333, 0.6667)
    >>> report["open_set_accuracy"]
    0.6
    """
    y_true, known_score, y_pred_closed, is_known = _check_open_set(
        y_true, known_score, unknown_label, y_pred_closed
    )
    if threshold is not None and y_pred is not None:
        raise ValueError("Give threshold or y_pred, not both.")
    report = {
        "auroc": float(roc_auc_score(is_known, known_score)),
        "aupr_in": float(average_precision_score(is_known, known_score)),
        "aupr_out": float(average_precision_score(~is_known, -known_score)),
        "fpr_at_95tpr": _fpr_at_tpr(known_score, is_known, 0.95)[0],
    }
    if y_pred_closed is not None:
        report["oscr"] = _oscr(y_true, known_score, y_pred_closed, is_known)
        report["closed_set_accuracy"] = float(np.mean(y_pred_closed[is_known] == y_true[is_known]))
    if threshold is not None:
        if y_pred_closed is None:
            raise ValueError(
                "threshold needs y_pred_closed (the closed-set predictions) to "
                "form open-set predictions; or pass y_pred directly."
            )
        y_pred = np.where(known_score >= threshold, y_pred_closed, unknown_label)
        y_pred = y_pred.astype(y_true.dtype, copy=False)
    if y_pred is not None:
        y_pred = column_or_1d(y_pred)
        check_consistent_length(y_true, y_pred)
        report["open_set_accuracy"] = float(np.mean(y_pred == y_true))
        # Integer codes: the unknown label may differ in type from the classes
        # (None, or "unknown" among integers), which f1_score cannot sort.
        codes = {}
        true_codes, pred_codes = (
            np.array([codes.setdefault(v, len(codes)) for v in a.tolist()])
            for a in (y_true, y_pred))
        report["macro_f1"] = float(f1_score(true_codes, pred_codes, average="macro",
                                            zero_division=0))
    return report


def _closed_set_predict(estimator, X):
    """Closed-set predictions: argmax of predict_proba / decision_function."""
    classes = getattr(estimator, "classes_", None)
    if classes is not None and hasattr(estimator, "predict_proba"):
        return classes[np.argmax(estimator.predict_proba(X), axis=1)]
    if classes is not None and hasattr(estimator, "decision_function"):
        scores = np.asarray(estimator.decision_function(X))
        if scores.ndim == 1:
            return classes[(scores > 0).astype(int)]
        return classes[np.argmax(scores, axis=1)]
    return estimator.predict(X)


def _unknown_label(estimator):
    """``unknown_label`` of the estimator, or of the last step of a pipeline / search."""
    for _ in range(20):
        if hasattr(estimator, "unknown_label"):
            return estimator.unknown_label
        inner = getattr(estimator, "_final_estimator", None)
        if inner is None:
            inner = getattr(estimator, "best_estimator_", None)
        if inner is None:
            break
        estimator = inner
    return -1


def _scorer_inputs(estimator, X, y):
    if not hasattr(estimator, "score_samples"):
        raise TypeError(
            f"{type(estimator).__name__} has no score_samples; open-set scorers "
            "need a known-ness score (higher = more likely known)."
        )
    return np.asarray(estimator.score_samples(X)), _unknown_label(estimator)


def oscr_scorer(estimator, X, y):
    """Scorer ``(estimator, X, y) -> OSCR`` for model selection.

    Uses ``estimator.score_samples`` as the known-ness score and the
    closed-set argmax of ``predict_proba`` (or ``decision_function``, else
    ``predict``) as predictions. Unknown rows of ``y`` carry
    the ``unknown_label`` of the estimator (or of a pipeline's last step; -1
    when there is none).

    Parameters
    ----------
    estimator : fitted estimator
        With ``score_samples``.
    X : array-like of shape (n_samples, n_features)
        Rows of known and unknown classes.
    y : array-like of shape (n_samples,)
        Labels, unknown rows marked.

    Returns
    -------
    score : float
        OSCR; greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktrust.metrics import oscr_scorer
    >>> class MaxProb(LogisticRegression):
    ...     def score_samples(self, X):
    ...         return self.predict_proba(X).max(axis=1)
    >>> X = np.array([[-3.0], [-2.0], [2.0], [3.0], [0.0], [0.1]])
    >>> clf = MaxProb().fit(X[:4], [0, 0, 1, 1])
    >>> oscr_scorer(clf, X, [0, 0, 1, 1, -1, -1])
    1.0
    """
    score, unknown_label = _scorer_inputs(estimator, X, y)
    return oscr_score(y, score, _closed_set_predict(estimator, X), unknown_label=unknown_label)


def auroc_scorer(estimator, X, y):
    """Scorer ``(estimator, X, y) -> AUROC`` of known vs unknown rows.

    Known rows are the positive class, scored by ``estimator.score_samples``;
    unknown rows of ``y`` carry ``estimator.unknown_label`` (default -1).

    Parameters
    ----------
    estimator : fitted estimator
        With ``score_samples``.
    X : array-like of shape (n_samples, n_features)
        Rows of known and unknown classes.
    y : array-like of shape (n_samples,)
        Labels, unknown rows marked.

    Returns
    -------
    score : float
        AUROC; greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KernelDensity
    >>> from sktrust.metrics import auroc_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(size=(20, 1)), np.full((5, 1), 10.0)]
    >>> est = KernelDensity().fit(X[:20])
    >>> auroc_scorer(est, X, [0] * 20 + [-1] * 5)
    1.0
    """
    score, unknown_label = _scorer_inputs(estimator, X, y)
    _, score, _, is_known = _check_open_set(y, score, unknown_label)
    return float(roc_auc_score(is_known, score))


def fpr95_scorer(estimator, X, y):
    """Scorer ``(estimator, X, y) -> -FPR@95%TPR``, negated so greater is better.

    Parameters
    ----------
    estimator : fitted estimator
        With ``score_samples``.
    X : array-like of shape (n_samples, n_features)
        Rows of known and unknown classes.
    y : array-like of shape (n_samples,)
        Labels, unknown rows carry ``estimator.unknown_label`` (default -1).

    Returns
    -------
    score : float
        Minus the false-positive rate of :func:`fpr_at_tpr`, in [-1, 0].

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KernelDensity
    >>> from sktrust.metrics import fpr95_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(size=(20, 1)), np.full((5, 1), 10.0)]
    >>> est = KernelDensity().fit(X[:20])
    >>> float(fpr95_scorer(est, X, [0] * 20 + [-1] * 5))
    -0.0
    """
    score, unknown_label = _scorer_inputs(estimator, X, y)
    return -fpr_at_tpr(y, score, unknown_label=unknown_label)
