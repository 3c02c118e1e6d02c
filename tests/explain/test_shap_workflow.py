"""ShapWorkflowExplainer: aspects, selection, additivity, importance agreement."""

import warnings

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from xgboost import XGBClassifier

from sktrust.explain import ShapWorkflowExplainer


@pytest.fixture(scope="module")
def duplicated():
    """3 informative columns, each with two 1%-noise copies, and 10 noise columns."""
    rng = np.random.RandomState(0)
    X0, y = make_classification(n_samples=240, n_features=13, n_informative=3, n_redundant=0,
                                n_clusters_per_class=1, shuffle=False, random_state=0)
    inf = X0[:, :3]
    copies = [inf + 0.01 * inf.std(axis=0) * rng.normal(size=inf.shape) for _ in range(2)]
    X = np.column_stack([inf, *copies, X0[:, 3:]])  # informative: columns 0..8
    return X, y


def _rf(n=15):
    return RandomForestClassifier(n_estimators=n, random_state=0)


@pytest.fixture(scope="module")
def workflow(duplicated):
    X, y = duplicated
    return ShapWorkflowExplainer(_rf(), aspect_threshold=0.9, cv=3, n_repeats=3,
                                 random_state=0).fit(X, y)


def test_correlated_copies_become_three_aspects_and_selection_keeps_them(workflow):
    groups = [sorted(c) for c in workflow.aspects_.values() if len(c) > 1]
    assert sorted(groups) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    informative = {n for n, c in workflow.aspects_.items() if len(c) == 3}
    selected = set(workflow.selected_features_)
    assert len(selected & informative) >= 2
    assert len(selected - informative) <= 2
    top3 = workflow.importance_table()["aspect"][:3]
    assert set(top3[: len(selected & informative)]) <= informative
    # The path is the CV score after each step, and it grows by at least tol.
    scores = [s for _, s in workflow.selection_path_]
    assert np.all(np.diff(scores) >= workflow.tol)


@pytest.mark.parametrize("model", [
    _rf(10),
    XGBClassifier(n_estimators=10, max_depth=2, n_jobs=1),
    CalibratedClassifierCV(SVC(), ensemble=False),
    LogisticRegression(),
], ids=["rf", "xgb", "svm", "lr"])
def test_values_add_up_to_the_positive_class_probability(model, duplicated):
    rows = np.random.RandomState(0).permutation(len(duplicated[1]))[:40]
    X, y = duplicated[0][rows], duplicated[1][rows]
    wf = ShapWorkflowExplainer(model, aspect_threshold=0.9, forward_selection=False,
                               n_repeats=2, background_size=10, random_state=0).fit(X, y)
    exp = wf.explain(X[:5])
    assert exp.values.shape == (5, X.shape[1])
    np.testing.assert_allclose(exp.values.sum(axis=1) + exp.base_values,
                               wf.predict_proba(X[:5])[:, 1], atol=1e-5)
    # Members of an aspect share its value; the aspect view adds up the same.
    by_aspect = wf.explain_aspects(X[:5])
    for k, name in enumerate(wf.selected_features_):
        np.testing.assert_allclose(exp.values[:, wf.aspects_[name]].sum(axis=1),
                                   by_aspect.values[:, k], atol=1e-10)
    if isinstance(model, CalibratedClassifierCV):
        assert wf.natural_importance_ is None
    else:
        assert wf.natural_importance_.shape == (len(wf.selected_features_),)


def test_shap_and_permutation_importances_agree_on_a_forest(breast_cancer):
    X, y = breast_cancer
    noise = np.random.RandomState(0).normal(size=(len(X), 3))
    X = np.column_stack([X[:, :12], noise])
    wf = ShapWorkflowExplainer(_rf(30), forward_selection=False, n_repeats=5,
                               random_state=0).fit(X, y)
    corr = wf.importance_correlation_
    assert corr["shap vs permutation"]["spearman"] > 0.7
    assert corr["shap vs natural"]["spearman"] > 0.7
    # Column order survives: the pure-noise columns rank last by SHAP.
    assert set(np.argsort(wf.shap_importance_)[:5]) >= {12, 13, 14}
    table = wf.importance_table().set_index("aspect")
    for k, name in enumerate(wf.selected_features_):
        assert table.loc[name, "permutation"] == wf.permutation_importance_[k]
    assert spearmanr(wf.shap_importance_, wf.permutation_importance_).statistic == (
        corr["shap vs permutation"]["spearman"])


def test_consolidation_stops_credit_splitting(duplicated):
    X, y = duplicated
    kw = dict(forward_selection=False, n_repeats=2, random_state=0)
    # Every split sees every column, so copies do not get more chances to be used.
    rf = RandomForestClassifier(n_estimators=40, max_features=None, random_state=0)
    split = ShapWorkflowExplainer(rf, **kw).fit(X, y)
    merged = ShapWorkflowExplainer(rf, aspect_threshold=0.9, **kw).fit(X, y)
    name = next(n for n, c in merged.aspects_.items() if 0 in c)
    k = merged.selected_features_.index(name)
    members = merged.aspects_[name]
    # Each copy alone gets well under the aspect's importance ...
    assert split.shap_importance_[members].max() < 0.8 * merged.shap_importance_[k]
    # ... and the copies' summed values carry the aspect's credit (within 20%).
    rows = X[:200]
    summed = np.abs(split.explain(rows).values[:, members].sum(axis=1)).mean()
    aspect = np.abs(merged.explain_aspects(rows).values[:, k]).mean()
    assert abs(summed / aspect - 1) < 0.2


def test_explicit_aspects_sum_and_evaluation_table(duplicated):
    import pandas as pd

    X, y = duplicated
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    wf = ShapWorkflowExplainer(_rf(), aspects={"first": ["c0", "c3", "c6"]},
                               aspect_agg="sum", forward_selection=False, n_repeats=2,
                               random_state=0).fit(df, y)
    assert wf.aspects_["first"] == [0, 3, 6]
    np.testing.assert_allclose(wf.transform(df)[:, 0], X[:, [0, 3, 6]].sum(axis=1))
    table = wf.importance_table(df[100:], y[100:])
    assert list(table.columns) == ["aspect", "members", "shap", "natural", "permutation",
                                   "shap_rank", "natural_rank", "permutation_rank"]
    assert table["aspect"].iloc[0] == "first"
    assert wf.explain(df[:2]).feature_names == list(df.columns)


def test_plots_draw_every_importance(workflow):
    import matplotlib.pyplot as plt

    ax = workflow.plot_importance()
    assert len(ax.patches) == 3 * len(workflow.selected_features_)
    ax2 = workflow.plot_selection_path()
    assert len(ax2.lines[0].get_xdata()) == len(workflow.selection_path_)
    plt.close("all")


def test_bad_inputs_raise_clear_errors(duplicated):
    X, y = duplicated
    with pytest.raises(ValueError, match="requires y"):
        ShapWorkflowExplainer().fit(X)
    with pytest.raises(ValueError, match="single class"):
        ShapWorkflowExplainer().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="unknown column"):
        ShapWorkflowExplainer(aspects={"a": ["nope"]}).fit(X, y)
    with pytest.raises(ValueError, match="share none"):
        ShapWorkflowExplainer(aspects={"a": [0, 1], "b": [1, 2]}).fit(X, y)
    wf = ShapWorkflowExplainer(_rf(5), forward_selection=False, n_repeats=1,
                               random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        wf.predict(X[:2, :3])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        wf.explain(X_nan[:3])
    with pytest.raises(ValueError, match="not seen in fit"):
        wf.importance_table(X[:20], np.full(20, 7))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        wf.importance_table(X[:20], y[:5])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        wf.score(X[:20], y[:5])
    with pytest.raises(ValueError, match="at least 2 rows of each class"):
        ShapWorkflowExplainer(_rf(5)).fit(X, np.r_[1, np.zeros(len(X) - 1)])


def test_cross_validation_uses_no_more_folds_than_the_rarest_class(duplicated):
    X, y = duplicated
    y3 = np.zeros(len(y), dtype=int)
    y3[np.flatnonzero(y == 1)[:3]] = 1  # the rarest class has 3 rows, cv=5
    with warnings.catch_warnings():
        # sklearn warns when n_splits exceeds the rows of the rarest class.
        warnings.filterwarnings("error", message=".*least populated class")
        wf = ShapWorkflowExplainer(_rf(5), cv=5, n_repeats=1, random_state=0).fit(X, y3)
    assert wf._cv(y3).get_n_splits() == 3
    assert len(wf.selected_features_) >= 1


def test_empty_data_raises_a_clear_error(duplicated):
    X, y = duplicated
    with pytest.raises(ValueError, match="0 sample"):
        ShapWorkflowExplainer(_rf(5)).fit(X[:0], y[:0])
    wf = ShapWorkflowExplainer(_rf(5), forward_selection=False, n_repeats=1,
                               random_state=0).fit(X, y)
    for call in (wf.predict, wf.predict_proba, wf.transform, wf.explain, wf.explain_aspects):
        with pytest.raises(ValueError, match="0 sample"):
            call(X[:0])
    with pytest.raises(ValueError, match="0 sample"):
        wf.importance_table(X[:0], y[:0])


def test_a_constant_column_is_its_own_aspect_and_does_not_break_clustering(duplicated):
    from scipy.stats import spearmanr

    from sktrust.explain._workflow import _spearman_matrix, correlation_groups

    X, y = duplicated
    # A constant first column (scipy's spearmanr then returns one NaN for the
    # whole matrix), then three copied pairs: columns 1-6.
    X = np.column_stack([np.ones(len(X)), X[:, :6]])
    groups = correlation_groups(X, 0.9)
    assert sorted(groups) == [[0], [1, 4], [2, 5], [3, 6]]
    # Spearman as scipy computes it wherever it is defined.
    np.testing.assert_allclose(_spearman_matrix(X)[1:, 1:], spearmanr(X[:, 1:]).statistic,
                               atol=1e-12)
    assert np.all(_spearman_matrix(X)[0] == 0)
    wf = ShapWorkflowExplainer(_rf(5), aspect_threshold=0.9, forward_selection=False,
                               n_repeats=1, random_state=0).fit(X, y)
    assert [0] in wf.aspects_.values() and [1, 4] in wf.aspects_.values()


def test_string_labels_work_with_xgboost_and_map_back(duplicated):
    # XGBoost only takes labels 0..C-1: the workflow fits class indices.
    X, y = duplicated
    names = np.array(["healthy", "sick"])
    kw = dict(aspect_threshold=0.9, forward_selection=False, n_repeats=2, background_size=10,
              random_state=0)
    xgb = XGBClassifier(n_estimators=10, max_depth=2, n_jobs=1)
    words = ShapWorkflowExplainer(xgb, **kw).fit(X, names[y])
    codes = ShapWorkflowExplainer(xgb, **kw).fit(X, y)
    np.testing.assert_array_equal(words.classes_, names)
    np.testing.assert_array_equal(words.predict(X[:30]), names[codes.predict(X[:30])])
    np.testing.assert_allclose(words.predict_proba(X[:30]), codes.predict_proba(X[:30]))
    np.testing.assert_allclose(words.explain(X[:5]).values, codes.explain(X[:5]).values)
    assert words.score(X, names[y]) == codes.score(X, y)
    rows = np.random.RandomState(0).permutation(len(y))[:60]
    np.testing.assert_allclose(words.importance_table(X[rows], names[y[rows]])["permutation"],
                               codes.importance_table(X[rows], y[rows])["permutation"])
