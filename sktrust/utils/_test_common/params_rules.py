"""Common-check settings for the rules family (sktrust.rules)."""

TEST_PARAMS = {}

EXPECTED_FAILED_CHECKS = {}
