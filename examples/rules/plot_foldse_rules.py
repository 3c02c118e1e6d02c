"""
=========================================================
Rules with exceptions from a raw medical table (FOLD-SE)
=========================================================

:class:`~sktrust.rules.FOLDSEClassifier` learns a short program of
"class if A and B, unless C" rules straight from a raw table: strings,
numbers and missing values, no encoding. We fit it on the chronic kidney
disease data, read the program in two forms, ask why one patient was
classified as they were, and see how the ``tail`` parameter trades a few
rules for accuracy.
"""

# %%
# Raw data, as in the file
# ------------------------
# Categorical columns are strings, numeric ones are numbers and missing
# values are NaN. Nothing is encoded or imputed.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from sktrust.datasets import load_uci
from sktrust.rules import FOLDSEClassifier

data = load_uci("kidney")
X, y = data.data, data.target
print(X.iloc[:3, :8])
print(f"missing cells: {int(X.isna().sum().sum())}")

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, random_state=0, stratify=y
)

# %%
# Fit and read the program
# ------------------------
# ``positive_label`` names the class the rules describe; every other row is
# the other class.
clf = FOLDSEClassifier(positive_label="ckd").fit(X_train, y_train)
print(f"test accuracy {clf.score(X_test, y_test):.3f} with {clf.n_rules_} rules "
      f"and {clf.n_literals_} literals")
print(clf.export_text(target_name="diagnosis"))
print()
print(clf.export_text(style="english", target_name="diagnosis"))

# %%
# The same program as an answer set program
# -----------------------------------------
# ``to_asp`` writes a program meant to be run (for instance by s(CASP)) on
# facts ``feature(patient, value)``: thresholds are exact, and the rows no
# rule covers get the other class explicitly.
print(clf.to_asp(target_name="diagnosis"))

# %%
# Why was this patient classified so?
# -----------------------------------
# ``explain`` returns a ``shap.Explanation`` whose ``decisions`` attribute
# holds, per row, the rule that fired with the truth value of each literal
# (and the patient's value), and every exception with whether it held.
explanation = clf.explain(X_test.iloc[:2])
for decision in explanation.decisions:
    print(decision["text"])
    print()

# %%
# Unseen categories are not an error
# ----------------------------------
# A category never seen in training makes ``==`` literals false and ``!=``
# literals true, as in the logic program.
odd = X_test.iloc[:1].copy()
odd[data.categorical[0]] = "a value never seen"
print(clf.predict(odd), clf.predict_proba(odd).round(3))

# %%
# FOLD-SE against FOLD-R++ and a decision tree
# --------------------------------------------
# ``criterion="info_gain", tail=0`` is FOLD-R++. FOLD-SE's ``tail`` drops
# rules that cover fewer than ``tail * n_samples`` rows: the program shrinks
# while accuracy barely moves. The tree needs one-hot encoding; here we only
# show its accuracy on the numeric columns with missing values filled.
credit = load_uci("credit")
Xc_train, Xc_test, yc_train, yc_test = train_test_split(
    credit.data, credit.target, test_size=0.3, random_state=0, stratify=credit.target
)
tails = [0.0, 0.002, 0.005, 0.01, 0.02, 0.05]
acc, n_rules = [], []
for tail in tails:
    model = FOLDSEClassifier(tail=tail).fit(Xc_train, yc_train)
    acc.append(model.score(Xc_test, yc_test))
    n_rules.append(model.n_rules_)
rpp = FOLDSEClassifier(criterion="info_gain", tail=0).fit(Xc_train, yc_train)
num = credit.numeric
tree = DecisionTreeClassifier(max_depth=5, random_state=0).fit(
    Xc_train[num].fillna(-1), yc_train
)
print(f"FOLD-R++: {rpp.n_rules_} rules, accuracy {rpp.score(Xc_test, yc_test):.3f}; "
      f"depth-5 tree (numeric columns): {tree.score(Xc_test[num].fillna(-1), yc_test):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(tails, n_rules, "o-", color="tab:blue")
ax.set_xlabel("tail")
ax.set_ylabel("rules", color="tab:blue")
ax2 = ax.twinx()
ax2.plot(tails, acc, "s--", color="tab:orange")
ax2.set_ylabel("test accuracy", color="tab:orange")
ax2.set_ylim(0.5, 1.0)
ax.set_title("FOLD-SE on credit: fewer rules as tail grows")
fig.tight_layout()
plt.show()

# %%
# More than two classes
# ---------------------
# With more classes the rules are an ordered list (FOLD-RM): the first that
# fires decides, and rows no rule covers get the training majority class.
wine = load_uci("wine")
multi = FOLDSEClassifier().fit(wine.data, wine.target)
print(multi.export_text(style="english"))
print(f"training accuracy {multi.score(wine.data, wine.target):.3f}; "
      f"classes {np.unique(wine.target).tolist()}")
