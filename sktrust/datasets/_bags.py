"""Multiple-instance learning bags built from a labelled data set."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array, check_consistent_length, check_random_state
from sklearn.utils.validation import column_or_1d

from sktrust.utils._sklearn_compat import (
    Interval,
    RealNotInt,
    validate_params,
)


def _max_bags(n_pos, n_neg, bag_size, n_witness):
    """Largest number of disjoint bags (half of them positive) that fit."""
    n_bags = (n_pos + n_neg) // bag_size
    while n_bags >= 1:
        n_pos_bags = n_bags // 2
        n_neg_bags = n_bags - n_pos_bags
        if n_pos_bags * n_witness <= n_pos and (
            n_pos_bags * (bag_size - n_witness) + n_neg_bags * bag_size <= n_neg
        ):
            return n_bags
        n_bags -= 1
    return 0


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "bag_size": [Interval(Integral, 1, None, closed="left")],
        "n_bags": [Interval(Integral, 1, None, closed="left"), None],
        "positive_class": [Real, str],
        "witness_rate": [Interval(RealNotInt, 0, 1, closed="right")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_bags(
    X,
    y,
    bag_size=10,
    n_bags=None,
    positive_class=1,
    witness_rate=0.1,
    random_state=None,
):
    """Group labelled instances into bags for multiple-instance learning.

    Instances of ``positive_class`` are positive, all others negative. Half of
    the bags (``n_bags // 2``) are positive: each holds
    ``max(1, round(witness_rate * bag_size))`` positive instances (the
    witnesses) and negatives for the rest. The other bags hold negatives only.
    So a bag is labelled 1 exactly when it contains at least one positive
    instance, the standard MIL assumption. Bags are disjoint (every instance
    is used at most once), have ``bag_size`` instances each, and come in random
    order, with the instances inside each bag shuffled.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric instance features.
    y : array-like of shape (n_samples,)
        Instance labels.
    bag_size : int, default=10
        Number of instances in every bag.
    n_bags : int or None, default=None
        Number of bags. None makes as many as the data allow.
    positive_class : int, float or str, default=1
        The label of the positive instances; must occur in ``y``.
    witness_rate : float, default=0.1
        Fraction of positive instances in a positive bag, in (0, 1]; at least
        one witness per positive bag.
    random_state : int, RandomState instance or None, default=None
        Seeds which instances go to which bag, and the order.

    Returns
    -------
    bags : list of ndarray of shape (bag_size, n_features)
        The bags, as float arrays (copies, never views of ``X``).
    bag_labels : ndarray of int of shape (n_bags,)
        1 for bags with a positive instance, else 0.
    instance_labels : list of ndarray of int of shape (bag_size,)
        Per bag, 1 for the instances of ``positive_class``, else 0.

    Raises
    ------
    ValueError
        If ``positive_class`` is not in ``y``, or there are too few positive or
        negative instances for ``n_bags`` bags.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.datasets import make_bags
    >>> X = np.arange(60, dtype=float).reshape(30, 2)
    >>> y = np.array([1] * 5 + [0] * 25)
    >>> bags, bag_labels, inst = make_bags(
    ...     X, y, bag_size=5, n_bags=4, witness_rate=0.2, random_state=0)
    >>> len(bags), bags[0].shape
    (4, (5, 2))
    >>> bag_labels.tolist(), [int(lab.sum()) for lab in inst]
    ([1, 0, 0, 1], [1, 0, 0, 1])
    """
    check_consistent_length(X, y)
    X = check_array(X, dtype=np.float64, ensure_min_samples=1)
    y = column_or_1d(y)
    is_pos = y == positive_class
    if not np.any(is_pos):
        raise ValueError(
            f"positive_class={positive_class!r} does not occur in y; labels are "
            f"{np.unique(y).tolist()[:20]}."
        )
    pos_idx, neg_idx = np.flatnonzero(is_pos), np.flatnonzero(~is_pos)
    n_witness = max(1, int(round(witness_rate * bag_size)))
    if n_bags is None:
        n_bags = _max_bags(pos_idx.size, neg_idx.size, bag_size, n_witness)
        if n_bags == 0:
            raise ValueError(
                f"Too few instances for even one bag of size {bag_size}; lower "
                "bag_size."
            )
    n_pos_bags = n_bags // 2
    n_neg_bags = n_bags - n_pos_bags
    need_pos = n_pos_bags * n_witness
    need_neg = n_pos_bags * (bag_size - n_witness) + n_neg_bags * bag_size
    if need_pos > pos_idx.size or need_neg > neg_idx.size:
        raise ValueError(
            f"{n_bags} disjoint bags of size {bag_size} need {need_pos} positive "
            f"and {need_neg} negative instances; y has {pos_idx.size} and "
            f"{neg_idx.size}. Lower n_bags or bag_size, or pass n_bags=None."
        )

    rng = check_random_state(random_state)
    pos_pool = iter(rng.permutation(pos_idx)[:need_pos].reshape(-1, n_witness))
    neg_pool = rng.permutation(neg_idx)[:need_neg]
    bags, bag_labels, instance_labels = [], [], []
    start = 0
    for label in rng.permutation([1] * n_pos_bags + [0] * n_neg_bags):
        n_neg = bag_size - n_witness if label else bag_size
        members = neg_pool[start : start + n_neg]
        start += n_neg
        if label:
            members = np.concatenate([next(pos_pool), members])
        members = rng.permutation(members)
        bags.append(X[members].copy())
        bag_labels.append(int(label))
        instance_labels.append(is_pos[members].astype(int))
    return bags, np.asarray(bag_labels, dtype=int), instance_labels
