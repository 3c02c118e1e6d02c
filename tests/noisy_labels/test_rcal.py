"""RCALCalibrator and RCALSampler: robust statistics, tail calibration, end to end."""

import warnings

import numpy as np
import pytest
from imblearn.pipeline import make_pipeline
from imblearn.utils.estimator_checks import parametrize_with_checks
from sklearn.covariance import LedoitWolf
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sktrust.datasets import flip_labels, make_long_tailed
from sktrust.noisy_labels import SMOTE, RCALCalibrator, RCALSampler, SimCLREncoder
from sktrust.noisy_labels._rcal import (
    neighbourhood_label_scores,
    robust_class_statistics,
)


@parametrize_with_checks([RCALSampler(random_state=0)])
def test_rcal_sampler_passes_imblearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def _three_gaussians(seed, n=200, d=10, noise=0.3):
    rng = np.random.RandomState(seed)
    centers = np.zeros((3, d))
    centers[1, 0], centers[2, 1] = 6.0, 6.0
    y = np.repeat([0, 1, 2], n)
    X = centers[y] + rng.normal(size=(3 * n, d))
    # Card check 1: 30% of class 0's labels go to points of class 1.
    moved = rng.choice(np.flatnonzero(y == 1), size=int(noise * n), replace=False)
    y_obs = y.copy()
    y_obs[moved] = 0
    return X, y_obs, centers


def test_robust_mean_halves_the_naive_error_under_label_noise():
    # LOF inside the class (the paper) does not pass this: the moved points
    # form a dense cluster of their own, which LOF does not flag.
    method = "knn"
    errors_robust, errors_naive = [], []
    for seed in range(3):
        X, y_obs, centers = _three_gaussians(seed)
        stats = robust_class_statistics(X, y_obs, 3, outlier_method=method,
                                        n_neighbors=20)
        errors_robust.append(np.linalg.norm(stats["means"][0] - centers[0]))
        errors_naive.append(np.linalg.norm(X[y_obs == 0].mean(axis=0) - centers[0]))
    assert np.mean(errors_robust) <= 0.5 * np.mean(errors_naive)


def test_knn_scores_single_out_flipped_labels():
    X, y_obs, _ = _three_gaussians(0)
    scores = neighbourhood_label_scores(X, y_obs, 3, n_neighbors=10)
    flipped = np.zeros(len(y_obs), bool)
    flipped[200:400] = y_obs[200:400] == 0
    assert scores[flipped].max() < scores[~flipped].mean()


def test_borrowed_tail_covariance_beats_ledoit_wolf_on_the_tail_alone():
    # Card check 2: shared covariance; a tail class of 8 points in 20-D.
    rng = np.random.RandomState(0)
    d = 20
    A = rng.normal(size=(d, d)) / np.sqrt(d)
    sigma = A @ A.T + 0.1 * np.eye(d)
    means = rng.normal(scale=3.0, size=(4, d))
    counts = [200, 200, 200, 8]
    X = np.vstack([rng.multivariate_normal(m, sigma, size=n) for m, n in zip(means, counts)])
    y = np.repeat(np.arange(4), counts)
    stats = robust_class_statistics(X, y, 4, outlier_method="none")
    assert stats["tail_classes"].tolist() == [3]
    rel = np.linalg.norm(stats["calibrated_covariances"][3] - sigma) / np.linalg.norm(sigma)
    lw = LedoitWolf().fit(X[y == 3]).covariance_
    rel_lw = np.linalg.norm(lw - sigma) / np.linalg.norm(sigma)
    assert rel < rel_lw


@pytest.fixture(scope="module")
def long_tailed_noisy_digits():
    """Digits, imbalance ratio 50, then 20% symmetric label flips (3 seeds)."""
    X, y = load_digits(return_X_y=True)
    splits = []
    for seed in range(3):
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=seed)
        X_lt, y_lt = make_long_tailed(X_tr, y_tr, imbalance_ratio=50, random_state=seed)
        y_noisy, _ = flip_labels(y_lt, 0.2, random_state=seed)
        scaler = StandardScaler().fit(X_lt)
        splits.append((scaler.transform(X_lt), y_noisy, scaler.transform(X_te), y_te))
    return splits


def _mean_balanced_accuracy(splits, make_models):
    """Mean test balanced accuracy of each model ``make_models(seed, y)`` builds."""
    scores = {}
    for seed, (X, y, X_te, y_te) in enumerate(splits):
        for name, model in make_models(seed, y).items():
            pred = model.fit(X, y).predict(X_te)
            scores.setdefault(name, []).append(balanced_accuracy_score(y_te, pred))
    return {k: np.mean(v) for k, v in scores.items()}


def _baselines(seed, y):
    """Plain logistic regression, and SMOTE before it."""
    lr = LogisticRegression(max_iter=1000)
    k = min(5, np.bincount(y).min() - 1)
    return {"plain": lr, "smote": make_pipeline(SMOTE(k_neighbors=k, random_state=seed), lr)}


@pytest.fixture(scope="module")
def baseline_scores(long_tailed_noisy_digits):
    return _mean_balanced_accuracy(long_tailed_noisy_digits, _baselines)


def test_rcal_beats_plain_and_smote_on_long_tailed_noisy_digits(long_tailed_noisy_digits,
                                                                baseline_scores):
    lr = LogisticRegression(max_iter=1000)
    mean = {**baseline_scores, **_mean_balanced_accuracy(
        long_tailed_noisy_digits,
        lambda seed, y: {"rcal": RCALCalibrator(lr, random_state=seed),
                         "rcal_sampler": make_pipeline(RCALSampler(random_state=seed), lr)})}
    assert mean["rcal"] > mean["plain"] + 0.05, mean
    assert mean["rcal"] > mean["smote"] + 0.05, mean
    # The sampler keeps the noisy rows, yet its Gaussians still beat SMOTE.
    assert mean["rcal_sampler"] > mean["smote"], mean


def test_rcal_on_a_contrastive_representation_meets_the_card_margins(
        long_tailed_noisy_digits, baseline_scores):
    # RCAL's step 1: a label-free contrastive encoder (SimCLR) fitted on X.
    # Card check 3: >= plain LR + 3 points and >= SMOTE + LR - 1 point.
    lr = LogisticRegression(max_iter=1000)
    mean = {**baseline_scores, **_mean_balanced_accuracy(
        long_tailed_noisy_digits,
        lambda seed, y: {"rcal_simclr": RCALCalibrator(
            lr, encoder=SimCLREncoder(max_epochs=30, random_state=seed), random_state=seed)})}
    assert mean["rcal_simclr"] >= mean["plain"] + 0.03, mean
    assert mean["rcal_simclr"] >= mean["smote"] - 0.01, mean


def test_rcal_with_pca_encoder_and_frozen_encoder_agree():
    from sklearn.frozen import FrozenEstimator

    X, y = load_digits(return_X_y=True)
    pca = PCA(n_components=10, random_state=0)
    a = RCALCalibrator(encoder=pca, random_state=0).fit(X, y)
    b = RCALCalibrator(encoder=FrozenEstimator(PCA(n_components=10, random_state=0).fit(X)),
                       random_state=0).fit(X, y)
    assert a.means_.shape == (10, 10)
    np.testing.assert_allclose(a.predict_proba(X[:20]), b.predict_proba(X[:20]), atol=1e-6)


def test_rcal_uses_penultimate_features_of_a_fitted_mlp():
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = RCALCalibrator(encoder=mlp, random_state=0).fit(X, y)
    assert clf.means_.shape == (10, 16)
    assert clf.score(X, y) > 0.9


def test_class_with_one_row_borrows_its_covariance():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) + 4, [[8.0, 8, 8]]])
    y = np.array([0] * 40 + [1] * 40 + [2])
    clf = RCALCalibrator(random_state=0).fit(X, y)
    assert 2 in clf.tail_classes_.tolist()
    assert np.all(np.isfinite(clf.calibrated_covariances_))
    # Its own covariance is undefined (zeros); the calibrated one is borrowed.
    assert np.allclose(clf.covariances_[2], 0)
    assert np.trace(clf.calibrated_covariances_[2]) > 0
    Z, labels = clf.sample([0, 0, 50], random_state=0)
    assert Z.std(axis=0).min() > 0.1 and set(labels) == {2}
    assert clf.predict(X[-1:]).tolist() == [2]


def test_bad_input_raises_clear_errors():
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="only one class"):
        RCALCalibrator().fit(X, np.zeros(20))
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RCALCalibrator().fit(X_nan, np.arange(20) % 2)
    clf = RCALCalibrator().fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])
    with pytest.raises(ValueError, match="n_per_class"):
        clf.sample([1, 2, 3])


def test_sampler_keeps_real_rows_first_and_lists_outliers():
    X, y_obs, _ = _three_gaussians(0)
    X_res, y_res = RCALSampler(sampling_strategy={0: 400, 1: 300, 2: 300},
                               random_state=0).fit_resample(X, y_obs)
    np.testing.assert_array_equal(X_res[: len(X)], X)
    assert np.bincount(y_res).tolist() == [400, 300, 300]
    sampler = RCALSampler(random_state=0)
    sampler.fit_resample(X, y_obs)
    flipped = np.flatnonzero((np.arange(600) >= 200) & (np.arange(600) < 400) & (y_obs == 0))
    found = np.intersect1d(sampler.outlier_indices_, flipped).size
    assert found >= 0.7 * flipped.size
