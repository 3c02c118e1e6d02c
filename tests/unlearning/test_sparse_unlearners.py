"""L1SparseUnlearner and PruneFirstUnlearner: schedule, sparsity, masks held fixed."""

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator

from sktrust.nn import as_torch_model
from sktrust.unlearning import (
    L1SparseUnlearner,
    PruneFirstUnlearner,
    SalUnUnlearner,
    SSDUnlearner,
)
from sktrust.unlearning._sparse import l1_schedule


def test_l1_schedule_decays_linearly_to_zero():
    np.testing.assert_allclose(l1_schedule(5e-4, 10),
                               5e-4 * (1 - np.arange(10) / 10))
    np.testing.assert_allclose(l1_schedule(1.0, 4, no_l1_epochs=2), [1.0, 0.5, 0.0, 0.0])
    assert l1_schedule(2.0, 3, no_l1_epochs=3) == [2.0, 2.0, 2.0]


@pytest.fixture(scope="module")
def forget_data(digits_split, random_forget):
    X_fit, y_fit = digits_split[:2]
    f = random_forget
    return X_fit, y_fit, (X_fit[f], y_fit[f], X_fit[~f], y_fit[~f])


def _n_near_zero(estimator):
    return sum(int((p.detach().abs() < 1e-3).sum())
               for _, p in as_torch_model(estimator).named_parameters())


def _l1_norm(estimator):
    return sum(float(p.detach().abs().sum())
               for _, p in as_torch_model(estimator).named_parameters())


def test_l1_penalty_gives_more_near_zero_weights_than_plain_finetuning(
        forget_data, digits_mlp):
    X_fit, y_fit, data = forget_data
    frozen = FrozenEstimator(digits_mlp)
    ft = L1SparseUnlearner(frozen, gamma=0.0, epochs=3, random_state=0)
    l1 = L1SparseUnlearner(frozen, gamma=3e-2, epochs=3, random_state=0)
    ft.fit(X_fit, y_fit).unlearn(*data)
    l1.fit(X_fit, y_fit).unlearn(*data)
    assert _n_near_zero(l1.estimator_) > _n_near_zero(ft.estimator_)
    assert _l1_norm(l1.estimator_) < _l1_norm(ft.estimator_)
    assert l1.gamma_schedule_ == pytest.approx([3e-2, 2e-2, 1e-2])


def test_no_l1_epochs_beyond_epochs_raises(forget_data):
    X_fit, y_fit, data = forget_data
    u = L1SparseUnlearner(epochs=2, no_l1_epochs=3).fit(X_fit[:100], y_fit[:100])
    with pytest.raises(ValueError, match="no_l1_epochs=3 exceeds epochs=2"):
        u.unlearn(X_fit[:5], y_fit[:5], X_fit[5:100], y_fit[5:100])


@pytest.mark.parametrize("inner", [L1SparseUnlearner(gamma=1e-2, epochs=2),
                                   SalUnUnlearner(epochs=2, saliency_ratio=0.9),
                                   SSDUnlearner(alpha=2.0)],
                         ids=["l1", "salun", "ssd"])
def test_pruned_weights_stay_zero_after_any_unlearner(inner, forget_data, digits_mlp,
                                                     digits_split):
    X_fit, y_fit, data = forget_data
    X_te, y_te = digits_split[4:]
    u = PruneFirstUnlearner(inner, estimator=FrozenEstimator(digits_mlp), sparsity=0.6,
                            random_state=0).fit(X_fit, y_fit)
    # requested sparsity on the prunable (hidden) weights, output layer untouched
    assert u.achieved_sparsity_ == pytest.approx(0.6, abs=0.005)
    assert set(u.mask_) == {"body.0.weight"}
    assert u.score(X_te, y_te) >= digits_mlp.score(X_te, y_te) - 0.03
    u.unlearn(*data)
    w = u.estimator_.coefs_[0]
    assert np.all(w[~u.mask_["body.0.weight"].T] == 0.0)
    assert np.all(u.estimator_.coefs_[1] != 0.0)
    assert len(u.unlearn_history_) == 1


@pytest.fixture(scope="module")
def pruned_digits(forget_data, digits_mlp):
    X_fit, y_fit, _ = forget_data
    return PruneFirstUnlearner(estimator=FrozenEstimator(digits_mlp), sparsity=0.6,
                               retrain_epochs=2, random_state=0).fit(X_fit, y_fit)


def test_same_mask_retrain_on_all_rows_gives_back_the_pruned_model(pruned_digits,
                                                                    forget_data):
    # Replaying fit on the same rows with the same mask and seeds is an exact
    # reference: the sparse model itself.
    X_fit, y_fit, _ = forget_data
    ref = pruned_digits.retrain_reference(X_fit, y_fit)
    np.testing.assert_allclose(ref.predict_proba(X_fit), pruned_digits.predict_proba(X_fit),
                               atol=1e-6)
    for a, b in zip(ref.coefs_, pruned_digits.estimator_.coefs_):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_same_mask_retrain_reference_is_retrained_on_retain_rows_with_the_mask(
        pruned_digits, forget_data, digits_mlp):
    X_fit, y_fit, (Xf, yf, Xr, yr) = forget_data
    keep = pruned_digits.mask_["body.0.weight"].T
    refs = [pruned_digits.retrain_reference(Xr, yr),
            pruned_digits.retrain_reference(Xr, yr, random_state=1)]
    for ref in refs:
        # pruned weights exactly 0, survivors trained (not 0), output layer dense
        assert np.all(ref.coefs_[0][~keep] == 0.0)
        assert np.mean(ref.coefs_[0][keep] != 0.0) > 0.99
        assert np.all(ref.coefs_[1] != 0.0)
        # a model that never saw the forget rows: it is a different model from
        # the pruned one, and it still generalises
        assert not np.allclose(ref.coefs_[0], pruned_digits.estimator_.coefs_[0])
        assert ref.score(Xr, yr) > 0.95
    assert not np.allclose(refs[0].coefs_[0], refs[1].coefs_[0])
    # the caller's model is untouched
    assert np.all(digits_mlp.coefs_[0] != 0.0)


def test_same_mask_retrain_reference_refuses_bad_labels(pruned_digits, forget_data):
    _, _, (_, _, Xr, yr) = forget_data
    with pytest.raises(ValueError, match="needs y_retain"):
        pruned_digits.retrain_reference(Xr, None)
    with pytest.raises(ValueError, match="y_retain contains labels \\[10\\]"):
        pruned_digits.retrain_reference(Xr, np.r_[yr[:-1], 10])


def test_search_over_a_pruned_model_uses_the_same_mask_reference(forget_data, digits_mlp):
    from sktrust.unlearning import UnlearningSearchCV

    X_fit, y_fit, data = forget_data
    search = UnlearningSearchCV(
        PruneFirstUnlearner(L1SparseUnlearner(gamma=0.0, epochs=1),
                            estimator=FrozenEstimator(digits_mlp), sparsity=0.6,
                            retrain_epochs=1, random_state=0),
        {"unlearner__lr": [0.01]}, random_state=0).fit(X_fit, y_fit)
    search.unlearn(*data)
    ref = search.reference_estimator_
    keep = search.estimator_.mask_["body.0.weight"].T
    assert np.all(ref.coefs_[0][~keep] == 0.0)
    assert np.mean(ref.coefs_[0][keep] != 0.0) > 0.99


@pytest.mark.parametrize("cls", [L1SparseUnlearner, PruneFirstUnlearner, SalUnUnlearner])
def test_retain_labels_of_the_wrong_length_raise_a_clear_error(cls, iris):
    from sklearn.neural_network import MLPClassifier

    X, y = iris
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    u = cls(estimator=mlp, random_state=0).fit(X, y)
    f = np.arange(150) % 10 == 0
    with pytest.raises(ValueError, match="X_retain has 135 rows but y_retain has 5"):
        u.unlearn(X[f], y[f], X[~f], y[~f][:5])
    assert not u.is_unlearned_
