"""SalUnUnlearner: the saliency mask, frozen weights bit-identical, class forgetting."""

import numpy as np
import pytest
import torch
from sklearn.frozen import FrozenEstimator

from sktrust.nn import MLP, as_torch_model, make_classifier_net, torch_seed, train
from sktrust.unlearning import SalUnUnlearner
from sktrust.unlearning._salun import saliency_mask


def test_mask_keeps_exactly_the_top_fraction_over_all_parameters():
    sal = {"a": torch.tensor([[0.1, 5.0], [3.0, 0.2]]), "b": torch.tensor([4.0, 0.0, 1.0])}
    mask = saliency_mask(sal, 3 / 7)
    np.testing.assert_array_equal(mask["a"].numpy(), [[False, True], [True, False]])
    np.testing.assert_array_equal(mask["b"].numpy(), [True, False, False])
    assert not any(m.any() for m in saliency_mask(sal, 0.0).values())
    assert all(m.all() for m in saliency_mask(sal, 1.0).values())


@pytest.fixture(scope="module")
def class3_salun(digits_split, digits_mlp):
    X_fit, y_fit = digits_split[:2]
    forget = y_fit == 3
    u = SalUnUnlearner(FrozenEstimator(digits_mlp), epochs=5, weight_decay=5e-3,
                       momentum=0.9, random_state=0).fit(X_fit, y_fit)
    u.unlearn(X_fit[forget], y_fit[forget], X_fit[~forget], y_fit[~forget])
    return u, forget


def test_mask_fraction_is_the_saliency_ratio(class3_salun):
    u, _ = class3_salun
    n_free = sum(int(m.sum()) for m in u.saliency_mask_.values())
    n_all = sum(m.size for m in u.saliency_mask_.values())
    assert abs(n_free / n_all - u.saliency_ratio) <= 1 / n_all


def test_non_salient_weights_are_bit_identical_despite_decay_and_momentum(
        class3_salun, digits_mlp):
    u, _ = class3_salun
    model = as_torch_model(u.estimator_)
    original = dict(as_torch_model(digits_mlp).named_parameters())
    moved = 0
    for name, p in model.named_parameters():
        frozen = ~u.saliency_mask_[name]
        after = p.detach().numpy()
        before = original[name].detach().numpy()
        np.testing.assert_array_equal(after[frozen], before[frozen])
        moved += int(np.sum(after[~frozen] != before[~frozen]))
    assert moved > 0.5 * sum(int(m.sum()) for m in u.saliency_mask_.values())
    # the sklearn model itself (coefs_ written back) is bit-identical there too
    w0 = u.estimator_.coefs_[0]
    np.testing.assert_array_equal(w0[~u.saliency_mask_["body.0.weight"].T],
                                  digits_mlp.coefs_[0][~u.saliency_mask_["body.0.weight"].T])


def test_masking_gradients_alone_leaks_through_weight_decay(digits_split, digits_mlp):
    """The control: without the copy-back, masked weights do move (the bug SalUn fixed)."""
    X_fit, y_fit = digits_split[:2]
    model = as_torch_model(digits_mlp)
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    mask = {k: torch.zeros_like(p, dtype=torch.bool) for k, p in model.named_parameters()}
    x, y = model.prepare(X_fit[:256], y_fit[:256])

    def grad_hook(module):
        for k, p in module.named_parameters():
            p.grad.mul_(mask[k])

    train(model.module, x, y, lambda m, xb, yb: model.loss_tensor(xb, yb), epochs=1,
          lr=0.01, momentum=0.9, weight_decay=5e-3, grad_hook=grad_hook,
          random_state=0, device="cpu")
    assert any(not torch.equal(before[k], p) for k, p in model.named_parameters())


def test_forgets_a_class_and_keeps_the_rest(class3_salun, digits_split, digits_mlp):
    u, forget = class3_salun
    X_fit, y_fit, _, _, X_te, y_te = digits_split
    is3 = y_te == 3
    assert u.score(X_fit[forget], y_fit[forget]) <= 0.05
    assert u.score(X_te[is3], y_te[is3]) <= 0.05
    assert (u.score(X_fit[~forget], y_fit[~forget])
            >= digits_mlp.score(X_fit[~forget], y_fit[~forget]) - 0.03)


def test_skorch_net_frozen_weights_stay_identical(digits_split):
    X_fit, y_fit = digits_split[:2]
    X = X_fit[:400].astype(np.float32)
    y = y_fit[:400]
    with torch_seed(0):
        net = make_classifier_net(MLP, module__n_features=64, module__n_outputs=10,
                                  module__hidden_layer_sizes=(32,), max_epochs=5,
                                  device="cpu").fit(X, y)
    forget = y == 1
    u = SalUnUnlearner(FrozenEstimator(net), epochs=2, saliency_ratio=0.2,
                       exclude_true_label=True, schedule="mixed", random_state=0)
    u.fit(X, y).unlearn(X[forget], y[forget], X[~forget], y[~forget])
    before = dict(net.module_.named_parameters())
    for name, p in u.estimator_.module_.named_parameters():
        frozen = ~u.saliency_mask_[name]
        np.testing.assert_array_equal(p.detach().numpy()[frozen],
                                      before[name].detach().numpy()[frozen])


def test_needs_labels_and_a_classifier(digits_split):
    from sklearn.neural_network import MLPRegressor

    X_fit, y_fit = digits_split[:2]
    u = SalUnUnlearner(epochs=1, random_state=0).fit(X_fit[:200], y_fit[:200])
    with pytest.raises(ValueError, match="needs y_forget"):
        u.unlearn(X_fit[:10], None, X_fit[10:200], y_fit[10:200])
    r = SalUnUnlearner(MLPRegressor(hidden_layer_sizes=(8,), max_iter=20), epochs=1).fit(
        X_fit[:100], y_fit[:100].astype(float))
    with pytest.raises(TypeError, match="classifier"):
        r.unlearn(X_fit[:10], y_fit[:10].astype(float), X_fit[10:100],
                  y_fit[10:100].astype(float))
