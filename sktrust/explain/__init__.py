"""Explainers: attributions for any model, returned as ``shap.Explanation``.

Every explainer follows :class:`sktrust.base.BaseExplainer`:
``fit(X_background, y=None)`` then ``explain(X)``.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.explain._lfa import LocalFunctionApproximationExplainer
from sktrust.explain._shap import ShapExplainer
from sktrust.explain._topk import TopKSurrogateExplainer
from sktrust.explain._workflow import ShapWorkflowExplainer

__all__ = [
    "LocalFunctionApproximationExplainer",
    "ShapExplainer",
    "ShapWorkflowExplainer",
    "TopKSurrogateExplainer",
]
