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
from sktrust.metrics._unlearning import (
    avg_gap,
    classification_margins,
    klom,
    mia_efficacy,
    mia_membership_rate,
    prediction_wasserstein,
    regression_mia,
    remaining_accuracy,
    test_accuracy,
    unlearning_accuracy,
    unlearning_report,
    zrf_score,
)
from sktrust.metrics._unlearning_extra import align_classes, anamnesis_index

__all__ = [
    "ReliabilityDisplay",
    "align_classes",
    "anamnesis_index",
    "auroc_scorer",
    "avg_gap",
    "classification_margins",
    "klom",
    "mia_efficacy",
    "mia_membership_rate",
    "prediction_wasserstein",
    "regression_mia",
    "remaining_accuracy",
    "test_accuracy",
    "unlearning_accuracy",
    "unlearning_report",
    "zrf_score",
    "calibration_bins",
    "expected_calibration_error",
    "fpr95_scorer",
    "fpr_at_tpr",
    "open_set_report",
    "oscr_score",
    "oscr_scorer",
]
