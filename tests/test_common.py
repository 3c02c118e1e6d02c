"""sklearn's estimator checks, and sktrust's own, on every public estimator."""

import copy
import io
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from sktrust.utils import all_estimators, trusted_types
from sktrust.utils._test_common.instance_generator import (
    estimator_instances,
    expected_failed_checks,
)

INSTANCES = estimator_instances()


def _ids(est):
    return type(est).__name__


@parametrize_with_checks(INSTANCES, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_all_estimators_finds_the_foundation_estimators():
    names = {name for name, _ in all_estimators()}
    assert {"RetrainUnlearner", "PostHocOpenSetClassifier", "ShapExplainer"} <= names
    assert not any(n.startswith("Base") or n.endswith("Mixin") for n in names)


def test_all_estimators_type_filter():
    classifiers = {n for n, _ in all_estimators("classifier")}
    assert "PostHocOpenSetClassifier" in classifiers
    assert "ShapExplainer" not in classifiers
    with pytest.raises(ValueError, match="unknown kinds"):
        all_estimators("nonsense")


def _data_for(est, n=60, n_features=4):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, n_features))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    if is_regressor(est):
        y = X[:, 0] * 2.0 + rng.normal(scale=0.1, size=n)
    return X, y


def _outputs(est, X):
    out = {}
    for method in ("predict", "predict_proba", "decision_function", "transform",
                   "score_samples"):
        if hasattr(est, method):
            try:
                out[method] = np.asarray(getattr(est, method)(X))
            except (ValueError, TypeError):
                continue
    if hasattr(est, "explain"):
        out["explain"] = np.asarray(est.explain(X[:3]).values)
    return out


def _sampler_outputs(est, X, y):
    """A sampler is compared by what it resamples (it has no predict)."""
    if not hasattr(est, "fit_resample"):
        return {}
    Xr, yr = est.fit_resample(X, y)
    return {"X_resampled": np.asarray(Xr), "y_resampled": np.asarray(yr)}


@pytest.mark.parametrize("estimator", INSTANCES, ids=_ids)
def test_pickle_and_skops_round_trip(estimator):
    skops_io = pytest.importorskip("skops.io")
    X, y = _data_for(estimator)
    est = clone(estimator).fit(X, y)
    before = _outputs(est, X) or _sampler_outputs(est, X, y)
    assert before, "the estimator exposes no prediction method"
    for loaded in (
        pickle.loads(pickle.dumps(est)),
        skops_io.loads(skops_io.dumps(est), trusted=_trusted(est)),
    ):
        after = _outputs(loaded, X) or _sampler_outputs(loaded, X, y)
        assert after.keys() == before.keys()
        for key in before:
            np.testing.assert_allclose(after[key].astype(float) if after[key].dtype.kind
                                       in "fiu" else after[key], before[key]
                                       if before[key].dtype.kind not in "fiu"
                                       else before[key].astype(float), rtol=1e-6)


def _trusted(est):
    import skops.io

    buf = io.BytesIO(skops.io.dumps(est))
    untrusted = skops.io.get_untrusted_types(data=buf.getvalue())
    ours = set(trusted_types())
    # Only sktrust types and standard numpy/sklearn/shap types may need trust.
    return [t for t in untrusted if t in ours or not t.startswith("sktrust")]


@pytest.mark.parametrize("estimator", INSTANCES, ids=_ids)
def test_fit_and_predict_do_not_mutate_inputs(estimator):
    X, y = _data_for(estimator)
    X_copy, y_copy = X.copy(), y.copy()
    est = clone(estimator).fit(X, y)
    _outputs(est, X)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


@pytest.mark.parametrize("estimator", INSTANCES, ids=_ids)
def test_pandas_feature_names_are_kept(estimator):
    pd = pytest.importorskip("pandas")
    X, y = _data_for(estimator)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = clone(estimator).fit(df, y)
    np.testing.assert_array_equal(est.feature_names_in_, df.columns.to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _outputs(est, df)


@pytest.mark.parametrize("estimator", INSTANCES, ids=_ids)
def test_random_state_makes_results_reproducible(estimator):
    if "random_state" not in estimator.get_params():
        pytest.skip("estimator draws no randomness")
    X, y = _data_for(estimator)
    a_est = clone(estimator).set_params(random_state=3).fit(X, y)
    b_est = clone(estimator).set_params(random_state=3).fit(X, y)
    if hasattr(estimator, "unlearn"):  # unlearning must be reproducible too
        forget = np.arange(len(X)) % 6 == 0
        for est in (a_est, b_est):
            est.unlearn(X[forget], y[forget], X[~forget], y[~forget])
    a = _outputs(a_est, X) or _sampler_outputs(a_est, X, y)
    b = _outputs(b_est, X) or _sampler_outputs(b_est, X, y)
    assert a, "nothing to compare"
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize(
    "estimator", [e for e in INSTANCES if hasattr(e, "unlearn")], ids=_ids
)
def test_unlearner_contract(estimator):
    from sktrust.utils.estimator_checks import check_unlearner

    u = check_unlearner(type(estimator).__name__, copy.deepcopy(estimator))
    assert [h["n_forget"] for h in u.unlearn_history_] == [9, 9]


@pytest.mark.parametrize(
    "estimator", [e for e in INSTANCES if hasattr(e, "explain")], ids=_ids
)
def test_explainer_contract(estimator):
    import shap

    from sktrust.utils.estimator_checks import check_explainer

    out = check_explainer(type(estimator).__name__, copy.deepcopy(estimator))
    assert isinstance(out, shap.Explanation) and np.all(np.isfinite(out.values))


@pytest.mark.parametrize(
    "estimator", [e for e in INSTANCES if getattr(e, "_open_set", False)], ids=_ids
)
def test_open_set_contract(estimator):
    from sktrust.utils.estimator_checks import check_open_set

    assert is_classifier(estimator)
    auto = check_open_set(type(estimator).__name__, copy.deepcopy(estimator))
    assert auto.threshold_ is not None
