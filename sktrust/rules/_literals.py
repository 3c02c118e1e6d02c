"""Literals of FOLD rules: raw-column encoding, heuristics and the prefix-sum search.

A literal is ``(feature, op, value)`` with ``op`` one of ``"<="``, ``">"``
(numeric values), ``"=="``, ``"!="`` (categorical tokens) and, only in the
tidied display form, ``"not <="`` / ``"not >"``. Semantics follow FOLD-R++
(Wang & Gupta, 2022, Table 1): a numeric comparison against a categorical
token is False, ``==`` across types is False, ``!=`` across types is True.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd

NUMERIC_OPS = ("<=", ">")
TOKEN_OPS = ("==", "!=")


# --------------------------------------------------------------------------- #
# Heuristics: scores of a literal from its confusion counts
# --------------------------------------------------------------------------- #


def _plogp(a, total):
    """``a * ln(a / total)`` with 0 where ``a == 0``."""
    a = np.asarray(a, dtype=float)
    total = np.asarray(total, dtype=float)
    safe = np.where(a > 0, a, 1.0) / np.where(total > 0, total, 1.0)
    return np.where(a > 0, a * np.log(safe), 0.0)


def info_gain(tp, fn, tn, fp):
    """FOLD-R++ information-gain heuristic of a literal (natural log).

    ``IG = [F(tp, fp) + F(fp, tp) + F(tn, fn) + F(fn, tn)] / N`` with
    ``F(a, b) = a ln(a / (a + b))`` and ``F = 0`` when ``a = 0``; ``-inf``
    when the literal misclassifies more rows than it gets right
    (``tp + tn < fp + fn``). Accepts scalars or arrays.

    Examples
    --------
    >>> from sktrust.rules._literals import info_gain
    >>> round(float(info_gain(4, 4, 4, 1)), 3)
    -0.619
    """
    tp, fn, tn, fp = (np.asarray(v, dtype=float) for v in (tp, fn, tn, fp))
    tot_p, tot_n = tp + fp, tn + fn
    tot = np.where(tot_p + tot_n > 0, tot_p + tot_n, 1.0)
    # Same summation order as the reference implementation, so that exact
    # ties between literals stay exact ties.
    score = 0.0
    score = score + _plogp(tp, tot_p) / tot
    score = score + _plogp(fp, tot_p) / tot
    score = score + _plogp(tn, tot_n) / tot
    score = score + _plogp(fn, tot_n) / tot
    return np.where(tp + tn < fp + fn, -np.inf, score)


def gini_score(tp, fn, tn, fp):
    """FOLD-SE's Gini-impurity score of a literal (higher is better).

    ``-[2 tp fp / (tp + fp) + 2 tn fn / (tn + fn)] / N`` (an empty side
    contributes 0), with the same ``-inf`` guard as :func:`info_gain`. The
    exact "magic" modification of the closed FOLD-SE code is not public; this
    is the weighted Gini impurity of the split the literal makes.

    Examples
    --------
    >>> from sktrust.rules._literals import gini_score
    >>> round(float(gini_score(4, 4, 4, 1)), 4)
    -0.4308
    """
    tp, fn, tn, fp = (np.asarray(v, dtype=float) for v in (tp, fn, tn, fp))
    tot_p, tot_n = tp + fp, tn + fn
    tot = np.where(tot_p + tot_n > 0, tot_p + tot_n, 1.0)
    left = np.where(tot_p > 0, 2.0 * tp * fp / np.where(tot_p > 0, tot_p, 1.0), 0.0)
    right = np.where(tot_n > 0, 2.0 * tn * fn / np.where(tot_n > 0, tot_n, 1.0), 0.0)
    return np.where(tp + tn < fp + fn, -np.inf, -(left + right) / tot)


HEURISTICS = {"info_gain": info_gain, "gini": gini_score}


# --------------------------------------------------------------------------- #
# Raw columns -> numbers and tokens
# --------------------------------------------------------------------------- #


def _is_missing(values, missing_token):
    values = np.asarray(values, dtype=object)
    missing = np.asarray(pd.isna(values), dtype=bool)
    # Compare only the present values: ``pd.NA == ""`` has no truth value.
    present = ~missing
    missing[present] = np.isin(values[present], ["", missing_token])
    return missing


def _to_token(value):
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def column_is_categorical(column):
    """Whether the "auto" rule treats a raw column as categorical.

    Numeric dtypes are numeric; bool, category and string dtypes are
    categorical; an object column is numeric when it holds at least one real
    number (its strings then become tokens), categorical when it holds only
    strings and other objects.
    """
    if isinstance(column, pd.Series):
        dtype = column.dtype
        if pd.api.types.is_bool_dtype(dtype):
            return True
        if pd.api.types.is_numeric_dtype(dtype):
            return False
        if not pd.api.types.is_object_dtype(dtype):
            return True
        values = column.to_numpy(dtype=object)
    else:
        values = np.asarray(column)
        if values.dtype.kind == "b":
            return True
        if values.dtype.kind in "iuf":
            return False
        if values.dtype.kind != "O":
            return True
    for v in values:
        if isinstance(v, (bool, np.bool_)):
            continue
        if isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v):
            return False
    return True


def encode_column(column, categorical, missing_token):
    """Split a raw column into numeric values and categorical tokens.

    Returns
    -------
    numbers : ndarray of float
        The value where it is a number, NaN elsewhere.
    tokens : ndarray of object
        The token string where the value is not a number (missing values are
        ``missing_token``), None where it is a number.
    """
    if isinstance(column, pd.Series):
        values = column.to_numpy(dtype=object)
    else:
        values = np.asarray(column, dtype=object)
    missing = _is_missing(values, missing_token)
    n = len(values)
    tokens = np.full(n, None, dtype=object)
    numbers = np.full(n, np.nan)
    if categorical:
        present = ~missing
        tokens[present] = [_to_token(v) for v in values[present]]
    else:
        parsed = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
        is_bool = np.array([isinstance(v, (bool, np.bool_)) for v in values], dtype=bool)
        is_number = ~missing & ~np.isnan(parsed) & ~is_bool
        numbers[is_number] = parsed[is_number]
        other = ~missing & ~is_number
        tokens[other] = [_to_token(v) for v in values[other]]
    tokens[missing] = missing_token
    return numbers, tokens


def encode_table(X, categorical_mask, missing_token):
    """Encode every column; ``X`` is a DataFrame or a 2-D array."""
    n_features = len(categorical_mask)
    columns = (
        [X.iloc[:, j] for j in range(n_features)]
        if isinstance(X, pd.DataFrame)
        else [X[:, j] for j in range(n_features)]
    )
    numbers = np.empty((X.shape[0], n_features))
    tokens = np.empty((X.shape[0], n_features), dtype=object)
    for j, col in enumerate(columns):
        numbers[:, j], tokens[:, j] = encode_column(col, categorical_mask[j], missing_token)
    return numbers, tokens


# --------------------------------------------------------------------------- #
# Literal evaluation
# --------------------------------------------------------------------------- #


def literal_mask(numbers, tokens, literal, rows=None):
    """Whether ``literal`` holds on each row (of ``rows`` when given)."""
    feature, op, value = literal
    if op.startswith("not "):
        return ~literal_mask(numbers, tokens, (feature, op[4:], value), rows)
    if op in NUMERIC_OPS:
        col = numbers[:, feature] if rows is None else numbers[rows, feature]
        with np.errstate(invalid="ignore"):
            return col <= value if op == "<=" else col > value
    col = tokens[:, feature] if rows is None else tokens[rows, feature]
    equal = col == value
    return equal if op == "==" else ~equal


# --------------------------------------------------------------------------- #
# The literal search
# --------------------------------------------------------------------------- #


class LiteralSearch:
    """Best-literal search over a fixed training table, with prefix sums.

    Every distinct (feature, value) pair of the training data gets a global
    value id; ids are laid out feature by feature, numeric values ascending
    then tokens in sorted order, and each id carries two candidate literals
    (``<=``/``>`` or ``==``/``!=``). For a subset of positive and negative
    rows, one ``bincount`` per class gives the count of every value, a
    cumulative sum per feature gives ``pos[v]``/``neg[v]`` (rows ``<= v``),
    and the confusion counts of all literals follow in closed form. The first
    candidate with the best score wins, which is the order the reference
    FOLD-R++ code scans features and values in.

    Parameters
    ----------
    numbers, tokens : ndarray of shape (n_samples, n_features)
        Output of :func:`encode_table` on the training data.
    heuristic : callable
        ``heuristic(tp, fn, tn, fp) -> score``, vectorised.
    """

    def __init__(self, numbers, tokens, heuristic):
        n, n_features = numbers.shape
        self.numbers, self.tokens, self.heuristic = numbers, tokens, heuristic
        vid = np.empty((n, n_features), dtype=np.int64)
        feat, is_num, value = [], [], []
        start = 0
        for j in range(n_features):
            col = numbers[:, j]
            num_rows = ~np.isnan(col)
            num_values, num_inv = np.unique(col[num_rows], return_inverse=True)
            tok_values, tok_inv = np.unique(tokens[~num_rows, j].astype(str), return_inverse=True)
            vid[num_rows, j] = start + num_inv
            vid[~num_rows, j] = start + len(num_values) + tok_inv
            k = len(num_values) + len(tok_values)
            feat.extend([j] * k)
            is_num.extend([True] * len(num_values) + [False] * len(tok_values))
            value.extend([float(v) for v in num_values] + [str(t) for t in tok_values])
            start += k
        self.vid = vid
        self.n_values = start
        self.feature = np.asarray(feat, dtype=np.int64)
        self.is_numeric = np.asarray(is_num, dtype=bool)
        self.value = value
        # Start of each feature's block, for per-feature cumulative sums.
        block_start = np.zeros(n_features, dtype=np.int64)
        if start:
            first = np.r_[True, self.feature[1:] != self.feature[:-1]]
            block_start[self.feature[first]] = np.flatnonzero(first)
        self._block_start = block_start

    def _counts(self, rows):
        if len(rows) == 0:
            return np.zeros(self.n_values)
        return np.bincount(self.vid[rows].ravel(), minlength=self.n_values).astype(float)

    def _below(self, counts):
        """Per value id: count of rows of the same feature with numeric value <= it."""
        numeric = np.where(self.is_numeric, counts, 0.0)
        cum = np.cumsum(numeric)
        before = np.r_[0.0, cum][self._block_start[self.feature]]
        return cum - before

    def literal_of(self, value_id, second):
        """The literal for candidate ``(value_id, second)``."""
        ops = NUMERIC_OPS if self.is_numeric[value_id] else TOKEN_OPS
        return (int(self.feature[value_id]), ops[int(second)], self.value[value_id])

    def scores(self, pos_rows, neg_rows, used):
        """Scores of all ``2 * n_values`` candidates (``-inf`` where not allowed).

        Candidate ``2 * v`` is ``<=``/``==`` on value id ``v`` and ``2 * v + 1``
        is ``>``/``!=``; ``used`` is a boolean mask over value ids.
        """
        pc, nc = self._counts(pos_rows), self._counts(neg_rows)
        n_pos, n_neg = float(len(pos_rows)), float(len(neg_rows))
        pos_le, neg_le = self._below(pc), self._below(nc)
        # Rows with a numeric value in the feature: the count below its last id.
        last = np.r_[self._block_start[1:], self.n_values] - 1
        feat_last = last[self.feature]
        xp, xn = pos_le[feat_last], neg_le[feat_last]
        num = self.is_numeric
        # First candidate: "<= v" (numeric) or "== c" (token).
        tp1 = np.where(num, pos_le, pc)
        fp1 = np.where(num, neg_le, nc)
        # Second candidate: "> v" (numeric) or "!= c" (token).
        tp2 = np.where(num, xp - pos_le, n_pos - pc)
        fp2 = np.where(num, xn - neg_le, n_neg - nc)
        tp = np.column_stack([tp1, tp2]).ravel()
        fp = np.column_stack([fp1, fp2]).ravel()
        score = self.heuristic(tp, n_pos - tp, n_neg - fp, fp)
        allowed = ((pc + nc) > 0) & ~used
        return np.where(np.repeat(allowed, 2), score, -np.inf)

    def best(self, pos_rows, neg_rows, used):
        """Best literal on the subset as ``(literal, value_id, score)``, or None."""
        if self.n_values == 0 or len(pos_rows) + len(neg_rows) == 0:
            return None
        score = self.scores(pos_rows, neg_rows, used)
        k = int(np.argmax(score))
        if not np.isfinite(score[k]):
            return None
        return self.literal_of(k // 2, k % 2), k // 2, float(score[k])
