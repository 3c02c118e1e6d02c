"""Run the registered sections; write ``report.html`` and ``report.json``."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import html
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sktrust.report._context import ReportContext
from sktrust.report._render import render_html, to_jsonable
from sktrust.report._sections import SectionResult, get_sections

logger = logging.getLogger(__name__)

MAX_CLASSES = 50
DEFAULT_OUT = "sktrust_report"


class ReportInputError(ValueError):
    """The data given to the report cannot be audited; the message says why."""


def load_csv(path):
    """Read a CSV file, turning every failure into a one-line :class:`ReportInputError`.

    Parameters
    ----------
    path : str or path-like
        CSV file with a header row.

    Returns
    -------
    frame : pandas.DataFrame
    """
    path = Path(path)
    if not path.exists():
        raise ReportInputError(f"file not found: {str(path)!r}")
    if path.is_dir():
        raise ReportInputError(f"{str(path)!r} is a directory, not a CSV file")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ReportInputError(f"CSV {str(path)!r} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise ReportInputError(f"pandas cannot parse {str(path)!r} as CSV: {reason}") from None
    if frame.shape[0] == 0:
        raise ReportInputError(f"CSV {str(path)!r} has a header but no data rows")
    return frame


def load_default_dataset():
    """The embedded medical data set: Wisconsin breast cancer (569 rows, 30 features).

    Returns
    -------
    frame : pandas.DataFrame
        30 numeric features and a last column ``"diagnosis"`` with the labels
        ``"benign"`` and ``"malignant"``.
    """
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.data.copy()
    frame["diagnosis"] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame


def _short_list(names, limit=20):
    names = [str(n) for n in names]
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _encode_target(y, target_name):
    """Label-encode ``y``; drop missing labels; check the number of classes."""
    y = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y))
    y = y.reset_index(drop=True)
    keep = y.notna().to_numpy()
    y = y[keep]
    if len(y) == 0:
        raise ReportInputError(f"target column {target_name!r} has no non-missing value")
    if pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
        classes = np.unique(y.to_numpy())
    else:
        y = y.astype(str)
        classes = np.unique(y.to_numpy())
    if len(classes) < 2:
        raise ReportInputError(
            f"target column {target_name!r} has only one class ({classes[0]!r}); "
            "a classification audit needs at least two"
        )
    if len(classes) > MAX_CLASSES:
        raise ReportInputError(
            f"target column {target_name!r} has {len(classes)} distinct values; "
            f"the report audits classification targets with 2 to {MAX_CLASSES} "
            "classes (choose another column with --target)"
        )
    encoded = np.searchsorted(classes, y.to_numpy())
    counts = np.bincount(encoded, minlength=len(classes))
    if counts.min() < 2:
        lonely = [str(c) for c, k in zip(classes, counts) if k < 2]
        raise ReportInputError(
            f"class(es) {_short_list(lonely, 5)} of target column {target_name!r} "
            "have a single row; cross-validation needs at least two rows per class"
        )
    return encoded, [str(c) for c in classes], keep


def _prepare_features(X):
    """A private copy of ``X`` as a DataFrame with string column names."""
    if isinstance(X, pd.DataFrame):
        X = X.copy()
    else:
        X = pd.DataFrame(np.asarray(X))
    X.columns = [str(c) for c in X.columns]
    duplicated = X.columns[X.columns.duplicated()].unique().tolist()
    if duplicated:
        raise ReportInputError(f"duplicate column names: {_short_list(duplicated)}")
    if X.shape[1] == 0:
        raise ReportInputError("no feature columns besides the target")
    for col in X.columns:
        if pd.api.types.is_bool_dtype(X[col].dtype):
            X[col] = X[col].astype(float)
    return X.reset_index(drop=True)


def audit(
    X,
    y,
    *,
    out=None,
    cv=5,
    shap_rows=200,
    sections=None,
    random_state=0,
    progress=False,
    dataset_name="data",
    target_name=None,
):
    """Audit a classification data set: profile, baselines, calibration, SHAP.

    Runs every registered report section (see :func:`register_section`) on
    ``X`` and ``y`` and returns the results as a JSON-ready dict. With ``out``
    it also writes ``report.json`` and a self-contained ``report.html`` (plots
    embedded as base64 PNG images) to that folder.

    Parameters
    ----------
    X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        Raw features. Strings and missing values are allowed: the baseline
        models impute and one-hot encode them. ``X`` is not modified.
    y : array-like of shape (n_samples,)
        Class labels (numbers or strings, 2 to 50 classes). Rows with a
        missing label are dropped and counted in the data profile.
    out : str or path-like, default=None
        Folder to write ``report.html`` and ``report.json`` into (created if
        needed). ``None`` writes nothing.
    cv : int, default=5
        Number of stratified cross-validation folds (capped by the size of
        the smallest class).
    shap_rows : int, default=200
        Number of randomly chosen rows SHAP explains.
    sections : list of str, default=None
        Keys of the sections to run (see :func:`list_sections`); ``None``
        runs all of them.
    random_state : int, default=0
        Seed for the folds, XGBoost and the SHAP subsample; the same seed
        gives the same report.
    progress : bool, default=False
        Show a tqdm progress bar on stderr, one step per section.
    dataset_name : str, default="data"
        Name shown in the report.
    target_name : str, default=None
        Name of the target; defaults to ``y.name`` for a Series, else
        ``"target"``.

    Returns
    -------
    report : dict
        ``report["meta"]`` describes the run; every section's results sit
        under its key (``"data_profile"``, ``"models"``, ``"calibration"``,
        ``"shap_importance"``, ...).

    Raises
    ------
    ReportInputError
        If the target has fewer than 2 or more than 50 classes, a class has a
        single row, or ``X`` and ``y`` do not match.

    See Also
    --------
    generate_report : The same audit, starting from a CSV file or DataFrame.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sktrust.report import audit
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> report = audit(X, y, cv=3, sections=["data_profile"], out=tempfile.mkdtemp())
    >>> report["data_profile"]["n_rows"], report["data_profile"]["n_classes"]
    (150, 3)
    """
    if target_name is None:
        target_name = str(getattr(y, "name", None) or "target")
    if not isinstance(cv, int | np.integer) or cv < 2:
        raise ValueError(f"cv must be an integer >= 2, got {cv!r}")
    if not isinstance(shap_rows, int | np.integer) or shap_rows < 1:
        raise ValueError(f"shap_rows must be a positive integer, got {shap_rows!r}")
    try:
        selected = get_sections(sections)
    except ValueError as exc:
        raise ReportInputError(str(exc)) from None
    X = _prepare_features(X)
    if len(X) != len(y):
        raise ReportInputError(f"X has {len(X)} rows but y has {len(y)}; they must match")
    y_encoded, classes, keep = _encode_target(y, target_name)
    n_dropped = int((~keep).sum())
    if n_dropped:
        logger.warning("dropped %d rows with a missing target", n_dropped)
        X = X[keep].reset_index(drop=True)
    context = ReportContext(
        X=X,
        y=y_encoded,
        classes=classes,
        target_name=target_name,
        dataset_name=str(dataset_name),
        cv=int(cv),
        shap_rows=int(shap_rows),
        random_state=random_state,
        n_dropped_missing_target=n_dropped,
    )
    results, timings = _run_sections(context, selected, progress)
    import sktrust

    report = {
        "meta": {
            "dataset": context.dataset_name,
            "target": target_name,
            "n_rows": len(X),
            "n_features": X.shape[1],
            "classes": classes,
            "cv": int(cv),
            "n_splits": context.n_splits,
            "shap_rows": int(shap_rows),
            "random_state": random_state,
            "sections": [key for key, _ in results],
            "section_seconds": timings,
            "sktrust_version": sktrust.__version__,
        }
    }
    for key, result in results:
        report[key] = to_jsonable(result.data)
    report = to_jsonable(report)
    if out is not None:
        _write(out, report, results)
    return report


def _run_sections(context, selected, progress):
    from tqdm.auto import tqdm

    results, timings = [], {}
    with tqdm(
        total=len(selected),
        desc="sktrust report",
        unit="section",
        file=sys.stderr,
        disable=not progress,
    ) as bar:
        for key, func in selected:
            bar.set_postfix_str(key)
            start = time.perf_counter()
            try:
                result = func(context)
                if not isinstance(result, SectionResult):
                    raise TypeError(
                        f"section {key!r} returned {type(result).__name__}, expected SectionResult"
                    )
            except ReportInputError:
                raise
            except Exception as exc:  # a broken section must not sink the report
                logger.warning("section %r failed: %r", key, exc)
                result = SectionResult(
                    title=key.replace("_", " ").capitalize(),
                    html=f"<p class='note'>This section failed: {type(exc).__name__}"
                    f": {html.escape(str(exc))}</p>",
                    data={"error": f"{type(exc).__name__}: {exc}"},
                )
            timings[key] = round(time.perf_counter() - start, 3)
            results.append((key, result))
            bar.update(1)
    return results, timings


def _write(out, report, results):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = report["meta"]
    title = f"Trust report: {meta['dataset']} (target {meta['target']!r})"
    shown_meta = {
        "data set": meta["dataset"],
        "target": meta["target"],
        "rows": meta["n_rows"],
        "features": meta["n_features"],
        "classes": ", ".join(meta["classes"][:10]) + (" ..." if len(meta["classes"]) > 10 else ""),
        "cross-validation folds": meta["n_splits"],
        "random_state": meta["random_state"],
        "sktrust version": meta["sktrust_version"],
    }
    (out / "report.html").write_text(render_html(title, shown_meta, results), encoding="utf-8")
    (out / "report.json").write_text(
        json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    logger.info("report written to %s", out)


def generate_report(
    data=None,
    target=None,
    *,
    out=DEFAULT_OUT,
    cv=5,
    shap_rows=200,
    sections=None,
    random_state=0,
    progress=False,
):
    """Audit a CSV file or DataFrame and write ``report.html`` and ``report.json``.

    This is what ``sktrust report`` runs.

    Parameters
    ----------
    data : str, path-like, pandas.DataFrame or None, default=None
        A CSV file with a header row, or a DataFrame holding features and
        target. ``None`` audits the embedded breast cancer data set (target
        ``"diagnosis"``). The DataFrame is not modified.
    target : str, default=None
        Name of the target column; ``None`` takes the last column.
    out : str or path-like or None, default="sktrust_report"
        Output folder; ``None`` writes nothing.
    cv, shap_rows, sections, random_state, progress
        As in :func:`audit`.

    Returns
    -------
    report : dict
        The contents of ``report.json``.

    Raises
    ------
    ReportInputError
        For a missing, empty or unparseable file, an unknown target column, or
        a target :func:`audit` cannot use. The message is one line.

    Examples
    --------
    >>> import tempfile
    >>> from sktrust.report import generate_report
    >>> report = generate_report(out=tempfile.mkdtemp(), sections=["data_profile"])
    >>> report["meta"]["target"], report["data_profile"]["n_features"]
    ('diagnosis', 30)
    """
    if data is None:
        frame, name = load_default_dataset(), "breast cancer (Wisconsin)"
    elif isinstance(data, pd.DataFrame):
        frame, name = data, "DataFrame"
    else:
        frame, name = load_csv(data), Path(data).name
    if frame.shape[1] == 0:
        raise ReportInputError("the data has no columns")
    columns = [str(c) for c in frame.columns]
    if target is None:
        target = columns[-1]
    if str(target) not in columns:
        raise ReportInputError(
            f"target column {str(target)!r} not in CSV; columns are {_short_list(columns)}"
        )
    position = columns.index(str(target))
    if frame.shape[1] < 2:
        raise ReportInputError(
            f"the data has only the target column {str(target)!r}; "
            "at least one feature column is needed"
        )
    X = frame.drop(columns=frame.columns[position])
    y = frame.iloc[:, position]
    return audit(
        X,
        y,
        out=out,
        cv=cv,
        shap_rows=shap_rows,
        sections=sections,
        random_state=random_state,
        progress=progress,
        dataset_name=name,
        target_name=str(target),
    )
