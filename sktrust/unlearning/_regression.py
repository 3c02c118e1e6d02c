"""Deep regression unlearning: Blindspot distillation and Gaussian fine-tuning."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import is_regressor
from torch import nn
from torch.nn import functional as F

from sktrust.nn import torch_seed, train
from sktrust.unlearning._torch_utils import (
    TorchUnlearner,
    concat_rows,
    gather,
    keep_pruned_zero,
    require_labels,
    seed_of,
    torch_model,
)
from sktrust.utils._sklearn_compat import Interval, StrOptions


def _error(pred, target, loss):
    if target.ndim < pred.ndim:
        target = target.reshape(pred.shape)
    err = (pred - target.to(pred.dtype))
    err = err.abs() if loss == "l1" else err**2
    return err.reshape(err.shape[0], -1).mean(dim=1)


def _check_regressor(unlearner, model, X_retain, y_retain):
    if model.is_classifier or not is_regressor(unlearner):
        raise TypeError(f"{type(unlearner).__name__} unlearns regressors only.")
    y = np.asarray(y_retain)
    n_targets = int(np.prod(y.shape[1:], dtype=int))
    with torch.no_grad():
        out = model.logits_tensor(model.to_tensor(X_retain[:1]))
    n_outputs = int(np.prod(out.shape[1:], dtype=int))
    if n_targets != n_outputs:
        raise ValueError(f"y_retain has {n_targets} target(s) per row but the model "
                         f"predicts {n_outputs}.")


def _attention(h):
    """``normalize_L2(mean over channels of h^2)`` flattened (``h^2`` for a vector)."""
    a = (h**2).mean(dim=1) if h.ndim > 2 else h**2
    return F.normalize(a.reshape(a.shape[0], -1), dim=1)


def _hidden_layers(module, head):
    """Every linear / conv layer except the output one: their outputs are hooked."""
    layers = [m for m in module.modules()
              if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]
    return [m for m in layers if m is not head]


class _Recorder:
    """Forward hooks that keep the last output of each watched layer."""

    def __init__(self, layers):
        self.outputs = [None] * len(layers)
        self.handles = [layer.register_forward_hook(self._hook(i))
                        for i, layer in enumerate(layers)]

    def _hook(self, i):
        def hook(module, inputs, output):
            self.outputs[i] = output
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()


class _RegressionUnlearner(TorchUnlearner):
    """Regression unlearners default to a small MLP regressor."""

    def _base_estimator(self):
        if self.estimator is None:
            from sklearn.neural_network import MLPRegressor

            return MLPRegressor(hidden_layer_sizes=(64,), random_state=0)
        return self.estimator


class BlindspotUnlearner(_RegressionUnlearner):
    """Pull a regressor's outputs on the forget rows toward a model that never saw them.

    Deep Regression Unlearning [1]_: a "blindspot" copy of the architecture,
    freshly initialised, is trained briefly on the retain rows only. Then,
    for one epoch over forget and retain rows shuffled together, the model
    fits the retain targets while matching the blindspot model's outputs and
    normalised hidden-layer activations ("attention", weight
    ``attention_beta``) on the forget rows. Each batch weighs the two parts
    by its share ``c`` of forget rows: ``c * L_forget + (1 - c) * L_retain``.

    Read more in the :ref:`User Guide <unlearning>`.

    Parameters
    ----------
    estimator : estimator, default=None
        Regressor to unlearn from: ``MLPRegressor``, skorch
        ``NeuralNetRegressor``, a linear model or a pipeline ending in one.
        ``None`` is ``MLPRegressor(hidden_layer_sizes=(64,), random_state=0)``.
    blindspot_epochs : int, default=10
        Epochs of the blindspot model over the retain rows. The paper's 2
        epochs over ~16k AgeDB images are ~120 Adam steps; on a 1.5k-row
        table 2 epochs (~10 steps) leave the blindspot model near its
        initialisation, whose outputs pull forget predictions the wrong way;
        10 epochs work (``tests/unlearning/test_regression_unlearners.py``).
    blindspot_lr : float, default=0.01
        Adam learning rate of the blindspot model.
    epochs : int, default=3
        Unlearning epochs (paper: 1 on a data set ten times larger).
    lr : float, default=3e-3
        Adam learning rate of the unlearning epochs (paper: 1e-3).
    batch_size : int, default=256
    attention_beta : float, default=50.0
    attention_layers : {"all", "none"}, default="all"
        Match the activations of every hidden linear/conv layer, or none.
    loss : {"l1", "l2"}, default="l1"
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
        Seeds the blindspot initialisation and the batch order.
    keep_original : bool, default=False
    store_training_data : bool, default=False

    Attributes
    ----------
    estimator_ : estimator
    blindspot_losses_ : list of float
        Training loss of the blindspot model per epoch.
    losses_ : list of float
        Loss of the unlearning epoch(s).
    unlearn_history_ : list of dict
    unlearn_time_ : float
    is_unlearned_ : bool
    n_features_in_ : int

    See Also
    --------
    GaussianFineTuneUnlearner : the simpler baseline of the same paper.

    References
    ----------
    .. [1] Tarun, Chundawat, Mandal, Kankanhalli. "Deep Regression
       Unlearning". ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.neural_network import MLPRegressor
    >>> from sktrust.unlearning import BlindspotUnlearner
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> forget = y < np.quantile(y, 0.3)
    >>> mlp = MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
    >>> u = BlindspotUnlearner(mlp, random_state=0).fit(X, y)
    >>> _ = u.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    >>> u.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        **TorchUnlearner._parameter_constraints,
        "blindspot_epochs": [Interval(Integral, 1, None, closed="left")],
        "blindspot_lr": [Interval(Real, 0, None, closed="neither")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "attention_beta": [Interval(Real, 0, None, closed="left")],
        "attention_layers": [StrOptions({"all", "none"})],
        "loss": [StrOptions({"l1", "l2"})],
    }

    _requires_retain = True

    _search_grid = {"lr": [3e-4, 1e-3, 3e-3], "epochs": [1, 3]}

    def __init__(self, estimator=None, *, blindspot_epochs=10, blindspot_lr=0.01,
                 epochs=3, lr=3e-3, batch_size=256, attention_beta=50.0,
                 attention_layers="all", loss="l1", device="auto", random_state=None,
                 keep_original=False, store_training_data=False):
        super().__init__(estimator, device=device, random_state=random_state,
                         keep_original=keep_original,
                         store_training_data=store_training_data)
        self.blindspot_epochs = blindspot_epochs
        self.blindspot_lr = blindspot_lr
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.attention_beta = attention_beta
        self.attention_layers = attention_layers
        self.loss = loss

    def _blindspot(self, model, xr, yr, seed):
        """A fresh copy of the architecture, trained briefly on the retain rows."""
        blind = copy.deepcopy(model.module)
        with torch_seed(seed):
            for m in blind.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        twin = copy.copy(model)
        twin.module = blind
        self.blindspot_losses_ = train(
            blind, xr, yr,
            lambda m, xb, yb: _error(twin.logits_tensor(xb), yb, self.loss).mean(),
            epochs=self.blindspot_epochs, lr=self.blindspot_lr,
            batch_size=self.batch_size, optimizer="adam", device=model.device,
            random_state=seed)
        blind.eval()
        for p in blind.parameters():
            p.requires_grad_(False)
        return twin

    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        require_labels(self, y_retain, "y_retain", X_retain)
        model = torch_model(self)
        _check_regressor(self, model, X_retain, y_retain)
        seed = seed_of(self)
        xf = model.to_tensor(X_forget)
        xr, yr = model.prepare(X_retain, y_retain)
        twin = self._blindspot(model, xr, yr, seed)
        x_all = torch.cat([xf, xr])
        nf = xf.shape[0]
        y_all = torch.cat([torch.zeros((nf, *yr.shape[1:]), dtype=yr.dtype,
                                       device=yr.device), yr])
        is_forget = torch.arange(x_all.shape[0], device=x_all.device) < nf
        with torch.no_grad():
            blind_rec = _Recorder(_hidden_layers(twin.module, twin.head)
                                  if self.attention_layers == "all" else [])
            try:
                target_f = twin.logits_tensor(xf)
                blind_att = [_attention(h) for h in blind_rec.outputs]
            finally:
                blind_rec.remove()
        row_of_forget = torch.cumsum(is_forget.long(), 0) - 1
        layers = (_hidden_layers(model.module, model.head)
                  if self.attention_layers == "all" else [])
        rec = _Recorder(layers)

        def loss_fn(module, idx, _):
            xb, yb, fb, fpos = gather(idx, x_all, y_all, is_forget, row_of_forget)
            out = model.logits_tensor(xb)
            c = fb.float().mean()
            loss = out.sum() * 0.0
            if (~fb).any():
                loss = loss + (1 - c) * _error(out[~fb], yb[~fb], self.loss).mean()
            if fb.any():
                pos = fpos[fb]
                lf = _error(out[fb], target_f[pos], self.loss).mean()
                for h, ha in zip(rec.outputs, blind_att):
                    att = _attention(h[fb])
                    lf = lf + self.attention_beta * (
                        ((att - ha[pos]) ** 2).sum(dim=1) / att.shape[1]).mean()
                loss = loss + c * lf
            return loss

        try:
            self.losses_ = train(
                model.module, np.arange(x_all.shape[0], dtype=np.float64), None, loss_fn,
                epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                optimizer="adam", device=model.device,
                step_hook=keep_pruned_zero(self, model), random_state=seed)
        finally:
            rec.remove()
        model.write_back()


class GaussianFineTuneUnlearner(_RegressionUnlearner):
    """Overwrite the forget targets with Gaussian noise and fine-tune briefly.

    The baseline of Deep Regression Unlearning [1]_: each forget target is
    replaced by an independent draw from ``N(mean, std^2)`` of all training
    targets (retain + forget), then the model is fine-tuned on the retain
    rows and the relabelled forget rows together (Adam, L1 loss).

    Read more in the :ref:`User Guide <unlearning>`.

    Parameters
    ----------
    estimator : estimator, default=None
        Regressor to unlearn from (``MLPRegressor``, skorch
        ``NeuralNetRegressor``, linear model or pipeline); ``None`` is
        ``MLPRegressor(hidden_layer_sizes=(64,), random_state=0)``.
    epochs : int, default=3
        Paper: 1 epoch on a data set ten times larger; the same default as
        :class:`BlindspotUnlearner` so that the two compare at equal cost.
    lr : float, default=3e-3
        Adam learning rate (paper: 1e-3).
    batch_size : int, default=256
    loss : {"l1", "l2"}, default="l1"
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
        Seeds the noise targets and the batch order.
    keep_original : bool, default=False
    store_training_data : bool, default=False

    Attributes
    ----------
    estimator_ : estimator
    noise_mean_, noise_std_ : float or ndarray
        Mean and standard deviation of the training targets (the retain and
        forget targets of the last request, or those passed to ``fit``).
    forget_targets_ : ndarray
        The noise targets given to the forget rows by the last request.
    losses_ : list of float
    unlearn_history_ : list of dict
    unlearn_time_ : float
    is_unlearned_ : bool
    n_features_in_ : int

    References
    ----------
    .. [1] Tarun, Chundawat, Mandal, Kankanhalli. "Deep Regression
       Unlearning". ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.neural_network import MLPRegressor
    >>> from sktrust.unlearning import GaussianFineTuneUnlearner
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> forget = y < np.quantile(y, 0.3)
    >>> mlp = MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
    >>> u = GaussianFineTuneUnlearner(mlp, random_state=0).fit(X, y)
    >>> _ = u.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    >>> bool(abs(u.noise_mean_ - y.mean()) < 1e-9)
    True
    """

    _parameter_constraints: dict = {
        **TorchUnlearner._parameter_constraints,
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "loss": [StrOptions({"l1", "l2"})],
    }

    _requires_retain = True

    _search_grid = {"lr": [3e-4, 1e-3, 3e-3], "epochs": [1, 3]}

    def __init__(self, estimator=None, *, epochs=3, lr=3e-3, batch_size=256, loss="l1",
                 device="auto", random_state=None, keep_original=False,
                 store_training_data=False):
        super().__init__(estimator, device=device, random_state=random_state,
                         keep_original=keep_original,
                         store_training_data=store_training_data)
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.loss = loss

    def _set_noise(self, y):
        y = np.asarray(y, dtype=np.float64)
        self.noise_mean_ = y.mean(axis=0)
        self.noise_std_ = y.std(axis=0)

    def _precompute(self, X, y):
        if y is not None and is_regressor(self):
            self._set_noise(y)

    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        require_labels(self, y_retain, "y_retain", X_retain)
        model = torch_model(self)
        _check_regressor(self, model, X_retain, y_retain)
        if y_forget is not None:
            require_labels(self, y_forget, "y_forget", X_forget)
            self._set_noise(np.concatenate([np.asarray(y_retain), np.asarray(y_forget)]))
        seed = seed_of(self)
        rng = np.random.default_rng(seed)
        n_forget = model.to_tensor(X_forget).shape[0]
        shape = (n_forget, *np.shape(self.noise_mean_))
        noise = self.noise_mean_ + self.noise_std_ * rng.standard_normal(shape)
        self.forget_targets_ = noise
        X_all = concat_rows(X_forget, X_retain)
        y_all = np.concatenate([noise.reshape((n_forget, *np.shape(y_retain)[1:])),
                                np.asarray(y_retain, dtype=np.float64)])
        x, yt = model.prepare(X_all, y_all)
        self.losses_ = train(
            model.module, x, yt,
            lambda m, xb, yb: _error(model.logits_tensor(xb), yb, self.loss).mean(),
            epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
            optimizer="adam", device=model.device,
            step_hook=keep_pruned_zero(self, model), random_state=seed)
        model.write_back()
