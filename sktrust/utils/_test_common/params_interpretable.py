"""Fast settings for the interpretable family's common checks."""

TEST_PARAMS = {
    # Two epochs leave the mixture untrained; sklearn's checks need accuracy > 0.83.
    "FEAMOEClassifier": {"epochs": 30},
    "RobustStableCBCClassifier": {"max_epochs": 12, "n_components": 6, "lr": 0.05},
    "RobustRBFClassifier": {"max_epochs": 12, "n_components": 6, "lr": 0.05},
}

EXPECTED_FAILED_CHECKS = {}
