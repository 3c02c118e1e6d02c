"""GSMoEAnomalyDetector: Gaussian rendering and segment AUROC against top-k MIL."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sktrust.mil._gsmoe import (
    GSMoEAnomalyDetector,
    _topk_mask,
    render_gaussian_targets,
    topk_mean,
)
from sktrust.mil._synthetic import conflicting_shifts
from sktrust.mil._synthetic import make_anomaly_sequences as make_videos
from sktrust.mil._synthetic import type_segment_auroc as per_type_auroc


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


def test_topk_mean_and_mask_take_the_top_ceil_ratio_of_the_real_segments():
    import torch

    values = torch.tensor([[0.1, 0.9, 0.3, 0.7, 0.5, 9.0],
                           [0.2, 0.8, 0.4, 9.0, 9.0, 9.0]], dtype=torch.float64)
    valid = torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]], dtype=torch.bool)
    # ratio 0.4: k = ceil(0.4 * 5) = 2 and ceil(0.4 * 3) = 2; padding never counts.
    torch.testing.assert_close(topk_mean(values, valid, 0.4),
                               torch.tensor([0.8, 0.6], dtype=torch.float64))
    mask = _topk_mask(values, valid, 0.4)
    assert mask.tolist() == [[0, 1, 0, 1, 0, 0], [0, 1, 1, 0, 0, 0]]
    # At least one segment, even for a tiny ratio.
    assert _topk_mask(values, valid, 0.01).sum(dim=1).tolist() == [1, 1]
    torch.testing.assert_close(topk_mean(values, valid, 0.01),
                               torch.tensor([0.9, 0.8], dtype=torch.float64))


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


def test_type_experts_beat_one_shared_expert_on_every_type():
    # Card check 4, on anomaly types whose signatures differ: types 1 and 2
    # move the same two features in opposite directions, type 3 two others.
    # One shared expert must fit all three at once; per-type experts (each
    # fine-tuned from the encoder on its type plus the normal sequences)
    # routed by the encoder's type posterior specialise. Same encoder,
    # architecture and epochs; the single expert is n_experts=1. Mean over
    # 3 seeds of each type's segment AUROC.
    shifts = conflicting_shifts()
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
