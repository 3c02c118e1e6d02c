"""Label-noise detection and calibration, and class-imbalance samplers.

sktrust's own methods:

- :class:`RCALCalibrator`: representation calibration for noisy, long-tailed
  labels (robust class Gaussians, tail calibration, synthetic samples);
- :class:`RCALSampler`: the same distribution recovery as an
  imbalanced-learn over-sampler;
- :class:`LSANoiseDetector`: mislabelled-row detection (linear separation
  alternating with small-loss selection) with relabel suggestions;
- :class:`PLSLSAClassifier`: a neural classifier trained with LSA's
  detection every epoch, relabelling the rows it flags (PLS), with mixup,
  a supervised-contrastive term and co-training (LSA+) as options;
- :class:`SimCLREncoder`: a label-free contrastive representation of
  tabular rows (RCAL's step 1), and :func:`contrastive_loss` (NT-Xent /
  SupCon).

Re-exported unchanged from imbalanced-learn, so that they are found where
sktrust users look (they are imbalanced-learn's classes, tested by
imbalanced-learn, and not run through sktrust's common checks):
``SMOTE``, ``SMOTENC``, ``SMOTEN``, ``BorderlineSMOTE``, ``SVMSMOTE``,
``KMeansSMOTE``, ``ADASYN`` and ``RandomUnderSampler``.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from imblearn.over_sampling import (
    ADASYN,
    SMOTE,
    SMOTEN,
    SMOTENC,
    SVMSMOTE,
    BorderlineSMOTE,
    KMeansSMOTE,
)
from imblearn.under_sampling import RandomUnderSampler

from sktrust.noisy_labels._contrastive import SimCLREncoder, contrastive_loss
from sktrust.noisy_labels._lsa import LSANoiseDetector, small_loss_posterior
from sktrust.noisy_labels._plslsa import PLSLSAClassifier
from sktrust.noisy_labels._rcal import RCALCalibrator, RCALSampler

__all__ = [
    "ADASYN",
    "SMOTE",
    "SMOTEN",
    "SMOTENC",
    "SVMSMOTE",
    "BorderlineSMOTE",
    "contrastive_loss",
    "KMeansSMOTE",
    "LSANoiseDetector",
    "PLSLSAClassifier",
    "RCALCalibrator",
    "RCALSampler",
    "RandomUnderSampler",
    "SimCLREncoder",
    "small_loss_posterior",
]
