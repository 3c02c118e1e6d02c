"""Tests for the benchmark generators in sktrust.datasets."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, load_iris

from sktrust.datasets import (
    flip_labels,
    long_tailed_counts,
    make_bags,
    make_long_tailed,
    make_open_set_split,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


# --------------------------------------------------------------------------
# make_open_set_split


def test_open_set_split_contents(digits):
    X, y = digits
    X_copy, y_copy = X.copy(), y.copy()
    known = [0, 1, 2, 3]
    X_tr, X_te, y_tr, y_te = make_open_set_split(
        X, y, known_classes=known, test_size=0.25, random_state=0
    )
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    assert set(np.unique(y_tr)) == set(known)
    assert set(np.unique(y_te)) == set(known) | {-1}
    # Every row ends in at most one side; rows of unknown classes never in train.
    rows_tr = {r.tobytes() for r in X_tr}
    rows_te = {r.tobytes() for r in X_te}
    assert not rows_tr & rows_te
    n_unknown = np.isin(y, known, invert=True).sum()
    # test_size of every class goes to test, stratified.
    assert (y_te == -1).sum() == pytest.approx(0.25 * n_unknown, abs=6)
    assert len(y_tr) + (y_te != -1).sum() == np.isin(y, known).sum()


def test_open_set_split_unknown_rows_relabelled(digits):
    X, y = digits
    X_tr, X_te, y_tr, y_te = make_open_set_split(
        X, y, known_classes=[5, 7], random_state=1
    )
    # Recover the true labels of the test rows by matching rows to X.
    lookup = {r.tobytes(): lab for r, lab in zip(X, y)}
    true_te = np.array([lookup[r.tobytes()] for r in X_te])
    np.testing.assert_array_equal(y_te == -1, ~np.isin(true_te, [5, 7]))
    np.testing.assert_array_equal(y_te[y_te != -1], true_te[y_te != -1])


def test_open_set_split_random_known_classes_and_reproducible(digits):
    X, y = digits
    a = make_open_set_split(X, y, n_known=6, random_state=3)
    b = make_open_set_split(X, y, n_known=6, random_state=3)
    assert len(np.unique(a[2])) == 6
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    default = make_open_set_split(X, y, random_state=0)
    assert len(np.unique(default[2])) == 5


def test_open_set_split_strings_and_dataframe():
    X, y = load_iris(return_X_y=True, as_frame=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y.to_numpy()]
    X_tr, X_te, y_tr, y_te = make_open_set_split(
        X, names, known_classes=["setosa", "virginica"], unknown_label="unknown"
    )
    assert isinstance(X_tr, pd.DataFrame)
    assert set(y_te) == {"setosa", "virginica", "unknown"}
    assert "versicolor" not in set(y_tr)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"known_classes": [0, 1, 2]}, "leave at least one class"),
        ({"known_classes": [0, 9]}, "not found: \\[9\\]"),
        ({"n_known": 3}, "smaller than the number of classes"),
        ({"known_classes": [0], "n_known": 1}, "not both"),
        ({"unknown_label": 2}, "is one of the classes"),
        ({"unknown_label": "unknown"}, "numeric labels"),
    ],
)
def test_open_set_split_bad_input(kwargs, match):
    X = np.zeros((30, 2))
    y = np.repeat([0, 1, 2], 10)
    with pytest.raises(ValueError, match=match):
        make_open_set_split(X, y, **kwargs)


def test_open_set_split_length_mismatch():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        make_open_set_split(np.zeros((5, 2)), [0, 1, 0, 1])


# --------------------------------------------------------------------------
# flip_labels


@pytest.mark.parametrize("kind", ["symmetric", "pair", "instance"])
@pytest.mark.parametrize("noise_rate", [0.1, 0.3])
def test_flip_rate_close_to_noise_rate(digits, kind, noise_rate):
    X, y = digits
    y_noisy, flipped = flip_labels(y, noise_rate, kind=kind, X=X, random_state=0)
    np.testing.assert_array_equal(flipped, y_noisy != y)
    assert set(np.unique(y_noisy)) <= set(np.unique(y))
    if kind == "instance":
        # Bernoulli per row: within 4 standard errors.
        se = np.sqrt(noise_rate * (1 - noise_rate) / len(y))
        assert abs(flipped.mean() - noise_rate) < 4 * se
    else:
        assert flipped.sum() == round(noise_rate * len(y))


def test_pair_flips_to_next_class_in_sorted_order():
    y = np.array(["b", "c", "a", "c", "a", "b"] * 20)
    y_noisy, flipped = flip_labels(y, 0.5, kind="pair", random_state=0)
    nxt = {"a": "b", "b": "c", "c": "a"}
    assert all(y_noisy[i] == nxt[y[i]] for i in np.flatnonzero(flipped))
    assert y_noisy.dtype == y.dtype


def test_symmetric_reaches_every_other_class():
    y = np.repeat(np.arange(4), 500)
    y_noisy, flipped = flip_labels(y, 0.6, random_state=0)
    pairs = {(a, b) for a, b in zip(y[flipped], y_noisy[flipped])}
    assert pairs == {(a, b) for a in range(4) for b in range(4) if a != b}


def test_instance_noise_depends_on_features():
    # The flip target comes from a projection of x, so within a true class the
    # wrong labels concentrate on fewer classes than under symmetric noise.
    X, y = load_digits(return_X_y=True)
    y_inst, f_inst = flip_labels(y, 0.4, kind="instance", X=X, random_state=0)
    y_sym, f_sym = flip_labels(y, 0.4, kind="symmetric", random_state=0)

    def concentration(y_new, mask):
        tops = []
        for k in range(10):
            targets = y_new[mask & (y == k)]
            tops.append(np.bincount(targets, minlength=10).max() / len(targets))
        return np.mean(tops)

    assert concentration(y_inst, f_inst) > concentration(y_sym, f_sym) + 0.1


def test_flip_labels_reproducible_and_no_mutation(digits):
    X, y = digits
    y_copy = y.copy()
    a = flip_labels(y, 0.2, kind="instance", X=X, random_state=5)
    b = flip_labels(y, 0.2, kind="instance", X=X, random_state=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(y, y_copy)


def test_flip_labels_extremes():
    y = np.repeat([0, 1, 2], 10)
    assert not flip_labels(y, 0.0, random_state=0)[1].any()
    assert flip_labels(y, 1.0, random_state=0)[1].all()


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([1, 1, 1],), {}, "at least 2 classes"),
        (([0, 1],), {"kind": "instance"}, "pass X"),
        (([0, 1],), {"kind": "bogus"}, "kind"),
        (([0, 1], 1.5), {}, "noise_rate"),
        (([],), {}, "empty"),
    ],
)
def test_flip_labels_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        flip_labels(*args, **kwargs)


# --------------------------------------------------------------------------
# make_long_tailed


def test_long_tailed_counts_cifar_profile():
    # CIFAR-10-LT with 5000 per class and ratio 100 (Cao et al. 2019).
    expected = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert long_tailed_counts([5000] * 10, 100).tolist() == expected


def test_long_tailed_counts_unbalanced_input():
    # Ranked 200, 100, 50 -> profile 1, 10**-0.5, 0.1; head 200 is feasible.
    assert long_tailed_counts([50, 200, 100], 10).tolist() == [20, 200, 63]
    # A small tail class caps the head count: profile 1, 1/2, 1/4 and the
    # tail has 20 rows, so n_max = 20 * 4 = 80.
    assert long_tailed_counts([100, 100, 20], 4).tolist() == [80, 40, 20]


def test_make_long_tailed(digits):
    X, y = digits
    X_lt, y_lt, idx = make_long_tailed(
        X, y, imbalance_ratio=10, random_state=0, return_indices=True
    )
    counts = np.bincount(y_lt)
    assert counts.max() / counts.min() == pytest.approx(10, rel=0.1)
    expected = long_tailed_counts(np.bincount(y), 10)
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(X_lt, X[idx])
    np.testing.assert_array_equal(y_lt, y[idx])
    assert np.all(np.diff(idx) > 0)


def test_make_long_tailed_ratio_one_balances():
    y = np.array([0] * 30 + [1] * 10 + [2] * 20)
    X = np.arange(60).reshape(-1, 1)
    _, y_lt = make_long_tailed(X, y, imbalance_ratio=1, random_state=0)
    assert np.bincount(y_lt).tolist() == [10, 10, 10]


def test_make_long_tailed_bad_input():
    with pytest.raises(ValueError, match="imbalance_ratio"):
        make_long_tailed(np.zeros((4, 1)), [0, 1, 0, 1], imbalance_ratio=0.5)
    with pytest.raises(ValueError, match="at least 2"):
        make_long_tailed(np.zeros((4, 1)), [0, 0, 0, 0])


# --------------------------------------------------------------------------
# make_bags


def test_make_bags_semantics(digits):
    X, y = digits
    bags, bag_labels, inst = make_bags(
        X,
        y,
        bag_size=8,
        n_bags=40,
        positive_class=9,
        witness_rate=0.25,
        random_state=0,
    )
    assert len(bags) == len(inst) == 40
    assert bag_labels.tolist().count(1) == 20
    for bag, label, lab in zip(bags, bag_labels, inst):
        assert bag.shape == (8, X.shape[1])
        assert label == int(lab.any())
        assert lab.sum() == (2 if label else 0)
    # Instance labels agree with the rows' true labels; bags are disjoint.
    lookup = {r.tobytes(): int(t == 9) for r, t in zip(X, y)}
    for bag, lab in zip(bags, inst):
        assert [lookup[r.tobytes()] for r in bag] == lab.tolist()


def test_make_bags_default_n_bags_uses_data():
    X = np.arange(100, dtype=float).reshape(50, 2)
    y = np.array([1] * 3 + [0] * 47)
    bags, labels, _ = make_bags(X, y, bag_size=5, witness_rate=0.2, random_state=0)
    # 10 bags = 5 positive (5 witnesses needed, only 3) does not fit; 7 bags =
    # 3 positive + 4 negative uses 3 positives and 32 negatives.
    assert len(bags) == 7 and labels.sum() == 3
    seen = [tuple(r) for bag in bags for r in bag]
    assert len(set(seen)) == len(seen) == 35  # disjoint bags
    copy = X.copy()
    bags[0][:] = -1
    np.testing.assert_array_equal(X, copy)


def test_make_bags_bad_input():
    X = np.zeros((10, 2))
    y = np.array([1] + [0] * 9)
    with pytest.raises(ValueError, match="does not occur"):
        make_bags(X, y, positive_class=7)
    with pytest.raises(ValueError, match="Lower n_bags"):
        make_bags(X, y, bag_size=2, n_bags=4)
    with pytest.raises(ValueError, match="witness_rate"):
        make_bags(X, y, witness_rate=0)
