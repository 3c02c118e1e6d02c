"""MHIM-MIL: masked hard instance mining for attention-based MIL."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d
from torch import nn
from torch.nn import functional as F

from sktrust.mil._bags import check_bags, pad_bags
from sktrust.nn import resolve_device, torch_seed, train
from sktrust.utils._sklearn_compat import Interval, StrOptions, _fit_context
from sktrust.utils._validation import encode_classification_target


class _AttentionMIL(nn.Module):
    """Gated attention MIL (Ilse et al., 2018) over padded bags.

    Input ``(n_bags, n_max, d + 1)``: the last column marks real instances.
    """

    def __init__(self, n_features, n_classes, mlp_dim=64, dropout=0.25, act="gelu"):
        super().__init__()
        activation = nn.GELU() if act == "gelu" else nn.ReLU()
        self.embed = nn.Sequential(nn.Linear(n_features, mlp_dim), activation,
                                   nn.Dropout(dropout))
        self.att_v = nn.Linear(mlp_dim, mlp_dim)
        self.att_u = nn.Linear(mlp_dim, mlp_dim)
        self.att_w = nn.Linear(mlp_dim, 1)
        self.classifier = nn.Linear(mlp_dim, n_classes)

    def instances(self, x):
        """Instance embeddings ``h`` and attention logits (padding at -inf)."""
        mask = x[..., -1] > 0
        h = self.embed(x[..., :-1])
        logits = self.att_w(torch.tanh(self.att_v(h)) * torch.sigmoid(self.att_u(h)))
        logits = logits.squeeze(-1).masked_fill(~mask, float("-inf"))
        return h, logits

    def encode(self, x):
        """Bag embedding ``z``, attention weights ``a`` and embeddings ``h``."""
        h, logits = self.instances(x)
        a = torch.softmax(logits, dim=1)
        z = torch.einsum("bn,bnd->bd", a, h)
        return z, a, h

    def forward(self, x):
        return self.classifier(self.encode(x)[0])


def high_score_mask(scores, valid, ratio):
    """Boolean mask of the top ``ceil(ratio * n_valid)`` instances per bag.

    Parameters
    ----------
    scores : tensor of shape (n_bags, n_max)
    valid : bool tensor of shape (n_bags, n_max)
        False for padding (never masked).
    ratio : float
        Fraction of each bag's real instances to mask (at least one when
        ``ratio > 0``).

    Returns
    -------
    masked : bool tensor of shape (n_bags, n_max)
    """
    masked = torch.zeros_like(valid)
    if ratio <= 0:
        return masked
    n_valid = valid.sum(dim=1)
    # float64 and a small tolerance: 0.4 * 5 must give 2, not ceil(2.0000001).
    n_mask = torch.ceil(ratio * n_valid.double() - 1e-9).long()
    n_mask = torch.minimum(n_mask, n_valid - 1)
    ranked = scores.masked_fill(~valid, float("-inf")).argsort(dim=1, descending=True)
    position = torch.arange(scores.shape[1], device=scores.device).expand_as(ranked)
    masked.scatter_(1, ranked, position < n_mask[:, None])
    return masked


@torch.no_grad()
def ema_update(teacher, student, momentum):
    """teacher <- momentum * teacher + (1 - momentum) * student, in place."""
    for t, s in zip(teacher.parameters(), student.parameters()):
        t.mul_(momentum).add_(s.detach(), alpha=1.0 - momentum)


class MHIMMILClassifier(ClassifierMixin, BaseEstimator):
    """Attention MIL trained with masked hard instance mining (MHIM-MIL).

    Bag-level classification: each sample is a *bag* (a 2-D array of
    instances, e.g. the patches of a slide or the visits of a patient) with
    one label. A momentum teacher scores every instance; the student is
    trained with the highest-scoring (most salient) instances hidden, so it
    must also learn from the harder, less obvious evidence, and a
    consistency loss keeps its bag embedding close to the teacher's.

    Per batch of bags: the teacher (an exponential moving average of the
    student, started from a student pre-trained without masking) encodes
    the full bags; the top ``ceil(mask_ratio_high * n)`` instances by teacher
    score are removed (the ratio decays to 0 on a cosine schedule with
    ``mask_decay="cosine"``); a random ``keep_ratio`` of the rest is kept;
    the student encodes what remains. Loss = CE(student logits, y) +
    ``consistency_weight`` * H(softmax(z_T / teacher_temperature),
    softmax(z_S)) on the bag embeddings. After each step the teacher moves
    towards the student with ``teacher_momentum``. ``predict`` uses the
    student on the full bags.

    Read more in the :ref:`User Guide <mil>`.

    Parameters
    ----------
    mlp_dim : int, default=64
        Width of the instance embedding and attention (paper: 128 on 1024-d
        slide features).
    dropout : float, default=0.25
    act : {"gelu", "relu"}, default="gelu"
    mask_ratio_high : float, default=0.05
        Fraction of each bag's instances masked by teacher score (paper:
        0.01-0.05). At least one instance is masked whenever the ratio is
        positive, never all of a bag. 0 disables masking.
    mask_decay : {"cosine", "none"}, default="cosine"
    keep_ratio : float, default=1.0
        Fraction of the unmasked instances kept at random (v2 random masking;
        1 keeps all).
    instance_score : {"attention", "class_aware"}, default="attention"
        Teacher instance score: attention weight (v1) or the largest class
        probability of the attention-weighted instance (v2).
    teacher_momentum : float, default=0.99
        EMA momentum. The paper's 0.9997 is for tens of thousands of steps;
        at a few hundred steps the teacher would never move.
    consistency_weight : float, default=0.5
    teacher_temperature : float, default=0.1
    pretrain_epochs : int, default=20
        Epochs of plain attention-MIL training that initialise student and
        teacher (``teacher_init="pretrain"`` in the paper's runs).
    max_epochs : int, default=30
        Epochs of MHIM training after pre-training.
    lr : float, default=1e-3
    weight_decay : float, default=1e-5
    batch_size : int, default=16
        Bags per step (the paper uses one).
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    student_weights_, teacher_weights_ : dict of str to ndarray
        Network weights as numpy arrays (picklable, skops-safe).
    history_ : dict
        ``"pretrain"`` and ``"mhim"``: mean loss per epoch.
    n_features_in_ : int

    Notes
    -----
    ``X`` is a list of 2-D arrays (one per bag, any number of rows) or a 3-D
    array. A 2-D table is read as bags of one instance each, which makes the
    classifier an ordinary one on rows and is what scikit-learn's estimator
    checks exercise. Recycling of masked instances through global query
    tokens (v2) and the TransMIL/DSMIL aggregators are not implemented.

    References
    ----------
    .. [1] W. Tang, S. Huang, X. Zhang, F. Zhou, Y. Zhang, B. Liu, "Multiple
       Instance Learning Framework with Masked Hard Instance Mining for Whole
       Slide Image Classification", ICCV 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.mil import MHIMMILClassifier
    >>> rng = np.random.RandomState(0)
    >>> bags = [rng.normal(size=(8, 3)) for _ in range(40)]
    >>> y = np.arange(40) % 2
    >>> for bag, label in zip(bags, y):
    ...     bag[0, 0] += 4.0 * label        # one key instance in positive bags
    >>> clf = MHIMMILClassifier(pretrain_epochs=15, max_epochs=5, random_state=0)
    >>> clf = clf.fit(bags, y)
    >>> clf.predict_proba(bags[:2]).shape
    (2, 2)
    >>> [s.shape for s in clf.instance_scores(bags[:2])]
    [(8,), (8,)]
    """

    _parameter_constraints: dict = {
        "mlp_dim": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "act": [StrOptions({"gelu", "relu"})],
        "mask_ratio_high": [Interval(Real, 0, 1, closed="left")],
        "mask_decay": [StrOptions({"cosine", "none"})],
        "keep_ratio": [Interval(Real, 0, 1, closed="right")],
        "instance_score": [StrOptions({"attention", "class_aware"})],
        "teacher_momentum": [Interval(Real, 0, 1, closed="both")],
        "consistency_weight": [Interval(Real, 0, None, closed="left")],
        "teacher_temperature": [Interval(Real, 0, None, closed="neither")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, mlp_dim=64, dropout=0.25, act="gelu", mask_ratio_high=0.05,
                 mask_decay="cosine", keep_ratio=1.0, instance_score="attention",
                 teacher_momentum=0.99, consistency_weight=0.5,
                 teacher_temperature=0.1, pretrain_epochs=20, max_epochs=30, lr=1e-3,
                 weight_decay=1e-5, batch_size=16, device="auto", random_state=None,
                 verbose=0):
        self.mlp_dim = mlp_dim
        self.dropout = dropout
        self.act = act
        self.mask_ratio_high = mask_ratio_high
        self.mask_decay = mask_decay
        self.keep_ratio = keep_ratio
        self.instance_score = instance_score
        self.teacher_momentum = teacher_momentum
        self.consistency_weight = consistency_weight
        self.teacher_temperature = teacher_temperature
        self.pretrain_epochs = pretrain_epochs
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
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
        return _AttentionMIL(self.n_features_in_, self.classes_.size, self.mlp_dim,
                             self.dropout, self.act)

    def _instance_scores(self, module, x):
        """Teacher scores per instance (padding gets -inf later)."""
        z, a, h = module.encode(x)
        if self.instance_score == "attention":
            return a
        probs = torch.softmax(module.classifier(a.unsqueeze(-1) * h), dim=-1)
        return probs.max(dim=-1).values

    def _train_kwargs(self, epochs, seed):
        return dict(epochs=epochs, lr=self.lr, batch_size=self.batch_size,
                    optimizer="adam", weight_decay=self.weight_decay,
                    device=self.device, random_state=seed, verbose=self.verbose)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the student (and its momentum teacher) on labelled bags.

        Parameters
        ----------
        X : list of ndarray of shape (n_instances_i, n_features), 3-D array, \
                or 2-D array (bags of one instance)
        y : array-like of shape (n_bags,)

        Returns
        -------
        self : object
        """
        bags = check_bags(self, X, reset=True)
        y = column_or_1d(np.asarray(y), warn=True)
        if len(y) != len(bags):
            raise ValueError(f"X has {len(bags)} bags but y has {len(y)} labels.")
        codes = encode_classification_target(self, y)
        x = torch.as_tensor(pad_bags(bags))
        target = torch.as_tensor(codes, dtype=torch.long)
        with torch_seed(self.random_state) as seed:
            student = self._new_module()
            ce = lambda m, xb, yb: F.cross_entropy(m(xb), yb)  # noqa: E731
            pre = train(student, x, target, ce, **self._train_kwargs(self.pretrain_epochs,
                                                                     seed))
            teacher = copy.deepcopy(student)
            teacher.eval()
            for p in teacher.parameters():
                p.requires_grad_(False)
            n_steps = max(1, self.max_epochs * math.ceil(len(bags) / self.batch_size))
            state = {"step": 0}

            def mhim_loss(m, xb, yb):
                ratio = self.mask_ratio_high
                if self.mask_decay == "cosine":
                    ratio *= 0.5 * (1 + math.cos(math.pi * state["step"] / n_steps))
                valid = xb[..., -1] > 0
                with torch.no_grad():
                    teacher.to(xb.device)
                    z_t = teacher.encode(xb)[0]
                    scores = self._instance_scores(teacher, xb)
                drop = high_score_mask(scores, valid, ratio)
                if self.keep_ratio < 1:
                    rand = torch.rand(valid.shape, device=xb.device) >= self.keep_ratio
                    survivors = valid & ~drop
                    # Keep at least one instance per bag.
                    rand &= (survivors & ~rand).sum(dim=1, keepdim=True) > 0
                    drop |= rand & survivors
                xm = xb.clone()
                xm[..., -1] = (valid & ~drop).to(xb.dtype)
                z_s, _, _ = m.encode(xm)
                loss = F.cross_entropy(m.classifier(z_s), yb)
                if self.consistency_weight > 0:
                    target_dist = torch.softmax(z_t / self.teacher_temperature, dim=-1)
                    cons = -(target_dist * torch.log_softmax(z_s, dim=-1)).sum(-1).mean()
                    loss = loss + self.consistency_weight * cons
                return loss

            def after_step(m, step):
                state["step"] = step
                ema_update(teacher, m, self.teacher_momentum)

            mhim = train(student, x, target, mhim_loss, step_hook=after_step,
                         **self._train_kwargs(self.max_epochs, seed + 1))
        self.history_ = {"pretrain": pre, "mhim": mhim}
        self.student_weights_ = _to_numpy(student)
        self.teacher_weights_ = _to_numpy(teacher)
        return self

    def _student(self):
        module = self._new_module()
        module.load_state_dict({k: torch.as_tensor(v) for k, v in
                                self.student_weights_.items()})
        return module.eval()

    def _forward(self, X):
        check_is_fitted(self, "student_weights_")
        bags = check_bags(self, X, reset=False)
        # Inference in float64: results do not depend on which bags share a batch.
        module = self._student().double()
        x = torch.as_tensor(pad_bags(bags), dtype=torch.float64)
        with torch.no_grad():
            z, a, h = module.encode(x)
            return module, x, z, a, h, bags

    def decision_function(self, X):
        """Bag logits; for two classes, the logit difference (shape (n_bags,))."""
        module, _, z, _, _, _ = self._forward(X)
        with torch.no_grad():
            logits = module.classifier(z).numpy()
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_proba(self, X):
        """Class probabilities per bag, shape ``(n_bags, n_classes)``."""
        module, _, z, _, _, _ = self._forward(X)
        with torch.no_grad():
            return torch.softmax(module.classifier(z), dim=-1).numpy()

    def predict(self, X):
        """Class label per bag."""
        check_is_fitted(self, "student_weights_")
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def instance_scores(self, X):
        """Per-instance saliency of the student on each full bag.

        Parameters
        ----------
        X : bags, as in :meth:`fit`

        Returns
        -------
        scores : list of ndarray of shape (n_instances_i,)
            Attention weights (``instance_score="attention"``, summing to 1 in
            each bag) or class-aware scores (``"class_aware"``): the heatmap.
        """
        module, x, _, _, _, bags = self._forward(X)
        with torch.no_grad():
            s = self._instance_scores(module, x).numpy()
        return [s[i, : len(b)] for i, b in enumerate(bags)]


def _to_numpy(module):
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}
