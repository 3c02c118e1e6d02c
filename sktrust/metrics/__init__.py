"""Metrics shared across families: calibration, open-set and unlearning."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.metrics._calibration import (
    ReliabilityDisplay,
    calibration_bins,
    expected_calibration_error,
)
from sktrust.metrics._open_set import (
    auroc_scorer,
    fpr95_scorer,
    fpr_at_tpr,
    open_set_report,
    oscr_score,
    oscr_scorer,
)

__all__ = [
    "ReliabilityDisplay",
    "auroc_scorer",
    "calibration_bins",
    "expected_calibration_error",
    "fpr95_scorer",
    "fpr_at_tpr",
    "open_set_report",
    "oscr_score",
    "oscr_scorer",
]
