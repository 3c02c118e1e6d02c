"""Fast settings and expected failures of the unlearning family's common checks."""

TEST_PARAMS = {
    "UnlearningSearchCV": {"param_grid": {"alpha": [5.0, 50.0]}},
}

EXPECTED_FAILED_CHECKS = {}
