"""Property-based checks of the shared metrics (hypothesis)."""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from sktrust.metrics import expected_calibration_error, open_set_report, oscr_score

_scores = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=4, max_size=60)


@settings(max_examples=60, deadline=None)
@given(_scores, st.integers(0, 2**31 - 1))
def test_open_set_auroc_equals_sklearn_for_any_scores(scores, seed):
    scores = np.asarray(scores)
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 3, size=len(scores))
    y[0], y[1] = -1, 0  # both known and unknown rows present
    report = open_set_report(y, scores, y)
    assert report["auroc"] == pytest.approx(roc_auc_score(y != -1, scores), abs=1e-12)
    # With perfect closed-set predictions, OSCR is the ROC area of known vs unknown.
    assert oscr_score(y, scores, y) == pytest.approx(report["auroc"], abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.integers(0, 2**31 - 1), st.integers(2, 5))
def test_ece_is_between_zero_and_one_and_zero_when_confidence_matches(n, seed, k):
    rng = np.random.RandomState(seed)
    proba = rng.dirichlet(np.ones(k), size=n)
    y = rng.randint(0, k, size=n)
    assert 0.0 <= expected_calibration_error(y, proba) <= 1.0
    # Always-right one-hot predictions: confidence 1, accuracy 1.
    onehot = np.eye(k)[y]
    assert expected_calibration_error(y, onehot, labels=np.arange(k)) == pytest.approx(0.0)
