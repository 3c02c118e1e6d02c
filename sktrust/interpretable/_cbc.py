"""Robust prototype networks (stable CBC and RBF heads) with a certified L2 radius."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetClassifier
from torch import nn

from sktrust.nn import TorchStateMixin, make_classifier_net, torch_seed
from sktrust.utils._sklearn_compat import Interval, StrOptions, _fit_context, validate_data
from sktrust.utils._validation import (
    check_classification_targets_known,
    check_non_empty,
    encode_classification_target,
)

# Clamps of the closed-form certificate (from the paper's code).
_A_MAX = -1e-8
_LOG_MIN = 1e-8


class _PrototypeHead(nn.Module):
    """Detections ``exp(-||x - w_k|| / sigma_k)`` and a per-concept affine read-out.

    ``constrained=True`` (stable CBC): ``rho = softmax(theta)`` over the 2K
    rows, ``p_r = d . (rho+ - rho-)_r + sum(rho-_r)``. ``constrained=False``
    (RBF): ``p_r = d . W_r + b_r`` with free weights. Both are written as
    ``p_r = d . P_r - d . M_r + R_r`` with ``P, M >= 0``, which is what the
    certificate needs.
    """

    def __init__(self, components, sigma, n_concepts, concept_class, constrained,
                 trainable_sigma, extractor=None):
        super().__init__()
        K = components.shape[0]
        # Deep variant: prototypes live in the extractor's feature space.
        self.extractor = extractor
        self.components = nn.Parameter(torch.as_tensor(components, dtype=torch.float32))
        sig = torch.as_tensor(np.broadcast_to(sigma, (K,)).copy(), dtype=torch.float32)
        self.sigma = nn.Parameter(sig, requires_grad=trainable_sigma)
        self.constrained = constrained
        self.register_buffer("concept_class", torch.as_tensor(concept_class, dtype=torch.long))
        self.n_classes = int(concept_class.max()) + 1
        if constrained:
            self.theta = nn.Parameter(torch.randn(2 * K, n_concepts) * 0.1)
        else:
            self.weight = nn.Parameter(torch.randn(K, n_concepts) * 0.1)
            self.bias = nn.Parameter(torch.zeros(n_concepts))

    def init_reasoning(self, owner, strength):
        """Start each concept from "my class's prototypes present".

        ``owner[k]`` is the class prototype ``k`` was initialised from; its
        "present" logit for that class's concepts is raised by ``strength``
        (stable CBC), or its weight is centred and scaled by it (RBF).
        """
        own = torch.as_tensor(owner[:, None] == self.concept_class.numpy()[None],
                              dtype=torch.float32)
        with torch.no_grad():
            if self.constrained:
                K = own.shape[0]
                self.theta[:K] += strength * own
            else:
                self.weight += strength * (own - own.mean(dim=0, keepdim=True))

    def abs_sigma(self):
        return self.sigma.abs().clamp_min(1e-6)

    def embed(self, x):
        """Features the prototypes are compared with (``x`` itself when shallow)."""
        if self.extractor is None:
            return x
        return self.extractor(x).reshape(x.shape[0], -1)

    def detections(self, x):
        z = self.embed(x)
        sq = ((z[:, None, :] - self.components[None]) ** 2).sum(-1)
        return torch.exp(-torch.sqrt(sq + 1e-12) / self.abs_sigma())

    def affine(self):
        """``(P, M, R)``: non-negative weights (K x C'), (K x C') and offsets (C')."""
        if self.constrained:
            rho = torch.softmax(self.theta, dim=0)
            K = self.components.shape[0]
            return rho[:K], rho[K:], rho[K:].sum(dim=0)
        return self.weight.clamp_min(0), (-self.weight).clamp_min(0), self.bias

    def concept_scores(self, x):
        d = self.detections(x)
        P, M, R = self.affine()
        return d, d @ P - d @ M + R

    def forward(self, x):
        _, p = self.concept_scores(x)
        out = torch.full((x.shape[0], self.n_classes), -torch.inf, device=x.device,
                         dtype=p.dtype)
        idx = self.concept_class[None].expand_as(p)
        return out.scatter_reduce(1, idx, p, reduce="amax")

    def radius(self, x, cls):
        """Certified L2 radius of class ``cls`` per row (<= 0 when ``cls`` loses)."""
        d, _ = self.concept_scores(x)
        P, M, R = self.affine()
        Dp, Nm = d @ P, d @ M  # (n, C')
        own = self.concept_class[None] == cls[:, None]  # (n, C')
        # Pairs (i own concept, j other concept): a t^2 + b t + c = 0.
        a = (-(Nm[:, :, None] + Dp[:, None, :])).clamp(max=_A_MAX)
        b = R[None, :, None] - R[None, None, :]
        c = Dp[:, :, None] + Nm[:, None, :]
        disc = (b**2 - 4 * a * c).clamp_min(0)
        t = -(b + torch.sqrt(disc)) / (2 * a)
        pair_ok = own[:, :, None] & ~own[:, None, :]
        t_best = torch.where(pair_ok, t, torch.full_like(t, -torch.inf)).amax(dim=1)
        t_star = torch.where(~own, t_best, torch.full_like(t_best, torch.inf)).amin(dim=1)
        return self.abs_sigma().min() * torch.log(t_star.clamp_min(_LOG_MIN))


class _PrototypeNet(NeuralNetClassifier):
    """skorch net whose loss reads the certificate (robust) or the score margin."""

    def __init__(self, *args, loss="robust", robust_margin=1.0, margin=0.3, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss = loss
        self.robust_margin = robust_margin
        self.margin = margin

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y = torch.as_tensor(y_true, device=y_pred.device).long()
        if self.loss == "robust":
            x = torch.as_tensor(X, device=y_pred.device, dtype=torch.float32)
            eps = self.module_.radius(x, y)
            return torch.relu(self.robust_margin - eps).mean()
        own = y_pred.gather(1, y[:, None])[:, 0]
        other = y_pred.scatter(1, y[:, None], -torch.inf).amax(dim=1)
        return torch.relu(other - own + self.margin).mean()


class _BasePrototypeClassifier(TorchStateMixin, ClassifierMixin, BaseEstimator):
    _constrained = True
    _reasoning_init = 3.0

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_reasoning_per_class": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "trainable_sigma": ["boolean"],
        "loss": [StrOptions({"robust", "margin"})],
        "robust_margin": [Interval(Real, 0, None, closed="neither")],
        "margin": [Interval(Real, 0, None, closed="neither")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "feature_extractor": [nn.Module, None],
        "device": [str],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components=20, *, n_reasoning_per_class=1, sigma="auto",
                 trainable_sigma=True, loss="robust", robust_margin=0.5, margin=0.3,
                 lr=1e-2, max_epochs=40, batch_size=128, feature_extractor=None,
                 device="cpu", random_state=None):
        self.n_components = n_components
        self.n_reasoning_per_class = n_reasoning_per_class
        self.sigma = sigma
        self.trainable_sigma = trainable_sigma
        self.loss = loss
        self.robust_margin = robust_margin
        self.margin = margin
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.feature_extractor = feature_extractor
        self.device = device
        self.random_state = random_state

    def _head(self, components, sigma):
        C, R = len(self.classes_), self.n_reasoning_per_class
        extractor = (None if self.feature_extractor is None
                     else copy.deepcopy(self.feature_extractor))
        return _PrototypeHead(components, sigma, C * R, np.repeat(np.arange(C), R),
                              self._constrained, self.trainable_sigma, extractor)

    def _initial_features(self, X):
        """``X`` through the (untrained) extractor: where the prototypes start."""
        if self.feature_extractor is None:
            return X
        extractor = copy.deepcopy(self.feature_extractor).cpu().eval()
        try:
            with torch.no_grad():
                Z = extractor(torch.as_tensor(X))
        except (RuntimeError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(
                f"feature_extractor ({type(self.feature_extractor).__name__}) cannot take "
                f"X: on a float32 batch of shape {X.shape} it raised {type(exc).__name__}: "
                f"{exc}"
            ) from exc
        if not isinstance(Z, torch.Tensor) or Z.ndim < 1 or Z.shape[0] != len(X):
            got = (f"a tensor of shape {tuple(Z.shape)}" if isinstance(Z, torch.Tensor)
                   else f"a {type(Z).__name__}")
            raise ValueError(
                f"feature_extractor must map a batch of {len(X)} rows to one tensor with "
                f"{len(X)} rows (features flattened per row); it returned {got}."
            )
        return Z.reshape(len(X), -1).numpy().astype(np.float32)

    def _init_components(self, X, y_idx, rng, seed):
        """Initial prototypes and the class each one was drawn from (or None)."""
        K, C = self.n_components, len(self.classes_)
        if K < C:
            idx = rng.choice(len(X), K, replace=len(X) < K)
            return X[idx] + 1e-3 * rng.standard_normal((K, X.shape[1])), None
        from sklearn.cluster import KMeans

        counts = np.full(C, K // C)
        counts[rng.permutation(C)[: K % C]] += 1
        comps, owner = [], []
        for c in range(C):
            Xc = X[y_idx == c]
            k = min(int(counts[c]), len(np.unique(Xc, axis=0)))
            if k >= 1:
                km = KMeans(k, n_init=1, random_state=seed).fit(Xc)
                comps.append(km.cluster_centers_)
            extra = int(counts[c]) - k
            if extra:
                comps.append(Xc[rng.choice(len(Xc), extra)]
                             + 1e-3 * rng.standard_normal((extra, X.shape[1])))
            owner += [c] * int(counts[c])
        return np.vstack(comps).astype(np.float32), np.asarray(owner)

    def _rebuild_net(self, attr):
        return self._make_net(self._head(
            np.zeros((self.n_components, self.n_prototype_features_)),
            np.ones(self.n_components)))

    def _make_net(self, module):
        return make_classifier_net(
            module, max_epochs=self.max_epochs, lr=self.lr, batch_size=self.batch_size,
            optimizer="adam", device=self.device, net_class=_PrototypeNet, loss=self.loss,
            robust_margin=self.robust_margin, margin=self.margin)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the prototypes and the read-out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y, reset=True, dtype=np.float32)
        check_non_empty(X, "X")
        y_idx = encode_classification_target(self, y)
        with torch_seed(self.random_state) as seed:
            rng = np.random.default_rng(seed)
            Z = self._initial_features(X)
            self.n_prototype_features_ = Z.shape[1]
            components, owner = self._init_components(Z, y_idx, rng, seed)
            if self.sigma == "auto":
                ref = Z[rng.choice(len(Z), min(len(Z), 500), replace=False)]
                dist = np.sqrt(((ref[:, None] - components[None]) ** 2).sum(-1))
                sigma = max(float(dist.mean()), 1e-3)
            else:
                sigma = float(self.sigma)
            head = self._head(components, sigma)
            if owner is not None:
                head.init_reasoning(owner, self._reasoning_init)
            net = self._make_net(head)
            net.fit(X, y_idx.astype(np.int64))
        self.net_ = net
        return self

    def _module(self):
        check_is_fitted(self, "net_")
        return self.net_.module_

    def _tensor(self, X):
        X = validate_data(self, X, reset=False, dtype=np.float32)
        check_non_empty(X, "X")
        return torch.as_tensor(X, device=self.net_.device)

    def class_scores(self, X):
        """Class scores ``p_c`` (max over the class's concepts), shape (n, n_classes).

        In [0, 1] for the stable CBC; they need not sum to one.
        """
        module = self._module()
        x = self._tensor(X)
        module.eval()
        with torch.no_grad():
            return module(x).cpu().numpy().astype(float)

    def decision_function(self, X):
        """Class scores; for two classes one column, positive for ``classes_[1]``.

        With two classes it is ``log(p_1 / p_0)`` for the stable CBC and
        ``p_1 - p_0`` for the RBF, so that it ranks rows as
        :meth:`predict_proba` does.
        """
        s = self.class_scores(X)
        if s.shape[1] != 2:
            return s
        if self._constrained:
            s = np.log(np.clip(s, 1e-12, None))
        return s[:, 1] - s[:, 0]

    def predict_proba(self, X):
        """Class probabilities from the scores, with the same argmax.

        The stable CBC's scores lie in [0, 1] and are normalised to sum to one
        (raw ``p_c`` need not); the RBF's scores are unbounded and go through a
        softmax. Neither is calibrated.
        """
        s = self.class_scores(X)
        if self._constrained:
            s = np.clip(s, 1e-12, None)
            return s / s.sum(axis=1, keepdims=True)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Class with the largest score."""
        s = self.class_scores(X)
        return self.classes_[np.argmax(s, axis=1)]

    def certify(self, X, y=None):
        """Certified L2 radius: no perturbation of smaller norm changes the class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Certify these labels instead of the predictions; the radius is
            then <= 0 on rows the model gets wrong.

        Returns
        -------
        radius : ndarray of shape (n_samples,)
            A lower bound on the L2 distance to the nearest change of class:
            in input units for the shallow network, in feature units when a
            ``feature_extractor`` is set.
        """
        module = self._module()
        x = self._tensor(X)
        module.eval()
        with torch.no_grad():
            cls = self._class_index(module, x, y)
            return module.radius(x, cls).cpu().numpy().astype(float)

    def _class_index(self, module, x, y):
        """Index of the class to certify or explain: ``y``'s, or the prediction."""
        if y is None:
            return module(x).argmax(dim=1)
        y = np.asarray(y)
        if y.shape != (x.shape[0],):
            raise ValueError(f"y has shape {y.shape}; expected ({x.shape[0]},).")
        check_classification_targets_known(y, self.classes_)
        return torch.as_tensor(np.searchsorted(self.classes_, y), device=x.device)

    def explain_components(self, X, y=None):
        """Which components decide each prediction, and how much each adds.

        For each row the deciding concept is the best-scoring concept of the
        predicted class (or of ``y``). Its score splits exactly over the
        components: for the stable CBC, ``p_r = sum_k d_k rho+_kr +
        (1 - d_k) rho-_kr``, where the first term is the agreement from
        component ``k`` being present when required (``positive``) and the
        second the agreement from it being absent when it must be absent
        (``negative``); for the RBF, ``p_r = sum_k d_k W_kr + b_r``, split into
        the positive and negative weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Explain these labels' best concepts instead of the predictions.

        Returns
        -------
        explanation : shap.Explanation
            ``values[i, k] = positive[i, k] + negative[i, k]``, the contribution
            of component ``k`` to the deciding concept's score;
            ``base_values`` is the concept's offset (0 for the stable CBC,
            ``b_r`` for the RBF), so ``values.sum(1) + base_values`` equals the
            explained class's score (:meth:`class_scores`). ``data`` holds the
            detections ``d_k(x)`` and ``feature_names`` the components. Extra
            attributes: ``positive``, ``negative`` (n_samples, n_components),
            ``concept`` (index of the deciding concept, in
            ``concept_class_``), ``label`` (the explained class) and
            ``score``.

        Notes
        -----
        The card calls this ``explain``; in sktrust ``explain(X)`` is the
        explainer contract (one attribution per input feature, checked on
        every estimator that has it), and these values are per component, so
        the method carries its own name.
        """
        import shap

        module = self._module()
        x = self._tensor(X)
        module.eval()
        with torch.no_grad():
            cls = self._class_index(module, x, y)
            d, p = module.concept_scores(x)
            own = module.concept_class[None] == cls[:, None]
            concept = torch.where(own, p, torch.full_like(p, -torch.inf)).argmax(dim=1)
            P, M, R = module.affine()
            Pr, Mr = P.T[concept], M.T[concept]  # (n, K) weights of the deciding concept
            if module.constrained:
                positive, negative = d * Pr, (1 - d) * Mr
                base = torch.zeros(len(x), device=x.device)
            else:
                positive, negative = d * Pr, -d * Mr
                base = R[concept]
            score = p.gather(1, concept[:, None])[:, 0]
        positive, negative, d, base, score = (t.cpu().numpy().astype(float)
                                              for t in (positive, negative, d, base, score))
        exp = shap.Explanation(positive + negative, base_values=base, data=d,
                               feature_names=[f"component_{k}" for k in range(d.shape[1])])
        exp.positive, exp.negative = positive, negative
        exp.concept = concept.cpu().numpy()
        exp.label = self.classes_[cls.cpu().numpy()]
        exp.score = score
        return exp

    @property
    def concept_class_(self):
        """Index into ``classes_`` of each concept (reasoning column)."""
        return self._module().concept_class.cpu().numpy().copy()

    @property
    def components_(self):
        """Learned prototypes, shape (n_components, n_features)."""
        return self._module().components.detach().cpu().numpy().copy()

    @property
    def sigma_(self):
        """Positive temperature of each component."""
        return self._module().abs_sigma().detach().cpu().numpy().copy()


class RobustStableCBCClassifier(_BasePrototypeClassifier):
    """Stable classification-by-components network with a certified radius.

    A shallow prototype network after Saralajew et al. [1]_: detections
    ``d_k(x) = exp(-||x - w_k|| / sigma_k)`` of ``n_components`` learned
    prototypes, and per concept a probabilistic reasoning over which
    prototypes must be present or absent, ``p_r = sum_k d_k rho+_kr +
    (1 - d_k) rho-_kr`` with ``rho = softmax(theta)`` over the 2K rows. The
    class score is the max over the class's concepts. Because a perturbation
    of norm ``eps`` moves each distance by at most ``eps``, every detection
    stays within a factor ``exp(eps / sigma)``, which gives the closed-form
    certificate :meth:`certify`. ``loss="robust"`` trains for a certified
    radius of ``robust_margin``; ``"margin"`` uses a plain score margin.
    With a ``feature_extractor`` in front it is the paper's deep variant
    (scaled down: any small torch module, trained with the head).

    Read more in the :ref:`User Guide <interpretable>`.

    Parameters
    ----------
    n_components : int, default=20
        Prototypes are initialised by k-means within each class (an equal
        share per class; random training rows when there are fewer
        components than classes), and each class's concept starts by
        requiring its own prototypes to be present (the paper initialises at
        random; on digits, with 30 components and ``robust_margin=1.0``, this
        start took test accuracy from 0.891 to 0.937).
    n_reasoning_per_class : int, default=1
        Concepts per class.
    sigma : float or "auto", default="auto"
        Initial temperature; ``"auto"`` is the mean training distance to the
        initial prototypes (a detection of ``exp(-1)`` there). The paper's
        code rule, ``(mean + std) / ln 100``, left detections near 0.01 and
        training stalled on digits.
    trainable_sigma : bool, default=True
    loss : {"robust", "margin"}, default="robust"
    robust_margin : float, default=0.5
        Target certified radius of the robust loss, in input units. It trades
        clean accuracy for certified radius: on 64-pixel digits in [0, 1],
        where the median distance to the nearest digit of another class is
        1.86 (so no radius above about 0.93 is possible for half the
        points), 1.0 costs about 3 more points of accuracy than 0.5 (see
        ``benchmarks/bench_interpretable.py``). The paper uses 1.58 on
        784-pixel MNIST.
    margin : float, default=0.3
        Score margin of ``loss="margin"``.
    lr : float, default=1e-2
        Adam step (the paper uses 5e-3 on MNIST; 1e-2 converges in 40 epochs on
        64-pixel digits).
    max_epochs : int, default=40
    batch_size : int, default=128
    feature_extractor : torch.nn.Module, default=None
        Deep variant: a module mapping a batch of rows of ``X`` to features
        (flattened per row); the prototypes live in its output space and
        it is trained with the head, end to end (a copy is trained; the
        module passed stays untouched). :meth:`certify` then certifies
        perturbations of the *features*, not of the input: in input units
        it holds only after dividing by the extractor's Lipschitz constant.
        ``None``: the shallow network on ``X`` itself. Pickle keeps the
        extractor; skops only handles ``None``.
    device : str, default="cpu"
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    classes_ : ndarray
    net_ : skorch.NeuralNetClassifier
    components_ : ndarray of shape (n_components, n_prototype_features_)
    n_prototype_features_ : int
        Dimension the prototypes live in (``n_features_in_`` when shallow).
    sigma_ : ndarray of shape (n_components,)
    reasoning_probabilities_ : ndarray of shape (2 * n_components, n_concepts)
        ``rho``: rows 0..K-1 "must be present", K..2K-1 "must be absent".
    concept_class_ : ndarray of shape (n_concepts,)
        Index into ``classes_`` of each concept.

    See Also
    --------
    RobustRBFClassifier : the same detections with free read-out weights.

    Notes
    -----
    On digits (70/30 splits) the default reaches 0.951 test accuracy against
    0.975 for ``MLPClassifier`` (100 hidden units), and certifies 40% of the
    test digits at radius 0.5 (``benchmarks/bench_interpretable.py``).
    :meth:`explain_components` gives, per prediction, the deciding concept
    and each component's share of its score.

    References
    ----------
    .. [1] S. Saralajew, A. Rana, T. Villmann, A. Shaker. "A Robust
       Prototype-Based Network with Interpretable RBF Classifier Foundations",
       AAAI 2025.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sktrust.interpretable import RobustStableCBCClassifier
    >>> X, y = make_blobs(200, centers=3, random_state=0)
    >>> clf = RobustStableCBCClassifier(n_components=6, max_epochs=20,
    ...                                 random_state=0).fit(X, y)
    >>> bool((clf.certify(X[:5]) >= 0).all())
    True
    >>> exp = clf.explain_components(X[:2])
    >>> bool(abs(exp.values.sum(axis=1) - exp.score).max() < 1e-5)
    True
    """

    _constrained = True

    @property
    def reasoning_probabilities_(self):
        return torch.softmax(self._module().theta, dim=0).detach().cpu().numpy().copy()


class RobustRBFClassifier(_BasePrototypeClassifier):
    """RBF network on prototype detections, with the same certified radius.

    The unconstrained counterpart of :class:`RobustStableCBCClassifier`:
    concept scores ``p_r = d . W_r + b_r`` with free weights. Splitting ``W``
    into its positive and negative parts gives the same closed-form
    certificate (:meth:`certify`).

    Read more in the :ref:`User Guide <interpretable>`.

    Parameters
    ----------
    n_components : int, default=20
    n_reasoning_per_class : int, default=1
    sigma : float or "auto", default="auto"
    trainable_sigma : bool, default=True
    loss : {"robust", "margin"}, default="robust"
    robust_margin : float, default=0.5
        Target certified radius of the robust loss (see
        :class:`RobustStableCBCClassifier`).
    margin : float, default=0.3
    lr : float, default=1e-2
        Adam step (the paper uses 5e-3 on MNIST; 1e-2 converges in 40 epochs on
        64-pixel digits).
    max_epochs : int, default=40
    batch_size : int, default=128
    feature_extractor : torch.nn.Module, default=None
        Deep variant (see :class:`RobustStableCBCClassifier`); the
        certificate then holds in feature space only.
    device : str, default="cpu"
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    classes_ : ndarray
    net_ : skorch.NeuralNetClassifier
    n_prototype_features_ : int
    components_ : ndarray of shape (n_components, n_prototype_features_)
        Initialised by k-means within each class; each concept's weights
        start positive on its class's prototypes.
    sigma_ : ndarray of shape (n_components,)
    concept_class_ : ndarray of shape (n_concepts,)

    Notes
    -----
    On digits the default reaches 0.950 test accuracy against 0.975 for an
    MLP and certifies 44% of the test digits at radius 0.5
    (``benchmarks/bench_interpretable.py``).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sktrust.interpretable import RobustRBFClassifier
    >>> X, y = make_blobs(200, centers=3, random_state=0)
    >>> clf = RobustRBFClassifier(n_components=6, max_epochs=20, random_state=0).fit(X, y)
    >>> clf.certify(X[:3]).shape
    (3,)
    """

    _constrained = False
    _reasoning_init = 1.0
