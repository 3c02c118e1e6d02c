"""Fast settings and expected failures of the unlearning family's common checks."""

from sklearn.neural_network import MLPClassifier, MLPRegressor

from sktrust.unlearning import SSDUnlearner

# A tiny inner net keeps the ~60 sklearn checks per unlearner fast; the
# defaults (64 hidden units, 200 iterations) are exercised in tests/unlearning.
_CLF = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.02, max_iter=100,
                     random_state=0)
_REG = MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.02, max_iter=100,
                    random_state=0)

TEST_PARAMS = {
    "SSDUnlearner": {"estimator": _CLF},
    "DMMUnlearner": {"estimator": _CLF, "n_subset_models": 2, "epochs": 2},
    "SalUnUnlearner": {"estimator": _CLF},
    "L1SparseUnlearner": {"estimator": _CLF},
    "PruneFirstUnlearner": {"estimator": _CLF},
    "BlindspotUnlearner": {"estimator": _REG},
    "GaussianFineTuneUnlearner": {"estimator": _REG},
    "SAEConceptSuppressor": {"estimator": _CLF, "sae_epochs": 5, "n_features": 2},
    "WorstCaseForgetSelector": {"estimator": _CLF},
    "UnlearningSearchCV": {"estimator": SSDUnlearner(_CLF),
                           "param_grid": {"alpha": [5.0, 50.0]}},
}

EXPECTED_FAILED_CHECKS = {}
