"""Selective Synaptic Dampening (SSD) unlearning."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
import torch

from sktrust.nn import squared_grad_importance
from sktrust.unlearning._torch_utils import (
    TorchUnlearner,
    concat_rows,
    flat_labels,
    from_numpy_dict,
    require_labels,
    to_numpy_dict,
    torch_model,
)
from sktrust.utils._sklearn_compat import Interval, StrOptions
from sktrust.utils._validation import check_random_state_seed


def ssd_dampen(theta, full, forget, *, alpha, dampening, exponent=1.0, max_factor=1.0):
    """The SSD update of one parameter tensor.

    ``theta_i <- beta_i * theta_i`` with
    ``beta_i = min((dampening * full_i / forget_i) ** exponent, max_factor)``
    where ``forget_i > alpha * full_i`` (strict), and ``theta_i`` unchanged
    elsewhere.

    Parameters
    ----------
    theta, full, forget : torch.Tensor of the same shape
        Weights, importance on the training set, importance on the forget set.
    alpha, dampening, exponent, max_factor : float

    Returns
    -------
    new_theta : torch.Tensor
    selected : torch.Tensor of bool
    """
    selected = forget > alpha * full
    beta = torch.ones_like(theta)
    ratio = dampening * full[selected] / forget[selected]
    beta[selected] = (ratio**exponent).clamp(max=max_factor)
    return theta * beta, selected


class SSDUnlearner(TorchUnlearner):
    """Forget rows by shrinking the weights that matter far more to them than to the rest.

    Selective Synaptic Dampening [1]_ needs no fine-tuning and, once fitted,
    no training data: ``fit`` stores the importance of every weight for the
    training set; ``unlearn`` computes the importance for the forget rows and
    multiplies each weight that is ``alpha`` times more important to the
    forget rows than to the training set by
    ``min((dampening * I_full / I_forget) ** exponent, max_factor)``. Prefer
    it to retraining when a class or a coherent group must go quickly; for
    random rows that look like the rest of the data it is close to a no-op,
    as retraining would be.

    Read more in the :ref:`User Guide <unlearning>`.

    Parameters
    ----------
    estimator : estimator, default=None
        Net to unlearn from: a skorch net, ``MLPClassifier`` /
        ``MLPRegressor``, a linear model, or a pipeline ending in one.
        ``None`` is ``MLPClassifier(hidden_layer_sizes=(64,), random_state=0)``.
        Pass a trained model as ``FrozenEstimator(model)``: it is copied, never
        modified.
    alpha : float, default=10.0
        Selection threshold: a weight is selected when its forget importance
        exceeds ``alpha`` times its training-set importance (paper: 10 for
        ResNet18, 5-25 for ViT). Tune it per model with
        :class:`UnlearningSearchCV`.
    dampening : float, default=1.0
        lambda in [1]_: scale of the dampening ratio.
    batch_size : int, default=128
        Mini-batch size of both importance passes (they are only comparable
        with equal batch sizes).
    importance : {"fisher", "label_free"}, default="fisher"
        ``"fisher"``: squared gradients of the training loss (the paper).
        ``"label_free"``: gradients of the squared output norm (LF-SSD [2]_);
        ``y_forget`` may then be ``None``.
    exponent : float, default=1.0
        Power applied to the dampening ratio.
    max_factor : float, default=1.0
        Upper bound of the factor (1 = a weight never grows).
    device : str, default="auto"
        Device for the importance passes of scikit-learn models (skorch nets
        stay on their own device).
    random_state : int, RandomState instance or None, default=None
        Seeds the row order of the importance passes (rows are shuffled
        before batching, so grouped rows give the same batches as mixed ones).
    keep_original : bool, default=False
        Keep the fitted model in ``original_estimator_``.
    store_training_data : bool, default=False
        Keep the training rows so that ``unlearn`` can recompute the full
        importance on retain + forget rows and refuse unknown rows.

    Attributes
    ----------
    estimator_ : estimator
        The model being edited.
    importance_full_ : dict of str to ndarray
        Importance of each parameter on the data passed to ``fit`` (replaced
        by the retain + forget importance when ``unlearn`` gets retain rows).
    importance_forget_ : dict of str to ndarray
        Importance on the last forget set.
    selected_mask_ : dict of str to ndarray of bool
        Weights dampened by the last call to ``unlearn``.
    n_selected_ : int
        Number of weights dampened by the last call.
    selected_fraction_ : float
        ``n_selected_`` over the number of weights.
    unlearn_history_ : list of dict
    unlearn_time_ : float
    is_unlearned_ : bool
    classes_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    RetrainUnlearner : exact unlearning, the reference SSD is judged against.
    UnlearningSearchCV : choose ``alpha`` and ``dampening`` on held-out data.

    References
    ----------
    .. [1] Foster, Schoepf, Brintrup. "Fast Machine Unlearning Without
       Retraining Through Selective Synaptic Dampening". AAAI 2024.
    .. [2] Foster, Schoepf, Brintrup. "Loss-Free Machine Unlearning". ICLR
       2024 Tiny Papers.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sktrust.unlearning import SSDUnlearner
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> mlp = MLPClassifier((64,), max_iter=100, random_state=0)
    >>> u = SSDUnlearner(mlp, alpha=5.0, random_state=0).fit(X, y)
    >>> forget = y == 3
    >>> _ = u.unlearn(X[forget], y[forget])
    >>> bool(u.score(X[forget], y[forget]) < 0.2)
    True
    """

    _parameter_constraints: dict = {
        **TorchUnlearner._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "dampening": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "importance": [StrOptions({"fisher", "label_free"})],
        "exponent": [Interval(Real, 0, None, closed="neither")],
        "max_factor": [Interval(Real, 0, None, closed="left")],
    }

    # Default grid of UnlearningSearchCV: alpha is model-specific (the paper's 10
    # dampens ~30% of a digits MLP's weights; 50-200 is typical there).
    _search_grid = {"alpha": [5.0, 10.0, 20.0, 50.0, 100.0, 200.0],
                    "dampening": [0.5, 1.0]}

    def __init__(self, estimator=None, *, alpha=10.0, dampening=1.0, batch_size=128,
                 importance="fisher", exponent=1.0, max_factor=1.0, device="auto",
                 random_state=None, keep_original=False, store_training_data=False):
        super().__init__(estimator, device=device, random_state=random_state,
                         keep_original=keep_original,
                         store_training_data=store_training_data)
        self.alpha = alpha
        self.dampening = dampening
        self.batch_size = batch_size
        self.importance = importance
        self.exponent = exponent
        self.max_factor = max_factor

    @property
    def _label_free(self):
        return self.importance == "label_free"

    def _importance(self, model, X, y):
        return squared_grad_importance(model, X, None if self._label_free else y,
                                       batch_size=self.batch_size,
                                       label_free=self._label_free,
                                       random_state=self._seed)

    def _precompute(self, X, y):
        # One seed for every importance pass: rows are shuffled before batching.
        self._seed = check_random_state_seed(self.random_state)
        model = torch_model(self)
        self.importance_full_ = to_numpy_dict(self._importance(model, X, flat_labels(y)))

    def _unlearn(self, X_forget, y_forget, X_retain, y_retain):
        if not self._label_free:
            require_labels(self, y_forget, "y_forget (or importance='label_free')")
        model = torch_model(self)
        if X_retain is not None and (self._label_free or y_retain is not None):
            X_all = concat_rows(X_retain, X_forget)
            y_all = None if self._label_free else np.concatenate(
                [np.asarray(y_retain), np.asarray(y_forget)])
            full = self._importance(model, X_all, y_all)
            self.importance_full_ = to_numpy_dict(full)
        else:
            full = from_numpy_dict(self.importance_full_, model.module)
        forget = self._importance(model, X_forget, y_forget)
        masks = {}
        n_selected = n_total = 0
        with torch.no_grad():
            for name, param in model.named_parameters():
                new, selected = ssd_dampen(
                    param, full[name], forget[name], alpha=self.alpha,
                    dampening=self.dampening, exponent=self.exponent,
                    max_factor=self.max_factor)
                param.copy_(new)
                masks[name] = selected.cpu().numpy()
                n_selected += int(selected.sum())
                n_total += selected.numel()
        model.write_back()
        self.importance_forget_ = to_numpy_dict(forget)
        self.selected_mask_ = masks
        self.n_selected_ = n_selected
        self.selected_fraction_ = n_selected / max(n_total, 1)
