"""The one registry of report sections, and the built-in sections.

A section is a function ``section(context) -> SectionResult``. It reads the
shared :class:`~sktrust.report.ReportContext` (raw features, encoded target,
cached baseline models and cross-validated probabilities) and returns a title,
an HTML fragment and a JSON-serialisable dict. Registering it with
:func:`register_section` is all it takes to appear in every report, in the
HTML page, in ``report.json`` (under the section's key) and as one step of the
progress bar.

Adding a section for a method family
------------------------------------
Write the function next to the registry, decorate it, done::

    @register_section("uncertainty", order=35)
    def uncertainty_section(context):
        proba = context.cross_validation()["xgboost"]["oof_proba"]
        entropy = -(proba * np.log(np.clip(proba, 1e-12, 1))).sum(axis=1)
        return SectionResult(
            title="Uncertainty",
            html=f"<p>Mean predictive entropy: {entropy.mean():.3f}</p>",
            data={"mean_entropy": float(entropy.mean())},
        )

``order`` places it among the built-ins (10 data profile, 20 baseline
models, 30 calibration, 40 SHAP importance); leave it out to append at the
end. A family whose section lives in its own package (for example
``sktrust/rules/_report.py``) decorates it there and adds that module's name
to ``SECTION_MODULES`` below, so the report imports it; a module whose import
fails (an optional dependency missing) is skipped with a logged warning.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import html
import importlib
import logging
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import log_loss

from sktrust.report._context import MODEL_NAMES, numeric_and_categorical_columns
from sktrust.report._render import figure_to_html, new_figure, table_to_html

logger = logging.getLogger(__name__)

# Modules outside sktrust.report that register sections of their own.
SECTION_MODULES = ["sktrust.rules._report", "sktrust.open_set._report",
                   "sktrust.unlearning._report", "sktrust.noisy_labels._report",
                   "sktrust.explain._report"]

_RESERVED_KEYS = {"meta"}

_MODEL_TITLES = {
    "logistic_regression": "Logistic regression",
    "xgboost": "XGBoost",
}


@dataclass(frozen=True)
class SectionResult:
    """What a section returns.

    Parameters
    ----------
    title : str
        Heading shown in the HTML page and in the table of contents.
    html : str
        HTML fragment (already escaped where it shows data). Figures go in as
        ``<img>`` tags from :func:`~sktrust.report.figure_to_html`.
    data : dict
        JSON-serialisable results, stored in ``report.json`` under the
        section's key. numpy scalars and arrays are converted on writing.
    """

    title: str
    html: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Section:
    key: str
    func: object
    order: float


_REGISTRY = {}


def register_section(key, *, order=None):
    """Decorator that adds a section to every report.

    Parameters
    ----------
    key : str
        Unique name of the section; also its key in ``report.json`` and its
        HTML anchor. ``"meta"`` is reserved.
    order : float, default=None
        Position among the sections (smaller comes first). Built-ins use 10,
        20, 30 and 40. ``None`` appends after every registered section.

    Returns
    -------
    decorator : callable
        Registers ``func(context) -> SectionResult`` and returns it unchanged.

    Examples
    --------
    >>> from sktrust.report import SectionResult, register_section
    >>> from sktrust.report import list_sections, unregister_section
    >>> @register_section("row_count", order=5)
    ... def row_count(context):
    ...     n = len(context.X)
    ...     return SectionResult("Rows", f"<p>{n} rows</p>", {"n_rows": n})
    >>> list_sections()[0]
    'row_count'
    >>> unregister_section("row_count")
    """
    if not isinstance(key, str) or not key.isidentifier():
        raise ValueError(f"section key must be a Python identifier, got {key!r}")
    if key in _RESERVED_KEYS:
        raise ValueError(f"section key {key!r} is reserved")

    def decorator(func):
        if key in _REGISTRY:
            raise ValueError(
                f"a section named {key!r} is already registered; "
                "call unregister_section first to replace it"
            )
        position = order
        if position is None:
            position = max((s.order for s in _REGISTRY.values()), default=0) + 10
        _REGISTRY[key] = _Section(key, func, float(position))
        return func

    return decorator


def unregister_section(key):
    """Remove a registered section.

    Parameters
    ----------
    key : str
        Name given to :func:`register_section`.
    """
    if key not in _REGISTRY:
        raise KeyError(f"no section named {key!r}; registered: {list_sections()}")
    del _REGISTRY[key]


def _import_section_modules():
    for name in SECTION_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            logger.warning("report sections in %s skipped: %s", name, exc)


def list_sections():
    """Keys of the registered sections, in report order.

    Returns
    -------
    keys : list of str

    Examples
    --------
    >>> from sktrust.report import list_sections
    >>> list_sections()[:3]
    ['data_profile', 'models', 'calibration']
    """
    _import_section_modules()
    return [s.key for s in sorted(_REGISTRY.values(), key=lambda s: s.order)]


def get_sections(keys=None):
    """``(key, func)`` pairs to run, in report order.

    Parameters
    ----------
    keys : list of str, default=None
        Subset of section keys; ``None`` means all.
    """
    ordered = list_sections()
    if keys is None:
        keys = ordered
    unknown = [k for k in keys if k not in _REGISTRY]
    if unknown:
        raise ValueError(f"unknown section(s) {unknown}; available: {ordered}")
    return [(k, _REGISTRY[k].func) for k in ordered if k in set(keys)]


# --------------------------------------------------------------------------- #
# Built-in sections
# --------------------------------------------------------------------------- #


@register_section("data_profile", order=10)
def data_profile_section(context):
    """Rows, column types, missing values and class balance."""
    X = context.X
    numeric, categorical = numeric_and_categorical_columns(X)
    kinds = {c: ("numeric" if c in numeric else "categorical") for c in X.columns}
    missing = X.isna().sum()
    counts = np.bincount(context.y, minlength=context.n_classes)
    n = len(X)
    columns = {
        str(c): {
            "type": kinds[c],
            "dtype": str(X[c].dtype),
            "n_missing": int(missing[c]),
            "missing_fraction": float(missing[c] / n),
            "n_unique": int(X[c].nunique(dropna=True)),
        }
        for c in X.columns
    }
    balance = {
        str(label): {"count": int(k), "fraction": float(k / n)}
        for label, k in zip(context.classes, counts)
    }
    data = {
        "n_rows": n,
        "n_features": X.shape[1],
        "n_numeric": len(numeric),
        "n_categorical": len(categorical),
        "n_missing_cells": int(missing.sum()),
        "n_rows_with_missing": int(X.isna().any(axis=1).sum()),
        "n_duplicate_rows": int(X.duplicated().sum()),
        "n_dropped_missing_target": int(context.n_dropped_missing_target),
        "target": str(context.target_name),
        "n_classes": context.n_classes,
        "imbalance_ratio": float(counts.max() / counts.min()),
        "class_balance": balance,
        "columns": columns,
    }

    fig, ax = new_figure((6, 0.5 + 0.3 * min(context.n_classes, 50)))
    ax.barh([str(c) for c in context.classes], counts, color="#4c72b0")
    ax.invert_yaxis()
    ax.set_xlabel("rows")
    ax.set_title(f"Class balance of {context.target_name!s}")

    summary = table_to_html(
        [
            ("rows", n),
            ("features", X.shape[1]),
            ("numeric / categorical", f"{len(numeric)} / {len(categorical)}"),
            ("missing cells", data["n_missing_cells"]),
            ("rows with a missing value", data["n_rows_with_missing"]),
            ("duplicate rows", data["n_duplicate_rows"]),
            ("rows dropped (target missing)", data["n_dropped_missing_target"]),
            ("classes", context.n_classes),
            ("imbalance ratio (largest / smallest)", data["imbalance_ratio"]),
        ],
        ["", ""],
    )
    col_table = table_to_html(
        [(c, v["type"], v["dtype"], v["n_missing"], v["n_unique"]) for c, v in columns.items()],
        ["column", "type", "dtype", "missing", "distinct values"],
    )
    bal_table = table_to_html(
        [(k, v["count"], v["fraction"]) for k, v in balance.items()],
        ["class", "rows", "fraction"],
    )
    page = (
        f"{summary}<h3>Class balance</h3>{bal_table}"
        f"{figure_to_html(fig, 'class balance bar chart')}"
        f"<h3>Columns</h3>{col_table}"
    )
    return SectionResult("Data profile", page, data)


def _describe_model(name):
    if name == "logistic_regression":
        return (
            "median imputation, one-hot encoding of categorical columns, "
            "standard scaling, logistic regression"
        )
    return (
        "one-hot encoding of categorical columns, gradient-boosted trees "
        "(missing numbers handled natively)"
    )


@register_section("models", order=20)
def models_section(context):
    """Cross-validated scores of the two baseline models."""
    cv = context.cross_validation()
    best = context.best_model_name()
    data = {"n_splits": context.n_splits, "best_model": best, "results": {}}
    rows = []
    for name in MODEL_NAMES:
        folds = cv[name]["folds"]
        entry = {"pipeline": _describe_model(name), "folds": folds}
        for metric in ("accuracy", "balanced_accuracy", "roc_auc"):
            values = [f[metric] for f in folds if f[metric] is not None]
            entry[f"{metric}_mean"] = float(np.mean(values)) if values else None
            entry[f"{metric}_std"] = float(np.std(values)) if values else None
        data["results"][name] = entry
        rows.append(
            (
                _MODEL_TITLES[name] + (" (best)" if name == best else ""),
                _mean_std(entry, "accuracy"),
                _mean_std(entry, "balanced_accuracy"),
                _mean_std(entry, "roc_auc"),
            )
        )
    page = (
        f"<p>Stratified {context.n_splits}-fold cross-validation "
        f"(shuffled, random_state={context.random_state}). The best model, by "
        "mean balanced accuracy, is used for the SHAP section.</p>"
        + table_to_html(rows, ["model", "accuracy", "balanced accuracy", "ROC AUC (one-vs-rest)"])
        + "<ul>"
        + "".join(
            f"<li><b>{_MODEL_TITLES[n]}</b>: {html.escape(_describe_model(n))}</li>"
            for n in MODEL_NAMES
        )
        + "</ul>"
    )
    return SectionResult("Baseline models", page, data)


def _mean_std(entry, metric):
    mean, std = entry[f"{metric}_mean"], entry[f"{metric}_std"]
    return "n/a" if mean is None else f"{mean:.3f} ± {std:.3f}"


@register_section("calibration", order=30)
def calibration_section(context):
    """ECE and reliability diagrams from out-of-fold probabilities."""
    from sktrust.metrics import ReliabilityDisplay, expected_calibration_error

    cv = context.cross_validation()
    n_bins = 10 if len(context.y) < 1000 else 15
    labels = np.arange(context.n_classes)
    data = {"n_bins": n_bins, "strategy": "uniform", "results": {}}
    fig, axes = new_figure((10, 4.6), ncols=len(MODEL_NAMES))
    rows = []
    for name, ax in zip(MODEL_NAMES, axes):
        proba = cv[name]["oof_proba"]
        # Top-label calibration: the confidence of the predicted class, for
        # two classes as for many.
        ece = float(expected_calibration_error(context.y, proba, n_bins=n_bins, labels=labels))
        onehot = np.eye(context.n_classes)[context.y]
        brier = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
        normalised = proba / proba.sum(axis=1, keepdims=True)
        loss = float(log_loss(context.y, normalised, labels=labels))
        data["results"][name] = {"ece": ece, "brier_score": brier, "log_loss": loss}
        rows.append((_MODEL_TITLES[name], ece, brier, loss))
        ReliabilityDisplay.from_predictions(
            context.y,
            proba,
            n_bins=n_bins,
            labels=labels,
            ax=ax,
            name=_MODEL_TITLES[name],
        )
        ax.set_title(_MODEL_TITLES[name])
    fig.suptitle("Reliability diagrams (out-of-fold probabilities)")
    page = (
        "<p>Top-label calibration of the out-of-fold predicted probabilities "
        "from the cross-validation above: rows are binned by the probability "
        f"of their predicted class ({n_bins} equal-width bins) and that "
        "confidence is compared with the accuracy in the bin. Expected "
        "calibration error (ECE), multiclass Brier score (sum over classes) and "
        "log loss: lower is better.</p>"
        + table_to_html(rows, ["model", "ECE", "Brier score", "log loss"])
        + figure_to_html(fig, "reliability diagrams")
    )
    return SectionResult("Calibration", page, data)


def _output_groups(preprocess, X):
    """For each raw column, the slice of transformed columns it produced."""
    groups = []
    start = 0
    for name, transformer, columns in preprocess.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        if name == "cat":
            encoder = transformer[-1]
            for i, col in enumerate(columns):
                width = len(encoder.categories_[i])
                infrequent = encoder.infrequent_categories_[i]
                if infrequent is not None:
                    width = width - len(infrequent) + 1
                groups.append((col, slice(start, start + width)))
                start += width
        else:
            for col in columns:
                groups.append((col, slice(start, start + 1)))
                start += 1
    return groups


@register_section("shap_importance", order=40)
def shap_section(context):
    """Mean absolute SHAP value per raw feature for the best baseline model."""
    import shap

    name = context.best_model_name()
    pipeline = context.fitted_model(name)
    preprocess, model = pipeline[:-1], pipeline[-1]
    rng = np.random.default_rng(context.random_state)
    n = len(context.X)
    rows = np.sort(rng.choice(n, size=min(context.shap_rows, n), replace=False))
    Xt_all = np.asarray(preprocess.transform(context.X), dtype=float)
    Xt = Xt_all[rows]
    if name == "xgboost":
        explainer = shap.TreeExplainer(model)
        method = "TreeExplainer (log-odds)"
        values = explainer.shap_values(Xt)
    else:
        background = Xt_all[rng.choice(n, size=min(100, n), replace=False)]
        explainer = shap.LinearExplainer(model, shap.maskers.Independent(background))
        method = "LinearExplainer (log-odds, independent masker)"
        values = explainer.shap_values(Xt)
    if isinstance(values, list):  # older shap: one array per class
        values = np.stack(values, axis=-1)
    values = np.asarray(values, dtype=float)
    if values.ndim == 2:
        values = values[:, :, None]
    groups = _output_groups(preprocess[0], context.X)
    importance = {
        str(col): float(np.abs(values[:, sl, :].sum(axis=1)).mean()) for col, sl in groups
    }
    ranked = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)
    data = {
        "model": name,
        "explainer": method,
        "n_rows_explained": len(rows),
        "importance": dict(ranked),
    }

    top = ranked[:20][::-1]
    fig, ax = new_figure((6, 0.6 + 0.28 * len(top)))
    ax.barh([k for k, _ in top], [v for _, v in top], color="#dd8452")
    ax.set_xlabel("mean |SHAP value|")
    ax.set_title(f"Global SHAP importance, {_MODEL_TITLES[name]}")
    page = (
        f"<p>Mean absolute SHAP value per feature for the best model "
        f"(<b>{_MODEL_TITLES[name]}</b>), fitted on all rows and explained on "
        f"{len(rows)} randomly chosen rows with shap's {html.escape(method)}. "
        "One-hot columns are summed back into their raw feature; for several "
        "classes the values are averaged over classes.</p>"
        + figure_to_html(fig, "SHAP importance bar chart")
        + table_to_html(ranked, ["feature", "mean |SHAP|"])
    )
    return SectionResult("Global SHAP importance", page, data)
