"""Tests for the bundled UCI loaders."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sktrust.datasets
from sktrust.datasets import list_uci, load_uci

DATA_DIR = Path(sktrust.datasets.__file__).parent / "data"

EXPECTED_SHAPES = {
    "acute": (120, 6),
    "anneal": (898, 38),
    "autism": (704, 17),
    "breastw": (699, 9),
    "cars": (1728, 6),
    "credit": (690, 15),
    "ecoli": (336, 8),
    "heart": (270, 13),
    "ionosphere": (351, 34),
    "kidney": (400, 24),
    "krkp": (3196, 36),
    "mushroom": (8124, 22),
    "sonar": (208, 60),
    "titanic": (1309, 7),
    "voting": (435, 16),
    "wine": (178, 13),
}


def test_list_uci_names():
    assert list_uci() == sorted(EXPECTED_SHAPES)
    assert "adult" not in list_uci()


@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPES))
def test_load_uci_bunch_is_consistent(name):
    b = load_uci(name)
    assert b.data.shape == EXPECTED_SHAPES[name]
    assert b.target.shape == (b.data.shape[0],)
    assert list(b.data.columns) == b.feature_names
    assert sorted(b.categorical + b.numeric) == sorted(b.feature_names)
    assert list(b.frame.columns)[:-1] == b.feature_names
    assert b.positive in b.target_names
    assert b.target_names == sorted(set(b.target.tolist()))
    assert all(isinstance(v, str) for v in b.target)
    for col in b.numeric:
        assert pd.api.types.is_numeric_dtype(b.data[col])
    for col in b.categorical:
        assert b.data[col].dtype == object
        values = b.data[col].dropna()
        assert all(isinstance(v, str) for v in values)
    assert name in b.DESCR


def test_missing_values_become_nan():
    # voting.csv row 1 has '?' for the 11th vote; titanic has empty Cabin/Age.
    raw = pd.read_csv(DATA_DIR / "voting.csv", dtype=str, keep_default_na=False)
    b = load_uci("voting")
    n_question = int((raw.drop(columns=["id", "label"]) == "?").sum().sum())
    assert n_question > 0
    assert int(b.data.isna().sum().sum()) == n_question
    titanic = load_uci("titanic")
    assert titanic.data["Age"].isna().any()
    assert not (titanic.data == "?").any().any()


def test_raw_strings_are_kept():
    anneal = load_uci("anneal", split="test")
    assert anneal.data["carbon"].iloc[0] == "00"  # not parsed to 0
    acute = load_uci("acute")
    assert acute.data["a2"].iloc[0] == "no"
    assert acute.data["a1"].iloc[0] == pytest.approx(35.5)
    assert load_uci("wine").target_names == ["1", "2", "3"]


def test_split_selects_and_concatenates():
    train = load_uci("titanic", split="train")
    test = load_uci("titanic", split="test")
    both = load_uci("titanic")
    assert (train.data.shape[0], test.data.shape[0]) == (891, 418)
    pd.testing.assert_frame_equal(
        both.data, pd.concat([train.data, test.data], ignore_index=True)
    )


def test_as_frame_false_and_return_X_y():
    X, y = load_uci("cars", as_frame=False, return_X_y=True)
    assert isinstance(X, np.ndarray) and X.dtype == object
    assert isinstance(y, np.ndarray) and y.dtype == object
    frame_X, frame_y = load_uci("cars", return_X_y=True)
    assert isinstance(frame_X, pd.DataFrame)
    np.testing.assert_array_equal(X, frame_X.to_numpy(dtype=object))
    assert load_uci("cars", as_frame=False).frame is None


def test_bad_name_lists_available():
    with pytest.raises(ValueError, match="Available data sets: acute"):
        load_uci("adult")


@pytest.mark.parametrize(
    "name, split, match",
    [("acute", "train", "single file"), ("anneal", "valid", "split must be")],
)
def test_bad_split(name, split, match):
    with pytest.raises(ValueError, match=match):
        load_uci(name, split=split)
