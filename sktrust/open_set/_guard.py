"""Evaluation-only data: a marker, and a guard that refuses to fit on it (NOVA protocol)."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import sys
import threading

import numpy as np
import sklearn.utils.validation as _sk_validation
from scipy import sparse

from sktrust.exceptions import BenchmarkLeakageError

_ATTR = "sktrust_evaluation_only"
_FIT_METHODS = frozenset(
    {"fit", "partial_fit", "fit_transform", "fit_predict", "fit_resample"}
)
_ACTIVE = []
_LOCK = threading.Lock()
_ORIGINAL = []


class _EvaluationOnlyArray(np.ndarray):
    """An ndarray view whose class is the mark; views, slices and ufuncs keep it."""

    def __reduce__(self):
        return (mark_evaluation_only, (np.asarray(self),))


def mark_evaluation_only(X):
    """Tag data as evaluation-only: no ``fit`` may see it inside a guard.

    Parameters
    ----------
    X : array-like or pandas DataFrame / Series
        The benchmark data. Not modified and, for arrays, not copied.

    Returns
    -------
    X_marked : ndarray view or pandas object
        For arrays, a view of ``X`` of a private ndarray subclass: slices,
        fancy indexing and element-wise operations keep the mark;
        ``np.asarray``, ``np.concatenate`` / ``np.vstack`` and conversion to
        lists drop it. For pandas, a shallow copy with
        ``attrs["sktrust_evaluation_only"] = True`` (pandas carries ``attrs``
        through most operations, not through ``to_numpy``). Whatever drops the
        mark is still caught when the guard was given the data itself (its row
        fingerprints), see :class:`EvaluationOnlyGuard`.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.open_set import is_evaluation_only, mark_evaluation_only
    >>> X = np.zeros((3, 2))
    >>> is_evaluation_only(mark_evaluation_only(X)[1:]), is_evaluation_only(X)
    (True, False)
    """
    if sparse.issparse(X):
        raise TypeError(
            "mark_evaluation_only does not mark sparse matrices; pass the dense data, "
            "or give the data to EvaluationOnlyGuard(X) to refuse its rows."
        )
    if hasattr(X, "attrs") and hasattr(X, "iloc"):
        out = X.copy(deep=False)
        out.attrs = {**X.attrs, _ATTR: True}
        return out
    return np.asarray(X).view(_EvaluationOnlyArray)


def is_evaluation_only(X):
    """Whether ``X`` carries the evaluation-only mark of :func:`mark_evaluation_only`.

    Parameters
    ----------
    X : object

    Returns
    -------
    marked : bool
    """
    if isinstance(X, _EvaluationOnlyArray):
        return True
    attrs = getattr(X, "attrs", None)
    return isinstance(attrs, dict) and bool(attrs.get(_ATTR, False))


def _row_keys(X):
    """Exact fingerprints (float64 bytes) of the rows of numeric dense ``X``, or None."""
    if X is None or sparse.issparse(X):
        return None
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.ndim == 0 or arr.size == 0:
        return None
    arr = np.ascontiguousarray(arr.reshape(len(arr), -1) + 0.0)  # -0.0 -> 0.0
    row = np.dtype((np.void, arr.dtype.itemsize * arr.shape[1]))
    return set(arr.view(row).ravel().tolist())


def _inside_fit(estimator):
    """Whether a caller frame is ``estimator.fit``-like (for ``partial_fit`` after the first)."""
    frame = sys._getframe(2)
    for _ in range(40):
        if frame is None:
            return False
        if frame.f_code.co_name in _FIT_METHODS and frame.f_locals.get("self") is estimator:
            return True
        frame = frame.f_back
    return False


def _guarded_check_feature_names(estimator, X, *, reset):
    if _ACTIVE and (reset or _inside_fit(estimator)):
        for guard in list(_ACTIVE):
            guard.check(X, estimator)
    return _ORIGINAL[0](estimator, X, reset=reset)


class EvaluationOnlyGuard:
    """Context manager under which fitting on evaluation-only data raises.

    The NOVA protocol uses a benchmark for testing only: no training, tuning,
    calibration or threshold selection on it. Inside ``with
    EvaluationOnlyGuard(*datasets):`` every call to ``fit``, ``partial_fit``,
    ``fit_transform``, ... that validates its input with scikit-learn's
    ``validate_data`` raises :class:`~sktrust.exceptions.BenchmarkLeakageError`
    when that input

    - carries the mark of :func:`mark_evaluation_only` (also after slicing,
      e.g. inside a ``Pipeline``, ``cross_val_score`` or ``GridSearchCV``), or
    - shares at least one row, exactly, with one of ``datasets`` (numeric
      dense data only): this catches the mark lost by ``np.asarray`` or by
      stacking benchmark rows under training rows.

    ``predict``, ``score_samples``, ``transform`` and the like stay allowed:
    evaluating on the benchmark is its purpose.

    What is and is not enforced: the guard replaces, while active and for
    the whole process (all threads), the function
    ``sklearn.utils.validation._check_feature_names`` that ``validate_data``
    calls first, with the raw input, at fit time (``reset=True``) and at
    predict time. Every scikit-learn estimator and every sktrust estimator
    validates through it, so they are all covered, meta-estimators included.
    Code that never calls ``validate_data`` (a bare skorch ``NeuralNet``, a
    hand-written torch loop, another library's estimator) is not seen; call
    :meth:`check` on its input yourself. Rows that differ in any bit (e.g.
    rescaled benchmark rows) are not recognised by their fingerprint. Fits
    in *other processes* are not seen either: ``n_jobs > 1`` with joblib's
    default (process-based) backend escapes the guard; inside it, use
    ``n_jobs=None`` or ``joblib.parallel_backend("threading")``.

    Parameters
    ----------
    *datasets : array-like
        Benchmark data whose rows must never be fitted on. May be empty, then
        only marked data is refused.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktrust.exceptions import BenchmarkLeakageError
    >>> from sktrust.open_set import EvaluationOnlyGuard, mark_evaluation_only
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> clf = LogisticRegression().fit(X, y)
    >>> X_bench = mark_evaluation_only(X)
    >>> with EvaluationOnlyGuard():
    ...     _ = clf.predict(X_bench)  # evaluation is allowed
    ...     try:
    ...         LogisticRegression().fit(X_bench, y)
    ...     except BenchmarkLeakageError:
    ...         print("refused")
    refused
    """

    def __init__(self, *datasets):
        self.datasets = datasets
        self._keys = set()
        for data in datasets:
            data_keys = _row_keys(data)
            if data_keys is None:
                raise TypeError(
                    "EvaluationOnlyGuard fingerprints numeric dense data only; mark other "
                    "data with mark_evaluation_only instead."
                )
            self._keys |= data_keys

    def __enter__(self):
        with _LOCK:
            if not _ACTIVE:
                _ORIGINAL[:] = [_sk_validation._check_feature_names]
                _sk_validation._check_feature_names = _guarded_check_feature_names
            _ACTIVE.append(self)
        return self

    def __exit__(self, *exc_info):
        with _LOCK:
            _ACTIVE.remove(self)
            if not _ACTIVE:
                _sk_validation._check_feature_names = _ORIGINAL.pop()
        return False

    def check(self, X, estimator=None):
        """Raise if ``X`` is marked or shares a row with the guarded data.

        Parameters
        ----------
        X : array-like
            Data about to be fitted on.
        estimator : object, default=None
            Named in the error message.

        Raises
        ------
        BenchmarkLeakageError
        """
        who = "" if estimator is None else f" {type(estimator).__name__}"
        advice = (
            " The NOVA protocol forbids training, tuning, calibration and threshold "
            "selection on benchmark data; fit on in-distribution data and only "
            "predict / score the benchmark."
        )
        if is_evaluation_only(X):
            raise BenchmarkLeakageError(
                f"Refusing to fit{who} on data marked evaluation-only." + advice
            )
        if self._keys:
            rows = _row_keys(X)
            shared = len(rows & self._keys) if rows else 0
            if shared:
                raise BenchmarkLeakageError(
                    f"Refusing to fit{who}: {shared} of its rows are rows of the "
                    "evaluation-only data." + advice
                )
