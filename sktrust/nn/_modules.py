"""Default torch modules with the ``features(x)`` / ``head`` protocol."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
    "gelu": nn.GELU,
}


def _activation(name):
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(_ACTIVATIONS)}."
        ) from None


class MLP(nn.Module):
    """Fully connected net whose last layer is a plain linear ``head``.

    ``features(x)`` returns the penultimate activations, ``head`` the final
    :class:`torch.nn.Linear`; ``forward(x) == head(features(x))`` returns
    logits. Methods that need features or the last layer (COSTARR, RCAL, ...)
    rely on this protocol.

    Parameters
    ----------
    n_features : int
        Input width.
    n_outputs : int
        Number of logits (classes) or regression targets.
    hidden_layer_sizes : tuple of int, default=(64,)
        Width of each hidden layer; ``()`` gives a linear model.
    activation : {"relu", "tanh", "logistic", "identity", "gelu"}, default="relu"
    dropout : float, default=0.0
        Dropout applied after each hidden activation.

    Examples
    --------
    >>> import torch
    >>> from sktrust.nn import MLP
    >>> net = MLP(4, 3, hidden_layer_sizes=(8,))
    >>> net(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    >>> net.features(torch.zeros(2, 4)).shape
    torch.Size([2, 8])
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(64,),
        activation="relu",
        dropout=0.0,
    ):
        super().__init__()
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), _activation(activation)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_outputs)

    def features(self, x):
        """Penultimate activations (the input itself when there is no hidden layer)."""
        return self.body(x.reshape(x.shape[0], -1))

    def forward(self, x):
        return self.head(self.features(x))


class SmallCNN(nn.Module):
    """Two-block convolutional net for small images, with a linear ``head``.

    Accepts images as ``(n, C, H, W)`` or flattened ``(n, C*H*W)`` rows, which
    are reshaped with ``image_shape``.

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)`` of one image.
    n_outputs : int
        Number of logits.
    channels : tuple of int, default=(16, 32)
        Output channels of the two convolution blocks.
    n_hidden : int, default=64
        Width of the feature layer before ``head``.

    Examples
    --------
    >>> import torch
    >>> from sktrust.nn import SmallCNN
    >>> net = SmallCNN((1, 8, 8), 10)
    >>> net(torch.zeros(2, 64)).shape
    torch.Size([2, 10])
    """

    def __init__(self, image_shape, n_outputs, channels=(16, 32), n_hidden=64):
        super().__init__()
        c, h, w = (int(v) for v in image_shape)
        self.image_shape = (c, h, w)
        c1, c2 = channels
        self.conv = nn.Sequential(
            nn.Conv2d(c, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2) if min(h, w) >= 4 else nn.Identity(),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 4, n_hidden), nn.ReLU())
        self.head = nn.Linear(n_hidden, n_outputs)

    def features(self, x):
        """Activations of the layer before ``head``."""
        x = x.reshape(x.shape[0], *self.image_shape)
        return self.fc(self.conv(x))

    def forward(self, x):
        return self.head(self.features(x))


def module_features(module, x, features=None):
    """Penultimate activations of ``module`` on tensor ``x``.

    Uses ``module.features`` when the module follows the protocol, else the
    sub-module named by ``features`` (its output, captured by a hook).
    """
    if features is None and hasattr(module, "features"):
        return module.features(x)
    if features is None:
        raise ValueError(
            f"{type(module).__name__} has no `features` method; name the layer "
            "whose output is the feature vector, e.g. features='encoder'."
        )
    layer = dict(module.named_modules())[features]
    out = {}
    handle = layer.register_forward_hook(lambda m, i, o: out.setdefault("f", o))
    try:
        module(x)
    finally:
        handle.remove()
    return out["f"].reshape(x.shape[0], -1)


def module_head(module, head=None):
    """The final linear layer of ``module`` (``module.head`` or the one named)."""
    name = head or "head"
    layers = dict(module.named_modules())
    if name not in layers:
        raise ValueError(
            f"{type(module).__name__} has no layer named {name!r}; pass head='...' "
            "naming its final nn.Linear."
        )
    layer = layers[name]
    if not isinstance(layer, torch.nn.Linear):
        raise TypeError(f"Layer {name!r} is a {type(layer).__name__}, not nn.Linear.")
    return layer
