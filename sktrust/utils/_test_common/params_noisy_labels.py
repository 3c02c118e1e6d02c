"""Fast settings and expected failures of the noisy-label estimators."""

# Fewer detection rounds and folds: the checks test the API, not detection.
TEST_PARAMS = {
    "LSANoiseDetector": {"n_rounds": 2, "cv": 3},
    # Enough epochs for check_classifiers_train, with two detection epochs.
    "PLSLSAClassifier": {"max_epochs": 8, "warmup": 6, "hidden_layer_sizes": (16,)},
}

EXPECTED_FAILED_CHECKS = {}
