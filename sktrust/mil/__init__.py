"""Multiple-instance learning: one label per bag of instances.

A bag is a 2-D array ``(n_instances, n_features)``; ``X`` is a list of bags
(any sizes), ``y`` one label per bag, so ``len(X) == n_bags`` and
cross-validation, grid search and pipelines work unchanged.

- :class:`MHIMMILClassifier`: attention MIL with masked hard instance mining
  and a momentum teacher; per-instance scores for heatmaps;
- :class:`GSMoEAnomalyDetector`: weakly-supervised per-segment anomaly scores
  for ordered sequences (Gaussian-splatting targets, one expert per type);
- :func:`bags_from_long`, :func:`bags_to_long`: convert from and to a long
  ``(bag id, features)`` table.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.mil._bags import bags_from_long, bags_to_long
from sktrust.mil._gsmoe import GSMoEAnomalyDetector
from sktrust.mil._mhim import MHIMMILClassifier

__all__ = ["GSMoEAnomalyDetector", "MHIMMILClassifier", "bags_from_long", "bags_to_long"]
