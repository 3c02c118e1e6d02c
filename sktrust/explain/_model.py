"""Resolve the model an explainer explains: fitted as given, or fitted on the background."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted


def resolve_model(estimator, default, X, y, owner):
    """Return a fitted model: ``estimator`` if fitted, else a clone fitted on ``(X, y)``.

    ``None`` means ``default`` (an unfitted estimator). A ``FrozenEstimator``
    is unwrapped; a fitted model is used as is and never modified.
    """
    est = default if estimator is None else estimator
    if isinstance(est, FrozenEstimator):
        est = est.estimator
    try:
        check_is_fitted(est)
        return est
    except Exception:
        if y is None:
            raise ValueError(
                f"{owner}.fit got y=None but the estimator is not fitted: pass a "
                "fitted estimator, or y to fit it."
            ) from None
        return clone(est).fit(X, y)


def model_input(model, X):
    """Rows ``X`` (a validated array) as ``model`` was fitted: a DataFrame with its
    column names when it was fitted on one (so sklearn does not warn that ``X``
    has no feature names), else ``X`` itself."""
    names = getattr(model, "feature_names_in_", None)
    if names is None or hasattr(X, "columns") or np.ndim(X) != 2 or X.shape[1] != len(names):
        return X
    import pandas as pd

    return pd.DataFrame(X, columns=names, copy=False)
