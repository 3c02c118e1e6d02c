"""Tester-learner for halfspaces: a linear classifier that certifies its guarantee."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from sktrust.exceptions import SktrustWarning
from sktrust.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)


class TestRejectedError(ValueError):
    """The tester could not certify the halfspace on this data."""

    __test__ = False  # not a pytest test class


class UncertifiedModelWarning(SktrustWarning):
    """The fitted halfspace carries no certificate (the tests failed)."""


def _allowance(d, n):
    """Typical sampling deviation of a d-dimensional second moment from n rows."""
    return 2.0 * np.sqrt(d / max(n, 1))


class TestableHalfspaceClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier that tests whether its own guarantee applies.

    A tester-learner (Gollakota et al., 2023) fits a homogeneous halfspace by
    projected gradient descent on a non-convex surrogate and runs statistical
    tests on held-out rows: a label-free test that the features look like
    N(0, I), and, at the learned direction, tests of the mass and shape of
    the band around the decision boundary and of the surrogate's gradient.
    When all pass, the error is provably near the best halfspace's
    (Massart or agnostic noise, Gaussian-like features); ``certified_`` says
    so. When a test fails the estimator says so instead of relying silently on
    the assumption: ``on_reject`` warns, raises or falls back.

    Read more in the :ref:`User Guide <open_set>`.

    Parameters
    ----------
    noise : {"massart", "agnostic"}, default="massart"
        Surrogate: LeakyReLU (Massart noise) or one sigmoid per ``sigmas``
        (agnostic).
    sigmas : tuple of float, default=(0.05, 0.1, 0.2, 0.4)
        Band widths of the local tests (and sigmoid scales, agnostic).
    leaky_lambda : float, default=0.1
    moment_degree : {2, 4}, default=2
        Highest moment compared with N(0, I) in the global test.
    moment_tol : float, default=0.1
        Tolerance of the moment and band-covariance tests, on top of a
        sampling allowance ``2 sqrt(d / n)``.
    band_tol : tuple of float, default=(0.5, 2.0)
        Accepted ratio of band mass to its Gaussian value ``2 Phi(sigma) - 1``.
    grad_tol : float, default=0.05
        Tolerance on the surrogate gradient norm, plus the same allowance.
    on_reject : {"warn", "raise", "fallback"}, default="warn"
        ``"warn"``: keep the best candidate, ``certified_ = False``, emit
        :class:`UncertifiedModelWarning`. ``"raise"``: raise
        :class:`TestRejectedError`. ``"fallback"``: fit and delegate to
        ``fallback_estimator``.
    fallback_estimator : classifier, default=None
        ``None`` is ``LogisticRegression()``.
    whiten : bool, default=False
        Centre and whiten the features (fitted on the learning split only).
    test_fraction : float, default=0.3
        Share of the rows kept for the tests.
    max_iter : int, default=2000
    lr : float, default=0.05
    random_state : int, RandomState instance or None, default=None
        Seeds the learning / testing split.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
        Unit-norm normal of the halfspace (in the whitened space if
        ``whiten``; ``decision_function`` applies the whitening).
    intercept_ : ndarray of shape (1,)
        Always 0 (homogeneous halfspace).
    certified_ : bool
    test_report_ : dict
        Every test's statistic, bound and pass/fail.
    candidates_ : ndarray of shape (n_candidates, n_features)
    n_iter_ : int
        Gradient steps run for each candidate.
    fallback_ : classifier or None
        The fitted fallback when ``on_reject="fallback"`` was used.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    The paper's constants are not practical, so the tolerances are
    hyperparameters. The guarantee holds for isotropic Gaussian (or strongly
    log-concave) features only: standardise or whiten first; rejection means
    "cannot certify", not "bad model".

    References
    ----------
    .. [1] A. Gollakota, A. Klivans, K. Stavropoulos and A. Vasilyan, "An
       Efficient Tester-Learner for Halfspaces", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.open_set import TestableHalfspaceClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(4000, 3))
    >>> y = (X @ [1.0, -1.0, 0.5] > 0).astype(int)
    >>> clf = TestableHalfspaceClassifier(random_state=0).fit(X, y)
    >>> clf.certified_, round(clf.score(X, y), 2)
    (True, 1.0)
    """

    __test__ = False  # not a pytest test class

    _parameter_constraints: dict = {
        "noise": [StrOptions({"massart", "agnostic"})],
        "sigmas": [tuple, list],
        "leaky_lambda": [Interval(Real, 0, 0.5, closed="left")],
        "moment_degree": [StrOptions({"2", "4"}), Interval(Integral, 2, 4, closed="both")],
        "moment_tol": [Interval(Real, 0, None, closed="left")],
        "band_tol": [tuple, list],
        "grad_tol": [Interval(Real, 0, None, closed="left")],
        "on_reject": [StrOptions({"warn", "raise", "fallback"})],
        "fallback_estimator": [HasMethods(["fit", "predict"]), None],
        "whiten": ["boolean"],
        "test_fraction": [Interval(Real, 0, 1, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, noise="massart", *, sigmas=(0.05, 0.1, 0.2, 0.4), leaky_lambda=0.1,
                 moment_degree=2, moment_tol=0.1, band_tol=(0.5, 2.0), grad_tol=0.05,
                 on_reject="warn", fallback_estimator=None, whiten=False,
                 test_fraction=0.3, max_iter=2000, lr=0.05, random_state=None):
        self.noise = noise
        self.sigmas = sigmas
        self.leaky_lambda = leaky_lambda
        self.moment_degree = moment_degree
        self.moment_tol = moment_tol
        self.band_tol = band_tol
        self.grad_tol = grad_tol
        self.on_reject = on_reject
        self.fallback_estimator = fallback_estimator
        self.whiten = whiten
        self.test_fraction = test_fraction
        self.max_iter = max_iter
        self.lr = lr
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    # -- surrogate ------------------------------------------------------------
    def _gradient(self, w, X, s, sigma):
        """Gradient of the surrogate at unit w, projected on the tangent space."""
        margin = -s * (X @ w)
        if self.noise == "massart":
            slope = np.where(margin >= 0, 1 - self.leaky_lambda, self.leaky_lambda)
        else:
            p = expit(margin / sigma)
            slope = p * (1 - p) / sigma
        g = -(slope * s) @ X / len(X)
        return g - (g @ w) * w

    def _descend(self, w, X, s, sigma):
        for _ in range(self.max_iter):
            w = w - self.lr * self._gradient(w, X, s, sigma)
            w /= np.linalg.norm(w)
        return w

    # -- tests ----------------------------------------------------------------
    def _global_test(self, Z):
        n, d = Z.shape
        tol = self.moment_tol + _allowance(d, n)
        mean = np.abs(Z.mean(axis=0)).max()
        cov = np.linalg.norm(np.cov(Z, rowvar=False, bias=True).reshape(d, d) - np.eye(d), 2)
        tests = {"mean": (mean, tol), "covariance": (cov, tol)}
        if int(self.moment_degree) == 4:
            tests["fourth_moment"] = (np.abs((Z ** 4).mean(axis=0) - 3).max(), 3 * tol)
        return {k: {"statistic": float(v), "bound": float(b), "passed": bool(v <= b)}
                for k, (v, b) in tests.items()}

    def _local_tests(self, w, Z, s, sigma):
        n, d = Z.shape
        proj = Z @ w
        band = np.abs(proj) <= sigma
        expected = 2 * norm.cdf(sigma) - 1
        lo, hi = self.band_tol
        mass = band.mean()
        out = {"band_mass": {"statistic": float(mass / expected),
                             "bound": [float(lo), float(hi)],
                             "passed": bool(lo <= mass / expected <= hi)}}
        if band.sum() > d:
            P = np.eye(d) - np.outer(w, w)
            inside = Z[band] @ P
            dev = np.linalg.norm(inside.T @ inside / band.sum() - P, 2)
            tol = self.moment_tol + _allowance(d, band.sum())
        else:
            dev, tol = np.inf, self.moment_tol
        out["band_covariance"] = {"statistic": float(dev), "bound": float(tol),
                                  "passed": bool(dev <= tol)}
        grad = np.linalg.norm(self._gradient(w, Z, s, sigma))
        gtol = self.grad_tol + _allowance(d, n) / 2
        out["gradient"] = {"statistic": float(grad), "bound": float(gtol),
                           "passed": bool(grad <= gtol)}
        return out

    # -- fit ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Learn the halfspace, run the tests, and act on their outcome.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two classes.

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError("Only binary classification is supported. The type of the "
                             f"target is {y_type}.")
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError("y has only one class; TestableHalfspaceClassifier needs 2.")
        band = np.asarray(self.band_tol, dtype=object)
        lo, hi = (band.tolist() if band.shape == (2,) and all(
            isinstance(v, Real) for v in band.tolist()) else (1.0, 0.0))
        if not 0 <= lo <= hi:
            raise ValueError(f"band_tol must be (low, high) with 0 <= low <= high; got "
                             f"{self.band_tol}.")
        if not len(self.sigmas) or not all(
                isinstance(v, Real) and 0 < v < np.inf for v in self.sigmas):
            raise ValueError(f"sigmas must be a non-empty sequence of positive band widths; "
                             f"got {self.sigmas!r}.")
        s_all = np.where(y == self.classes_[1], 1.0, -1.0)
        rng = check_random_state(self.random_state)
        order = rng.permutation(len(y))
        n_test = max(int(round(self.test_fraction * len(y))), 1)
        test, learn = order[:n_test], order[n_test:]
        if len(learn) < 2:
            learn = test
        if self.whiten:
            self.mean_ = X[learn].mean(axis=0)
            cov = np.cov(X[learn], rowvar=False).reshape(X.shape[1], X.shape[1])
            vals, vecs = np.linalg.eigh(cov + 1e-12 * np.eye(len(cov)))
            self.whitener_ = vecs @ np.diag(1 / np.sqrt(np.maximum(vals, 1e-12))) @ vecs.T
        Z = self._transform(X)
        Zl, sl, Zt, st = Z[learn], s_all[learn], Z[test], s_all[test]
        w0 = (sl @ Zl) if np.any(sl @ Zl) else np.eye(Z.shape[1])[0]
        w0 = w0 / np.linalg.norm(w0)
        sigmas = [float(v) for v in self.sigmas]
        if self.noise == "massart":
            cands = [self._descend(w0.copy(), Zl, sl, sigmas[0])]
            plan = [(0, sigmas)]
        else:
            cands = [self._descend(w0.copy(), Zl, sl, sig) for sig in sigmas]
            plan = [(i, [sig]) for i, sig in enumerate(sigmas)]
        self.candidates_ = np.asarray(cands)
        self.n_iter_ = int(self.max_iter)
        report = {"global": self._global_test(Zt), "candidates": []}
        global_ok = all(t["passed"] for t in report["global"].values())
        passing, errors = [], []
        for i, sigs in plan:
            w = cands[i]
            local = {f"sigma={sig}": self._local_tests(w, Zt, st, sig) for sig in sigs}
            ok = global_ok and all(t["passed"] for tests in local.values()
                                   for t in tests.values())
            err = float(np.mean(np.sign(Zt @ w) != st))
            report["candidates"].append({"index": i, "tests": local, "passed": ok,
                                         "test_error": err})
            errors.append(err)
            if ok:
                passing.append(i)
        self.test_report_ = report
        self.certified_ = bool(passing)
        pool = passing if passing else list(range(len(errors)))
        best = min(pool, key=lambda i: errors[i])
        self.coef_ = cands[plan[best][0]][None, :]
        self.intercept_ = np.zeros(1)
        self.fallback_ = None
        if not self.certified_:
            msg = ("The tester rejected: the data do not pass the tests that certify the "
                   "halfspace (see test_report_); the guarantee assumes Gaussian-like "
                   "features.")
            if self.on_reject == "raise":
                raise TestRejectedError(msg)
            if self.on_reject == "warn":
                warnings.warn(msg, UncertifiedModelWarning, stacklevel=2)
            else:
                base = LogisticRegression() if self.fallback_estimator is None else (
                    self.fallback_estimator)
                self.fallback_ = clone(base).fit(X, y)
        return self

    def _transform(self, X):
        if self.whiten:
            return (X - self.mean_) @ self.whitener_
        return X

    def decision_function(self, X):
        """``<w, x>`` (after whitening); the fallback's when it is in use."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if self.fallback_ is not None:
            if not hasattr(self.fallback_, "decision_function"):
                raise AttributeError(
                    f"The fallback {type(self.fallback_).__name__} in use has no "
                    "decision_function; use predict.")
            return self.fallback_.decision_function(X)
        return self._transform(X) @ self.coef_[0]

    def predict(self, X):
        """Class of each row: ``classes_[1]`` where ``<w, x> > 0``; the fallback's when in use."""
        check_is_fitted(self, "coef_")
        if self.fallback_ is not None:
            return self.fallback_.predict(validate_data(self, X, reset=False, dtype=np.float64))
        d = self.decision_function(X)
        return self.classes_[(d > 0).astype(int)]
