"""Build one instance per estimator for the common checks.

Deep and iterative estimators get small settings here (the "test-params
hook"), so that sklearn's whole check suite runs in seconds. Every expected
failure is listed in :data:`EXPECTED_FAILED_CHECKS` with its reason.
"""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

from sklearn.exceptions import ConvergenceWarning

# Parameters that keep checks fast, and expected failures with their reasons.
# Each family keeps its own in ``sktrust/utils/_test_common/params_<family>.py``
# defining ``TEST_PARAMS = {class name: {param: value}}`` and
# ``EXPECTED_FAILED_CHECKS = {class name: {check name: reason}}``; they are
# merged here.
TEST_PARAMS = {}
EXPECTED_FAILED_CHECKS = {}


def _load_family_params():
    import importlib
    import pkgutil

    from sktrust.utils import _test_common

    for info in pkgutil.iter_modules(_test_common.__path__):
        if info.name.startswith("params_"):
            mod = importlib.import_module(f"{_test_common.__name__}.{info.name}")
            TEST_PARAMS.update(getattr(mod, "TEST_PARAMS", {}))
            EXPECTED_FAILED_CHECKS.update(getattr(mod, "EXPECTED_FAILED_CHECKS", {}))


_load_family_params()

# Parameters applied to every estimator that has them.
_GENERIC_FAST_PARAMS = {
    "max_epochs": 2,
    "n_epochs": 2,
    "epochs": 2,
    "max_iter": 50,
    "n_estimators": 5,
    "batch_size": 32,
    "device": "cpu",
}


def _construct_instance(cls):
    params = {}
    init_params = cls().get_params(deep=False)
    for key, value in _GENERIC_FAST_PARAMS.items():
        if key in init_params:
            params[key] = value
    params.update(TEST_PARAMS.get(cls.__name__, {}))
    if "random_state" in init_params:
        params.setdefault("random_state", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**params)


def _default_inner_fast(estimator):
    """Meta-estimators with ``estimator=None`` keep their default; nothing to do."""
    return estimator


def estimator_instances():
    """One fast, seeded instance of every public sktrust estimator."""
    from sktrust.utils import all_estimators

    return [_default_inner_fast(_construct_instance(cls)) for _, cls in all_estimators()]


def expected_failed_checks(estimator):
    """The checks expected to fail for ``estimator``, with reasons."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
