"""GSMoEAnomalyDetector: Gaussian rendering and segment AUROC against top-k MIL."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sktrust.mil._gsmoe import GSMoEAnomalyDetector, render_gaussian_targets


def make_videos(n, seed, T=64, d=8, shift=2.5, shifts=None, half_normal=False):
    """AR(1) segment features; types 1..3 add a type-specific shift over one
    contiguous event of 10-30 segments (default: +shift on two features of
    their own; ``shifts`` gives the (3, d) shifts). Labels cycle 0, 1, 2, 3,
    or with ``half_normal`` every other sequence is normal and the others
    draw a type at random (half of UCF-Crime's training videos are normal)."""
    if shifts is None:
        shifts = np.zeros((3, d))
        shifts[[0, 0, 1, 1, 2, 2], [0, 1, 2, 3, 4, 5]] = shift
    rng = np.random.RandomState(seed)
    bags, y, seg = [], [], []
    for i in range(n):
        noise = rng.normal(size=(T, d))
        x = np.zeros((T, d))
        for t in range(T):
            x[t] = (0.6 * x[t - 1] if t else 0.0) + noise[t]
        label, s = i % 4, np.zeros(T)
        if half_normal:
            label = 0 if i % 2 == 0 else 1 + rng.choice(3, p=np.full(3, 1 / 3))
        if label:
            length = rng.randint(min(10, T // 2), min(31, T - 1))
            start = rng.randint(0, T - length)
            x[start:start + length] += shifts[label - 1]
            s[start:start + length] = 1
        bags.append(x)
        y.append(label)
        seg.append(s)
    return bags, np.array(y), seg


def test_render_peaks_keep_their_height_and_bound_the_rest():
    scores = np.array([0.0, 0.1, 0.8, 0.2, 0.0, 0.0, 0.5, 0.1, 0.0])
    target = render_gaussian_targets(scores, prominence=0.1)
    assert target[2] == pytest.approx(0.8)
    assert target[6] == pytest.approx(0.5)
    assert np.all(target <= 0.8 + 1e-12)
    # Kernels are centred on the peaks: they decay away from them.
    assert target[1] < target[2] and target[3] < target[2]
    # A peak at the border counts; no peak above the prominence gives zeros.
    assert render_gaussian_targets(np.array([0.9, 0.3, 0.1]))[0] == pytest.approx(0.9)
    assert not render_gaussian_targets(np.full(5, 0.05)).any()


def test_splatting_beats_topk_mil_only_on_segment_auroc():
    # Card check 2: averaged over seeds, the Gaussian-splatting targets make
    # the segment scores rank the event segments better than the same experts
    # trained with the top-k MIL loss alone (a kernel off the peaks fails this).
    params = dict(hidden=32, pretrain_epochs=40, max_epochs=20, lr=1e-2, device="cpu")
    gains, aucs = [], []
    for seed in range(3):
        bags, y, _ = make_videos(160, seed)
        test, _, seg = make_videos(80, seed + 100)
        truth = np.concatenate(seg)

        full, mil_only = (
            roc_auc_score(truth, np.concatenate(
                GSMoEAnomalyDetector(random_state=seed, **params, **kw)
                .fit(bags, y).instance_scores(test)))
            for kw in ({}, {"splatting": False})
        )
        gains.append(full - mil_only)
        aucs.append(full)
    assert np.mean(aucs) > 0.8
    assert np.mean(gains) > 0.02


def test_outputs_and_bad_input():
    bags, y, _ = make_videos(24, 0, T=16)
    det = GSMoEAnomalyDetector(hidden=8, pretrain_epochs=2, max_epochs=2,
                               random_state=0).fit(bags, y)
    proba = det.predict_proba(bags)
    assert proba.shape == (24, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(det.predict(bags)) <= {0, 1, 2, 3}
    assert [s.shape for s in det.instance_scores(bags[:2])] == [(16,), (16,)]
    assert det.n_experts_ == 3
    binary = GSMoEAnomalyDetector(n_experts=2, hidden=8, pretrain_epochs=2, max_epochs=2,
                                  random_state=0).fit(bags, (y > 0).astype(int))
    assert binary.n_experts_ == 2
    assert binary.decision_function(bags).shape == (24,)
    with pytest.raises(ValueError, match="only one class"):
        GSMoEAnomalyDetector().fit(bags, np.zeros(24))
    with pytest.raises(ValueError, match="features"):
        det.predict([b[:, :3] for b in bags])


def per_type_auroc(scores, y, segments):
    """Segment AUROC of each anomaly type: its sequences' segments (event = 1)
    against every segment of the normal sequences."""
    normal = np.concatenate([scores[i] for i in np.flatnonzero(y == 0)])
    out = []
    for c in range(1, y.max() + 1):
        idx = np.flatnonzero(y == c)
        truth = np.concatenate([segments[i] for i in idx] + [np.zeros_like(normal)])
        out.append(roc_auc_score(truth, np.concatenate([scores[i] for i in idx] + [normal])))
    return np.array(out)


def test_type_experts_beat_one_shared_expert_on_every_type():
    # Card check 4, on anomaly types whose signatures differ: types 1 and 2
    # move the same two features in opposite directions, type 3 two others.
    # One shared expert must fit all three at once; per-type experts (each
    # fine-tuned from the encoder on its type plus the normal sequences)
    # routed by the encoder's type posterior specialise. Same encoder,
    # architecture and epochs; the single expert is n_experts=1. Mean over
    # 3 seeds of each type's segment AUROC.
    shifts = np.zeros((3, 8))
    shifts[0, :2], shifts[1, :2], shifts[2, 2:4] = 2.5, -2.5, 2.5
    params = dict(hidden=16, pretrain_epochs=30, max_epochs=16, lr=1e-2, device="cpu")
    mixture, single = [], []
    for seed in range(3):
        bags, y, _ = make_videos(160, seed, shifts=shifts, half_normal=True)
        test, y_test, seg = make_videos(120, seed + 100, shifts=shifts, half_normal=True)
        for n_experts, out in (("per_class", mixture), (1, single)):
            det = GSMoEAnomalyDetector(n_experts=n_experts, random_state=seed, **params)
            out.append(per_type_auroc(det.fit(bags, y).instance_scores(test), y_test, seg))
    mixture, single = np.mean(mixture, axis=0), np.mean(single, axis=0)
    assert (mixture >= single).all(), (mixture, single)
    assert mixture.mean() >= single.mean() + 0.03, (mixture, single)
    assert mixture.min() >= 0.85, (mixture, single)
