"""Fixtures of the unlearning tests: digits split once, one MLP fitted once."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier


@pytest.fixture(scope="session")
def digits_split(digits):
    """Train / validation / test split of digits (stratified, seeded)."""
    X, y = digits
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0,
                                              stratify=y)
    X_fit, X_val, y_fit, y_val = train_test_split(X_tr, y_tr, test_size=0.2,
                                                  random_state=0, stratify=y_tr)
    return X_fit, y_fit, X_val, y_val, X_te, y_te


@pytest.fixture(scope="session")
def digits_mlp(digits_split):
    """A 64-hidden-unit MLP trained to ~100% training accuracy on the fit rows."""
    X_fit, y_fit = digits_split[:2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier((64,), max_iter=200, random_state=0).fit(X_fit, y_fit)


@pytest.fixture(scope="session")
def random_forget(digits_split):
    """A seeded random 10% of the fit rows."""
    y_fit = digits_split[1]
    rng = np.random.RandomState(0)
    forget = np.zeros(len(y_fit), dtype=bool)
    forget[rng.choice(len(y_fit), size=len(y_fit) // 10, replace=False)] = True
    return forget
