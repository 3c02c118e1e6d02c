"""Helpers for estimators that train a new skorch net in ``fit``."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib

import numpy as np
import torch

from sktrust.nn._device import resolve_device
from sktrust.utils._validation import check_random_state_seed


@contextlib.contextmanager
def torch_seed(random_state):
    """Seed torch inside the block and restore the global RNG state after it.

    Estimators call this in ``fit`` so that ``random_state`` fixes weight
    initialisation and batch order without touching the caller's torch RNG.

    Examples
    --------
    >>> import torch
    >>> from sktrust.nn import torch_seed
    >>> with torch_seed(0):
    ...     a = torch.rand(1)
    >>> with torch_seed(0):
    ...     b = torch.rand(1)
    >>> bool(a == b)
    True
    """
    seed = check_random_state_seed(random_state)
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield seed


def make_classifier_net(module, *, criterion=None, max_epochs=10, lr=1e-2,
                        batch_size=128, optimizer="adam", device="auto",
                        callbacks=None, net_class=None, **kwargs):
    """Build an unfitted skorch classifier with sktrust's conventions.

    Logits out (``CrossEntropyLoss``), no internal validation split, shuffled
    batches, silent, device resolved from ``"auto"``. Extra keyword arguments
    go to skorch (``module__hidden_layer_sizes=...``, ``iterator_train__...``).

    Examples
    --------
    >>> from sktrust.nn import MLP, make_classifier_net
    >>> net = make_classifier_net(MLP, module__n_features=4, module__n_outputs=3)
    >>> type(net).__name__
    'NeuralNetClassifier'
    """
    from skorch import NeuralNetClassifier

    net_class = NeuralNetClassifier if net_class is None else net_class
    return net_class(
        module,
        criterion=torch.nn.CrossEntropyLoss if criterion is None else criterion,
        max_epochs=max_epochs,
        lr=lr,
        batch_size=batch_size,
        optimizer=_optimizer(optimizer),
        device=resolve_device(device),
        train_split=None,
        iterator_train__shuffle=True,
        callbacks=callbacks,
        verbose=0,
        **kwargs,
    )


def make_regressor_net(module, *, criterion=None, max_epochs=10, lr=1e-2,
                       batch_size=128, optimizer="adam", device="auto",
                       callbacks=None, **kwargs):
    """Regression counterpart of :func:`make_classifier_net` (``MSELoss``)."""
    from skorch import NeuralNetRegressor

    return NeuralNetRegressor(
        module,
        criterion=torch.nn.MSELoss if criterion is None else criterion,
        max_epochs=max_epochs,
        lr=lr,
        batch_size=batch_size,
        optimizer=_optimizer(optimizer),
        device=resolve_device(device),
        train_split=None,
        iterator_train__shuffle=True,
        callbacks=callbacks,
        verbose=0,
        **kwargs,
    )


def _optimizer(optimizer):
    if isinstance(optimizer, str):
        table = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD,
                 "adamw": torch.optim.AdamW}
        if optimizer not in table:
            raise ValueError(
                f"optimizer={optimizer!r} is not supported; use one of {sorted(table)} "
                "or a torch.optim class."
            )
        return table[optimizer]
    return optimizer


class TorchStateMixin:
    """Keep torch weights as numpy arrays when an estimator is pickled.

    skops knows nothing of torch, and pickled CUDA tensors do not load on a
    CPU machine. Estimators that hold skorch nets list those attributes in
    ``_torch_net_attrs`` and implement ``_rebuild_net(attr)``, which returns
    the *uninitialised* skorch net that ``fit`` built (its shapes come from
    fitted attributes such as ``n_features_in_`` and ``classes_``). On pickling
    the net is replaced by its ``state_dict`` as numpy arrays; on unpickling
    the net is rebuilt on the CPU (or ``device``) and the weights loaded.
    """

    _torch_net_attrs = ("net_",)

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        for attr in self._torch_net_attrs:
            net = state.get(attr)
            if net is None or not hasattr(net, "module_"):
                continue
            state[attr] = None
            state[f"_torch_weights_{attr}"] = {
                k: v.detach().cpu().numpy() for k, v in net.module_.state_dict().items()
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        weights = {
            attr: state.pop(f"_torch_weights_{attr}")
            for attr in self._torch_net_attrs
            if f"_torch_weights_{attr}" in state
        }
        super().__setstate__(state)
        for attr, sd in weights.items():
            net = self._rebuild_net(attr)
            net.set_params(device=resolve_device("auto"))
            net.initialize()
            net.module_.load_state_dict(
                {k: torch.as_tensor(np.asarray(v)) for k, v in sd.items()}
            )
            if hasattr(self, "classes_") and hasattr(net, "classes"):
                net.classes_inferred_ = np.asarray(self.classes_)
            setattr(self, attr, net)
