"""Reading raw tables: which text columns hold numbers."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

# Cells read as missing in a text column (the UCI files use "?").
MISSING_TOKENS = ("?", "", "nan", "NaN", "NA")


def numeric_text_columns(X, *, missing_tokens=MISSING_TOKENS, min_share=0.9):
    """Mask of the text columns that hold numbers apart from missing tokens.

    A CSV column of numbers with ``?`` for missing values loads as text. Such
    a column should be read as numbers, not as one category per value. A
    column counts when at least ``min_share`` of its non-missing cells parse
    as numbers; numeric and boolean columns are never flagged (they are
    numbers already).

    Parameters
    ----------
    X : pandas.DataFrame
    missing_tokens : tuple of str, default=("?", "", "nan", "NaN", "NA")
        Cell texts (after stripping spaces) read as missing.
    min_share : float, default=0.9
        Share of the non-missing cells that must parse as numbers.

    Returns
    -------
    mask : ndarray of bool of shape (n_columns,)

    Examples
    --------
    >>> import pandas as pd
    >>> from sktrust.utils import numeric_text_columns
    >>> X = pd.DataFrame({"age": ["61", "?", "47"], "sex": ["m", "f", "?"],
    ...                   "bp": [80.0, 90.0, 70.0]})
    >>> numeric_text_columns(X).tolist()
    [True, False, False]
    """
    import pandas as pd

    out = np.zeros(X.shape[1], dtype=bool)
    for j in range(X.shape[1]):
        col = X.iloc[:, j]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            continue
        present = col.notna() & ~col.astype(str).str.strip().isin(missing_tokens)
        as_num = pd.to_numeric(col[present], errors="coerce")
        out[j] = bool(present.any()) and as_num.notna().mean() >= min_share
    return out
