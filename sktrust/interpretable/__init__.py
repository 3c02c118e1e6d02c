"""Inherently interpretable models.

Models whose structure is the explanation: a mixture of linear experts with
exact Shapley values and a fairness penalty (:class:`FEAMOEClassifier`), and
prototype networks with a certified robustness radius
(:class:`RobustStableCBCClassifier`, :class:`RobustRBFClassifier`).
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.interpretable._cbc import RobustRBFClassifier, RobustStableCBCClassifier
from sktrust.interpretable._feamoe import FEAMOEClassifier

__all__ = ["FEAMOEClassifier", "RobustRBFClassifier", "RobustStableCBCClassifier"]
