"""Synthetic label noise: symmetric, pair and instance-dependent flips."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from scipy.special import softmax
from scipy.stats import truncnorm
from sklearn.utils import check_array, check_consistent_length, check_random_state
from sklearn.utils.validation import column_or_1d

from sktrust.utils._sklearn_compat import Interval, StrOptions, validate_params

# Spread of the per-row flip rates in the instance-dependent scheme (Xia et al.).
_IDN_STD = 0.1


def _instance_dependent(X, codes, n_classes, noise_rate, rng):
    """Per-row flip target following Xia et al. (2020), Algorithm 2."""
    n_samples, n_features = X.shape
    # Standardise columns so that the projection does not depend on units.
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (X - X.mean(axis=0)) / scale
    if noise_rate in (0.0, 1.0):
        flip_rate = np.full(n_samples, noise_rate)
    else:
        a, b = (0 - noise_rate) / _IDN_STD, (1 - noise_rate) / _IDN_STD
        dist = truncnorm(a, b, loc=noise_rate, scale=_IDN_STD)
        flip_rate = dist.rvs(size=n_samples, random_state=rng)
        # Truncation moves the mean towards 1/2; rescale (towards 0 below 1/2,
        # towards 1 above) so that the expected flip rate is noise_rate.
        mean = dist.mean()
        if mean > noise_rate:
            flip_rate = flip_rate * (noise_rate / mean)
        elif mean < noise_rate:
            flip_rate = 1.0 - (1.0 - flip_rate) * ((1.0 - noise_rate) / (1.0 - mean))
    W = rng.standard_normal((n_classes, n_features, n_classes))
    logits = np.einsum("nd,ndk->nk", Z, W[codes])
    logits[np.arange(n_samples), codes] = -np.inf
    probs = flip_rate[:, None] * softmax(logits, axis=1)
    probs[np.arange(n_samples), codes] = 1.0 - flip_rate
    cumulative = np.cumsum(probs, axis=1)
    draws = rng.uniform(size=(n_samples, 1)) * cumulative[:, -1:]
    return np.minimum((draws >= cumulative).sum(axis=1), n_classes - 1)


@validate_params(
    {
        "y": ["array-like"],
        "noise_rate": [Interval(Real, 0, 1, closed="both")],
        "kind": [StrOptions({"symmetric", "pair", "instance"})],
        "X": ["array-like", None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def flip_labels(y, noise_rate=0.2, *, kind="symmetric", X=None, random_state=None):
    """Corrupt class labels with synthetic label noise.

    Three standard noise models:

    - ``"symmetric"``: exactly ``round(noise_rate * n_samples)`` rows, drawn
      uniformly, get a label drawn uniformly from the *other* classes.
    - ``"pair"`` (asymmetric): the same number of rows, drawn uniformly, move
      from class ``k`` to class ``(k + 1) mod K`` in sorted class order.
    - ``"instance"`` (instance-dependent, Xia et al. 2020): each row gets its own
      flip rate drawn from a normal distribution centred at ``noise_rate``
      with standard deviation 0.1, truncated to [0, 1], then rescaled so that
      its expected value is exactly ``noise_rate`` (truncation alone biases
      it towards 1/2, as in the paper's code); the wrong label it flips to
      is drawn from a softmax over a random linear projection of its
      standardised features, so similar rows tend to flip the same way. The
      realised flip rate is ``noise_rate`` on average. Needs ``X``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels, numeric or strings, with at least two classes.
    noise_rate : float, default=0.2
        Fraction of labels to corrupt, in [0, 1].
    kind : {"symmetric", "pair", "instance"}, default="symmetric"
        Noise model, see above.
    X : array-like of shape (n_samples, n_features), default=None
        Numeric features; required by ``kind="instance"``, ignored otherwise.
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        Corrupted labels, same dtype as ``y``; every label is a class of ``y``.
    flipped_mask : ndarray of bool of shape (n_samples,)
        True where ``y_noisy`` differs from ``y``.

    Raises
    ------
    ValueError
        If ``y`` has fewer than two classes, or ``kind="instance"`` without a
        matching numeric ``X``.

    References
    ----------
    .. [1] X. Xia, T. Liu, B. Han, N. Wang, M. Gong, H. Liu, G. Niu, D. Tao and
       M. Sugiyama, "Part-dependent label noise: towards instance-dependent label
       noise", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.datasets import flip_labels
    >>> y = np.array(["cat", "dog", "fox"] * 10)
    >>> y_noisy, flipped = flip_labels(y, noise_rate=0.2, random_state=0)
    >>> int(flipped.sum())
    6
    >>> bool(np.all(y_noisy[flipped] != y[flipped]))
    True
    >>> y_pair, _ = flip_labels(y, noise_rate=1.0, kind="pair")
    >>> y_pair[:3].tolist()
    ['dog', 'fox', 'cat']
    """
    y = column_or_1d(y)
    n_samples = y.shape[0]
    if n_samples == 0:
        raise ValueError("y is empty: flip_labels needs at least one label.")
    classes, codes = np.unique(y, return_inverse=True)
    n_classes = classes.size
    if n_classes < 2:
        raise ValueError(
            f"y has {n_classes} class; label noise needs at least 2 classes."
        )
    rng = check_random_state(random_state)

    if kind == "instance":
        if X is None:
            raise ValueError(
                "kind='instance' draws flips from the features: pass X "
                "(numeric, shape (n_samples, n_features))."
            )
        check_consistent_length(X, y)
        X = check_array(X, dtype=np.float64, copy=False)
        new_codes = _instance_dependent(X, codes, n_classes, noise_rate, rng)
    else:
        n_flip = int(round(noise_rate * n_samples))
        rows = rng.choice(n_samples, size=n_flip, replace=False)
        new_codes = codes.copy()
        if kind == "symmetric":
            shift = rng.randint(1, n_classes, size=n_flip)
        else:
            shift = np.ones(n_flip, dtype=int)
        new_codes[rows] = (codes[rows] + shift) % n_classes

    y_noisy = classes[new_codes].astype(y.dtype, copy=False)
    return y_noisy, new_codes != codes
