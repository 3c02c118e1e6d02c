"""Validation helpers, estimator discovery and testing helpers."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.utils._discovery import all_estimators, trusted_types
from sktrust.utils._frames import numeric_text_columns
from sktrust.utils._validation import (
    check_classification_targets_known,
    check_hidden_layer_sizes,
    check_non_empty,
    check_random_state_seed,
    encode_classification_target,
)

__all__ = [
    "all_estimators",
    "check_classification_targets_known",
    "check_hidden_layer_sizes",
    "check_non_empty",
    "check_random_state_seed",
    "encode_classification_target",
    "numeric_text_columns",
    "trusted_types",
]
