"""SSDUnlearner: the dampening rule, class-wise forgetting, the data-free path."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktrust.nn import MLP, make_classifier_net, torch_seed
from sktrust.unlearning import SSDUnlearner
from sktrust.unlearning._ssd import ssd_dampen


def test_dampening_formula_matches_the_paper_exactly():
    theta = torch.tensor([1.0, -2.0, 3.0, 4.0, 5.0, 6.0])
    full = torch.tensor([1.0, 1.0, 1.0, 0.0, 2.0, 1.0])
    forget = torch.tensor([10.0, 20.0, 5.0, 0.0, 40.0, 30.0])
    new, selected = ssd_dampen(theta, full, forget, alpha=10.0, dampening=1.0)
    # strictly greater than alpha * full: 10 > 10 is not selected, 0 > 0 neither
    np.testing.assert_array_equal(selected.numpy(),
                                  [False, True, False, False, True, True])
    expected = theta.clone()
    expected[1] *= 1.0 / 20.0
    expected[4] *= 2.0 / 40.0
    expected[5] *= 1.0 / 30.0
    torch.testing.assert_close(new, expected, rtol=0, atol=0)
    # dampening > alpha: the factor is clamped at max_factor, a weight never grows
    new, _ = ssd_dampen(theta, full, forget, alpha=10.0, dampening=50.0)
    assert torch.all(new.abs() <= theta.abs())
    new, _ = ssd_dampen(theta, full, forget, alpha=10.0, dampening=1.0, exponent=2.0)
    assert new[1] == pytest.approx(-2.0 / 400.0)


@pytest.fixture(scope="module")
def class3(digits_split, digits_mlp):
    X_fit, y_fit = digits_split[:2]
    return FrozenEstimator(digits_mlp), X_fit, y_fit, y_fit == 3


def test_larger_alpha_selects_fewer_weights(class3):
    net, X, y, forget = class3
    n = [SSDUnlearner(net, alpha=a, random_state=0).fit(X, y)
         .unlearn(X[forget], y[forget]).n_selected_ for a in (10.0, 50.0, 200.0)]
    assert n[0] > n[1] > n[2] > 0


def test_data_free_unlearning_of_a_class(class3, digits_split):
    """After fit, only the forget rows are needed (the stored importance is enough)."""
    net, X, y, forget = class3
    X_te, y_te = digits_split[4:]
    u = SSDUnlearner(net, alpha=50.0, random_state=0).fit(X, y)
    u.unlearn(X[forget], y[forget])
    assert u.score(X_te[y_te == 3], y_te[y_te == 3]) < 0.1
    assert set(u.selected_mask_) == {k for k, _ in
                                     u.importance_forget_.items()}
    assert 0 < u.selected_fraction_ < 0.5


def test_label_free_variant_forgets_without_labels(class3, digits_split):
    net, X, y, forget = class3
    X_te, y_te = digits_split[4:]
    orig = net.estimator
    other = y_te != 3
    u = SSDUnlearner(net, alpha=5.0, importance="label_free", random_state=0)
    u.fit(X, y).unlearn(X[forget])
    assert u.score(X_te[~other], y_te[~other]) < 0.1
    assert u.score(X_te[other], y_te[other]) >= orig.score(X_te[other], y_te[other]) - 0.03


def test_fisher_importance_needs_labels(class3):
    net, X, y, forget = class3
    u = SSDUnlearner(net).fit(X, y)
    with pytest.raises(ValueError, match="y_forget"):
        u.unlearn(X[forget])


def test_random_rows_select_far_fewer_weights_than_a_class(class3, digits_split,
                                                            random_forget):
    """Card check 3: rows that look like the training set are nearly a no-op."""
    net, X, y, forget = class3
    X_te = digits_split[4]
    rng = np.random.RandomState(1)
    rows = rng.choice(len(X), size=int(forget.sum()), replace=False)
    fitted = SSDUnlearner(net, alpha=50.0, random_state=0).fit(X, y)
    cls = clone(fitted).fit(X, y).unlearn(X[forget], y[forget])
    rnd = fitted.unlearn(X[rows], y[rows])
    assert rnd.selected_fraction_ * 10 <= cls.selected_fraction_
    changed = np.mean(rnd.predict(X_te) != net.predict(X_te))
    assert changed < 0.02


def test_recomputes_full_importance_on_retain_and_forget(class3):
    net, X, y, forget = class3
    u = SSDUnlearner(net, alpha=50.0, random_state=0).fit(X[:200], y[:200])
    before = {k: v.copy() for k, v in u.importance_full_.items()}
    u.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    assert any(not np.allclose(before[k], u.importance_full_[k]) for k in before)


def test_works_on_a_skorch_net_and_a_pipeline(digits_split):
    X_fit, y_fit, _, _, X_te, y_te = digits_split
    X_fit = X_fit.astype(np.float32)
    X_te = X_te.astype(np.float32)
    forget = y_fit == 3
    with torch_seed(0):
        net = make_classifier_net(MLP, module__n_features=64, module__n_outputs=10,
                                  module__hidden_layer_sizes=(64,), max_epochs=30,
                                  lr=1e-2, device="cpu").fit(X_fit, y_fit)
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifier((64,), max_iter=60, random_state=0))
    for model in (FrozenEstimator(net), pipe):
        u = SSDUnlearner(model, alpha=20.0, random_state=0).fit(X_fit, y_fit)
        before = u.score(X_te[y_te == 3], y_te[y_te == 3])
        u.unlearn(X_fit[forget], y_fit[forget])
        assert before > 0.9
        assert u.score(X_te[y_te == 3], y_te[y_te == 3]) < 0.5
    # the user's skorch net is untouched
    assert net.score(X_te[y_te == 3], y_te[y_te == 3]) > 0.9
