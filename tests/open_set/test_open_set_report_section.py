"""The "Uncertainty" report section and the reject-option curve."""

import numpy as np
import pandas as pd
import pytest

from sktrust.open_set import reject_option_curve


def test_reject_option_curve_matches_a_hand_computation():
    cov, acc = reject_option_curve([0, 1, 1, 0], [0, 0, 1, 0], [0.9, 0.1, 0.5, 0.7])
    # kept in score order: rows 0 (ok), 3 (ok), 2 (ok), 1 (wrong)
    np.testing.assert_allclose(cov, [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(acc, [1, 1, 1, 0.75])
    with pytest.raises(ValueError, match="equal length"):
        reject_option_curve([0, 1], [0], [0.1, 0.2])


def test_uncertainty_section_reports_curve_and_share_flagged(iris):
    from sktrust.report import ReportContext, list_sections
    from sktrust.report._sections import get_sections

    assert "uncertainty" in list_sections()
    X, y = iris
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["colour"] = np.where(X[:, 0] > 5.8, "red", "blue")
    context = ReportContext(X=df, y=y, classes=["s", "ve", "vi"])
    section = dict(get_sections(["uncertainty"]))["uncertainty"]
    result = section(context)
    assert result.title == "Uncertainty"
    data = result.data
    assert 0 <= data["share_flagged_unknown"] <= 0.25  # same distribution: ~5%
    acc = data["accuracy_at_coverage"]
    assert acc["0.5"] >= acc["1.0"]  # rejecting low scores does not hurt
    assert "<img" in result.html


def test_reject_option_curve_refuses_nan_scores():
    with pytest.raises(ValueError, match="finite"):
        reject_option_curve([0, 1], [0, 1], [np.nan, 0.5])
