"""Benchmark of sktrust.interpretable against plain baselines, measured in the same run.

Two tables:

1. Prototype networks on digits (8x8 pixels scaled to [0, 1], stratified 70/30
   splits, three seeds): clean test accuracy, the gap to an MLP
   (``sklearn.neural_network.MLPClassifier``, one hidden layer of 100), the
   certified accuracy (correct and certified radius >= eps) and fit time.
2. FEAMOE on the synthetic drift stream of ``tests/interpretable`` (ten
   windows of 500 rows, the first coefficient flips sign at window 5, the
   label and one input leak the sensitive attribute): mean test accuracy and
   mean demographic-parity gap over the windows, for the unpenalised mixture
   and the penalised ones.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_interpretable.py``
(about 5 minutes on one CPU core).
"""

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sktrust.interpretable import (
    FEAMOEClassifier,
    RobustRBFClassifier,
    RobustStableCBCClassifier,
)

SEEDS = (0, 1, 2)
EPS = (0.25, 0.5, 1.0)


def prototype_table():
    X, y = load_digits(return_X_y=True)
    models = {
        "MLP (100 hidden)": lambda s: MLPClassifier(max_iter=1000, random_state=s),
        "StableCBC robust (default)": lambda s: RobustStableCBCClassifier(random_state=s),
        "StableCBC robust, margin 1.0": lambda s: RobustStableCBCClassifier(
            robust_margin=1.0, random_state=s),
        "StableCBC margin loss": lambda s: RobustStableCBCClassifier(
            loss="margin", random_state=s),
        "RBF robust (default)": lambda s: RobustRBFClassifier(random_state=s),
        "RBF margin loss": lambda s: RobustRBFClassifier(loss="margin", random_state=s),
    }
    rows = {name: [] for name in models}
    for seed in SEEDS:
        Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.3,
                                              random_state=seed, stratify=y)
        for name, make in models.items():
            t0 = time.perf_counter()
            clf = make(seed).fit(Xtr, ytr)
            fit_s = time.perf_counter() - t0
            acc = clf.score(Xte, yte)
            cert = ([np.mean(clf.certify(Xte, yte) >= e) for e in EPS]
                    if hasattr(clf, "certify") else [np.nan] * len(EPS))
            rows[name].append([acc, *cert, fit_s])
    mlp = np.mean([r[0] for r in rows["MLP (100 hidden)"]])
    head = f"{'model':32s} {'accuracy':>9s} {'vs MLP':>7s} " + " ".join(
        f"{'cert@' + str(e):>9s}" for e in EPS) + f" {'fit s':>6s}"
    print("Prototype networks on digits (mean of 3 splits)")
    print(head)
    print("-" * len(head))
    for name, vals in rows.items():
        m = np.mean(vals, axis=0)
        cert = " ".join(f"{v:9.3f}" if np.isfinite(v) else f"{'-':>9s}" for v in m[1:-1])
        print(f"{name:32s} {m[0]:9.3f} {m[0] - mlp:+7.3f} {cert} {m[-1]:6.1f}")
    print()


def _window(n, flip, seed):
    rng = np.random.RandomState(seed)
    s = rng.randint(0, 2, n)
    X = rng.normal(size=(n, 4))
    X[:, 1] += s
    w = np.array([-2.0 if flip else 2.0, 1.0, -1.0, 0.5])
    y = (rng.rand(n) < 1 / (1 + np.exp(-(X @ w + 0.5 * s - 0.5)))).astype(int)
    return np.column_stack([X, s]), y


def feamoe_table():
    configs = {
        "lam=0 (unpenalised)": dict(lam=0.0),
        "lam=1, squared": dict(lam=1.0),
        "lam=5, squared (default)": dict(lam=5.0),
        "lam=1, absolute": dict(lam=1.0, penalty="absolute"),
        "lam=5, absolute": dict(lam=5.0, penalty="absolute"),
    }
    results = {}
    for name, kw in configs.items():
        per_seed = []
        for seed in SEEDS:
            clf = FEAMOEClassifier(sensitive_feature=4, random_state=seed, **kw)
            acc, gap = [], []
            for t in range(10):
                X, y = _window(500, t >= 5, 10 + t + 50 * seed)
                clf.partial_fit(X, y)
                Xt, yt = _window(2000, t >= 5, 100 + t + 50 * seed)
                p = clf.predict_proba(Xt)[:, 1]
                acc.append(clf.score(Xt, yt))
                gap.append(abs(p[Xt[:, 4] == 0].mean() - p[Xt[:, 4] == 1].mean()))
            per_seed.append((np.mean(acc), np.mean(gap), clf.n_experts_))
        results[name] = np.array(per_seed)
    base = results["lam=0 (unpenalised)"]
    head = (f"{'FEAMOE, drift stream':28s} {'accuracy':>9s} {'acc cost':>9s} "
            f"{'DP gap':>7s} {'gap/unpen':>10s} {'experts':>8s}")
    print("FEAMOE on the drift stream (mean over 10 windows, 3 seeds; card: lam=5 "
          "halves the gap at <= 3 points)")
    print(head)
    print("-" * len(head))
    for name, r in results.items():
        print(f"{name:28s} {r[:, 0].mean():9.3f} {100 * (base[:, 0] - r[:, 0]).mean():8.1f}p "
              f"{r[:, 1].mean():7.3f} {np.mean(r[:, 1] / base[:, 1]):10.2f} "
              f"{r[:, 2].mean():8.1f}")


if __name__ == "__main__":
    prototype_table()
    feamoe_table()
