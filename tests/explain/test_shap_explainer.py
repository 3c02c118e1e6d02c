"""ShapExplainer: exact additivity, and agreement with closed forms."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from xgboost import XGBClassifier

from sktrust.explain import ShapExplainer


def test_linear_regression_values_are_the_closed_form(iris):
    X, _ = iris
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 1.0
    lr = LinearRegression().fit(X, y)
    exp = ShapExplainer(lr, max_background=150).fit(X).explain(X[:10])
    expected = lr.coef_ * (X[:10] - X.mean(axis=0))
    np.testing.assert_allclose(exp.values, expected, atol=1e-8)
    assert exp.feature_names == ["x0", "x1", "x2", "x3"]


@pytest.mark.parametrize(
    "model, output",
    [
        (XGBClassifier(n_estimators=10, max_depth=3), "margin"),
        (RandomForestClassifier(n_estimators=10, random_state=0), "probability"),
        (LogisticRegression(max_iter=500), "margin"),
    ],
)
def test_values_add_up_to_the_explained_output(model, output, breast_cancer):
    X, y = breast_cancer
    model.fit(X, y)
    exp = ShapExplainer(model, random_state=0).fit(X).explain(X[:8])
    explainer = ShapExplainer(model, random_state=0).fit(X)
    assert explainer.output_ == output
    total = exp.values.sum(axis=1) + exp.base_values
    if output == "margin":
        expected = (model.decision_function(X[:8]) if hasattr(model, "decision_function")
                    else model.predict(X[:8], output_margin=True))
    else:
        expected = model.predict_proba(X[:8])[:, 1]
    np.testing.assert_allclose(total, expected, atol=1e-4)


def test_unfitted_estimator_is_fitted_on_background_with_y(breast_cancer):
    X, y = breast_cancer
    exp = ShapExplainer(random_state=0).fit(X, y)
    assert exp.method_ == "linear"
    with pytest.raises(ValueError, match="not fitted"):
        ShapExplainer(LogisticRegression()).fit(X)


def test_pandas_feature_names_reach_the_explanation(breast_cancer):
    pd = pytest.importorskip("pandas")
    X, y = breast_cancer
    df = pd.DataFrame(X[:, :5], columns=list("abcde"))
    exp = ShapExplainer(random_state=0).fit(df, y).explain(df.iloc[:2])
    assert exp.feature_names == list("abcde")
