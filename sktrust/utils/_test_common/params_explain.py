"""Fast settings for the explain and interpretable families' common checks."""

from sklearn.ensemble import RandomForestClassifier

TEST_PARAMS = {
    "LocalFunctionApproximationExplainer": {"n_perturb": 100},
    "ShapWorkflowExplainer": {
        "estimator": RandomForestClassifier(n_estimators=5, random_state=0),
        "cv": 3,
        "n_repeats": 2,
        "background_size": 10,
    },
}

EXPECTED_FAILED_CHECKS = {}
