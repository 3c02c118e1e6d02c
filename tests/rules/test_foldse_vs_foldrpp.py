"""Fidelity of FOLDSEClassifier(criterion="info_gain", tail=0) to the FOLD-R++ package."""

import numpy as np
import pandas as pd
import pytest

foldrpp = pytest.importorskip("foldrpp")

from sktrust.datasets import load_uci
from sktrust.rules import FOLDSEClassifier

BINARY = ["acute", "autism", "breastw", "cars", "credit", "ecoli", "heart", "ionosphere",
          "kidney", "krkp", "mushroom", "sonar", "voting"]


def _fit_both(name):
    data = load_uci(name)
    # FOLD-R++ scans categorical attributes first, then numeric ones.
    cols = data.categorical + data.numeric
    X = data.data[cols]
    y = (data.target == data.positive).to_numpy()
    rows = []
    for rec, label in zip(X.to_dict("records"), y):
        row = {c: ("?" if pd.isna(v) else v) for c, v in rec.items()}
        row = {c: (float(v) if c in data.numeric and v != "?" else v) for c, v in row.items()}
        row["label"] = int(label)
        rows.append(row)
    perm = np.random.RandomState(0).permutation(len(X))
    train, test = perm[: int(0.8 * len(X))], perm[int(0.8 * len(X)):]
    ours = FOLDSEClassifier(criterion="info_gain", tail=0, categorical_features=data.categorical,
                            positive_label=True).fit(X.iloc[train], y[train])
    ref = foldrpp.Foldrpp(data.categorical, data.numeric, "label", 1)
    ref.fit([rows[i] for i in train], ratio=0.5)
    same_pred = np.array_equal(
        ours.predict(X.iloc[test]), np.array(ref.predict([rows[i] for i in test]), dtype=bool)
    )
    return ours, ref, X, rows, same_pred


@pytest.fixture(scope="module")
def fitted():
    return {name: _fit_both(name) for name in BINARY}


def test_same_test_predictions_as_foldrpp_on_at_least_10_of_13_sets(fitted):
    same = [name for name, res in fitted.items() if res[-1]]
    assert len(same) >= 10, f"same predictions only on {same}"


def _canon(lits, excs):
    lits = tuple((f, "<=" if op == "=<" else op, v if isinstance(v, str) else float(v))
                 for f, op, v in lits)
    return lits, tuple(_canon(e[1], e[2]) for e in excs)


def test_same_first_rule_as_foldrpp_on_kidney(fitted):
    ours, ref, *_ = fitted["kidney"]
    _, lits, excs = ours.rules_[0]
    assert _canon(lits, excs) == _canon(ref.rules[0][1], ref.rules[0][2])


def test_same_first_rule_as_foldrpp_on_voting_up_to_tied_literals(fitted):
    # Inside voting's exceptions, literals with equal scores (v != 'n' and
    # v == 'y' where only 'y'/'n' remain at that node) are tied; foldrpp breaks
    # ties in Python's set order, which changes with the hash seed of the
    # process, we in sorted order. So compare the rule's body literally, its
    # shape (exceptions per level) and the training rows it covers.
    ours, ref, X, rows, _ = fitted["voting"]
    assert ours.rules_[0][1] == [(f, op, v) for f, op, v in ref.rules[0][1]]

    def shape(excs):
        return [(len(e[1]), shape(e[2])) for e in excs]

    assert shape(ours.rules_[0][2]) == shape(ref.rules[0][2])
    train = np.random.RandomState(0).permutation(len(X))[: int(0.8 * len(X))]
    first = FOLDSEClassifier.__new__(FOLDSEClassifier)
    first.__dict__.update(ours.__dict__)
    first.rules_ = ours.rules_[:1]
    covered = first._decide(*first._encode(X.iloc[train])) == 0
    expected = np.array([foldrpp.evaluate(ref.rules[0], rows[i]) for i in train], dtype=bool)
    np.testing.assert_array_equal(covered, expected)
