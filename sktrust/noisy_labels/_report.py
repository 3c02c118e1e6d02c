"""The "Data quality" section of ``sktrust report``: balance and label noise."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import html

import numpy as np
from sklearn.base import clone

from sktrust.report import SectionResult, register_section

# LSA refits a model n_rounds x cv times: above this many rows it runs on a
# random subsample, so the section stays fast on large tables.
_MAX_ROWS = 5000
_TOP = 20


def _table(rows, header):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f"<td>{v:.3f}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>"
            for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _encoded_features(context):
    """The logistic-regression baseline's preprocessing, fitted on all rows."""
    pipe = context.baseline_models()["logistic_regression"]
    return np.asarray(clone(pipe.named_steps["preprocess"]).fit_transform(context.X),
                      dtype=float)


def _balance(context, Xt):
    from sktrust.noisy_labels import SMOTE

    counts = np.bincount(context.y, minlength=context.n_classes)
    smallest = int(counts.min())
    after, note = None, ""
    if smallest < 2:
        note = "SMOTE needs two rows in every class; one class has a single row."
    else:
        smote = SMOTE(k_neighbors=min(5, smallest - 1), random_state=context.random_state)
        _, y_res = smote.fit_resample(Xt, context.y)
        after = np.bincount(y_res, minlength=context.n_classes)
    return counts, after, note


@register_section("data_quality", order=50)
def data_quality_section(context):
    """Class balance with and without SMOTE; rows LSA finds likely mislabelled."""
    from sktrust.noisy_labels import LSANoiseDetector

    Xt = _encoded_features(context)
    counts, after, note = _balance(context, Xt)
    rng = np.random.default_rng(context.random_state)
    n = len(context.y)
    rows = np.arange(n)
    if n > _MAX_ROWS:
        rows = np.sort(rng.choice(n, size=_MAX_ROWS, replace=False))
    det = LSANoiseDetector(random_state=context.random_state).fit(Xt[rows], context.y[rows])
    order = np.argsort(det.clean_score_, kind="stable")[:_TOP]
    classes = [str(c) for c in context.classes]
    suspects = [
        {
            "row": int(context.X.index[rows[i]]) if np.issubdtype(
                context.X.index.dtype, np.integer) else str(context.X.index[rows[i]]),
            "label": classes[context.y[rows[i]]],
            "suggested_label": classes[int(det.suggested_labels_[i])],
            "clean_score": float(det.clean_score_[i]),
        }
        for i in order
    ]
    data = {
        "class_counts": dict(zip(classes, counts.tolist())),
        "class_counts_after_smote": None if after is None else dict(
            zip(classes, after.tolist())),
        "smote_note": note,
        "n_rows_checked": int(rows.size),
        "n_flagged": int(det.noisy_mask_.sum()),
        "flagged_fraction": float(det.noisy_mask_.mean()),
        "likely_mislabelled": suspects,
    }
    balance_rows = [
        (c, int(k), "n/a" if after is None else int(a))
        for c, k, a in zip(classes, counts, counts if after is None else after)
    ]
    page = (
        "<p>Class counts as given and after SMOTE (imbalanced-learn, on the "
        "one-hot encoded, scaled features; for the training folds only, inside a "
        "pipeline). " + html.escape(note) + "</p>"
        + _table(balance_rows, ["class", "rows", "rows after SMOTE"])
        + f"<p>{data['n_flagged']} of {rows.size} rows checked "
        f"({100 * data['flagged_fraction']:.1f}%) look mislabelled to "
        "<code>LSANoiseDetector</code> (out-of-fold losses of a logistic "
        "regression, alternating with a linear separator per class)"
        + (f", on a random subsample of {_MAX_ROWS} rows" if n > _MAX_ROWS else "")
        + f". The {len(suspects)} least clean rows (clean score: 0 = surely "
        "mislabelled, 1 = clean):</p>"
        + _table(
            [(s["row"], s["label"], s["suggested_label"], s["clean_score"]) for s in suspects],
            ["row", "label", "suggested label", "clean score"],
        )
    )
    return SectionResult("Data quality", page, data)
