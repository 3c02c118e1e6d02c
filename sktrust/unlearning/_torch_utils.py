"""Small helpers shared by the torch-based unlearners of this family."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch
from sklearn.base import is_regressor

from sktrust.base import BaseUnlearner
from sktrust.nn import as_torch_model, resolve_device
from sktrust.utils._validation import check_random_state_seed


class _FloatInput:
    """Pipeline pre-steps (if any), then a dense float array for the module."""

    def __init__(self, pre):
        self.pre = pre

    def transform(self, X):
        if self.pre is not None:
            X = self.pre.transform(X)
        if isinstance(X, torch.Tensor):
            return X
        if hasattr(X, "toarray"):
            X = X.toarray()
        if hasattr(X, "to_numpy"):
            X = X.to_numpy()
        X = np.asarray(X)
        return X.astype(np.float64) if X.dtype.kind not in "fc" else X


def torch_model(unlearner, estimator=None):
    """``as_torch_model(unlearner.estimator_)`` with the module on the right device.

    scikit-learn models are rebuilt in torch, so their copy moves to the
    unlearner's ``device``; a skorch net keeps the device it was trained on.
    Inputs of any numeric dtype (object arrays included) are accepted.
    ``estimator`` (default ``unlearner.estimator_``) wraps another fitted model
    with the unlearner's device.
    """
    model = as_torch_model(unlearner.estimator_ if estimator is None else estimator)
    model.pre = _FloatInput(model.pre)
    if getattr(model.estimator, "module_", None) is not model.module:
        model.to(resolve_device(unlearner.device))
    return model


def concat_rows(A, B):
    """Stack two row blocks (arrays or DataFrames) into one."""
    if hasattr(A, "iloc") and hasattr(B, "iloc"):
        import pandas as pd

        return pd.concat([A, B], axis=0, ignore_index=True)
    return np.concatenate([np.asarray(A), np.asarray(B)], axis=0)


def require_labels(unlearner, y, name, X=None):
    """Raise a ValueError naming ``name`` when a supervised method got bad labels.

    ``y=None`` is refused; with ``X`` (the rows the labels belong to), a
    length mismatch is refused too, and a regressor's targets must be finite.
    """
    if y is None:
        raise ValueError(
            f"{type(unlearner).__name__}.unlearn needs {name}; pass it, or fit with "
            "store_training_data=True so that it is read from the training rows."
        )
    if X is None:
        return
    y = np.asarray(y)
    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    x_name = "X" + name[1:] if name.startswith("y_") else "X"
    if y.shape[0] != n_rows:
        raise ValueError(f"{x_name} has {n_rows} rows but {name} has {y.shape[0]}.")
    if is_regressor(unlearner) and not np.all(np.isfinite(y.astype(np.float64))):
        raise ValueError(f"{name} contains NaN or infinity.")


def snapshot(module):
    """Detached copies of every parameter, keyed by name."""
    return {k: p.detach().clone() for k, p in module.named_parameters()}


def to_numpy_dict(tensors):
    """Tensors to numpy arrays (picklable, skops-friendly)."""
    return {k: v.detach().cpu().numpy() for k, v in tensors.items()}


def from_numpy_dict(arrays, like):
    """numpy arrays back to tensors with the dtype and device of ``like``'s parameters."""
    params = dict(like.named_parameters())
    return {k: torch.as_tensor(v, dtype=params[k].dtype, device=params[k].device)
            for k, v in arrays.items()}


def flat_labels(y):
    """A column vector of labels as a 1-D array (``None`` stays ``None``)."""
    if y is None:
        return None
    y = np.asarray(y)
    return y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y


class TorchUnlearner(BaseUnlearner):
    """Private base of the unlearners that edit a net through ``sktrust.nn``.

    Their losses are single-label cross-entropy (classifiers) or squared
    error (regressors), so classifiers declare no multi-label or
    multi-output support, whatever the wrapped estimator says.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_label = False
            tags.target_tags.multi_output = False
        return tags


def seed_of(unlearner):
    """An int seed from ``unlearner.random_state`` (drawn when it is ``None``)."""
    return check_random_state_seed(unlearner.random_state)


def index_batches(n_rows, device):
    """Row indices as a float tensor: ``train`` batches them, losses gather rows.

    Passing indices instead of the rows lets one ``train`` call walk several
    data sets (forget rows with random labels, retain rows) in a fixed order
    without copying them.
    """
    return torch.arange(n_rows, dtype=torch.float64, device=device)


def gather(index_batch, *tensors):
    """The rows of ``tensors`` named by a batch of :func:`index_batches` indices."""
    idx = index_batch.long()
    return tuple(t[idx.to(t.device)] for t in tensors)


def keep_pruned_zero(unlearner, model, step_hook=None):
    """Wrap ``step_hook`` so that weights pruned by :class:`PruneFirstUnlearner` stay 0.

    ``unlearner._prune_mask`` (dict of name to bool array, True = kept) is set
    by the meta-unlearner on the unlearner it wraps; without it the hook is
    returned unchanged.
    """
    mask = getattr(unlearner, "_prune_mask", None)
    if mask is None:
        return step_hook
    params = dict(model.named_parameters())
    keep = {k: torch.as_tensor(v, device=params[k].device) for k, v in mask.items()}

    def hook(module, step):
        if step_hook is not None:
            step_hook(module, step)
        with torch.no_grad():
            for name, m in keep.items():
                params[name].mul_(m)

    return hook
