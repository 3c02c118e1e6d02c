"""Metrics shared across families: calibration, open-set and unlearning."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.metrics._calibration import (
    ReliabilityDisplay,
    calibration_bins,
    expected_calibration_error,
)

__all__ = [
    "ReliabilityDisplay",
    "calibration_bins",
    "expected_calibration_error",
]
