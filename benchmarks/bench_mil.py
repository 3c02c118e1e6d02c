"""Multiple-instance learning: MHIM-MIL and GS-MoE against their baselines.

1. Bag classification (MHIM-MIL). Bags of twelve 8x8 digits, positive when
   they hold a 9. Two data sets:

   - *easy*: three clean 9s per positive bag (``make_bags``), 70 training and
     40 test bags;
   - *hard witnesses* (the card's benchmark): positive training bags hold one
     clean 9 and two hard ones (shifted by a pixel, blended with another
     digit, noised); positive test bags hold one hard 9 only; 80 training and
     300 test bags, from disjoint digits.

   Bag ROC AUC, precision@1 of the instance scores on positive test bags and
   fit seconds for MHIM-MIL v1 and v2, each backbone with and without masking
   (``mask_ratio_high=0, consistency_weight=0`` is plain attention MIL on the
   same epochs) and mean pooling + logistic regression.

2. Weakly-supervised temporal anomalies (GS-MoE). Sequences of 64 AR(1)
   segments with 8 features; half are normal, the others hold one event of
   10-30 segments of one of three types: types 1 and 2 shift the same two
   features in opposite directions, type 3 two other features. Segment ROC
   AUC of each type (its sequences' segments against the normal ones) and
   overall, for the mixture of per-type experts, one shared expert
   (``n_experts=1``), the mixture without Gaussian splatting, and the mixture
   with targets from the shared encoder's peaks (``splat_source="encoder"``).

Means over seeds, all measured in the same run.

Run: ``python benchmarks/bench_mil.py [--seeds 3] [--part mhim|gsmoe|all]``
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from sktrust.datasets import make_bags
from sktrust.mil import GSMoEAnomalyDetector, MHIMMILClassifier
from sktrust.mil._synthetic import (
    conflicting_shifts,
    hard_witness_split,
    make_anomaly_sequences,
    type_segment_auroc,
)

PLAIN = dict(mask_ratio_high=0.0, consistency_weight=0.0)


def digit_splits(seed):
    X, y = load_digits(return_X_y=True)
    bags, labels, inst = make_bags(X / 16.0, y, bag_size=12, positive_class=9,
                                   witness_rate=0.25, n_bags=110, random_state=seed)
    easy = (bags[:70], labels[:70], bags[70:], labels[70:], inst[70:])
    return {"easy": easy, "hard witnesses": hard_witness_split(seed)}


def bench_mhim(n_seeds):
    budget = dict(pretrain_epochs=15, max_epochs=20)
    models = {"MHIM-MIL v1": dict(version=1), "MHIM-MIL v2": dict(version=2),
              "attention MIL": PLAIN}
    for backbone in ("transmil_lite", "dsmil"):
        models[f"MHIM v1 {backbone}"] = dict(backbone=backbone)
        models[f"{backbone} (no masking)"] = dict(backbone=backbone, **PLAIN)
    results = {}
    for seed in range(n_seeds):
        for data, (tr, y_tr, te, y_te, inst) in digit_splits(seed).items():
            pos = np.flatnonzero(y_te == 1)
            for name, kw in models.items():
                t = time.perf_counter()
                clf = MHIMMILClassifier(random_state=seed, **budget, **kw).fit(tr, y_tr)
                secs = time.perf_counter() - t
                scores = clf.instance_scores(te)
                p1 = np.mean([inst[i][np.argmax(scores[i])] for i in pos])
                auc = roc_auc_score(y_te, clf.predict_proba(te)[:, 1])
                results.setdefault((data, name), []).append((auc, p1, secs))
            t = time.perf_counter()
            means = lambda bags: np.array([b.mean(axis=0) for b in bags])  # noqa: E731
            lr = LogisticRegression(max_iter=1000).fit(means(tr), y_tr)
            secs = time.perf_counter() - t
            auc = roc_auc_score(y_te, lr.predict_proba(means(te))[:, 1])
            results.setdefault((data, "mean pooling + LR"), []).append((auc, np.nan, secs))
    print(f"MHIM-MIL, {n_seeds} seeds, pretrain_epochs=15, max_epochs=20")
    print(f"{'data':15s} {'model':28s} {'bag AUC':>8s} {'prec@1':>7s} {'sec':>6s}")
    for (data, name), values in results.items():
        values = np.asarray(values, dtype=float)
        p1 = np.nan if np.isnan(values[:, 1]).all() else np.nanmean(values[:, 1])
        print(f"{data:15s} {name:28s} {values[:, 0].mean():8.3f} {p1:7.3f} "
              f"{values[:, 2].mean():6.2f}")


def bench_gsmoe(n_seeds):
    params = dict(hidden=16, pretrain_epochs=30, max_epochs=16, lr=1e-2, device="cpu")
    models = {"GS-MoE (per-type experts)": {}, "one shared expert": {"n_experts": 1},
              "GS-MoE, no splatting": {"splatting": False},
              "GS-MoE, encoder peaks": {"splat_source": "encoder"}}
    shifts = conflicting_shifts()
    results = {}
    for seed in range(n_seeds):
        bags, y, _ = make_anomaly_sequences(160, seed, shifts=shifts, half_normal=True)
        test, y_test, seg = make_anomaly_sequences(120, seed + 100, shifts=shifts,
                                                   half_normal=True)
        for name, kw in models.items():
            t = time.perf_counter()
            det = GSMoEAnomalyDetector(random_state=seed, **params, **kw).fit(bags, y)
            secs = time.perf_counter() - t
            scores = det.instance_scores(test)
            overall = roc_auc_score(np.concatenate(seg), np.concatenate(scores))
            results.setdefault(name, []).append(
                [overall, *type_segment_auroc(scores, y_test, seg), secs])
    print(f"\nGS-MoE, {n_seeds} seeds, segment ROC AUC")
    print(f"{'model':28s} {'all':>6s} {'type 1':>7s} {'type 2':>7s} {'type 3':>7s} "
          f"{'worst':>6s} {'sec':>6s}")
    for name, values in results.items():
        m = np.mean(values, axis=0)
        print(f"{name:28s} {m[0]:6.3f} {m[1]:7.3f} {m[2]:7.3f} {m[3]:7.3f} "
              f"{min(m[1:4]):6.3f} {m[4]:6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--part", choices=["mhim", "gsmoe", "all"], default="all")
    args = parser.parse_args()
    if args.part in ("mhim", "all"):
        bench_mhim(args.seeds)
    if args.part in ("gsmoe", "all"):
        bench_gsmoe(args.seeds)
