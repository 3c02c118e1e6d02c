"""Open-world evaluation (NOVA protocol): detection and localisation with bootstrap CIs."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import re
from numbers import Integral, Real

import numpy as np
from scipy.stats import rankdata
from sklearn.utils import check_random_state

from sktrust.metrics._open_set import _fpr_at_tpr
from sktrust.utils._sklearn_compat import Interval, validate_params


def _check_boxes(boxes, name):
    """``boxes`` as a finite float array of shape (n, 4); a single box may be 1-D."""
    try:
        arr = np.asarray(boxes, dtype=float)
    except (TypeError, ValueError) as exc:  # ragged rows, strings
        raise ValueError(f"{name} must be numbers of shape (n, 4) ([x1, y1, x2, y2] per "
                         f"box); {exc}") from None
    if arr.size == 0:
        return arr.reshape(0, 4)
    arr = np.atleast_2d(arr)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (n, 4); got {np.shape(boxes)}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf).")
    return arr


def box_iou(boxes_a, boxes_b):
    """Intersection over union of two sets of ``[x1, y1, x2, y2]`` boxes.

    Returns
    -------
    iou : ndarray of shape (len(boxes_a), len(boxes_b))

    Examples
    --------
    >>> from sktrust.open_set import box_iou
    >>> float(box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2]])[0, 0])
    0.3333333333333333
    """
    a, b = _check_boxes(boxes_a, "boxes_a"), _check_boxes(boxes_b, "boxes_b")
    if np.any(a[:, 2:] < a[:, :2]) or np.any(b[:, 2:] < b[:, :2]):
        raise ValueError("Boxes must be [x1, y1, x2, y2] with x2 >= x1 and y2 >= y1.")
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _check_iou_threshold(t):
    if isinstance(t, bool) or not isinstance(t, Real) or not 0 < t <= 1:
        raise ValueError(f"An IoU threshold must be a number in (0, 1]; got {t!r} (at 0 a "
                         "box that misses every true box would count as a hit).")
    return float(t)


def _match(boxes_true, boxes_pred, box_scores, iou_threshold):
    """Greedy one-to-one matching by descending score; (scores, is_tp, n_true)."""
    _check_iou_threshold(iou_threshold)
    scores, hits = [], []
    n_true = 0
    if not len(boxes_true) == len(boxes_pred) == len(box_scores):
        raise ValueError(
            "boxes_true, boxes_pred and box_scores need one entry per image; got "
            f"{len(boxes_true)}, {len(boxes_pred)} and {len(box_scores)}.")
    for gt, pred, sc in zip(boxes_true, boxes_pred, box_scores):
        gt = _check_boxes(gt, "boxes_true")
        pred = _check_boxes(pred, "boxes_pred")
        sc = np.asarray(sc, dtype=float).reshape(-1)
        if len(sc) != len(pred):
            raise ValueError("Each image needs one score per predicted box.")
        if not np.all(np.isfinite(sc)):
            raise ValueError("box_scores must be finite (no NaN or inf).")
        n_true += len(gt)
        iou = box_iou(pred, gt)
        used = np.zeros(len(gt), dtype=bool)
        for j in np.argsort(-sc, kind="stable"):
            cand = np.where(used, -1.0, iou[j]) if len(gt) else np.array([])
            best = int(np.argmax(cand)) if len(cand) else -1
            tp = best >= 0 and cand[best] >= iou_threshold
            if tp:
                used[best] = True
            scores.append(sc[j])
            hits.append(tp)
    return np.asarray(scores), np.asarray(hits, dtype=bool), n_true


def average_precision(boxes_true, boxes_pred, box_scores, *, iou_threshold=0.5):
    """Average precision of box detections over a set of images.

    Predictions of all images are ranked by score; each is matched greedily to
    the unmatched ground-truth box of its image with the highest IoU, and is a
    true positive when that IoU reaches ``iou_threshold`` (a duplicate of an
    already matched box is a false positive). AP is the area under the
    interpolated (monotone) precision-recall curve.

    Parameters
    ----------
    boxes_true : list of array-like of shape (n_i, 4)
        Ground-truth boxes of each image.
    boxes_pred : list of array-like of shape (k_i, 4)
        Predicted boxes of each image.
    box_scores : list of array-like of shape (k_i,)
        Confidence of each predicted box.
    iou_threshold : float, default=0.5

    Returns
    -------
    ap : float

    Examples
    --------
    >>> from sktrust.open_set import average_precision
    >>> average_precision([[[0, 0, 2, 2]]], [[[0, 0, 2, 2], [0, 0, 2, 2]]],
    ...                   [[0.9, 0.8]])
    1.0
    """
    scores, tp, n_true = _match(boxes_true, boxes_pred, box_scores, iou_threshold)
    if n_true == 0:
        raise ValueError("No ground-truth boxes: average precision is undefined.")
    if len(scores) == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = tp[order]
    cum_tp = np.cumsum(tp)
    precision = cum_tp / np.arange(1, len(tp) + 1)
    recall = cum_tp / n_true
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(steps * envelope))


def _hit_rate(boxes_true, boxes_pred, iou_threshold):
    hits = [bool(np.any(box_iou(p, g) >= iou_threshold))
            for g, p in zip(boxes_true, boxes_pred) if len(np.reshape(g, (-1, 4)))]
    return float(np.mean(hits)) if hits else float("nan")


def _auroc(is_known, score):
    """ROC AUC with known as positive, via the Mann-Whitney rank sum (ties: 1/2)."""
    ranks = rankdata(score)
    n_pos = is_known.sum()
    n_neg = len(score) - n_pos
    return float((ranks[is_known].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _fpr95(is_known, score):
    return _fpr_at_tpr(score, is_known, 0.95)[0]


def _bootstrap(stat, n, n_bootstrap, rng, confidence, valid=None):
    values = []
    for _ in range(n_bootstrap):
        idx = rng.randint(0, n, n)
        if valid is not None and not valid(idx):
            continue
        values.append(stat(idx))
    if not values:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    return tuple(float(v) for v in np.percentile(values, [tail, 100 - tail]))


def _with_ci(stat, n, n_bootstrap, rng, confidence, valid=None):
    """``{"value", "ci_low", "ci_high"}`` of ``stat`` over ``n`` cases, resampled by case."""
    low, high = (_bootstrap(stat, n, n_bootstrap, rng, confidence, valid)
                 if n_bootstrap else (float("nan"), float("nan")))
    return {"value": float(stat(np.arange(n))), "ci_low": low, "ci_high": high}


def _terms_in(text, patterns):
    return {term for term, pattern in patterns if pattern.search(str(text))}


def keyword_scores(text_true, text_pred, vocabulary):
    """Keyword precision, recall and F1 of clinical terms, pooled over cases.

    A term of ``vocabulary`` is present in a text when it occurs as a whole
    word or phrase, ignoring case. Counts of true positive (in both texts),
    false positive (predicted only) and false negative (reference only) terms
    are summed over cases (micro average); a ratio with a zero denominator is
    0.

    Parameters
    ----------
    text_true : sequence of str
        Reference caption / report of each case.
    text_pred : sequence of str
        Generated caption / report of each case.
    vocabulary : sequence of str
        Clinical terms to look for.

    Returns
    -------
    scores : dict
        ``precision``, ``recall``, ``f1`` (floats) and ``counts``, an int array
        of shape (n_cases, 3) with the per-case TP, FP and FN counts.

    Examples
    --------
    >>> from sktrust.open_set import keyword_scores
    >>> s = keyword_scores(["glioma with edema"], ["Glioma, no edema; cyst"],
    ...                    ["glioma", "edema", "cyst", "infarct"])
    >>> round(s["precision"], 3), s["recall"]
    (0.667, 1.0)
    """
    if len(text_true) != len(text_pred):
        raise ValueError("text_true and text_pred need one text per case.")
    terms = [str(t).strip() for t in vocabulary]
    if not terms or any(not t for t in terms):
        raise ValueError("vocabulary must be a non-empty list of non-empty terms.")
    patterns = [(t.lower(), re.compile(r"(?<!\w)" + re.escape(t) + r"(?!\w)", re.IGNORECASE))
                for t in terms]
    counts = np.zeros((len(text_true), 3), dtype=int)
    for i, (ref, gen) in enumerate(zip(text_true, text_pred)):
        ref_terms, gen_terms = _terms_in(ref, patterns), _terms_in(gen, patterns)
        counts[i] = (len(ref_terms & gen_terms), len(gen_terms - ref_terms),
                     len(ref_terms - gen_terms))
    return {**_prf(counts), "counts": counts}


def _prf(counts):
    tp, fp, fn = counts.sum(axis=0)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


@validate_params(
    {
        "y_known": ["array-like"],
        "known_score": ["array-like"],
        "categories": ["array-like", None],
        "boxes_true": [list, None],
        "boxes_pred": [list, None],
        "box_scores": [list, None],
        "text_true": ["array-like", None],
        "text_pred": ["array-like", None],
        "vocabulary": ["array-like", None],
        "topk_pred": [list, None],
        "iou_thresholds": [tuple, list],
        "n_bootstrap": [Interval(Integral, 0, None, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def open_world_report(y_known, known_score, *, categories=None, boxes_true=None,
                      boxes_pred=None, box_scores=None, text_true=None, text_pred=None,
                      vocabulary=None, topk_pred=None, iou_thresholds=(0.3, 0.5),
                      n_bootstrap=1000, confidence=0.95, random_state=None):
    """Evaluate on a never-trained-on open-world test set, NOVA style.

    Protocol: the test set is used for evaluation only (no training, tuning or
    threshold choice on it: see :class:`EvaluationOnlyGuard`); rare
    categories are reported one by one with their counts, since most have a
    handful of cases; every number comes with a bootstrap confidence interval
    resampled by case.

    Parameters
    ----------
    y_known : array-like of bool, shape (n_cases,)
        True for normal / known cases, False for abnormal / unknown ones.
    known_score : array-like of shape (n_cases,)
        Known-ness (higher = more normal), e.g. ``score_samples``.
    categories : array-like of shape (n_cases,), default=None
        Category of each abnormal case (ignored on known cases). Gives the
        per-category AUROC (that category's cases against all known cases)
        and their macro average.
    boxes_true, boxes_pred, box_scores : list, default=None
        Per case: ground-truth boxes (n_i, 4), predicted boxes (k_i, 4) and
        their scores (k_i,), ``[x1, y1, x2, y2]``. Give all three for
        localisation AP and hit rate at each IoU threshold.
    text_true, text_pred : sequence of str, default=None
        Per case: reference and generated caption / report. With
        ``vocabulary``, gives keyword precision, recall and F1 (see
        :func:`keyword_scores`). BLEU is not computed (it needs nltk or
        sacrebleu).
    vocabulary : sequence of str, default=None
        Clinical terms for the keyword scores.
    topk_pred : list of sequence, default=None
        Per case, the predicted diagnoses ranked best first. With
        ``categories`` (the true diagnosis of each unknown case), gives top-1
        and top-5 diagnosis accuracy over the unknown cases.
    iou_thresholds : tuple of float, default=(0.3, 0.5)
    n_bootstrap : int, default=1000
        Bootstrap resamples (0 = no intervals).
    confidence : float, default=0.95
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    report : dict
        ``detection``: ``auroc`` and ``fpr_at_95tpr``, each a dict with
        ``value``, ``ci_low``, ``ci_high``, plus ``n_known`` and ``n_unknown``;
        ``categories`` (if given): per category ``{"n", "auroc": {...}}`` and
        ``macro_auroc``; ``localisation`` (if boxes are given): per threshold
        ``ap`` (with CI) and ``hit_rate``; ``captioning`` (if texts are
        given): ``keyword_precision``, ``keyword_recall``, ``keyword_f1``
        (with CI) and ``n``; ``diagnosis`` (if ``topk_pred`` is given):
        ``top1_accuracy``, ``top5_accuracy`` (with CI) and ``n``.

    Examples
    --------
    >>> from sktrust.open_set import open_world_report
    >>> rep = open_world_report([1, 1, 1, 0, 0], [0.9, 0.8, 0.7, 0.2, 0.75],
    ...                         n_bootstrap=0)
    >>> round(rep["detection"]["auroc"]["value"], 3)
    0.833
    """
    y_arr = np.asarray(y_known)
    # Object arrays of bools (a pandas object column) are valid; "yes"/"no", 2 or NaN are not.
    if y_arr.dtype.kind not in "biufO" or not set(y_arr.ravel().tolist()) <= {0, 1}:
        raise ValueError("y_known must be boolean (True = known / normal) or 0/1; got "
                         f"values {np.unique(y_arr.astype(str))[:5].tolist()}.")
    is_known = y_arr.astype(bool)
    score = np.asarray(known_score, dtype=float)
    if is_known.shape != score.shape or is_known.ndim != 1:
        raise ValueError("y_known and known_score must be 1-D and of equal length.")
    if is_known.all() or not is_known.any():
        raise ValueError("y_known needs both known (True) and unknown (False) cases.")
    if not np.all(np.isfinite(score)):
        raise ValueError("known_score must be finite.")
    rng = check_random_state(random_state)
    n = len(score)

    def both(idx):
        return is_known[idx].any() and not is_known[idx].all()

    def with_ci(stat, m=n, valid=both):
        return _with_ci(stat, m, n_bootstrap, rng, confidence, valid)

    report = {"detection": {
        "auroc": with_ci(lambda i: _auroc(is_known[i], score[i])),
        "fpr_at_95tpr": with_ci(lambda i: _fpr95(is_known[i], score[i])),
        "n_known": int(is_known.sum()), "n_unknown": int((~is_known).sum()),
    }}
    if categories is not None:
        cats = np.asarray(categories, dtype=object)
        if cats.shape != score.shape:
            raise ValueError("categories must have one entry per case.")
        per = {}
        for c in sorted({str(v) for v in cats[~is_known]}):
            rows = is_known | (cats.astype(str) == c)
            sub_known, sub_score = is_known[rows], score[rows]
            m = int(rows.sum())

            def stat(i, k=sub_known, s=sub_score):
                return _auroc(k[i], s[i])

            per[c] = {"n": int((~sub_known).sum()),
                      "auroc": with_ci(stat, m, lambda i, k=sub_known: k[i].any()
                                       and not k[i].all())}
        report["categories"] = per
        report["macro_auroc"] = float(np.mean([v["auroc"]["value"] for v in per.values()]))
    if boxes_true is not None or boxes_pred is not None or box_scores is not None:
        if boxes_true is None or boxes_pred is None or box_scores is None:
            raise ValueError("Give boxes_true, boxes_pred and box_scores together.")
        if not (len(boxes_true) == len(boxes_pred) == len(box_scores)):
            raise ValueError("boxes_true, boxes_pred and box_scores need one entry per case.")
        m = len(boxes_true)
        loc = {}
        for t in iou_thresholds:
            _check_iou_threshold(t)
            def ap(i, t=t):
                return average_precision([boxes_true[j] for j in i],
                                         [boxes_pred[j] for j in i],
                                         [box_scores[j] for j in i], iou_threshold=t)

            def has_truth(i):
                return any(len(np.reshape(boxes_true[j], (-1, 4))) for j in i)

            loc[f"iou_{t}"] = {
                "ap": with_ci(ap, m, has_truth),
                "hit_rate": _hit_rate(boxes_true, boxes_pred, t),
            }
        report["localisation"] = loc
    if text_true is not None or text_pred is not None:
        if text_true is None or text_pred is None or vocabulary is None:
            raise ValueError("Give text_true, text_pred and vocabulary together.")
        counts = keyword_scores(list(text_true), list(text_pred), list(vocabulary))["counts"]
        report["captioning"] = {
            f"keyword_{name}": with_ci(lambda i, name=name: _prf(counts[i])[name],
                                       len(counts), None)
            for name in ("precision", "recall", "f1")
        }
        report["captioning"]["n"] = len(counts)
    if topk_pred is not None:
        if categories is None:
            raise ValueError("topk_pred needs categories, the true diagnosis of each case.")
        if len(topk_pred) != n:
            raise ValueError("topk_pred needs one ranked list of diagnoses per case.")
        truth = np.asarray(categories, dtype=object)[~is_known].astype(str)
        ranked = [[str(d) for d in topk_pred[j]] for j in np.flatnonzero(~is_known)]
        rank = np.array([r.index(t) if t in r else len(r) for t, r in zip(truth, ranked)])
        report["diagnosis"] = {
            "top1_accuracy": with_ci(lambda i: np.mean(rank[i] < 1), len(rank), None),
            "top5_accuracy": with_ci(lambda i: np.mean(rank[i] < 5), len(rank), None),
            "n": len(rank),
        }
    return report
