"""Local function approximation: eight attribution methods as one local linear fit."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from scipy.special import comb
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from sktrust.base import BaseExplainer
from sktrust.explain._model import model_input, resolve_model
from sktrust.utils._sklearn_compat import HasMethods, Interval, StrOptions, validate_data
from sktrust.utils._validation import check_non_empty

METHODS = (
    "lime",
    "c_lime",
    "kernel_shap",
    "occlusion",
    "vanilla_gradients",
    "grad_x_input",
    "smoothgrad",
    "integrated_gradients",
)
GRADIENT_METHODS = {"vanilla_gradients", "grad_x_input", "smoothgrad", "integrated_gradients"}
NEIGHBOURHOODS = ("lime", "kernel_shap", "c_lime")
# Methods whose neighbourhood a user ``sampler`` may replace.
SAMPLER_METHODS = ("lime", "kernel_shap", "c_lime", "smoothgrad")

# Largest d for which KernelSHAP enumerates every coalition when the budget allows.
_MAX_EXACT_D = 16
# Relative step of the central finite differences used without a torch model.
_FD_STEP = 1e-4
# Clip for log-odds of probabilities, as in sklearn's log_loss.
_EPS = 1e-15


def _wls(A, y, w):
    """Weighted least squares ``argmin_v sum w (y - A v)^2`` (min-norm if singular)."""
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
    return coef


def _shapley_kernel_masks(d, n, rng):
    """Coalition masks for KernelSHAP and their Shapley-kernel weights.

    Every non-trivial coalition is enumerated (exact kernel weights) when
    ``2**d - 2 <= n``; otherwise sizes are drawn with probability proportional
    to the kernel mass of each size, and every draw weighs the same.
    """
    if d <= _MAX_EXACT_D and 2**d - 2 <= n:
        codes = np.arange(1, 2**d - 1)
        Z = ((codes[:, None] >> np.arange(d)) & 1).astype(float)
        s = Z.sum(axis=1).astype(int)
        w = (d - 1) / (comb(d, s) * s * (d - s))
        return Z, w
    sizes = np.arange(1, d)
    mass = (d - 1) / (sizes * (d - sizes))
    s = rng.choice(sizes, size=n, p=mass / mass.sum())
    keys = rng.random((n, d))
    ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
    Z = (ranks < s[:, None]).astype(float)
    return Z, np.ones(n)


def _check_sample(out, d, with_z):
    """``(X_tilde, Z, weights)`` from a user sampler's output, checked.

    The ``sampler`` parameter returns ``(X_tilde, Z, weights)``
    (``with_z=True``); a :meth:`~LocalFunctionApproximationExplainer.local_fidelity`
    neighbourhood returns ``(X_tilde, weights)`` or that form, and its ``Z``
    is not read (``Z`` is None then).
    """
    lengths, forms = ((3,), "(X_tilde, Z, weights)") if with_z else (
        (2, 3), "(X_tilde, weights) or (X_tilde, Z, weights)")
    if not isinstance(out, tuple) or len(out) not in lengths:
        got = type(out).__name__ + (f" of length {len(out)}" if isinstance(out, tuple) else "")
        raise ValueError(f"sampler(x, n, rng) must return a tuple {forms}; got {got}.")
    Xt, w = np.asarray(out[0], dtype=float), np.asarray(out[-1], dtype=float)
    Z = np.asarray(out[1], dtype=float) if with_z else None
    m = Xt.shape[0] if Xt.ndim == 2 else -1
    if Xt.shape != (m, d) or m < 1:
        raise ValueError(
            f"sampler returned X_tilde of shape {Xt.shape}; expected (m, {d}) with m >= 1."
        )
    if (with_z and Z.shape != (m, d)) or w.shape != (m,):
        raise ValueError(
            (f"sampler returned Z of shape {Z.shape} and " if with_z else "sampler returned ")
            + f"weights of shape {w.shape}; expected "
            + (f"({m}, {d}) and " if with_z else "")
            + f"({m},) to match X_tilde."
        )
    if not all(np.all(np.isfinite(a)) for a in (Xt, w, Z) if a is not None):
        raise ValueError("sampler returned NaN or infinite values.")
    if np.any(w < 0) or not w.sum() > 0:
        raise ValueError("sampler weights must be non-negative with a positive sum.")
    return Xt, Z, w


class LocalFunctionApproximationExplainer(BaseExplainer):
    """Eight attribution methods, each a local linear fit of the model around ``x``.

    Han, Srinivas and Lakkaraju [1]_ show that LIME, C-LIME, KernelSHAP,
    occlusion, vanilla gradients, Gradient x Input, SmoothGrad and Integrated
    Gradients all fit a linear model ``g`` to the model ``f`` around a point
    ``x``; they differ only in the neighbourhood ``Z`` the fit is made on and
    the loss. This class implements the eight, with the closed forms where they
    exist (weighted least squares, means of gradients), and the paper's
    *local fidelity*: the loss of ``g`` on any neighbourhood, which is how a
    user chooses among methods. No method wins on every neighbourhood ("no
    free lunch"): pick the one whose neighbourhood matches the perturbations
    you care about.

    ============================ ============================================ =============
    method                       neighbourhood and loss                       linear ``f``
    ============================ ============================================ =============
    ``"lime"``                   ``x~ = b + z*(x-b)``, ``z ~ Bernoulli(.5)``,  ``w*(x-b)``
                                 weights ``exp(-|x-x~|^2 / width^2)``,
                                 squared loss on ``z``
    ``"kernel_shap"``            same masks, Shapley kernel weights, exact     ``w*(x-b)``
                                 efficiency constraint (all ``2^d``
                                 coalitions when ``n_perturb`` allows)
    ``"occlusion"``              one feature at a time set to ``b``            ``w*(x-b)``
    ``"c_lime"``                 ``x~ = x + N(0, sigma^2)``, squared loss      ``w``
    ``"smoothgrad"``             same, gradient matching: ``E[grad f(x~)]``    ``w``
    ``"vanilla_gradients"``      ``sigma -> 0``: ``grad f(x)``                 ``w``
    ``"integrated_gradients"``   ``(x-b) * E_a[grad f(b + a(x-b))]``,         ``w*(x-b)``
                                 ``a ~ U(0, 1)``
    ``"grad_x_input"``           ``x * grad f(x)``                             ``w*x``
    ============================ ============================================ =============

    Gradient methods differentiate through :func:`sktrust.nn.as_torch_model`
    (skorch nets, sklearn MLPs and linear models); any other model gets
    central finite differences of ``predict_proba``. The other methods need
    only ``predict_proba`` (or ``predict`` for regressors).

    Read more in the :ref:`User Guide <explain>`.

    Parameters
    ----------
    estimator : estimator, default=None
        Model to explain, fitted or not; ``None`` is an unfitted
        ``LogisticRegression(max_iter=1000)``. An unfitted one is cloned and
        fitted on ``(X, y)`` in ``fit``; a fitted one (or
        ``FrozenEstimator(model)``) is used as is, never modified.
    method : str, default="kernel_shap"
        One of the eight methods in the table above.
    n_perturb : int, default=1000
        Neighbourhood samples per explained row (perturbations, gradient
        evaluations or integration points).
    kernel_width : float, default=1.0
        LIME kernel width (the paper's value). The distance is in input units,
        so on unscaled data choose a width near the typical distance.
    sigma : float, default=0.1
        Standard deviation of the Gaussian neighbourhood of C-LIME and
        SmoothGrad (the paper's value).
    baseline : {"zero", "mean"} or array-like of shape (n_features,), default="zero"
        Value a removed feature takes (LIME, KernelSHAP, occlusion) and the
        Integrated Gradients baseline. ``"zero"`` is the paper's choice;
        ``"mean"`` uses the background mean.
    output : {"auto", "probability", "log_odds"}, default="auto"
        The function ``f`` explained: the target class probability
        (``"auto"`` for classifiers) or its log-odds ``log p / (1 - p)``
        (the logit ``w.x + c`` of a logistic regression); regressors always
        explain ``predict``.
    target : label, default=None
        Class explained. ``None``: the positive class when binary, each row's
        predicted class otherwise.
    sampler : callable, default=None
        A neighbourhood of your own, ``sampler(x, n, rng) -> (X_tilde, Z,
        weights)`` for one row ``x`` of shape ``(n_features,)``, the budget
        ``n = n_perturb`` and the explainer's ``numpy.random.Generator``
        (draw from it and ``random_state`` makes your neighbourhood
        reproducible). ``X_tilde`` (m, n_features) are the points ``f`` is
        evaluated at, ``Z`` (m, n_features) the interpretable coordinates
        ``g`` is linear in and ``weights`` (m,) are non-negative. It replaces
        the built-in neighbourhood of ``"lime"``, ``"kernel_shap"`` (``Z``
        read as masks: ``X_tilde = b + Z * (x - b)``; the efficiency
        constraint is kept), ``"c_lime"`` (``Z`` read as offsets
        ``X_tilde - x``; weighted squared loss) and ``"smoothgrad"``
        (gradient matching: the weighted mean gradient of ``f`` over
        ``X_tilde``; ``Z`` is unused). The paper's "choose your own
        neighbourhood": ``"c_lime"`` with a sampler is the squared-loss fit
        and ``"smoothgrad"`` the gradient-matching fit on it. Other methods
        have a fixed neighbourhood and refuse a sampler. ``None`` uses the
        built-in neighbourhoods.
    random_state : int, RandomState instance or None, default=None
        Seeds the neighbourhood draws.

    Attributes
    ----------
    model_ : estimator
        The fitted model that is explained.
    baseline_ : ndarray of shape (n_features,)
        The resolved baseline.
    output_ : {"probability", "log_odds", "prediction"}
        The explained output.
    gradient_source_ : {"torch", "finite_differences"}
        How gradients are computed.
    background_ : ndarray
        The background data given to ``fit``.

    See Also
    --------
    ShapExplainer : shap's exact tree and linear explainers.

    Notes
    -----
    ``base_values`` are ``f(x) - sum(values)``, so that values and base add up
    to the explained output as in every :class:`shap.Explanation`. For
    KernelSHAP this is ``f(baseline)`` exactly; for Integrated Gradients it is
    ``f(baseline)`` up to the integration error.

    References
    ----------
    .. [1] T. Han, S. Srinivas, H. Lakkaraju. "Which Explanation Should I
       Choose? A Function Approximation Perspective to Characterizing Post Hoc
       Explanations", NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktrust.explain import LocalFunctionApproximationExplainer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 4)); y = (X[:, 0] - X[:, 1] > 0).astype(int)
    >>> lr = LogisticRegression().fit(X, y)
    >>> exp = LocalFunctionApproximationExplainer(
    ...     lr, method="integrated_gradients", output="log_odds").fit(X)
    >>> values = exp.explain(X[:2]).values
    >>> bool(np.allclose(values, lr.coef_ * X[:2]))
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "method": [StrOptions(set(METHODS))],
        "n_perturb": [Interval(Integral, 2, None, closed="left")],
        "kernel_width": [Interval(Real, 0, None, closed="neither")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "baseline": [StrOptions({"zero", "mean"}), "array-like"],
        "output": [StrOptions({"auto", "probability", "log_odds"})],
        "target": "no_validation",
        "sampler": [callable, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, method="kernel_shap", n_perturb=1000,
                 kernel_width=1.0, sigma=0.1, baseline="zero", output="auto",
                 target=None, sampler=None, random_state=None):
        self.estimator = estimator
        self.method = method
        self.n_perturb = n_perturb
        self.kernel_width = kernel_width
        self.sigma = sigma
        self.baseline = baseline
        self.output = output
        self.target = target
        self.sampler = sampler
        self.random_state = random_state

    # -- fit -----------------------------------------------------------------
    def _fit(self, X, y):
        from sklearn.linear_model import LogisticRegression

        from sktrust.utils._validation import check_random_state_seed

        if self.sampler is not None and self.method not in SAMPLER_METHODS:
            raise ValueError(
                f"sampler replaces the neighbourhood of the methods {SAMPLER_METHODS}; "
                f"method={self.method!r} has a fixed neighbourhood. Use method='c_lime' "
                "(squared loss) or 'smoothgrad' (gradient matching) with your sampler."
            )
        self.model_ = resolve_model(self.estimator, LogisticRegression(max_iter=1000), X, y,
                                    type(self).__name__)
        d = X.shape[1]
        if isinstance(self.baseline, str):
            self.baseline_ = (np.zeros(d) if self.baseline == "zero"
                              else X.mean(axis=0).astype(float))
        else:
            base = np.asarray(self.baseline, dtype=float).ravel()
            if base.shape != (d,) or not np.all(np.isfinite(base)):
                raise ValueError(
                    f"baseline must be 'zero', 'mean' or {d} finite values (one per "
                    f"feature); got shape {base.shape}."
                )
            self.baseline_ = base
        if is_classifier(self.model_):
            if not hasattr(self.model_, "predict_proba"):
                raise TypeError(
                    f"{type(self).__name__} explains class probabilities; "
                    f"{type(self.model_).__name__} has no predict_proba."
                )
            classes = self.model_.classes_
            if self.target is not None and self.target not in set(classes.tolist()):
                raise ValueError(
                    f"target={self.target!r} is not a class of the model; its classes "
                    f"are {classes.tolist()[:20]}."
                )
            self.output_ = "probability" if self.output == "auto" else self.output
        else:
            self.output_ = "prediction"
        self.gradient_source_ = "torch" if self._torch_model() is not None else (
            "finite_differences")
        self.seed_ = check_random_state_seed(self.random_state)

    def _torch_model(self):
        from sktrust.nn import as_torch_model

        try:
            tm = as_torch_model(self.model_)
        except (TypeError, ValueError):
            return None
        # Pipelines with pre-steps: the adapter differentiates after the
        # transform, not with respect to the raw features.
        if tm is None or tm.pre is not None:
            return None
        return tm

    # -- the explained function ----------------------------------------------
    def _targets(self, X):
        if self.output_ == "prediction":
            return np.zeros(len(X), dtype=int)
        classes = self.model_.classes_
        if self.target is not None:
            return np.full(len(X), int(np.flatnonzero(classes == self.target)[0]))
        if len(classes) == 2:
            return np.ones(len(X), dtype=int)
        return np.argmax(self.model_.predict_proba(model_input(self.model_, X)), axis=1)

    def _f(self, X, t):
        """The explained output of rows ``X`` for class index ``t``."""
        rows = model_input(self.model_, X)
        if self.output_ == "prediction":
            return np.asarray(self.model_.predict(rows), dtype=float).reshape(len(X))
        p = self.model_.predict_proba(rows)[:, t]
        if self.output_ == "probability":
            return p
        p = np.clip(p, _EPS, 1 - _EPS)
        return np.log(p) - np.log1p(-p)

    def _grad(self, X, t):
        """Gradient of the explained output at each row of ``X`` (shape of ``X``)."""
        tm = self._torch_model()
        if tm is None:
            return self._grad_finite_differences(X, t)
        import torch

        module = tm.module
        was_training = module.training
        module.eval()
        try:
            x = torch.as_tensor(np.asarray(X), dtype=tm.dtype, device=tm.device)
            x.requires_grad_(True)
            logits = tm.logits_tensor(x)
            if self.output_ == "prediction":
                out = logits.reshape(len(X))
            else:
                logp = torch.log_softmax(logits, dim=1)
                if self.output_ == "probability":
                    out = logp[:, t].exp()
                else:
                    rest = torch.cat([logp[:, :t], logp[:, t + 1:]], dim=1)
                    out = logp[:, t] - torch.logsumexp(rest, dim=1)
            (grad,) = torch.autograd.grad(out.sum(), x)
        finally:
            module.train(was_training)
        return grad.detach().cpu().numpy().astype(float)

    def _grad_finite_differences(self, X, t):
        n, d = X.shape
        h = _FD_STEP * np.maximum(1.0, np.abs(X))
        out = np.empty((n, d))
        chunk = max(1, 20000 // max(d, 1))
        for start in range(0, n, chunk):
            Xc, hc = X[start:start + chunk], h[start:start + chunk]
            m = len(Xc)
            eye = np.eye(d)
            plus = (Xc[:, None, :] + eye * hc[:, None, :]).reshape(m * d, d)
            minus = (Xc[:, None, :] - eye * hc[:, None, :]).reshape(m * d, d)
            diff = (self._f(plus, t) - self._f(minus, t)).reshape(m, d)
            out[start:start + chunk] = diff / (2 * hc)
        return out

    # -- neighbourhoods --------------------------------------------------------
    def _lime_weights(self, x, Xt):
        logw = -np.sum((Xt - x) ** 2, axis=1) / self.kernel_width**2
        return np.exp(logw - logw.max())

    def _neighbourhood(self, name, x, n, rng):
        """The method's neighbourhood: the user's sampler when given, else built in."""
        if self.sampler is not None:
            return _check_sample(self.sampler(x.copy(), n, rng), len(x), with_z=True)
        return self._sample(name, x, n, rng)

    def _sample(self, name, x, n, rng):
        """``(X_tilde, Z, weights)`` of a neighbourhood (``Z`` the mask or noise)."""
        b = self.baseline_
        d = len(x)
        if name == "lime":
            Z = rng.binomial(1, 0.5, size=(n, d)).astype(float)
            Xt = b + Z * (x - b)
            return Xt, Z, self._lime_weights(x, Xt)
        if name == "kernel_shap":
            Z, w = _shapley_kernel_masks(d, n, rng)
            return b + Z * (x - b), Z, w
        xi = rng.normal(scale=self.sigma, size=(n, d))
        return x + xi, xi, np.ones(n)

    # -- one row ---------------------------------------------------------------
    def _explain_row(self, x, t, rng):
        """``(values, g_at_x, slope)``: attributions, the local model at ``x`` and
        its gradient in input space (so ``g(x~) = g_at_x + slope . (x~ - x)``)."""
        method, n, b = self.method, self.n_perturb, self.baseline_
        d = len(x)
        moved = x != b
        span = np.where(moved, x - b, 1.0)
        fx = self._f(x[None], t)[0]
        if method in ("lime", "c_lime"):
            Xt, Z, w = self._neighbourhood(method, x, n, rng)
            coef = _wls(np.column_stack([np.ones(len(Z)), Z]), self._f(Xt, t), w)
            v, c = coef[1:], coef[0]
            if method == "c_lime":
                return v, c, v
            return v, c + v.sum(), np.where(moved, v / span, 0.0)
        if method == "kernel_shap":
            fb = self._f(b[None], t)[0]
            delta = fx - fb
            v = np.empty(d)
            if d == 1:
                # Efficiency alone decides; there is no non-trivial coalition to sample.
                v[0] = delta
            else:
                Xt, Z, w = self._neighbourhood(method, x, n, rng)
                y = self._f(Xt, t) - fb - Z[:, -1] * delta
                v[:-1] = _wls(Z[:, :-1] - Z[:, -1:], y, w)
                v[-1] = delta - v[:-1].sum()
            return v, fx, np.where(moved, v / span, 0.0)
        if method == "occlusion":
            Xo = np.repeat(x[None], d, axis=0)
            Xo[np.arange(d), np.arange(d)] = b
            v = fx - self._f(Xo, t)
            return v, fx, np.where(moved, v / span, 0.0)
        if method == "vanilla_gradients":
            g = self._grad(x[None], t)[0]
            return g, fx, g
        if method == "grad_x_input":
            g = self._grad(x[None], t)[0]
            return x * g, fx, g
        if method == "smoothgrad":
            Xt, _, w = self._neighbourhood("c_lime", x, n, rng)
            g = np.average(self._grad(Xt, t), axis=0, weights=w)
            return g, fx, g
        # integrated_gradients
        alpha = rng.uniform(0.0, 1.0, size=n)
        g = self._grad(b + alpha[:, None] * (x - b), t).mean(axis=0)
        return (x - b) * g, fx, g

    def _explain_rows(self, X, rng):
        targets = self._targets(X)
        rows = [self._explain_row(x.astype(float), t, rng) for x, t in zip(X, targets)]
        values = np.array([r[0] for r in rows]).reshape(X.shape)
        g_at_x = np.array([r[1] for r in rows])
        slopes = np.array([r[2] for r in rows]).reshape(X.shape)
        return values, g_at_x, slopes, targets

    def _explain(self, X):
        rng = np.random.default_rng(self.seed_)
        values, _, _, targets = self._explain_rows(X, rng)
        fx = np.array([self._f(x[None].astype(float), t)[0] for x, t in zip(X, targets)])
        return values, fx - values.sum(axis=1)

    # -- faithfulness ----------------------------------------------------------
    def local_fidelity(self, X, neighbourhood="c_lime", n_perturb=None):
        """Local fidelity of this method's explanations on a neighbourhood.

        The paper's faithfulness measure: the weighted mean squared error
        ``sum_k w_k (f(x~_k) - g(x~_k))^2 / sum_k w_k`` of the local linear
        model ``g`` found by this explainer, over samples ``x~_k`` of a
        neighbourhood of each row. Every ``g`` is expressed in input space
        (mask-based methods through ``z_i = (x~_i - b_i) / (x_i - b_i)``).
        Lower is more faithful on that neighbourhood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to explain and evaluate around.
        neighbourhood : {"c_lime", "lime", "kernel_shap"} or callable, default="c_lime"
            ``"c_lime"``: Gaussian noise with ``sigma``; ``"lime"``: binary
            masks with LIME kernel weights; ``"kernel_shap"``: masks drawn from
            the Shapley kernel. A callable ``sampler(x, n, rng)`` returns
            ``(X_tilde, weights)`` (or ``(X_tilde, Z, weights)``, the form of
            the ``sampler`` parameter) for a custom neighbourhood.
        n_perturb : int, default=None
            Samples per row; ``None`` uses ``self.n_perturb``.

        Returns
        -------
        loss : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype="numeric")
        check_non_empty(X, "X")
        if not callable(neighbourhood) and neighbourhood not in NEIGHBOURHOODS:
            raise ValueError(
                f"neighbourhood must be one of {NEIGHBOURHOODS} or a callable "
                f"sampler(x, n, rng) -> (X_tilde, weights); got {neighbourhood!r}."
            )
        n = self.n_perturb if n_perturb is None else n_perturb
        if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n_perturb must be a positive integer or None; got {n_perturb!r}.")
        X = X.astype(float)
        _, g_at_x, slopes, targets = self._explain_rows(X, np.random.default_rng(self.seed_))
        # Evaluation draws are independent of the draws that fitted g.
        rng = np.random.default_rng([self.seed_, 1])
        losses = np.empty(len(X))
        for i, (x, t) in enumerate(zip(X, targets)):
            if callable(neighbourhood):
                Xt, _, w = _check_sample(neighbourhood(x.copy(), n, rng), len(x), with_z=False)
            else:
                Xt, _, w = self._sample(neighbourhood, x, n, rng)
            g = g_at_x[i] + (Xt - x) @ slopes[i]
            losses[i] = np.sum(w * (self._f(Xt, t) - g) ** 2) / np.sum(w)
        return losses
