"""GS-MoE: Gaussian-splatting guided mixture of experts for weakly-supervised
temporal anomaly detection."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
import torch
from scipy.signal import find_peaks
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted, column_or_1d
from torch import nn
from torch.nn import functional as F

from sktrust.mil._bags import check_bags, pad_bags
from sktrust.mil._common import ceil_count, to_numpy, top_count_mask
from sktrust.nn import resolve_device, torch_seed, train
from sktrust.utils._sklearn_compat import Interval, StrOptions, _fit_context
from sktrust.utils._validation import encode_classification_target


def render_gaussian_targets(scores, prominence=0.1):
    """Temporal Gaussian splatting of one sequence's segment scores.

    Each peak ``p`` of ``scores`` (prominence at least ``prominence``; the
    sequence is padded with zeros so that maxima at either end count) gives a
    kernel ``a_p * exp(-(t - t_p)^2 / (2 sigma_p^2))`` with ``a_p =
    scores[t_p]`` and ``sigma_p`` = half-prominence width / 2.355 (at least
    0.5). The target is the pointwise maximum of the kernels; all zeros when
    there is no peak.

    Parameters
    ----------
    scores : ndarray of shape (T,)
    prominence : float, default=0.1

    Returns
    -------
    target : ndarray of shape (T,)
    """
    scores = np.asarray(scores, dtype=np.float64)
    padded = np.concatenate([[0.0], scores, [0.0]])
    peaks, props = find_peaks(padded, prominence=prominence, width=0, rel_height=0.5)
    t = np.arange(scores.size, dtype=np.float64)
    target = np.zeros(scores.size)
    for p, width in zip(peaks, props["widths"]):
        sigma = max(width / 2.355, 0.5)
        target = np.maximum(target, padded[p] * np.exp(-((t - (p - 1)) ** 2) / (2 * sigma**2)))
    return target


def topk_mean(values, valid, ratio):
    """Mean of the top ``ceil(ratio * n_valid)`` (at least 1) values per row."""
    k = _topk_count(valid, ratio)
    ranked = values.masked_fill(~valid, float("-inf")).sort(dim=1, descending=True).values
    keep = torch.arange(values.shape[1], device=values.device)[None, :] < k[:, None]
    return torch.where(keep, ranked, torch.zeros_like(ranked)).sum(dim=1) / k.to(values.dtype)


class _GSMoE(nn.Module):
    """Task encoder + type head, per-type experts and a gate over segments."""

    def __init__(self, n_features, hidden, n_experts, n_types, topk_ratio=1 / 16,
                 route_by_type=False):
        super().__init__()
        self.topk_ratio = topk_ratio
        self.route_by_type = route_by_type
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU())
        self.scorer = nn.Linear(hidden, 1)
        self.type_head = nn.Linear(hidden, max(n_types, 1))
        # Experts share the encoder + scorer architecture; fit starts each one
        # from the trained encoder and fine-tunes it on its own anomaly type.
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                          nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
            for _ in range(n_experts)
        )
        self.gate = nn.Sequential(nn.Linear(hidden + n_experts, hidden), nn.ReLU(),
                                  nn.Linear(hidden, n_experts))
        # The learned per-segment correction starts at zero: the mixture
        # starts as the type head's routing.
        nn.init.zeros_(self.gate[-1].weight)
        nn.init.zeros_(self.gate[-1].bias)

    def encode(self, x):
        h = self.encoder(x[..., :-1])
        return h, self.scorer(h).squeeze(-1)

    def init_experts(self):
        """Copy the trained encoder and scorer into every expert."""
        for expert in self.experts:
            for target, source in zip(expert[0::2], [*self.encoder[0::2], self.scorer]):
                target.load_state_dict(source.state_dict())

    def expert_logits(self, x):
        return torch.stack([e(x[..., :-1]).squeeze(-1) for e in self.experts], dim=-1)

    def type_logits(self, h, logits, valid):
        """Anomaly-type logits of each sequence from its top-k segment features."""
        k_mask = _topk_mask(logits, valid, self.topk_ratio)
        z = (h * k_mask[..., None]).sum(1) / k_mask.sum(1, keepdim=True)
        return self.type_head(z)

    def gate_weights(self, x, h, enc_logits, e):
        """Per-segment expert weights: the sequence's type posterior (the
        task-aware routing) plus a learned per-segment correction."""
        route = self.gate(torch.cat([h, e], dim=-1))
        if self.route_by_type:
            prior = self.type_logits(h, enc_logits, x[..., -1] > 0)
            route = route + torch.log_softmax(prior, dim=-1)[:, None, :]
        return torch.softmax(route, dim=-1)

    def forward(self, x):
        """Final segment logits ``(n_bags, n_max)``."""
        h, enc_logits = self.encode(x)
        e = self.expert_logits(x)
        return (self.gate_weights(x, h, enc_logits, e) * e).sum(-1)


class GSMoEAnomalyDetector(ClassifierMixin, BaseEstimator):
    """Weakly-supervised segment anomaly scoring with Gaussian splatting and
    a mixture of experts (GS-MoE).

    Each sample is a *sequence* (a bag of ordered segments, e.g. the clips of
    a video) with one label: the smallest class is *normal*, every other class
    an anomaly type. Only these sequence labels are seen, but the model
    scores every segment.

    1. Task encoder: an MLP segment scorer trained with the MIL top-k loss
       (BCE of the mean of the top ``ceil(topk_ratio * T)`` segment scores
       against "anomalous"); a type head on the top-k mean of its features
       learns the anomaly type.
    2. Temporal Gaussian splatting: on every anomalous training sequence the
       peaks of the segment scores become Gaussian kernels (height = peak
       score, width from the half-prominence width); their maximum is a dense
       pseudo-target, which spreads supervision from the most abnormal
       segment to the whole event. Normal sequences get all-zero targets.
    3. Experts: expert ``c`` starts from the trained encoder and scorer and is
       fine-tuned on the anomalous sequences of type (or cluster) ``c`` plus
       all normal ones, loss = top-k BCE + ``tgs_weight`` * BCE of its
       segment scores against the Gaussian targets. With
       ``splat_source="expert"`` the first half of its epochs uses the top-k
       loss alone and the targets are rendered from the expert's own peaks.
    4. Gate: per segment, softmax weights over the experts = the sequence's
       anomaly-type posterior from the encoder's type head (task-aware
       routing; ``n_experts="per_class"`` with two or more types) plus a
       learned correction from the encoder features and the expert logits,
       which starts at zero and is trained on all sequences with the same
       two losses (experts frozen). The final segment logit is the weighted
       sum of the expert logits.

    Read more in the :ref:`User Guide <mil>`.

    Parameters
    ----------
    n_experts : "per_class" or int, default="per_class"
        One expert per anomaly type, or that many experts on KMeans clusters
        of the anomalous sequences (the adaptation for binary labels; the
        clusters are routed by the learned gate alone; capped at the number
        of anomalous sequences, see ``n_experts_``). ``n_experts=1`` is
        the single shared expert, the baseline of the mixture.
    hidden : int, default=64
        Width of the encoder, experts and gate (paper: a UR-DMU backbone on
        1024-d I3D features).
    topk_ratio : float, default=1/16
        Fraction of each sequence's segments in the top-k MIL loss.
    peak_prominence : float, default=0.1
        ``scipy.signal.find_peaks`` prominence for the splatting peaks.
    tgs_weight : float, default=1.0
        Weight of the Gaussian-target loss.
    splatting : bool, default=True
        False drops the Gaussian targets (plain top-k MIL experts), for
        ablations.
    splat_source : {"expert", "encoder"}, default="expert"
        Whose peaks the Gaussian targets of an expert come from: its own,
        after a top-k-only first half of its epochs, or the shared task
        encoder's (the paper's reading). With several anomaly types the
        shared encoder's peaks can sit on another type's signature (or on
        noise), and the experts then learn those; the expert's own peaks are
        type-specific.
    pretrain_epochs : int, default=20
        Epochs of task-encoder training.
    max_epochs : int, default=50
        Epochs of each expert's training and of the gate's.
    lr : float, default=1e-3
    batch_size : int, default=16
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        ``classes_[0]`` is the normal class.
    n_experts_ : int
        Number of experts trained.
    expert_of_type_ : ndarray of shape (n_classes - 1,) or None
        Expert trained on each anomaly type (``n_experts="per_class"``);
        None for an integer ``n_experts`` (experts then hold KMeans clusters).
    weights_ : dict of str to ndarray
        Network weights as numpy arrays (picklable, skops-safe).
    history_ : dict of str to list of float
        Mean loss per epoch of ``"encoder"``, ``"expert_<i>"``, ``"gate"``.
    n_features_in_ : int

    Notes
    -----
    ``X`` is a list of 2-D arrays ``(T_i, n_features)`` of segment features
    (feature extraction is the user's). A 2-D table is read as sequences of
    one segment each. Sequence-level anomaly probability = mean of the top-k
    segment scores; ``predict_proba`` splits it over the anomaly types with
    the encoder's type head.

    References
    ----------
    .. [1] G. D'Amicantonio, S. Majhi, et al., "Mixture of Experts Guided by
       Gaussian Splatters Matters: A new Approach to Weakly-Supervised Video
       Anomaly Detection", ICCV 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.mil import GSMoEAnomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> bags = [rng.normal(size=(16, 3)) for _ in range(30)]
    >>> y = np.arange(30) % 2
    >>> for bag, label in zip(bags, y):
    ...     bag[5:9, 0] += 3.0 * label      # an anomalous event in positive bags
    >>> det = GSMoEAnomalyDetector(hidden=16, pretrain_epochs=10, max_epochs=10,
    ...                            random_state=0).fit(bags, y)
    >>> [s.shape for s in det.instance_scores(bags[:2])]
    [(16,), (16,)]
    >>> det.predict_proba(bags[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "n_experts": [StrOptions({"per_class"}), Interval(Integral, 1, None, closed="left")],
        "hidden": [Interval(Integral, 1, None, closed="left")],
        "topk_ratio": [Interval(Real, 0, 1, closed="right")],
        "peak_prominence": [Interval(Real, 0, None, closed="left")],
        "tgs_weight": [Interval(Real, 0, None, closed="left")],
        "splatting": ["boolean"],
        "splat_source": [StrOptions({"expert", "encoder"})],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, n_experts="per_class", hidden=64, topk_ratio=1 / 16,
                 peak_prominence=0.1, tgs_weight=1.0, splatting=True, splat_source="expert",
                 pretrain_epochs=20,
                 max_epochs=50, lr=1e-3, batch_size=16, device="auto", random_state=None,
                 verbose=0):
        self.n_experts = n_experts
        self.hidden = hidden
        self.topk_ratio = topk_ratio
        self.peak_prominence = peak_prominence
        self.tgs_weight = tgs_weight
        self.splatting = splatting
        self.splat_source = splat_source
        self.pretrain_epochs = pretrain_epochs
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.non_deterministic = resolve_device(self.device) != "cpu"
        return tags

    def _new_module(self):
        n_types = self.classes_.size - 1
        return _GSMoE(self.n_features_in_, self.hidden, self.n_experts_, n_types,
                      self.topk_ratio,
                      route_by_type=self.n_experts == "per_class" and n_types > 1)

    def _kw(self, epochs, seed):
        return dict(epochs=epochs, lr=self.lr, batch_size=self.batch_size,
                    optimizer="adam", device=self.device, random_state=seed,
                    verbose=self.verbose)

    def _render(self, bags, anomalous, scores):
        """Gaussian-splatting targets of the anomalous sequences (zeros elsewhere)."""
        targets = np.zeros(scores.shape, dtype=np.float32)
        for i, bag in enumerate(bags):
            if anomalous[i]:
                targets[i, : len(bag)] = render_gaussian_targets(scores[i, : len(bag)],
                                                                 self.peak_prominence)
        return targets

    def _seg_loss(self, logits, valid, yb, tgs=True):
        """Top-k MIL BCE + tgs_weight * BCE against the Gaussian targets."""
        anomalous, target = yb[:, 0], yb[:, 1:]
        bag_p = topk_mean(torch.sigmoid(logits), valid, self.topk_ratio)
        loss = F.binary_cross_entropy(bag_p.clamp(1e-6, 1 - 1e-6), anomalous)
        if tgs and self.splatting and self.tgs_weight > 0:
            seg = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
            loss = loss + self.tgs_weight * (seg * valid).sum() / valid.sum()
        return loss

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train encoder, experts and gate from sequence labels.

        Parameters
        ----------
        X : list of ndarray of shape (T_i, n_features), 3-D array, or 2-D \
                array (sequences of one segment)
        y : array-like of shape (n_bags,)
            Smallest class = normal; others = anomaly types.

        Returns
        -------
        self : object
        """
        bags = check_bags(self, X, reset=True)
        y = column_or_1d(np.asarray(y), warn=True)
        if len(y) != len(bags):
            raise ValueError(f"X has {len(bags)} bags but y has {len(y)} labels.")
        codes = encode_classification_target(self, y)
        anomalous = codes > 0
        n_types = self.classes_.size - 1
        x = torch.as_tensor(pad_bags(bags))
        valid_all = x[..., -1] > 0
        with torch_seed(self.random_state) as seed:
            if self.n_experts == "per_class":
                self.n_experts_ = n_types
                assign = codes - 1
            else:
                self.n_experts_ = int(min(self.n_experts, anomalous.sum()))
            module = self._new_module()

            # 1. Task encoder: top-k MIL + anomaly-type CE.
            enc_y = torch.as_tensor(np.c_[anomalous, codes - 1], dtype=torch.float32)

            def encoder_loss(m, xb, yb):
                valid = xb[..., -1] > 0
                h, logits = m.encode(xb)
                bag_p = topk_mean(torch.sigmoid(logits), valid, self.topk_ratio)
                loss = F.binary_cross_entropy(bag_p.clamp(1e-6, 1 - 1e-6), yb[:, 0])
                pos = yb[:, 0] > 0
                if n_types > 1 and pos.any():
                    types = m.type_logits(h, logits, valid)
                    loss = loss + F.cross_entropy(types[pos], yb[pos, 1].long())
                return loss

            enc_params = [*module.encoder.parameters(), *module.scorer.parameters(),
                          *module.type_head.parameters()]
            history = {"encoder": train(module, x, enc_y, encoder_loss, params=enc_params,
                                        **self._kw(self.pretrain_epochs, seed))}
            module.cpu().eval()
            for p in enc_params:
                p.requires_grad_(False)

            # 2. Gaussian splatting targets from the encoder scores.
            with torch.no_grad():
                h_all, enc_logits = module.encode(x)
            targets = self._render(bags, anomalous, torch.sigmoid(enc_logits).numpy())
            if self.n_experts != "per_class":
                k_mask = _topk_mask(enc_logits, valid_all, self.topk_ratio)
                z = ((h_all * k_mask[..., None]).sum(1) / k_mask.sum(1, keepdim=True)).numpy()
                assign = np.full(len(bags), -1)
                km = KMeans(self.n_experts_, n_init=3, random_state=seed)
                assign[anomalous] = km.fit_predict(z[anomalous])

            module.init_experts()

            # 3. Experts: own anomalies + all normal sequences. With
            # splat_source="expert" the first half of the epochs is top-k MIL
            # only and the targets are rendered from the expert's own peaks.
            for c, expert in enumerate(module.experts):
                rows = np.flatnonzero(~anomalous | (assign == c))
                stage = {"tgs": True}

                def expert_loss(m, xb, yb, c=c, stage=stage):
                    return self._seg_loss(m.experts[c](xb[..., :-1]).squeeze(-1),
                                          xb[..., -1] > 0, yb, tgs=stage["tgs"])

                kw = self._kw(self.max_epochs, seed + 1 + c)
                stages = [(self.max_epochs, "encoder")]
                if self.splat_source == "expert" and self.splatting:
                    first = self.max_epochs // 2
                    stages = [(first, "none"), (self.max_epochs - first, "own")]
                losses = []
                for epochs, source in stages:
                    if source == "own":
                        with torch.no_grad():
                            own = expert.cpu()(x[rows, :, :-1]).squeeze(-1)
                        own = torch.sigmoid(own).numpy()
                        own = self._render([bags[i] for i in rows], anomalous[rows], own)
                        targets[rows[anomalous[rows]]] = own[anomalous[rows]]
                    stage["tgs"] = source != "none"
                    seg_y = torch.as_tensor(np.c_[anomalous[rows].astype(np.float32),
                                                  targets[rows]])
                    kw.update(epochs=epochs, random_state=kw["random_state"] + 1000)
                    losses += train(module, x[rows], seg_y, expert_loss,
                                    params=expert.parameters(), **kw)
                history[f"expert_{c}"] = losses
                module.cpu()
                for p in expert.parameters():
                    p.requires_grad_(False)
            seg_y = torch.as_tensor(np.c_[anomalous.astype(np.float32), targets])

            # 4. Gate over the frozen experts, all sequences.
            def gate_loss(m, xb, yb):
                return self._seg_loss(m(xb), xb[..., -1] > 0, yb)

            history["gate"] = train(module, x, seg_y, gate_loss,
                                    params=module.gate.parameters(),
                                    **self._kw(self.max_epochs, seed + 1 + self.n_experts_))
        self.history_ = history
        self.expert_of_type_ = (np.arange(n_types) if self.n_experts == "per_class"
                                else None)
        self.weights_ = to_numpy(module.cpu())
        return self

    def _module(self):
        module = self._new_module()
        module.load_state_dict({k: torch.as_tensor(v) for k, v in self.weights_.items()})
        return module.eval().double()

    def _forward(self, X):
        check_is_fitted(self, "weights_")
        bags = check_bags(self, X, reset=False)
        module = self._module()
        x = torch.as_tensor(pad_bags(bags), dtype=torch.float64)
        with torch.no_grad():
            return module, x, module(x), bags

    def instance_scores(self, X):
        """Per-segment anomaly scores in [0, 1] (the gate's output).

        Parameters
        ----------
        X : sequences, as in :meth:`fit`

        Returns
        -------
        scores : list of ndarray of shape (T_i,)
        """
        _, _, logits, bags = self._forward(X)
        s = torch.sigmoid(logits).numpy()
        return [s[i, : len(b)] for i, b in enumerate(bags)]

    def predict_proba(self, X):
        """Class probabilities per sequence, shape ``(n_bags, n_classes)``.

        Anomaly probability = top-k mean of the segment scores; it is split
        over the anomaly types by the encoder's type head.
        """
        module, x, logits, _ = self._forward(X)
        valid = x[..., -1] > 0
        with torch.no_grad():
            p = topk_mean(torch.sigmoid(logits), valid, self.topk_ratio).numpy()
            if self.classes_.size == 2:
                return np.c_[1 - p, p]
            types = torch.softmax(module.type_logits(*module.encode(x), valid), dim=-1).numpy()
        return np.c_[1 - p, p[:, None] * types]

    def decision_function(self, X):
        """Sequence anomaly logit (two classes) or log-probabilities."""
        check_is_fitted(self, "weights_")
        proba = np.clip(self.predict_proba(X), 1e-12, 1.0)
        if self.classes_.size == 2:
            return np.log(proba[:, 1]) - np.log(proba[:, 0])
        return np.log(proba)

    def predict(self, X):
        """Class label per sequence."""
        check_is_fitted(self, "weights_")
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _topk_count(valid, ratio):
    """``ceil(ratio * n_valid)``, at least 1, per row."""
    return torch.clamp(ceil_count(ratio, valid.sum(dim=1)), min=1)


def _topk_mask(logits, valid, ratio):
    """Float mask of each row's top ``ceil(ratio * n_valid)`` valid entries."""
    return top_count_mask(logits, valid, _topk_count(valid, ratio)).to(logits.dtype)
