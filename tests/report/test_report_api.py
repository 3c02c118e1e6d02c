"""Tests of the report's Python API and its section registry."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from sktrust.report import (
    ReportContext,
    ReportInputError,
    SectionResult,
    audit,
    figure_to_html,
    generate_report,
    list_sections,
    register_section,
    unregister_section,
)
from sktrust.report._sections import _REGISTRY


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture
def clean_registry():
    """Restore the section registry after a test that registers sections."""
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


def test_audit_does_not_mutate_inputs(iris):
    X, y = iris
    X_before, y_before = X.copy(), y.copy()
    audit(X, y, cv=3, sections=["data_profile", "models"])
    pd.testing.assert_frame_equal(X, X_before)
    pd.testing.assert_series_equal(y, y_before)


def test_audit_is_reproducible(iris):
    X, y = iris
    a = audit(X, y, cv=3, shap_rows=30, sections=["models", "shap_importance"])
    b = audit(X, y, cv=3, shap_rows=30, sections=["models", "shap_importance"])
    assert a["models"] == b["models"]
    assert a["shap_importance"] == b["shap_importance"]
    c = audit(X, y, cv=3, sections=["models"], random_state=1)
    assert c["models"]["results"] != a["models"]["results"]


def test_audit_multiclass_xgboost_shap(iris, monkeypatch):
    X, y = iris
    monkeypatch.setattr(ReportContext, "best_model_name", lambda self: "xgboost")
    report = audit(X, y, cv=3, shap_rows=40, sections=["shap_importance"])
    shap = report["shap_importance"]
    assert shap["model"] == "xgboost" and "TreeExplainer" in shap["explainer"]
    assert set(shap["importance"]) == set(X.columns)
    # petal measurements separate the iris classes; sepal width barely does
    top_two = list(shap["importance"])[:2]
    assert set(top_two) <= {
        "petal length (cm)",
        "petal width (cm)",
        "sepal length (cm)",
    }
    assert shap["importance"]["sepal width (cm)"] < shap["importance"][top_two[0]]


def test_audit_numpy_input_and_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    report = audit(X, y, cv=3, sections=["data_profile", "models"])
    assert report["meta"]["classes"] == ["no", "yes"]
    assert report["meta"]["target"] == "target"
    assert list(report["data_profile"]["columns"]) == ["0", "1", "2"]
    assert report["models"]["results"]["logistic_regression"]["accuracy_mean"] > 0.9


def test_audit_drops_missing_target_rows(iris):
    X, y = iris
    y = y.astype(float)
    y.iloc[:5] = np.nan
    report = audit(X, y, cv=3, sections=["data_profile"])
    assert report["data_profile"]["n_rows"] == 145
    assert report["data_profile"]["n_dropped_missing_target"] == 5
    assert report["meta"]["classes"] == ["0.0", "1.0", "2.0"]


def test_folds_capped_by_smallest_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.array(["a"] * 37 + ["b"] * 3)
    report = audit(X, y, cv=5, sections=["models"])
    assert report["models"]["n_splits"] == 3


@pytest.mark.parametrize(
    "y, message",
    [
        (["a"] * 10, "only one class"),
        (list(range(10)), "single row"),
        (["a"] * 9 + ["b"], "single row"),
        ([np.nan] * 10, "no non-missing value"),
        (["a", "b"] * 4, "must match"),
    ],
)
def test_audit_bad_targets(y, message):
    X = np.arange(20, dtype=float).reshape(10, 2)
    with pytest.raises(ReportInputError, match=message):
        audit(X, pd.Series(y), sections=["data_profile"])


def test_audit_rejects_bad_parameters(iris):
    X, y = iris
    with pytest.raises(ValueError, match="cv must be"):
        audit(X, y, cv=1)
    with pytest.raises(ValueError, match="shap_rows"):
        audit(X, y, shap_rows=0)
    with pytest.raises(ReportInputError, match="unknown section"):
        audit(X, y, sections=["nope"])


def test_generate_report_from_dataframe_keeps_caller_frame(tmp_path):
    frame = pd.DataFrame(
        {"f": np.arange(30.0), "flag": [True, False] * 15, "label": ["u", "v"] * 15}
    )
    before = frame.copy()
    report = generate_report(frame, out=tmp_path, sections=["data_profile"])
    pd.testing.assert_frame_equal(frame, before)
    assert report["meta"]["target"] == "label"
    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert (tmp_path / "report.html").exists()
    with pytest.raises(ReportInputError, match="not in CSV"):
        generate_report(frame, target="missing", out=None)


def test_custom_section_registration(iris, tmp_path, clean_registry):
    @register_section("n_rows_check", order=15)
    def n_rows_check(context):
        assert isinstance(context, ReportContext)
        n = len(context.X)
        return SectionResult("Row check", f"<p>rows={n}</p>", {"n": n})

    keys = list_sections()
    assert keys.index("data_profile") < keys.index("n_rows_check") < keys.index("models")
    X, y = iris
    report = audit(X, y, out=tmp_path, sections=["data_profile", "n_rows_check"])
    assert report["meta"]["sections"] == ["data_profile", "n_rows_check"]
    assert report["n_rows_check"] == {"n": 150}
    html = (tmp_path / "report.html").read_text()
    assert "<h2>Row check</h2>" in html and "rows=150" in html

    with pytest.raises(ValueError, match="already registered"):
        register_section("n_rows_check")(n_rows_check)
    unregister_section("n_rows_check")
    assert "n_rows_check" not in list_sections()
    with pytest.raises(KeyError):
        unregister_section("n_rows_check")


def test_section_appended_without_order(clean_registry):
    register_section("last_one")(lambda context: SectionResult("x", "", {}))
    assert list_sections()[-1] == "last_one"


@pytest.mark.parametrize("key", ["meta", "has space", "", 3])
def test_register_section_rejects_bad_keys(key):
    with pytest.raises(ValueError):
        register_section(key)


def test_broken_section_is_reported_not_fatal(iris, clean_registry):
    @register_section("broken")
    def broken(context):
        raise RuntimeError("boom")

    @register_section("wrong_type")
    def wrong_type(context):
        return {"not": "a SectionResult"}

    X, y = iris
    report = audit(X, y, sections=["data_profile", "broken", "wrong_type"])
    assert report["broken"] == {"error": "RuntimeError: boom"}
    assert report["wrong_type"]["error"].startswith("TypeError")
    assert report["data_profile"]["n_rows"] == 150


def test_figure_to_html_embeds_png():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1])
    tag = figure_to_html(fig, alt='a "quoted" <alt>')
    assert tag.startswith('<img src="data:image/png;base64,iVBORw0KGgo')
    assert "&quot;quoted&quot; &lt;alt&gt;" in tag
