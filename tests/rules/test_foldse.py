"""Tests specific to FOLDSEClassifier."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from sktrust.datasets import load_uci
from sktrust.rules import FOLDSEClassifier
from sktrust.rules._literals import (
    LiteralSearch,
    encode_table,
    gini_score,
    info_gain,
    literal_mask,
)

# --------------------------------------------------------------------------- #
# Heuristics (card check 1)
# --------------------------------------------------------------------------- #


def test_info_gain_matches_the_worked_example_with_natural_log():
    # FOLD-R++ paper: IG(tp=4, fn=4, tn=4, fp=1) = -0.619 (ln, not log2).
    assert float(info_gain(4, 4, 4, 1)) == pytest.approx(-0.619, abs=1e-3)
    by_hand = (4 * np.log(4 / 5) + np.log(1 / 5) + 2 * 4 * np.log(4 / 8)) / 13
    assert float(info_gain(4, 4, 4, 1)) == pytest.approx(by_hand, rel=1e-12)


def test_gini_score_of_the_worked_example():
    # -[2*4*1/5 + 2*4*4/8] / 13
    assert float(gini_score(4, 4, 4, 1)) == pytest.approx(-(1.6 + 4.0) / 13, abs=1e-12)


@pytest.mark.parametrize("heuristic", [info_gain, gini_score])
def test_heuristics_reject_literals_that_are_mostly_wrong(heuristic):
    assert heuristic(1, 4, 1, 4) == -np.inf
    # A perfect split scores 0, the best possible value.
    assert float(heuristic(5, 0, 7, 0)) == 0.0


# --------------------------------------------------------------------------- #
# Prefix-sum search against brute force (card check 2)
# --------------------------------------------------------------------------- #


def _brute_force_best(numbers, tokens, pos, neg, heuristic):
    """Enumerate every literal in FOLD-R++ order and score it from its counts."""
    best, best_lit = -np.inf, None
    for j in range(numbers.shape[1]):
        rows = np.r_[pos, neg]
        nums = np.unique(numbers[rows, j][~np.isnan(numbers[rows, j])])
        toks = sorted({t for t in tokens[rows, j] if t is not None})
        cands = [(j, op, v) for v in nums for op in ("<=", ">")]
        cands += [(j, op, t) for t in toks for op in ("==", "!=")]
        for lit in cands:
            tp = literal_mask(numbers, tokens, lit, pos).sum()
            fp = literal_mask(numbers, tokens, lit, neg).sum()
            score = float(heuristic(tp, len(pos) - tp, len(neg) - fp, fp))
            if score > best:
                best, best_lit = score, (j, lit[1], float(lit[2]) if lit[1] in "<=>" else lit[2])
    return best_lit, best


@pytest.mark.parametrize("heuristic", [info_gain, gini_score])
def test_prefix_sum_search_equals_brute_force_on_random_mixed_columns(heuristic):
    rng = np.random.RandomState(0)
    for _ in range(100):  # 100 tables x 2 columns = 200 random mixed columns
        n = rng.randint(5, 40)
        cols = {}
        for name in ("a", "b"):
            vals = rng.randint(0, 6, size=n).astype(object)
            kind = rng.rand(n)
            vals[kind < 0.25] = rng.choice(["x", "y", "z"], size=(kind < 0.25).sum())
            vals[kind > 0.9] = np.nan
            cols[name] = vals
        X = pd.DataFrame(cols)
        numbers, tokens = encode_table(X, np.array([False, False]), "?")
        y = rng.rand(n) < 0.5
        pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
        search = LiteralSearch(numbers, tokens, heuristic)
        found = search.best(pos, neg, np.zeros(search.n_values, dtype=bool))
        lit, score = _brute_force_best(numbers, tokens, pos, neg, heuristic)
        if lit is None:
            assert found is None
            continue
        assert found[0] == lit
        assert found[2] == pytest.approx(score, rel=1e-12)


def test_hand_computed_first_literal_on_a_tiny_mixed_table():
    # x: numbers with one token 'a' and a missing value.  y positive = 1.
    X = pd.DataFrame({"x": [1, 2, 3, "a", 5, 6, None, 8]})
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    clf = FOLDSEClassifier(criterion="info_gain", tail=0, positive_label=1).fit(X, y)
    # Candidates: x<=3 covers tp=3, fp=0 -> fn=1, tn=4:
    # IG = [3 ln 1 + 4 ln(4/5) + 1 ln(1/5)] / 8, better than every other literal.
    assert clf.rules_[0][1][0] == ("x", "<=", 3.0)
    expected = (4 * np.log(4 / 5) + np.log(1 / 5)) / 8
    assert float(info_gain(3, 1, 4, 0)) == pytest.approx(expected)
    # 'a' is a token: '<=' is False on it, '==' catches it with a second rule.
    assert clf.predict(pd.DataFrame({"x": ["a", 7, "?"]})).tolist() == [1, 0, 0]


# --------------------------------------------------------------------------- #
# Behaviour on planted rules (card check 3)
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def planted():
    rng = np.random.RandomState(0)
    n = 2000
    X = pd.DataFrame(
        {
            "x0": rng.rand(n),
            "x1": rng.choice(["a", "b", "c"], size=n),
            "x2": rng.rand(n),
            "x3": rng.rand(n),
        }
    )
    y = ((X.x0 > 0.5) & (X.x1 != "b")) | (X.x2 <= 0.2)
    flip = rng.rand(n) < 0.05
    y = np.where(flip, ~y, y)
    return train_test_split(X, y, test_size=0.3, random_state=0)


def test_planted_rule_is_recovered_with_few_rules(planted):
    X_tr, X_te, y_tr, y_te = planted
    clf = FOLDSEClassifier(positive_label=True).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.9
    assert clf.n_rules_ <= 4


def test_fold_rpp_learns_at_least_as_many_rules_as_fold_se(planted):
    X_tr, _, y_tr, _ = planted
    se = FOLDSEClassifier(positive_label=True).fit(X_tr, y_tr)
    rpp = FOLDSEClassifier(criterion="info_gain", tail=0, positive_label=True).fit(X_tr, y_tr)
    assert rpp.n_rules_ >= se.n_rules_


def test_rule_count_does_not_grow_with_tail(planted):
    X_tr, _, y_tr, _ = planted
    counts = [
        FOLDSEClassifier(tail=t, positive_label=True).fit(X_tr, y_tr).n_rules_
        for t in (0.0, 0.005, 0.01, 0.02, 0.05)
    ]
    assert counts == sorted(counts, reverse=True)
    assert counts[-1] < counts[0]


# --------------------------------------------------------------------------- #
# Real data (card check 4)
# --------------------------------------------------------------------------- #


def test_breast_cancer_accuracy_close_to_a_depth_4_tree_with_few_rules():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    clf = FOLDSEClassifier().fit(X_tr, y_tr)
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= tree.score(X_te, y_te) - 0.05
    assert clf.n_rules_ <= 10


def test_digits_multiclass_reaches_seventy_percent():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    clf = FOLDSEClassifier(ratio=0.5).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.7
    assert {h for h, _, _ in clf.rules_} == set(range(10))


def test_raw_uci_frame_with_strings_and_missing_values_needs_no_encoding():
    data = load_uci("kidney")
    X, y = data.data, data.target
    assert X.isna().any().any() and (X.dtypes == "object").any()
    clf = FOLDSEClassifier(positive_label="ckd").fit(X, y)
    assert clf.score(X, y) >= 0.95
    assert set(clf.categorical_mask_) == {True, False}
    np.testing.assert_array_equal(clf.categorical_mask_, [c in data.categorical for c in X])
    # Rules name the DataFrame's columns.
    names = {f for _, lits, _ in clf.flat_rules_ for f, _, _ in lits}
    assert names <= set(X.columns)


def test_unseen_categories_at_predict_time_never_raise():
    data = load_uci("voting")
    clf = FOLDSEClassifier().fit(data.data, data.target)
    X_new = data.data.iloc[:5].copy()
    X_new.iloc[:, :] = "never-seen"
    pred = clf.predict(X_new)
    assert set(pred) <= set(clf.classes_)
    assert np.allclose(clf.predict_proba(X_new).sum(axis=1), 1.0)


def test_numpy_object_array_and_dataframe_give_the_same_program():
    data = load_uci("credit")
    df = FOLDSEClassifier(categorical_features=data.categorical).fit(data.data, data.target)
    idx = [list(data.data.columns).index(c) for c in data.categorical]
    arr = FOLDSEClassifier(categorical_features=idx).fit(
        data.data.to_numpy(dtype=object), data.target.to_numpy()
    )
    assert df.n_rules_ == arr.n_rules_
    np.testing.assert_array_equal(df.predict(data.data), arr.predict(data.data.to_numpy()))


# --------------------------------------------------------------------------- #
# Reading the program
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def toy():
    X = pd.DataFrame(
        {
            "age": [25, 61, 47, 33, 70, 52, 19, 66, 58, 45],
            "smoker": ["no", "yes", "yes", "no", "no", "yes", "?", "yes", "yes", "no"],
        }
    )
    y = np.array(["low", "high", "high", "low", "low", "high", "low", "high", "low", "low"])
    return X, y, FOLDSEClassifier(tail=0, positive_label="high").fit(X, y)


def test_export_text_in_logic_and_english_form_keeps_feature_names(toy):
    _, _, clf = toy
    logic = clf.export_text()
    english = clf.export_text(style="english")
    assert logic.startswith("label(X,'high') :- ")
    assert "smoker(X,'yes')" in logic and "smoker is 'yes'" in english
    assert english.splitlines()[-1] == "Otherwise: label is 'low'."
    assert len(logic.splitlines()) == clf.n_rules_
    with pytest.raises(ValueError, match="style"):
        clf.export_text(style="json")


def test_exceptions_are_learned_and_flattened(toy):
    X, y, clf = toy
    # 'smoker == yes' covers one 'low' row (age 58): ratio 1/4 <= 0.5, so
    # the rule keeps it as an exception learned on that row.
    head, lits, excs = clf.rules_[0]
    assert head == "high" and lits == [("smoker", "==", "yes")]
    assert len(excs) == 1
    assert clf.predict(X).tolist() == y.tolist()
    assert clf.n_literals_ == sum(len(lt) for _, lt, _ in clf.flat_rules_)


def test_explain_gives_the_deciding_rule_and_its_exceptions(toy):
    X, _, clf = toy
    exp = clf.explain(X)
    pred = clf.predict(X)
    assert exp.values.shape == X.shape
    for i, decision in enumerate(exp.decisions):
        assert decision["prediction"] == pred[i]
        if decision["rule"] is None:
            assert "by default" in decision["text"]
        else:
            assert clf.rules_[decision["rule"]][0] == pred[i]
            assert "[T] smoker is 'yes'" in decision["text"]
            assert "unless exception (does not hold)" in decision["text"]
            assert exp.values[i, 1] >= 1  # smoker is in the firing body
    # The row blocked by its exception says so.
    blocked = [d for d in exp.decisions if "(holds)" in d["text"]]
    assert blocked and all(d["rule"] is None for d in blocked)


def test_predict_proba_is_the_smoothed_class_frequency_of_the_deciding_rule(toy):
    X, y, clf = toy
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    decided = clf.explain(X).decisions
    prior = np.array([np.mean(y == c) for c in clf.classes_])
    for region in {d["rule"] for d in decided}:
        rows = [i for i, d in enumerate(decided) if d["rule"] == region]
        counts = np.array([np.sum(y[rows] == c) for c in clf.classes_])
        np.testing.assert_allclose(proba[rows], np.tile((counts + prior) / (len(rows) + 1),
                                                        (len(rows), 1)))
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #


def test_missing_values_are_a_token_not_an_error():
    X = np.array([[1.0], [np.nan], [3.0], [np.nan], [5.0], [np.nan]])
    y = np.array([0, 1, 0, 1, 0, 1])
    clf = FOLDSEClassifier(tail=0, positive_label=1).fit(X, y)
    assert clf.rules_[0][1] == [("x0", "==", "?")]
    assert clf.score(X, y) == 1.0


def test_bad_input_raises_clear_errors(toy):
    X, y, clf = toy
    with pytest.raises(ValueError, match="X has 1 features, but FOLDSEClassifier"):
        clf.predict(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="only one class"):
        FOLDSEClassifier().fit(X, ["a"] * len(X))
    with pytest.raises(ValueError, match="0 sample"):
        FOLDSEClassifier().fit(X.iloc[:0], y[:0])
    with pytest.raises(ValueError, match="positive_label"):
        FOLDSEClassifier(positive_label="medium").fit(X, y)
    with pytest.raises(ValueError, match="not a column"):
        FOLDSEClassifier(categorical_features=["weight"]).fit(X, y)
    with pytest.raises(ValueError, match="ratio"):
        FOLDSEClassifier(ratio=-1).fit(X, y)


def test_multiclass_rules_are_an_ordered_list_with_majority_default():
    rng = np.random.RandomState(0)
    x0 = rng.rand(600)
    X = pd.DataFrame({"x0": x0, "noise": rng.rand(600)})
    y = np.where(x0 <= 0.2, "a", np.where(x0 > 0.7, "b", "c"))  # c is the majority
    clf = FOLDSEClassifier(criterion="info_gain", tail=0).fit(X, y)
    # FOLD-RM: the first rule is learned for the most frequent class.
    assert clf.rules_[0][0] == "c"
    assert clf.default_class_ == "c"
    assert clf.score(X, y) == 1.0
    # A row no numeric literal can match (a token in a numeric column) falls
    # to the training majority class instead of FOLD-RM's "no answer".
    assert clf.predict(pd.DataFrame({"x0": ["?"], "noise": [0.5]}))[0] == "c"
    assert "rules are tried in order" in clf.export_text()


@pytest.mark.parametrize(
    "dtype, values",
    [
        (object, ["x", pd.NA, "y"]),
        ("string", ["x", None, "y"]),
        ("category", ["x", None, "y"]),
        ("Int64", [1, None, 3]),
        ("Float64", [1.5, None, 3.0]),
    ],
)
def test_pandas_na_in_nullable_columns_is_the_missing_token(dtype, values):
    # pd.NA has no truth value; it must read as missing like NaN, not crash.
    y = np.array([0, 1, 1] * 10)
    X = pd.DataFrame({"a": pd.array(values * 10, dtype=dtype)})
    clf = FOLDSEClassifier(tail=0, positive_label=1).fit(X, y)
    assert clf.score(X, y) == 1.0
    np.testing.assert_array_equal(clf.predict(X.iloc[[1]]), [1])
    # The same program as with NaN for the missing value.
    X_nan = pd.DataFrame({"a": np.array([v if v is not None and v is not pd.NA else np.nan
                                         for v in values] * 10, dtype=object)})
    if dtype in ("Int64", "Float64"):
        X_nan = X_nan.astype(float)
    ref = FOLDSEClassifier(tail=0, positive_label=1).fit(X_nan, y)
    assert clf.rules_ == ref.rules_
    np.testing.assert_array_equal(clf.predict_proba(X), ref.predict_proba(X_nan))


def test_explain_text_shows_integer_labels_as_python_values():
    # numpy 2 writes repr(np.int64(1)) as "np.int64(1)"; the text shows "1".
    X = np.array([[1.0], [2.0], [3.0], [4.0]] * 5)
    y = np.array([0, 0, 1, 1] * 5)
    clf = FOLDSEClassifier(tail=0, positive_label=1).fit(X, y)
    texts = [d["text"] for d in clf.explain(X[:4]).decisions]
    assert texts[0].startswith("0 by default") and texts[2].startswith("1 by rule 1")
    assert not any("np." in t for t in texts)
