"""
==============================================
Surrogate rules for a model on 5,000 features
==============================================

:class:`~sktrust.explain.TopKSurrogateExplainer` probes a black box for the
features it depends on, keeps the top ``k`` and fits a small decision tree
to the black box's predictions on them: readable rules, a fidelity score and
a counterfactual per row.
"""

# %%
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from sktrust.explain import TopKSurrogateExplainer

X, y = make_classification(n_samples=1500, n_features=5000, n_informative=10,
                           n_redundant=0, n_clusters_per_class=1, class_sep=2.0,
                           shuffle=False, random_state=0)
perm = np.random.RandomState(0).permutation(len(y))
X, y = X[perm], y[perm]  # columns 0..9 are the informative ones
black_box = LogisticRegression(C=0.05, max_iter=300).fit(X[:1000], y[:1000])

start = time.perf_counter()
exp = TopKSurrogateExplainer(FrozenEstimator(black_box), k=10, random_state=0).fit(
    X[1000:], y[1000:])
print(f"explained in {time.perf_counter() - start:.1f} s")
print("top-10 columns:", exp.top_k_features_.tolist())
print(f"fidelity to the black box: {exp.fidelity_:.2f}, "
      f"surrogate accuracy: {exp.accuracy_:.2f}, black box: {exp.black_box_accuracy_:.2f}")

# %%
# Global rules, by support
for rule in exp.rules()[:5]:
    print(f"{rule['support']:.2f}  {rule['confidence']:.2f}  class {rule['prediction']}: "
          f"{rule['rule']}")

# %%
# A local explanation with its counterfactual
local = exp.explain_local(X[:1])[0]
print("rule:", local["rule"], "->", local["prediction"])
print("change", local["changes"], "->", local["counterfactual_prediction"])

# %%
# A rule list instead of a tree
# -----------------------------
# With ``surrogate=FOLDSEClassifier()`` the surrogate is a FOLD-SE program:
# ``rules()`` lists its rules in the order they are tried (exceptions as
# ``unless``), each with the share of rows it decides, and ``explain_local``
# names the rule that decided a row.
from sktrust.rules import FOLDSEClassifier

fold = TopKSurrogateExplainer(FrozenEstimator(black_box), k=10, surrogate=FOLDSEClassifier(),
                              random_state=0).fit(X[1000:], y[1000:])
print(f"FOLD-SE surrogate fidelity: {fold.fidelity_:.2f}")
for rule in fold.rules():
    print(f"{rule['support']:.2f}  class {rule['prediction']}: {rule['rule']}")
print("row 0 decided by:", fold.explain_local(X[:1])[0]["rule"])
