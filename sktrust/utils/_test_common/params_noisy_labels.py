"""Fast settings and expected failures of the noisy-label and MIL estimators."""

# Fewer detection rounds and folds: the checks test the API, not detection.
TEST_PARAMS = {
    "LSANoiseDetector": {"n_rounds": 2, "cv": 3},
}

EXPECTED_FAILED_CHECKS = {}
