"""Loaders for the small UCI data sets bundled with sktrust."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import json
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

_DATA_PACKAGE = "sktrust.datasets"
_NA_VALUES = ["?", ""]
_SPLITS = ("train", "test")


@lru_cache(maxsize=1)
def _manifest():
    path = resources.files(_DATA_PACKAGE).joinpath("data").joinpath("manifest.json")
    return json.loads(path.read_text(encoding="utf-8"))


def list_uci():
    """Return the names of the bundled UCI data sets.

    Returns
    -------
    names : list of str
        Sorted names accepted by :func:`load_uci`.

    See Also
    --------
    load_uci : Load one of these data sets.

    Examples
    --------
    >>> from sktrust.datasets import list_uci
    >>> "mushroom" in list_uci()
    True
    """
    return sorted(_manifest())


def _read_csv(file_name, entry):
    path = resources.files(_DATA_PACKAGE).joinpath("data").joinpath(file_name)
    # Categorical columns and the label are read verbatim as strings ("08" stays
    # "08"); numeric columns are parsed afterwards, so a stray token becomes NaN
    # instead of turning the whole column into strings.
    as_text = {c: str for c in (*entry["categorical"], entry["label"])}
    as_text.update({c: str for c in entry["numeric"]})
    with path.open("r", encoding="utf-8") as f:
        frame = pd.read_csv(
            f, dtype=as_text, na_values=_NA_VALUES, keep_default_na=False
        )
    return frame


def _describe(name, entry, n_rows, split):
    n_cat, n_num = len(entry["categorical"]), len(entry["numeric"])
    split_text = "train and test files concatenated" if split is None else split
    return (
        f"UCI data set {name!r} ({split_text}), bundled with sktrust.\n\n"
        f"Rows: {n_rows}. Features: {n_cat + n_num} ({n_cat} categorical, "
        f"{n_num} numeric). Target column: {entry['label']!r}; positive value for "
        f"binary tasks: {entry['positive']!r}.\n\n"
        "Missing values ('?' or empty cells in the file) are NaN. Categorical "
        "columns hold the raw strings of the file, with no encoding; numeric "
        "columns are floats or integers.\n\n"
        "Source: UCI Machine Learning Repository (CC BY 4.0), as prepared by the "
        "FOLD-R++ authors (MIT). See sktrust/datasets/data/LICENSE.md."
    )


def load_uci(name, *, as_frame=True, return_X_y=False, split=None):
    """Load a small UCI data set bundled with sktrust, with its raw mixed types.

    The data keep the form of the original files: categorical columns hold the
    strings of the file (object dtype, never encoded), numeric columns are
    numbers, and missing values (``?`` or empty cells) are ``NaN``. This is the
    input that rule learners such as FOLD-SE take directly; other estimators
    need an encoder first (e.g. a ``ColumnTransformer`` over ``categorical`` and
    ``numeric``). Identifier columns (row ids, passenger names, tickets) are
    left out of ``data``.

    Parameters
    ----------
    name : str
        Name of the data set, one of :func:`list_uci`.
    as_frame : bool, default=True
        If True, ``data`` is a :class:`pandas.DataFrame` and ``target`` a
        :class:`pandas.Series`. If False, both are numpy arrays of object dtype
        and ``frame`` is None.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    split : {"train", "test"} or None, default=None
        For the data sets shipped as a train and a test file (``anneal``,
        ``titanic``), which file to load; None concatenates them, train rows
        first. Data sets with one file accept only None.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame of shape (n_samples, n_features) or ndarray of object
            The features, categorical and numeric, in file order.
        target : Series or ndarray of object of shape (n_samples,)
            The label column as the strings of the file (e.g. ``"3"`` for wine).
        frame : DataFrame or None
            ``data`` with the target as last column, when ``as_frame=True``.
        feature_names : list of str
            Column names of ``data``.
        target_names : list of str
            Sorted distinct target values.
        categorical : list of str
            Names of the categorical features.
        numeric : list of str
            Names of the numeric features.
        positive : str
            The target value treated as positive for binary tasks.
        DESCR : str
            Description of the data set.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    ValueError
        If ``name`` is unknown or ``split`` is invalid for this data set.

    See Also
    --------
    list_uci : Names of the bundled data sets.

    Examples
    --------
    >>> from sktrust.datasets import load_uci
    >>> bunch = load_uci("acute")
    >>> bunch.data.shape
    (120, 6)
    >>> bunch.data["a2"].iloc[0], float(bunch.data["a1"].iloc[0])
    ('no', 35.5)
    >>> bunch.positive, bunch.target_names
    ('yes', ['no', 'yes'])
    """
    manifest = _manifest()
    if not isinstance(name, str) or name not in manifest:
        raise ValueError(
            f"Unknown UCI data set {name!r}. Available data sets: "
            f"{', '.join(list_uci())}."
        )
    entry = manifest[name]
    files = entry["file"]
    if split is not None and split not in _SPLITS:
        raise ValueError(f"split must be None, 'train' or 'test'; got {split!r}.")
    if split is not None:
        chosen = [f for f in files if f.endswith(f"_{split}.csv")]
        if not chosen:
            raise ValueError(
                f"Data set {name!r} has a single file and no {split!r} split; "
                "use split=None."
            )
        files = chosen

    frame = pd.concat(
        [_read_csv(f, entry) for f in files], ignore_index=True, sort=False
    )
    label = entry["label"]
    feature_names = [
        c for c in frame.columns if c in entry["categorical"] or c in entry["numeric"]
    ]
    for col in entry["numeric"]:
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    for col in (*entry["categorical"], label):
        frame[col] = frame[col].astype(object)
        frame[col] = frame[col].where(frame[col].notna(), np.nan)
    frame = frame[[*feature_names, label]]

    data = frame[feature_names]
    target = frame[label]
    if not as_frame:
        data = data.to_numpy(dtype=object)
        target = target.to_numpy(dtype=object)
        frame = None
    if return_X_y:
        return data, target

    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=sorted(pd.unique(np.asarray(target, dtype=object)).tolist()),
        categorical=[c for c in feature_names if c in entry["categorical"]],
        numeric=[c for c in feature_names if c in entry["numeric"]],
        positive=entry["positive"],
        DESCR=_describe(name, entry, len(target), split),
    )
