"""FOLDSEClassifier (gini) against the published numbers of the official FOLD-SE service.

The official FOLD-SE code is closed; the authors run it as a web service. A third party
(github.com/fixedsyser/foldse-asp-hybrid, 2026, ``paper_results/data-results/``) ran that
service with ``ratio=0.5, tail=0.005`` on five of our thirteen binary UCI sets (their CSVs are
byte for byte our bundled files, with the same label, positive class and column types) over
ten stratified 80/20 splits, ``train_test_split(test_size=0.2, random_state=42 + i,
stratify=y)``, and published the mean number of flat rules (default rules plus exception
rules, the count of ``n_rules_``) and the mean test accuracy. We refit on the same splits.
"""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from sktrust.datasets import load_uci
from sktrust.rules import FOLDSEClassifier

# foldse_dynamic_comparison_results.csv ("# ASP rules") and
# foldse_hybrid_model_results_with_std.csv ("FOLD-SE Pure", "FOLD-SE Accuracy").
OFFICIAL_RULES = {"heart": 4.0, "autism": 11.6, "breastw": 4.4, "ecoli": 3.4, "kidney": 4.6}
OFFICIAL_ACCURACY = {"heart": 0.7296, "autism": 0.9248, "breastw": 0.9457, "ecoli": 0.9574,
                     "kidney": 0.985}
# foldrpp_comparison_results.csv: FOLD-R++ on the same protocol (46.8 rules in all), so
# the official FOLD-SE uses 28.0 / 46.8 = 0.60 of FOLD-R++'s rules on these sets.
PUBLISHED_FOLD_RPP_RULES = {"heart": 11.1, "autism": 18.7, "breastw": 7.2, "ecoli": 5.0,
                            "kidney": 4.8}


@pytest.fixture(scope="module")
def refits():
    out = {}
    for name in OFFICIAL_RULES:
        data = load_uci(name)
        X = data.data[data.categorical + data.numeric]
        y = (data.target == data.positive).to_numpy()
        rules, ig_rules, acc = [], [], []
        for i in range(10):
            tr, te = train_test_split(np.arange(len(X)), test_size=0.2, random_state=42 + i,
                                      stratify=y.astype(int))
            common = {"categorical_features": data.categorical, "positive_label": True}
            se = FOLDSEClassifier(**common).fit(X.iloc[tr], y[tr])
            rpp = FOLDSEClassifier(criterion="info_gain", tail=0, **common).fit(X.iloc[tr], y[tr])
            rules.append(se.n_rules_)
            ig_rules.append(rpp.n_rules_)
            acc.append(np.mean(se.predict(X.iloc[te]) == y[te]))
        out[name] = (np.mean(rules), np.mean(ig_rules), np.mean(acc))
    return out


def test_as_compact_as_the_official_fold_se_at_its_accuracy(refits):
    ours = sum(r for r, _, _ in refits.values())
    official = sum(OFFICIAL_RULES.values())
    assert ours <= 1.1 * official, (ours, official)
    accuracy = np.mean([a for _, _, a in refits.values()])
    assert accuracy >= np.mean(list(OFFICIAL_ACCURACY.values())) - 0.02, accuracy


def test_rule_ratio_to_fold_rpp_is_that_of_the_official_fold_se(refits):
    ours = sum(r for r, _, _ in refits.values()) / sum(r for _, r, _ in refits.values())
    official = sum(OFFICIAL_RULES.values()) / sum(PUBLISHED_FOLD_RPP_RULES.values())
    assert ours <= official + 0.05, (ours, official)
    # Every set: FOLD-SE never needs more rules than FOLD-R++.
    assert all(se <= rpp for se, rpp, _ in refits.values()), refits
