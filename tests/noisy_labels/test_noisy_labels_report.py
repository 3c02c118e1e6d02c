"""The "Data quality" report section."""

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

from sktrust.datasets import flip_labels
from sktrust.noisy_labels._report import data_quality_section
from sktrust.report import ReportContext


def test_data_quality_section_lists_flipped_rows_and_smote_balance():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    y_noisy, flipped = flip_labels(y.to_numpy(), 0.1, random_state=0)
    ctx = ReportContext(X=X, y=y_noisy, classes=["malignant", "benign"])
    result = data_quality_section(ctx)
    data = result.data
    counts = np.bincount(y_noisy)
    assert data["class_counts"] == {"malignant": counts[0], "benign": counts[1]}
    assert data["class_counts_after_smote"] == {"malignant": counts.max(),
                                                "benign": counts.max()}
    top = data["likely_mislabelled"]
    assert len(top) == 20
    scores = [row["clean_score"] for row in top]
    assert scores == sorted(scores)
    # Most of the twenty least clean rows are truly flipped ones.
    assert np.mean([flipped[row["row"]] for row in top]) >= 0.8
    assert "Data quality" == result.title and "<table>" in result.html


def test_data_quality_section_with_a_single_row_class_skips_smote():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(41, 3)), columns=list("abc"))
    y = np.array([0] * 20 + [1] * 20 + [2])
    ctx = ReportContext(X=X, y=y, classes=["a", "b", "c"])
    data = data_quality_section(ctx).data
    assert data["class_counts_after_smote"] is None
    assert "single row" in data["smote_note"]
