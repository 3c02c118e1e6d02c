"""Input checks shared by every family."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

_MAX_SEED = np.iinfo(np.int32).max


def check_non_empty(X, name="X"):
    """Raise ``ValueError`` when ``X`` has no rows.

    Parameters
    ----------
    X : array-like
        Data whose first dimension is checked.
    name : str, default="X"
        Name used in the message.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.utils import check_non_empty
    >>> check_non_empty(np.zeros((2, 3)))
    """
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    if n == 0:
        raise ValueError(f"{name} is empty: it must contain at least one row.")


def check_classification_targets_known(y, classes, name="y"):
    """Raise ``ValueError`` when ``y`` holds labels outside ``classes``.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.utils import check_classification_targets_known
    >>> check_classification_targets_known(np.array([0, 1]), np.array([0, 1, 2]))
    """
    y = np.asarray(y)
    unknown = np.setdiff1d(np.unique(y), np.asarray(classes))
    if unknown.size:
        raise ValueError(
            f"{name} contains labels {unknown.tolist()[:10]} that were not seen in "
            f"fit; known classes are {np.asarray(classes).tolist()[:20]}."
        )


def encode_classification_target(estimator, y):
    """Set ``estimator.classes_`` from ``y`` and return ``y`` as class indices.

    Checks that ``y`` is a classification target with at least two classes and
    raises a ``ValueError`` naming the estimator otherwise. Every sktrust
    classifier that encodes its labels goes through this one helper.

    Parameters
    ----------
    estimator : estimator
        Receives ``classes_`` (sorted unique labels).
    y : array-like of shape (n_samples,)

    Returns
    -------
    codes : ndarray of shape (n_samples,), dtype=int64
        Index of each label in ``classes_``.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> from sktrust.utils import encode_classification_target
    >>> est = BaseEstimator()
    >>> encode_classification_target(est, ["b", "a", "b"]).tolist()
    [1, 0, 1]
    >>> est.classes_.tolist()
    ['a', 'b']
    """
    from sklearn.utils.multiclass import check_classification_targets

    y = np.asarray(y)
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        found = f" ({classes[0]!r})" if classes.size else ""
        raise ValueError(
            f"y has only one class{found}; {type(estimator).__name__} needs at least "
            "2 classes."
        )
    estimator.classes_ = classes
    return codes.astype(np.int64)


def check_hidden_layer_sizes(estimator):
    """Return ``estimator.hidden_layer_sizes`` as a tuple of positive ints.

    Raises a ``ValueError`` naming the parameter when a width is zero,
    negative, not an integer (``True`` included) or when the value is not a
    sequence; an empty tuple (no hidden layer) is allowed.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from sktrust.utils import check_hidden_layer_sizes
    >>> check_hidden_layer_sizes(SimpleNamespace(hidden_layer_sizes=[32, 16]))
    (32, 16)
    """
    sizes = estimator.hidden_layer_sizes
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if sizes is None or any(
            isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in sizes):
        raise ValueError(
            "hidden_layer_sizes must hold positive ints (layer widths); got "
            f"{estimator.hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


def check_random_state_seed(random_state):
    """Turn ``random_state`` into one integer seed (for torch and sub-tasks).

    ``None`` draws a fresh seed from numpy's global generator, an int is used
    as is, a ``RandomState`` draws one.

    Examples
    --------
    >>> from sktrust.utils import check_random_state_seed
    >>> check_random_state_seed(3)
    3
    """
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    return int(check_random_state(random_state).randint(_MAX_SEED))
