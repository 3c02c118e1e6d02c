"""
=====================================================
Random deletions: every unlearner against retraining
=====================================================

Deletion requests rarely come as a whole class: a few patients withdraw
consent, scattered through the training set. The target is then the model
retrained without them, which still classifies most of them correctly, so
"forgetting" means moving every measure (forget, retain and test accuracy,
and membership inference) toward the retrained model's values, not to zero.

We delete a random 10% of the digits training rows and compare the
classifier unlearners of :mod:`sktrust.unlearning` by their average gap to
retraining, against the two baselines every unlearner must beat: doing
nothing, and one epoch of fine-tuning on the retain rows. Each unlearner's
own parameters are chosen on held-out validation rows with
:class:`~sktrust.unlearning.UnlearningSearchCV`; :class:`DMMUnlearner`
(datamodel matching) runs with its defaults. Then the two regression
unlearners forget the rows with the lowest targets of a regression task.
"""

# %%
# Data, the trained model and the retrained reference
# ---------------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sktrust.metrics import unlearning_report
from sktrust.unlearning import (
    BlindspotUnlearner,
    DMMUnlearner,
    GaussianFineTuneUnlearner,
    L1SparseUnlearner,
    SalUnUnlearner,
    SSDUnlearner,
    UnlearningSearchCV,
)

warnings.filterwarnings("ignore", category=ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X = X / 16.0
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0,
                                          stratify=y)
X_fit, X_val, y_fit, y_val = train_test_split(X_tr, y_tr, test_size=0.2,
                                              random_state=0, stratify=y_tr)
mlp = MLPClassifier((64,), max_iter=200, random_state=0).fit(X_fit, y_fit)
rng = np.random.RandomState(0)
forget = np.zeros(len(y_fit), dtype=bool)
forget[rng.choice(len(y_fit), size=len(y_fit) // 10, replace=False)] = True
data = (X_fit[forget], y_fit[forget], X_fit[~forget], y_fit[~forget])
retrained = clone(mlp).fit(X_fit[~forget], y_fit[~forget])


def report(model):
    return unlearning_report(model, *data, X_te, y_te, reference=retrained)


# %%
# The baselines and the unlearners
# --------------------------------
frozen = FrozenEstimator(mlp)
results = {
    "do nothing": report(mlp),
    "fine-tune 1 epoch": report(
        L1SparseUnlearner(frozen, gamma=0.0, epochs=1, random_state=0)
        .fit(X_fit, y_fit).unlearn(*data)),
}
grids = {
    "SSD": (SSDUnlearner(frozen, random_state=0), {"alpha": [2.0, 5.0, 10.0]}),
    "SalUn": (SalUnUnlearner(frozen, random_state=0),
              {"lr": [0.01, 0.03], "saliency_ratio": [0.3, 0.5]}),
    "L1-sparse": (L1SparseUnlearner(frozen, random_state=0),
                  {"gamma": [3e-3, 1e-2], "lr": [0.01, 0.03]}),
}
for name, (unlearner, grid) in grids.items():
    search = UnlearningSearchCV(unlearner, grid, random_state=0)
    search.fit(X_fit, y_fit, X_val=X_val, y_val=y_val).unlearn(*data)
    results[name] = report(search)
results["DMM (defaults)"] = report(
    DMMUnlearner(frozen, random_state=0).fit(X_fit, y_fit).unlearn(*data))

print(f"{'method':<18} {'UA':>6} {'RA':>6} {'TA':>6} {'MIA':>6} {'avg gap':>8}")
KEYS = ["unlearning_accuracy", "remaining_accuracy", "test_accuracy", "mia_efficacy"]
rows = {"retrain (target)": dict(results["do nothing"]["reference"], avg_gap=0.0)}
rows.update(results)
for name, r in rows.items():
    values = " ".join(f"{r[k]:6.2f}" for k in KEYS)
    print(f"{name:<18} {values} {r['avg_gap']:8.2f}")

# %%
# Average gap to retraining (lower is better)
# -------------------------------------------
names = list(results)
gaps = [results[n]["avg_gap"] for n in names]
fig, ax = plt.subplots(figsize=(6, 3))
colors = ["grey" if n in ("do nothing", "fine-tune 1 epoch") else "tab:blue" for n in names]
ax.barh(names, gaps, color=colors)
ax.set_xlabel("average gap to the retrained model (percentage points)")
ax.invert_yaxis()
fig.tight_layout()

# %%
# Regression: forgetting the lowest targets
# -----------------------------------------
# The rows whose target is below its 30% quantile are deleted (the
# regression paper's "ages up to 30"). A retrained model no longer predicts
# those low values well; the unlearners should move the forget-row error
# toward the retrained model's while the other rows keep theirs.
Xr, yr = make_friedman1(n_samples=2000, noise=0.5, random_state=0)
Xr_tr, Xr_te, yr_tr, yr_te = train_test_split(Xr, yr, test_size=0.25, random_state=0)
low = yr_tr < np.quantile(yr_tr, 0.3)
reg = MLPRegressor(hidden_layer_sizes=(64,), max_iter=300, random_state=0).fit(Xr_tr, yr_tr)
reg_retrained = clone(reg).fit(Xr_tr[~low], yr_tr[~low])
reg_data = (Xr_tr[low], yr_tr[low], Xr_tr[~low], yr_tr[~low])


def mae(model, X_, y_):
    return float(np.mean(np.abs(model.predict(X_) - y_)))


print(f"\n{'model':<12} {'forget MAE':>11} {'retain MAE':>11}")
for name, model in [("original", reg), ("retrained", reg_retrained)] + [
    (name, cls(FrozenEstimator(reg), random_state=0).fit(Xr_tr, yr_tr).unlearn(*reg_data))
    for name, cls in [("Blindspot", BlindspotUnlearner),
                      ("Gaussian FT", GaussianFineTuneUnlearner)]
]:
    print(f"{name:<12} {mae(model, *reg_data[:2]):11.3f} {mae(model, *reg_data[2:]):11.3f}")
