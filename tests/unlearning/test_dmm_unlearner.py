"""DMMUnlearner: the influence attribution against exact refits, and the matching step."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sktrust.metrics import classification_margins
from sktrust.nn import as_torch_model
from sktrust.unlearning._dmm import (
    DMMUnlearner,
    datamodel_logit_shift,
    head_hessian,
    influence_logit_shift,
)


@pytest.mark.parametrize("n_classes", [3, 2])
def test_influence_predicts_the_logit_changes_of_an_exact_refit(n_classes):
    # Card check 1: logistic regression over fixed features, 5% of the rows
    # removed; influence-predicted logit changes correlate with refitting.
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if n_classes == 2:
        X, y = X[y < 2], y[y < 2]
    n, C = len(y), 1.0
    lr = LogisticRegression(C=C, tol=1e-10, max_iter=10_000)
    full = lr.fit(X, y)
    model = as_torch_model(full)
    # sklearn's penalty ||W||^2 / (2C) on the summed loss is 1/(C n) on the mean
    H = head_hessian(model, X, damping=1.0 / (C * n))
    forget = np.random.RandomState(0).choice(n, size=int(0.05 * n), replace=False)
    keep = np.setdiff1d(np.arange(n), forget)
    predicted = influence_logit_shift(model, H, X[forget], y[forget], X, n)
    refit = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X[keep], y[keep])
    true = (as_torch_model(refit).logits(X).numpy()
            - model.logits(X).numpy())
    if n_classes == 2:
        predicted, true = predicted[:, 1], true[:, 1]
    r = np.corrcoef(predicted.ravel(), true.ravel())[0, 1]
    assert r > 0.9
    assert np.abs(true).max() > 0.05  # the refit really moved


@pytest.fixture(scope="module")
def wine_mlp():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((16,), max_iter=300, random_state=0).fit(X, y)
    forget = np.random.RandomState(1).choice(len(y), size=12, replace=False)
    keep = np.setdiff1d(np.arange(len(y)), forget)
    return X, y, mlp, (X[forget], y[forget], X[keep], y[keep])


def test_influence_targets_are_the_original_logits_plus_the_predicted_shift(wine_mlp):
    X, y, mlp, data = wine_mlp
    u = DMMUnlearner(FrozenEstimator(mlp), attribution="influence", epochs=1,
                     random_state=0).fit(X, y)
    u.unlearn(*data)
    model = as_torch_model(mlp)
    H = head_hessian(model, X, damping=u.damping)
    np.testing.assert_allclose(u.head_hessian_, H)
    rows = np.vstack([data[0], data[2][u.finetune_indices_]])
    # multiplier="auto" doubles the influence shift
    expected = model.logits(rows).numpy() + 2.0 * influence_logit_shift(
        model, H, data[0], data[1], rows, len(y))
    np.testing.assert_allclose(u.predicted_logits_, expected, rtol=1e-5, atol=1e-5)
    u1 = DMMUnlearner(FrozenEstimator(mlp), attribution="influence", multiplier=1.0,
                      epochs=1, random_state=0).fit(X, y).unlearn(*data)
    np.testing.assert_allclose(u1.predicted_logits_ - model.logits(rows).numpy(),
                               0.5 * (expected - model.logits(rows).numpy()),
                               rtol=1e-5, atol=1e-5)
    # 12 forget rows + 3 * 12 distinct retain rows
    assert u.predicted_logits_.shape == (48, 3)
    assert len(set(u.finetune_indices_.tolist())) == 36
    # the caller's model is untouched
    np.testing.assert_array_equal(model.logits(X).numpy(), as_torch_model(mlp).logits(X).numpy())


def test_a_second_request_counts_the_rows_the_first_one_removed(wine_mlp):
    # The Newton step divides by the number of rows left: after forgetting 12
    # of 178 rows, removing 6 more leaves 160, not 172.
    X, y, mlp, (X_f, y_f, X_r, y_r) = wine_mlp
    u = DMMUnlearner(FrozenEstimator(mlp), multiplier=1.0, epochs=1,
                     random_state=0).fit(X, y).unlearn(X_f, y_f, X_r, y_r)
    model = as_torch_model(u.estimator_)
    u.unlearn(X_r[:6], y_r[:6], X_r[6:], y_r[6:])
    rows = np.vstack([X_r[:6], X_r[6:][u.finetune_indices_]])
    shift = influence_logit_shift(model, u.head_hessian_, X_r[:6], y_r[:6], rows,
                                  len(y) - len(y_f))
    np.testing.assert_allclose(u.predicted_logits_ - model.logits(rows).numpy(), shift,
                               rtol=1e-5, atol=1e-6)
    assert u.n_train_ == len(y)


def test_oracle_matching_brings_the_forget_logits_to_the_retrained_ones(wine_mlp):
    X, y, mlp, data = wine_mlp
    u = DMMUnlearner(FrozenEstimator(mlp), attribution="oracle", n_oracle_models=2,
                     random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u.unlearn(*data)
    targets = u.predicted_logits_[:12]
    before = np.abs(as_torch_model(mlp).logits(data[0]).numpy() - targets).mean()
    after = np.abs(as_torch_model(u.estimator_).logits(data[0]).numpy() - targets).mean()
    assert after < 0.5 * before
    assert u.losses_[-1] < u.losses_[0]


def test_dmm_bad_input():
    X, y = load_wine(return_X_y=True)
    with pytest.raises(TypeError, match="classifier"):
        DMMUnlearner(LinearRegression()).fit(X, y.astype(float))
    u = DMMUnlearner(MLPClassifier((4,), max_iter=20, random_state=0),
                     attribution="oracle", epochs=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u.fit(X, y)
        with pytest.raises(ValueError, match="every class"):
            u.unlearn(X[y == 2], y[y == 2], X[y != 2], y[y != 2])
    with pytest.raises(ValueError, match="retain"):
        DMMUnlearner(MLPClassifier((4,), max_iter=20), attribution="influence",
                     epochs=1).fit(X, y).unlearn(
            X[:3], y[:3])


def _mlp(seed):
    return MLPClassifier((16,), learning_rate_init=0.02, max_iter=200, random_state=seed)


def _margins(logits, y):
    # labels are 0..K-1, the column order of the logits
    return classification_margins(logits, y, classes=np.arange(logits.shape[1]))


def test_datamodel_predicts_the_self_influence_the_influence_attribution_misses():
    # 20 rows removed, 10 of them mislabelled: a model memorises those, so
    # their true-label margin falls sharply when they are removed (their
    # self-influence). The true change is the mean over retrained models
    # minus the mean over models trained on all rows.
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.RandomState(0)
    forget = np.sort(rng.choice(len(y), 20, replace=False))
    y = y.copy()
    y[forget[:10]] = (y[forget[:10]] + 1) % 3
    keep = np.setdiff1d(np.arange(len(y)), forget)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        original = _mlp(0).fit(X, y)
        dm = DMMUnlearner(FrozenEstimator(original), attribution="datamodel",
                          n_subset_models=30, random_state=0).fit(X, y)
        full = np.mean([_margins(as_torch_model(_mlp(10 + s).fit(X, y)).logits(
            X[forget]).numpy(), y[forget]) for s in range(5)], axis=0)
        retrained = np.mean([_margins(as_torch_model(_mlp(20 + s).fit(
            X[keep], y[keep])).logits(X[forget]).numpy(), y[forget]) for s in range(5)],
            axis=0)
    true = retrained - full
    model = as_torch_model(original)
    logits = model.logits(X[forget]).numpy()
    before = _margins(logits, y[forget])
    predicted = _margins(logits + datamodel_logit_shift(
        dm.subset_masks_, dm.subset_logits_, forget, forget), y[forget]) - before
    H = head_hessian(model, X, damping=1e-3)
    influence = _margins(logits + influence_logit_shift(
        model, H, X[forget], y[forget], X[forget], len(y)), y[forget]) - before
    assert true[:10].mean() < true[10:].mean() - 5  # memorised rows really move
    assert np.corrcoef(predicted, true)[0, 1] > 0.5
    # on the memorised rows the datamodel predicts a drop more than twice the
    # frozen-feature influence attribution's
    assert predicted[:10].mean() < 2 * influence[:10].mean() < 0


def test_datamodel_shift_is_the_difference_in_means_of_the_subset_models():
    rng = np.random.RandomState(0)
    masks = rng.rand(40, 6) < 0.5
    logits = rng.normal(size=(40, 6, 3)).astype(np.float32)
    shift = datamodel_logit_shift(masks, logits, np.array([1, 4]), np.array([0, 2]))
    expected = 0.0
    for i in (1, 4):
        m = masks[:, i]
        expected = expected - (logits[m][:, [0, 2]].mean(0) - logits[~m][:, [0, 2]].mean(0))
    np.testing.assert_allclose(shift, expected, rtol=1e-5)


def test_datamodel_matching_moves_a_subpopulation_toward_retraining():
    # Class 0 has 12 rows inside class 1's region: retrained without them, the
    # model calls them class 1. Datamodel matching moves their margins toward
    # the retrained models' (doing nothing leaves them where they are).
    rng = np.random.RandomState(0)
    centres = rng.normal(scale=3, size=(3, 5))
    X = np.vstack([rng.normal(size=(60, 5)) + c for c in centres]
                  + [rng.normal(scale=0.5, size=(12, 5)) + centres[1] + 1.5])
    y = np.r_[np.repeat([0, 1, 2], 60), np.zeros(12, dtype=int)]
    forget, keep = np.arange(180, 192), np.arange(180)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        original = _mlp(0).fit(X, y)
        u = DMMUnlearner(FrozenEstimator(original), attribution="datamodel",
                         n_subset_models=30, random_state=0).fit(X, y)
        u.unlearn(X[forget], y[forget], X[keep], y[keep])
        retrained = np.mean([_margins(as_torch_model(_mlp(10 + s).fit(
            X[keep], y[keep])).logits(X[forget]).numpy(), y[forget]) for s in range(5)],
            axis=0)

    def margins(est):
        return _margins(as_torch_model(est).logits(X[forget]).numpy(), y[forget])

    before, after = margins(original), margins(u.estimator_)
    assert retrained.mean() < before.mean() - 5  # removing them matters
    closer = np.abs(after - retrained) < np.abs(before - retrained)
    assert closer.mean() >= 0.75
    assert np.abs(after - retrained).mean() < np.abs(before - retrained).mean()
    assert u.subset_masks_.shape == (30, 192)
    assert u.subset_logits_.shape == (30, 192, 3)
    np.testing.assert_allclose(u.subset_masks_.mean(axis=1), 0.5, atol=0.02)


def test_datamodel_forget_rows_must_be_training_rows(wine_mlp):
    X, y, mlp, data = wine_mlp
    u = DMMUnlearner(FrozenEstimator(mlp), attribution="datamodel", n_subset_models=2,
                     epochs=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u.fit(X, y)
    with pytest.raises(ValueError, match="training rows"):
        u.unlearn(data[0] + 1.0, data[1], data[2], data[3])


def test_dmm_refuses_an_empty_matching_set(wine_mlp):
    # forget_multiplier * 12 rounds to 0 repeats and retain_multiplier=0 adds
    # no retain row: nothing is left to fine-tune on.
    X, y, mlp, data = wine_mlp
    u = DMMUnlearner(FrozenEstimator(mlp), forget_multiplier=0.01, retain_multiplier=0.0,
                     epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="no row to fine-tune on"):
        u.unlearn(*data)
    assert not u.is_unlearned_


def test_datamodel_refuses_forget_rows_in_the_retain_rows_and_forgotten_rows(wine_mlp):
    X, y, mlp, data = wine_mlp
    X_f, y_f, X_r, y_r = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u = DMMUnlearner(FrozenEstimator(mlp), attribution="datamodel", n_subset_models=2,
                         retain_multiplier=20.0, epochs=1, random_state=0).fit(X, y)
    # the retain sample (every retain row here) holds the forget rows too
    with pytest.raises(ValueError, match="X_retain repeats a row of X_forget"):
        u.unlearn(X_f, y_f, X, y)
    u.unlearn(X_f, y_f, X_r, y_r)
    assert u.forgotten_train_rows_.sum() == len(y_f)
    # rows already forgotten cannot be forgotten (or retained) again
    with pytest.raises(ValueError, match="already forgotten"):
        u.unlearn(X_f[:2], y_f[:2], X_r[2:], y_r[2:])
    u.set_params(retain_multiplier=200.0)  # the retain sample is every retain row
    with pytest.raises(ValueError, match="already forgotten"):
        u.unlearn(X_r[:2], y_r[:2], np.vstack([X_r[2:], X_f]), np.r_[y_r[2:], y_f])
    assert u.forgotten_train_rows_.sum() == len(y_f)
    u.unlearn(X_r[:2], y_r[:2], X_r[2:], y_r[2:])
    assert u.forgotten_train_rows_.sum() == len(y_f) + 2
    with pytest.raises(ValueError, match="more often than the rows passed to fit"):
        u.unlearn(np.vstack([X_r[2:3]] * 2), y_r[[2, 2]], X_r[3:], y_r[3:])


def _weights(est):
    return np.concatenate([p.detach().numpy().ravel()
                           for p in as_torch_model(est).module.parameters()])


def test_anchor_l2_keeps_the_weights_nearer_the_original(wine_mlp):
    X, y, mlp, data = wine_mlp
    original = _weights(mlp)
    moved = {}
    for anchor in (0.0, 10.0):
        u = DMMUnlearner(FrozenEstimator(mlp), multiplier=5.0, anchor_l2=anchor,
                         epochs=20, random_state=0).fit(X, y).unlearn(*data)
        moved[anchor] = np.linalg.norm(_weights(u.estimator_) - original)
    assert moved[0.0] > 0
    assert moved[10.0] < 0.5 * moved[0.0]


def test_ce_loss_matches_the_softmax_of_the_targets(wine_mlp):
    from scipy.special import log_softmax, softmax

    X, y, mlp, data = wine_mlp
    u = DMMUnlearner(FrozenEstimator(mlp), attribution="oracle", n_oracle_models=1,
                     loss="ce", random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u.unlearn(*data)
    p = softmax(u.predicted_logits_[:12], axis=1)

    def kl(est):
        logits = as_torch_model(est).logits(data[0]).numpy()
        return (p * (np.log(p) - log_softmax(logits, axis=1))).sum(1).mean()

    assert kl(u.estimator_) < 0.5 * kl(mlp)
