"""
======================================================
Evaluating on a never-trained-on set, NOVA style
======================================================

A benchmark of rare cases is only worth something while no model has been
trained, tuned or thresholded on it. Here digits 0-5 are the known classes and
digits 6-9 play the rare "pathologies" of an evaluation-only archive. The
archive is marked with :func:`~sktrust.open_set.mark_evaluation_only`, and
inside :class:`~sktrust.open_set.EvaluationOnlyGuard` any attempt to fit on it
(here: choosing the rejection threshold on it) fails, while scoring it works.
:func:`~sktrust.open_set.open_world_report` then gives detection AUROC per rare
category, with its case count and a bootstrap interval.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sktrust.exceptions import BenchmarkLeakageError
from sktrust.open_set import (
    EvaluationOnlyGuard,
    PostHocOpenSetClassifier,
    mark_evaluation_only,
    open_world_report,
)

X, y = load_digits(return_X_y=True)
X = X / 16.0
known = y < 6
X_train, X_known_test, y_train, _ = train_test_split(
    X[known], y[known], test_size=0.3, random_state=0)
X_bench = np.vstack([X_known_test, X[~known]])
is_known = np.r_[np.ones(len(X_known_test), bool), np.zeros((~known).sum(), bool)]
category = np.r_[np.full(len(X_known_test), "known"), y[~known].astype(str)]
X_bench = mark_evaluation_only(X_bench)

# %%
# Inside the guard, training on in-distribution data and scoring the archive
# are allowed; fitting anything on the archive is refused.
with EvaluationOnlyGuard(X_bench):
    model = PostHocOpenSetClassifier(method="energy").fit(X_train, y_train)
    score = model.score_samples(X_bench)
    try:
        PostHocOpenSetClassifier(threshold="auto").fit(X_bench, category)
    except BenchmarkLeakageError as exc:
        print("refused:", str(exc)[:70], "...")

# %%
report = open_world_report(is_known, score, categories=category, n_bootstrap=300,
                           random_state=0)
det = report["detection"]["auroc"]
print(f"AUROC {det['value']:.3f} [{det['ci_low']:.3f}, {det['ci_high']:.3f}]")
names = list(report["categories"])
values = [report["categories"][c]["auroc"] for c in names]
fig, ax = plt.subplots(figsize=(5, 3))
ax.errorbar(range(len(names)), [v["value"] for v in values],
            yerr=[[v["value"] - v["ci_low"] for v in values],
                  [v["ci_high"] - v["value"] for v in values]], fmt="o")
ax.set_xticks(range(len(names)),
              [f"digit {c}\n(n={report['categories'][c]['n']})" for c in names])
ax.set_ylabel("AUROC vs known digits")
ax.set_title("Per-category detection, 95% bootstrap CI")
fig.tight_layout()
plt.show()
