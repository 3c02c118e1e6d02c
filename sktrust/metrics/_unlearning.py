"""Unlearning evaluation: accuracies, membership inference, KLOM, ZRF, report."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp, rel_entr
from scipy.stats import wasserstein_distance
from sklearn.base import is_regressor
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.utils import check_consistent_length, check_random_state
from sklearn.utils.validation import column_or_1d

from sktrust.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

_MODEL = [HasMethods(["predict"])]
_PROBA_MODEL = [HasMethods(["predict_proba"])]


def _check_rows(X, y, name):
    check_consistent_length(X, y)
    y = column_or_1d(y)
    if y.shape[0] == 0:
        raise ValueError(f"{name} is empty: pass at least one row.")
    return y


def _accuracy(model, X, y, name):
    y = _check_rows(X, y, name)
    return 100.0 * float(np.mean(np.asarray(model.predict(X)) == y))


@validate_params(
    {"model": _MODEL, "X_forget": ["array-like"], "y_forget": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def unlearning_accuracy(model, X_forget, y_forget):
    """Unlearning accuracy UA = 100 - accuracy on the forget rows, in percent.

    Higher means more forgetting; the target is the value of a model retrained
    without the forget rows, not 100.

    Parameters
    ----------
    model : fitted estimator
        With ``predict``.
    X_forget : array-like of shape (n_forget, n_features)
        Forget rows.
    y_forget : array-like of shape (n_forget,)
        Their labels.

    Returns
    -------
    ua : float
        In [0, 100].

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sktrust.metrics import unlearning_accuracy
    >>> model = DummyClassifier(strategy="constant", constant=0).fit([[0]], [0])
    >>> unlearning_accuracy(model, [[0], [1], [2], [3]], [0, 0, 0, 1])
    25.0
    """
    return 100.0 - _accuracy(model, X_forget, y_forget, "X_forget")


@validate_params(
    {"model": _MODEL, "X_retain": ["array-like"], "y_retain": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def remaining_accuracy(model, X_retain, y_retain):
    """Remaining accuracy RA: accuracy on the retain training rows, in percent.

    Parameters
    ----------
    model : fitted estimator
        With ``predict``.
    X_retain : array-like of shape (n_retain, n_features)
        Retain training rows.
    y_retain : array-like of shape (n_retain,)
        Their labels.

    Returns
    -------
    ra : float
        In [0, 100].

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sktrust.metrics import remaining_accuracy
    >>> model = DummyClassifier(strategy="constant", constant=0).fit([[0]], [0])
    >>> remaining_accuracy(model, [[0], [1], [2], [3]], [0, 0, 0, 1])
    75.0
    """
    return _accuracy(model, X_retain, y_retain, "X_retain")


@validate_params(
    {
        "model": _MODEL,
        "X": ["array-like"],
        "y": ["array-like"],
        "forget_classes": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def test_accuracy(model, X, y, forget_classes=None):
    """Test accuracy TA in percent, without the forgotten classes if any.

    For class-wise forgetting, test rows of ``forget_classes`` are dropped
    first (as the reference implementations do).

    Parameters
    ----------
    model : fitted estimator
        With ``predict``.
    X : array-like of shape (n_samples, n_features)
        Test rows.
    y : array-like of shape (n_samples,)
        Their labels.
    forget_classes : array-like, default=None
        Classes that were forgotten.

    Returns
    -------
    ta : float
        In [0, 100].

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sktrust.metrics import test_accuracy
    >>> model = DummyClassifier(strategy="constant", constant=0).fit([[0]], [0])
    >>> X, y = [[0], [1], [2], [3]], [0, 0, 1, 2]
    >>> test_accuracy(model, X, y), round(test_accuracy(model, X, y, [2]), 2)
    (50.0, 66.67)
    """
    y = _check_rows(X, y, "X")
    if forget_classes is not None:
        keep = ~np.isin(y, np.asarray(forget_classes))
        if not keep.any():
            raise ValueError("Every test row belongs to forget_classes; no rows left to score.")
        X, y = _take(X, np.flatnonzero(keep)), y[keep]
    return _accuracy(model, X, y, "X")


def _mia_features(model, X, y, feature):
    """Per-row attack features from the evaluated model's probabilities."""
    y = np.asarray(y)
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    classes = np.asarray(model.classes_)
    position = np.searchsorted(classes, y)
    position = np.clip(position, 0, classes.size - 1)
    if not np.all(classes[position] == y):
        raise ValueError("Labels must be classes of the model (model.classes_).")
    if feature == "prob":
        return proba
    if feature == "confidence":
        return proba[np.arange(y.shape[0]), position][:, None]
    if feature == "entropy":
        return -np.sum(rel_entr(proba, 1.0), axis=1)[:, None]
    correct = np.argmax(proba, axis=1) == position
    return correct.astype(np.float64)[:, None]


_MIA_PARAMS = {
    "model": _PROBA_MODEL,
    "X_retain": ["array-like"],
    "y_retain": ["array-like"],
    "X_test": ["array-like"],
    "y_test": ["array-like"],
    "X_forget": ["array-like"],
    "y_forget": ["array-like"],
    "feature": [StrOptions({"confidence", "entropy", "correctness", "prob"})],
    "random_state": ["random_state"],
}


def _take(X, idx):
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if hasattr(X, "shape"):
        return X[idx]
    return [X[i] for i in idx]


@validate_params(_MIA_PARAMS, prefer_skip_nested_validation=True)
def mia_efficacy(
    model,
    X_retain,
    y_retain,
    X_test,
    y_test,
    X_forget,
    y_forget,
    *,
    feature="confidence",
    random_state=0,
):
    """MIA-Efficacy: percent of forget rows a membership attack calls non-member.

    The SalUn / sparsity-unlearning protocol: an attacker
    ``SVC(C=3, gamma="auto", kernel="rbf")`` learns members (a random subset
    of ``min(n_retain, n_test)`` retain rows) against non-members (the test
    rows) from one feature of the evaluated model's softmax output, then
    labels the forget rows. Higher = better forgetting; compare with the value
    of a retrained model.

    Parameters
    ----------
    model : fitted classifier
        The evaluated (unlearned) model, with ``predict_proba`` and
        ``classes_``.
    X_retain, y_retain : array-like
        Retain training rows and labels.
    X_test, y_test : array-like
        Held-out rows and labels.
    X_forget, y_forget : array-like
        Forget rows and labels.
    feature : {"confidence", "entropy", "correctness", "prob"}, \
            default="confidence"
        Softmax probability of the true label, entropy of the softmax, 0/1
        correctness, or the full probability vector.
    random_state : int, RandomState instance or None, default=0
        Seeds the choice of shadow members.

    Returns
    -------
    efficacy : float
        In [0, 100].

    See Also
    --------
    mia_membership_rate : The SSD variant (lower = better).

    References
    ----------
    .. [1] C. Fan, J. Liu, Y. Zhang, E. Wong, D. Wei and S. Liu, "SalUn:
       Empowering machine unlearning via gradient-based weight saliency",
       ICLR 2024.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sktrust.metrics import mia_efficacy
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = DecisionTreeClassifier(random_state=0).fit(X[:300], y[:300])
    >>> value = mia_efficacy(model, X[50:300], y[50:300], X[300:], y[300:],
    ...                      X[:50], y[:50])
    >>> 0 <= value <= 100
    True
    """
    y_retain = _check_rows(X_retain, y_retain, "X_retain")
    y_test = _check_rows(X_test, y_test, "X_test")
    y_forget = _check_rows(X_forget, y_forget, "X_forget")
    rng = check_random_state(random_state)
    n_shadow = min(y_retain.shape[0], y_test.shape[0])
    members = np.sort(rng.choice(y_retain.shape[0], size=n_shadow, replace=False))
    features = np.vstack(
        [
            _mia_features(model, _take(X_retain, members), y_retain[members], feature),
            _mia_features(model, X_test, y_test, feature),
        ]
    )
    labels = np.r_[np.ones(n_shadow), np.zeros(y_test.shape[0])]
    attacker = SVC(C=3, gamma="auto", kernel="rbf").fit(features, labels)
    predicted = attacker.predict(_mia_features(model, X_forget, y_forget, feature))
    return 100.0 * float(1.0 - np.mean(predicted))


@validate_params(
    {**_MIA_PARAMS, "attacker": [StrOptions({"logreg", "svc"})]},
    prefer_skip_nested_validation=True,
)
def mia_membership_rate(
    model,
    X_retain,
    y_retain,
    X_test,
    y_test,
    X_forget,
    y_forget,
    *,
    attacker="logreg",
    feature="entropy",
    random_state=0,
):
    """Percent of forget rows a membership attack calls *member* (SSD variant).

    The protocol of the SSD code: the attacker (by default
    ``LogisticRegression(class_weight="balanced")``) learns all retain rows
    (members) against the test rows (non-members) from the entropy of the
    evaluated model's softmax, then labels the forget rows. **Lower = better
    forgetting**, the opposite direction of :func:`mia_efficacy`; the two are
    kept apart on purpose.

    Parameters
    ----------
    model : fitted classifier
        With ``predict_proba`` and ``classes_``.
    X_retain, y_retain : array-like
        Retain training rows and labels (all are members).
    X_test, y_test : array-like
        Held-out rows and labels (non-members).
    X_forget, y_forget : array-like
        Forget rows and labels.
    attacker : {"logreg", "svc"}, default="logreg"
        Balanced logistic regression, or ``SVC(C=3, gamma="auto")`` with
        balanced class weights.
    feature : {"entropy", "confidence", "correctness", "prob"}, \
            default="entropy"
        Attack feature, see :func:`mia_efficacy`.
    random_state : int, RandomState instance or None, default=0
        Seeds the attacker.

    Returns
    -------
    rate : float
        In [0, 100].

    References
    ----------
    .. [1] J. Foster, S. Schoepf and A. Brintrup, "Fast machine unlearning
       without retraining through selective synaptic dampening", AAAI 2024.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sktrust.metrics import mia_membership_rate
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = DecisionTreeClassifier(random_state=0).fit(X[:300], y[:300])
    >>> value = mia_membership_rate(model, X[50:300], y[50:300], X[300:],
    ...                             y[300:], X[:50], y[:50])
    >>> 0 <= value <= 100
    True
    """
    y_retain = _check_rows(X_retain, y_retain, "X_retain")
    y_test = _check_rows(X_test, y_test, "X_test")
    y_forget = _check_rows(X_forget, y_forget, "X_forget")
    features = np.vstack(
        [
            _mia_features(model, X_retain, y_retain, feature),
            _mia_features(model, X_test, y_test, feature),
        ]
    )
    labels = np.r_[np.ones(y_retain.shape[0]), np.zeros(y_test.shape[0])]
    if attacker == "logreg":
        clf = LogisticRegression(class_weight="balanced", random_state=random_state)
    else:
        clf = SVC(C=3, gamma="auto", class_weight="balanced", random_state=random_state)
    clf.fit(features, labels)
    predicted = clf.predict(_mia_features(model, X_forget, y_forget, feature))
    return 100.0 * float(np.mean(predicted))


_GAP_KEYS = {
    "unlearning_accuracy": ("unlearning_accuracy", "UA"),
    "remaining_accuracy": ("remaining_accuracy", "RA"),
    "test_accuracy": ("test_accuracy", "TA"),
    "mia_efficacy": ("mia_efficacy", "MIA"),
}


def _gap_values(metrics, name):
    values = {}
    for key, aliases in _GAP_KEYS.items():
        found = [metrics[a] for a in aliases if a in metrics]
        if not found:
            raise ValueError(
                f"{name} lacks {key!r} (or {aliases[1]!r}); avg_gap needs "
                "unlearning_accuracy, remaining_accuracy, test_accuracy and "
                "mia_efficacy."
            )
        values[key] = float(found[0])
    return values


def avg_gap(metrics, retrain_metrics):
    """Average gap to exact unlearning over UA, RA, TA and MIA-Efficacy.

    ``mean(|UA - UA_rt|, |RA - RA_rt|, |TA - TA_rt|, |MIA - MIA_rt|)``.
    Smaller = closer to retraining from scratch.

    Parameters
    ----------
    metrics : dict
        Metrics of the evaluated model, keys ``unlearning_accuracy``,
        ``remaining_accuracy``, ``test_accuracy``, ``mia_efficacy`` (or the
        short names ``UA``, ``RA``, ``TA``, ``MIA``), e.g. from
        :func:`unlearning_report`.
    retrain_metrics : dict or list of dict
        The same metrics for retrained models; a list (one per seed) is
        averaged first.

    Returns
    -------
    gap : float
        Average absolute gap, in percentage points.

    Examples
    --------
    >>> from sktrust.metrics import avg_gap
    >>> avg_gap({"UA": 10, "RA": 99, "TA": 90, "MIA": 20},
    ...         {"UA": 12, "RA": 99, "TA": 94, "MIA": 18})
    2.0
    """
    if not isinstance(metrics, dict):
        raise TypeError("metrics must be a dict of metric values.")
    if isinstance(retrain_metrics, dict):
        retrain_metrics = [retrain_metrics]
    if not isinstance(retrain_metrics, (list, tuple)) or not retrain_metrics:
        raise ValueError("retrain_metrics must be a dict or a non-empty list of dicts.")
    own = _gap_values(metrics, "metrics")
    refs = [_gap_values(m, "retrain_metrics") for m in retrain_metrics]
    gaps = [abs(own[k] - np.mean([r[k] for r in refs])) for k in _GAP_KEYS]
    return float(np.mean(gaps))


@validate_params(
    {"logits": ["array-like"], "y": ["array-like"], "classes": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def classification_margins(logits, y, classes=None):
    """Margins ``logit_y - logsumexp_{k != y} logit_k``, the input of :func:`klom`.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
        Logits (or log-probabilities) of one model.
    y : array-like of shape (n_samples,)
        True labels.
    classes : array-like of shape (n_classes,), default=None
        Class of each column; None means ``y`` holds column indices.

    Returns
    -------
    margins : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.metrics import classification_margins
    >>> classification_margins([[2.0, 0.0], [0.0, 1.0]], [0, 0]).tolist()
    [2.0, -1.0]
    """
    logits = np.asarray(logits, dtype=np.float64)
    y = column_or_1d(y)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError("logits must have shape (n_samples, n_classes>=2).")
    check_consistent_length(logits, y)
    if classes is None:
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError("Pass classes= when y does not hold column indices.")
        position = y
    else:
        classes = np.asarray(classes)
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        try:
            position = np.array([lookup[v] for v in y.tolist()], dtype=int)
        except KeyError as exc:
            raise ValueError(f"Label {exc.args[0]!r} is not in classes.") from None
    if np.any((position < 0) | (position >= logits.shape[1])):
        raise ValueError("y holds column indices outside [0, n_classes).")
    rows = np.arange(y.shape[0])
    others = logits.copy()
    others[rows, position] = -np.inf
    return logits[rows, position] - logsumexp(others, axis=1)


@validate_params(
    {
        "unlearned_margins": ["array-like"],
        "oracle_margins": ["array-like"],
        "bins": [Interval(Integral, 1, None, closed="left")],
        "clip": [tuple],
        "eps": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def klom(unlearned_margins, oracle_margins, bins=20, clip=(-100, 100), eps=1e-5):
    """KL divergence of margins (KLOM) between unlearned and retrained models.

    For each evaluation row, the margins of N unlearned models (P) and of M
    retrained models (Q) are clipped to ``clip``, binned into ``bins``
    equal-width bins over the joint min-max of both samples, and compared with
    ``KL(P || Q)``, where Q-probabilities below ``eps`` are raised to ``eps``
    on bins where P is positive. 0 = indistinguishable from retraining.

    Parameters
    ----------
    unlearned_margins : array-like of shape (n_models,) or (n_models, n_rows)
        Margins (see :func:`classification_margins`) of the unlearned models,
        one row per model.
    oracle_margins : array-like of shape (n_oracles,) or (n_oracles, n_rows)
        Margins of the retrained models.
    bins : int, default=20
        Number of bins.
    clip : tuple of (float, float), default=(-100, 100)
        Margins are clipped to this range first.
    eps : float, default=1e-5
        Floor of Q-probabilities where P is positive.

    Returns
    -------
    klom : float or ndarray of shape (n_rows,)
        Per-row KLOM (a float for 1-D input). Report its median and a high
        percentile separately for forget, retain and validation rows.

    References
    ----------
    .. [1] K. Georgiev, R. Rinberg, S. M. Park, S. Garg, A. Ilyas, A. Madry and
       S. Neel, "Attribute-to-delete: machine unlearning via datamodel matching",
       2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.metrics import klom
    >>> klom([1.0, 1.1, 0.9, 1.0], [1.0, 1.1, 0.9, 1.0])
    0.0
    >>> klom([1.0, 1.1], [5.0, 5.1], bins=4) > 5
    True
    """
    p = np.asarray(unlearned_margins, dtype=np.float64)
    q = np.asarray(oracle_margins, dtype=np.float64)
    scalar = p.ndim == 1
    if p.ndim != q.ndim or p.ndim not in (1, 2):
        raise ValueError(
            "unlearned_margins and oracle_margins must both be 1-D (one row) or "
            "2-D (n_models, n_rows)."
        )
    if scalar:
        p, q = p[:, None], q[:, None]
    if p.shape[0] == 0 or q.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError("Margins are empty: pass at least one model and one row.")
    if p.shape[1] != q.shape[1]:
        raise ValueError(
            f"unlearned_margins has {p.shape[1]} rows but oracle_margins has {q.shape[1]}."
        )
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise ValueError("Margins must be finite.")
    if len(clip) != 2 or not clip[0] < clip[1]:
        raise ValueError(f"clip must be (low, high) with low < high; got {clip!r}.")
    p, q = np.clip(p, *clip), np.clip(q, *clip)
    result = np.empty(p.shape[1])
    for j in range(p.shape[1]):
        low = min(p[:, j].min(), q[:, j].min())
        high = max(p[:, j].max(), q[:, j].max())
        if high == low:
            result[j] = 0.0
            continue
        edges = np.linspace(low, high, bins + 1)
        p_hist = np.histogram(p[:, j], bins=edges)[0] / p.shape[0]
        q_hist = np.histogram(q[:, j], bins=edges)[0] / q.shape[0]
        support = p_hist > 0
        q_hist = np.where(support, np.maximum(q_hist, eps), q_hist)
        result[j] = np.sum(rel_entr(p_hist[support], q_hist[support]))
    return float(result[0]) if scalar else result


def _check_proba(p, name):
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n_samples, n_classes).")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError(f"{name} must hold probabilities in [0, 1].")
    return p


@validate_params(
    {"p_unlearned": ["array-like"], "p_incompetent": ["array-like"], "legacy": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def zrf_score(p_unlearned, p_incompetent, legacy=False):
    """Zero retrain forgetting score: ``1 - mean JS(p_unlearned, p_incompetent)``.

    Compares the unlearned model's softmax on the forget rows with that of an
    incompetent teacher (a randomly initialised copy of the architecture).
    With natural logarithms the Jensen-Shannon divergence lies in
    ``[0, ln 2]``, so ZRF lies in ``[1 - ln 2, 1]``; 1 = the model behaves on
    the forget rows like a model that never learned.

    Parameters
    ----------
    p_unlearned : array-like of shape (n_forget, n_classes)
        Class probabilities of the unlearned model on the forget rows.
    p_incompetent : array-like of shape (n_forget, n_classes)
        Class probabilities of the incompetent model on the same rows.
    legacy : bool, default=False
        If True, reproduce the SSD code's number:
        ``0.5 KL(m || p) + 0.5 KL(m || q)`` with ``m = (p + q) / 2``, averaged
        over all rows *and classes* (torch ``kl_div``'s default), instead of
        the standard per-row ``0.5 KL(p || m) + 0.5 KL(q || m)`` averaged over
        rows.

    Returns
    -------
    zrf : float

    References
    ----------
    .. [1] V. S. Chundawat, A. K. Tarun, M. Mandal and M. Kankanhalli, "Can bad
       teaching induce forgetting? Unlearning in deep networks using an
       incompetent teacher", AAAI 2023.

    Examples
    --------
    >>> from sktrust.metrics import zrf_score
    >>> zrf_score([[0.5, 0.5]], [[0.5, 0.5]])
    1.0
    >>> round(zrf_score([[1.0, 0.0]], [[0.0, 1.0]]), 4)  # 1 - ln 2
    0.3069
    """
    p = _check_proba(p_unlearned, "p_unlearned")
    q = _check_proba(p_incompetent, "p_incompetent")
    if p.shape != q.shape:
        raise ValueError(f"p_unlearned {p.shape} and p_incompetent {q.shape} differ in shape.")
    m = 0.5 * (p + q)
    if legacy:
        with np.errstate(divide="ignore", invalid="ignore"):
            js = 0.5 * np.mean(rel_entr(m, p)) + 0.5 * np.mean(rel_entr(m, q))
    else:
        js = np.mean(0.5 * rel_entr(p, m).sum(axis=1) + 0.5 * rel_entr(q, m).sum(axis=1))
    return float(1.0 - js)


@validate_params(
    {
        "model": _MODEL,
        "X_train": ["array-like"],
        "y_train": ["array-like"],
        "X_test": ["array-like"],
        "y_test": ["array-like"],
        "X_forget": ["array-like"],
        "y_forget": ["array-like"],
        "n_shadow": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def regression_mia(
    model,
    X_train,
    y_train,
    X_test,
    y_test,
    X_forget,
    y_forget,
    *,
    n_shadow=2000,
    random_state=0,
):
    """Membership attack on a regressor: percent of forget rows called member.

    The per-row feature is the absolute error ``|f(x) - y|``. An attacker
    ``SVC(C=3, gamma="auto")`` learns a random sample of at most ``n_shadow``
    training rows (members) against the test rows (non-members), then labels
    the forget rows. The target is a retrained model's value (Deep Regression
    Unlearning protocol).

    Parameters
    ----------
    model : fitted regressor
        With ``predict``.
    X_train, y_train : array-like
        Training rows and targets (members).
    X_test, y_test : array-like
        Held-out rows and targets (non-members).
    X_forget, y_forget : array-like
        Forget rows and targets.
    n_shadow : int, default=2000
        Maximum number of training rows given to the attacker.
    random_state : int, RandomState instance or None, default=0
        Seeds the sample of training rows.

    Returns
    -------
    rate : float
        In [0, 100].

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from sktrust.metrics import regression_mia
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = DecisionTreeRegressor(random_state=0).fit(X[:300], y[:300])
    >>> regression_mia(model, X[:300], y[:300], X[300:], y[300:], X[:50], y[:50])
    100.0
    """
    y_train = _check_rows(X_train, y_train, "X_train")
    y_test = _check_rows(X_test, y_test, "X_test")
    y_forget = _check_rows(X_forget, y_forget, "X_forget")
    rng = check_random_state(random_state)
    n = min(n_shadow, y_train.shape[0])
    members = np.sort(rng.choice(y_train.shape[0], size=n, replace=False))

    def abs_error(X, y):
        pred = np.asarray(model.predict(X), dtype=np.float64).reshape(y.shape[0], -1)
        return np.abs(pred - np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1))

    features = np.vstack(
        [abs_error(_take(X_train, members), y_train[members]), abs_error(X_test, y_test)]
    )
    labels = np.r_[np.ones(n), np.zeros(y_test.shape[0])]
    attacker = SVC(C=3, gamma="auto").fit(features, labels)
    return 100.0 * float(np.mean(attacker.predict(abs_error(X_forget, y_forget))))


@validate_params(
    {"unlearned": _MODEL, "retrained": _MODEL, "X_forget": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def prediction_wasserstein(unlearned, retrained, X_forget):
    """Wasserstein distance between two models' predictions on the forget rows.

    ``scipy.stats.wasserstein_distance`` between the (flattened) predictions
    of the unlearned and the retrained model; 0 = same distribution.

    Parameters
    ----------
    unlearned : fitted regressor
        The evaluated model.
    retrained : fitted regressor
        A model retrained without the forget rows.
    X_forget : array-like of shape (n_forget, n_features)
        Forget training rows.

    Returns
    -------
    distance : float

    Examples
    --------
    >>> from sklearn.dummy import DummyRegressor
    >>> from sktrust.metrics import prediction_wasserstein
    >>> a = DummyRegressor(strategy="constant", constant=1.0).fit([[0]], [0])
    >>> b = DummyRegressor(strategy="constant", constant=3.0).fit([[0]], [0])
    >>> prediction_wasserstein(a, b, [[0], [1]])
    2.0
    """
    n = X_forget.shape[0] if hasattr(X_forget, "shape") else len(X_forget)
    if n == 0:
        raise ValueError("X_forget is empty: pass at least one row.")
    u = np.asarray(unlearned.predict(X_forget), dtype=np.float64).ravel()
    r = np.asarray(retrained.predict(X_forget), dtype=np.float64).ravel()
    return float(wasserstein_distance(u, r))


def _mae(model, X, y):
    pred = np.asarray(model.predict(X), dtype=np.float64).reshape(len(y), -1)
    return float(np.mean(np.abs(pred - np.asarray(y, dtype=float).reshape(len(y), -1))))


def _classifier_metrics(model, Xf, yf, Xr, yr, Xt, yt, forget_classes):
    out = {
        "unlearning_accuracy": unlearning_accuracy(model, Xf, yf),
        "remaining_accuracy": remaining_accuracy(model, Xr, yr),
        "test_accuracy": test_accuracy(model, Xt, yt, forget_classes=forget_classes),
    }
    if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        out["mia_efficacy"] = mia_efficacy(model, Xr, yr, Xt, yt, Xf, yf)
        out["mia_membership_rate"] = mia_membership_rate(model, Xr, yr, Xt, yt, Xf, yf)
    return out


def _regressor_metrics(model, Xf, yf, Xr, yr, Xt, yt):
    return {
        "forget_mae": _mae(model, Xf, yf),
        "retain_mae": _mae(model, Xr, yr),
        "test_mae": _mae(model, Xt, yt),
        "regression_mia": regression_mia(model, _concat(Xr, Xf), np.r_[yr, yf], Xt, yt, Xf, yf),
    }


def _concat(A, B):
    if hasattr(A, "iloc"):
        import pandas as pd

        return pd.concat([A, B])
    return np.concatenate([np.asarray(A), np.asarray(B)])


def unlearning_report(
    unlearner,
    X_forget,
    y_forget,
    X_retain,
    y_retain,
    X_test,
    y_test,
    *,
    reference=None,
    forget_classes=None,
):
    """All applicable unlearning metrics of a model, in one dict.

    For a classifier: ``unlearning_accuracy``, ``remaining_accuracy``,
    ``test_accuracy`` and, when it has ``predict_proba``, ``mia_efficacy`` and
    ``mia_membership_rate`` (all percent). For a regressor: ``forget_mae``,
    ``retain_mae``, ``test_mae`` and ``regression_mia`` (members = retain and
    forget rows). ``seconds`` is ``unlearner.unlearn_time_`` when present.

    With ``reference`` (a fitted ``RetrainUnlearner`` or any model retrained
    without the forget rows, or a list of them), ``reference`` holds the same
    metrics averaged over the references, and ``avg_gap`` (classifiers, see
    :func:`avg_gap`) or ``prediction_wasserstein`` (regressors, against the
    first reference) compares the two.

    Parameters
    ----------
    unlearner : fitted estimator
        An unlearner after ``unlearn`` or any fitted model with ``predict``.
    X_forget, y_forget : array-like
        Forget rows and labels.
    X_retain, y_retain : array-like
        Retain training rows and labels.
    X_test, y_test : array-like
        Held-out rows and labels.
    reference : estimator or list of estimators, default=None
        Retrained model(s) to compare with.
    forget_classes : array-like, default=None
        For class-wise forgetting: dropped from the test set for
        ``test_accuracy``.

    Returns
    -------
    report : dict

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sktrust.metrics import unlearning_report
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> Xf, yf, Xr, yr, Xt, yt = X[:40], y[:40], X[40:400], y[40:400], X[400:], y[400:]
    >>> retrained = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xr, yr)
    >>> report = unlearning_report(retrained, Xf, yf, Xr, yr, Xt, yt,
    ...                            reference=retrained)
    >>> report["avg_gap"]
    0.0
    """
    if not hasattr(unlearner, "predict"):
        raise TypeError(f"{type(unlearner).__name__} has no predict method.")
    regression = is_regressor(unlearner)

    def metrics_of(model):
        if regression:
            return _regressor_metrics(model, X_forget, y_forget, X_retain, y_retain, X_test, y_test)
        return _classifier_metrics(
            model,
            X_forget,
            y_forget,
            X_retain,
            y_retain,
            X_test,
            y_test,
            forget_classes,
        )

    report = metrics_of(unlearner)
    seconds = getattr(unlearner, "unlearn_time_", None)
    if seconds is not None:
        report["seconds"] = float(seconds)
    if reference is None:
        return report
    refs = list(reference) if isinstance(reference, (list, tuple)) else [reference]
    if not refs:
        raise ValueError("reference must be a fitted model or a non-empty list.")
    ref_metrics = [metrics_of(r) for r in refs]
    report["reference"] = {k: float(np.mean([m[k] for m in ref_metrics])) for k in ref_metrics[0]}
    if regression:
        report["prediction_wasserstein"] = prediction_wasserstein(unlearner, refs[0], X_forget)
    elif "mia_efficacy" in report:
        report["avg_gap"] = avg_gap(report, ref_metrics)
    return report
