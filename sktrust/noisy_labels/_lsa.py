"""LSA: linear separation alternating with small-loss noise detection."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from sktrust.utils._sklearn_compat import (
    HasMethods,
    Interval,
    _fit_context,
    validate_data,
)
from sktrust.utils._validation import (
    check_classification_targets_known,
    encode_classification_target,
)

logger = logging.getLogger(__name__)

_EPS = 1e-12


def small_loss_posterior(losses, *, max_iter=10, tol=1e-2, reg_covar=5e-4,
                         random_state=0):
    """Posterior of the high-loss component of a 2-component 1-D GMM.

    The losses are min-max normalised first (LSA's official code); the
    component with the *larger* mean is the noisy one, whichever order the
    mixture returns its components in.

    Parameters
    ----------
    losses : array-like of shape (n_samples,)
    max_iter, tol, reg_covar : GMM settings (LSA's defaults).
    random_state : int, default=0

    Returns
    -------
    posterior : ndarray of shape (n_samples,)
        Probability that each row belongs to the high-loss (noisy) component.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.noisy_labels import small_loss_posterior
    >>> losses = np.r_[np.full(20, 0.1), np.full(5, 3.0)]
    >>> (small_loss_posterior(losses) > 0.5).sum()
    np.int64(5)
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 1 or losses.size == 0:
        raise ValueError(
            f"losses must be a non-empty 1-D array; got shape {losses.shape}."
        )
    if not np.isfinite(losses).all():
        raise ValueError("losses must be finite; got NaN or infinity.")
    span = losses.max() - losses.min()
    if losses.size < 2 or span <= 0:
        return np.zeros_like(losses)
    z = ((losses - losses.min()) / span).reshape(-1, 1)
    gmm = GaussianMixture(n_components=2, max_iter=max_iter, tol=tol,
                          reg_covar=reg_covar, random_state=random_state).fit(z)
    return gmm.predict_proba(z)[:, int(np.argmax(gmm.means_.ravel()))]


def _check_alternate(alternate):
    """The detection schedule as a list, or a ValueError naming the bad value."""
    modes = list(alternate)
    if not modes or any(m not in ("linear", "loss") for m in modes):
        raise ValueError(
            f"alternate must be a non-empty sequence of 'linear' / 'loss'; got {alternate!r}."
        )
    return modes


class LSANoiseDetector(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Find mislabelled rows: linear separation alternating with small loss.

    Each round fits ``estimator`` on the current targets, computes every
    row's out-of-fold cross-entropy with respect to its *given* label, and
    splits the rows with a two-component Gaussian mixture on the normalised
    losses (the small-loss detector). On "linear" rounds that split is then
    redrawn by a linear separator in feature space, one per observed class
    (mislabelled rows of class ``k`` are rows of other classes, so within
    ``k`` they lie on the far side of a hyperplane); on "loss" rounds it is
    kept. Rows flagged noisy get the out-of-fold predicted class as their
    target for the next round (PLS-style relabelling), so each round's model
    learns from cleaner targets. The modes alternate as in LSA.

    After ``fit``: ``noisy_mask_`` (True = likely mislabelled),
    ``suggested_labels_`` (the given label, or the predicted class for
    flagged rows) and ``clean_score_``; ``predict`` / ``predict_proba`` use a
    classifier refitted on the corrected labels; ``score_samples(X, y)``
    scores how clean the labels ``y`` of new rows look.

    Read more in the :ref:`User Guide <noisy_labels>`.

    Parameters
    ----------
    estimator : classifier with predict_proba, default=None
        ``None`` is ``StandardScaler`` + ``LogisticRegression(max_iter=1000)``.
    n_rounds : int, default=3
        Detection rounds; round ``r`` uses mode ``alternate[r % len]``.
    alternate : tuple of {"linear", "loss"}, default=("linear", "loss")
        Mode schedule (LSA's official order). ``("loss",)`` is the plain
        small-loss detector, ``("linear",)`` the separator alone.
    cv : int, default=5
        Folds for the out-of-fold losses (capped by the smallest class).
    gmm_threshold : float, default=0.5
        Posterior of the high-loss component above which a row is noisy. The
        paper uses 0.95 on deep nets trained for many epochs; with a linear
        model's out-of-fold losses 0.95 misses many flips (see the user guide).
    linear_C : float, default=1.0
        Inverse regularisation of the separators (balanced class weights).
    relabel : bool, default=True
        Train the next round on predicted labels for flagged rows
        (``False``: on the given labels every round).
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the mixtures.

    Attributes
    ----------
    estimator_ : classifier
        Fitted on all rows with ``suggested_labels_``.
    classes_ : ndarray of shape (n_classes,)
    noisy_mask_ : ndarray of bool of shape (n_samples,)
    clean_score_ : ndarray of shape (n_samples,)
        1 - P(noisy) of each training row in the last round (higher = cleaner).
    suggested_labels_ : ndarray of shape (n_samples,)
    detection_history_ : ndarray of bool of shape (n_rounds, n_samples)
    mode_history_ : list of str
    separators_ : dict
        Class label -> fitted separator (or a constant P(noisy)) of the last
        linear round.
    scaler_ : StandardScaler
        Standardises the features the separators see.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    .. [1] P. Albert, J. Valmadre, E. Arazo, T. Krishna, N. O'Connor,
       K. McGuinness, "An accurate detection is not all you need to combat
       label noise in web-noisy datasets", ECCV 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sktrust.datasets import flip_labels
    >>> from sktrust.noisy_labels import LSANoiseDetector
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> y_noisy, flipped = flip_labels(y, 0.2, random_state=0)
    >>> det = LSANoiseDetector(random_state=0).fit(X, y_noisy)
    >>> hit = (det.noisy_mask_ & flipped).sum() / flipped.sum()
    >>> bool(hit > 0.8)
    True
    >>> det.score_samples(X[:3], y_noisy[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "n_rounds": [Interval(Integral, 1, None, closed="left")],
        "alternate": [tuple, list],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "gmm_threshold": [Interval(Real, 0, 1, closed="neither")],
        "linear_C": [Interval(Real, 0, None, closed="neither")],
        "relabel": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, n_rounds=3, alternate=("linear", "loss"),
                 cv=5, gmm_threshold=0.5, linear_C=1.0, relabel=True,
                 random_state=None):
        self.estimator = estimator
        self.n_rounds = n_rounds
        self.alternate = alternate
        self.cv = cv
        self.gmm_threshold = gmm_threshold
        self.linear_C = linear_C
        self.relabel = relabel
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def _base(self):
        if self.estimator is None:
            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        return self.estimator

    def _seed(self):
        from sktrust.utils import check_random_state_seed

        return check_random_state_seed(self.random_state)

    def _oof_proba(self, X, targets, seed):
        n_splits = min(self.cv, int(np.bincount(targets).min()))
        if n_splits < 2:
            # A class with a single row: no folds possible, use in-sample fits.
            model = clone(self._base()).fit(X, targets)
            proba = np.zeros((len(X), self.classes_.size))
            proba[:, model.classes_] = model.predict_proba(X)
            return proba
        folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
        proba = cross_val_predict(clone(self._base()), X, targets, cv=folds,
                                  method="predict_proba")
        if proba.shape[1] < self.classes_.size:  # a class missing from targets
            full = np.zeros((len(X), self.classes_.size))
            full[:, np.unique(targets)] = proba
            proba = full
        return proba

    def _fit_separators(self, F, codes, noisy, seed):
        separators, p_noisy = {}, np.zeros(len(codes))
        for c in range(self.classes_.size):
            rows = codes == c
            labels = noisy[rows]
            if labels.min() == labels.max():
                separators[c] = float(labels[0])
                p_noisy[rows] = float(labels[0])
                continue
            sep = LogisticRegression(C=self.linear_C, class_weight="balanced",
                                     max_iter=1000, random_state=seed)
            sep.fit(F[rows], labels.astype(int))
            separators[c] = sep
            p_noisy[rows] = sep.predict_proba(F[rows])[:, 1]
        return separators, p_noisy

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Detect likely mislabelled rows and fit the corrected classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Given (possibly noisy) labels.

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y)
        codes = encode_classification_target(self, y)
        modes = _check_alternate(self.alternate)
        seed = self._seed()
        self.scaler_ = StandardScaler().fit(X)
        F = self.scaler_.transform(X)
        targets = codes.copy()
        history, self.mode_history_ = [], []
        self.separators_ = None
        for r in range(self.n_rounds):
            mode = modes[r % len(modes)]
            proba = self._oof_proba(X, targets, seed + r)
            losses = -np.log(np.clip(proba[np.arange(len(codes)), codes], _EPS, 1.0))
            posterior = small_loss_posterior(losses, random_state=seed + r)
            noisy = posterior > self.gmm_threshold
            p_noisy = posterior
            if mode == "linear":
                self.separators_, p_noisy = self._fit_separators(F, codes, noisy, seed)
                noisy = p_noisy > 0.5
            history.append(noisy)
            self.mode_history_.append(mode)
            if self.relabel:
                targets = np.where(noisy, proba.argmax(axis=1), codes)
                if np.unique(targets).size < 2:
                    # Relabelling would leave one class: nothing left to learn.
                    targets = codes
        self.noisy_mask_ = noisy
        self.clean_score_ = 1.0 - p_noisy
        self.detection_history_ = np.asarray(history)
        suggested = np.where(noisy, proba.argmax(axis=1), codes)
        self.suggested_labels_ = self.classes_[suggested]
        self._last_loss_p = (losses, posterior)
        fit_labels = self.suggested_labels_
        if np.unique(suggested).size < 2:
            logger.warning("every row was relabelled to one class; refitting on y")
            fit_labels = y
        self.estimator_ = clone(self._base()).fit(X, fit_labels)
        return self

    def predict(self, X):
        """Labels from the classifier refitted on the corrected labels."""
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False)
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        """Class probabilities from the classifier refitted on corrected labels."""
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False)
        return self.estimator_.predict_proba(X)

    def score_samples(self, X, y=None):
        """How clean the label of each row looks (higher = cleaner), in [0, 1].

        With a linear round in the schedule, 1 - P(noisy) from the separator of
        the row's label; otherwise 1 - the high-loss posterior of the
        refitted classifier's loss on ``y``, under the mixture of the last
        round.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            The labels to judge. ``None`` judges the labels ``predict`` gives
            (how typical each row is of its predicted class).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False)
        y = self.estimator_.predict(X) if y is None else np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}.")
        check_classification_targets_known(y, self.classes_)
        codes = np.searchsorted(self.classes_, y)
        if self.separators_ is not None:
            F = self.scaler_.transform(X)
            p_noisy = np.zeros(len(codes))
            for c, sep in self.separators_.items():
                rows = codes == c
                if not rows.any():
                    continue
                p_noisy[rows] = sep if isinstance(sep, float) else (
                    sep.predict_proba(F[rows])[:, 1])
            return 1.0 - p_noisy
        proba = self.estimator_.predict_proba(X)
        losses = -np.log(np.clip(proba[np.arange(len(codes)), codes], _EPS, 1.0))
        train_losses, train_post = self._last_loss_p
        order = np.argsort(train_losses)
        # Posterior as a monotone function of the loss, read off the training fit.
        return 1.0 - np.interp(losses, train_losses[order], train_post[order])
