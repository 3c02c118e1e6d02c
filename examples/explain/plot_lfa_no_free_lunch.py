"""
=====================================================
Which explanation should I choose? No free lunch
=====================================================

Eight attribution methods are one algorithm: a local linear fit of the model
on a neighbourhood of the explained point (Han, Srinivas and Lakkaraju,
NeurIPS 2022). On a linear model each recovers a closed form; on a neural net
the neighbourhood decides which method is most faithful, and no method wins
everywhere.
"""

# %%
# Closed forms on a logistic regression
# -------------------------------------
# Explaining the log-odds ``w.x + c``, Integrated Gradients gives
# ``w * (x - baseline)``, Gradient x Input ``w * x`` and C-LIME ``w``.
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from sktrust.explain import LocalFunctionApproximationExplainer

rng = np.random.RandomState(0)
X = rng.normal(size=(400, 6))
y = (X[:, 0] - X[:, 1] + X[:, 2] * X[:, 3] > 0).astype(int)

linear = LogisticRegression().fit(X, y)
w, x = linear.coef_[0], X[:1]
for method, expected in [("integrated_gradients", w * x), ("grad_x_input", w * x),
                         ("c_lime", w[None])]:
    exp = LocalFunctionApproximationExplainer(linear, method=method, output="log_odds",
                                              random_state=0).fit(X)
    err = np.abs(exp.explain(x).values - expected).max()
    print(f"{method:>22}: max |attribution - closed form| = {err:.1e}")

# %%
# Local fidelity on two neighbourhoods
# ------------------------------------
# On an MLP, each method's local model is scored on a Gaussian neighbourhood
# (C-LIME's, sigma = 0.1) and on LIME's binary-mask neighbourhood. Lower is
# more faithful.
mlp = MLPClassifier((32,), max_iter=500, random_state=0).fit(X, y)
rows = X[:20]
methods = ["c_lime", "smoothgrad", "lime", "kernel_shap", "occlusion",
           "integrated_gradients"]
table = {}
for method in methods:
    exp = LocalFunctionApproximationExplainer(mlp, method=method, n_perturb=500,
                                              random_state=0).fit(X)
    table[method] = [exp.local_fidelity(rows, nb).mean() for nb in ("c_lime", "lime")]

print(f"{'method':>22} {'gaussian':>10} {'masks':>10}")
for method, (gauss, masks) in table.items():
    print(f"{method:>22} {gauss:10.5f} {masks:10.5f}")

# %%
# The ranking flips: C-LIME (and SmoothGrad) fit best under small Gaussian
# noise, LIME fits best when features are removed. Choose the method whose
# neighbourhood matches the perturbations you care about.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for ax, k, title in zip(axes, (0, 1), ("Gaussian neighbourhood", "mask neighbourhood")):
    vals = [table[m][k] for m in methods]
    ax.barh(methods, vals, color=["C0" if v == min(vals) else "C7" for v in vals])
    ax.set_xscale("log")
    ax.set_title(title)
    ax.set_xlabel("local fidelity loss (lower is better)")
axes[1].set_yticklabels([])
fig.tight_layout()
plt.show()

# %%
# A method for your own neighbourhood
# -----------------------------------
# ``sampler=`` gives C-LIME (squared loss) or SmoothGrad (gradient matching)
# the perturbations you care about, here uniform noise of width 0.5 on the
# first two features only. The method built on that neighbourhood is the most
# faithful there.
def two_feature_box(x, n, rng):
    xi = np.zeros((n, len(x)))
    xi[:, :2] = rng.uniform(-0.5, 0.5, size=(n, 2))
    return x + xi, xi, np.ones(n)


custom = LocalFunctionApproximationExplainer(mlp, method="c_lime", n_perturb=500,
                                             sampler=two_feature_box, random_state=0).fit(X)
for name, exp in [("c_lime on the box", custom),
                  ("c_lime (gaussian)", LocalFunctionApproximationExplainer(
                      mlp, method="c_lime", n_perturb=500, random_state=0).fit(X)),
                  ("lime", LocalFunctionApproximationExplainer(
                      mlp, method="lime", n_perturb=500, random_state=0).fit(X))]:
    print(f"{name:>20}: loss on the box {exp.local_fidelity(rows, two_feature_box).mean():.6f}")
