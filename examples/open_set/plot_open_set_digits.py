"""
=====================================================================
Rejecting unknown digits, confusion vs ignorance, and unseen classes
=====================================================================

A digit classifier is trained on the digits 0-5 only. We ask three questions:

1. Which test images belong to none of the known digits? COSTARR and the
   three standard post-hoc scores (max-softmax, max-logit, energy) rank
   them, on the *same* network.
2. When does a model answer with one class, a short list, or "don't know"?
   :class:`~sktrust.open_set.EvidentialClassifier` separates confusion from
   ignorance.
3. With ordered labels, can a model trained on some grades predict the
   others? :class:`~sktrust.open_set.LokiFrechetPredictor` can.
"""

# %%
# An open-set split of the digits
# -------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from sktrust.datasets import make_open_set_split
from sktrust.metrics import open_set_report
from sktrust.open_set import (
    COSTARROpenSet,
    EvidentialClassifier,
    LokiFrechetPredictor,
    PostHocOpenSetClassifier,
    reject_option_curve,
)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = make_open_set_split(
    X, y, known_classes=range(6), test_size=0.3, random_state=0)
print(f"train: {len(y_train)} rows of digits 0-5; test: {np.mean(y_test == -1):.0%} unknown")

# %%
# One network, four known-ness scores
# -----------------------------------
# The MLP is trained once and frozen; every score reads the same model.
mlp = MLPClassifier((64,), max_iter=300, random_state=0).fit(X_train, y_train)
frozen = FrozenEstimator(mlp)
models = {
    "COSTARR": COSTARROpenSet(frozen, threshold="auto"),
    "max-softmax": PostHocOpenSetClassifier(frozen, method="msp", threshold="auto"),
    "max-logit": PostHocOpenSetClassifier(frozen, method="max_logit", threshold="auto"),
    "energy": PostHocOpenSetClassifier(frozen, method="energy", threshold="auto"),
}
closed = mlp.predict(X_test)
for name, model in models.items():
    model.fit(X_train, y_train)
    rep = open_set_report(y_test, model.score_samples(X_test), closed,
                          y_pred=model.predict(X_test))
    print(f"{name:12s} AUROC {rep['auroc']:.3f}  FPR@95 {rep['fpr_at_95tpr']:.3f}  "
          f"OSCR {rep['oscr']:.3f}  open-set accuracy {rep['open_set_accuracy']:.3f}")

# %%
# With ``threshold="auto"`` each model keeps 95% of the training digits and
# answers ``-1`` for the rest. A reject-option curve shows what rejecting buys
# on the known test digits: accuracy on the answered rows rises as fewer are
# answered.
known = y_test != -1
fig, ax = plt.subplots(figsize=(5, 3.5))
for name in ("COSTARR", "max-softmax"):
    score = models[name].score_samples(X_test[known])
    cov, acc = reject_option_curve(y_test[known], closed[known], score)
    ax.plot(cov, acc, label=name)
ax.set_xlabel("coverage")
ax.set_ylabel("accuracy on answered rows")
ax.legend()
fig.tight_layout()

# %%
# Confusion and ignorance
# -----------------------
# The evidential classifier gives every test image a belief per class, an
# ignorance and a confusion. Unknown digits carry more of both.
evi = EvidentialClassifier(max_epochs=60, random_state=0).fit(X_train, y_train)
op = evi.opinions(X_test)
for label, rows in (("known digits", known), ("unknown digits", ~known)):
    print(f"{label:15s} mean ignorance {op['ignorance'][rows].mean():.3f}  "
          f"mean confusion {op['confusion'][rows].mean():.3f}")
sets = evi.predict_set(X_test)
print(f"rejected (empty set): known {np.mean(~sets[known].any(1)):.1%}, "
      f"unknown {np.mean(~sets[~known].any(1)):.1%}")
print(f"answers with 2+ classes: {np.mean(sets.sum(1) >= 2):.1%}")

# %%
# Its default head is distance-aware (:class:`~sktrust.open_set.RBFEvidenceMLP`):
# evidence is a bounded kernel around class centroids, so inputs far from
# every training image, such as uniform noise, get near-total ignorance. The
# paper's linear head (``head="linear"``) grows its evidence there instead.
noise = np.random.RandomState(0).rand(200, 64)
linear = EvidentialClassifier(head="linear", max_epochs=60, random_state=0).fit(
    X_train, y_train)
for name, model in (("RBF head", evi), ("linear head", linear)):
    print(f"{name:12s} mean ignorance: known digits "
          f"{model.opinions(X_test[known])['ignorance'].mean():.3f}, "
          f"noise images {model.opinions(noise)['ignorance'].mean():.3f}")

# %%
# Predicting grades never seen in training
# ----------------------------------------
# Ten ordered grades; the model sees only grades 0, 3, 6 and 9. Loki uses the
# metric ``|i - j|`` to predict the grade between two likely seen ones.
rng = np.random.RandomState(0)
grade = rng.randint(0, 10, 2000)
Z = (grade + rng.normal(scale=0.6, size=2000))[:, None]
seen = np.isin(grade, [0, 3, 6, 9])
train = seen & (np.arange(2000) < 1000)
test = np.arange(2000) >= 1000
labels = np.arange(10)
lr = LogisticRegression(C=0.1, max_iter=1000).fit(Z[train], grade[train])
loki = LokiFrechetPredictor(FrozenEstimator(lr), distance=np.abs(labels[:, None] - labels),
                            label_space=labels).fit(Z[train], grade[train])
err_argmax = np.mean(loki.label_distance(lr.predict(Z[test]), grade[test]) ** 2)
print(f"mean squared grade error: argmax {err_argmax:.2f}, "
      f"Loki {loki.expected_squared_distance(Z[test], grade[test]):.2f}")
print(f"next grade to collect data for: {loki.next_class()[0]}")
