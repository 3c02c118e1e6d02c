"""Fast settings of GSMoEAnomalyDetector for the common checks."""

# A 2-D X is read as sequences of one segment: an ordinary classifier.
TEST_PARAMS = {
    "GSMoEAnomalyDetector": {"pretrain_epochs": 20, "max_epochs": 10, "hidden": 16,
                             "lr": 2e-2},
}

EXPECTED_FAILED_CHECKS = {}
