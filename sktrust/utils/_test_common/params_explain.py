"""Fast settings for the explain and interpretable families' common checks."""

TEST_PARAMS = {
    "LocalFunctionApproximationExplainer": {"n_perturb": 100},
}

EXPECTED_FAILED_CHECKS = {}
