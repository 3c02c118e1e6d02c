"""The "Right to be forgotten" section of ``sktrust report``."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import html
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sktrust.metrics import align_classes, unlearning_report
from sktrust.report import SectionResult, figure_to_html, register_section
from sktrust.unlearning._retrain import RetrainUnlearner
from sktrust.unlearning._search import UnlearningSearchCV
from sktrust.unlearning._ssd import SSDUnlearner

FORGET_SHARE = 0.05
MAX_ROWS = 3000
# Gentlest first: on ties the search keeps the earlier point, i.e. the smaller
# edit. alpha=1000 leaves a model that needs no dampening (nearly) as it is;
# without it the search had to pick some damage (alpha <= 50) even when a
# random 5% deletion barely changes the retrained model.
SSD_GRID = {"alpha": [1000.0, 200.0, 50.0, 20.0, 10.0, 5.0, 2.0], "dampening": [1.0, 0.5]}
# Retrained references the search averages over, so that the choice of alpha
# does not chase one retrained model's seed.
N_REFERENCES = 3
_COLUMNS = [("unlearning_accuracy", "UA"), ("remaining_accuracy", "RA"),
            ("test_accuracy", "TA"), ("mia_efficacy", "MIA-Efficacy"),
            ("avg_gap", "Avg. gap"), ("seconds", "seconds")]


def _table(rows):
    head = "".join(f"<th>{html.escape(t)}</th>" for t in ["model"] + [c for _, c in _COLUMNS])
    body = ""
    for name, values in rows:
        cells = "".join(
            f"<td>{values[k]:.2f}</td>" if values.get(k) is not None else "<td>-</td>"
            for k, _ in _COLUMNS)
        body += f"<tr><td>{html.escape(name)}</td>{cells}</tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _confidence(model, X, y):
    proba = np.asarray(model.predict_proba(X))
    return proba[np.arange(len(y)), np.searchsorted(model.classes_, y)]


def _split(context):
    rs = context.random_state
    idx = np.arange(len(context.y))
    if len(idx) > MAX_ROWS:
        idx, _ = train_test_split(idx, train_size=MAX_ROWS, stratify=context.y,
                                  random_state=rs)
    train, test = train_test_split(idx, test_size=0.3, stratify=context.y[idx],
                                   random_state=rs)
    fit, val = train_test_split(train, test_size=0.15, stratify=context.y[train],
                                random_state=rs)
    return fit, val, test


@register_section("right_to_be_forgotten", order=60)
def right_to_be_forgotten_section(context):
    """Forget 5% of the training rows: exact retraining against SSD."""
    from matplotlib.figure import Figure

    rs = context.random_state
    fit, val, test = _split(context)
    preprocess = context.baseline_models()["logistic_regression"][:-1]
    X_fit = np.asarray(preprocess.fit_transform(context.X.iloc[fit]), dtype=float)
    X_val = np.asarray(preprocess.transform(context.X.iloc[val]), dtype=float)
    X_te = np.asarray(preprocess.transform(context.X.iloc[test]), dtype=float)
    y_fit, y_val, y_te = context.y[fit], context.y[val], context.y[test]
    rng = np.random.RandomState(rs)
    forget = np.zeros(len(fit), dtype=bool)
    forget[rng.choice(len(fit), size=max(1, int(FORGET_SHARE * len(fit))),
                      replace=False)] = True
    data = (X_fit[forget], y_fit[forget], X_fit[~forget], y_fit[~forget])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=200, random_state=rs)
        start = time.perf_counter()
        mlp.fit(X_fit, y_fit)
        fit_seconds = time.perf_counter() - start
        retrain = RetrainUnlearner(FrozenEstimator(mlp)).fit(X_fit, y_fit).unlearn(*data)
        search = UnlearningSearchCV(
            SSDUnlearner(FrozenEstimator(mlp), random_state=rs), SSD_GRID,
            reference=RetrainUnlearner(FrozenEstimator(mlp), n_references=N_REFERENCES),
            random_state=rs)
        search.fit(X_fit, y_fit, X_val=X_val, y_val=y_val).unlearn(*data)
    ssd = search.estimator_
    reference = align_classes(retrain.estimator_, mlp.classes_)
    reports = {
        "original": unlearning_report(mlp, *data, X_te, y_te, reference=reference),
        "retrain": unlearning_report(retrain, *data, X_te, y_te, reference=reference),
        "ssd": unlearning_report(ssd, *data, X_te, y_te, reference=reference),
    }
    for key in reports:
        reports[key].pop("reference", None)
    reports["original"]["seconds"] = None
    rows = [("Original (no deletion)", reports["original"]),
            ("Retrain from scratch (exact)", reports["retrain"]),
            (f"SSD (alpha={ssd.alpha:g}, dampening={ssd.dampening:g}, tuned on "
             "validation rows)", reports["ssd"])]

    fig = Figure(figsize=(9, 3.6))
    ax_bar, ax_hist = fig.subplots(1, 2)
    names = ["original", "SSD", "retrain"]
    values = [reports["original"]["mia_efficacy"], reports["ssd"]["mia_efficacy"],
              reports["retrain"]["mia_efficacy"]]
    ax_bar.bar(names, values, color=["#8c8c8c", "#4c72b0", "#55a868"])
    ax_bar.set_ylabel("MIA-Efficacy on forget rows (%)")
    ax_bar.set_title("Membership inference: before / after")
    bins = np.linspace(0, 1, 21)
    Xf, yf = data[0], data[1]
    for model, label, color in [(mlp, "original", "#8c8c8c"), (ssd, "SSD", "#4c72b0"),
                                (retrain, "retrain", "#55a868")]:
        ax_hist.hist(_confidence(model, Xf, yf), bins=bins, histtype="step",
                     label=label, color=color, linewidth=1.5)
    ax_hist.set_xlabel("confidence in the true label (forget rows)")
    ax_hist.set_ylabel("rows")
    ax_hist.legend(loc="upper left")
    fig.tight_layout()

    ssd_seconds = reports["ssd"]["seconds"]
    if ssd.n_selected_ == 0:
        choice = ("<p>On the validation rows no dampening came closer to "
                  f"retraining than the model as it is: the chosen alpha={ssd.alpha:g} "
                  "selects no weight, so SSD leaves the model unchanged.</p>")
    else:
        choice = (f"<p>The chosen alpha={ssd.alpha:g} dampens {ssd.n_selected_} "
                  "weights.</p>")
    page = (
        f"<p>A small MLP (64 hidden units) is trained on {len(fit)} rows; then "
        f"{int(forget.sum())} of them ({FORGET_SHARE:.0%}, drawn at random) are "
        "removed, once by retraining from scratch without them (exact unlearning, "
        "the reference) and once by Selective Synaptic Dampening, whose "
        "<code>alpha</code> and <code>dampening</code> are chosen on held-out "
        f"validation rows by the average gap to {N_REFERENCES} retrained models "
        "(the test rows below play no part in the choice). UA is 100 minus "
        "the accuracy on the forgotten rows, RA the accuracy on the remaining "
        "training rows, TA the accuracy on held-out test rows, MIA-Efficacy the "
        "share of forgotten rows a membership-inference attack calls non-members; "
        "the average gap to retraining summarises how far a model is from exact "
        "deletion (0 = indistinguishable on these metrics).</p>"
        + _table(rows) + choice
        + f"<p>Training took {fit_seconds:.2f} s; SSD unlearned in "
        f"{ssd_seconds:.3f} s. A preprocessing step fitted on all rows still carries "
        "the deleted rows' statistics: exact deletion refits it too.</p>"
        + figure_to_html(fig, "membership inference before and after unlearning")
    )
    out = {
        "n_train": int(len(fit)),
        "n_forget": int(forget.sum()),
        "n_test": int(len(test)),
        "ssd_alpha": float(ssd.alpha),
        "ssd_dampening": float(ssd.dampening),
        "ssd_n_selected": int(ssd.n_selected_),
        "validation_gap": {"original": float(search.baseline_score_),
                           "ssd": float(search.best_score_)},
        "train_seconds": float(fit_seconds),
        "metrics": {k: {m: (None if v is None else float(v)) for m, v in r.items()}
                    for k, r in reports.items()},
    }
    return SectionResult("Right to be forgotten", page, out)
