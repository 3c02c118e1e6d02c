"""Machine unlearning: make a trained model forget rows, and prove it.

Every unlearner follows :class:`sktrust.base.BaseUnlearner`: ``fit(X, y)``,
then ``unlearn(X_forget, y_forget=None, X_retain=None, y_retain=None)``.
Torch-based unlearners need torch (a core dependency; on a CPU-only machine
``pip install torch`` with the CPU wheel).
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.unlearning._dmm import DMMUnlearner
from sktrust.unlearning._regression import BlindspotUnlearner, GaussianFineTuneUnlearner
from sktrust.unlearning._retrain import RetrainUnlearner
from sktrust.unlearning._sae import SAEConceptSuppressor
from sktrust.unlearning._salun import SalUnUnlearner
from sktrust.unlearning._search import UnlearningSearchCV
from sktrust.unlearning._sparse import L1SparseUnlearner, PruneFirstUnlearner
from sktrust.unlearning._ssd import SSDUnlearner
from sktrust.unlearning._worst_case import WorstCaseForgetSelector

__all__ = [
    "BlindspotUnlearner",
    "DMMUnlearner",
    "GaussianFineTuneUnlearner",
    "L1SparseUnlearner",
    "PruneFirstUnlearner",
    "RetrainUnlearner",
    "SAEConceptSuppressor",
    "SSDUnlearner",
    "SalUnUnlearner",
    "UnlearningSearchCV",
    "WorstCaseForgetSelector",
]
