"""SMOTE (re-exported) and RCALSampler composed with sktrust estimators."""

import numpy as np
import pytest
from imblearn.pipeline import make_pipeline
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import cross_val_score

from sktrust import noisy_labels
from sktrust.noisy_labels import SMOTE, RCALSampler


def test_smote_family_is_imblearns_own_class():
    import imblearn

    assert noisy_labels.SMOTE is imblearn.over_sampling.SMOTE
    assert noisy_labels.RandomUnderSampler is imblearn.under_sampling.RandomUnderSampler
    # Re-exports live outside sktrust, so all_estimators does not list them.
    from sktrust.utils import all_estimators

    names = {name for name, _ in all_estimators()}
    assert "RCALSampler" in names and "SMOTE" not in names


@pytest.mark.parametrize("sampler", [SMOTE(random_state=0), RCALSampler(random_state=0)],
                         ids=["SMOTE", "RCALSampler"])
def test_samplers_compose_with_foldse_and_resample_only_at_fit(sampler):
    from sktrust.rules import FOLDSEClassifier

    X, y = load_breast_cancer(return_X_y=True)
    keep = np.r_[np.flatnonzero(y == 1), np.flatnonzero(y == 0)[:40]]  # 357 vs 40
    X, y = X[keep], y[keep]
    pipe = make_pipeline(sampler, FOLDSEClassifier())
    scores = cross_val_score(pipe, X, y, cv=3, scoring="balanced_accuracy")
    assert scores.mean() > 0.8
    pipe.fit(X, y)
    assert pipe.predict(X[:7]).shape == (7,)  # test rows pass untouched
