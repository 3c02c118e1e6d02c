"""Fast settings of the offline-optimisation estimators."""

# A tiny net, trained long enough for check_regressors_train (R^2 > 0.5).
TEST_PARAMS = {
    "IGNITERegressor": {"hidden_layer_sizes": (16,), "max_epochs": 20, "lr": 1e-2},
}

EXPECTED_FAILED_CHECKS = {}
