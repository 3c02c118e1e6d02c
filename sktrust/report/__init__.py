"""The trust report: ``sktrust report`` and its Python API.

``sktrust report [CSV] [--target COL] [--out DIR]`` audits a classification
data set and writes a self-contained ``report.html`` and a ``report.json``:
data profile, cross-validated baseline models, calibration and global SHAP
importance. Sections live in one registry; :func:`register_section` adds one.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.report._audit import (
    ReportInputError,
    audit,
    generate_report,
    load_default_dataset,
)
from sktrust.report._context import ReportContext
from sktrust.report._render import figure_to_html
from sktrust.report._sections import (
    SectionResult,
    list_sections,
    register_section,
    unregister_section,
)

__all__ = [
    "ReportContext",
    "ReportInputError",
    "SectionResult",
    "audit",
    "figure_to_html",
    "generate_report",
    "list_sections",
    "load_default_dataset",
    "register_section",
    "unregister_section",
]
