"""Fast settings of the multiple-instance estimators for the common checks."""

# A 2-D X is read as bags (sequences) of one instance: an ordinary classifier.
# MHIMMILClassifier's entry is also in params_noisy_labels.py (loaded after
# this file, same values); this one is the family's own.
TEST_PARAMS = {
    "MHIMMILClassifier": {"pretrain_epochs": 10, "mlp_dim": 16, "lr": 2e-2},
    "GSMoEAnomalyDetector": {"pretrain_epochs": 20, "max_epochs": 10, "hidden": 16,
                             "lr": 2e-2},
}

EXPECTED_FAILED_CHECKS = {}
