"""What every report section reads: the data, the target and the baseline models."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

logger = logging.getLogger(__name__)

# Past this many distinct values a string column is squeezed: the rarest values
# are pooled into one "infrequent" indicator so one-hot stays small.
_MAX_ONE_HOT_CATEGORIES = 20

MODEL_NAMES = ("logistic_regression", "xgboost")


def numeric_and_categorical_columns(X):
    """Split the columns of ``X`` into numeric and categorical names.

    Booleans and numbers are numeric; everything else (strings, mixed
    objects, categories, dates) is categorical.
    """
    numeric, categorical = [], []
    for name in X.columns:
        dtype = X[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            numeric.append(name)
        else:
            categorical.append(name)
    return numeric, categorical


def _preprocessor(X, *, scale, impute_numeric):
    numeric, categorical = numeric_and_categorical_columns(X)
    numeric_steps = []
    if impute_numeric:
        numeric_steps.append(SimpleImputer(strategy="median"))
    if scale:
        numeric_steps.append(StandardScaler())
    numeric_pipe = make_pipeline(*numeric_steps) if numeric_steps else "passthrough"
    categorical_pipe = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            max_categories=_MAX_ONE_HOT_CATEGORIES,
            sparse_output=False,
        ),
    )
    transformers = []
    if numeric:
        transformers.append(("num", numeric_pipe, numeric))
    if categorical:
        transformers.append(("cat", categorical_pipe, categorical))
    return ColumnTransformer(transformers, verbose_feature_names_out=False)


def make_baseline_models(X, n_classes, *, random_state=0):
    """The two baseline pipelines the report fits, by name.

    Parameters
    ----------
    X : pandas.DataFrame
        Raw features, possibly with strings and missing values.
    n_classes : int
        Number of classes in the target.
    random_state : int, default=0
        Seed for XGBoost.

    Returns
    -------
    models : dict of str to Pipeline
        ``"logistic_regression"``: median/constant imputation, one-hot encoding
        and scaling before a logistic regression. ``"xgboost"``: one-hot
        encoding before gradient-boosted trees, which handle missing numbers
        natively.
    """
    from xgboost import XGBClassifier

    lr = Pipeline(
        [
            ("preprocess", _preprocessor(X, scale=True, impute_numeric=True)),
            ("model", LogisticRegression(max_iter=2000)),
        ]
    )
    xgb_params = dict(
        n_estimators=150,
        max_depth=3,
        learning_rate=0.1,
        tree_method="hist",
        random_state=random_state,
        n_jobs=1,
        verbosity=0,
    )
    if n_classes > 2:
        xgb_params["objective"] = "multi:softprob"
    xgb = Pipeline(
        [
            ("preprocess", _preprocessor(X, scale=False, impute_numeric=False)),
            ("model", XGBClassifier(**xgb_params)),
        ]
    )
    return {"logistic_regression": lr, "xgboost": xgb}


@dataclass
class ReportContext:
    """Everything a report section may read, shared by all sections.

    Sections should treat the data as read-only. Expensive shared results
    (cross-validated predictions, fitted models) are computed on first use
    and cached, so a section pays for them only if no earlier section did.

    Attributes
    ----------
    X : pandas.DataFrame
        Raw features (a private copy of the caller's data).
    y : ndarray of shape (n_samples,)
        Target, label-encoded to ``0 .. n_classes - 1``.
    classes : list of str
        Original class labels, in encoded order.
    target_name : str
        Name of the target column.
    dataset_name : str
        Human-readable name of the data set.
    cv : int
        Number of stratified cross-validation folds asked for.
    shap_rows : int
        Number of rows SHAP explains (a random subsample when fewer than
        ``n_samples``).
    random_state : int
        Seed used for folds, models and subsamples.
    n_dropped_missing_target : int
        Rows dropped before the audit because their target was missing.
    cache : dict
        Free-form store for results shared between sections.
    """

    X: pd.DataFrame
    y: np.ndarray
    classes: list
    target_name: str = "target"
    dataset_name: str = "data"
    cv: int = 5
    shap_rows: int = 200
    random_state: int = 0
    n_dropped_missing_target: int = 0
    cache: dict = field(default_factory=dict)

    @property
    def n_classes(self):
        return len(self.classes)

    @property
    def n_splits(self):
        """Folds actually used: ``cv``, capped by the smallest class size."""
        smallest = int(np.bincount(self.y).min())
        return max(2, min(self.cv, smallest))

    def baseline_models(self):
        """Unfitted baseline pipelines by name (fresh clones on every call)."""
        if "baseline_models" not in self.cache:
            self.cache["baseline_models"] = make_baseline_models(
                self.X, self.n_classes, random_state=self.random_state
            )
        return {k: clone(v) for k, v in self.cache["baseline_models"].items()}

    def cross_validation(self):
        """Out-of-fold probabilities and per-fold scores of each baseline.

        Returns
        -------
        results : dict
            For each model name, ``{"oof_proba": (n_samples, n_classes)
            array, "folds": list of per-fold score dicts}``.
        """
        if "cross_validation" in self.cache:
            return self.cache["cross_validation"]
        splitter = StratifiedKFold(
            n_splits=self.n_splits, shuffle=True, random_state=self.random_state
        )
        splits = list(splitter.split(self.X, self.y))
        results = {}
        for name, model in self.baseline_models().items():
            logger.info("cross-validating %s (%d folds)", name, len(splits))
            oof = np.zeros((len(self.y), self.n_classes))
            folds = []
            for train, test in splits:
                fitted = clone(model).fit(self.X.iloc[train], self.y[train])
                proba = fitted.predict_proba(self.X.iloc[test])
                oof[test] = proba
                folds.append(_scores(self.y[test], proba, self.n_classes))
            results[name] = {"oof_proba": oof, "folds": folds}
        self.cache["cross_validation"] = results
        return results

    def best_model_name(self):
        """Baseline with the highest mean cross-validated balanced accuracy.

        Ties go to the logistic regression, the simpler model.
        """
        cv = self.cross_validation()
        means = {
            name: np.mean([f["balanced_accuracy"] for f in cv[name]["folds"]])
            for name in MODEL_NAMES
        }
        return max(MODEL_NAMES, key=lambda name: (means[name], name == MODEL_NAMES[0]))

    def fitted_model(self, name):
        """Baseline ``name`` fitted on all rows (cached)."""
        key = f"fitted_{name}"
        if key not in self.cache:
            self.cache[key] = self.baseline_models()[name].fit(self.X, self.y)
        return self.cache[key]


def _scores(y_true, proba, n_classes):
    y_pred = proba.argmax(axis=1)
    scores = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
    }
    present = np.unique(y_true)
    if len(present) < 2:
        scores["roc_auc"] = None
    elif n_classes == 2:
        scores["roc_auc"] = float(roc_auc_score(y_true, proba[:, 1]))
    elif len(present) == n_classes:
        scores["roc_auc"] = float(
            roc_auc_score(y_true, proba, multi_class="ovr", labels=np.arange(n_classes))
        )
    else:
        scores["roc_auc"] = None
    return scores
