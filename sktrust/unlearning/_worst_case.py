"""Worst-case forget sets: the rows whose influence is hardest to erase."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from sktrust.base import _default_unlearning_estimator
from sktrust.nn import resolve_device, train
from sktrust.unlearning._torch_utils import _FloatInput, gather
from sktrust.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from sktrust.utils._validation import check_random_state_seed


def project_capped_simplex(a, m, tol=1e-5, max_iter=100):
    """Euclidean projection onto ``{0 <= w <= 1, sum(w) = m}`` by bisection.

    ``w_i = clip(a_i - mu, 0, 1)`` with ``mu`` found in
    ``[min(a) - 1, max(a)]`` until the bracket is narrower than ``tol``.

    Parameters
    ----------
    a : ndarray of shape (n,)
    m : float in [0, n]

    Returns
    -------
    w : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.unlearning._worst_case import project_capped_simplex
    >>> w = project_capped_simplex(np.array([2.0, 0.5, 0.4, -1.0]), 2)
    >>> float(round(w.sum(), 3)), bool(w.max() <= 1 and w.min() >= 0)
    (2.0, True)
    """
    a = np.asarray(a, dtype=float)
    lo, hi = a.min() - 1.0, a.max()
    for _ in range(max_iter):
        mu = (lo + hi) / 2
        if np.clip(a - mu, 0, 1).sum() > m:
            lo = mu
        else:
            hi = mu
        if hi - lo <= tol:
            break
    return np.clip(a - (lo + hi) / 2, 0, 1)


def _inner_has(attr):
    def check(self):
        est = getattr(self, "estimator_", None)
        if est is None:
            est = self._base_estimator()
            if isinstance(est, FrozenEstimator):
                est = est.estimator
        return hasattr(est, attr)

    return check


class WorstCaseForgetSelector(MetaEstimatorMixin, BaseEstimator):
    """Find the forget set whose influence is hardest to erase, to stress-test unlearners.

    A scaled-down version of the bi-level search of [1]_. A relaxed forget
    indicator ``w`` in ``[0, 1]^N`` with ``sum(w) = m`` is optimised by
    projected gradient steps on ``F(w) = sum_i w_i l_i(theta_u(w)) + gamma ||w||^2``,
    where ``theta_u(w)`` is the model after a few epochs of sign-SGD
    fine-tuning on the weighted retain loss ``sum_i (1 - w_i) l_i`` starting
    from the trained weights (the lower-level unlearning). Because the sign
    step has zero derivative almost everywhere, ``grad_w F`` is the vector of
    per-row losses after unlearning (plus ``2 gamma w``). ``"hardest"`` keeps
    the rows that still have a low loss after unlearning, i.e. the rows the
    model does not forget; ``"easiest"`` the opposite. This is an evaluation
    tool: it selects rows, it unlearns nothing.

    Read more in the :ref:`User Guide <unlearning>`.

    Parameters
    ----------
    estimator : estimator, default=None
        Classifier trained on ``(X, y)`` (pass it as ``FrozenEstimator``) or
        to be trained in ``fit``. ``None`` is
        ``MLPClassifier(hidden_layer_sizes=(64,), random_state=0)``.
    n_forget : int or float, default=0.1
        Size ``m`` of the forget set: a number of rows, or a fraction of them.
    outer_epochs : int, default=3
        Upper-level steps (paper code: 10; README example: 2).
    inner_epochs : int, default=3
        Sign-SGD epochs of each lower-level unlearning (code: 10; README: 2).
    inner_lr : float, default=1e-3
        Sign-SGD step (README example: 1e-3; code default 0.01).
    w_lr : float, default=10.0
        Step on ``w``. The code's 0.01 suits summed ResNet losses over many
        outer epochs; with a few outer steps and per-row losses well below 1,
        0.01 leaves ``w`` at its random start, and 10 moves it (on digits the
        selected set then shares about half its rows with the start).
    l2_penalty : float, default=0.0
    binarize_every : int, default=20
        ``w`` is replaced by the indicator of its top ``m`` entries every
        ``binarize_every`` outer epochs and at the end.
    mode : {"hardest", "easiest"}, default="hardest"
    batch_size : int, default=256
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
        Seeds the initial set and the batch order.

    Attributes
    ----------
    estimator_ : estimator
        The trained model (unchanged).
    forget_indices_ : ndarray of shape (m,)
        Rows of ``X`` selected as the forget set.
    weights_ : ndarray of shape (n_samples,)
        Continuous ``w`` before the final binarisation.
    w_history_ : list of ndarray
    objective_history_ : list of float
        ``F(w)`` after each outer step.
    classes_ : ndarray
    n_features_in_ : int

    References
    ----------
    .. [1] Fan, Liu, Hero, Liu. "Challenging Forgets: Unveiling the Worst-Case
       Forget Sets in Machine Unlearning". ECCV 2024.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sktrust.unlearning import WorstCaseForgetSelector
    >>> X, y = load_iris(return_X_y=True)
    >>> sel = WorstCaseForgetSelector(MLPClassifier((8,), max_iter=300, random_state=0),
    ...                               n_forget=15, random_state=0).fit(X, y)
    >>> X_f, y_f, X_r, y_r = sel.split(X, y)
    >>> X_f.shape, X_r.shape
    ((15, 4), (135, 4))
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "n_forget": [Interval(Integral, 1, None, closed="left"),
                     Interval(Real, 0, 1, closed="neither")],
        "outer_epochs": [Interval(Integral, 1, None, closed="left")],
        "inner_epochs": [Interval(Integral, 1, None, closed="left")],
        "inner_lr": [Interval(Real, 0, None, closed="neither")],
        "w_lr": [Interval(Real, 0, None, closed="neither")],
        "l2_penalty": [Interval(Real, 0, None, closed="left")],
        "binarize_every": [Interval(Integral, 1, None, closed="left")],
        "mode": [StrOptions({"hardest", "easiest"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, n_forget=0.1, outer_epochs=3, inner_epochs=3,
                 inner_lr=1e-3, w_lr=10.0, l2_penalty=0.0, binarize_every=20,
                 mode="hardest", batch_size=256, device="auto", random_state=None):
        self.estimator = estimator
        self.n_forget = n_forget
        self.outer_epochs = outer_epochs
        self.inner_epochs = inner_epochs
        self.inner_lr = inner_lr
        self.w_lr = w_lr
        self.l2_penalty = l2_penalty
        self.binarize_every = binarize_every
        self.mode = mode
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def _base_estimator(self):
        return _default_unlearning_estimator() if self.estimator is None else self.estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        est = self._base_estimator()
        inner = get_tags(est.estimator if isinstance(est, FrozenEstimator) else est)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_label = False
        tags.target_tags.required = True
        tags.target_tags.multi_output = False
        tags.input_tags.sparse = False
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Train (or copy) the model and select the forget set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        from sktrust.nn import as_torch_model

        X_v, y_v = validate_data(self, X, y)
        X_in = X if hasattr(X, "columns") else X_v
        if isinstance(self.estimator, FrozenEstimator):
            self.estimator_ = copy.deepcopy(self.estimator.estimator)
            check_is_fitted(self.estimator_)
        else:
            self.estimator_ = clone(self._base_estimator()).fit(X_in, y_v)
        self.classes_ = np.asarray(self.estimator_.classes_)
        n = X_v.shape[0]
        m = self.n_forget if isinstance(self.n_forget, Integral) else max(
            1, int(round(self.n_forget * n)))
        if m >= n:
            raise ValueError(
                f"n_forget={self.n_forget} leaves no retain rows out of n_samples={n}.")
        seed = check_random_state_seed(self.random_state)
        rng = np.random.default_rng(seed)

        model = as_torch_model(copy.deepcopy(self.estimator_))
        model.pre = _FloatInput(model.pre)
        model.to(resolve_device(self.device))
        x, yt = model.prepare(X_in, y_v)
        theta_o = {k: p.detach().clone() for k, p in model.named_parameters()}
        sign = 1.0 if self.mode == "hardest" else -1.0
        w = np.zeros(n)
        w[rng.choice(n, size=m, replace=False)] = 1.0
        self.w_history_, self.objective_history_ = [], []
        for epoch in range(self.outer_epochs):
            with torch.no_grad():
                for k, p in model.named_parameters():
                    p.copy_(theta_o[k])
            keep = torch.as_tensor(1.0 - w, dtype=x.dtype, device=x.device)

            def loss_fn(module, idx, _, keep=keep):
                xb, yb, kb = gather(idx, x, yt, keep)
                return (kb * model.loss_tensor(xb, yb, reduction="none")).sum()

            def sign_step(module):
                for p in module.parameters():
                    if p.grad is not None:
                        p.grad.sign_()

            train(model.module, np.arange(n, dtype=np.float64), None, loss_fn,
                  epochs=self.inner_epochs, lr=self.inner_lr, batch_size=self.batch_size,
                  optimizer="sgd", device=x.device, grad_hook=sign_step,
                  random_state=seed + epoch)
            model.module.eval()
            with torch.no_grad():
                losses = model.loss_tensor(x, yt, reduction="none").cpu().numpy()
            grad = sign * losses + 2 * self.l2_penalty * w
            w = project_capped_simplex(w - self.w_lr * grad, m)
            if (epoch + 1) % self.binarize_every == 0:
                w = self._binarize(w, m)
            self.w_history_.append(w.copy())
            self.objective_history_.append(
                float(np.dot(w, losses) + self.l2_penalty * np.dot(w, w)))
        self.weights_ = w
        self.forget_indices_ = np.sort(np.argsort(-w, kind="stable")[:m])
        return self

    @staticmethod
    def _binarize(w, m):
        out = np.zeros_like(w)
        out[np.argsort(-w, kind="stable")[:m]] = 1.0
        return out

    def split(self, X, y):
        """``(X_forget, y_forget, X_retain, y_retain)`` for the selected set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows passed to ``fit``, in the same order.
        y : array-like of shape (n_samples,)

        Returns
        -------
        X_forget, y_forget, X_retain, y_retain : arrays (or DataFrames)
        """
        check_is_fitted(self, "forget_indices_")
        X_v = validate_data(self, X, reset=False)
        y = np.asarray(y)
        if len(y) != len(self.weights_) or X_v.shape[0] != len(self.weights_):
            raise ValueError(
                f"split needs the {len(self.weights_)} rows passed to fit; got "
                f"{X_v.shape[0]} rows of X and {len(y)} labels.")
        mask = np.zeros(len(y), dtype=bool)
        mask[self.forget_indices_] = True
        take = (lambda idx: X.iloc[idx]) if hasattr(X, "iloc") else (
            lambda idx: X_v[idx])
        return (take(np.flatnonzero(mask)), y[mask], take(np.flatnonzero(~mask)),
                y[~mask])

    @available_if(_inner_has("predict"))
    def predict(self, X):
        """Predictions of the (unchanged) trained model."""
        check_is_fitted(self, "estimator_")
        X_v = validate_data(self, X, reset=False)
        return self.estimator_.predict(X if hasattr(X, "columns") else X_v)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the (unchanged) trained model."""
        check_is_fitted(self, "estimator_")
        X_v = validate_data(self, X, reset=False)
        return self.estimator_.predict_proba(X if hasattr(X, "columns") else X_v)
