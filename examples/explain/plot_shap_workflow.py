"""
==============================================
The SHAP workflow on breast-cancer data
==============================================

:class:`~sktrust.explain.ShapWorkflowExplainer` merges near-collinear
measurements (radius, perimeter, area) into aspects, selects a compact set by
forward selection, and checks that SHAP, the model's own importance and
permutation importance agree.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from sktrust.explain import ShapWorkflowExplainer

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X = X[[c for c in X.columns if c.startswith(("mean", "worst"))]]  # 20 columns
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                    stratify=y)
wf = ShapWorkflowExplainer(RandomForestClassifier(n_estimators=30, random_state=0),
                           aspect_threshold=0.9, cv=3, n_repeats=5,
                           random_state=0).fit(X_train, y_train)
for name, members in wf.aspects_.items():
    if len(members) > 1:
        print(f"aspect {name}: {[X.columns[j] for j in members]}")
print("selected:", wf.selected_features_)
print(f"test accuracy: {wf.score(X_test, y_test):.3f}")

# %%
# The three importances on the test split; their agreement (rank correlations)
# as measured in ``fit`` on the training split.
print(wf.importance_table(X_test, y_test).round(3).to_string(index=False))
for pair, corr in wf.importance_correlation_.items():
    print(f"{pair}: Spearman {corr['spearman']:.2f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
wf.plot_importance(ax=axes[0])
wf.plot_selection_path(ax=axes[1])
fig.tight_layout()

# %%
# SHAP values per original column: an aspect's value is shared among its
# members, so shap's own plots work directly.
import shap

shap.plots.waterfall(wf.explain(X_test[:1])[0], show=False)
plt.show()
