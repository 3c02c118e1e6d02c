"""RCAL: representation calibration for noisy, long-tailed labels."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import logging
from numbers import Integral, Real

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.covariance import LedoitWolf
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from sktrust.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from sktrust.utils._validation import encode_classification_target

logger = logging.getLogger(__name__)

_STAT_CONSTRAINTS = {
    "outlier_method": [StrOptions({"knn", "lof", "none"})],
    "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    "tail_threshold": [StrOptions({"mean"}), Interval(Integral, 1, None, closed="left")],
    "n_borrow": [Interval(Integral, 0, None, closed="left")],
    "calibrate_means": ["boolean"],
    "cov_inflation": [Interval(Real, 0, None, closed="left")],
}


def neighbourhood_label_scores(Z, codes, n_classes, n_neighbors=10):
    """Prior-corrected share of each row's own label among its neighbours.

    For every row, the labels of its ``n_neighbors`` nearest other rows are
    counted, each count divided by the frequency of that label in the whole
    set (so that a tail label among few neighbours still counts), and the
    result normalised to sum to one. The score of a row is the value of its
    own label: 1 when every neighbour agrees, near 0 when its label is absent
    around it. Labels are never used to find the neighbours, so a flipped
    label sits among neighbours of its true class and scores low.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
        Representation in which neighbours are searched.
    codes : ndarray of int of shape (n_samples,)
        Observed labels encoded as ``0 .. n_classes - 1``.
    n_classes : int
    n_neighbors : int, default=10
        Capped at ``n_samples - 1``.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, 1]; higher means the label agrees with the neighbourhood.
    """
    n = Z.shape[0]
    k = min(n_neighbors, n - 1)
    if k < 1:
        return np.ones(n)
    idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z, return_distance=False)
    # Drop each row itself (the first hit, except for exact duplicates).
    own = idx == np.arange(n)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
    keep = np.ones_like(idx, dtype=bool)
    keep[np.arange(n), drop] = False
    neigh = idx[keep].reshape(n, k)
    prior = np.bincount(codes, minlength=n_classes) / n
    counts = np.zeros((n, n_classes))
    np.add.at(counts, (np.repeat(np.arange(n), k), codes[neigh].ravel()), 1.0)
    weighted = counts / k / np.where(prior > 0, prior, 1.0)
    total = weighted.sum(axis=1)
    return weighted[np.arange(n), codes] / np.where(total > 0, total, 1.0)


def _inlier_mask(Z, codes, n_classes, method, n_neighbors):
    """True for rows kept to estimate the class statistics."""
    n = Z.shape[0]
    keep = np.ones(n, dtype=bool)
    if method == "knn":
        score = neighbourhood_label_scores(Z, codes, n_classes, n_neighbors)
        keep = score >= 1.0 / n_classes
    elif method == "lof":
        for c in range(n_classes):
            rows = np.flatnonzero(codes == c)
            if rows.size > 2:
                lof = LocalOutlierFactor(n_neighbors=min(n_neighbors, rows.size - 1))
                keep[rows[lof.fit_predict(Z[rows]) == -1]] = False
        score = keep.astype(float)
    else:
        return keep
    # Never empty a class: keep its best-scoring rows (two, or all it has).
    for c in range(n_classes):
        rows = np.flatnonzero(codes == c)
        if keep[rows].sum() < min(2, rows.size):
            best = rows[np.argsort(-score[rows], kind="stable")[: min(2, rows.size)]]
            keep[best] = True
    return keep


def robust_class_statistics(Z, codes, n_classes, *, outlier_method="knn",
                            n_neighbors=10, tail_threshold="mean", n_borrow=3,
                            calibrate_means=False, cov_inflation=0.0):
    """RCAL's steps 2 and 3: robust per-class Gaussians, calibrated tails.

    Returns a dict with ``inlier_mask``, ``counts`` (inliers per class),
    ``means``, ``covariances``, ``calibrated_means``,
    ``calibrated_covariances``, ``tail_classes`` (codes) and ``borrowed_from``
    (tail code -> list of head codes).
    """
    d = Z.shape[1]
    keep = _inlier_mask(Z, codes, n_classes, outlier_method, n_neighbors)
    counts = np.bincount(codes[keep], minlength=n_classes)
    means = np.zeros((n_classes, d))
    covs = np.zeros((n_classes, d, d))
    has_cov = counts >= 2
    for c in range(n_classes):
        Zc = Z[keep & (codes == c)]
        means[c] = Zc.mean(axis=0)
        if has_cov[c]:
            # Ledoit-Wolf shrinkage: well conditioned even when n_c < d.
            covs[c] = LedoitWolf().fit(Zc).covariance_
    threshold = counts.mean() if tail_threshold == "mean" else tail_threshold
    tail = np.flatnonzero((counts < threshold) | ~has_cov)
    head = np.setdiff1d(np.flatnonzero(has_cov), tail)
    if head.size == 0:
        # No class can lend: pool the classes that have a covariance.
        head = np.flatnonzero(has_cov)
    cal_means, cal_covs = means.copy(), covs.copy()
    borrowed = {}
    for c in tail:
        donors = head[head != c]
        dist = np.linalg.norm(means[donors] - means[c], axis=1)
        donors = donors[np.argsort(dist, kind="stable")[:n_borrow]]
        borrowed[int(c)] = donors.tolist()
        own = [c] if has_cov[c] else []
        pool = own + donors.tolist()
        if pool:
            cal_covs[c] = covs[pool].mean(axis=0)
        if calibrate_means and donors.size:
            cal_means[c] = (means[c] + means[donors].sum(axis=0)) / (donors.size + 1)
    if not np.any(has_cov):
        logger.warning("no class has two rows: RCAL samples repeat the class means")
    cal_covs += cov_inflation * np.eye(d)
    return {
        "inlier_mask": keep,
        "counts": counts,
        "means": means,
        "covariances": covs,
        "calibrated_means": cal_means,
        "calibrated_covariances": cal_covs,
        "tail_classes": tail,
        "borrowed_from": borrowed,
    }


def _gaussian_samples(means, covs, n_per_class, rng):
    X_syn, y_syn = [], []
    for c, n in enumerate(n_per_class):
        if n > 0:
            # The symmetric square root V sqrt(w) V^T: unique (no eigenvector
            # sign ambiguity) and valid for singular covariances.
            w, V = np.linalg.eigh(covs[c])
            root = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
            X_syn.append(means[c] + rng.standard_normal((int(n), means.shape[1])) @ root)
            y_syn.append(np.full(int(n), c))
    if not X_syn:
        return np.empty((0, means.shape[1])), np.empty(0, dtype=int)
    return np.vstack(X_syn), np.concatenate(y_syn)


def _stat_params(est):
    return {k: getattr(est, k) for k in _STAT_CONSTRAINTS}


class RCALCalibrator(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Representation calibration for noisy, long-tailed labels (RCAL).

    Models each class as a Gaussian in a representation that labels never
    touched, estimates it robustly so that mislabelled rows do not bias it,
    lends covariance from the nearest head classes to tail classes that have
    too few rows, and trains the final classifier on the real rows plus
    samples drawn from the recovered Gaussians, so that every class is as
    large as the largest.

    Steps, in the representation ``Z`` (``encoder`` output, standardised):

    1. Drop likely mislabelled rows: with ``outlier_method="knn"`` a row is
       dropped when its label is rarer among its ``n_neighbors`` nearest rows
       than uniform chance, after dividing each label's count by its
       frequency (so tail labels are not dropped for being rare); with
       ``"lof"`` (the paper) Local Outlier Factor runs inside each observed
       class.
    2. Per class, the mean and the Ledoit-Wolf covariance of the kept rows.
    3. Tail classes (fewer kept rows than ``tail_threshold``) average their
       covariance with those of the ``n_borrow`` head classes whose means are
       nearest; a class with a single row takes the borrowed covariance alone.
    4. Sample from N(mean, calibrated covariance) until each class has as
       many rows as the largest; fit ``estimator`` on kept rows + samples.

    Read more in the :ref:`User Guide <noisy_labels>`.

    Parameters
    ----------
    estimator : classifier, default=None
        Final classifier, trained on the representation. ``None`` is
        ``LogisticRegression(max_iter=1000)``.
    encoder : transformer, fitted net or None, default=None
        How rows become representations. ``None``: the features as given.
        A transformer with ``fit``/``transform`` (``PCA``, or
        :class:`SimCLREncoder`, the paper's label-free contrastive
        representation) is cloned and fitted on ``X`` without labels; wrap a fitted
        one in :class:`~sklearn.frozen.FrozenEstimator` to use it as is. A
        fitted skorch net or sklearn MLP without ``transform`` gives its
        penultimate activations through :func:`sktrust.nn.as_torch_model`.
        The representation is then standardised. The default keeps the
        features: on our data the standardised features gave higher balanced
        accuracy than a contrastive representation learned from the same few
        hundred rows (numbers in the user guide).
    outlier_method : {"knn", "lof", "none"}, default="knn"
        How mislabelled rows are found (step 1). The paper uses ``"lof"``
        inside each class; under symmetric noise a tail class's labelled
        rows are mostly flipped head rows, which LOF inside the class cannot
        single out, so the default compares each label with its
        neighbourhood across all classes (see the user guide for numbers).
    n_neighbors : int, default=10
        Neighbours for ``"knn"`` and ``"lof"``.
    tail_threshold : "mean" or int, default="mean"
        Classes with fewer kept rows than this (the mean count with
        ``"mean"``) borrow statistics.
    n_borrow : int, default=3
        Number of head classes a tail class borrows from.
    calibrate_means : bool, default=False
        Also average the tail mean with the borrowed means (the form of
        "distribution calibration"). Off by default: it pulls tail samples
        towards head classes and lowered balanced accuracy in our runs.
    cov_inflation : float, default=0.0
        Added to the diagonal of calibrated covariances.
    drop_outliers : bool, default=True
        Train the final classifier on the kept real rows only (``False``:
        on every real row, as in the paper's step 5).
    random_state : int, RandomState instance or None, default=None
        Seeds the Gaussian samples.

    Attributes
    ----------
    estimator_ : classifier
        The fitted final classifier (on the representation).
    encoder_ : transformer or None
    scaler_ : StandardScaler
        Standardises the representation.
    classes_ : ndarray of shape (n_classes,)
    means_, covariances_ : ndarray
        Robust per-class mean ``(n_classes, d)`` and covariance
        ``(n_classes, d, d)``.
    calibrated_means_, calibrated_covariances_ : ndarray
        The same after tail calibration; samples are drawn from these.
    outlier_mask_ : ndarray of bool of shape (n_samples,)
        True for training rows flagged as likely mislabelled.
    tail_classes_ : ndarray
        Labels of the tail classes.
    borrowed_from_ : dict
        Tail label -> list of head labels it borrowed from.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    .. [1] M. Zhang, X. Zhao, J. Yao, C. Yuan, W. Huang, "When Noisy Labels Meet
       Long Tail Dilemmas: A Representation Calibration Method", ICCV 2023.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sktrust.noisy_labels import RCALCalibrator
    >>> X, y = load_iris(return_X_y=True)
    >>> X, y = X[:110], y[:110]          # 50 / 50 / 10 rows: a tail class
    >>> clf = RCALCalibrator(random_state=0).fit(X, y)
    >>> clf.tail_classes_.tolist(), clf.borrowed_from_
    ([2], {2: [1, 0]})
    >>> X_syn, y_syn = clf.sample([0, 0, 5], random_state=0)
    >>> X_syn.shape
    (5, 4)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "encoder": [HasMethods(["fit"]), None],
        **_STAT_CONSTRAINTS,
        "drop_outliers": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, encoder=None, outlier_method="knn",
                 n_neighbors=10, tail_threshold="mean", n_borrow=3,
                 calibrate_means=False, cov_inflation=0.0, drop_outliers=True,
                 random_state=None):
        self.estimator = estimator
        self.encoder = encoder
        self.outlier_method = outlier_method
        self.n_neighbors = n_neighbors
        self.tail_threshold = tail_threshold
        self.n_borrow = n_borrow
        self.calibrate_means = calibrate_means
        self.cov_inflation = cov_inflation
        self.drop_outliers = drop_outliers
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def _fit_encoder(self, X):
        enc = self.encoder
        if enc is None:
            return None
        if isinstance(enc, FrozenEstimator) or not hasattr(enc, "transform"):
            return copy.deepcopy(enc)
        return clone(enc).fit(X)

    def _represent(self, X):
        enc = self.encoder_
        if enc is None:
            Z = X
        elif hasattr(enc, "transform"):
            Z = enc.transform(X)
        else:
            from sktrust.nn import as_torch_model

            Z = as_torch_model(enc).features(X)
        return np.asarray(Z, dtype=np.float64)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Estimate the class Gaussians and fit the final classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Observed (possibly noisy) labels.

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y)
        codes = encode_classification_target(self, y)
        self.encoder_ = self._fit_encoder(X)
        Z_raw = self._represent(X)
        self.scaler_ = StandardScaler().fit(Z_raw)
        Z = self.scaler_.transform(Z_raw)
        stats = robust_class_statistics(Z, codes, self.classes_.size,
                                        **_stat_params(self))
        self._set_statistics(stats)
        keep = stats["inlier_mask"] if self.drop_outliers else np.ones(len(y), bool)
        counts = np.bincount(codes[keep], minlength=self.classes_.size)
        rng = check_random_state(self.random_state)
        Z_syn, c_syn = _gaussian_samples(self.calibrated_means_,
                                         self.calibrated_covariances_,
                                         counts.max() - counts, rng)
        base = LogisticRegression(max_iter=1000) if self.estimator is None else (
            self.estimator)
        self.estimator_ = clone(base).fit(
            np.vstack([Z[keep], Z_syn]),
            self.classes_[np.concatenate([codes[keep], c_syn])],
        )
        self.n_synthetic_ = int(c_syn.size)
        return self

    def _set_statistics(self, stats):
        self.outlier_mask_ = ~stats["inlier_mask"]
        self.means_ = stats["means"]
        self.covariances_ = stats["covariances"]
        self.calibrated_means_ = stats["calibrated_means"]
        self.calibrated_covariances_ = stats["calibrated_covariances"]
        self.tail_classes_ = self.classes_[stats["tail_classes"]]
        self.borrowed_from_ = {
            self.classes_[t].item(): self.classes_[d].tolist()
            for t, d in stats["borrowed_from"].items()
        }

    def _transform(self, X):
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False)
        return self.scaler_.transform(self._represent(X))

    def sample(self, n_per_class, random_state=None):
        """Draw representations from the calibrated class Gaussians.

        Parameters
        ----------
        n_per_class : array-like of int of shape (n_classes,)
            Number of samples per class, in the order of ``classes_``.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        Z_syn : ndarray of shape (sum(n_per_class), d)
            Standardised representations (the space ``estimator_`` sees).
        y_syn : ndarray of shape (sum(n_per_class),)
        """
        check_is_fitted(self, "estimator_")
        n = np.asarray(n_per_class)
        if n.shape != self.classes_.shape or np.any(n < 0):
            raise ValueError(
                f"n_per_class must hold {self.classes_.size} non-negative counts; "
                f"got {n_per_class!r}."
            )
        Z, codes = _gaussian_samples(self.calibrated_means_, self.calibrated_covariances_,
                                     n, check_random_state(random_state))
        return Z, self.classes_[codes]

    def predict(self, X):
        """Class labels of the rows of ``X``."""
        Z = self._transform(X)
        return self.estimator_.predict(Z)

    def predict_proba(self, X):
        """Class probabilities from the final classifier."""
        Z = self._transform(X)
        return self.estimator_.predict_proba(Z)

    def decision_function(self, X):
        """Decision scores from the final classifier."""
        Z = self._transform(X)
        return self.estimator_.decision_function(Z)


class RCALSampler(BaseOverSampler):
    """RCAL's distribution recovery as an imbalanced-learn over-sampler.

    Adds rows drawn from robust, tail-calibrated class Gaussians (the
    statistics of :class:`RCALCalibrator`, computed on the standardised
    features) until each class reaches the count asked by
    ``sampling_strategy``. Real rows come first and are all kept; the rows
    that looked mislabelled while estimating the statistics are listed in
    ``outlier_indices_``. Use it inside :class:`imblearn.pipeline.Pipeline`,
    which applies it at fit time only.

    Read more in the :ref:`User Guide <noisy_labels>`.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        As in imbalanced-learn: ``"auto"`` tops up every class but the
        majority to the majority count.
    random_state : int, RandomState instance or None, default=None
    outlier_method : {"knn", "lof", "none"}, default="knn"
    n_neighbors : int, default=10
    tail_threshold : "mean" or int, default="mean"
    n_borrow : int, default=3
    calibrate_means : bool, default=False
    cov_inflation : float, default=0.0
        See :class:`RCALCalibrator`.

    Attributes
    ----------
    sampling_strategy_ : dict
        Class -> number of rows added.
    outlier_indices_ : ndarray of int
        Positions of the rows left out of the statistics.
    calibrated_means_, calibrated_covariances_ : ndarray
        Gaussians in the standardised space, in sorted class order.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sktrust.noisy_labels import RCALSampler
    >>> X, y = load_iris(return_X_y=True)
    >>> X, y = X[:110], y[:110]
    >>> X_res, y_res = RCALSampler(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res).tolist()
    [50, 50, 50]
    >>> bool(np.array_equal(X_res[:110], X))
    True
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        **_STAT_CONSTRAINTS,
    }

    def __init__(self, *, sampling_strategy="auto", random_state=None,
                 outlier_method="knn", n_neighbors=10, tail_threshold="mean",
                 n_borrow=3, calibrate_means=False, cov_inflation=0.0):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.outlier_method = outlier_method
        self.n_neighbors = n_neighbors
        self.tail_threshold = tail_threshold
        self.n_borrow = n_borrow
        self.calibrate_means = calibrate_means
        self.cov_inflation = cov_inflation

    def _fit_resample(self, X, y):
        X_dense = X.toarray() if sparse.issparse(X) else X
        classes, codes = np.unique(y, return_inverse=True)
        scaler = StandardScaler().fit(X_dense)
        stats = robust_class_statistics(scaler.transform(X_dense), codes, classes.size,
                                        **_stat_params(self))
        self.outlier_indices_ = np.flatnonzero(~stats["inlier_mask"])
        self.calibrated_means_ = stats["calibrated_means"]
        self.calibrated_covariances_ = stats["calibrated_covariances"]
        n_add = np.zeros(classes.size, dtype=int)
        for label, n in self.sampling_strategy_.items():
            n_add[np.searchsorted(classes, label)] = n
        Z_syn, c_syn = _gaussian_samples(self.calibrated_means_,
                                         self.calibrated_covariances_, n_add,
                                         check_random_state(self.random_state))
        X_syn = Z_syn * scaler.scale_ + scaler.mean_ if Z_syn.size else Z_syn
        X_syn = X_syn.astype(X.dtype, copy=False)
        y_res = np.concatenate([y, classes[c_syn]])
        if sparse.issparse(X):
            return sparse.vstack([X, sparse.csr_matrix(X_syn)], format=X.format), y_res
        return np.vstack([X, X_syn]), y_res
