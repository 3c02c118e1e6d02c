"""TopKSurrogateExplainer: finds the informative columns, imitates the black box."""

import numpy as np
import pytest
import shap
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from sktrust.explain import TopKSurrogateExplainer


def _wide(n, d, seed=0):
    X, y = make_classification(n_samples=n, n_features=d, n_informative=10, n_redundant=0,
                               n_clusters_per_class=1, class_sep=2.0, shuffle=False,
                               random_state=seed)
    perm = np.random.RandomState(seed).permutation(n)  # columns 0..9 stay informative
    return X[perm], y[perm]


@pytest.fixture(scope="module")
def fitted():
    X, y = _wide(1500, 1000)
    exp = TopKSurrogateExplainer(LogisticRegression(C=0.05, max_iter=300), k=20,
                                 random_state=0).fit(X, y)
    return exp, X, y


def test_top_k_holds_the_informative_columns(fitted):
    exp, _, _ = fitted
    # 10 informative columns of 1000: a random top-20 holds 0.2 of them on average.
    assert np.sum(exp.top_k_features_ < 10) >= 8
    assert exp.screen_ == "gradient"
    assert set(exp.probe_scores_) == {"permutation", "sensitivity", "gradient"}
    assert exp.feature_importances_.shape == (1000,)


def test_surrogate_is_faithful_and_beats_random_columns(fitted):
    exp, X, _ = fitted
    assert exp.fidelity_ >= 0.9
    held = np.setdiff1d(np.arange(len(X)), exp._train_rows)
    train = exp._train_rows
    rnd = np.random.RandomState(1).choice(np.arange(10, 1000), 20, replace=False)
    target = exp.black_box_.predict(X[train])
    baseline = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X[train][:, rnd], target)
    random_fidelity = np.mean(baseline.predict(X[held][:, rnd]) == exp.black_box_.predict(
        X[held]))
    assert exp.fidelity_ >= random_fidelity + 0.15
    np.testing.assert_array_equal(exp.predict(X[:20]), exp.surrogate_.predict(
        X[:20][:, exp.top_k_features_]))


def test_imputing_the_top_k_hurts_the_black_box_more_than_random_columns(fitted):
    exp, X, y = fitted
    held = np.setdiff1d(np.arange(len(X)), exp._train_rows)
    means = X[exp._train_rows].mean(axis=0)
    rnd = np.random.RandomState(2).choice(np.arange(10, 1000), 20, replace=False)
    drops = []
    for cols in (exp.top_k_features_, rnd):
        X_imp = X[held].copy()
        X_imp[:, cols] = means[cols]
        drops.append(exp.black_box_accuracy_ - exp.black_box_.score(X_imp, y[held]))
    assert drops[0] >= drops[1] + 0.10


def test_local_rules_hold_and_counterfactuals_flip_the_surrogate(fitted):
    exp, X, _ = fitted
    rows = X[:25]
    pred = exp.predict(rows)
    names = exp._feature_names()
    for row, p, local in zip(rows, pred, exp.explain_local(rows)):
        assert local["prediction"] == p
        for cond in local["rule"].split(" and "):
            name, op, threshold = cond.split(" ")
            value = row[names.index(name)]
            # Thresholds print with 4 significant digits.
            assert value <= float(threshold) + 1e-3 if op == "<=" else (
                value > float(threshold) - 1e-3)
        cf = local["counterfactual"]
        assert exp.predict(cf[None])[0] != p
        assert local["counterfactual_prediction"] != p
        changed = np.flatnonzero(cf != row)
        assert set(changed) <= set(exp.top_k_features_)
        assert len(changed) == len(local["changes"]) >= 1


def test_rules_cover_the_training_rows_once(fitted):
    exp, _, _ = fitted
    rules = exp.rules()
    assert abs(sum(r["support"] for r in rules) - 1.0) < 1e-9
    assert all(0.5 <= r["confidence"] <= 1.0 for r in rules)
    assert all(r["prediction"] in exp.classes_ for r in rules)


def test_explanation_is_full_width_and_additive(fitted):
    exp, X, _ = fitted
    out = exp.explain(X[:4])
    assert isinstance(out, shap.Explanation)
    assert out.values.shape == (4, 1000)
    outside = np.setdiff1d(np.arange(1000), exp.top_k_features_)
    assert np.all(out.values[:, outside] == 0)
    np.testing.assert_allclose(out.values.sum(axis=1) + out.base_values,
                               exp.predict_proba(X[:4])[:, 1], atol=1e-8)


def test_five_thousand_features_with_a_prefit_black_box():
    X, y = _wide(1200, 5000, seed=1)
    bb = LogisticRegression(C=0.05, max_iter=300).fit(X[:800], y[:800])
    exp = TopKSurrogateExplainer(FrozenEstimator(bb), k=20, random_state=0).fit(
        X[800:], y[800:])
    # Only max(5k, 100) columns go through the perturbation probes.
    assert len(exp.candidates_) == 100
    assert np.sum(exp.top_k_features_ < 10) >= 6  # chance: 0.04
    assert exp.transform(X[:3]).shape == (3, 20)


def test_black_box_without_gradients_uses_native_importances_and_other_surrogates(iris):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier

    X, y = iris
    exp = TopKSurrogateExplainer(RandomForestClassifier(n_estimators=20, random_state=0),
                                 k=2, random_state=0).fit(X, y)
    assert exp.screen_ == "native" and "gradient" not in exp.probe_scores_
    assert exp.explain(X[:3]).values.shape == (3, 4, 3)
    knn = TopKSurrogateExplainer(KNeighborsClassifier(), k=2, surrogate=LogisticRegression(),
                                 random_state=0).fit(X, y)
    assert knn.screen_ == "correlation"
    assert knn.fidelity_ > 0.8
    with pytest.raises(TypeError, match="decision tree surrogate"):
        knn.rules()


def test_bad_inputs_raise_clear_errors(fitted, iris):
    exp, X, y = fitted
    with pytest.raises(ValueError, match="X has 3 features"):
        exp.predict(X[:2, :3])
    with pytest.raises(ValueError, match="requires y to be passed"):
        TopKSurrogateExplainer(LogisticRegression()).fit(X[:50])
    with pytest.raises(ValueError, match="single class"):
        TopKSurrogateExplainer(LogisticRegression()).fit(X[:50], np.zeros(50))
    with pytest.raises(ValueError, match="importance must be"):
        TopKSurrogateExplainer(LogisticRegression(), importance=("shapley",)).fit(X[:50],
                                                                                 y[:50])
    X_nan = X[:50].copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TopKSurrogateExplainer(LogisticRegression()).fit(X_nan, y[:50])
    with pytest.raises(ValueError):
        TopKSurrogateExplainer(LogisticRegression()).fit(X[:0], y[:0])


def test_a_rule_learner_can_be_the_surrogate(iris):
    from sklearn.ensemble import RandomForestClassifier

    rules = pytest.importorskip("sktrust.rules")
    X, y = iris
    exp = TopKSurrogateExplainer(RandomForestClassifier(n_estimators=20, random_state=0),
                                 k=2, surrogate=rules.FOLDSEClassifier(),
                                 random_state=0).fit(X, y)
    assert type(exp.surrogate_).__name__ == "FOLDSEClassifier"
    assert exp.fidelity_ > 0.8
    assert exp.predict(X[:5]).shape == (5,)


# -- the embedding probe ---------------------------------------------------------


@pytest.fixture(scope="module")
def narrow():
    X, y = _wide(600, 30)
    return X, y


def test_embedding_probe_is_the_norm_of_the_embedding_weights(narrow):
    from sklearn.neural_network import MLPClassifier

    X, y = narrow
    # A linear first layer e = W x + b: d e / d x_j is the column W[:, j] on every row.
    mlp = MLPClassifier((8,), activation="identity", max_iter=300, random_state=0).fit(X, y)
    exp = TopKSurrogateExplainer(mlp, k=5, importance=("embedding",), n_candidates=30,
                                 random_state=0).fit(X, y)
    np.testing.assert_allclose(exp.probe_scores_["embedding"],
                               np.linalg.norm(mlp.coefs_[0], axis=1), rtol=1e-10)
    np.testing.assert_array_equal(
        exp.top_k_features_, np.argsort(-np.linalg.norm(mlp.coefs_[0], axis=1))[:5])


def test_embedding_probe_under_relu_is_bounded_and_zero_on_ignored_columns(narrow):
    import copy

    from sklearn.neural_network import MLPClassifier

    X, y = narrow
    mlp = MLPClassifier((16,), max_iter=300, random_state=0).fit(X, y)
    mlp = copy.deepcopy(mlp)
    mlp.coefs_[0][[0, 3], :] = 0.0  # the embedding no longer reads columns 0 and 3
    exp = TopKSurrogateExplainer(mlp, k=5, importance=("permutation", "embedding"),
                                 n_candidates=30, random_state=0).fit(X, y)
    emb = exp.probe_scores_["embedding"]
    assert emb[0] == 0.0 and emb[3] == 0.0
    # ReLU keeps or zeroes each unit's slope: the norm never exceeds the weights'.
    assert np.all(emb <= np.linalg.norm(mlp.coefs_[0], axis=1) + 1e-12)
    assert np.all(emb[[1, 2, 4]] > 0)


def test_embedding_probe_needs_a_hidden_layer(narrow):
    X, y = narrow
    lr = LogisticRegression(max_iter=300).fit(X, y)
    exp = TopKSurrogateExplainer(lr, k=5, importance=("sensitivity", "embedding"),
                                 random_state=0).fit(X, y)
    assert set(exp.probe_scores_) == {"sensitivity"}
    with pytest.raises(ValueError, match="None of the probes"):
        TopKSurrogateExplainer(lr, k=5, importance=("embedding",), random_state=0).fit(X, y)


def test_a_rule_learner_surrogate_gives_global_rules_and_local_explanations(breast_cancer):
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    from sktrust.rules import FOLDSEClassifier

    X, y = breast_cancer
    names = [f"col_{j}" for j in range(X.shape[1])]
    X = pd.DataFrame(X, columns=names)
    exp = TopKSurrogateExplainer(RandomForestClassifier(n_estimators=20, random_state=0),
                                 k=3, surrogate=FOLDSEClassifier(tail=0),
                                 random_state=0).fit(X, y)
    rules = exp.rules()
    top = set(exp.get_feature_names_out())
    assert rules[-1]["rule"] == "no rule fires"
    assert abs(sum(r["support"] for r in rules) - 1.0) < 1e-9
    assert any("unless" in r["rule"] for r in rules)  # exceptions are shown
    for r in rules[:-1]:
        assert {f for f, _, _ in r["conditions"]} <= top  # original names, not x0
    # Each training row is explained by the rule that decides it, and the
    # rules' supports are exactly those shares.
    X_train = X.iloc[exp._train_rows]
    local = exp.explain_local(X_train)
    texts = [r["rule"] for r in rules]
    share = np.bincount([texts.index(e["rule"]) for e in local], minlength=len(rules))
    np.testing.assert_allclose(share / len(local), [r["support"] for r in rules])
    pred = exp.predict(X_train)
    for row, p, e in zip(X_train.to_numpy(), pred, local):
        assert e["prediction"] == p
        rule = rules[texts.index(e["rule"])]
        assert rule["prediction"] == p
        for f, op, v in rule["conditions"]:
            value = row[names.index(f)]
            assert value <= v if op == "<=" else value > v
