"""Unlearners on a GPU (device="auto"): same behaviour as on CPU. Skipped without CUDA."""

import numpy as np
import pytest
import torch
from sklearn.frozen import FrozenEstimator

from sktrust.nn import MLP, make_classifier_net, torch_seed
from sktrust.unlearning import (
    L1SparseUnlearner,
    SalUnUnlearner,
    SSDUnlearner,
)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.parametrize("cls, params", [
    (SSDUnlearner, {"alpha": 50.0}),
    (SalUnUnlearner, {"epochs": 3}),
    (L1SparseUnlearner, {"epochs": 2}),
])
def test_sklearn_mlp_unlearned_on_gpu_matches_cpu(cls, params, digits_split, digits_mlp):
    X_fit, y_fit = digits_split[:2]
    forget = y_fit == 3
    data = (X_fit[forget], y_fit[forget], X_fit[~forget], y_fit[~forget])
    out = {}
    for device in ("cpu", "auto"):
        u = cls(FrozenEstimator(digits_mlp), device=device, random_state=0, **params)
        out[device] = u.fit(X_fit, y_fit).unlearn(*data).predict_proba(X_fit)
    agree = np.mean(out["cpu"].argmax(1) == out["auto"].argmax(1))
    assert agree > 0.98


def test_skorch_net_on_cuda_forgets_a_class(digits_split):
    X_fit, y_fit, _, _, X_te, y_te = digits_split
    X_fit, X_te = X_fit.astype(np.float32), X_te.astype(np.float32)
    with torch_seed(0):
        net = make_classifier_net(MLP, module__n_features=64, module__n_outputs=10,
                                  max_epochs=30, device="auto").fit(X_fit, y_fit)
    assert next(net.module_.parameters()).is_cuda
    forget = y_fit == 3
    u = SSDUnlearner(FrozenEstimator(net), alpha=20.0, random_state=0).fit(X_fit, y_fit)
    u.unlearn(X_fit[forget], y_fit[forget])
    assert u.score(X_te[y_te == 3], y_te[y_te == 3]) < 0.5
    assert next(u.estimator_.module_.parameters()).is_cuda
