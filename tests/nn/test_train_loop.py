"""The single training loop: it learns, and it honours its hooks."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sktrust.nn import MLP, SmallCNN, resolve_device, torch_seed, train


def _ce(module, xb, yb):
    return F.cross_entropy(module(xb), yb)


def _toy():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 5, generator=g)
    y = (X[:, 0] - X[:, 1] > 0).long()
    return X, y


def test_train_lowers_the_loss_and_learns_a_toy_task():
    X, y = _toy()
    net = MLP(5, 2, hidden_layer_sizes=(16,))
    losses = train(net, X, y, _ce, epochs=30, lr=0.3, batch_size=32, random_state=0,
                   device="cpu")
    assert losses[-1] < 0.5 * losses[0]
    acc = (net(X).argmax(1) == y).float().mean().item()
    assert acc > 0.9


def test_grad_hook_can_freeze_parameters_exactly():
    X, y = _toy()
    net = MLP(5, 2, hidden_layer_sizes=(8,))
    frozen = net.body[0].weight.detach().clone()

    def zero_first_layer(m):
        m.body[0].weight.grad.zero_()

    train(net, X, y, _ce, epochs=3, lr=0.3, grad_hook=zero_first_layer,
          random_state=0, device="cpu")
    assert torch.equal(net.body[0].weight, frozen)
    assert not torch.equal(net.head.weight, MLP(5, 2, (8,)).head.weight)


def test_step_hook_runs_after_every_step():
    X, y = _toy()
    net = MLP(5, 2, hidden_layer_sizes=(8,))
    steps = []

    def clamp(m, step):
        steps.append(step)
        with torch.no_grad():
            m.head.weight.clamp_(-0.01, 0.01)

    train(net, X, y, _ce, epochs=2, batch_size=50, step_hook=clamp, device="cpu")
    assert steps == list(range(1, 9))
    assert net.head.weight.abs().max().item() <= 0.01


def test_params_restricts_what_moves():
    X, y = _toy()
    net = MLP(5, 2, hidden_layer_sizes=(8,))
    body = [p.detach().clone() for p in net.body.parameters()]
    train(net, X, y, _ce, epochs=2, params=net.head.parameters(), device="cpu")
    for before, after in zip(body, net.body.parameters()):
        assert torch.equal(before, after)


def test_random_state_fixes_the_batch_order():
    X, y = _toy()
    results = []
    for _ in range(2):
        with torch_seed(1):
            net = MLP(5, 2, hidden_layer_sizes=(8,))
        train(net, X, y, _ce, epochs=2, lr=0.1, batch_size=16, random_state=5,
              device="cpu")
        results.append(net.head.weight.detach().clone())
    assert torch.equal(results[0], results[1])


def test_non_finite_loss_raises_a_clear_error():
    X, y = _toy()
    net = MLP(5, 2)
    with pytest.raises(FloatingPointError, match="lower lr"):
        train(net, X, y, lambda m, xb, yb: m(xb).sum() * float("nan"), device="cpu")


def test_empty_data_and_bad_optimizer_raise():
    net = MLP(5, 2)
    with pytest.raises(ValueError, match="empty"):
        train(net, np.zeros((0, 5)), np.zeros(0), _ce, device="cpu")
    X, y = _toy()
    with pytest.raises(ValueError, match="optimizer"):
        train(net, X, y, _ce, optimizer="rmsprop-ish", device="cpu")


def test_small_cnn_follows_the_protocol():
    net = SmallCNN((1, 8, 8), 10)
    x = torch.zeros(3, 64)
    assert net.features(x).shape == (3, 64)
    assert torch.equal(net(x), net.head(net.features(x)))


def test_device_auto_is_cpu_without_a_gpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")


@pytest.mark.parametrize("device", ["cdua", "gpu", "cpu:x"])
def test_device_that_torch_cannot_read_is_a_clear_value_error(device):
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device(device)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_train_and_adapter_on_cuda(iris):
    from sktrust.nn import as_torch_model, make_classifier_net

    X, y = iris
    X = X.astype(np.float32)
    net = make_classifier_net(MLP, module__n_features=4, module__n_outputs=3,
                              max_epochs=5, device="auto").fit(X, y)
    assert next(net.module_.parameters()).is_cuda
    model = as_torch_model(net)
    np.testing.assert_allclose(model.predict_proba(X), net.predict_proba(X),
                               atol=1e-5)
    x, yt = model.prepare(X, y)
    losses = train(model.module, x, yt, lambda m, xb, yb: model.loss_tensor(xb, yb),
                   epochs=5, lr=0.05, device="auto")
    assert losses[-1] < losses[0]
