"""Bag input handling shared by the multiple-instance estimators."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils import check_array

from sktrust.utils._sklearn_compat import validate_data


def is_bag_input(X):
    """True for a list/tuple of arrays, a 1-D object array or a 3-D array."""
    if isinstance(X, (list, tuple)):
        return len(X) == 0 or np.ndim(X[0]) == 2 or hasattr(X[0], "shape")
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1 or X.ndim == 3
    return False


def check_bags(estimator, X, *, reset):
    """Validate bags; a 2-D table is read as bags of one instance each.

    Returns a list of float64 arrays of shape ``(n_instances_i, n_features)``.
    Sets (``reset=True``) or checks ``n_features_in_`` (and, for a 2-D
    DataFrame, ``feature_names_in_``).
    """
    if not is_bag_input(X):
        X = validate_data(estimator, X, reset=reset, dtype=np.float64)
        return [row[None, :] for row in X]
    if len(X) == 0:
        raise ValueError("X holds no bags: pass a list with at least one 2-D array.")
    bags = []
    for i, bag in enumerate(X):
        if np.ndim(bag) != 2:
            raise ValueError(
                f"bag {i} has {np.ndim(bag)} dimension(s); every bag must be a 2-D "
                "array of shape (n_instances, n_features)."
            )
        if np.shape(bag)[0] == 0:
            raise ValueError(f"bag {i} is empty: every bag needs at least one instance.")
        bags.append(check_array(bag, dtype=np.float64, input_name=f"bag {i}"))
    widths = {b.shape[1] for b in bags}
    if len(widths) > 1:
        raise ValueError(
            f"bags have different numbers of features {sorted(widths)}; every "
            "instance must have the same features."
        )
    width = widths.pop()
    if reset:
        estimator.n_features_in_ = width
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif width != estimator.n_features_in_:
        raise ValueError(
            f"X has {width} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return bags


def pad_bags(bags):
    """Stack bags into ``(n_bags, max_len, n_features + 1)``; the last column
    is 1 for real instances and 0 for padding."""
    n_max = max(b.shape[0] for b in bags)
    d = bags[0].shape[1]
    out = np.zeros((len(bags), n_max, d + 1), dtype=np.float32)
    for i, b in enumerate(bags):
        out[i, : b.shape[0], :d] = b
        out[i, : b.shape[0], d] = 1.0
    return out


def bags_from_long(X, bag_ids):
    """Group the rows of a long table into bags by ``bag_ids``.

    Parameters
    ----------
    X : array-like of shape (n_instances, n_features)
    bag_ids : array-like of shape (n_instances,)

    Returns
    -------
    bags : list of ndarray
        One array per distinct id, in sorted id order.
    ids : ndarray
        The sorted distinct ids.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.mil import bags_from_long
    >>> bags, ids = bags_from_long(np.arange(8.0).reshape(4, 2), ["b", "a", "b", "a"])
    >>> ids.tolist(), [b.shape for b in bags]
    (['a', 'b'], [(2, 2), (2, 2)])
    """
    X = check_array(X, dtype=np.float64)
    bag_ids = np.asarray(bag_ids)
    if bag_ids.shape != (X.shape[0],):
        raise ValueError(f"bag_ids must have shape ({X.shape[0]},); got {bag_ids.shape}.")
    ids, codes = np.unique(bag_ids, return_inverse=True)
    return [X[codes == k] for k in range(ids.size)], ids


def bags_to_long(bags):
    """Concatenate bags into a long table plus the bag index of each row.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.mil import bags_to_long
    >>> X, ids = bags_to_long([np.zeros((2, 3)), np.ones((1, 3))])
    >>> X.shape, ids.tolist()
    ((3, 3), [0, 0, 1])
    """
    if len(bags) == 0:
        raise ValueError("bags is empty: pass a list with at least one 2-D array.")
    arrays = [np.asarray(b, dtype=np.float64) for b in bags]
    for i, b in enumerate(arrays):
        if b.ndim != 2:
            raise ValueError(
                f"bag {i} has {b.ndim} dimension(s); every bag must be a 2-D "
                "array of shape (n_instances, n_features)."
            )
    widths = sorted({b.shape[1] for b in arrays})
    if len(widths) > 1:
        raise ValueError(f"bags have different numbers of features {widths}.")
    X = np.vstack(arrays)
    ids = np.repeat(np.arange(len(arrays)), [len(b) for b in arrays])
    return X, ids
