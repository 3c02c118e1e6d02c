"""sktrust: trustworthy machine learning for scikit-learn.

Every method is a scikit-learn estimator. Families live in subpackages
(``sktrust.unlearning``, ``sktrust.open_set``, ...), loaded lazily on first
access so that ``import sktrust`` stays cheap.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import importlib

__version__ = "0.1.0"

_SUBMODULES = [
    "base",
    "datasets",
    "exceptions",
    "explain",
    "interpretable",
    "metrics",
    "mil",
    "nn",
    "noisy_labels",
    "open_set",
    "optimization",
    "report",
    "rules",
    "unlearning",
    "utils",
]

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"sktrust.{name}")
    raise AttributeError(f"module 'sktrust' has no attribute {name!r}")


def __dir__():
    return __all__
