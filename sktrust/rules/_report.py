"""The "Rules" section of ``sktrust report``: the FOLD-SE program of the data."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import html

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from sktrust.report import SectionResult, register_section
from sktrust.report._render import table_to_html
from sktrust.rules._foldse import FOLDSEClassifier
from sktrust.rules._literals import column_is_categorical
from sktrust.utils import numeric_text_columns

_MODEL_TITLES = {"logistic_regression": "Logistic regression", "xgboost": "XGBoost"}

@register_section("rules", order=50)
def rules_section(context):
    """FOLD-SE rules learned on all rows, and their cross-validated accuracy.

    The rules are learned from the raw columns (no encoding, missing values
    as the token ``"?"``) with FOLD-SE's defaults, text columns of numbers
    (a CSV column with ``?`` for missing) read as numbers; the accuracy uses the same
    stratified folds as the baseline models, so the rows compare directly.
    """
    X = context.X
    y = np.asarray(context.classes, dtype=object)[context.y]
    categorical = np.array([column_is_categorical(X.iloc[:, j]) for j in range(X.shape[1])],
                           dtype=bool)
    model = FOLDSEClassifier(categorical_features=categorical & ~numeric_text_columns(X))
    splitter = StratifiedKFold(
        n_splits=context.n_splits, shuffle=True, random_state=context.random_state
    )
    fold_acc, fold_rules = [], []
    for train, test in splitter.split(X, context.y):
        fitted = clone(model).fit(X.iloc[train], y[train])
        fold_acc.append(float(np.mean(fitted.predict(X.iloc[test]) == y[test])))
        fold_rules.append(fitted.n_rules_)
    model.fit(X, y)

    comparison = {
        "foldse": {
            "accuracy_mean": float(np.mean(fold_acc)),
            "accuracy_std": float(np.std(fold_acc)),
            "n_rules_mean": float(np.mean(fold_rules)),
        }
    }
    for name, res in context.cross_validation().items():
        acc = [f["accuracy"] for f in res["folds"]]
        comparison[name] = {
            "accuracy_mean": float(np.mean(acc)),
            "accuracy_std": float(np.std(acc)),
        }
    target = str(context.target_name)
    data = {
        "n_splits": context.n_splits,
        "n_rules": model.n_rules_,
        "n_literals": model.n_literals_,
        "default_class": str(model.default_class_),
        "program": model.export_text(target_name=target),
        "program_english": model.export_text(style="english", target_name=target),
        "training_accuracy": float(model.score(X, y)),
        "accuracy": comparison,
    }
    rows = [(_MODEL_TITLES.get(k, "FOLD-SE rules"), v["accuracy_mean"], v["accuracy_std"])
            for k, v in comparison.items()]
    page = (
        f"<p>FOLD-SE learned <b>{model.n_rules_}</b> rules with "
        f"<b>{model.n_literals_}</b> literals from the raw columns (no encoding; "
        "missing values are the token '?'). Rules are read in order; an exception "
        "(<code>ab</code> predicate) blocks the rule it belongs to; rows that no "
        f"rule covers get <b>{html.escape(str(model.default_class_))}</b>.</p>"
        f"<pre>{html.escape(data['program_english'])}</pre>"
        "<details><summary>As a logic program</summary><pre>"
        f"{html.escape(data['program'])}</pre></details>"
        "<h3>Accuracy against the baseline models</h3>"
        f"<p>Stratified {context.n_splits}-fold cross-validation on the same folds as "
        "the baseline models (mean rules per fold: "
        f"{comparison['foldse']['n_rules_mean']:.1f}).</p>"
        + table_to_html(rows, ["model", "accuracy (mean)", "accuracy (std)"])
    )
    return SectionResult("Rules", page, data)
