"""SHAP values for any fitted model, through shap's own explainers."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from sktrust.base import BaseExplainer
from sktrust.explain._model import model_input
from sktrust.utils._sklearn_compat import HasMethods, Interval, StrOptions


def _is_tree_model(model):
    if hasattr(model, "tree_"):
        return True
    if type(model).__module__.startswith("xgboost"):
        return True
    trees = getattr(model, "estimators_", None)
    try:
        return trees is not None and hasattr(np.ravel(trees)[0], "tree_")
    except (IndexError, TypeError):
        return False


def _is_linear_model(model):
    coef = getattr(model, "coef_", None)
    return coef is not None and np.ndim(coef) <= 2 and hasattr(model, "intercept_")


class ShapExplainer(BaseExplainer):
    """SHAP attributions for a fitted model, as a :class:`shap.Explanation`.

    A thin, sklearn-shaped front to shap: ``fit`` takes the background data
    (and, when ``estimator`` is not fitted yet, ``y`` to fit it), ``explain``
    returns shap's ``Explanation`` so that ``shap.plots.beeswarm``,
    ``waterfall`` and ``bar`` work directly. Values are additive:
    ``values.sum(axis=1) + base_values`` equals the explained output.

    Which output is explained depends on the method, reported in ``output_``:

    - ``"tree"`` on XGBoost and ``"linear"`` (linear models): the raw margin
      (log-odds for classifiers), computed exactly; ``"tree"`` on
      scikit-learn trees and forests: the predicted probability, exactly;
    - ``"permutation"`` (any model, pipelines included): the predicted
      probability for classifiers (positive class when binary, every class
      otherwise), the prediction for regressors.

    Read more in the :ref:`User Guide <explain>`.

    Parameters
    ----------
    estimator : estimator, default=None
        Model to explain, fitted or not; ``None`` is an unfitted
        ``LogisticRegression(max_iter=1000)``. An unfitted one is cloned and
        fitted on ``(X, y)`` in ``fit``. A fitted model may be passed as is or
        as ``FrozenEstimator(model)``; it is never modified.
    method : {"auto", "tree", "linear", "permutation"}, default="auto"
        ``"auto"``: tree for tree models, linear for linear ones, permutation
        otherwise.
    max_background : int, default=100
        Background rows kept (a random subsample when there are more).
    max_evals : int or "auto", default="auto"
        Model evaluations per row for the permutation method
        (``2 * n_features + 1`` at least).
    random_state : int, RandomState instance or None, default=None
        Seeds the background subsample and the permutations.

    Attributes
    ----------
    model_ : estimator
        The fitted model that is explained.
    method_ : str
        The shap method used.
    output_ : {"margin", "probability", "prediction"}
        What the values add up to.
    background_ : ndarray
        The validated background data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sktrust.explain import ShapExplainer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> exp = ShapExplainer(random_state=0).fit(X[:200], y[:200]).explain(X[:3])
    >>> exp.values.shape
    (3, 30)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "method": [StrOptions({"auto", "tree", "linear", "permutation"})],
        "max_background": [Interval(Integral, 1, None, closed="left")],
        "max_evals": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, method="auto", max_background=100,
                 max_evals="auto", random_state=None):
        self.estimator = estimator
        self.method = method
        self.max_background = max_background
        self.max_evals = max_evals
        self.random_state = random_state

    def _fit(self, X, y):
        from sklearn.linear_model import LogisticRegression

        est = LogisticRegression(max_iter=1000) if self.estimator is None else (
            self.estimator)
        if isinstance(est, FrozenEstimator):
            est = est.estimator
        try:
            check_is_fitted(est)
            self.model_ = est
        except Exception:
            if y is None:
                raise ValueError(
                    "ShapExplainer.fit got y=None but the estimator is not fitted: "
                    "pass a fitted estimator, or y to fit it."
                ) from None
            self.model_ = clone(est).fit(X, y)
        rng = check_random_state(self.random_state)
        if X.shape[0] > self.max_background:
            idx = rng.choice(X.shape[0], self.max_background, replace=False)
            self.background_ = X[np.sort(idx)]
        self._seed = int(rng.randint(np.iinfo(np.int32).max))
        model = self.model_
        if self.method != "auto":
            self.method_ = self.method
        elif isinstance(model, Pipeline):
            self.method_ = "permutation"
        elif _is_tree_model(model):
            self.method_ = "tree"
        elif _is_linear_model(model):
            self.method_ = "linear"
        else:
            self.method_ = "permutation"
        if self.method_ == "permutation" or (
            self.method_ == "tree" and is_classifier(model)
            and not type(model).__module__.startswith("xgboost")
        ):
            # sklearn tree ensembles are explained on predict_proba by shap.
            self.output_ = "probability" if is_classifier(model) else "prediction"
        else:
            self.output_ = "margin" if is_classifier(model) else "prediction"

    def _model_fn(self):
        model = self.model_
        if not is_classifier(model):
            return lambda Z: model.predict(model_input(model, Z))
        if len(model.classes_) == 2:
            return lambda Z: model.predict_proba(model_input(model, Z))[:, 1]
        return lambda Z: model.predict_proba(model_input(model, Z))

    def _explain(self, X):
        import shap

        if self.method_ == "tree":
            explainer = shap.TreeExplainer(self.model_)
            exp = explainer(X, check_additivity=True)
        elif self.method_ == "linear":
            masker = shap.maskers.Independent(
                self.background_, max_samples=len(self.background_))
            explainer = shap.LinearExplainer(self.model_, masker)
            exp = explainer(X)
        else:
            masker = shap.maskers.Independent(self.background_,
                                              max_samples=self.max_background)
            explainer = shap.PermutationExplainer(self._model_fn(), masker,
                                                  seed=self._seed)
            n_evals = 2 * X.shape[1] + 1
            max_evals = n_evals if self.max_evals == "auto" else max(
                self.max_evals, n_evals)
            exp = explainer(X, max_evals=max_evals, silent=True)
        values = np.asarray(exp.values)
        base = np.asarray(exp.base_values)
        if values.ndim == 3 and values.shape[2] == 2:
            # Binary classifier explained per class: keep the positive class,
            # as for the one-output models.
            values = values[..., 1]
            base = base[..., 1] if base.ndim > 1 else base
        return values, base
