"""Distance-aware evidence: an MLP trunk with a Gaussian (RBF) class head."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from numbers import Real

import torch
from torch import nn

from sktrust.nn import MLP


class RBFEvidenceMLP(nn.Module):
    """MLP whose class evidence is bounded and vanishes far from the data.

    A ReLU trunk gives features ``f(x)``; class ``c`` has a centroid ``m_c``
    and a length scale ``l_c`` in feature space, and its evidence is the
    Gaussian kernel ::

        e_c(x) = max_evidence * exp(-||f(x) - m_c||^2 / (2 l_c^2))

    so evidence is at most ``max_evidence`` and tends to 0 (ignorance to 1)
    as ``f(x)`` leaves the region where the training rows lie. A linear head
    (``softplus(W f + b)``) has the opposite behaviour: ReLU features grow
    linearly away from the data and so does its evidence. ``forward`` returns
    ``softplus^{-1}(e)`` so that ``softplus(forward(x))`` is the evidence, as
    :class:`EvidentialClassifier` expects of any module.

    :meth:`init_centroids` places the centroids at the class means of the
    initial features and the length scale at their root-mean-square spread;
    :class:`EvidentialClassifier` calls it before training (a kernel far from
    every row has no gradient, so an uninformed start can leave a class dead).

    Parameters
    ----------
    n_features : int
    n_outputs : int
        Number of classes.
    hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the ReLU trunk (at least one layer).
    max_evidence : float, default=100.0
        Evidence of a row sitting on its class centroid; ignorance never
        drops below ``K / (K + max_evidence)``.

    Examples
    --------
    >>> import torch
    >>> from torch.nn import functional as F
    >>> from sktrust.open_set import RBFEvidenceMLP
    >>> net = RBFEvidenceMLP(2, 3, hidden_layer_sizes=(8,))
    >>> _ = net.init_centroids(torch.randn(30, 2), torch.arange(30) % 3)
    >>> e = F.softplus(net(torch.tensor([[0.0, 0.0], [1e3, 1e3]])))
    >>> bool(e.max() <= 100.0 + 1e-4), bool(e[1].max() < 1e-6)
    (True, True)
    """

    def __init__(self, n_features, n_outputs, hidden_layer_sizes=(64,), max_evidence=100.0):
        super().__init__()
        if len(hidden_layer_sizes) == 0:
            raise ValueError("RBFEvidenceMLP needs at least one hidden layer.")
        if isinstance(max_evidence, bool) or not (
                isinstance(max_evidence, Real) and 0 < max_evidence < math.inf):
            raise ValueError(f"max_evidence must be a positive finite number; got "
                             f"{max_evidence!r}.")
        trunk = MLP(n_features, 1, hidden_layer_sizes=hidden_layer_sizes)
        self.body = trunk.body
        width = hidden_layer_sizes[-1]
        self.centroids = nn.Parameter(torch.zeros(n_outputs, width))
        self.register_buffer("log_length_scale", torch.zeros(n_outputs))
        self.log_max_evidence = math.log(max_evidence)

    def features(self, x):
        """Trunk activations ``f(x)``."""
        return self.body(x.reshape(x.shape[0], -1))

    @torch.no_grad()
    def init_centroids(self, x, y):
        """Centroids at the class means of ``f(x)``, scales at their RMS spread.

        Parameters
        ----------
        x : tensor of shape (n_samples, n_features)
        y : tensor of int, shape (n_samples,)
            Class indices in ``range(n_outputs)``.

        Returns
        -------
        self : RBFEvidenceMLP
        """
        f = self.features(x)
        y = y.to(f.device).long()
        for c in range(self.centroids.shape[0]):
            rows = y == c
            if rows.any():
                self.centroids[c] = f[rows].mean(dim=0)
        spread = ((f - self.centroids[y]) ** 2).sum(dim=1).mean()
        self.log_length_scale.fill_(0.5 * float(torch.log(spread.clamp_min(1e-8))))
        return self

    def log_evidence(self, x):
        """``log e_c(x)`` of shape (n_samples, n_outputs)."""
        f = self.features(x)
        # Explicit differences, not cdist's matrix-product shortcut: a row's
        # evidence must not depend on the other rows of its batch.
        d2 = (f[:, None, :] - self.centroids.to(f.dtype)[None]).pow(2).sum(dim=2)
        return self.log_max_evidence - 0.5 * d2 * torch.exp(-2 * self.log_length_scale)

    def forward(self, x):
        log_e = self.log_evidence(x)
        e = torch.exp(log_e)
        # softplus^{-1}(e) = e + log(1 - exp(-e)), which is log(e) for tiny e.
        exact = e + torch.log(-torch.expm1(-e.clamp_min(1e-30)))
        return torch.where(log_e < -15.0, log_e, exact)
