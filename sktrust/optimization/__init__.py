"""Offline (data-driven) design optimisation.

- :class:`IGNITERegressor`, a surrogate regressor trained with IGNITE's
  gradient-norm sharpness constraint;
- :func:`offline_gradient_ascent`, the gradient-ascent search over designs
  that the surrogate is meant to make trustworthy.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.optimization._ignite import IGNITERegressor, offline_gradient_ascent

__all__ = ["IGNITERegressor", "offline_gradient_ascent"]
