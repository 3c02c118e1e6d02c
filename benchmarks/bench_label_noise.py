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

``--training`` adds the tables behind the user guide's training numbers:
PLSLSAClassifier's options (mixup, SupCon, co-training) against the same net
on noisy digits, and RCALCalibrator's representation (standardised features,
PCA, SimCLREncoder) on long-tailed noisy digits (3 seeds each; minutes).

Run: ``python benchmarks/bench_label_noise.py [--seeds 5] [--training]``
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_score, recall_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktrust.datasets import flip_labels, make_long_tailed
from sktrust.noisy_labels import (
    LSANoiseDetector,
    PLSLSAClassifier,
    RCALCalibrator,
    SimCLREncoder,
    small_loss_posterior,
)
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


PLS_VARIANTS = {
    "same net, noisy labels": dict(warmup=31),
    "same net + mixup 1": dict(warmup=31, mixup_alpha=1.0),
    "PLS-LSA (default)": {},
    "+ mixup 1": dict(mixup_alpha=1.0),
    "+ SupCon 1": dict(contrastive_weight=1.0),
    "+ SupCon 0.1": dict(contrastive_weight=0.1),
    "+ co-training": dict(co_train=True),
    "+ co-training + mixup": dict(co_train=True, mixup_alpha=1.0),
    "+ co-train + mixup + SupCon 0.1": dict(co_train=True, mixup_alpha=1.0,
                                            contrastive_weight=0.1),
    "+ co-train + mixup + SupCon 1": dict(co_train=True, mixup_alpha=1.0,
                                          contrastive_weight=1.0),
}


def training_tables(n_seeds=3):
    """PLS-LSA options on noisy digits; RCAL representations on long-tailed noisy digits."""
    X, y = load_digits(return_X_y=True)
    Xs = StandardScaler().fit_transform(X)
    print("\nPLSLSAClassifier, digits, MLP (64,), 30 epochs: test accuracy")
    print(f"{'variant':34s} {'20% flips':>10s} {'40% flips':>10s} {'sec':>6s}")
    for name, params in PLS_VARIANTS.items():
        acc, secs = {0.2: [], 0.4: []}, 0.0
        for noise in acc:
            for seed in range(n_seeds):
                X_tr, X_te, y_tr, y_te = train_test_split(Xs, y, test_size=0.3,
                                                          random_state=seed, stratify=y)
                y_noisy, _ = flip_labels(y_tr, noise, random_state=seed)
                t = time.perf_counter()
                clf = PLSLSAClassifier(hidden_layer_sizes=(64,), max_epochs=30,
                                       random_state=seed, **params).fit(X_tr, y_noisy)
                secs += time.perf_counter() - t
                acc[noise].append(clf.score(X_te, y_te))
        print(f"{name:34s} {np.mean(acc[0.2]):10.3f} {np.mean(acc[0.4]):10.3f} "
              f"{secs / (2 * n_seeds):6.1f}")

    encoders = {
        "standardised features": lambda seed: None,
        "PCA 32": lambda seed: PCA(32, random_state=0),
        "SimCLREncoder()": lambda seed: SimCLREncoder(random_state=seed),
        "SimCLREncoder(64, (256,))": lambda seed: SimCLREncoder(
            n_components=64, hidden_layer_sizes=(256,), random_state=seed),
        "SimCLREncoder(max_epochs=100)": lambda seed: SimCLREncoder(
            max_epochs=100, random_state=seed),
    }
    print("\nRCALCalibrator(LR), digits, imbalance 50, 20% flips: balanced accuracy")
    bacc = {name: [] for name in encoders}
    for seed in range(n_seeds):
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=seed)
        X_lt, y_lt = make_long_tailed(X_tr, y_tr, imbalance_ratio=50, random_state=seed)
        y_noisy, _ = flip_labels(y_lt, 0.2, random_state=seed)
        scaler = StandardScaler().fit(X_lt)
        for name, make in encoders.items():
            clf = RCALCalibrator(LogisticRegression(max_iter=1000), encoder=make(seed),
                                 random_state=seed).fit(scaler.transform(X_lt), y_noisy)
            bacc[name].append(balanced_accuracy_score(y_te,
                                                      clf.predict(scaler.transform(X_te))))
    for name, values in bacc.items():
        print(f"{name:34s} {np.mean(values):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--training", action="store_true",
                        help="also print the PLS-LSA and RCAL training tables")
    args = parser.parse_args()
    main(args.seeds)
    if args.training:
        training_tables()
