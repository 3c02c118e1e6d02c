"""Sparsity-aware unlearning: l1-sparse fine-tuning, and prune first, then unlearn."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sktrust.nn import train
from sktrust.unlearning._torch_utils import (
    TorchUnlearner,
    flat_labels,
    from_numpy_dict,
    keep_pruned_zero,
    require_labels,
    seed_of,
    to_numpy_dict,
    torch_model,
)
from sktrust.utils._sklearn_compat import HasMethods, Interval, StrOptions
from sktrust.utils._validation import (
    check_classification_targets_known,
    check_random_state_seed,
)


def l1_schedule(gamma, epochs, no_l1_epochs=0):
    """Per-epoch l1 weight: ``gamma * (1 - t / (T - T0))`` for ``t < T - T0``, then 0.

    With ``T == T0`` the weight stays ``gamma`` (the reference code's special
    case).

    Examples
    --------
    >>> from sktrust.unlearning._sparse import l1_schedule
    >>> [round(g, 6) for g in l1_schedule(5e-4, 4)]
    [0.0005, 0.000375, 0.00025, 0.000125]
    """
    T, T0 = epochs, no_l1_epochs
    if T == T0:
        return [float(gamma)] * T
    return [float(gamma) * (1 - t / (T - T0)) if t < T - T0 else 0.0 for t in range(T)]


class L1SparseUnlearner(TorchUnlearner):
    """Fine-tune on the retain set with a decaying l1 penalty on all weights.

    Sparsity-aware unlearning [1]_: fine-tuning on the retain rows alone
    forgets slowly; adding ``gamma_t * ||theta||_1`` (all parameters, biases
    included), with ``gamma_t`` decaying linearly to 0 over the epochs, pushes
    the model toward a sparse one, which the paper shows brings approximate
    unlearning closer to retraining. ``gamma=0`` is plain fine-tuning on the
    retain set (the "FT" baseline).

    Read more in the :ref:`User Guide <unlearning>`.

    Parameters
    ----------
    estimator : estimator, default=None
        Net to unlearn from (skorch, sklearn MLP, linear model or pipeline).
    gamma : float, default=1e-2
        Initial l1 weight. The reference code leaves it unset (1e-3 in the
        companion code, 5e-4 on the method card); on a digits MLP those
        values leave the model unchanged (the l1 term of a few thousand
        weights is too weak) while 1e-2 moves the average gap to retraining
        halfway (``benchmarks/bench_unlearning.py``). Try a log grid 1e-4 to
        3e-2.
    epochs : int, default=10
    lr : float, default=0.01
    momentum : float, default=0.9
    weight_decay : float, default=5e-4
    batch_size : int, default=256
    no_l1_epochs : int, default=0
        Final epochs without the penalty.
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
        Seeds the batch order.
    keep_original : bool, default=False
    store_training_data : bool, default=False

    Attributes
    ----------
    estimator_ : estimator
    gamma_schedule_ : list of float
        The l1 weight of each epoch.
    losses_ : list of float
        Mean loss per epoch of the last request.
    unlearn_history_ : list of dict
    unlearn_time_ : float
    is_unlearned_ : bool
    n_features_in_ : int

    References
    ----------
    .. [1] Jia, Liu, Ram, Yao, Liu, Liu, Sharma, Liu. "Model Sparsity Can
       Simplify Machine Unlearning". NeurIPS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sktrust.unlearning import L1SparseUnlearner
    >>> X, y = load_iris(return_X_y=True)
    >>> forget = np.arange(150) % 10 == 0
    >>> mlp = MLPClassifier((16,), max_iter=500, random_state=0)
    >>> u = L1SparseUnlearner(mlp, gamma=1e-2, epochs=4, random_state=0).fit(X, y)
    >>> _ = u.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    >>> [round(g, 6) for g in u.gamma_schedule_]
    [0.01, 0.0075, 0.005, 0.0025]
    """

    _parameter_constraints: dict = {
        **TorchUnlearner._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "no_l1_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    _requires_retain = True

    _search_grid = {"gamma": [1e-3, 3e-3, 1e-2, 3e-2], "lr": [0.01, 0.03]}

    def __init__(self, estimator=None, *, gamma=1e-2, epochs=10, lr=0.01, momentum=0.9,
                 weight_decay=5e-4, batch_size=256, no_l1_epochs=0, device="auto",
                 random_state=None, keep_original=False, store_training_data=False):
        super().__init__(estimator, device=device, random_state=random_state,
                         keep_original=keep_original,
                         store_training_data=store_training_data)
        self.gamma = gamma
        self.epochs = epochs
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.no_l1_epochs = no_l1_epochs

    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        require_labels(self, y_retain, "y_retain", X_retain)
        if self.no_l1_epochs > self.epochs:
            raise ValueError(
                f"no_l1_epochs={self.no_l1_epochs} exceeds epochs={self.epochs}.")
        model = torch_model(self)
        xr, yr = model.prepare(X_retain, flat_labels(y_retain))
        schedule = l1_schedule(self.gamma, self.epochs, self.no_l1_epochs)
        steps_per_epoch = -(-xr.shape[0] // self.batch_size)
        calls = [0]

        def loss_fn(module, xb, yb):
            epoch = min(calls[0] // steps_per_epoch, len(schedule) - 1)
            calls[0] += 1
            loss = model.loss_tensor(xb, yb)
            if schedule[epoch] > 0:
                l1 = sum(p.abs().sum() for p in module.parameters())
                loss = loss + schedule[epoch] * l1
            return loss

        self.losses_ = train(
            model.module, xr, yr, loss_fn, epochs=self.epochs, lr=self.lr,
            batch_size=self.batch_size, optimizer="sgd", momentum=self.momentum,
            weight_decay=self.weight_decay, device=model.device,
            step_hook=keep_pruned_zero(self, model), random_state=seed_of(self))
        model.write_back()
        self.gamma_schedule_ = schedule


def _prunable(model, prune_layers):
    """Names of the weight matrices that pruning may touch."""
    linears = [(name, m) for name, m in model.module.named_modules()
               if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]
    if prune_layers == "hidden":
        head = model.head
        linears = [(name, m) for name, m in linears if m is not head]
    return [f"{name}.weight" if name else "weight" for name, _ in linears]


class PruneFirstUnlearner(TorchUnlearner):
    """Prune the model first, then let any unlearner forget on the sparse model.

    The "prune first, then unlearn" recipe of [1]_: global unstructured
    magnitude pruning (one shot, ``torch.nn.utils.prune``) of the chosen
    weight matrices, a short fine-tune of the survivors on the training data
    with the mask held fixed, then every ``unlearn`` request delegated to
    ``unlearner``, whose fine-tuning keeps the pruned weights exactly 0.

    Read more in the :ref:`User Guide <unlearning>`.

    Parameters
    ----------
    unlearner : unlearner, default=None
        Any sktrust unlearner; its own ``estimator`` is replaced by the
        pruned model. ``None`` is ``L1SparseUnlearner(gamma=0.0)`` (plain
        fine-tuning on the retain set, the paper's "FT").
    estimator : estimator, default=None
        Net to prune (skorch, sklearn MLP, or pipeline); ``None`` is the
        default MLP.
    sparsity : float, default=0.5
        Fraction of prunable weights set to 0 (paper: 0.95 on conv nets; on
        small MLPs 0.5 keeps test accuracy within about 2 points).
    prune_layers : {"hidden", "all"}, default="hidden"
        ``"hidden"``: every linear/conv weight except the output layer.
    retrain_after_prune : bool, default=True
        Fine-tune the surviving weights on the training data after pruning.
    retrain_epochs : int, default=5
    lr : float, default=0.01
        SGD learning rate of the post-pruning fine-tune (momentum 0.9).
    batch_size : int, default=256
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
    keep_original : bool, default=False
    store_training_data : bool, default=False

    Attributes
    ----------
    estimator_ : estimator
        The pruned (then unlearned) model.
    unlearner_ : unlearner
        The fitted inner unlearner working on ``estimator_``.
    mask_ : dict of str to ndarray of bool
        True where a prunable weight survives.
    achieved_sparsity_ : float
        Fraction of prunable weights that are 0.
    unlearn_history_ : list of dict
    unlearn_time_ : float
    is_unlearned_ : bool
    n_features_in_ : int

    References
    ----------
    .. [1] Jia, Liu, Ram, Yao, Liu, Liu, Sharma, Liu. "Model Sparsity Can
       Simplify Machine Unlearning". NeurIPS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sktrust.unlearning import PruneFirstUnlearner
    >>> X, y = load_iris(return_X_y=True)
    >>> mlp = MLPClassifier((16,), max_iter=500, random_state=0)
    >>> u = PruneFirstUnlearner(estimator=mlp, sparsity=0.5, random_state=0).fit(X, y)
    >>> round(u.achieved_sparsity_, 2)
    0.5
    >>> forget = np.arange(150) % 10 == 0
    >>> _ = u.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    >>> float((u.estimator_.coefs_[0] == 0).mean())
    0.5
    """

    _parameter_constraints: dict = {
        **TorchUnlearner._parameter_constraints,
        "unlearner": [HasMethods(["fit", "unlearn"]), None],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
        "prune_layers": [StrOptions({"hidden", "all"})],
        "retrain_after_prune": ["boolean"],
        "retrain_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, unlearner=None, *, estimator=None, sparsity=0.5,
                 prune_layers="hidden", retrain_after_prune=True, retrain_epochs=5,
                 lr=0.01, batch_size=256, device="auto", random_state=None,
                 keep_original=False, store_training_data=False):
        super().__init__(estimator, device=device, random_state=random_state,
                         keep_original=keep_original,
                         store_training_data=store_training_data)
        self.unlearner = unlearner
        self.sparsity = sparsity
        self.prune_layers = prune_layers
        self.retrain_after_prune = retrain_after_prune
        self.retrain_epochs = retrain_epochs
        self.lr = lr
        self.batch_size = batch_size

    def _prune(self, model):
        from torch.nn.utils import prune

        names = _prunable(model, self.prune_layers)
        if not names:
            raise ValueError(
                f"prune_layers={self.prune_layers!r} leaves no weight matrix to prune; "
                "use prune_layers='all'.")
        modules = dict(model.module.named_modules())
        targets = [(modules[n.rsplit(".", 1)[0]] if "." in n else model.module, "weight")
                   for n in names]
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured,
                                  amount=self.sparsity)
        mask = {}
        for name, (module, attr) in zip(names, targets):
            mask[name] = getattr(module, attr + "_mask").detach().bool()
            prune.remove(module, attr)  # make the zeros permanent, drop the hook
        return mask

    def _masked_finetune(self, model, X, y, mask, seed):
        """Zero the pruned weights, then fine-tune the survivors with the mask held."""
        params = dict(model.named_parameters())

        def step_hook(module, step):
            with torch.no_grad():
                for name, m in mask.items():
                    params[name].mul_(m)

        step_hook(model.module, 0)
        if self.retrain_after_prune and y is not None:
            x, yt = model.prepare(X, flat_labels(y))
            train(model.module, x, yt, lambda m, xb, yb: model.loss_tensor(xb, yb),
                  epochs=self.retrain_epochs, lr=self.lr, batch_size=self.batch_size,
                  optimizer="sgd", momentum=0.9, device=model.device,
                  step_hook=step_hook, random_state=seed)
        model.write_back()

    def _precompute(self, X, y):
        model = torch_model(self)
        mask = self._prune(model)
        self._fit_seed = seed_of(self)
        self._masked_finetune(model, X, y, mask, self._fit_seed)
        self.mask_ = to_numpy_dict(mask)
        total = sum(m.size for m in self.mask_.values())
        self.achieved_sparsity_ = float(
            sum((~m).sum() for m in self.mask_.values()) / max(total, 1))
        inner = L1SparseUnlearner(gamma=0.0) if self.unlearner is None else self.unlearner
        inner = clone(inner).set_params(estimator=FrozenEstimator(self.estimator_))
        if "device" in inner.get_params():
            inner.set_params(device=self.device)
        if inner.get_params().get("random_state", 0) is None:
            inner.set_params(random_state=seed_of(self))
        inner = inner.fit(X, y)
        inner._prune_mask = self.mask_
        self.unlearner_ = inner
        self.estimator_ = inner.estimator_

    def retrain_reference(self, X_retain, y_retain, *, random_state=None):
        """Exact-unlearning reference for the sparse model: retrain with the same mask.

        Replays what ``fit`` did, on the retain rows only, with the mask held
        fixed at ``mask_`` instead of recomputed: an unfitted clone of
        ``estimator`` is trained on ``(X_retain, y_retain)`` with its own
        hyperparameters, the weights pruned in ``mask_`` are set to 0, and
        (with ``retrain_after_prune``) the survivors get the same masked
        fine-tune. The paper's retrain baseline for a pruned model is
        likewise trained from scratch with the same mask, so that the gap of
        an unlearner is not inflated by the cost of pruning itself: a dense
        retrained model differs from the sparse one even when nothing is
        forgotten.

        Parameters
        ----------
        X_retain : array-like of shape (n_samples, n_features)
            Training rows that stay.
        y_retain : array-like of shape (n_samples,)
        random_state : int, default=None
            ``None`` reuses the seeds of ``fit`` (the estimator's own seed and
            the fine-tune's), so that retraining on all training rows gives
            back the fitted sparse model. An int reseeds both, for several
            references (:func:`~sktrust.metrics.klom`, averaged gaps).

        Returns
        -------
        reference : estimator
            A fitted model of the same type as ``estimator_``, whose pruned
            weights are exactly 0.
        """
        from sktrust.unlearning._retrain import RetrainUnlearner, _reseed

        check_is_fitted(self, "mask_")
        if y_retain is None:
            raise ValueError("retrain_reference needs y_retain to retrain on.")
        X_v, y_v = self._validate_X(X_retain, reset=False, y=y_retain)
        if hasattr(self, "classes_"):
            check_classification_targets_known(y_v, self.classes_, "y_retain")
        est = RetrainUnlearner(self.estimator)._unfitted()
        seed = self._fit_seed
        if random_state is not None:
            seed = check_random_state_seed(random_state)
            est = _reseed(est, seed)
        est.fit(self._passthrough(X_retain, X_v), y_v)
        model = torch_model(self, est)
        mask = from_numpy_dict(self.mask_, model.module)
        self._masked_finetune(model, self._passthrough(X_retain, X_v), y_v,
                              {k: v.bool() for k, v in mask.items()}, seed)
        return est

    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        self.unlearner_.unlearn(X_forget, y_forget, X_retain, y_retain)
        self.estimator_ = self.unlearner_.estimator_
        model = torch_model(self)
        params = dict(model.named_parameters())
        for name, keep in self.mask_.items():
            if np.any(params[name].detach().cpu().numpy()[~keep] != 0):
                raise RuntimeError(f"{name}: a pruned weight moved during unlearning.")

