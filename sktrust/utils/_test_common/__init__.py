"""Instances and expected failures for the common estimator checks."""
