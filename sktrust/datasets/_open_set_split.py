"""Train/test splits for open-set recognition."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_consistent_length, check_random_state
from sklearn.utils.validation import column_or_1d

from sktrust.utils._sklearn_compat import Interval, RealNotInt, validate_params


def _labels_out_dtype(y, unknown_label):
    """Dtype that holds both the labels of ``y`` and ``unknown_label``."""
    if y.dtype.kind in "OUS":
        if not isinstance(unknown_label, str):
            raise ValueError(
                f"y holds string labels but unknown_label={unknown_label!r} is not "
                "a string; pass a string such as unknown_label='unknown'."
            )
        return object
    if isinstance(unknown_label, str):
        raise ValueError(
            f"y holds numeric labels but unknown_label={unknown_label!r} is a "
            "string; pass a number such as unknown_label=-1."
        )
    return np.result_type(y.dtype, np.asarray(unknown_label).dtype)


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "known_classes": ["array-like", None],
        "n_known": [Interval(Integral, 1, None, closed="left"), None],
        "test_size": [Interval(RealNotInt, 0, 1, closed="neither")],
        "unknown_label": [Real, str],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_open_set_split(
    X,
    y,
    known_classes=None,
    n_known=None,
    test_size=0.3,
    unknown_label=-1,
    random_state=None,
):
    """Split a labelled data set into a closed training set and an open test set.

    The rows are first split into train and test, stratified by class, exactly as
    :func:`~sklearn.model_selection.train_test_split` does. Rows of the unknown
    classes (those not in ``known_classes``) are then removed from the training
    set and relabelled ``unknown_label`` in the test set. So the training set has
    the known classes only, and the test set holds held-out rows of the known
    classes plus ``test_size`` of the rows of each unknown class.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features; a DataFrame stays a DataFrame.
    y : array-like of shape (n_samples,)
        Class labels, numeric or strings.
    known_classes : array-like or None, default=None
        The classes seen in training. Must leave at least one class out.
    n_known : int or None, default=None
        Number of known classes drawn at random (with ``random_state``) when
        ``known_classes`` is None. If both are None, ``ceil(n_classes / 2)``
        classes are drawn (at most ``n_classes - 1``). Give one of
        ``known_classes`` and ``n_known``, not both.
    test_size : float, default=0.3
        Fraction of the rows of every class that goes to the test set.
    unknown_label : int, float or str, default=-1
        Label given to unknown-class rows in ``y_test``. It must not be a class
        of ``y``, and it must be a string when the labels are strings.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of known classes and the split.

    Returns
    -------
    X_train : array-like of shape (n_train, n_features)
        Training rows, known classes only.
    X_test : array-like of shape (n_test, n_features)
        Test rows, known and unknown classes.
    y_train : ndarray of shape (n_train,)
        Labels of the training rows.
    y_test : ndarray of shape (n_test,)
        Labels of the test rows, ``unknown_label`` for unknown-class rows.

    Raises
    ------
    ValueError
        If the classes asked for are not in ``y``, leave no class unknown, or
        ``unknown_label`` clashes with the labels.

    See Also
    --------
    sktrust.metrics.open_set_report : Evaluate open-set predictions on such a
        test set.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.datasets import make_open_set_split
    >>> X = np.arange(40).reshape(20, 2)
    >>> y = np.repeat([0, 1, 2, 3], 5)
    >>> X_tr, X_te, y_tr, y_te = make_open_set_split(
    ...     X, y, known_classes=[0, 1], test_size=0.4, random_state=0)
    >>> sorted(set(y_tr.tolist())), sorted(set(y_te.tolist()))
    ([0, 1], [-1, 0, 1])
    >>> len(y_tr), len(y_te)
    (6, 8)
    """
    check_consistent_length(X, y)
    y = column_or_1d(y)
    if y.shape[0] == 0:
        raise ValueError("y is empty: make_open_set_split needs at least one row.")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(
            f"y has {classes.size} class; an open-set split needs at least 2 "
            "(one known, one unknown)."
        )
    out_dtype = _labels_out_dtype(y, unknown_label)
    if np.isin(np.asarray([unknown_label], dtype=object), classes.astype(object))[0]:
        raise ValueError(
            f"unknown_label={unknown_label!r} is one of the classes of y; choose a "
            "value that is not a class."
        )

    rng = check_random_state(random_state)
    if known_classes is not None and n_known is not None:
        raise ValueError("Give either known_classes or n_known, not both.")
    if known_classes is not None:
        known = np.unique(column_or_1d(np.asarray(known_classes)))
        missing = np.setdiff1d(known, classes)
        if known.size == 0 or missing.size:
            raise ValueError(
                f"known_classes must be a non-empty subset of the classes of y "
                f"{classes.tolist()}; not found: {missing.tolist()}."
            )
    else:
        if n_known is None:
            n_known = min(int(np.ceil(classes.size / 2)), classes.size - 1)
        if n_known >= classes.size:
            raise ValueError(
                f"n_known={n_known} must be smaller than the number of classes "
                f"({classes.size}) so that at least one class is unknown."
            )
        known = np.sort(rng.choice(classes, size=n_known, replace=False))
    if known.size == classes.size:
        raise ValueError(
            "known_classes holds every class of y; leave at least one class out "
            "to be unknown."
        )

    indices = np.arange(y.shape[0])
    idx_train, idx_test = train_test_split(
        indices, test_size=test_size, stratify=y, random_state=rng
    )
    idx_train = idx_train[np.isin(y[idx_train], known)]
    y_train = y[idx_train].copy()
    y_test = y[idx_test].astype(out_dtype)
    y_test[~np.isin(y[idx_test], known)] = unknown_label
    return (
        _safe_indexing(X, idx_train),
        _safe_indexing(X, idx_test),
        y_train,
        y_test,
    )
