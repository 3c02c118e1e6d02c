"""Helpers for evaluating class-wise unlearning against retrained models."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from sktrust.utils._sklearn_compat import HasMethods, Interval, StrOptions, validate_params
from sktrust.utils._validation import check_random_state_seed


class _ClassAlignedClassifier(ClassifierMixin, BaseEstimator):
    """A fitted classifier seen with a larger label set (probability 0 on new labels)."""

    def __init__(self, estimator=None, classes=None):
        self.estimator = estimator
        self.classes = classes

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return np.asarray(self.classes)

    def predict_proba(self, X):
        proba = np.asarray(self.estimator.predict_proba(X))
        out = np.zeros((proba.shape[0], len(self.classes_)), dtype=proba.dtype)
        own = np.asarray(self.estimator.classes_)
        out[:, np.searchsorted(self.classes_, own)] = proba
        return out

    def predict(self, X):
        return np.asarray(self.estimator.predict(X))


def align_classes(model, classes):
    """Make a classifier report probabilities over ``classes``, a superset of its own.

    A model retrained after class-wise forgetting no longer knows the
    forgotten class; membership-inference metrics that read the probability
    of the true label need that probability, which is exactly 0. The returned
    wrapper pads ``predict_proba`` with zero columns so that the retrained
    reference can be scored on the forget rows like the unlearned model.

    Parameters
    ----------
    model : fitted classifier
        With ``predict``, ``predict_proba`` and ``classes_``.
    classes : array-like
        Sorted labels, a superset of ``model.classes_``.

    Returns
    -------
    aligned : classifier
        ``model`` itself when it already has these classes, else a wrapper.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktrust.metrics import align_classes
    >>> model = LogisticRegression().fit([[0], [1], [2], [3]], [0, 0, 2, 2])
    >>> align_classes(model, [0, 1, 2]).predict_proba([[3]]).shape
    (1, 3)
    """
    check_is_fitted(model)
    classes = np.asarray(classes)
    own = np.asarray(model.classes_)
    if own.shape == classes.shape and np.all(own == classes):
        return model
    if not np.all(np.isin(own, classes)):
        raise ValueError(
            f"classes must contain every class of the model; missing "
            f"{np.setdiff1d(own, classes).tolist()}."
        )
    return _ClassAlignedClassifier(model, np.sort(classes))


class _ThresholdReached(Exception):
    """Raised from ``train``'s step hook to stop relearning early."""


def _regressor_of(model):
    """The fitted regressor inside an unlearner (``estimator_``), else ``model``."""
    inner = getattr(model, "estimator_", None)
    return model if inner is None or not hasattr(model, "unlearn") else inner


def _forget_mae(torch_model, x, y):
    import torch

    with torch.no_grad():
        was_training = torch_model.module.training
        torch_model.module.eval()
        pred = torch_model.logits_tensor(x)
        torch_model.module.train(was_training)
    return float((pred.reshape(y.shape[0], -1) - y.reshape(y.shape[0], -1)).abs().mean())


def _relearn_steps(model, X_train, y_train, X_val, y_val, threshold, *, lr, batch_size,
                   max_epochs, loss, random_state):
    """Adam steps on the training set until forget-validation MAE <= threshold.

    Returns ``(steps, reached)``; a deep copy of ``model`` is trained.
    """
    import copy

    from sktrust.nn import as_torch_model, train

    tm = as_torch_model(copy.deepcopy(_regressor_of(model)))
    if tm.is_classifier:
        raise TypeError("anamnesis_index is a regression metric; got a classifier.")
    x_tr, y_tr = tm.prepare(X_train, y_train)
    xv, yv = tm.prepare(X_val, y_val)
    if _forget_mae(tm, xv, yv) <= threshold:
        return 0, True
    steps = [0]

    def loss_fn(module, xb, yb):
        out = tm.logits_tensor(xb).reshape(yb.shape[0], -1)
        err = out - yb.reshape(yb.shape[0], -1).to(out.dtype)
        return err.abs().mean() if loss == "l1" else (err ** 2).mean()

    def step_hook(module, step):
        steps[0] = step
        if _forget_mae(tm, xv, yv) <= threshold:
            raise _ThresholdReached

    try:
        train(tm.module, x_tr, y_tr, loss_fn, epochs=max_epochs, lr=lr,
              batch_size=batch_size, optimizer="adam", device=tm.device,
              step_hook=step_hook, random_state=random_state)
    except _ThresholdReached:
        return steps[0], True
    return steps[0], False


def _check_rows(X, y, x_name, y_name):
    """2-D, non-empty, finite ``X`` (any column types) and one finite target per row."""
    from sklearn.utils import check_array

    n = len(X)
    if n == 0:
        raise ValueError(f"{x_name} must be non-empty with one target per row.")
    check_array(X, dtype=None, input_name=x_name)  # 2-D, no NaN or infinity
    y = np.asarray(y)
    if y.shape[0] != n:
        raise ValueError(f"{x_name} must be non-empty with one target per row: {x_name} "
                         f"has {n} rows, {y_name} {y.shape[0]}.")
    if not np.all(np.isfinite(y.astype(float))):
        raise ValueError(f"{y_name} contains NaN or infinity.")
    return n


@validate_params(
    {
        "unlearned": [HasMethods(["predict"])],
        "retrained": [HasMethods(["predict"])],
        "original": [HasMethods(["predict"])],
        "X_train": ["array-like"],
        "y_train": ["array-like"],
        "X_forget_val": ["array-like"],
        "y_forget_val": ["array-like"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "loss": [StrOptions({"l1", "squared_error"})],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def anamnesis_index(unlearned, retrained, original, X_train, y_train, X_forget_val,
                    y_forget_val, *, alpha=0.05, lr=0.01, batch_size=64, max_epochs=10,
                    loss="l1", random_state=0):
    """Anamnesis index (AIN): how fast a regressor relearns what it forgot.

    Deep Regression Unlearning's measure [1]_. A copy of each model is
    relearned with Adam mini-batch steps on the full training set
    (``X_train``, forget rows included), checking after every step, until
    its mean absolute error on held-out forget-region rows
    (``X_forget_val``) is at most ``(1 + alpha)`` times the original
    model's; at most ``max_epochs`` epochs. Then::

        AIN = steps(unlearned) / steps(retrained)

    AIN close to 1 is good (the unlearned model needs as long as a model that
    never saw the forget rows); AIN much below 1 means the forgotten knowledge
    comes straight back (a model that forgot nothing scores 0: it needs no
    step). The models passed in are never modified (deep copies are trained).

    Parameters
    ----------
    unlearned, retrained, original : fitted regressor or unlearner
        A model the torch adapter takes (:func:`sktrust.nn.as_torch_model`:
        sklearn ``MLPRegressor``, skorch regressor, linear model, pipeline
        ending in one), or an unlearner whose ``estimator_`` is one.
        ``original`` (the model before unlearning) only sets the target error
        and is never trained; it only needs ``predict``.
    X_train, y_train : array-like
        The full training set the relearning steps walk through.
    X_forget_val, y_forget_val : array-like
        Held-out rows of the forgotten region (never trained on).
    alpha : float, default=0.05
        Tolerance: the target is ``(1 + alpha)`` times the original's
        forget-validation MAE.
    lr : float, default=0.01
        Adam learning rate (the paper's notebook value).
    batch_size : int, default=64
    max_epochs : int, default=10
        Relearning budget. A model that does not reach the target in time
        counts the steps it took, and a ``UserWarning`` says the index is then
        a bound.
    loss : {"l1", "squared_error"}, default="l1"
        Relearning loss; the paper trains its regressors with L1.
    random_state : int, RandomState instance or None, default=0
        Batch order (the same for both models).

    Returns
    -------
    ain : float
        ``nan`` (with a warning) when the retrained model already meets the
        target before any step, where the ratio is undefined.

    References
    ----------
    .. [1] A. K. Tarun, V. S. Chundawat, M. Mandal and M. Kankanhalli, "Deep
       Regression Unlearning", ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sktrust.metrics import anamnesis_index
    >>> X = np.ones((8, 1)); y = np.full(8, 3.0)
    >>> def line(w, b):
    ...     m = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    ...     m.coef_, m.intercept_ = np.array([w]), b
    ...     return m
    >>> original, unlearned, retrained = line(1.45, 1.45), line(1.0, 1.0), line(0.5, 0.5)
    >>> ain = anamnesis_index(unlearned, retrained, original, X, y, X[:2], y[:2],
    ...                       batch_size=1, max_epochs=20)
    >>> round(ain, 4)  # 45 steps against 95: each Adam step adds 0.02 to f(1) = w + b
    0.4737
    """
    import warnings

    n_val = _check_rows(X_forget_val, y_forget_val, "X_forget_val", "y_forget_val")
    _check_rows(X_train, y_train, "X_train", "y_train")
    y_val = np.asarray(y_forget_val, dtype=float)
    pred = np.asarray(original.predict(X_forget_val), dtype=float).reshape(n_val, -1)
    threshold = (1.0 + alpha) * float(np.mean(np.abs(pred - y_val.reshape(n_val, -1))))
    counts = []
    y_train = np.asarray(y_train, dtype=float)
    seed = check_random_state_seed(random_state)  # one batch order for both models
    for model in (unlearned, retrained):
        steps, reached = _relearn_steps(
            model, X_train, y_train, X_forget_val, y_val, threshold, lr=lr,
            batch_size=batch_size, max_epochs=max_epochs, loss=loss,
            random_state=seed)
        if not reached:
            warnings.warn(
                f"A model did not relearn to the target forget MAE within {max_epochs} "
                f"epochs ({steps} steps); the anamnesis index is a bound.", UserWarning,
                stacklevel=2)
        counts.append(steps)
    if counts[1] == 0:
        warnings.warn(
            "The retrained model already meets the target forget MAE before any step; "
            "the anamnesis index is undefined.", UserWarning, stacklevel=2)
        return float("nan")
    return counts[0] / counts[1]
