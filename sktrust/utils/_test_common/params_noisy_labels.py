"""Fast settings and expected failures of the noisy-label and MIL estimators."""

# Fewer detection rounds and folds: the checks test the API, not detection.
TEST_PARAMS = {
    "LSANoiseDetector": {"n_rounds": 2, "cv": 3},
    # A 2-D X is read as bags of one instance: an ordinary classifier.
    "MHIMMILClassifier": {"pretrain_epochs": 10, "mlp_dim": 16, "lr": 2e-2},
}

EXPECTED_FAILED_CHECKS = {}
