"""
=====================================================
Bag classification and instance heatmaps with MHIM-MIL
=====================================================

In multiple-instance learning a label belongs to a *bag* of instances: a
slide is malignant if some of its patches show tumour, a patient is at risk
if some visits show a warning sign. We build bags of twelve 8x8 digits; a bag
is positive when it holds a 9 (three of them). :class:`~sktrust.mil.MHIMMILClassifier`
learns from bag labels only, and its instance scores point at the 9s.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from sktrust.datasets import make_bags
from sktrust.mil import MHIMMILClassifier

X, y = load_digits(return_X_y=True)
bags, labels, instance_labels = make_bags(
    X / 16.0, y, bag_size=12, positive_class=9, witness_rate=0.25, n_bags=110,
    random_state=0)
train_bags, test_bags = bags[:70], bags[70:]
y_train, y_test = labels[:70], labels[70:]

# %%
# MHIM-MIL against attention MIL without masking and against mean pooling.
budget = dict(pretrain_epochs=15, max_epochs=10, random_state=0)
mhim = MHIMMILClassifier(**budget).fit(train_bags, y_train)
abmil = MHIMMILClassifier(mask_ratio_high=0.0, consistency_weight=0.0, **budget)
abmil.fit(train_bags, y_train)
mean_pool = LogisticRegression(max_iter=1000).fit([b.mean(axis=0) for b in train_bags],
                                                  y_train)
auc = {
    "MHIM-MIL": roc_auc_score(y_test, mhim.predict_proba(test_bags)[:, 1]),
    "attention MIL": roc_auc_score(y_test, abmil.predict_proba(test_bags)[:, 1]),
    "mean pooling + LR": roc_auc_score(
        y_test, mean_pool.predict_proba([b.mean(axis=0) for b in test_bags])[:, 1]),
}
for name, value in auc.items():
    print(f"{name:18s} bag ROC AUC {value:.3f}")

# %%
# The heatmap: instance scores of one positive test bag (the 9s framed).
scores = mhim.instance_scores(test_bags)
i = int(np.flatnonzero(y_test == 1)[0])
bag, score, witness = test_bags[i], scores[i], instance_labels[70 + i]
fig, axes = plt.subplots(1, len(bag), figsize=(12, 1.8))
for ax, image, s, w in zip(axes, bag, score, witness):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{s:.2f}", color="C3" if w else "k")
    ax.set_xticks([]), ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("C3" if w else "0.8")
        spine.set_linewidth(3 if w else 1)
fig.suptitle("attention per instance (red: the 9s)")
