"""Infinitely wide and deep networks as kernel classifiers: 1-NN, majority, singular."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from sktrust.open_set._common import encode_labels
from sktrust.utils._sklearn_compat import Interval, StrOptions, _fit_context, validate_data


def _sphere(X):
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norm, out=np.zeros_like(X), where=norm > 0)


def ntk_kernel(rho, hermite_coefs, depth):
    """Normalised NTK of a depth-``depth`` network between points on the sphere.

    The activation is ``sum_k a_k h_k`` in normalised Hermite polynomials
    (``sum a_k^2 = 1``), so its dual is ``xi(rho) = sum_k a_k^2 rho^k``. The
    recursion ``Sigma^0 = K^0 = rho``, ``Sigma^l = xi(Sigma^{l-1})``,
    ``K^l = K^{l-1} xi'(Sigma^{l-1}) + Sigma^l`` is run on ``K^l / K^l(1)``
    so that deep supercritical kernels do not overflow.

    Parameters
    ----------
    rho : array-like
        Inner products ``<x, x'>`` of unit vectors, in [-1, 1].
    hermite_coefs : array-like of float
        ``(a_0, a_1, ...)`` with ``sum a_k^2 = 1``.
    depth : int
        Number of layers ``L >= 1``.

    Returns
    -------
    kernel : ndarray, same shape as ``rho``
        ``K^L(rho) / K^L(1)``, equal to 1 at ``rho = 1``.

    Examples
    --------
    >>> from sktrust.open_set import ntk_kernel
    >>> float(ntk_kernel(1.0, [0.0, 1.0], depth=3))
    1.0
    """
    a2 = np.asarray(hermite_coefs, dtype=float) ** 2
    if a2.ndim != 1 or a2.size == 0 or not np.isclose(a2.sum(), 1.0, atol=1e-8):
        raise ValueError("hermite_coefs must be a 1-D sequence with sum of squares 1; "
                         f"got sum {a2.sum() if a2.size else 0:.6g}.")
    powers = np.arange(a2.size)

    def xi(r):
        return np.polynomial.polynomial.polyval(r, a2)

    def xi_prime(r):
        return np.polynomial.polynomial.polyval(r, (a2 * powers)[1:]) if a2.size > 1 else (
            np.zeros_like(r))

    if isinstance(depth, bool) or not isinstance(depth, Integral) or depth < 1:
        raise ValueError(f"depth must be an int >= 1; got {depth!r}.")
    rho = np.asarray(rho, dtype=float)
    if not np.all(np.isfinite(rho)) or np.any(np.abs(rho) > 1.0 + 1e-6):
        raise ValueError("rho must hold finite inner products of unit vectors, in [-1, 1].")
    slope = float(xi_prime(1.0))
    rho = np.clip(rho, -1.0, 1.0)  # only rounding beyond +-1 is left to clip
    sigma, kernel, inv = rho, rho, 1.0  # inv = 1 / K^l(1)
    for _ in range(int(depth)):
        scale = 1.0 / (slope + inv)  # K^{l-1}(1) / K^l(1)
        inv = inv * scale
        kernel = scale * kernel * xi_prime(sigma)
        sigma = np.clip(xi(sigma), -1.0, 1.0)
        kernel = kernel + inv * sigma
    return kernel


class InfiniteDepthNTKClassifier(ClassifierMixin, BaseEstimator):
    """The classifier an infinitely wide and deep network becomes.

    Radhakrishnan, Belkin and Uhler show that, as width and then depth grow,
    a network trained to interpolate becomes one of three rules depending on
    its activation: **1-nearest neighbour**, **majority vote**, or a
    **singular-kernel vote** ``argmax_c sum_{y_i = c} ||x - x_i||^(-alpha)``,
    which is Bayes-consistent for ``alpha`` equal to the data dimension.
    ``depth=None`` applies the limit in closed form; ``depth=L`` computes the
    exact finite-depth NTK of an activation given by its Hermite coefficients
    and classifies by (min-norm or ridge) kernel interpolation.

    Read more in the :ref:`User Guide <open_set>`.

    Parameters
    ----------
    limit : {"singular", "nearest", "majority"}, default="singular"
        The limiting rule when ``depth=None``.
    alpha : float, default=None
        Exponent of the singular rule; ``None`` is the number of features.
    depth : int, default=None
        Finite depth of an exact NTK; ``None`` uses ``limit``.
    hermite_coefs : array-like of float, default=None
        Activation of the finite-depth NTK, ``(a_0, a_1, ...)`` with
        ``sum a_k^2 = 1``. ``None`` is the critical activation
        ``a_0^2 = a_2^2 = 0.05, a_1^2 = 0.9`` (``xi'(1) = 1``), whose deep
        limit is a singular-kernel vote.
    ridge : float, default=0.0
        Ridge added to the kernel matrix (0 = min-norm interpolation).
    normalize : bool, default=False
        Project rows onto the unit sphere before the limit rules. The
        finite-depth NTK always works on the sphere.
    chunk_size : int, default=2048
        Test rows handled at once (memory is ``chunk_size * n_train``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    X_fit_ : ndarray of shape (n_samples, n_features)
    y_fit_ : ndarray of shape (n_samples,)
        Class indices of the training rows.
    alpha_ : float
        The exponent used by the singular rule.
    dual_coef_ : ndarray of shape (n_samples, n_classes)
        ``K^+ Y`` of the finite-depth NTK (only with ``depth``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    .. [1] A. Radhakrishnan, M. Belkin and C. Uhler, "Wide and Deep Neural
       Networks Achieve Optimality for Classification", arXiv:2204.14126.
    .. [2] L. Devroye, L. Györfi and A. Krzyżak, "The Hilbert kernel regression
       estimate", J. Multivariate Analysis, 1998.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sktrust.open_set import InfiniteDepthNTKClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = InfiniteDepthNTKClassifier().fit(X[::2], y[::2])
    >>> round(clf.score(X[1::2], y[1::2]), 2)
    0.96
    """

    _parameter_constraints: dict = {
        "limit": [StrOptions({"singular", "nearest", "majority"})],
        "alpha": [Interval(Real, 0, None, closed="neither"), None],
        "depth": [Interval(Integral, 1, None, closed="left"), None],
        "hermite_coefs": ["array-like", None],
        "ridge": [Interval(Real, 0, None, closed="left")],
        "normalize": ["boolean"],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, limit="singular", *, alpha=None, depth=None, hermite_coefs=None,
                 ridge=0.0, normalize=False, chunk_size=2048):
        self.limit = limit
        self.alpha = alpha
        self.depth = depth
        self.hermite_coefs = hermite_coefs
        self.ridge = ridge
        self.normalize = normalize
        self.chunk_size = chunk_size

    def _coefs(self):
        if self.hermite_coefs is None:
            return np.sqrt([0.05, 0.9, 0.05])
        return np.asarray(self.hermite_coefs, dtype=float)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Store the training rows (and solve the kernel system for ``depth``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        self.y_fit_ = encode_labels(self, y)
        self.alpha_ = float(X.shape[1] if self.alpha is None else self.alpha)
        if self.depth is not None:
            self.X_fit_ = _sphere(X)
            K = ntk_kernel(self.X_fit_ @ self.X_fit_.T, self._coefs(), self.depth)
            Y = np.eye(len(self.classes_))[self.y_fit_]
            if self.ridge > 0:
                self.dual_coef_ = np.linalg.solve(K + self.ridge * np.eye(len(K)), Y)
            else:
                self.dual_coef_ = np.linalg.pinv(K, hermitian=True) @ Y
        else:
            self.X_fit_ = _sphere(X) if self.normalize else X.copy()
        return self

    def _class_scores(self, X):
        """Per-class scores: higher wins; rows of probabilities for the limits."""
        k = len(self.classes_)
        onehot = np.eye(k)[self.y_fit_]
        if self.depth is not None:
            K = ntk_kernel(_sphere(X) @ self.X_fit_.T, self._coefs(), self.depth)
            return K @ self.dual_coef_
        if self.limit == "majority":
            prior = onehot.mean(axis=0)
            return np.tile(prior, (X.shape[0], 1))
        Xq = _sphere(X) if self.normalize else X
        d2 = (np.sum(Xq ** 2, 1)[:, None] + np.sum(self.X_fit_ ** 2, 1)[None]
              - 2 * Xq @ self.X_fit_.T)
        d2 = np.maximum(d2, 0.0)
        if self.limit == "nearest":
            return onehot[np.argmin(d2, axis=1)]
        exact = d2 <= 1e-24
        # Rows with an exact match get inf weights here; they are replaced below.
        with np.errstate(divide="ignore", invalid="ignore"):
            logw = -0.5 * self.alpha_ * np.log(d2)
            scores = np.stack([logsumexp(np.where(self.y_fit_[None] == c, logw, -np.inf),
                                         axis=1) for c in range(k)], axis=1)
            proba = np.exp(scores - logsumexp(scores, axis=1, keepdims=True))
        hit = exact.any(axis=1)
        if hit.any():
            counts = exact[hit].astype(float) @ onehot
            proba[hit] = counts / counts.sum(axis=1, keepdims=True)
        return proba

    def _scores(self, X):
        check_is_fitted(self, "X_fit_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        parts = [self._class_scores(X[i:i + self.chunk_size])
                 for i in range(0, X.shape[0], self.chunk_size)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.classes_)))

    def predict_proba(self, X):
        """Class probabilities.

        One-hot (nearest), the class prior (majority), the normalised
        singular weights (a Nadaraya-Watson estimate), or the kernel
        interpolant shifted to be positive and normalised (finite depth).
        """
        s = self._scores(X)
        if self.depth is not None:  # order-preserving shift to positive weights
            s = s - s.min(axis=1, keepdims=True) + 1e-12
            return s / s.sum(axis=1, keepdims=True)
        return s

    def decision_function(self, X):
        """Per-class scores whose argmax is ``predict``; binary: class 1 minus class 0."""
        s = self._scores(X)
        return s[:, 1] - s[:, 0] if s.shape[1] == 2 else s

    def predict(self, X):
        """Class with the highest score (ties: the first class)."""
        idx = np.argmax(self._scores(X), axis=1)
        return self.classes_[idx]
