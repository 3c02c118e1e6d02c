"""Fast settings of the multiple-instance estimators for the common checks."""

# A 2-D X is read as bags (sequences) of one instance: an ordinary classifier.
TEST_PARAMS = {
    "MHIMMILClassifier": {"pretrain_epochs": 10, "mlp_dim": 16, "lr": 2e-2},
    "GSMoEAnomalyDetector": {"pretrain_epochs": 20, "max_epochs": 10, "hidden": 16,
                             "lr": 2e-2},
}

EXPECTED_FAILED_CHECKS = {}
