"""Gradient passes beside the training loop: per-parameter importances.

These functions walk a data set in mini-batches, back-propagate a loss and
accumulate one number per parameter entry, without ever taking an optimizer
step. Unlearning (SSD, SalUn), pruning and continual-learning methods use
them to decide which weights matter for which rows.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch

from sktrust.utils._validation import check_random_state_seed

__all__ = ["gradient_saliency", "squared_grad_importance"]


def _as_tensors(model, X, y):
    """Prepared ``(x, y)`` tensors from a :class:`~sktrust.nn.TorchModel` or module."""
    if hasattr(model, "prepare"):
        return model.prepare(X, y)
    from sktrust.nn._train import to_tensor

    param = next(model.parameters())
    x = to_tensor(X, dtype=param.dtype, device=param.device)
    if y is None:
        return x, None
    yt = y if isinstance(y, torch.Tensor) else torch.as_tensor(y)
    return x, yt.to(param.device)


def _module(model):
    return model.module if hasattr(model, "module") else model


def _logits(model, x):
    return model.logits_tensor(x) if hasattr(model, "logits_tensor") else model(x)


def _supervised_loss(model, x, y):
    if hasattr(model, "loss_tensor"):
        return model.loss_tensor(x, y, reduction="mean")
    return torch.nn.functional.cross_entropy(model(x), y)


def _accumulate(model, X, y, batch_size, loss_fn, transform, random_state=None):
    """Sum over mini-batches of ``transform(grad of loss_fn(batch))``.

    Returns ``(totals, n_batches)``; the module runs in eval mode (no dropout,
    running batch-norm statistics) and is left in the mode it was in.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    module = _module(model)
    x, yt = _as_tensors(model, X, y)
    n = x.shape[0]
    if n == 0:
        raise ValueError("Cannot compute gradient importances on an empty data set.")
    named = [(k, p) for k, p in module.named_parameters() if p.requires_grad]
    if random_state is not None:
        seed = check_random_state_seed(random_state)
        order = torch.as_tensor(np.random.default_rng(seed).permutation(n),
                                device=x.device)
        x = x[order]
        yt = None if yt is None else yt[order]
    totals = {k: torch.zeros_like(p) for k, p in named}
    was_training = module.training
    module.eval()
    n_batches = 0
    try:
        for start in range(0, n, batch_size):
            xb = x[start : start + batch_size]
            yb = None if yt is None else yt[start : start + batch_size]
            loss = loss_fn(model, xb, yb)
            grads = torch.autograd.grad(loss, [p for _, p in named], allow_unused=True)
            for (k, _), g in zip(named, grads):
                if g is not None:
                    totals[k] += transform(g.detach())
            n_batches += 1
    finally:
        module.train(was_training)
    return totals, n_batches


def squared_grad_importance(model, X, y=None, *, batch_size=128, label_free=False,
                            random_state=None):
    """Importance of every weight for a data set, from squared batch gradients.

    ``I[i] = (1/B) sum_b (dL_b / d theta_i)^2`` over the ``B`` mini-batches of
    size ``batch_size``, where ``L_b`` is the mean training loss
    of batch ``b`` (cross-entropy for classifiers, squared error for
    regressors). This is the diagonal "Fisher" importance of Selective
    Synaptic Dampening [1]_: the square of the *batch-mean* gradient, so use
    the same ``batch_size`` for sets you compare.

    With ``label_free=True`` (LF-SSD [2]_) no labels are needed: the batch
    loss is the mean squared L2 norm of the model output and the importance
    accumulates ``|dL_b / d theta_i|`` instead of its square.

    Parameters
    ----------
    model : TorchModel or torch.nn.Module
        A model from :func:`~sktrust.nn.as_torch_model` (inputs go through the
        pipeline pre-steps, labels are encoded) or a bare module whose
        output is logits.
    X : array-like or tensor of shape (n_samples, ...)
    y : array-like of shape (n_samples,), default=None
        Required unless ``label_free=True``.
    batch_size : int, default=128
    label_free : bool, default=False
    random_state : int, RandomState instance or None, default=None
        ``None`` takes the rows in their order; otherwise they are shuffled
        with this seed first. Shuffle when the rows are grouped (by class, or
        retain rows followed by forget rows): a batch-mean gradient over a
        single group is much larger than over a mixed batch.

    Returns
    -------
    importance : dict of str to torch.Tensor
        One non-negative tensor per trainable parameter, same shape, on the
        module's device.

    References
    ----------
    .. [1] Foster, Schoepf, Brintrup. "Fast Machine Unlearning Without
       Retraining Through Selective Synaptic Dampening". AAAI 2024.
    .. [2] Foster, Schoepf, Brintrup. "Loss-Free Machine Unlearning". ICLR
       2024 Tiny Papers.

    Examples
    --------
    >>> import torch
    >>> from sktrust.nn import MLP, squared_grad_importance
    >>> net = MLP(3, 2, hidden_layer_sizes=(4,))
    >>> X = torch.randn(20, 3); y = (X[:, 0] > 0).long()
    >>> imp = squared_grad_importance(net, X, y, batch_size=8)
    >>> sorted(imp) == sorted(k for k, _ in net.named_parameters())
    True
    >>> bool(all((v >= 0).all() for v in imp.values()))
    True
    """
    if label_free:
        def loss_fn(m, xb, yb):
            out = _logits(m, xb)
            out = out.reshape(out.shape[0], -1)
            return (out**2).sum(dim=1).mean()

        transform = torch.abs
    else:
        if y is None:
            raise ValueError(
                "squared_grad_importance needs y; pass label_free=True to compute "
                "a label-free importance."
            )
        loss_fn = _supervised_loss

        def transform(g):
            return g**2

    totals, n_batches = _accumulate(model, X, y, batch_size, loss_fn, transform,
                                    random_state=random_state)
    return {k: v / n_batches for k, v in totals.items()}


def gradient_saliency(model, X, y, *, batch_size=128):
    """Weight saliency ``|sum_b grad L_b|``: the magnitude of the summed batch gradient.

    The saliency map of SalUn [1]_: gradients of the mean training loss of
    each mini-batch are *summed* (not averaged, and not squared) over the
    batches, then the absolute value is taken per parameter entry. The sign
    of the loss does not matter (gradient ascent on the forget loss gives the
    same magnitudes).

    Parameters
    ----------
    model : TorchModel or torch.nn.Module
    X : array-like or tensor of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
    batch_size : int, default=128

    Returns
    -------
    saliency : dict of str to torch.Tensor

    References
    ----------
    .. [1] Fan, Liu, Zhang, Wong, Wei, Liu. "SalUn: Empowering Machine
       Unlearning via Gradient-based Weight Saliency in Both Image
       Classification and Generation". ICLR 2024.

    Examples
    --------
    >>> import torch
    >>> from sktrust.nn import MLP, gradient_saliency
    >>> net = MLP(3, 2, hidden_layer_sizes=(4,))
    >>> X = torch.randn(20, 3); y = (X[:, 0] > 0).long()
    >>> sal = gradient_saliency(net, X, y, batch_size=8)
    >>> sal["head.weight"].shape
    torch.Size([2, 4])
    """
    totals, _ = _accumulate(model, X, y, batch_size, _supervised_loss, lambda g: g)
    return {k: v.abs() for k, v in totals.items()}
