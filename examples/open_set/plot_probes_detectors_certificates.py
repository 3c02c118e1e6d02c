"""
==================================================================
Linear probes, few-shot anomalies, certificates and kernel limits
==================================================================

The other members of :mod:`sktrust.open_set`, each on a small problem:

1. :func:`~sktrust.open_set.linear_probe_curve`: which linear probe to put on
   frozen features, :class:`~sktrust.open_set.SharedVarianceGaussianNB` or
   logistic regression? It depends on the features; the curves show it.
2. :class:`~sktrust.open_set.DictASDetector`: four images of a digit are the
   whole "training"; other digits and a pasted square are flagged.
3. :class:`~sktrust.open_set.TestableHalfspaceClassifier` certifies a
   halfspace on Gaussian features and refuses to on skewed ones.
4. :class:`~sktrust.open_set.InfiniteDepthNTKClassifier`: the limits of
   infinitely wide and deep networks, against 1-nearest neighbour.
5. :class:`~sktrust.open_set.TLCClassifier` on long-tailed digits: its
   uncertainty is higher on the rare classes.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from sktrust.datasets import make_long_tailed
from sktrust.open_set import (
    DictASDetector,
    InfiniteDepthNTKClassifier,
    TestableHalfspaceClassifier,
    TLCClassifier,
    UncertifiedModelWarning,
    linear_probe_curve,
    plot_linear_probe_curve,
)

X, y = load_digits(return_X_y=True)
X = X / 16.0
rng = np.random.RandomState(0)
order = rng.permutation(len(y))
train, test = order[:1200], order[1200:]

# %%
# 1. Generative or discriminative linear probe?
# ---------------------------------------------
# Error against the number of labelled rows, five random draws per size. On
# the paper's simulated features (two classes, 100 dimensions, class-
# conditional Gaussians) naive Bayes is ahead with few rows and logistic
# regression catches up with many. On raw digit pixels, far from Gaussian,
# logistic regression is ahead from a few rows per class on: draw the curves on
# your own features before choosing.
n_sim = 6000
y_sim = rng.randint(0, 2, n_sim)
scale = np.r_[np.full(50, 10.0), np.ones(50)]
X_sim = np.where(y_sim[:, None] == 1, 0.2, -0.2) + rng.normal(size=(n_sim, 100)) * scale
sim = linear_probe_curve(X_sim[:4000], y_sim[:4000], X_sim[4000:], y_sim[4000:],
                         sizes=[30, 100, 300, 1000, 4000], n_repeats=5, random_state=0)
pix = linear_probe_curve(X[train], y[train], X[test], y[test],
                         sizes=[20, 40, 100, 300, 1000], n_repeats=5, random_state=0)
for name, curve in (("simulated features", sim), ("digit pixels", pix)):
    print(name)
    print(curve.groupby(["size", "estimator"])["error"].mean().unstack().round(3))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for ax, (name, curve) in zip(axes, (("simulated features", sim), ("digit pixels", pix))):
    plot_linear_probe_curve(curve, ax=ax)
    ax.set_title(name)
plt.show()

# %%
# 2. Four-shot anomaly detection and localisation
# -----------------------------------------------
# The dictionary is every 3x3 patch of four images of a 0.
zeros = np.flatnonzero(y == 0)
det = DictASDetector(image_shape=(8, 8)).fit(X[zeros[:4]])
queries = np.r_[X[zeros[4:104]], X[y != 0][:100]]
is_other = np.r_[np.zeros(100), np.ones(100)]
print(f"image AUROC, other digits vs zeros: "
      f"{roc_auc_score(is_other, -det.score_samples(queries)):.3f}")
patched = X[zeros[4]].reshape(8, 8).copy()
patched[2:5, 2:5] = 1.0
amap = det.anomaly_map(patched.reshape(1, -1))[0]
fig, axes = plt.subplots(1, 2, figsize=(6, 3))
axes[0].imshow(patched, cmap="gray")
axes[0].set_title("zero with a pasted square")
axes[1].imshow(amap, cmap="magma")
axes[1].set_title("DictAS anomaly map")
for a in axes:
    a.axis("off")
plt.show()

# %%
# 3. A halfspace that certifies itself
# ------------------------------------
# Gaussian features pass the tests; log-normal ones do not, and with
# ``on_reject="fallback"`` a logistic regression takes over.
w = np.array([1.0, -1.0, 0.5, 0.0, 2.0])
Z = rng.normal(size=(6000, 5))
gauss = TestableHalfspaceClassifier(random_state=0).fit(Z, (Z @ w > 0).astype(int))
skewed = np.exp(Z)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UncertifiedModelWarning)
    fallback = TestableHalfspaceClassifier(on_reject="fallback", random_state=0).fit(
        skewed, (skewed @ w > 5).astype(int))
print(f"Gaussian features: certified={gauss.certified_}; "
      f"log-normal features: certified={fallback.certified_}, "
      f"fallback={type(fallback.fallback_).__name__}")
print({name: round(t["statistic"], 2) for name, t in fallback.test_report_["global"].items()})

# %%
# 4. What an infinitely wide and deep network predicts
# ----------------------------------------------------
# Noisy labels, P(y = 1 | x) = sigmoid(4 x_0): the singular-kernel vote
# approaches the Bayes error (about 0.17), 1-nearest neighbour does not.
U = rng.uniform(-1, 1, size=(4000, 2))
yu = (rng.rand(4000) < 1 / (1 + np.exp(-4 * U[:, 0]))).astype(int)
for limit in ("nearest", "singular", "majority"):
    clf = InfiniteDepthNTKClassifier(limit=limit).fit(U[:3000], yu[:3000])
    print(f"{limit:9s} error {1 - clf.score(U[3000:], yu[3000:]):.3f}")

# %%
# 5. Long-tailed digits: uncertainty is higher on rare classes
# ------------------------------------------------------------
X_lt, y_lt = make_long_tailed(X[train], y[train], imbalance_ratio=20, random_state=0)
tlc = TLCClassifier(max_epochs=20, random_state=0).fit(X_lt, y_lt)
counts = np.bincount(y_lt, minlength=10)
u = tlc.predict_uncertainty(X[test])
rare = np.isin(y[test], np.argsort(counts)[:3])
print(f"training counts per class: {counts.tolist()}")
print(f"accuracy {tlc.score(X[test], y[test]):.3f}; mean u on the three rarest classes "
      f"{u[rare].mean():.2e} against {u[~rare].mean():.2e} on the others")
