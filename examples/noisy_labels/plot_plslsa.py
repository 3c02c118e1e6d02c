"""
======================================================
Training through label noise: PLS-LSA
======================================================

:class:`~sktrust.noisy_labels.PLSLSAClassifier` is a neural classifier that
looks for its own mislabelled rows while it trains. After a few warm-up
epochs, every epoch ends with LSA's detection (small-loss split, redrawn by
linear separators in the net's feature space on alternate epochs); flagged
rows are *relabelled* with the net's sharpened prediction instead of being
dropped. We flip 20% of the digits labels and compare it with the same net
trained on the noisy labels.
"""

# %%
# Digits with 20% symmetric label noise
# -------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sktrust.datasets import flip_labels
from sktrust.noisy_labels import PLSLSAClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                    stratify=y)
y_noisy, flipped = flip_labels(y_train, 0.2, random_state=0)

# %%
# PLS-LSA against the same net without detection
# ----------------------------------------------
# ``warmup`` past the last epoch switches detection off: plain cross-entropy on
# the noisy labels, same net, same seed.
common = dict(hidden_layer_sizes=(64,), max_epochs=30, random_state=0)
pls = PLSLSAClassifier(**common).fit(X_train, y_noisy)
plain = PLSLSAClassifier(warmup=31, **common).fit(X_train, y_noisy)
print(f"test accuracy, plain net on noisy labels: {plain.score(X_test, y_test):.3f}")
print(f"test accuracy, PLS-LSA:                   {pls.score(X_test, y_test):.3f}")

hit = pls.noisy_mask_ & flipped
print(f"flagged {pls.noisy_mask_.sum()} rows; precision {hit.sum() / pls.noisy_mask_.sum():.2f}, "
      f"recall {hit.sum() / flipped.sum():.2f}")
print(f"flipped rows given back their true label: "
      f"{np.mean(pls.pseudo_labels_[hit] == y_train[hit]):.2f}")

# %%
# The paper's full recipe (LSA+)
# -------------------------------
# Co-training (two nets; a row is noisy only when both flag it), mixup and a
# supervised-contrastive term (``contrastive_weight``) are options. On digits
# they add less than the spread between seeds once PLS-LSA relabels the flips
# (user guide table).
full = PLSLSAClassifier(co_train=True, mixup_alpha=1.0, **common).fit(X_train, y_noisy)
print(f"test accuracy, co-training + mixup:       {full.score(X_test, y_test):.3f}")
both = full.member_detection_history_[-1]
print(f"last detection: net 1 flags {both[0].sum()}, net 2 flags {both[1].sum()}, "
      f"both (used) {full.noisy_mask_.sum()}")

# %%
# Detection over the epochs
# -------------------------
# Recall of the flipped rows at each detection epoch, coloured by mode.
recall = pls.detection_history_[:, flipped].mean(axis=1)
precision = [(d & flipped).sum() / max(d.sum(), 1) for d in pls.detection_history_]
epochs = np.arange(pls.warmup, pls.warmup + len(recall))
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(epochs, recall, label="recall of flipped rows")
ax.plot(epochs, precision, label="precision")
linear = np.array(pls.mode_history_) == "linear"
ax.scatter(epochs[linear], recall[linear], marker="o", label="linear epochs")
ax.set_xlabel("epoch")
ax.set_ylim(0, 1.05)
ax.legend()
plt.show()
