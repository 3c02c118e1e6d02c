"""Synthetic MIL data shared by the tests and ``benchmarks/bench_mil.py``.

Private: the data sets on which the MIL estimators' claims are measured, in
one place so that the tests and the benchmark measure the same thing.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score


def hard_witness_bags(X, y, n_bags, seed, *, n_easy, n_hard, bag_size=12):
    """Bags of digits, positive iff they hold a 9 (the MHIM card's benchmark).

    An *easy* witness is a clean 9; a *hard* one is a 9 shifted by a pixel,
    blended 55/45 with another digit and noised. Every other bag is positive,
    with ``n_easy`` easy and ``n_hard`` hard witnesses.

    Returns
    -------
    bags : list of ndarray of shape (bag_size, 64)
    labels : ndarray of shape (n_bags,)
    witnesses : list of ndarray of shape (bag_size,)
        1 for the 9s.
    """
    rng = np.random.RandomState(seed)
    nines, others = X[y == 9], X[y != 9]
    bags, labels, witnesses = [], [], []
    for i in range(n_bags):
        bag = others[rng.choice(len(others), bag_size, replace=False)].copy()
        w = np.zeros(bag_size, dtype=int)
        if i % 2:
            slots = rng.choice(bag_size, n_easy + n_hard, replace=False)
            for j, slot in enumerate(slots):
                nine = nines[rng.randint(len(nines))].reshape(8, 8)
                if j >= n_easy:
                    nine = np.roll(nine, tuple(rng.choice([-1, 1], 2)), axis=(0, 1)).ravel()
                    nine = np.clip(0.55 * nine + 0.45 * others[rng.randint(len(others))]
                                   + rng.normal(0, 0.2, 64), 0, 1)
                bag[slot] = nine.ravel()
            w[slots] = 1
        bags.append(bag)
        labels.append(i % 2)
        witnesses.append(w)
    return bags, np.array(labels), witnesses


def hard_witness_split(seed, n_train=80, n_test=300):
    """Training bags with one easy and two hard 9s per positive bag; test bags
    with one hard 9 only; from disjoint halves of the digits."""
    X, y = load_digits(return_X_y=True)
    perm = np.random.RandomState(seed).permutation(len(X))
    tr, te = perm[: len(X) // 2], perm[len(X) // 2:]
    B_tr, y_tr, _ = hard_witness_bags(X[tr] / 16.0, y[tr], n_train, seed, n_easy=1, n_hard=2)
    B_te, y_te, inst = hard_witness_bags(X[te] / 16.0, y[te], n_test, seed + 1000,
                                         n_easy=0, n_hard=1)
    return B_tr, y_tr, B_te, y_te, inst


def conflicting_shifts(d=8, shift=2.5):
    """Types 1 and 2 shift features 0-1 in opposite directions, type 3 features 2-3."""
    shifts = np.zeros((3, d))
    shifts[0, :2], shifts[1, :2], shifts[2, 2:4] = shift, -shift, shift
    return shifts


def make_anomaly_sequences(n, seed, T=64, d=8, shift=2.5, shifts=None, half_normal=False):
    """AR(1) segment features; types 1..3 add a type-specific shift over one
    contiguous event of 10-30 segments (default: +shift on two features of
    their own; ``shifts`` gives the (3, d) shifts). Labels cycle 0, 1, 2, 3,
    or with ``half_normal`` every other sequence is normal and the others
    draw a type at random (half of UCF-Crime's training videos are normal).

    Returns
    -------
    sequences : list of ndarray of shape (T, d)
    labels : ndarray of shape (n,)
    events : list of ndarray of shape (T,)
        1 on the event's segments.
    """
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


def type_segment_auroc(scores, y, events):
    """Segment ROC AUC of each anomaly type: its sequences' segments (event =
    1) against every segment of the normal sequences."""
    normal = np.concatenate([scores[i] for i in np.flatnonzero(y == 0)])
    out = []
    for c in range(1, y.max() + 1):
        idx = np.flatnonzero(y == c)
        truth = np.concatenate([events[i] for i in idx] + [np.zeros_like(normal)])
        out.append(roc_auc_score(truth, np.concatenate([scores[i] for i in idx] + [normal])))
    return np.array(out)
