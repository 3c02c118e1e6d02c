"""Long-tailed subsampling of a labelled data set."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.utils import _safe_indexing, check_consistent_length, check_random_state
from sklearn.utils.validation import column_or_1d

from sktrust.utils._sklearn_compat import Interval, validate_params


def long_tailed_counts(class_counts, imbalance_ratio):
    """Per-class target counts of an exponential long-tailed profile.

    Classes are ranked by their count, largest first (ties: order given). The
    class of rank ``i`` (0-based) among ``K`` gets
    ``max(1, floor(n_max * imbalance_ratio ** (-i / (K - 1))))`` rows, where
    ``n_max`` is the largest head count for which every class still has enough
    rows; for a balanced data set it is the common class size.

    Parameters
    ----------
    class_counts : array-like of int of shape (n_classes,)
        Available rows per class, at least two classes.
    imbalance_ratio : float
        Ratio of the head count to the tail count, at least 1.

    Returns
    -------
    counts : ndarray of int of shape (n_classes,)
        Target count per class, in the order of ``class_counts``.

    Examples
    --------
    >>> from sktrust.datasets import long_tailed_counts
    >>> long_tailed_counts([100, 100, 100], imbalance_ratio=100).tolist()
    [100, 10, 1]
    """
    counts = np.asarray(class_counts)
    if counts.ndim != 1 or counts.size < 2:
        raise ValueError("class_counts must be 1-D with at least two classes.")
    if np.any(counts < 1):
        raise ValueError("Every class must have at least one row.")
    if not imbalance_ratio >= 1:
        raise ValueError(f"imbalance_ratio must be >= 1; got {imbalance_ratio!r}.")
    n_classes = counts.size
    order = np.argsort(-counts, kind="stable")
    profile = float(imbalance_ratio) ** (-np.arange(n_classes) / (n_classes - 1))
    # Largest head count such that every ranked class can meet its target.
    n_max = np.min(np.floor(counts[order] / profile + 1e-9))
    targets = np.maximum(1, np.floor(n_max * profile + 1e-9)).astype(int)
    targets = np.minimum(targets, counts[order])
    result = np.empty(n_classes, dtype=int)
    result[order] = targets
    return result


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "imbalance_ratio": [Interval(Real, 1, None, closed="left")],
        "random_state": ["random_state"],
        "return_indices": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_long_tailed(
    X, y, imbalance_ratio=100, random_state=None, *, return_indices=False
):
    """Subsample a data set so that its class counts decay exponentially.

    The standard long-tailed benchmark construction (as for CIFAR-10-LT): rank
    the classes by their count, most frequent first, and keep
    ``n_max * imbalance_ratio ** (-i / (K - 1))`` random rows of the class of
    rank ``i``. ``n_max`` is the largest head count that every class can
    support (the common class size for balanced data), so the head class keeps
    ``imbalance_ratio`` times as many rows as the tail class, up to rounding.
    See :func:`long_tailed_counts` for the exact counts.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features; a DataFrame stays a DataFrame.
    y : array-like of shape (n_samples,)
        Class labels, at least two classes.
    imbalance_ratio : float, default=100
        Ratio of the most to the least frequent class count, at least 1
        (1 keeps ``n_max`` rows of every class).
    random_state : int, RandomState instance or None, default=None
        Seeds which rows are kept.
    return_indices : bool, default=False
        Also return the positions of the kept rows in ``X``.

    Returns
    -------
    X_lt : array-like of shape (n_kept, n_features)
        Kept rows, in their original order.
    y_lt : ndarray of shape (n_kept,)
        Their labels.
    indices : ndarray of int of shape (n_kept,)
        Positions of the kept rows in ``X`` (sorted); only when
        ``return_indices=True``.

    See Also
    --------
    long_tailed_counts : The per-class counts alone.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.datasets import make_long_tailed
    >>> X = np.arange(300).reshape(300, 1)
    >>> y = np.repeat([0, 1, 2], 100)
    >>> X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    >>> np.bincount(y_lt).tolist()
    [100, 31, 10]
    """
    check_consistent_length(X, y)
    y = column_or_1d(y)
    if y.shape[0] == 0:
        raise ValueError("y is empty: make_long_tailed needs at least one row.")
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    if classes.size < 2:
        raise ValueError(
            f"y has {classes.size} class; a long-tailed profile needs at least 2."
        )
    targets = long_tailed_counts(counts, imbalance_ratio)
    rng = check_random_state(random_state)
    kept = [
        rng.choice(np.flatnonzero(codes == k), size=targets[k], replace=False)
        for k in range(classes.size)
    ]
    indices = np.sort(np.concatenate(kept))
    X_lt = _safe_indexing(X, indices)
    y_lt = y[indices].copy()
    if return_indices:
        return X_lt, y_lt, indices
    return X_lt, y_lt
