"""The one training loop for methods that edit an existing torch model."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import logging

import numpy as np
import torch
from tqdm.auto import tqdm

from sktrust.nn._device import resolve_device
from sktrust.utils._validation import check_random_state_seed

logger = logging.getLogger(__name__)

_OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def to_tensor(X, dtype=torch.float32, device="cpu"):
    """Convert an array-like (or tensor) to a tensor on ``device``."""
    if isinstance(X, torch.Tensor):
        return X.to(device=device)
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    X = np.asarray(X)
    if not X.flags.writeable:  # e.g. a DataFrame's values: torch warns on read-only memory
        X = X.copy()
    return torch.as_tensor(X, dtype=dtype, device=device)


def _make_optimizer(optimizer, params, lr, momentum, weight_decay):
    if callable(optimizer) and not isinstance(optimizer, str):
        return optimizer(params, lr=lr)
    if optimizer not in _OPTIMIZERS:
        raise ValueError(
            f"optimizer={optimizer!r} is not supported; use one of "
            f"{sorted(_OPTIMIZERS)} or a torch.optim class."
        )
    kwargs = {"lr": lr, "weight_decay": weight_decay}
    if optimizer == "sgd":
        kwargs["momentum"] = momentum
    return _OPTIMIZERS[optimizer](params, **kwargs)


def train(
    module,
    X,
    y,
    loss_fn,
    *,
    epochs=1,
    lr=1e-2,
    batch_size=128,
    optimizer="sgd",
    momentum=0.0,
    weight_decay=0.0,
    device="auto",
    params=None,
    grad_hook=None,
    step_hook=None,
    shuffle=True,
    random_state=None,
    verbose=0,
):
    """Train ``module`` in place with mini-batch gradient descent.

    This is the single loop every sktrust method uses to edit an existing
    model (unlearning fine-tunes, pruning retraining, masked updates). Methods
    customise it through ``loss_fn`` and the two hooks, never by copying it.

    Parameters
    ----------
    module : torch.nn.Module
        Model to update in place.
    X : array-like or tensor of shape (n_samples, ...)
        Inputs, already on the scale the module expects.
    y : array-like or tensor of shape (n_samples, ...) or None
        Targets handed to ``loss_fn`` batch by batch (``None`` for label-free
        losses).
    loss_fn : callable
        ``loss_fn(module, X_batch, y_batch) -> scalar tensor``.
    epochs : int, default=1
    lr : float, default=1e-2
    batch_size : int, default=128
    optimizer : {"sgd", "adam"} or torch.optim.Optimizer class, default="sgd"
    momentum : float, default=0.0
        SGD momentum.
    weight_decay : float, default=0.0
    device : str, default="auto"
        Where to train; the module is moved there and left there.
    params : iterable of torch.nn.Parameter, default=None
        Parameters to optimise; ``None`` means all of ``module.parameters()``.
    grad_hook : callable, default=None
        ``grad_hook(module)`` runs after ``backward`` and before the optimizer
        step: zero or rescale gradients here (saliency masks).
    step_hook : callable, default=None
        ``step_hook(module, step)`` runs after each optimizer step: restore
        frozen weights or re-apply pruning masks here.
    shuffle : bool, default=True
    random_state : int, RandomState instance or None, default=None
        Seeds the batch order.
    verbose : int, default=0
        A tqdm progress bar over epochs when > 0.

    Returns
    -------
    losses : list of float
        Mean training loss of each epoch.

    Examples
    --------
    >>> import torch
    >>> from sktrust.nn import MLP, train
    >>> X = torch.randn(64, 3); y = (X[:, 0] > 0).long()
    >>> net = MLP(3, 2, hidden_layer_sizes=(8,))
    >>> ce = lambda m, xb, yb: torch.nn.functional.cross_entropy(m(xb), yb)
    >>> losses = train(net, X, y, ce, epochs=20, lr=0.5, random_state=0)
    >>> losses[-1] < losses[0]
    True
    """
    device = resolve_device(device)
    module.to(device)
    dtype = next(module.parameters()).dtype
    X_t = to_tensor(X, dtype=dtype)
    y_t = None
    if y is not None:
        y_t = y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    n = X_t.shape[0]
    if n == 0:
        raise ValueError("train() got an empty X: there is nothing to train on.")
    params = list(module.parameters()) if params is None else list(params)
    opt = _make_optimizer(optimizer, params, lr, momentum, weight_decay)
    rng = np.random.default_rng(check_random_state_seed(random_state))
    was_training = module.training
    module.train()
    losses = []
    step = 0
    for _ in tqdm(range(epochs), disable=verbose <= 0, desc="train"):
        order = rng.permutation(n) if shuffle else np.arange(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = torch.as_tensor(order[start : start + batch_size])
            xb = X_t[idx].to(device)
            yb = None if y_t is None else y_t[idx].to(device)
            opt.zero_grad()
            loss = loss_fn(module, xb, yb)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"train(): the loss became {loss.item()} at step {step}; lower "
                    "lr or check the inputs for extreme values."
                )
            loss.backward()
            if grad_hook is not None:
                grad_hook(module)
            opt.step()
            step += 1
            if step_hook is not None:
                step_hook(module, step)
            total += float(loss.detach()) * len(idx)
        losses.append(total / n)
        logger.debug("epoch loss %.5f", losses[-1])
    module.train(was_training)
    return losses
