"""
====================================================
Forgetting a digit: SSD tuned against retraining
====================================================

A small network learns the handwritten digits; then every training image of
the digit 3 must be deleted. Retraining without them is exact but costs a
full training run. Selective Synaptic Dampening (SSD) instead shrinks the
weights that matter far more to the forgotten images than to the rest, in
milliseconds. Its ``alpha`` depends on the model, so we choose it on
held-out validation rows with :class:`~sktrust.unlearning.UnlearningSearchCV`,
then check on the test rows.
"""

# %%
# Data and the trained model
# --------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sktrust.metrics import align_classes, unlearning_report
from sktrust.unlearning import RetrainUnlearner, SSDUnlearner, UnlearningSearchCV

warnings.filterwarnings("ignore", category=ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X = X / 16.0
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0,
                                          stratify=y)
X_fit, X_val, y_fit, y_val = train_test_split(X_tr, y_tr, test_size=0.2,
                                              random_state=0, stratify=y_tr)
mlp = MLPClassifier((64,), max_iter=200, random_state=0).fit(X_fit, y_fit)
forget = y_fit == 3
data = (X_fit[forget], y_fit[forget], X_fit[~forget], y_fit[~forget])
print(f"test accuracy {mlp.score(X_te, y_te):.3f}; {forget.sum()} rows to forget")

# %%
# Exact unlearning: retrain without the digit 3
# ---------------------------------------------
retrain = RetrainUnlearner(FrozenEstimator(mlp)).fit(X_fit, y_fit).unlearn(*data)
print(f"retraining took {retrain.unlearn_time_:.2f} s")

# %%
# SSD, with alpha chosen on validation rows
# -----------------------------------------
search = UnlearningSearchCV(
    SSDUnlearner(FrozenEstimator(mlp), random_state=0),
    {"alpha": [10.0, 20.0, 50.0, 100.0, 200.0], "dampening": [0.5, 1.0]},
    random_state=0,
)
search.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
search.unlearn(*data)
ssd = search.estimator_
print(f"best {search.best_params_}, SSD unlearned in {ssd.unlearn_time_:.3f} s, "
      f"{ssd.selected_fraction_:.1%} of the weights dampened")

# %%
# How close is SSD to retraining, on the test rows?
# -------------------------------------------------
reference = align_classes(retrain.estimator_, mlp.classes_)
for name, model in [("original", mlp), ("SSD", ssd), ("retrain", reference)]:
    r = unlearning_report(model, *data, X_te, y_te, reference=reference,
                          forget_classes=[3])
    print(f"{name:9s} UA {r['unlearning_accuracy']:5.1f}  RA {r['remaining_accuracy']:5.1f}"
          f"  TA {r['test_accuracy']:5.1f}  MIA {r['mia_efficacy']:5.1f}"
          f"  gap {r['avg_gap']:5.2f}")

# %%
# Accuracy per digit, before and after
# ------------------------------------
# The digit 3 is gone; the other digits keep their accuracy.
digits = np.arange(10)
acc = {name: [np.mean(model.predict(X_te[y_te == d]) == d) for d in digits]
       for name, model in [("original", mlp), ("SSD", ssd), ("retrain", reference)]}
fig, ax = plt.subplots(figsize=(7, 3.5))
for i, (name, values) in enumerate(acc.items()):
    ax.bar(digits + (i - 1) * 0.27, values, width=0.27, label=name)
ax.set_xticks(digits)
ax.set_xlabel("digit")
ax.set_ylabel("test accuracy")
ax.legend(loc="lower left")
ax.set_title("Forgetting the digit 3")
plt.show()

# %%
# The search itself
# -----------------
# Small ``alpha`` dampens too many weights (the kept digits suffer), large
# ``alpha`` too few (the digit 3 survives); the gap to retraining, measured
# on validation rows, finds the middle.
scores = np.array(search.cv_results_["score"])
for params, score in zip(search.cv_results_["params"], scores):
    print(f"{params}: gap {score:.2f}")
