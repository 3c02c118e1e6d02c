"""DictASDetector: sparsemax, exact lookup, few-shot digits, tabular outliers."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor

from sktrust.open_set import DictASDetector, sparsemax


def _simplex_projection(v):
    """Sort-based Euclidean projection onto the simplex (Held et al.)."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    rho = np.nonzero(u * np.arange(1, len(v) + 1) > css - 1)[0][-1]
    theta = (css[rho] - 1) / (rho + 1.0)
    return np.maximum(v - theta, 0)


def test_sparsemax_is_the_simplex_projection():
    rng = np.random.RandomState(0)
    Z = rng.normal(scale=2, size=(50, 7))
    P = sparsemax(Z)
    assert np.all(P >= 0)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-12)
    for z, p in zip(Z, P):
        np.testing.assert_allclose(p, _simplex_projection(z), atol=1e-12)
    z = np.array([[3.0, 1.9, 0.0]])
    np.testing.assert_array_equal(sparsemax(z), [[1.0, 0.0, 0.0]])


def test_query_equal_to_a_dictionary_row_scores_zero():
    rng = np.random.RandomState(0)
    ref = rng.normal(size=(10, 4))
    det = DictASDetector(temperature=0.01).fit(ref)
    np.testing.assert_allclose(det.score_samples(ref[:3]), 0.0, atol=1e-12)


@pytest.fixture(scope="module")
def few_shot_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.RandomState(0)
    out = []
    for digit in range(5):
        idx = np.flatnonzero(y == digit)
        rng.shuffle(idx)
        ref, normal, anomalous = X[idx[:4]], X[idx[4:104]], X[y != digit][::8]
        det = DictASDetector(image_shape=(8, 8)).fit(ref)
        out.append((det, ref, normal, anomalous))
    return out


def _one_nn_patch_score(ref, queries, patch_sizes):
    """1-NN Euclidean patch distance, same patches as the detector, maps averaged."""
    maps = 0.0
    for p in np.atleast_1d(patch_sizes):
        feats = DictASDetector(image_shape=(8, 8), patch_size=p, scales=(1,),
                               normalize=False)._features
        D = feats(ref)[0].reshape(-1, p * p)
        F = feats(queries)[0]
        d2 = (F ** 2).sum(-1)[..., None] + (D ** 2).sum(-1) - 2 * F @ D.T
        maps = maps + np.sqrt(np.maximum(d2, 0)).min(-1)
    return -maps.max(-1)


def test_four_shot_digits_detects_other_digits_as_well_as_patch_nn(few_shot_digits):
    ours, nn = [], []
    for det, ref, normal, anomalous in few_shot_digits:
        labels = np.r_[np.ones(len(normal)), np.zeros(len(anomalous))]
        queries = np.r_[normal, anomalous]
        ours.append(roc_auc_score(labels, det.score_samples(queries)))
        nn.append(roc_auc_score(labels, _one_nn_patch_score(ref, queries, det.patch_size)))
    # Card target: image AUROC >= 0.85 and >= 1-NN patch distance - 0.02.
    assert np.mean(ours) >= 0.85
    assert np.mean(ours) >= np.mean(nn) - 0.02


def test_larger_receptive_fields_detect_other_digits_better(few_shot_digits):
    # Several patch sizes stand in for the paper's several backbone layers;
    # (5, 7) was chosen on digits 5-9 and is checked here on digits 0-4.
    # Euclidean 1-NN on the same patches is stronger on these digits (about
    # 0.99; they tie at 0.94 on digits 5-9): the cosine lookup drops the
    # intensity that raw pixels carry.
    base, wide = [], []
    for det, ref, normal, anomalous in few_shot_digits[:3]:  # digits 0-2 (time)
        labels = np.r_[np.ones(len(normal)), np.zeros(len(anomalous))]
        queries = np.r_[normal, anomalous]
        base.append(roc_auc_score(labels, det.score_samples(queries)))
        big = DictASDetector(image_shape=(8, 8), patch_size=(5, 7)).fit(ref)
        wide.append(roc_auc_score(labels, big.score_samples(queries)))
        assert len(big.dictionary_) == 4  # two patch sizes x two scales
    assert np.mean(wide) >= np.mean(base) + 0.03
    assert np.mean(wide) >= 0.95


def test_a_pasted_bright_square_is_localised(few_shot_digits):
    det, ref, normal, _ = few_shot_digits[0]
    imgs = normal[:40].reshape(-1, 8, 8).copy()
    truth = np.zeros_like(imgs, dtype=bool)
    rng = np.random.RandomState(0)
    for i in range(len(imgs)):
        r, c = rng.randint(0, 6, 2)
        imgs[i, r:r + 3, c:c + 3] = 1.0
        truth[i, r:r + 3, c:c + 3] = True
    maps = det.anomaly_map(imgs.reshape(len(imgs), -1))
    assert maps.shape == (40, 8, 8)
    assert roc_auc_score(truth.ravel(), maps.ravel()) >= 0.9


def _blobs_and_uniform_outliers(seed):
    rng = np.random.RandomState(seed)
    centers = np.array([[3.0, 3.0], [-3.0, -3.0]])
    ref = np.r_[rng.normal(size=(10, 2)) + centers[0], rng.normal(size=(10, 2)) + centers[1]]
    normal = np.r_[rng.normal(size=(100, 2)) + centers[0],
                   rng.normal(size=(100, 2)) + centers[1]]
    outliers = rng.uniform(-8, 8, size=(100, 2))
    return ref, np.r_[normal, outliers], np.r_[np.ones(200), np.zeros(100)]


def test_tabular_outliers_are_found_as_well_as_local_outlier_factor():
    # The card's tabular check: blobs against uniform outliers, AUROC at least
    # LocalOutlierFactor(novelty=True) - 0.02 (mean over five draws). With a
    # constant lift of 1 (the earlier default) the cosine of these 2-D rows
    # kept little more than their direction and trailed LOF by 0.05 on draw 0.
    ours, lof = [], []
    for seed in range(5):
        ref, Q, labels = _blobs_and_uniform_outliers(seed)
        ours.append(roc_auc_score(labels, DictASDetector().fit(ref).score_samples(Q)))
        det = LocalOutlierFactor(n_neighbors=5, novelty=True).fit(ref)
        lof.append(roc_auc_score(labels, det.score_samples(Q)))
    assert np.mean(ours) >= np.mean(lof) - 0.02, (ours, lof)
    assert min(ours) >= 0.85


@pytest.mark.parametrize("loader", ["breast_cancer", "wine"])
def test_few_shot_real_tables_beat_local_outlier_factor(loader):
    # Twenty normal rows of one class as references, every other class as the
    # anomalies, raw features in their own units (no scaling step).
    import sklearn.datasets as skd

    X, y = getattr(skd, f"load_{loader}")(return_X_y=True)
    ours, lof = [], []
    for normal_class in np.unique(y)[:2]:
        idx = np.random.RandomState(0).permutation(np.flatnonzero(y == normal_class))
        ref, Q = X[idx[:20]], np.r_[X[idx[20:]], X[y != normal_class]]
        labels = np.r_[np.ones(len(idx) - 20), np.zeros(np.sum(y != normal_class))]
        ours.append(roc_auc_score(labels, DictASDetector().fit(ref).score_samples(Q)))
        det = LocalOutlierFactor(n_neighbors=5, novelty=True).fit(ref)
        lof.append(roc_auc_score(labels, det.score_samples(Q)))
    assert np.mean(ours) > np.mean(lof), (ours, lof)


def test_row_scores_do_not_depend_on_the_units_of_the_data():
    ref, Q, _ = _blobs_and_uniform_outliers(0)
    base = DictASDetector().fit(ref)
    for factor in (1e-3, 7.0, 1e4):
        det = DictASDetector().fit(ref * factor)
        assert det.lift_ == pytest.approx(base.lift_ * factor)
        np.testing.assert_allclose(det.score_samples(Q * factor), base.score_samples(Q),
                                   atol=1e-10)
        assert det.offset_ == pytest.approx(base.offset_, abs=1e-10)


def test_contamination_sets_the_share_of_references_flagged():
    rng = np.random.RandomState(0)
    ref = rng.normal(size=(40, 3))
    for contamination in (0.1, 0.25):
        det = DictASDetector(contamination=contamination).fit(ref)
        assert np.mean(det.predict(ref) == -1) == pytest.approx(contamination, abs=0.03)
    far = DictASDetector().fit(ref).predict(rng.normal(size=(5, 3)) * 20 + 50)
    np.testing.assert_array_equal(far, -1)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="image_shape"):
        DictASDetector(image_shape=(7, 7)).fit(np.zeros((3, 64)))
    with pytest.raises(ValueError, match="at least 2"):
        DictASDetector().fit(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="contamination"):
        DictASDetector(contamination=0.9).fit(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="patch_size"):
        DictASDetector(image_shape=(8, 8), patch_size=(3, 0)).fit(np.zeros((3, 64)))


# -- learned generators (seen classes 5-9, applied training-free to 0-4) --------------


@pytest.fixture(scope="module")
def generators_learned_on_digits_5_to_9():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    seen = y >= 5
    learner = DictASDetector(image_shape=(8, 8), patch_size=(5, 7), generators="learned",
                             n_episodes=60, random_state=0)
    learner.fit(X[y == 5][:4], X_aux=X[seen], y_aux=y[seen])
    return learner, X, y


def test_generators_learned_on_seen_digits_beat_identity_on_unseen_digits(
        generators_learned_on_digits_5_to_9):
    learner, X, y = generators_learned_on_digits_5_to_9
    assert learner.generator_loss_[-1] < learner.generator_loss_[0]
    rng = np.random.RandomState(0)
    identity, learned = [], []
    for digit in range(5):  # unseen: no image of 0-4 was used to learn the generators
        idx = np.flatnonzero(y == digit)
        rng.shuffle(idx)
        ref, normal = X[idx[:4]], X[idx[4:104]]
        anomalous = X[(y != digit) & (y < 5)][::4]
        labels = np.r_[np.ones(len(normal)), np.zeros(len(anomalous))]
        Q = np.r_[normal, anomalous]
        base = DictASDetector(image_shape=(8, 8), patch_size=(5, 7)).fit(ref)
        det = DictASDetector(image_shape=(8, 8), patch_size=(5, 7),
                             generators=learner.generators_).fit(ref)
        assert not hasattr(det, "generator_loss_")  # applied training-free
        identity.append(roc_auc_score(labels, base.score_samples(Q)))
        learned.append(roc_auc_score(labels, det.score_samples(Q)))
    # Paper claim: generators learned on seen classes make unseen-class
    # anomalies harder to retrieve than the training-free lookup does.
    assert np.mean(learned) > np.mean(identity)


def test_identity_generator_weights_reproduce_the_training_free_lookup():
    rng = np.random.RandomState(0)
    ref, Q = rng.rand(6, 64), rng.rand(5, 64)
    base = DictASDetector(image_shape=(8, 8)).fit(ref)
    eye = [{"query": np.eye(D.shape[-1]), "key": np.eye(D.shape[-1]),
            "value": np.zeros((D.shape[-1],) * 2)} for D in base.dictionary_]
    det = DictASDetector(image_shape=(8, 8), generators=eye).fit(ref)
    np.testing.assert_allclose(det.anomaly_map(Q), base.anomaly_map(Q), atol=1e-12)
    assert det.offset_ == pytest.approx(base.offset_, abs=1e-12)


def test_learned_generators_on_rows_are_reproducible_and_independent_of_references():
    rng = np.random.RandomState(0)
    X_aux = np.r_[rng.normal(size=(20, 3)), rng.normal(size=(20, 3)) + 4]
    y_aux = np.repeat([0, 1], 20)
    params = dict(generators="learned", n_episodes=10, max_epochs=1, random_state=0)
    a = DictASDetector(**params).fit(rng.normal(size=(5, 3)) - 4, X_aux=X_aux, y_aux=y_aux)
    b = DictASDetector(**params).fit(rng.normal(size=(8, 3)) - 4, X_aux=X_aux, y_aux=y_aux)
    for ga, gb in zip(a.generators_, b.generators_):
        for name in ("query", "key", "value"):
            np.testing.assert_array_equal(ga[name], gb[name])
    assert np.all(np.isfinite(a.score_samples(X_aux)))
    import skops.io as sio

    blob = sio.dumps(a)
    restored = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    np.testing.assert_array_equal(restored.score_samples(X_aux), a.score_samples(X_aux))


def test_learned_generators_refuse_bad_auxiliary_data():
    X = np.random.RandomState(0).rand(4, 3)
    with pytest.raises(ValueError, match="auxiliary"):
        DictASDetector(generators="learned").fit(X)
    with pytest.raises(ValueError, match="only used with"):
        DictASDetector().fit(X, X_aux=X, y_aux=np.zeros(4))
    with pytest.raises(ValueError, match="at least 2 seen classes"):
        DictASDetector(generators="learned").fit(X, X_aux=np.r_[X, X], y_aux=np.zeros(8))
    with pytest.raises(ValueError, match="y_aux"):
        DictASDetector(generators="learned").fit(X, X_aux=X, y_aux=np.zeros(3))
    with pytest.raises(ValueError, match="features"):
        DictASDetector(generators="learned").fit(X, X_aux=np.zeros((12, 5)),
                                                 y_aux=np.repeat([0, 1], 6))
    with pytest.raises(ValueError, match="do not match"):
        DictASDetector(generators=[{"query": np.eye(2), "key": np.eye(2),
                                    "value": np.zeros((2, 2))}]).fit(X)
    with pytest.raises(ValueError, match="generators"):
        DictASDetector(generators=[{"query": np.eye(4)}]).fit(X)
    nan_weights = [{"query": np.full((4, 4), np.nan), "key": np.eye(4), "value": np.zeros((4, 4))}]
    with pytest.raises(ValueError, match="generators weights must be finite"):
        DictASDetector(generators=nan_weights).fit(X)  # used to fail inside sparsemax


def test_sparsemax_refuses_nan_and_an_empty_axis():
    with pytest.raises(ValueError, match="finite scores"):
        sparsemax([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="non-empty axis"):
        sparsemax(np.zeros((2, 0)))


@pytest.mark.parametrize("params, match", [
    ({"scales": ()}, "scales"),
    ({"scales": (1, 0)}, "scales"),
    ({"scales": (-3,)}, "scales"),
    ({"image_shape": (-8, -8)}, "image_shape"),
    ({"image_shape": ("8", "8")}, "image_shape must hold ints"),
    ({"image_shape": (8.5, 8)}, "image_shape must hold ints"),
])
def test_empty_or_non_positive_scales_and_image_shape_are_refused(params, match):
    # scales=() used to divide by zero; 0 or negative windows were silently accepted.
    X = np.random.RandomState(0).rand(4, 64)
    with pytest.raises(ValueError, match=match):
        DictASDetector(**{"image_shape": (8, 8), **params}).fit(X)


def test_the_torch_lookup_trained_equals_the_numpy_lookup_that_scores():
    # Generators are learned through the torch path and applied through the
    # numpy one: both must compute the same sparsemax lookup score.
    torch = pytest.importorskip("torch")
    from sktrust.open_set._dictas import _make_generator_module, _torch_sparsemax

    rng = np.random.RandomState(0)
    z = rng.normal(size=(5, 7)) * 3
    np.testing.assert_allclose(_torch_sparsemax(torch.tensor(z)).numpy(), sparsemax(z),
                               atol=1e-12)
    dim = 6
    module = _make_generator_module([dim]).double()
    with torch.no_grad():
        for name in ("query", "key", "value"):
            start = np.eye(dim) if name != "value" else 0.0
            getattr(module, name)[0].copy_(torch.tensor(start + 0.5 * rng.normal(size=(dim, dim))))
    gen = {name: getattr(module, name)[0].detach().numpy() for name in ("query", "key", "value")}
    q, D = rng.normal(size=(9, dim)), rng.normal(size=(11, dim))
    ours = DictASDetector(temperature=0.3)._lookup_scores(q, D, gen)
    trained = module.scores(0, torch.tensor(q)[None], torch.tensor(D)[None], 0.3)[0]
    np.testing.assert_allclose(ours, trained.detach().numpy(), atol=1e-12)
    assert np.ptp(ours) > 0.1  # not a degenerate constant
