"""Warnings and errors raised by sktrust, rooted in scikit-learn's types."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = [
    "BenchmarkLeakageError",
    "ConvergenceWarning",
    "NotFittedError",
    "SktrustWarning",
    "UnlearningError",
    "UntrustedInputWarning",
]


class SktrustWarning(UserWarning):
    """Base class for warnings a user of sktrust should act on."""


class UntrustedInputWarning(SktrustWarning):
    """The data given cannot support the guarantee the method promises."""


class UnlearningError(ValueError):
    """An unlearning request failed; the model was restored to its previous state."""


class BenchmarkLeakageError(ValueError):
    """Data marked evaluation-only reached ``fit`` (training, tuning or calibration)."""
