"""The "Explanations" section of ``sktrust report``: the SHAP workflow on the data."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import html

import numpy as np

from sktrust.report import SectionResult, figure_to_html, register_section
from sktrust.utils import numeric_text_columns

# Rows the workflow runs on (a stratified random subsample beyond).
MAX_ROWS = 1000
# Forward selection runs when there are at most this many aspects (cost ~ m^2 fits).
MAX_ASPECTS_FOR_SELECTION = 12
# Features whose |Spearman rho| reaches this are merged into one aspect.
ASPECT_THRESHOLD = 0.9


def encode_mixed_frame(X):
    """One numeric column per raw column: numbers median-imputed, categories as codes.

    Keeping one column per raw feature lets aspects and SHAP values be read in
    terms of the data set's own columns (no one-hot splitting). Missing
    categories become their own code.
    """
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X = pd.DataFrame(X).copy()
    X.columns = [str(c) for c in X.columns]
    # Text columns that are numbers apart from missing tokens ("?", "") are numeric.
    for c, numeric_text in zip(list(X.columns), numeric_text_columns(X)):
        if numeric_text:
            X[c] = pd.to_numeric(X[c], errors="coerce")
    numeric = [c for c in X.columns if pd.api.types.is_bool_dtype(X[c].dtype)
               or pd.api.types.is_numeric_dtype(X[c].dtype)]
    categorical = [c for c in X.columns if c not in numeric]
    parts = []
    if numeric:
        parts.append(("num", SimpleImputer(strategy="median", keep_empty_features=True),
                      numeric))
    if categorical:
        parts.append(("cat", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)),
            categorical))
    encoder = ColumnTransformer(parts, verbose_feature_names_out=False)
    encoder.set_output(transform="pandas")
    Xt = encoder.fit_transform(X.astype({c: str for c in categorical}))
    return Xt[list(X.columns)].astype(float)


def _table(rows, header):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v):
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.3f}"


@register_section("explanations", order=45)
def explanations_section(context):
    """Aspects, forward selection and SHAP vs natural vs permutation importance."""
    from matplotlib.figure import Figure
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    from sktrust.explain import ShapWorkflowExplainer
    from sktrust.explain._workflow import correlation_groups

    X = encode_mixed_frame(context.X)
    y = np.asarray(context.y)
    if len(X) > MAX_ROWS:
        keep, _ = train_test_split(np.arange(len(X)), train_size=MAX_ROWS, stratify=y,
                                   random_state=context.random_state)
        X, y = X.iloc[np.sort(keep)], y[np.sort(keep)]
    rf = RandomForestClassifier(n_estimators=50, min_samples_leaf=2,
                                random_state=context.random_state)
    n_aspects = len(correlation_groups(X.to_numpy(), ASPECT_THRESHOLD))
    select = n_aspects <= MAX_ASPECTS_FOR_SELECTION
    cv = max(2, min(3, int(np.bincount(y).min())))
    wf = ShapWorkflowExplainer(rf, aspect_threshold=ASPECT_THRESHOLD, forward_selection=select,
                               cv=cv, n_repeats=5, background_size=50,
                               random_state=context.random_state).fit(X, y)
    table = wf.importance_table()
    merged = {k: [X.columns[j] for j in v] for k, v in wf.aspects_.items() if len(v) > 1}
    data = {
        "model": "random forest (50 trees) on ordinal-encoded columns",
        "n_rows": len(X),
        "aspects": merged,
        "forward_selection": bool(select),
        "selected": list(wf.selected_features_),
        "selection_path": [[n, s] for n, s in wf.selection_path_],
        "importance": table[["aspect", "shap", "natural", "permutation"]].to_dict("records"),
        "correlation": wf.importance_correlation_,
    }

    fig = Figure(figsize=(7, 0.45 * len(table) + 1.5), layout="constrained")
    ax = fig.add_subplot()
    wf.plot_importance(ax=ax)
    ax.set_title("SHAP vs natural vs permutation importance")
    parts = [
        f"<p>The SHAP workflow (Bloch &amp; Friedrich, 2022) on {len(X)} rows: columns "
        f"with |Spearman &rho;| &ge; {ASPECT_THRESHOLD} are merged into aspects (mean of "
        "z-scores), "
        + ("forward selection (CV balanced accuracy) keeps a compact set, "
           if select else
           f"forward selection is skipped ({n_aspects} aspects &gt; "
           f"{MAX_ASPECTS_FOR_SELECTION}, to keep the report fast), ")
        + "then a random forest is fitted and explained with TreeSHAP on the "
        "positive-class probability (averaged over classes when there are more "
        "than two). Categorical columns are ordinal-encoded, one column each.</p>"
    ]
    if merged:
        parts.append("<p>Aspects: " + "; ".join(
            f"<b>{html.escape(k)}</b> = {html.escape(', '.join(map(str, v)))}"
            for k, v in merged.items()) + "</p>")
    if select:
        parts.append("<p>Selection path: " + " &rarr; ".join(
            f"+{html.escape(n)} ({s:.3f})" for n, s in wf.selection_path_) + "</p>")
    parts.append(figure_to_html(fig, "importance comparison bar chart"))
    parts.append(_table(
        [(r.aspect, _fmt(r.shap), _fmt(r.natural), _fmt(r.permutation))
         for r in table.itertuples()],
        ["aspect", "mean |SHAP|", "impurity importance", "permutation importance"]))
    parts.append(_table(
        [(pair, _fmt(v["pearson"]), _fmt(v["spearman"]))
         for pair, v in wf.importance_correlation_.items()],
        ["importances", "Pearson", "Spearman"]))
    return SectionResult("Explanations (SHAP workflow)", "".join(parts), data)
