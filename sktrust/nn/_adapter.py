"""One interface over the torch-like models sktrust can edit.

``as_torch_model(estimator)`` accepts a fitted skorch net, a scikit-learn
``MLPClassifier``/``MLPRegressor``, a linear model (treated as a one-layer
net), or a ``Pipeline`` ending in one of them, and returns a
:class:`TorchModel`. A method written against ``TorchModel`` works on all of
them.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from sktrust.nn._modules import _activation, module_features, module_head
from sktrust.nn._train import to_tensor

_EVAL_BATCH = 4096


class _SklearnMLPModule(nn.Module):
    """Torch twin of a fitted sklearn MLP (or linear model: no hidden layer)."""

    def __init__(self, weights, biases, activation, dtype):
        super().__init__()
        layers = []
        for W, b in zip(weights[:-1], biases[:-1]):
            lin = nn.Linear(W.shape[0], W.shape[1]).to(dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.as_tensor(W.T, dtype=dtype))
                lin.bias.copy_(torch.as_tensor(b, dtype=dtype))
            layers += [lin, _activation(activation)]
        self.body = nn.Sequential(*layers)
        W, b = weights[-1], biases[-1]
        self.head = nn.Linear(W.shape[0], W.shape[1]).to(dtype)
        with torch.no_grad():
            self.head.weight.copy_(torch.as_tensor(W.T, dtype=dtype))
            self.head.bias.copy_(torch.as_tensor(b, dtype=dtype))

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x))


class TorchModel:
    """A fitted model seen as a torch module, whatever library trained it.

    Do not build it directly: call :func:`as_torch_model`.

    Attributes
    ----------
    estimator : estimator
        The wrapped fitted estimator (the last step for a pipeline).
    module : torch.nn.Module
        The network. For skorch nets this *is* ``net.module_`` (edits apply at
        once); for scikit-learn models it is a torch copy, and
        :meth:`write_back` copies edits back into ``coefs_`` / ``coef_``.
    is_classifier : bool
    classes_ : ndarray or None
        Class labels, in logit order.
    head : torch.nn.Linear
        The final linear layer.
    """

    def __init__(self, estimator, module, *, kind, pre=None, output="logits",
                 write_back=None, features=None, head=None):
        self.estimator = estimator
        self.module = module
        self.kind = kind
        self.pre = pre
        self._output = output
        self._write_back = write_back
        self._features = features
        self._head = head
        self.is_classifier = kind == "classifier"
        self.classes_ = getattr(estimator, "classes_", None) if self.is_classifier else None

    # -- data ---------------------------------------------------------------
    @property
    def dtype(self):
        return next(self.module.parameters()).dtype

    @property
    def device(self):
        return next(self.module.parameters()).device

    def transform(self, X):
        """Apply the fitted pipeline steps before the model (identity otherwise)."""
        return X if self.pre is None else self.pre.transform(X)

    def to_tensor(self, X):
        """Transform ``X`` by the pre-steps and return a tensor on the module's device."""
        X = self.transform(X)
        return to_tensor(X, dtype=self.dtype, device=self.device)

    def encode_y(self, y):
        """Targets as a tensor: class indices for classifiers, floats for regressors."""
        y = np.asarray(y)
        if self.is_classifier:
            classes = np.asarray(self.classes_)
            idx = np.searchsorted(classes, y)
            idx = np.clip(idx, 0, len(classes) - 1)
            if not np.all(classes[idx] == y):
                bad = np.setdiff1d(np.unique(y), classes)
                raise ValueError(
                    f"y contains labels {bad.tolist()[:10]} unknown to the model; "
                    f"its classes are {classes.tolist()[:20]}."
                )
            return torch.as_tensor(idx, dtype=torch.long, device=self.device)
        return torch.as_tensor(y, dtype=self.dtype, device=self.device)

    def prepare(self, X, y=None):
        """``(X_tensor, y_tensor)`` ready for :meth:`logits_tensor` and ``train``."""
        return self.to_tensor(X), None if y is None else self.encode_y(y)

    # -- forward ------------------------------------------------------------
    def logits_tensor(self, x):
        """Differentiable logits of a prepared input tensor.

        Classifiers always give ``(n, n_classes)``: a binary model with one
        output ``z`` gives ``[0, z]``, whose softmax is ``[1 - sigmoid(z),
        sigmoid(z)]``. Regressors give the raw predictions.
        """
        out = self.module(x)
        if self._output == "log":
            out = torch.log(out.clamp_min(1e-12))
        if self.is_classifier:
            if out.ndim == 1:
                out = out[:, None]
            if out.shape[1] == 1:
                out = torch.cat([torch.zeros_like(out), out], dim=1)
        elif out.ndim == 2 and out.shape[1] == 1 and self._flat_output:
            out = out[:, 0]
        return out

    @property
    def _flat_output(self):
        coef = getattr(self.estimator, "coef_", None)
        if coef is not None:
            return np.ndim(coef) == 1
        n_out = getattr(self.estimator, "n_outputs_", 1)
        return n_out == 1

    def logits(self, X, grad=False):
        """Logits (classifier) or predictions (regressor) for ``X``.

        Parameters
        ----------
        X : array-like
            Raw input, as the wrapped estimator takes it.
        grad : bool, default=False
            Keep the autograd graph (one pass over all rows) instead of
            evaluating without gradients in batches.

        Returns
        -------
        logits : torch.Tensor
        """
        x = self.to_tensor(X)
        if grad:
            return self.logits_tensor(x)
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                parts = [self.logits_tensor(x[i : i + _EVAL_BATCH])
                         for i in range(0, x.shape[0], _EVAL_BATCH)]
        finally:
            self.module.train(was_training)
        return torch.cat(parts) if parts else self.logits_tensor(x)

    def predict_proba(self, X):
        """Softmax of the logits, as a numpy array (classifiers only)."""
        return torch.softmax(self.logits(X), dim=1).cpu().numpy()

    def loss_tensor(self, x, y, reduction="mean"):
        """Training loss on prepared tensors (cross-entropy or squared error)."""
        out = self.logits_tensor(x)
        if self.is_classifier:
            return F.cross_entropy(out, y, reduction=reduction)
        if out.ndim > y.ndim:
            y = y.reshape(out.shape)
        err = F.mse_loss(out, y.to(out.dtype), reduction="none")
        if err.ndim > 1:
            err = err.mean(dim=tuple(range(1, err.ndim)))
        return err.mean() if reduction == "mean" else err.sum() if reduction == "sum" else err

    def loss(self, X, y, reduction="mean"):
        """Differentiable loss of the model on raw ``(X, y)``.

        Cross-entropy on the logits for classifiers (for a binary one-output
        model this equals binary cross-entropy), squared error for regressors.
        ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"`` (per row).
        """
        x, yt = self.prepare(X, y)
        return self.loss_tensor(x, yt, reduction=reduction)

    def features_tensor(self, x):
        """Penultimate activations of a prepared tensor (differentiable)."""
        return module_features(self.module, x, self._features)

    def features(self, X):
        """Penultimate activations (the input to :attr:`head`) as a numpy array."""
        x = self.to_tensor(X)
        with torch.no_grad():
            return self.features_tensor(x).cpu().numpy()

    @property
    def head(self):
        return module_head(self.module, self._head)

    def named_parameters(self):
        """``module.named_parameters()``."""
        return self.module.named_parameters()

    def to(self, device):
        """Move the module to ``device`` and return ``self``."""
        self.module.to(device)
        return self

    def write_back(self):
        """Copy the module's weights into the wrapped estimator.

        A no-op for skorch nets, whose module is edited in place.
        """
        if self._write_back is not None:
            self._write_back(self.module)
        return self.estimator


def _skorch_model(net, pre, features, head):
    from skorch import NeuralNet, NeuralNetRegressor

    if not isinstance(net, NeuralNet):
        return None
    if not getattr(net, "initialized_", False):
        raise ValueError(f"{type(net).__name__} is not initialized: fit it first.")
    kind = "regressor" if isinstance(net, NeuralNetRegressor) else "classifier"
    if kind == "classifier" and not hasattr(net, "classes_"):
        # skorch's binary classifier has no classes_; its labels are 0/1.
        try:
            net.classes_ = np.array([0, 1])
        except AttributeError:
            pass
    output = "logits"
    criterion = getattr(net, "criterion_", None)
    if kind == "classifier" and isinstance(criterion, torch.nn.NLLLoss):
        output = "log"
    return TorchModel(net, net.module_, kind=kind, pre=pre, output=output,
                      features=features, head=head)


def _sklearn_mlp_model(est, pre):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if not isinstance(est, (MLPClassifier, MLPRegressor)):
        return None
    check_is_fitted(est, "coefs_")
    if isinstance(est, MLPClassifier) and est.out_activation_ == "logistic" and len(
        est.classes_
    ) > 2:
        raise TypeError("Multilabel MLPClassifier is not supported by the adapter.")
    if getattr(est, "out_activation_", "identity") == "exp":
        raise TypeError(
            "MLPRegressor(loss='poisson') is not supported by the adapter; use "
            "loss='squared_error'."
        )
    dtype = torch.float64 if est.coefs_[0].dtype == np.float64 else torch.float32
    module = _SklearnMLPModule(est.coefs_, est.intercepts_, est.activation, dtype)

    def write_back(m):
        linears = [layer for layer in m.body if isinstance(layer, nn.Linear)] + [m.head]
        for i, lin in enumerate(linears):
            est.coefs_[i] = lin.weight.detach().cpu().numpy().T.astype(
                est.coefs_[i].dtype, copy=True)
            est.intercepts_[i] = lin.bias.detach().cpu().numpy().astype(
                est.intercepts_[i].dtype, copy=True)

    kind = "classifier" if is_classifier(est) else "regressor"
    return TorchModel(est, module, kind=kind, pre=pre, write_back=write_back)


def _linear_model(est, pre):
    coef = getattr(est, "coef_", None)
    if coef is None or not hasattr(est, "intercept_"):
        return None
    coef = np.asarray(coef)
    if coef.ndim > 2 or not np.issubdtype(coef.dtype, np.floating):
        return None
    if getattr(est, "multi_class", "auto") == "ovr" and coef.shape[0] > 2:
        raise TypeError(
            f"{type(est).__name__} is one-vs-rest: its class scores are separate "
            "binary decisions, not the logits of one softmax; the adapter needs a "
            "multinomial model (e.g. LogisticRegression, MLPClassifier)."
        )
    W = coef.reshape(1, -1) if coef.ndim == 1 else coef
    b = np.atleast_1d(np.asarray(est.intercept_, dtype=coef.dtype)) * np.ones(W.shape[0])
    dtype = torch.float64 if coef.dtype == np.float64 else torch.float32
    module = _SklearnMLPModule([W.T], [b], "identity", dtype)
    coef_shape = coef.shape
    intercept_shape = np.shape(est.intercept_)

    def write_back(m):
        est.coef_ = m.head.weight.detach().cpu().numpy().reshape(coef_shape).astype(
            coef.dtype)
        b_new = m.head.bias.detach().cpu().numpy().astype(coef.dtype)
        est.intercept_ = b_new.reshape(intercept_shape) if intercept_shape else float(
            b_new[0])

    kind = "classifier" if is_classifier(est) else "regressor"
    return TorchModel(est, module, kind=kind, pre=pre, write_back=write_back)


def as_torch_model(estimator, *, features=None, head=None):
    """Wrap a fitted model in the common torch interface.

    Parameters
    ----------
    estimator : fitted estimator
        A skorch ``NeuralNetClassifier`` / ``NeuralNetBinaryClassifier`` /
        ``NeuralNetRegressor``, a scikit-learn ``MLPClassifier`` /
        ``MLPRegressor``, a linear model with ``coef_`` and ``intercept_``
        (``LogisticRegression``, ``Ridge``, ...), a ``FrozenEstimator`` of one,
        or a ``Pipeline`` whose last step is one of these.
    features : str, default=None
        For skorch modules without a ``features`` method: the name of the
        sub-module whose output is the feature vector.
    head : str, default=None
        For skorch modules without a ``head`` attribute: the name of the final
        ``nn.Linear``.

    Returns
    -------
    model : TorchModel

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sktrust.nn import as_torch_model
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((8,), max_iter=300, random_state=0).fit(X, y)
    >>> model = as_torch_model(clf)
    >>> proba = model.predict_proba(X)
    >>> bool(np.allclose(proba, clf.predict_proba(X)))
    True
    """
    from sklearn.frozen import FrozenEstimator

    if isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    pre = None
    if isinstance(estimator, Pipeline):
        pre = estimator[:-1] if len(estimator.steps) > 1 else None
        estimator = estimator[-1]
        if isinstance(estimator, FrozenEstimator):
            estimator = estimator.estimator
    for build in (
        lambda e: _skorch_model(e, pre, features, head),
        lambda e: _sklearn_mlp_model(e, pre),
        lambda e: _linear_model(e, pre),
    ):
        model = build(estimator)
        if model is not None:
            return model
    raise TypeError(
        f"as_torch_model does not support {type(estimator).__name__}: expected a "
        "fitted skorch net, MLPClassifier/MLPRegressor, a linear model with coef_ "
        "and intercept_, or a Pipeline ending in one of them."
    )
