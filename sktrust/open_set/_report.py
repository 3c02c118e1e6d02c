"""The "Uncertainty" section of ``sktrust report``: reject option and unknown share."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import html

import numpy as np
from sklearn.model_selection import train_test_split

from sktrust.open_set._costarr import COSTARROpenSet
from sktrust.open_set._reject import reject_option_curve
from sktrust.report import SectionResult, figure_to_html, register_section

KNOWN_RATE = 0.95  # the open-set API's default known_rate


def _table(rows):
    body = "".join(
        f"<tr><td>{html.escape(str(a))}</td><td>{html.escape(str(b))}</td></tr>"
        for a, b in rows)
    return f"<table><tbody>{body}</tbody></table>"


@register_section("uncertainty", order=35)
def uncertainty_section(context):
    """Reject-option curve and share of rows flagged unknown, from COSTARR."""
    from matplotlib.figure import Figure

    idx = np.arange(len(context.y))
    stratify = context.y if np.bincount(context.y).min() >= 2 else None
    train, test = train_test_split(idx, test_size=0.3, stratify=stratify,
                                   random_state=context.random_state)
    preprocess = context.baseline_models()["logistic_regression"][:-1]
    X_train = np.asarray(preprocess.fit_transform(context.X.iloc[train]), dtype=float)
    X_test = np.asarray(preprocess.transform(context.X.iloc[test]), dtype=float)
    clf = COSTARROpenSet(threshold="auto", known_rate=KNOWN_RATE).fit(
        X_train, context.y[train])
    score = clf.score_samples(X_test)
    y_pred = clf.estimator_.predict(X_test)
    coverage, accuracy = reject_option_curve(context.y[test], y_pred, score)
    flagged = float(np.mean(score < clf.threshold_))
    points = {f"{c:.1f}": float(accuracy[max(int(np.ceil(c * len(score))) - 1, 0)])
              for c in (0.5, 0.7, 0.8, 0.9, 1.0)}
    data = {
        "score": "COSTARR on logistic regression",
        "known_rate": KNOWN_RATE,
        "threshold": float(clf.threshold_),
        "n_test": int(len(test)),
        "share_flagged_unknown": flagged,
        "accuracy_at_coverage": points,
        "area_under_accuracy_coverage": float(np.mean(accuracy)),
    }
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot(coverage, accuracy, color="#4c72b0")
    ax.axvline(1 - flagged, color="#dd8452", linestyle="--",
               label=f"known rate {KNOWN_RATE:.2f} threshold")
    ax.set_xlabel("coverage (share of rows answered)")
    ax.set_ylabel("accuracy on answered rows")
    ax.set_title("Reject-option curve (COSTARR score)")
    ax.legend(loc="lower left")
    page = (
        "<p>A logistic regression is fitted on 70% of the rows (stratified when "
        "every class has 2+ rows) and "
        "its COSTARR known-ness score ranks the other 30%: rejecting the rows "
        "it trusts least should raise the accuracy on the rows it answers. "
        f"With the threshold that keeps {KNOWN_RATE:.0%} of the training rows, "
        f"<b>{flagged:.1%}</b> of the held-out rows would be flagged as "
        "unknown; far above 5% means the held-out rows look unlike the "
        "training rows.</p>"
        + _table([("rows flagged unknown", f"{flagged:.1%}")]
                 + [(f"accuracy at coverage {c}", f"{a:.3f}") for c, a in points.items()])
        + figure_to_html(fig, "accuracy against coverage")
    )
    return SectionResult("Uncertainty", page, data)
