"""contrastive_loss (NT-Xent / SupCon) and SimCLREncoder."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from sktrust.noisy_labels import SimCLREncoder, contrastive_loss
from sktrust.noisy_labels._contrastive import tabular_views


def _reference_loss(z1, z2, labels, t):
    """Loop transcription of SupCon's L_out (SimCLR's NT-Xent when labels are all distinct)."""
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1).double()
    lab = torch.cat([labels, labels])
    n2 = z.shape[0]
    total = 0.0
    for i in range(n2):
        denom = sum(torch.exp(z[i] @ z[a] / t) for a in range(n2) if a != i)
        pos = [p for p in range(n2) if p != i and lab[p] == lab[i]]
        total += -sum(torch.log(torch.exp(z[i] @ z[p] / t) / denom) for p in pos) / len(pos)
    return total / n2


def test_contrastive_loss_matches_loop_reference():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)
    labels = torch.tensor([0, 1, 0, 2, 1, 0])
    sup = contrastive_loss(z1, z2, labels, temperature=0.3)
    assert torch.isclose(sup.double(), _reference_loss(z1, z2, labels, 0.3), rtol=1e-5)
    # Without labels only the other view is a positive: NT-Xent.
    simclr = contrastive_loss(z1, z2, temperature=0.5)
    assert torch.isclose(simclr.double(), _reference_loss(z1, z2, torch.arange(6), 0.5),
                         rtol=1e-5)


def test_contrastive_loss_rejects_mismatched_views_labels_and_temperature():
    z = torch.randn(5, 3)
    with pytest.raises(ValueError, match="same shape"):
        contrastive_loss(z, torch.randn(4, 3))
    with pytest.raises(ValueError, match="same shape"):
        contrastive_loss(z[:, 0], z[:, 0])
    with pytest.raises(ValueError, match=r"labels must have shape \(5,\)"):
        contrastive_loss(z, z, labels=torch.zeros(3))
    with pytest.raises(ValueError, match="temperature must be positive"):
        contrastive_loss(z, z, temperature=0)
    with pytest.raises(TypeError, match="torch tensors"):
        contrastive_loss(z.numpy(), z.numpy())


def test_contrastive_loss_is_low_when_views_agree():
    z = torch.eye(8)
    aligned = contrastive_loss(z, z, temperature=0.1)
    shuffled = contrastive_loss(z, z.roll(1, dims=0), temperature=0.1)
    assert aligned < 0.01 < shuffled


def test_tabular_views_keep_marginals_and_are_random():
    torch.manual_seed(0)
    x = torch.arange(40.0).reshape(10, 4)
    v = tabular_views(x, noise_scale=0.0, corruption=0.5)
    # Corruption swaps in values of the same column (of other rows).
    for j in range(4):
        assert set(v[:, j].tolist()) <= set(x[:, j].tolist())
    assert not torch.equal(v, x)
    assert torch.equal(tabular_views(x, noise_scale=0.0, corruption=0.0), x)


@pytest.fixture(scope="module")
def digits_half():
    X, y = load_digits(return_X_y=True)
    return X[::2], y[::2]


def test_simclr_training_gives_a_better_neighbourhood_than_its_initialisation(digits_half):
    X, y = digits_half
    common = dict(n_components=32, random_state=0)
    trained = SimCLREncoder(max_epochs=30, **common).fit(X)
    untrained = SimCLREncoder(max_epochs=1, lr=1e-12, **common).fit(X)

    def knn(enc):
        return cross_val_score(KNeighborsClassifier(10), enc.transform(X), y, cv=3).mean()

    assert trained.loss_curve_[-1] < trained.loss_curve_[0]
    assert knn(trained) > knn(untrained) + 0.02


def test_simclr_never_reads_labels(digits_half):
    X, y = digits_half
    a = SimCLREncoder(max_epochs=2, random_state=0).fit(X, y)
    b = SimCLREncoder(max_epochs=2, random_state=0).fit(X, np.zeros_like(y))
    np.testing.assert_array_equal(a.transform(X[:10]), b.transform(X[:10]))
    assert a.get_feature_names_out().tolist()[:2] == ["simclrencoder0", "simclrencoder1"]


def test_simclr_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2 rows"):
        SimCLREncoder(max_epochs=1).fit(np.zeros((1, 3)))
    X = np.random.RandomState(0).normal(size=(20, 3))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SimCLREncoder(max_epochs=1).fit(X)
    X = np.nan_to_num(X)
    enc = SimCLREncoder(max_epochs=1).fit(X)
    with pytest.raises(ValueError, match="features"):
        enc.transform(X[:, :2])


def test_contrastive_loss_takes_array_labels_and_rejects_empty_views():
    # Labels given as a list / numpy array (of any type) mean the same as a tensor.
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    ref = contrastive_loss(z1, z2, torch.tensor([0, 1, 0, 1]))
    for labels in ([0, 1, 0, 1], np.array([0, 1, 0, 1]), np.array(["a", "b", "a", "b"])):
        torch.testing.assert_close(contrastive_loss(z1, z2, labels), ref)
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        contrastive_loss(z1, z2, labels=np.zeros((4, 1)))
    with pytest.raises(ValueError, match="at least one row"):
        contrastive_loss(torch.zeros(0, 3), torch.zeros(0, 3))


@pytest.mark.parametrize("sizes", [(0,), (8, -1), ("a",)])
def test_simclr_rejects_layer_widths_that_are_not_positive_ints(sizes):
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive ints"):
        SimCLREncoder(max_epochs=1, hidden_layer_sizes=sizes).fit(np.eye(4))
