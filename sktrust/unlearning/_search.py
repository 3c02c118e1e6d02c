"""Tune an unlearner's own parameters against exact retraining."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import logging
from numbers import Real

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import ParameterGrid, train_test_split
from sklearn.utils.validation import check_is_fitted

from sktrust.base import BaseUnlearner
from sktrust.metrics import (
    align_classes,
    avg_gap,
    mia_efficacy,
    remaining_accuracy,
    test_accuracy,
    unlearning_accuracy,
    unlearning_report,
)
from sktrust.unlearning._retrain import RetrainUnlearner, _reseed
from sktrust.unlearning._ssd import SSDUnlearner
from sktrust.utils._sklearn_compat import HasMethods, Interval, StrOptions, validate_data
from sktrust.utils._validation import check_random_state_seed

logger = logging.getLogger(__name__)

_REGRESSION_GAP_KEYS = ("forget_mae", "retain_mae", "test_mae")


def _regression_gap(report, reference):
    """Mean absolute difference of forget, retain and held-out MAE."""
    return float(np.mean([abs(report[k] - reference[k]) for k in _REGRESSION_GAP_KEYS]))


class UnlearningSearchCV(BaseUnlearner):
    """Choose an unlearner's parameters by their gap to retraining, on held-out data.

    ``fit`` fits the unlearner once (the base model and whatever it
    precomputes) and keeps a validation set that the model never trained on.
    Each ``unlearn`` request then retrains a reference model on the retain
    rows, runs ``unlearn`` on a copy of the fitted unlearner for every point
    of ``param_grid``, scores each copy by its average gap to the reference
    (:func:`sktrust.metrics.avg_gap`: forget, retain and validation accuracy
    and membership-inference efficacy; for regressors the mean gap of forget,
    retain and validation MAE) and keeps the best copy. The base model is
    never refitted per grid point, so the search costs one retraining plus
    one cheap ``unlearn`` per point.

    Read more in the :ref:`User Guide <unlearning>`.

    Parameters
    ----------
    estimator : unlearner, default=None
        The unlearner to tune; ``None`` is ``SSDUnlearner()``.
    param_grid : dict or list of dict, default=None
        Parameters of ``estimator`` that ``unlearn`` reads (for
        :class:`SSDUnlearner`: ``alpha``, ``dampening``, ``exponent``). Base
        model parameters (``estimator__...``) are refused: tune those with
        :class:`~sklearn.model_selection.GridSearchCV`. ``None`` uses the
        unlearner's documented default grid (``SSDUnlearner``: ``alpha`` in
        {5, 10, 20, 50, 100, 200}, ``dampening`` in {0.5, 1}).
    reference : estimator, default=None
        How the reference is retrained: a :class:`RetrainUnlearner` (its
        ``estimator`` and ``n_references`` are used) or any unfitted
        estimator. ``None`` retrains an unfitted clone of the unlearner's own
        base model, or, for an unlearner with a ``retrain_reference`` method
        (:class:`PruneFirstUnlearner`), uses it: a retrain with the same
        pruning mask.
    scoring : "avg_gap" or callable, default="avg_gap"
        Lower is better. A callable gets ``(report, reference_report)``, two
        dicts from :func:`~sktrust.metrics.unlearning_report`, and returns a
        float.
    validation_fraction : float, default=0.2
        When ``fit`` is given no ``X_val``, this fraction of the rows
        (stratified for classifiers) is held out for scoring and the
        unlearner is fitted on the rest.
    device : str, default="auto"
        Unused here (the tuned unlearner has its own).
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the membership-inference attack and
        extra references.
    keep_original : bool, default=False
    store_training_data : bool, default=False
        Passed through the protocol: keep the training rows so that
        ``unlearn(X_forget)`` derives the retain set.
    verbose : int, default=0
        Log one line per grid point when > 0.

    Attributes
    ----------
    estimator_ : unlearner
        The best unlearner (after ``unlearn``; before it, the fitted one).
    best_params_ : dict
    best_score_ : float
        Gap of the best point (lower is better).
    best_index_ : int
    baseline_score_ : float
        Gap of the model before the request ("do nothing"), scored the same
        way: a best score above it means no grid point beats leaving the
        model as it is.
    cv_results_ : dict of lists
        ``params``, ``score``, ``seconds`` and every metric of
        :func:`~sktrust.metrics.unlearning_report`, one entry per point.
    reference_estimator_ : estimator or list of estimators
        The retrained model(s) of the last request.
    reference_report_ : dict
        Their metrics.
    X_val_, y_val_ : ndarray
        The held-out rows used for scoring.
    unlearn_history_ : list of dict
    unlearn_time_ : float
        Seconds of the whole search (retraining included).
    is_unlearned_ : bool
    classes_ : ndarray
    n_features_in_ : int

    See Also
    --------
    RetrainUnlearner : the reference.
    SSDUnlearner : whose ``alpha`` is model-specific and needs this search.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktrust.unlearning import SSDUnlearner, UnlearningSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = UnlearningSearchCV(SSDUnlearner(LogisticRegression(max_iter=500)),
    ...                             {"alpha": [2.0, 10.0]}, random_state=0)
    >>> forget = y == 2
    >>> _ = search.fit(X, y).unlearn(X[forget], y[forget], X[~forget], y[~forget])
    >>> sorted(search.best_params_)
    ['alpha']
    """

    _parameter_constraints: dict = {
        **BaseUnlearner._parameter_constraints,
        "estimator": [HasMethods(["fit", "unlearn"]), None],
        "param_grid": [dict, list, None],
        "reference": [HasMethods(["fit"]), None],
        "scoring": [StrOptions({"avg_gap"}), callable],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "verbose": ["verbose"],
    }

    _requires_retain = True

    def __init__(self, estimator=None, param_grid=None, *, reference=None,
                 scoring="avg_gap", validation_fraction=0.2, device="auto",
                 random_state=None, keep_original=False, store_training_data=False,
                 verbose=0):
        super().__init__(estimator, device=device, random_state=random_state,
                         keep_original=keep_original,
                         store_training_data=store_training_data)
        self.param_grid = param_grid
        self.reference = reference
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.verbose = verbose

    def _base_estimator(self):
        est = SSDUnlearner() if self.estimator is None else self.estimator
        params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
        if params.get("random_state", 0) is None and self.random_state is not None:
            # An unseeded inner unlearner would make the search irreproducible.
            est = clone(est).set_params(random_state=check_random_state_seed(
                self.random_state))
        return est

    def _grid(self):
        grid = self.param_grid
        if grid is None:
            grid = getattr(self._base_estimator(), "_search_grid", None)
            if grid is None:
                raise ValueError(
                    f"{type(self._base_estimator()).__name__} has no default search "
                    "grid; pass param_grid."
                )
        grid = ParameterGrid(grid)
        for point in grid:
            bad = [k for k in point if k == "estimator" or k.startswith("estimator__")]
            if bad:
                raise ValueError(
                    f"param_grid names base-model parameters {bad}; UnlearningSearchCV "
                    "tunes the unlearner only (the base model is fitted once). Tune "
                    "the base model with GridSearchCV."
                )
        return grid

    def fit(self, X, y=None, *, X_val=None, y_val=None, **fit_params):
        """Fit the unlearner once and keep held-out rows for scoring.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
        X_val, y_val : array-like, default=None
            Held-out rows (never trained on). ``None`` holds out
            ``validation_fraction`` of ``X``.
        **fit_params : dict
            Passed to the unlearner's ``fit``.

        Returns
        -------
        self : object
        """
        self._grid()
        if y is None and self._inner_tags().target_tags.required:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        if X_val is None:
            seed = check_random_state_seed(self.random_state)
            base = self._base_estimator()
            stratify = y if (y is not None and is_classifier(base)) else None
            try:
                X, X_val, y, y_val = train_test_split(
                    X, y, test_size=self.validation_fraction, random_state=seed,
                    stratify=stratify)
            except ValueError:
                X, X_val, y, y_val = train_test_split(
                    X, y, test_size=self.validation_fraction, random_state=seed)
        elif y_val is None and y is not None:
            raise ValueError("X_val was given without y_val.")
        super().fit(X, y, **fit_params)
        X_val_v = validate_data(self, X_val, reset=False, dtype=None)
        self.X_val_ = X_val_v
        self.y_val_ = None if y_val is None else np.asarray(y_val)
        return self

    def _reference_models(self, X_retain, y_retain):
        ref = self.reference
        if ref is None and hasattr(self.estimator_, "retrain_reference"):
            # A pruned model is judged against a retrain with the same mask.
            return [self.estimator_.retrain_reference(X_retain, y_retain)]
        if ref is None:
            base = getattr(self._base_estimator(), "estimator", None)
            ref = RetrainUnlearner(base)
        if isinstance(ref, RetrainUnlearner):
            n = ref.n_references
            unfitted = ref._unfitted()
        else:
            n = 1
            unfitted = clone(ref.estimator if isinstance(ref, FrozenEstimator) else ref)
        seed = check_random_state_seed(self.random_state)
        models = [clone(unfitted).fit(X_retain, y_retain)]
        models += [_reseed(clone(unfitted), seed + i).fit(X_retain, y_retain)
                   for i in range(1, n)]
        return models

    def _score(self, report, reference_report):
        if callable(self.scoring):
            return float(self.scoring(report, reference_report))
        if is_regressor(self):
            return _regression_gap(report, reference_report)
        return avg_gap(report, reference_report)

    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        check_is_fitted(self, "X_val_")
        if y_forget is None or y_retain is None:
            raise ValueError(
                "UnlearningSearchCV.unlearn needs y_forget and y_retain to score "
                "the grid against retraining."
            )
        forget_classes = None
        if is_classifier(self):
            gone = np.setdiff1d(np.unique(y_forget), np.unique(y_retain))
            forget_classes = gone if gone.size else None
        seed = check_random_state_seed(self.random_state)
        models = self._reference_models(X_retain, y_retain)
        refs = models
        data = (X_forget, y_forget, X_retain, y_retain, self.X_val_, self.y_val_)

        def report(model):
            if is_regressor(self):
                return unlearning_report(model, *data)
            Xf, yf, Xr, yr, Xv, yv = data
            return {
                "unlearning_accuracy": unlearning_accuracy(model, Xf, yf),
                "remaining_accuracy": remaining_accuracy(model, Xr, yr),
                "test_accuracy": test_accuracy(model, Xv, yv, forget_classes),
                "mia_efficacy": mia_efficacy(model, Xr, yr, Xv, yv, Xf, yf,
                                             random_state=seed),
            }

        if is_classifier(self):
            # A model retrained without a class gives it probability 0.
            refs = [align_classes(r, self.classes_) for r in models]
        ref_reports = [report(r) for r in refs]
        ref_report = {k: float(np.mean([r[k] for r in ref_reports]))
                      for k in ref_reports[0]}
        # The model as it stands (no edit) is the "do nothing" baseline.
        self.baseline_score_ = self._score(report(self.estimator_), ref_report)
        results = {"params": [], "score": [], "seconds": []}
        best, best_score, best_index = None, np.inf, -1
        for i, point in enumerate(self._grid()):
            cand = copy.deepcopy(self.estimator_).set_params(**point)
            if hasattr(cand, "random_state") and "random_state" not in point:
                cand.set_params(random_state=seed)
            cand.unlearn(X_forget, y_forget, X_retain, y_retain)
            rep = report(cand)
            score = self._score(rep, ref_report)
            results["params"].append(point)
            results["score"].append(score)
            results["seconds"].append(float(cand.unlearn_time_))
            for k, v in rep.items():
                if k != "seconds":
                    results.setdefault(k, []).append(v)
            if self.verbose > 0:
                logger.info("%s: gap %.3f", point, score)
            if best is None or score < best_score:
                best, best_score, best_index = cand, score, i
        self.cv_results_ = results
        self.best_params_ = results["params"][best_index]
        self.best_score_ = float(best_score)
        self.best_index_ = best_index
        self.reference_estimator_ = models[0] if len(models) == 1 else models
        self.reference_report_ = ref_report
        self.estimator_ = best
