"""
=====================================
A trust report of a medical data set
=====================================

``sktrust report`` audits a classification data set in one command: a data
profile, two cross-validated baseline models, their calibration and the
global SHAP importance of the better one. This example runs the same audit
from Python on the Wisconsin breast cancer data set, reads the resulting
JSON and plots a few of its numbers.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Run the audit
# -------------
# :func:`~sktrust.report.generate_report` with no data audits the embedded
# breast cancer data set (target ``diagnosis``) and writes ``report.html``
# and ``report.json`` to ``out``. The command line equivalent is
# ``sktrust report --out DIR``.
import tempfile
from pathlib import Path

from sktrust.report import generate_report

out = Path(tempfile.mkdtemp())
report = generate_report(out=out, random_state=0)
print(sorted(p.name for p in out.iterdir()))

# %%
# The data profile
# ----------------
profile = report["data_profile"]
print(f"{profile['n_rows']} rows, {profile['n_features']} features")
print(f"missing cells: {profile['n_missing_cells']}")
for label, entry in profile["class_balance"].items():
    print(f"{label:>10}: {entry['count']} rows ({entry['fraction']:.0%})")

# %%
# Baseline models and calibration
# -------------------------------
# Both models are scored on the same stratified folds; the expected
# calibration error (ECE) uses their out-of-fold probabilities.
for name, result in report["models"]["results"].items():
    ece = report["calibration"]["results"][name]["ece"]
    print(
        f"{name:>20}: accuracy {result['accuracy_mean']:.3f} "
        f"± {result['accuracy_std']:.3f}, ROC AUC {result['roc_auc_mean']:.3f}, "
        f"ECE {ece:.3f}"
    )
print("best model:", report["models"]["best_model"])

# %%
# Global SHAP importance
# ----------------------
# The mean absolute SHAP value per feature of the best model, as in the
# report's bar chart.
import matplotlib.pyplot as plt

importance = report["shap_importance"]["importance"]
top = list(importance.items())[:10][::-1]
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.barh([name for name, _ in top], [value for _, value in top])
ax.set_xlabel("mean |SHAP value|")
ax.set_title(f"Top features, {report['shap_importance']['model']}")
plt.show()

# %%
# The HTML report
# ---------------
# ``report.html`` is self-contained: the plots are embedded as base64 PNG
# images, so the single file can be mailed or archived.
html = (out / "report.html").read_text()
print(f"{len(html) // 1024} KiB, {html.count('<img')} embedded images")
