"""Rule learning: FOLD-SE default rules with exceptions, from raw mixed-type tables."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from sktrust.rules._foldse import FOLDSEClassifier

__all__ = ["FOLDSEClassifier"]
