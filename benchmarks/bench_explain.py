"""Explainer benchmarks: TopKSurrogateExplainer on wide data, LFA KernelSHAP vs shap.

Run: ``python benchmarks/bench_explain.py``. Prints two tables measured in the
same run on this machine. Peers are optional (captum is not required).
"""

import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from sktrust.explain import LocalFunctionApproximationExplainer, TopKSurrogateExplainer


def bench_topk():
    print("TopKSurrogateExplainer (prefit LogisticRegression, fitted on 500 rows, k=20)")
    print(f"{'n_features':>10} {'fit s':>8} {'informative in top-20':>22} {'fidelity':>9} "
          f"{'full permutation s (est.)':>26}")
    for d in (1000, 5000, 20000):
        X, y = make_classification(n_samples=1500, n_features=d, n_informative=10,
                                   n_redundant=0, n_clusters_per_class=1, class_sep=2.0,
                                   shuffle=False, random_state=0)
        perm = np.random.RandomState(0).permutation(len(y))
        X, y = X[perm], y[perm]
        bb = LogisticRegression(C=0.05, max_iter=300).fit(X[:1000], y[:1000])
        start = time.perf_counter()
        exp = TopKSurrogateExplainer(FrozenEstimator(bb), k=20, random_state=0).fit(
            X[1000:], y[1000:])
        took = time.perf_counter() - start
        # Baseline: permuting every column 5 times on the same 125 held-out rows.
        held = X[1000:][:125]
        t0 = time.perf_counter()
        for j in range(50):
            Xp = held.copy()
            Xp[:, j] = Xp[np.random.RandomState(j).permutation(len(Xp)), j]
            bb.predict_proba(Xp)
        per_col = (time.perf_counter() - t0) / 50
        print(f"{d:>10} {took:>8.2f} {int(np.sum(exp.top_k_features_ < 10)):>22} "
              f"{exp.fidelity_:>9.3f} {per_col * d * 5:>26.1f}")


def bench_kernel_shap():
    import shap

    print("\nKernelSHAP, MLP on 8 features, zero baseline, 20 rows")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 8))
    y = (X[:, 0] - X[:, 1] + X[:, 2] * X[:, 3] > 0).astype(int)
    mlp = MLPClassifier((16,), max_iter=300, random_state=0).fit(X, y)
    start = time.perf_counter()
    ours = LocalFunctionApproximationExplainer(mlp, method="kernel_shap", n_perturb=2048,
                                               random_state=0).fit(X).explain(X[:20]).values
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    ref = shap.KernelExplainer(lambda Z: mlp.predict_proba(Z)[:, 1], np.zeros((1, 8))
                               ).shap_values(X[:20], nsamples=2048, silent=True)
    t_ref = time.perf_counter() - start
    print(f"{'':>8} {'seconds':>8} {'max |diff|':>11}")
    print(f"{'sktrust':>8} {t_ours:>8.2f} {np.abs(ours - ref).max():>11.1e}")
    print(f"{'shap':>8} {t_ref:>8.2f} {0.0:>11.1e}")
    print(f"ratio shap / sktrust time: {t_ref / t_ours:.2f}")


if __name__ == "__main__":
    bench_topk()
    bench_kernel_shap()
