"""Evaluation-only guard (NOVA protocol) and the captioning / diagnosis metrics."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn.utils.validation as sk_validation
from scipy import sparse
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktrust.exceptions import BenchmarkLeakageError
from sktrust.open_set import (
    EvaluationOnlyGuard,
    PostHocOpenSetClassifier,
    is_evaluation_only,
    keyword_scores,
    mark_evaluation_only,
    open_world_report,
)


@pytest.fixture(scope="module")
def split():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    return X[:40], y[:40], X[40:], y[40:]


def test_benchmark_leakage_error_is_a_value_error():
    assert issubclass(BenchmarkLeakageError, ValueError)


def test_marking_neither_copies_nor_marks_the_callers_array(split):
    X_eval = split[2]
    marked = mark_evaluation_only(X_eval)
    assert np.shares_memory(marked, X_eval)
    assert not is_evaluation_only(X_eval)
    assert is_evaluation_only(marked[:5]) and is_evaluation_only(marked[[0, 2]])
    assert is_evaluation_only(marked * 2.0)
    assert not is_evaluation_only(np.asarray(marked))
    assert is_evaluation_only(pickle.loads(pickle.dumps(marked)))
    with pytest.raises(TypeError, match="sparse"):
        mark_evaluation_only(sparse.csr_matrix(X_eval))


def test_sklearn_fit_on_marked_data_is_refused_but_predict_is_allowed(split):
    X_tr, y_tr, X_ev, y_ev = split
    clf = LogisticRegression().fit(X_tr, y_tr)
    bench = mark_evaluation_only(X_ev)
    with EvaluationOnlyGuard():
        assert clf.predict(bench).shape == (20,)
        with pytest.raises(BenchmarkLeakageError, match="LogisticRegression"):
            LogisticRegression().fit(bench, y_ev)
        with pytest.raises(BenchmarkLeakageError):
            make_pipeline(StandardScaler(), LogisticRegression()).fit(bench, y_ev)
        with pytest.raises(BenchmarkLeakageError):
            cross_val_score(LogisticRegression(), bench, y_ev, cv=2, error_score="raise")
        LogisticRegression().fit(X_tr, y_tr)  # clean data still trains
    # Outside the guard nothing is enforced (documented scope).
    LogisticRegression().fit(bench, y_ev)


def test_marked_dataframe_is_refused_after_slicing(split):
    X_ev, y_ev = split[2], split[3]
    df = mark_evaluation_only(pd.DataFrame(X_ev, columns=["a", "b", "c"]))
    with EvaluationOnlyGuard(), pytest.raises(BenchmarkLeakageError):
        LogisticRegression().fit(df.iloc[:15], y_ev[:15])


def test_guarded_rows_are_refused_even_when_the_mark_is_lost(split):
    X_tr, y_tr, X_ev, y_ev = split
    leaked = np.vstack([X_tr, np.asarray(mark_evaluation_only(X_ev))[:1]])
    with EvaluationOnlyGuard(X_ev):
        LogisticRegression().fit(X_tr, y_tr)
        with pytest.raises(BenchmarkLeakageError, match="1 of its rows"):
            LogisticRegression().fit(leaked, np.r_[y_tr, y_ev[:1]])
    guard = EvaluationOnlyGuard(X_ev)
    with pytest.raises(BenchmarkLeakageError):
        guard.check(X_ev[::-1].copy())  # usable by hand, outside ``with``
    # Fingerprints are exact: rows changed in any bit are not recognised.
    guard.check(X_ev.astype(np.float32).astype(float))


def test_later_partial_fit_calls_on_marked_data_are_refused(split):
    X_tr, y_tr, X_ev, y_ev = split
    sgd = SGDClassifier(random_state=0)
    with EvaluationOnlyGuard():
        sgd.partial_fit(X_tr, y_tr, classes=[0, 1])
        sgd.partial_fit(X_tr, y_tr)
        with pytest.raises(BenchmarkLeakageError):
            sgd.partial_fit(mark_evaluation_only(X_ev), y_ev)
        sgd.predict(mark_evaluation_only(X_ev))


def test_sktrust_threshold_selection_on_the_benchmark_is_refused(split):
    X_tr, y_tr, X_ev, y_ev = split
    with EvaluationOnlyGuard(), pytest.raises(BenchmarkLeakageError):
        PostHocOpenSetClassifier(threshold="auto").fit(mark_evaluation_only(X_ev), y_ev)


def test_guard_restores_sklearn_on_exit_even_after_an_error(split):
    original = sk_validation._check_feature_names
    with pytest.raises(BenchmarkLeakageError):
        with EvaluationOnlyGuard():
            with EvaluationOnlyGuard(split[2]):
                assert sk_validation._check_feature_names is not original
            assert sk_validation._check_feature_names is not original
            LogisticRegression().fit(mark_evaluation_only(split[2]), split[3])
    assert sk_validation._check_feature_names is original
    with pytest.raises(TypeError, match="numeric dense"):
        EvaluationOnlyGuard(sparse.csr_matrix(split[2]))


def test_keyword_scores_count_whole_terms_ignoring_case():
    vocab = ["glioma", "edema", "mass effect", "cyst"]
    true = ["Glioma with edema and mass effect", "normal", "cyst"]
    pred = ["glioma, mass effect", "edematous cyst", "CYST"]
    s = keyword_scores(true, pred, vocab)
    # case 1: TP glioma, mass effect; FN edema. case 2: FP cyst ("edematous"
    # is not "edema"). case 3: TP cyst. TP=3, FP=1, FN=1.
    np.testing.assert_array_equal(s["counts"].sum(axis=0), [3, 1, 1])
    assert s["precision"] == pytest.approx(0.75)
    assert s["recall"] == pytest.approx(0.75)
    assert s["f1"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="one text per case"):
        keyword_scores(true, pred[:2], vocab)
    with pytest.raises(ValueError, match="vocabulary"):
        keyword_scores(true, pred, [])


def test_report_gives_caption_and_topk_diagnosis_scores_with_cis():
    y_known = [1, 1, 0, 0, 0, 0]
    score = [0.9, 0.8, 0.1, 0.3, 0.2, 0.4]
    cats = ["normal", "normal", "glioma", "cyst", "glioma", "abscess"]
    topk = [["normal"], ["normal"], ["glioma", "cyst"],
            ["glioma", "a", "b", "c", "cyst"], ["a", "b", "c", "d", "e", "glioma"],
            ["abscess"]]
    rep = open_world_report(
        y_known, score, categories=cats, topk_pred=topk,
        text_true=["", "", "glioma", "cyst", "glioma", "abscess"],
        text_pred=["", "", "glioma", "glioma", "", "abscess"],
        vocabulary=["glioma", "cyst", "abscess"], n_bootstrap=200, random_state=0)
    diag = rep["diagnosis"]
    assert diag["n"] == 4
    assert diag["top1_accuracy"]["value"] == pytest.approx(2 / 4)
    assert diag["top5_accuracy"]["value"] == pytest.approx(3 / 4)
    assert diag["top1_accuracy"]["ci_low"] <= 0.5 <= diag["top1_accuracy"]["ci_high"]
    cap = rep["captioning"]
    # TP glioma, abscess; FP glioma (case 4); FN cyst, glioma (case 5).
    assert cap["keyword_precision"]["value"] == pytest.approx(2 / 3)
    assert cap["keyword_recall"]["value"] == pytest.approx(2 / 4)
    assert cap["n"] == 6
    with pytest.raises(ValueError, match="together"):
        open_world_report(y_known, score, text_true=["a"] * 6, n_bootstrap=0)
    with pytest.raises(ValueError, match="needs categories"):
        open_world_report(y_known, score, topk_pred=topk, n_bootstrap=0)


def test_parallel_fits_in_threads_are_refused(split):
    # Documented scope: the guard covers every thread of its process, so
    # n_jobs > 1 with the threading backend is refused (process workers are not).
    from joblib import parallel_backend

    X_ev, y_ev = split[2], split[3]
    with EvaluationOnlyGuard(X_ev), parallel_backend("threading"):
        with pytest.raises(BenchmarkLeakageError, match="rows of the evaluation-only"):
            cross_val_score(LogisticRegression(), X_ev.copy(), y_ev, cv=2, n_jobs=2,
                            error_score="raise")
