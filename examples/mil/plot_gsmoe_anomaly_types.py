"""
===========================================================
Segment anomaly scores from sequence labels with GS-MoE
===========================================================

A monitoring log (or a video) is labelled as a whole: "normal", or "holds an
anomaly of type c", but nobody marks *when* it happened.
:class:`~sktrust.mil.GSMoEAnomalyDetector` learns per-segment anomaly scores
from those sequence labels only. Gaussian splatting turns the peaks of the
scores into dense pseudo-targets, and one expert per anomaly type, routed by
the type the encoder recognises, handles anomalies whose signatures differ.

Here types 1 and 2 move the same two features in *opposite* directions and
type 3 moves two others: one shared scorer has to fit all three at once,
while each expert only fits its own. We compare the mixture with a single
shared expert (``n_experts=1``, same encoder, same epochs).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score

from sktrust.mil import GSMoEAnomalyDetector

SHIFTS = np.zeros((3, 8))
SHIFTS[0, :2], SHIFTS[1, :2], SHIFTS[2, 2:4] = 2.5, -2.5, 2.5


def make_sequences(n, seed, T=64):
    """Half normal AR(1) sequences; the others hold one event of a random type."""
    rng = np.random.RandomState(seed)
    X, y, events = [], [], []
    for i in range(n):
        x = np.zeros((T, 8))
        noise = rng.normal(size=(T, 8))
        for t in range(T):
            x[t] = (0.6 * x[t - 1] if t else 0.0) + noise[t]
        label, event = (0 if i % 2 == 0 else 1 + rng.randint(3)), np.zeros(T)
        if label:
            length = rng.randint(10, 31)
            start = rng.randint(0, T - length)
            x[start:start + length] += SHIFTS[label - 1]
            event[start:start + length] = 1
        X.append(x)
        y.append(label)
        events.append(event)
    return X, np.array(y), events


X_train, y_train, _ = make_sequences(160, seed=0)
X_test, y_test, events = make_sequences(120, seed=1)

# %%
# The mixture of per-type experts against one shared expert.
params = dict(hidden=16, pretrain_epochs=30, max_epochs=16, lr=1e-2, random_state=0)
models = {
    "per-type experts": GSMoEAnomalyDetector(**params).fit(X_train, y_train),
    "one shared expert": GSMoEAnomalyDetector(n_experts=1, **params).fit(X_train, y_train),
}


def type_aurocs(scores):
    """Segment ROC AUC of each type: its sequences against the normal ones."""
    normal = np.concatenate([scores[i] for i in np.flatnonzero(y_test == 0)])
    out = []
    for c in (1, 2, 3):
        idx = np.flatnonzero(y_test == c)
        truth = np.concatenate([events[i] for i in idx] + [np.zeros_like(normal)])
        out.append(roc_auc_score(truth, np.concatenate([scores[i] for i in idx] + [normal])))
    return np.array(out)


aurocs = {name: type_aurocs(m.instance_scores(X_test)) for name, m in models.items()}
for name, values in aurocs.items():
    print(f"{name:18s} segment AUROC per type {np.round(values, 3)}")

# %%
# Per-type segment AUROC, and the segment scores of one test sequence of each
# type (shaded: the true event, never seen in training).
fig, axes = plt.subplots(1, 4, figsize=(14, 3))
width = 0.38
for k, (name, values) in enumerate(aurocs.items()):
    axes[0].bar(np.arange(3) + (k - 0.5) * width, values, width, label=name)
axes[0].set_xticks(range(3), ["type 1", "type 2", "type 3"])
axes[0].set_ylim(0.5, 1.0)
axes[0].set_ylabel("segment ROC AUC")
axes[0].legend(fontsize=8)
scores = {name: m.instance_scores(X_test) for name, m in models.items()}
for ax, c in zip(axes[1:], (1, 2, 3)):
    i = int(np.flatnonzero(y_test == c)[0])
    ax.fill_between(range(64), 0, events[i], color="0.85", step="mid")
    for name in models:
        ax.plot(scores[name][i], label=name)
    ax.set_title(f"a type-{c} sequence")
    ax.set_ylim(0, 1)
    ax.set_xlabel("segment")
fig.tight_layout()
