"""SHAP workflow: aspects, forward selection, SHAP vs natural vs permutation importance."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import logging
from numbers import Integral, Real

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from scipy.stats import pearsonr, rankdata, spearmanr
from sklearn.base import TransformerMixin, clone, is_classifier
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import permutation_importance
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from sktrust.base import BaseExplainer
from sktrust.explain._shap import _is_tree_model
from sktrust.utils._sklearn_compat import HasMethods, Interval, StrOptions, validate_data
from sktrust.utils._validation import (
    check_classification_targets_known,
    check_non_empty,
    check_random_state_seed,
)

logger = logging.getLogger(__name__)

IMPORTANCES = ("shap", "natural", "permutation")
# Rows explained by SHAP for the global importance (a random subsample beyond).
_MAX_SHAP_ROWS = 200


def _spearman_matrix(X):
    """Spearman correlation matrix (Pearson on average ranks), 0 where undefined.

    A constant column has no correlation with anything: its row and column
    are 0 (``scipy.stats.spearmanr`` returns a single NaN for the whole
    matrix then).
    """
    ranks = rankdata(X, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.corrcoef(ranks, rowvar=False)
    return np.nan_to_num(np.atleast_2d(rho), nan=0.0)


def correlation_groups(X, threshold):
    """Groups of columns whose absolute Spearman correlation reaches ``threshold``.

    Average-linkage clustering on ``1 - |rho|``, cut at ``1 - threshold``.
    Returns a list of sorted column-index lists, ordered by first column.
    """
    if X.shape[1] == 1:
        return [[0]]
    rho = _spearman_matrix(X)
    dist = np.clip(1.0 - np.abs(rho), 0.0, None)
    np.fill_diagonal(dist, 0.0)
    labels = fcluster(linkage(squareform(dist, checks=False), method="average"),
                      t=1.0 - threshold + 1e-12, criterion="distance")
    groups = [[int(j) for j in np.flatnonzero(labels == lab)] for lab in np.unique(labels)]
    return sorted(groups, key=lambda g: g[0])


class ShapWorkflowExplainer(TransformerMixin, BaseExplainer):
    """Explain a tabular black box: aspects, forward selection, three importances.

    The workflow of Bloch and Friedrich [1]_, made generic: (1) correlated
    features are consolidated into *aspects* (given, or found by clustering
    ``1 - |Spearman rho|``), (2) forward selection keeps a compact set of
    aspects by cross-validation, (3) the model is tuned and refitted on them,
    (4) SHAP values of the positive-class probability (TreeSHAP for trees and
    boosting, seeded permutation SHAP otherwise) give a global importance
    ``mean |phi|``, cross-checked against the model's own ("natural")
    importance and permutation importance with their rank correlations. The
    results come as a tidy DataFrame (:meth:`importance_table`) and plots.

    ``explain(X)`` returns SHAP values in the *original* feature space: an
    aspect's value is shared among its member columns in proportion to each
    member's share of the aspect's deviation from the background mean (exact
    for the linear aspect map, so values still add up), and columns outside
    the selected aspects get 0. :meth:`explain_aspects` gives the values per
    aspect.

    Read more in the :ref:`User Guide <explain>`.

    Parameters
    ----------
    estimator : classifier, default=None
        Unfitted model (random forest, XGBoost, an SVM as
        ``CalibratedClassifierCV(SVC(), ensemble=False)``,
        ...); ``None`` is ``RandomForestClassifier(n_estimators=100)``.
    aspects : dict of str to list, default=None
        Aspect name -> member columns (names or indices). Columns in no
        aspect stay as they are.
    aspect_threshold : float, default=None
        If set (and ``aspects`` is None), features whose absolute Spearman
        correlation is at least this are merged (average linkage).
    aspect_agg : {"mean_z", "sum"}, default="mean_z"
        How members become one aspect: the mean of their z-scores (members
        negatively correlated with the first are sign-flipped), or their sum
        (the paper's choice for volumes in one unit).
    forward_selection : bool, default=True
        Run forward selection on the aspects.
    n_features_to_select : int or "auto", default="auto"
        ``"auto"`` stops when adding an aspect improves the CV score by less
        than ``tol``.
    tol : float, default=1e-3
    cv : int, default=5
        Folds for selection and tuning.
    scoring : str, default="balanced_accuracy"
    param_grid : dict, default=None
        Grid searched on the selected aspects before the final refit.
    background_size : int, default=50
        Background rows for SHAP.
    n_repeats : int, default=10
        Repeats of permutation importance.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    aspects_ : dict of str to list of int
        Every aspect (singletons included) and its member columns.
    selected_features_ : list of str
        Selected aspects, in the order forward selection added them.
    selection_path_ : list of tuple
        ``(aspect added, mean CV score)`` per forward step.
    estimator_ : classifier
        Model fitted on the selected aspects, with the class indices
        ``0 .. n_classes - 1`` as labels (so XGBoost takes string labels);
        :meth:`predict` maps them back to ``classes_``.
    shap_importance_, natural_importance_, permutation_importance_ : ndarray
        Importance of each selected aspect on the training data;
        ``natural_importance_`` is None when the model has neither
        ``feature_importances_`` nor ``coef_`` (an RBF SVM).
    importance_correlation_ : dict
        ``{"shap vs permutation": {"pearson": r, "spearman": rho}, ...}`` for
        each pair of importances (NaN when one is constant).
    classes_ : ndarray

    References
    ----------
    .. [1] L. Bloch, C. M. Friedrich. "Machine Learning Workflow to Explain
       Black-box Models for Early Alzheimer's Disease Classification Evaluated
       for Multiple Datasets", SN Computer Science, 2022.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sktrust.explain import ShapWorkflowExplainer
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> wf = ShapWorkflowExplainer(RandomForestClassifier(n_estimators=20, random_state=0),
    ...                            aspect_threshold=0.9, forward_selection=False,
    ...                            n_repeats=2, random_state=0).fit(X[:200], y[:200])
    >>> table = wf.importance_table()
    >>> list(table.columns[:3])
    ['aspect', 'members', 'shap']
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "aspects": [dict, None],
        "aspect_threshold": [Interval(Real, 0, 1, closed="right"), None],
        "aspect_agg": [StrOptions({"mean_z", "sum"})],
        "forward_selection": ["boolean"],
        "n_features_to_select": [Interval(Integral, 1, None, closed="left"),
                                 StrOptions({"auto"})],
        "tol": [Interval(Real, None, None, closed="neither")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "scoring": [str, callable],
        "param_grid": [dict, list, None],
        "background_size": [Interval(Integral, 1, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, aspects=None, aspect_threshold=None,
                 aspect_agg="mean_z", forward_selection=True, n_features_to_select="auto",
                 tol=1e-3, cv=5, scoring="balanced_accuracy", param_grid=None,
                 background_size=50, n_repeats=10, random_state=None):
        self.estimator = estimator
        self.aspects = aspects
        self.aspect_threshold = aspect_threshold
        self.aspect_agg = aspect_agg
        self.forward_selection = forward_selection
        self.n_features_to_select = n_features_to_select
        self.tol = tol
        self.cv = cv
        self.scoring = scoring
        self.param_grid = param_grid
        self.background_size = background_size
        self.n_repeats = n_repeats
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    # -- aspects -------------------------------------------------------------
    def _find_aspects(self, X):
        names = self._feature_names()
        d = X.shape[1]
        if self.aspects is not None:
            index = {n: i for i, n in enumerate(names)}
            groups, used = {}, set()
            for name, members in self.aspects.items():
                cols = []
                for m in members:
                    if isinstance(m, (Integral, np.integer)) and 0 <= m < d:
                        cols.append(int(m))
                    elif m in index:
                        cols.append(index[m])
                    else:
                        raise ValueError(f"aspect {name!r} names unknown column {m!r}.")
                if not cols or used & set(cols):
                    raise ValueError(
                        f"aspect {name!r} must have members and share none with "
                        "another aspect."
                    )
                used |= set(cols)
                groups[str(name)] = cols
            for j in range(d):
                if j not in used:
                    groups[names[j]] = [j]
            return groups
        if self.aspect_threshold is None or d == 1:
            return {names[j]: [j] for j in range(d)}
        groups = {}
        for cols in correlation_groups(X, self.aspect_threshold):
            member_names = [names[j] for j in cols]
            key = "+".join(member_names) if len(cols) <= 3 else (
                f"{member_names[0]}+{len(cols) - 1} more")
            groups[key] = cols
        return dict(sorted(groups.items(), key=lambda kv: kv[1][0]))

    def _aspect_map(self, X):
        """Affine map ``A = X @ W + c`` from features to aspects."""
        d, m = X.shape[1], len(self.aspects_)
        W, c = np.zeros((d, m)), np.zeros(m)
        mean, std = X.mean(axis=0), X.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        for a, cols in enumerate(self.aspects_.values()):
            if len(cols) == 1:
                W[cols[0], a] = 1.0
            elif self.aspect_agg == "sum":
                W[cols, a] = 1.0
            else:
                first = X[:, cols[0]]
                signs = np.array([1.0 if np.corrcoef(first, X[:, j])[0, 1] >= 0 or
                                  not np.isfinite(np.corrcoef(first, X[:, j])[0, 1])
                                  else -1.0 for j in cols])
                W[cols, a] = signs / (std[cols] * len(cols))
                c[a] = -np.sum(signs * mean[cols] / std[cols]) / len(cols)
        return W, c

    def _consolidate(self, X):
        return X @ self.aspect_weights_ + self.aspect_offset_

    # -- fit -----------------------------------------------------------------
    def _cv(self, y):
        # No more folds than rows of the rarest class (``fit`` checks it is >= 2).
        n_splits = min(self.cv, int(np.min(np.unique(y, return_counts=True)[1])))
        return StratifiedKFold(n_splits, shuffle=True, random_state=self.seed_)

    def _forward_select(self, base, A, y):
        m = A.shape[1]
        names = list(self.aspects_)
        chosen, path, best = [], [], -np.inf
        limit = m if self.n_features_to_select == "auto" else min(self.n_features_to_select, m)
        while len(chosen) < limit:
            scores = {}
            for j in range(m):
                if j in chosen:
                    continue
                scores[j] = cross_val_score(clone(base), A[:, chosen + [j]], y,
                                            cv=self._cv(y), scoring=self.scoring).mean()
            j_best = max(scores, key=lambda j: (scores[j], -j))
            if self.n_features_to_select == "auto" and chosen and (
                    scores[j_best] - best < self.tol):
                break
            chosen.append(j_best)
            best = scores[j_best]
            path.append((names[j_best], float(best)))
            logger.info("forward selection: + %s (CV %s %.4f)", names[j_best], self.scoring,
                        best)
        return chosen, path

    def _fit(self, X, y):
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.utils.multiclass import check_classification_targets

        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = np.asarray(y)
        if X.shape[0] < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 samples; got "
                             f"n_samples = {X.shape[0]}.")
        check_classification_targets(y)
        # The model learns class indices, so models that need labels 0..C-1
        # (XGBoost) take string labels too; ``classes_`` maps them back.
        labels, y = np.unique(y, return_inverse=True)
        if len(labels) < 2:
            raise ValueError("y has a single class; the workflow needs at least two.")
        self.seed_ = check_random_state_seed(self.random_state)
        base = self.estimator if self.estimator is not None else (
            RandomForestClassifier(n_estimators=100, random_state=self.seed_))
        self.aspects_ = self._find_aspects(X)
        self.aspect_weights_, self.aspect_offset_ = self._aspect_map(X)
        A = self._consolidate(X)
        n_splits = min(self.cv, np.min(np.unique(y, return_counts=True)[1]))
        if (self.forward_selection or self.param_grid is not None) and n_splits < 2:
            raise ValueError("forward selection and param_grid cross-validate: they need at "
                             "least 2 rows of each class.")
        if self.forward_selection:
            chosen, self.selection_path_ = self._forward_select(base, A, y)
        else:
            chosen, self.selection_path_ = list(range(A.shape[1])), []
        names = list(self.aspects_)
        self.selected_features_ = [names[j] for j in chosen]
        self._selected_idx = np.asarray(chosen, dtype=int)
        A_sel = A[:, self._selected_idx]
        if self.param_grid is not None:
            search = GridSearchCV(clone(base), self.param_grid, cv=self._cv(y),
                                  scoring=self.scoring).fit(A_sel, y)
            self.best_params_ = search.best_params_
            self.estimator_ = search.best_estimator_
        else:
            self.estimator_ = clone(base).fit(A_sel, y)
        if not is_classifier(self.estimator_):
            raise TypeError("ShapWorkflowExplainer explains classifiers; got "
                            f"{type(self.estimator_).__name__}.")
        self.classes_ = labels
        rng = check_random_state(self.seed_)
        bg = rng.choice(len(A_sel), min(self.background_size, len(A_sel)), replace=False)
        self._background = A_sel[np.sort(bg)]
        self._feature_mean = X.mean(axis=0)
        imp = self._importances(A_sel, y)
        self.shap_importance_ = imp["shap"]
        self.natural_importance_ = imp["natural"]
        self.permutation_importance_ = imp["permutation"]
        self.importance_correlation_ = self._correlations(imp)

    # -- SHAP ------------------------------------------------------------------
    def _aspect_shap(self, A_sel):
        """SHAP values of the positive-class probability (every class if > 2)."""
        import shap

        from sktrust.explain._shap import ShapExplainer

        model = self.estimator_
        if _is_tree_model(model):
            explainer = shap.TreeExplainer(model, data=self._background,
                                           feature_perturbation="interventional",
                                           model_output="probability")
            exp = explainer(A_sel, check_additivity=False)
            values, base = np.asarray(exp.values), np.asarray(exp.base_values)
            if values.ndim == 3 and len(self.classes_) == 2:
                values = values[..., 1]
                base = base[..., 1] if base.ndim > 1 else base
            return values, base
        exp = ShapExplainer(FrozenEstimator(model), method="permutation",
                            max_background=self.background_size, random_state=self.seed_)
        return exp.fit(self._background)._explain(A_sel)

    def _natural(self):
        model = self.estimator_
        imp = getattr(model, "feature_importances_", None)
        if imp is not None:
            return np.asarray(imp, dtype=float)
        coef = getattr(model, "coef_", None)
        if coef is not None:
            scale = self._background.std(axis=0) if len(self._background) > 1 else 1.0
            return np.abs(np.atleast_2d(coef)).sum(axis=0) * scale
        return None

    def _importances(self, A_sel, y):
        rng = check_random_state(self.seed_)
        rows = np.arange(len(A_sel))
        if len(rows) > _MAX_SHAP_ROWS:
            rows = np.sort(rng.choice(rows, _MAX_SHAP_ROWS, replace=False))
        values, _ = self._aspect_shap(A_sel[rows])
        shap_imp = np.abs(values).mean(axis=0)
        if shap_imp.ndim == 2:
            shap_imp = shap_imp.mean(axis=1)
        perm = permutation_importance(self.estimator_, A_sel, y, scoring=self.scoring,
                                      n_repeats=self.n_repeats, random_state=self.seed_)
        return {"shap": shap_imp, "natural": self._natural(),
                "permutation": perm.importances_mean}

    @staticmethod
    def _correlations(imp):
        out = {}
        present = [k for k in IMPORTANCES if imp[k] is not None]
        for i, a in enumerate(present):
            for b in present[i + 1:]:
                u, v = imp[a], imp[b]
                if len(u) < 2 or np.ptp(u) == 0 or np.ptp(v) == 0:
                    pear = spear = float("nan")
                else:
                    pear = float(pearsonr(u, v).statistic)
                    spear = float(spearmanr(u, v).statistic)
                out[f"{a} vs {b}"] = {"pearson": pear, "spearman": spear}
        return out

    # -- public API -------------------------------------------------------------
    def _selected(self, X):
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False, dtype="numeric")
        check_non_empty(X, "X")
        return self._consolidate(X)[:, self._selected_idx]

    def transform(self, X):
        """The consolidated, selected aspects of ``X``."""
        return self._selected(X)

    def get_feature_names_out(self, input_features=None):
        """Names of the selected aspects."""
        check_is_fitted(self, "estimator_")
        return np.asarray(self.selected_features_, dtype=object)

    def predict(self, X):
        """Predictions of the fitted model on the selected aspects."""
        A = self._selected(X)
        return self.classes_[np.asarray(self.estimator_.predict(A), dtype=int)]

    def predict_proba(self, X):
        """Class probabilities of the fitted model."""
        A = self._selected(X)
        return self.estimator_.predict_proba(A)

    def score(self, X, y):
        """Accuracy of the fitted model."""
        return float(accuracy_score(y, self.predict(X)))

    def explain_aspects(self, X):
        """SHAP values per selected aspect, as a :class:`shap.Explanation`."""
        import shap

        A = self._selected(X)
        values, base = self._aspect_shap(A)
        return shap.Explanation(values=np.asarray(values), base_values=np.asarray(base),
                                data=A, feature_names=list(self.selected_features_))

    def _explain(self, X):
        A = self._consolidate(X)[:, self._selected_idx]
        values, base = self._aspect_shap(A)
        values = np.asarray(values)
        out = np.zeros((X.shape[0], X.shape[1]) + values.shape[2:])
        cols = list(self.aspects_.values())
        for k, a in enumerate(self._selected_idx):
            members = cols[a]
            if len(members) == 1:
                out[:, members[0]] = values[:, k]
                continue
            parts = (X[:, members] - self._feature_mean[members]) * self.aspect_weights_[
                members, a]
            total = parts.sum(axis=1, keepdims=True)
            share = np.where(np.abs(total) > 1e-12, parts / np.where(
                np.abs(total) > 1e-12, total, 1.0), 1.0 / len(members))
            if values.ndim == 3:
                out[:, members] = share[:, :, None] * values[:, k][:, None, :]
            else:
                out[:, members] = share * values[:, k][:, None]
        return out, base

    def importance_table(self, X=None, y=None):
        """Tidy table of the three importances per selected aspect.

        Parameters
        ----------
        X, y : array-like, default=None
            Evaluation data; ``None`` uses the values computed in ``fit`` on
            the training data.

        Returns
        -------
        table : pandas.DataFrame
            One row per selected aspect: ``aspect``, ``members``, ``shap``,
            ``natural``, ``permutation`` and the rank of each (1 = most
            important), sorted by SHAP importance.
        """
        import pandas as pd

        check_is_fitted(self, "estimator_")
        if X is None:
            imp = {"shap": self.shap_importance_, "natural": self.natural_importance_,
                   "permutation": self.permutation_importance_}
        else:
            if y is None:
                raise ValueError("importance_table needs y with X (permutation importance).")
            A = self._selected(X)
            y = column_or_1d(y)
            check_consistent_length(A, y)
            check_classification_targets_known(y, self.classes_)
            imp = self._importances(A, np.searchsorted(self.classes_, y))
        names = self._feature_names()
        cols = list(self.aspects_.values())
        table = pd.DataFrame({
            "aspect": self.selected_features_,
            "members": [", ".join(names[j] for j in cols[a]) for a in self._selected_idx],
        })
        for key in IMPORTANCES:
            table[key] = np.nan if imp[key] is None else imp[key]
        for key in IMPORTANCES:
            table[f"{key}_rank"] = table[key].rank(ascending=False, method="min")
        return table.sort_values("shap", ascending=False, ignore_index=True)

    def plot_importance(self, ax=None):
        """Bar chart of the three importances, each scaled to its maximum.

        Returns
        -------
        ax : matplotlib Axes
        """
        import matplotlib.pyplot as plt

        table = self.importance_table()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.4 * len(table) + 1.5))
        y = np.arange(len(table))
        for i, key in enumerate(IMPORTANCES):
            v = table[key].to_numpy(dtype=float)
            peak = np.nanmax(np.abs(v)) if np.any(np.isfinite(v)) else 0.0
            if peak > 0:
                ax.barh(y + (i - 1) * 0.27, v / peak, height=0.27, label=key)
        ax.set_yticks(y, table["aspect"])
        ax.invert_yaxis()
        ax.set_xlabel("importance (scaled to the largest)")
        ax.legend(loc="lower right")
        return ax

    def plot_selection_path(self, ax=None):
        """CV score after each forward-selection step.

        Returns
        -------
        ax : matplotlib Axes
        """
        import matplotlib.pyplot as plt

        check_is_fitted(self, "estimator_")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3))
        if self.selection_path_:
            names, scores = zip(*self.selection_path_)
            ax.plot(range(1, len(scores) + 1), scores, marker="o")
            ax.set_xticks(range(1, len(scores) + 1), [f"+{n}" for n in names], rotation=45,
                          ha="right")
        ax.set_ylabel(f"CV {self.scoring}")
        return ax
