"""Label-free contrastive representations for tabular rows (SimCLR / SupCon)."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sktrust.utils._sklearn_compat import Interval, StrOptions, _fit_context, validate_data
from sktrust.utils._validation import check_hidden_layer_sizes

logger = logging.getLogger(__name__)


def contrastive_loss(z1, z2, labels=None, temperature=0.5):
    """NT-Xent (SimCLR) or supervised-contrastive (SupCon) loss of two views.

    Row ``i`` of ``z1`` and row ``i`` of ``z2`` are two views of one sample.
    Every one of the ``2n`` embeddings is an anchor; its positives are the
    other view of the same sample and, when ``labels`` are given, every view
    of a sample with the same label; all other embeddings are negatives.
    The loss is the mean over anchors of ``-mean_p log softmax(sim / t)_p``
    with cosine similarities (the anchor itself excluded from the softmax).
    Without labels this is SimCLR's NT-Xent; with labels, SupCon's
    ``L_out``.

    Parameters
    ----------
    z1, z2 : torch.Tensor of shape (n, d)
        Embeddings of the two views (normalised here).
    labels : torch.Tensor or array-like of shape (n,), default=None
        Class of each sample (any hashable values when not a tensor).
    temperature : float, default=0.5

    Returns
    -------
    loss : torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from sktrust.noisy_labels import contrastive_loss
    >>> z = torch.eye(4)
    >>> bool(contrastive_loss(z, z, temperature=0.1) < contrastive_loss(z, z.roll(1, 0)))
    True
    """
    import torch
    from torch.nn import functional as F

    if not (torch.is_tensor(z1) and torch.is_tensor(z2)):
        raise TypeError("z1 and z2 must be torch tensors.")
    if z1.ndim != 2 or z1.shape != z2.shape:
        raise ValueError(
            "z1 and z2 must be 2-D tensors of the same shape (n, d); got "
            f"{tuple(z1.shape)} and {tuple(z2.shape)}."
        )
    if z1.shape[0] == 0:
        raise ValueError("z1 and z2 need at least one row (one sample).")
    if labels is not None and not torch.is_tensor(labels):
        labels = np.asarray(labels)
        if labels.ndim == 1:
            labels = torch.as_tensor(np.unique(labels, return_inverse=True)[1].reshape(-1),
                                     device=z1.device)
    if labels is not None and tuple(labels.shape) != (z1.shape[0],):
        raise ValueError(
            f"labels must have shape ({z1.shape[0]},); got {tuple(labels.shape)}."
        )
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature}.")
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(eye, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    idx = torch.arange(n, device=z.device).repeat(2)
    if labels is None:
        pos = idx[:, None] == idx[None, :]
    else:
        lab = labels.repeat(2)
        pos = lab[:, None] == lab[None, :]
    pos = pos & ~eye
    log_prob = log_prob.masked_fill(~pos, 0.0)
    return -(log_prob.sum(dim=1) / pos.sum(dim=1)).mean()


def tabular_views(x, *, noise_scale=0.1, corruption=0.3):
    """A random view of standardised rows: marginal corruption plus Gaussian noise.

    Each entry is replaced, with probability ``corruption``, by the same
    feature of another random row of the batch (SCARF's corruption: the
    value stays on the feature's marginal), then Gaussian noise of standard
    deviation ``noise_scale`` is added. Uses torch's global generator
    (callers seed it with :func:`sktrust.nn.torch_seed`).

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
    noise_scale : float or torch.Tensor of shape (d,), default=0.1
    corruption : float, default=0.3

    Returns
    -------
    view : torch.Tensor of shape (n, d)
    """
    import torch

    n, d = x.shape
    if corruption > 0 and n > 1:
        donors = torch.randint(0, n, (n, d), device=x.device)
        other = torch.gather(x, 0, donors)
        swap = torch.rand(n, d, device=x.device) < corruption
        x = torch.where(swap, other, x)
    return x + noise_scale * torch.randn_like(x)


def _projected_encoder(n_features, hidden_layer_sizes, n_components, projection_dim):
    """The torch encoder (an MLP) and the projection head used while training."""
    from torch import nn

    from sktrust.nn import MLP

    encoder = MLP(n_features, n_components, hidden_layer_sizes=hidden_layer_sizes)
    # 2-layer projection head (SimCLR); the representation is taken before it.
    head = nn.Sequential(nn.ReLU(), nn.Linear(n_components, projection_dim))
    return nn.ModuleDict({"encoder": encoder, "projection": head})


class SimCLREncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Contrastive (SimCLR) representation of tabular rows, learned without labels.

    An MLP encoder is trained so that two random views of the same row map
    close together and views of different rows far apart (NT-Xent on a
    projection head, as in SimCLR); views corrupt a share of the entries with
    values of other rows and add Gaussian noise. Labels are never used, so
    the representation is untouched by label noise: this is RCAL's step 1
    (:class:`RCALCalibrator` takes it as ``encoder``). Training runs through
    :func:`sktrust.nn.train`; the fitted weights are kept as numpy arrays.

    Read more in the :ref:`User Guide <noisy_labels>`.

    Parameters
    ----------
    n_components : int, default=32
        Width of the representation (the encoder's output).
    hidden_layer_sizes : tuple of int, default=(128,)
    projection_dim : int, default=32
        Output of the projection head the loss is computed on.
    temperature : float, default=0.5
    noise_scale : float, default=0.1
        Gaussian noise added to the standardised features of each view.
    corruption : float, default=0.3
        Share of entries replaced by the same feature of a random row.
    max_epochs : int, default=50
    lr : float, default=1e-3
    batch_size : int, default=256
        Larger batches give more negatives per anchor.
    optimizer : {"adam", "sgd"}, default="adam"
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        Encoder weights (``coefs_[i]`` has shape ``(n_in, n_out)``); ReLU
        between layers, none after the last.
    mean_, scale_ : ndarray of shape (n_features,)
        Standardisation of the inputs.
    loss_curve_ : list of float
        Mean contrastive loss of each epoch.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    .. [1] T. Chen, S. Kornblith, M. Norouzi, G. Hinton, "A Simple Framework
       for Contrastive Learning of Visual Representations", ICML 2020.
    .. [2] D. Bahri, H. Jiang, Y. Tay, D. Metzler, "SCARF: Self-Supervised
       Contrastive Learning using Random Feature Corruption", ICLR 2022.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sktrust.noisy_labels import SimCLREncoder
    >>> X, _ = load_iris(return_X_y=True)
    >>> enc = SimCLREncoder(n_components=8, max_epochs=5, random_state=0).fit(X)
    >>> enc.transform(X).shape
    (150, 8)
    >>> bool(enc.loss_curve_[-1] < enc.loss_curve_[0])
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "noise_scale": [Interval(Real, 0, None, closed="left")],
        "corruption": [Interval(Real, 0, 1, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "optimizer": [StrOptions({"adam", "sgd"})],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_components=32, *, hidden_layer_sizes=(128,), projection_dim=32,
                 temperature=0.5, noise_scale=0.1, corruption=0.3, max_epochs=50, lr=1e-3,
                 batch_size=256, optimizer="adam", device="auto", random_state=None,
                 verbose=0):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.projection_dim = projection_dim
        self.temperature = temperature
        self.noise_scale = noise_scale
        self.corruption = corruption
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the encoder on ``X`` (labels are ignored).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : object
        """
        from torch import nn

        from sktrust.nn import torch_seed, train

        X = validate_data(self, X, dtype=np.float32)
        hidden_layer_sizes = check_hidden_layer_sizes(self)
        if X.shape[0] < 2:
            raise ValueError("SimCLREncoder needs at least 2 rows to contrast; got "
                             f"{X.shape[0]} sample.")
        self.mean_ = X.mean(axis=0).astype(np.float64)
        scale = X.std(axis=0).astype(np.float64)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        Z = ((X - self.mean_) / self.scale_).astype(np.float32)

        def loss_fn(model, xb, _):
            v1 = tabular_views(xb, noise_scale=self.noise_scale, corruption=self.corruption)
            v2 = tabular_views(xb, noise_scale=self.noise_scale, corruption=self.corruption)
            p1 = model["projection"](model["encoder"](v1))
            p2 = model["projection"](model["encoder"](v2))
            return contrastive_loss(p1, p2, temperature=self.temperature)

        with torch_seed(self.random_state) as seed:
            model = _projected_encoder(X.shape[1], hidden_layer_sizes,
                                       self.n_components, self.projection_dim)
            self.loss_curve_ = train(model, Z, None, loss_fn, epochs=self.max_epochs,
                                     lr=self.lr, batch_size=min(self.batch_size, len(Z)),
                                     optimizer=self.optimizer, device=self.device,
                                     random_state=seed, verbose=self.verbose)
        linears = [m for m in model["encoder"].modules() if isinstance(m, nn.Linear)]
        self.coefs_ = [lin.weight.detach().cpu().numpy().T.astype(np.float64)
                       for lin in linears]
        self.intercepts_ = [lin.bias.detach().cpu().numpy().astype(np.float64)
                            for lin in linears]
        self._n_features_out = self.n_components
        logger.info("SimCLREncoder: contrastive loss %.3f -> %.3f", self.loss_curve_[0],
                    self.loss_curve_[-1])
        return self

    def transform(self, X):
        """Representation of the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self, "coefs_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Z = (X - self.mean_) / self.scale_
        for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_)):
            Z = Z @ W + b
            if i < len(self.coefs_) - 1:
                Z = np.maximum(Z, 0.0)
        return Z

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.non_deterministic = False
        return tags
