"""Reject-option curve: accuracy on the rows kept against the share kept."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np


def reject_option_curve(y_true, y_pred, score):
    """Accuracy of the rows kept when the least known-looking ones are rejected.

    Rows are sorted by ``score`` (higher = more trusted); keeping the top
    ``k`` gives coverage ``k / n`` and the accuracy on those ``k`` rows.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    score : array-like of shape (n_samples,)

    Returns
    -------
    coverage, accuracy : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from sktrust.open_set import reject_option_curve
    >>> cov, acc = reject_option_curve([0, 1, 1], [0, 1, 0], [0.9, 0.8, 0.1])
    >>> acc.tolist()
    [1.0, 1.0, 0.6666666666666666]
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    score = np.asarray(score, dtype=float)
    if not (len(y_true) == len(y_pred) == len(score)) or len(score) == 0:
        raise ValueError("y_true, y_pred and score must be non-empty and of equal length.")
    if score.ndim != 1 or not np.all(np.isfinite(score)):
        raise ValueError("score must be a 1-D array of finite values (no NaN or inf).")
    order = np.argsort(-score, kind="stable")
    correct = (y_true[order] == y_pred[order]).astype(float)
    k = np.arange(1, len(score) + 1)
    return k / len(score), np.cumsum(correct) / k
