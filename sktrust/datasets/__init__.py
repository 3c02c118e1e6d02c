"""Bundled small data sets and generators for trustworthy-ML experiments.

Loaders return a :class:`~sklearn.utils.Bunch` like ``sklearn.datasets``.
Generators turn any labelled data set into a benchmark for one trust problem:
open-set splits, noisy labels, long-tailed class counts, multiple-instance bags.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.datasets._bags import make_bags
from sktrust.datasets._label_noise import flip_labels
from sktrust.datasets._long_tailed import long_tailed_counts, make_long_tailed
from sktrust.datasets._open_set_split import make_open_set_split
from sktrust.datasets._uci import list_uci, load_uci

__all__ = [
    "flip_labels",
    "list_uci",
    "load_uci",
    "long_tailed_counts",
    "make_bags",
    "make_long_tailed",
    "make_open_set_split",
]
