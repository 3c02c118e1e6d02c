"""Shared validation helpers in sktrust.utils."""

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sktrust.utils import check_hidden_layer_sizes


@pytest.mark.parametrize("sizes", [(0,), (8, -1), (4.0,), ("a",), (True,), 8, None])
def test_bad_hidden_layer_sizes_are_named(sizes):
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive ints"):
        check_hidden_layer_sizes(SimpleNamespace(hidden_layer_sizes=sizes))


def test_good_hidden_layer_sizes_come_back_as_a_tuple_of_ints():
    assert check_hidden_layer_sizes(SimpleNamespace(hidden_layer_sizes=[np.int64(3), 2])) == (3, 2)
    assert check_hidden_layer_sizes(SimpleNamespace(hidden_layer_sizes=())) == ()


@pytest.mark.parametrize("estimator_path", [
    "sktrust.optimization.IGNITERegressor", "sktrust.noisy_labels.SimCLREncoder",
    "sktrust.open_set.EvidentialClassifier", "sktrust.open_set.TLCClassifier",
    "sktrust.noisy_labels.PLSLSAClassifier"])
def test_every_estimator_with_hidden_layer_sizes_refuses_a_zero_width(estimator_path):
    import importlib

    module, name = estimator_path.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    X = np.random.RandomState(0).rand(20, 3)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive ints"):
        cls(hidden_layer_sizes=(0,)).fit(X, y)


def test_to_tensor_takes_read_only_arrays_without_a_warning():
    from sktrust.nn._train import to_tensor

    X = pd.DataFrame(np.ones((3, 2))).to_numpy()
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = to_tensor(X)
    assert t.shape == (3, 2) and float(t.sum()) == 6.0
