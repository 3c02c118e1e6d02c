"""Random 10% forgetting on digits: every unlearner, tuned on validation rows,
ends closer to retraining than doing nothing and than one epoch of fine-tuning."""

import warnings

import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator

from sktrust.metrics import unlearning_report
from sktrust.unlearning import (
    DMMUnlearner,
    L1SparseUnlearner,
    PruneFirstUnlearner,
    SalUnUnlearner,
    SSDUnlearner,
    UnlearningSearchCV,
)

GRIDS = {
    "SSD": (SSDUnlearner, {"alpha": [2.0, 5.0, 10.0]}),
    "SalUn": (SalUnUnlearner, {"lr": [0.01, 0.03], "saliency_ratio": [0.3, 0.5]}),
    "L1Sparse": (L1SparseUnlearner, {"gamma": [3e-3, 1e-2], "lr": [0.01, 0.03]}),
}


@pytest.fixture(scope="module")
def setting(digits_split, digits_mlp, random_forget):
    X_fit, y_fit, X_val, y_val, X_te, y_te = digits_split
    f = random_forget
    data = (X_fit[f], y_fit[f], X_fit[~f], y_fit[~f])
    retrained = clone(digits_mlp).fit(X_fit[~f], y_fit[~f])

    def report(model):
        return unlearning_report(model, *data, X_te, y_te, reference=retrained)

    frozen = FrozenEstimator(digits_mlp)
    finetune = L1SparseUnlearner(frozen, gamma=0.0, epochs=1, random_state=0)
    baselines = {"nothing": report(digits_mlp)["avg_gap"],
                 "finetune": report(finetune.fit(X_fit, y_fit).unlearn(*data))["avg_gap"]}
    return frozen, data, X_fit, y_fit, X_val, y_val, report, baselines


@pytest.mark.parametrize("name", ["SSD", "SalUn", "L1Sparse", "PruneFirst"])
def test_gap_to_retraining_beats_doing_nothing_and_finetuning(setting, name):
    frozen, data, X_fit, y_fit, X_val, y_val, report, baselines = setting
    if name == "PruneFirst":
        unlearner = PruneFirstUnlearner(L1SparseUnlearner(lr=0.03), estimator=frozen,
                                        random_state=0)
        grid = {"unlearner__gamma": [3e-3, 1e-2]}
        search = UnlearningSearchCV(unlearner, grid, random_state=0)
    else:
        cls, grid = GRIDS[name]
        search = UnlearningSearchCV(cls(frozen, random_state=0), grid, random_state=0)
    search.fit(X_fit, y_fit, X_val=X_val, y_val=y_val).unlearn(*data)
    result = report(search)
    assert result["avg_gap"] < baselines["nothing"]
    assert result["avg_gap"] < baselines["finetune"]
    # membership inference on the forget rows moves toward the retrained value
    ref_mia = result["reference"]["mia_efficacy"]
    orig_mia = report(frozen.estimator)["mia_efficacy"]
    assert abs(result["mia_efficacy"] - ref_mia) < abs(orig_mia - ref_mia)


@pytest.mark.parametrize("params", [
    # the shipped default (last-layer influence attribution), untuned
    {},
    # no search: the datamodel (20 subset models on half the rows each) is
    # fitted once, with the default matching parameters
    {"attribution": "datamodel", "n_subset_models": 20},
], ids=["influence", "datamodel"])
def test_dmm_gap_to_retraining_beats_doing_nothing_and_finetuning(setting, params):
    frozen, data, X_fit, y_fit, _, _, report, baselines = setting
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        u = DMMUnlearner(frozen, random_state=0, **params).fit(X_fit, y_fit)
    result = report(u.unlearn(*data))
    assert result["avg_gap"] < baselines["nothing"]
    assert result["avg_gap"] < baselines["finetune"]
    ref_mia = result["reference"]["mia_efficacy"]
    orig_mia = report(frozen.estimator)["mia_efficacy"]
    assert abs(result["mia_efficacy"] - ref_mia) < abs(orig_mia - ref_mia)
