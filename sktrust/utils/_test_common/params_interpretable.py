"""Fast settings for the interpretable family's common checks."""

TEST_PARAMS = {
    # Two epochs leave the mixture untrained; sklearn's checks need accuracy > 0.83.
    "FEAMOEClassifier": {"epochs": 30},
}

EXPECTED_FAILED_CHECKS = {}
