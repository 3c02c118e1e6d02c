"""sktrust.nn gradient passes used by the unlearners, against hand computations."""

import numpy as np
import pytest
import torch

from sktrust.nn import MLP, gradient_saliency, squared_grad_importance


@pytest.fixture
def net_and_data():
    torch.manual_seed(0)
    net = MLP(3, 2, hidden_layer_sizes=(4,)).double()
    X = torch.randn(10, 3, dtype=torch.float64)
    y = (X[:, 0] > 0).long()
    return net, X, y


def _batch_grads(net, X, y, batch_size, loss):
    out = []
    for s in range(0, len(X), batch_size):
        net.zero_grad()
        loss(net(X[s:s + batch_size]), y[s:s + batch_size]).backward()
        out.append({k: p.grad.detach().clone() for k, p in net.named_parameters()})
    return out


def test_fisher_importance_is_mean_of_squared_batch_gradients(net_and_data):
    net, X, y = net_and_data
    grads = _batch_grads(net, X, y, 4, torch.nn.functional.cross_entropy)
    imp = squared_grad_importance(net, X, y, batch_size=4)
    for k in imp:
        expected = sum(g[k] ** 2 for g in grads) / len(grads)
        torch.testing.assert_close(imp[k], expected)


def test_label_free_importance_uses_abs_gradient_of_output_norm(net_and_data):
    net, X, y = net_and_data

    def norm_loss(out, _):
        return (out**2).sum(dim=1).mean()

    grads = _batch_grads(net, X, y, 5, norm_loss)
    imp = squared_grad_importance(net, X, batch_size=5, label_free=True)
    for k in imp:
        torch.testing.assert_close(imp[k], sum(g[k].abs() for g in grads) / 2)


def test_saliency_is_abs_of_summed_batch_gradients(net_and_data):
    net, X, y = net_and_data
    grads = _batch_grads(net, X, y, 3, torch.nn.functional.cross_entropy)
    sal = gradient_saliency(net, X, y, batch_size=3)
    for k in sal:
        torch.testing.assert_close(sal[k], sum(g[k] for g in grads).abs())


def test_shuffling_changes_batches_but_not_a_single_full_batch(net_and_data):
    net, X, y = net_and_data
    a = squared_grad_importance(net, X, y, batch_size=10)
    b = squared_grad_importance(net, X, y, batch_size=10, random_state=3)
    for k in a:
        torch.testing.assert_close(a[k], b[k])
    c = squared_grad_importance(net, X, y, batch_size=2, random_state=3)
    d = squared_grad_importance(net, X, y, batch_size=2, random_state=3)
    assert all(torch.equal(c[k], d[k]) for k in c)


def test_bad_inputs_raise(net_and_data):
    net, X, y = net_and_data
    with pytest.raises(ValueError, match="needs y"):
        squared_grad_importance(net, X)
    with pytest.raises(ValueError, match="empty"):
        squared_grad_importance(net, X[:0], y[:0])
    with pytest.raises(ValueError, match="batch_size"):
        gradient_saliency(net, X, y, batch_size=0)
    assert np.all([v.requires_grad is False for v in
                   squared_grad_importance(net, X, y).values()])
