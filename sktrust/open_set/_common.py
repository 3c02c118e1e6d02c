"""Private helpers shared by the open-set estimators (post-hoc wrapping, label encoding)."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from sktrust.utils._sklearn_compat import validate_data
from sktrust.utils._validation import (
    check_classification_targets_known,
    encode_classification_target,
)


def check_two_classes(estimator, classes):
    """Raise a ValueError naming ``estimator`` when ``classes`` has fewer than two."""
    if len(classes) < 2:
        raise ValueError(
            f"y has only one class; {type(estimator).__name__} needs at least 2 classes."
        )


def check_rejection_params(estimator, low=-np.inf, high=np.inf):
    """Raise a ValueError for a NaN ``unknown_label`` or a bad float ``threshold``.

    A float threshold must be finite and within ``[low, high]``, the range of
    ``estimator.score_samples``: outside it would reject every row or none.
    When rejecting, a NaN label is refused: it never equals itself, so
    rejected rows could not be found.
    """
    label = estimator.unknown_label
    rejecting = estimator.threshold is not None
    if rejecting and isinstance(label, Real) and not isinstance(label, bool) and np.isnan(label):
        raise ValueError("unknown_label=nan cannot mark rejected rows (NaN != NaN): "
                         "open_set_report could not find them; use -1, None or 'unknown'.")
    t = estimator.threshold
    if t is None or isinstance(t, str):
        return
    if not (np.isfinite(t) and low <= t <= high):
        span = "a finite number" if np.isinf(low) and np.isinf(high) else (
            f"in [{low:g}, {high:g}], the range of score_samples")
        raise ValueError(
            f"threshold={t!r} is out of range for {type(estimator).__name__}: it must be "
            f"{span}; or use threshold='auto' with known_rate."
        )


def check_labels_known_to_classifier(y, classes):
    """Raise a ValueError when ``y`` holds labels the wrapped classifier was not trained on.

    A post-hoc open-set method fits on rows of the known classes only; rows of
    other classes (or labels of another type) would skew its statistics.
    """
    try:
        check_classification_targets_known(y, classes)
    except ValueError as exc:
        raise ValueError(f"{exc} Fit on rows of the classes the classifier was trained on "
                         "(known classes only).") from None


def encode_labels(estimator, y):
    """Set ``estimator.classes_`` from ``y`` (2+ classes) and return ``y`` as indices."""
    return encode_classification_target(estimator, y)


class _PostHocMixin:
    """Wrap a classifier given as ``estimator`` (default: logistic regression).

    ``FrozenEstimator(model)`` is copied, not refit; anything else is cloned
    and fitted. Missing-value support follows the wrapped classifier.
    """

    def _base(self):
        return LogisticRegression(max_iter=1000) if self.estimator is None else (
            self.estimator)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = self._base()
        inner = get_tags(base.estimator if isinstance(base, FrozenEstimator) else base)
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.sparse = False
        return tags

    def _fit_estimator(self, X, y):
        """Set ``estimator_`` (a copy of a frozen model, or a fitted clone)."""
        check_classification_targets(y)
        if isinstance(self.estimator, FrozenEstimator):
            self.estimator_ = copy.deepcopy(self.estimator.estimator)
            check_is_fitted(self.estimator_)
        else:
            self.estimator_ = clone(self._base()).fit(X, y)
        return self.estimator_

    def _validate_fitted(self, X):
        """Check fitted, then validate ``X`` against the training features."""
        check_is_fitted(self, "estimator_")
        return validate_data(self, X, reset=False)
