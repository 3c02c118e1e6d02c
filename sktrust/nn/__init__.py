"""The torch layer: default modules, the model adapter, one training loop.

Every torch-based method in sktrust stands on these pieces:

- :class:`MLP` and :class:`SmallCNN`, modules with ``features(x)`` and ``head``;
- :func:`as_torch_model`, one interface over skorch nets, sklearn MLPs,
  linear models and pipelines ending in them;
- :func:`train`, the single loop used to edit an existing model;
- :func:`resolve_device` (``device="auto"`` picks CUDA when present).
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.nn._adapter import TorchModel, as_torch_model
from sktrust.nn._device import resolve_device
from sktrust.nn._importance import gradient_saliency, squared_grad_importance
from sktrust.nn._modules import MLP, SmallCNN, module_features, module_head
from sktrust.nn._skorch import (
    TorchStateMixin,
    make_classifier_net,
    make_regressor_net,
    torch_seed,
)
from sktrust.nn._train import to_tensor, train

__all__ = [
    "MLP",
    "SmallCNN",
    "TorchModel",
    "TorchStateMixin",
    "as_torch_model",
    "gradient_saliency",
    "make_classifier_net",
    "make_regressor_net",
    "module_features",
    "module_head",
    "resolve_device",
    "squared_grad_importance",
    "to_tensor",
    "torch_seed",
    "train",
]
