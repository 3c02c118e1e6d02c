"""Noisy-row detection: LSA, RCAL's neighbourhood filter, small loss, cleanlab.

F1 / precision / recall of the rows each detector flags against the rows
actually flipped, for three data sets and four noise types, mean over
seeds: ``flip_labels``' symmetric, pair (asymmetric, k -> k+1) and
instance-dependent noise on 20% of the rows, and "one-way" class-conditional
noise (20% of the largest class's rows go to the next class, no other row
changes; on two classes pair noise is the same as symmetric noise, this one
is not).

Every detector but LSA's later rounds sees the *same* out-of-fold predicted
probabilities (scaler + logistic regression, 5 stratified folds seeded by the
seed): the small-loss baseline (2-component mixture on the loss), cleanlab's
``find_label_issues`` (AGPL; a benchmark peer only, never imported by
sktrust; skipped when not installed) and "LSA 1 round", whose one round uses
exactly these probabilities (checked below) before its linear separators
redraw the split. "LSA" is the default detector (3 rounds, relabelling
between rounds). "RCAL filter" is RCALCalibrator's neighbourhood label check
on standardised features; it uses no model.

Run: ``python benchmarks/bench_label_noise.py [--seeds 5]``
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktrust.datasets import flip_labels
from sktrust.noisy_labels import LSANoiseDetector, small_loss_posterior
from sktrust.noisy_labels._rcal import neighbourhood_label_scores

try:
    from cleanlab.filter import find_label_issues
except ImportError:  # optional peer
    find_label_issues = None

DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine, "digits": load_digits}


def one_way_flips(y, rate, seed):
    """A share ``rate`` of the largest class's rows, relabelled as the next class."""
    classes, counts = np.unique(y, return_counts=True)
    big = int(np.argmax(counts))
    rows = np.random.RandomState(seed).choice(
        np.flatnonzero(y == classes[big]), size=round(rate * counts[big]), replace=False)
    y_noisy = y.copy()
    y_noisy[rows] = classes[(big + 1) % classes.size]
    return y_noisy, y_noisy != y


def detectors(X, y_noisy, seed):
    Z = StandardScaler().fit_transform(X)
    classes, codes = np.unique(y_noisy, return_inverse=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    proba = cross_val_predict(model, X, codes, cv=folds, method="predict_proba")
    loss = -np.log(np.clip(proba[np.arange(len(codes)), codes], 1e-12, 1))
    out = {}
    t = time.perf_counter()
    one = LSANoiseDetector(n_rounds=1, random_state=seed).fit(X, y_noisy)
    out["LSA 1 round"] = (one.noisy_mask_, time.perf_counter() - t)
    # Same probabilities as the peers: the round's losses are the peers' losses.
    assert np.allclose(one._last_loss_p[0], loss)
    t = time.perf_counter()
    out["LSA"] = (LSANoiseDetector(random_state=seed).fit(X, y_noisy).noisy_mask_,
                  time.perf_counter() - t)
    t = time.perf_counter()
    scores = neighbourhood_label_scores(Z, codes, classes.size, n_neighbors=10)
    out["RCAL filter"] = (scores < 1.0 / classes.size, time.perf_counter() - t)
    t = time.perf_counter()
    out["small loss"] = (small_loss_posterior(loss, random_state=seed) > 0.5,
                         time.perf_counter() - t)
    if find_label_issues is not None:
        t = time.perf_counter()
        out["cleanlab"] = (find_label_issues(codes, proba), time.perf_counter() - t)
    return out


def main(n_seeds):
    warnings.filterwarnings("ignore")
    rows = []
    for name, loader in DATASETS.items():
        X, y = loader(return_X_y=True)
        for kind in ("symmetric", "pair", "instance", "one-way"):
            acc = {}
            for seed in range(n_seeds):
                if kind == "one-way":
                    y_noisy, flipped = one_way_flips(y, 0.2, seed)
                else:
                    y_noisy, flipped = flip_labels(y, 0.2, kind=kind, X=X, random_state=seed)
                for det, (mask, secs) in detectors(X, y_noisy, seed).items():
                    acc.setdefault(det, []).append((
                        f1_score(flipped, mask), precision_score(flipped, mask, zero_division=0),
                        recall_score(flipped, mask), secs))
            for det, values in acc.items():
                rows.append((name, kind, det, *np.mean(values, axis=0)))
    header = (f"{'data':14s} {'noise':10s} {'detector':12s} {'F1':>6s} {'prec':>6s} "
              f"{'rec':>6s} {'sec':>7s}")
    print(header)
    print("-" * len(header))
    for name, kind, det, f1, p, r, s in rows:
        print(f"{name:14s} {kind:10s} {det:12s} {f1:6.3f} {p:6.3f} {r:6.3f} {s:7.3f}")
    if find_label_issues is None:
        print("\ncleanlab not installed: its column is skipped (pip install cleanlab).")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    main(parser.parse_args().seeds)
