"""Open-set recognition and uncertainty: say "none of the classes I know".

Every open-set classifier follows :class:`sktrust.base.OpenSetMixin`:
``score_samples(X)`` is a known-ness score (higher = more likely known), and
``predict`` rejects to ``unknown_label`` only when ``threshold`` is set.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.open_set._costarr import COSTARROpenSet
from sktrust.open_set._dictas import DictASDetector, sparsemax
from sktrust.open_set._evidential import (
    EvidentialClassifier,
    conjunctive_opinion,
    dirichlet_opinion,
    set_belief,
)
from sktrust.open_set._guard import (
    EvaluationOnlyGuard,
    is_evaluation_only,
    mark_evaluation_only,
)
from sktrust.open_set._linear_probe import (
    SharedVarianceGaussianNB,
    linear_probe_curve,
    plot_linear_probe_curve,
)
from sktrust.open_set._loki import LokiFrechetPredictor, check_label_metric
from sktrust.open_set._ntk import InfiniteDepthNTKClassifier, ntk_kernel
from sktrust.open_set._open_world import (
    average_precision,
    box_iou,
    keyword_scores,
    open_world_report,
)
from sktrust.open_set._rbf_head import RBFEvidenceMLP
from sktrust.open_set._reject import reject_option_curve
from sktrust.open_set._scores import (
    PostHocOpenSetClassifier,
    classifier_logits,
    energy_score,
    max_logit_score,
    msp_score,
)
from sktrust.open_set._testable import (
    TestableHalfspaceClassifier,
    TestRejectedError,
    UncertifiedModelWarning,
)
from sktrust.open_set._tlc import TLCClassifier, fuse_opinions

__all__ = [
    "COSTARROpenSet",
    "DictASDetector",
    "EvaluationOnlyGuard",
    "EvidentialClassifier",
    "InfiniteDepthNTKClassifier",
    "LokiFrechetPredictor",
    "PostHocOpenSetClassifier",
    "RBFEvidenceMLP",
    "SharedVarianceGaussianNB",
    "TLCClassifier",
    "TestRejectedError",
    "TestableHalfspaceClassifier",
    "UncertifiedModelWarning",
    "average_precision",
    "box_iou",
    "check_label_metric",
    "classifier_logits",
    "conjunctive_opinion",
    "dirichlet_opinion",
    "energy_score",
    "fuse_opinions",
    "is_evaluation_only",
    "keyword_scores",
    "linear_probe_curve",
    "mark_evaluation_only",
    "max_logit_score",
    "msp_score",
    "ntk_kernel",
    "open_world_report",
    "plot_linear_probe_curve",
    "reject_option_curve",
    "set_belief",
    "sparsemax",
]
