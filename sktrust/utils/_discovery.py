"""Find every public estimator that sktrust ships."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import importlib
import inspect
import pkgutil
from operator import itemgetter

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    OutlierMixin,
    RegressorMixin,
    TransformerMixin,
)

_TYPE_MIXINS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
    "cluster": ClusterMixin,
    "outlier_detector": OutlierMixin,
}

# Packages that hold no estimators, or only abstract ones.
_SKIP_MODULES = {"sktrust.utils", "sktrust.report", "sktrust.nn", "sktrust.metrics"}


def _is_sampler(cls):
    return hasattr(cls, "fit_resample")


def all_estimators(type_filter=None):
    """List every public, concrete estimator class in sktrust.

    Walks the package, imports each public subpackage, and keeps the classes
    that derive from :class:`sklearn.base.BaseEstimator`, are named in a
    public namespace (no leading underscore) and are not abstract. The list is
    what ``tests/test_common.py`` runs scikit-learn's estimator checks over.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "cluster", \
            "outlier_detector", "sampler"} or list of such, default=None
        Keep only estimators of these kinds. ``None`` keeps all.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs sorted by name.

    Examples
    --------
    >>> from sktrust.utils import all_estimators
    >>> names = [name for name, _ in all_estimators()]
    >>> "RetrainUnlearner" in names
    True
    """
    import sktrust

    found = {}
    for info in pkgutil.walk_packages(sktrust.__path__, prefix="sktrust."):
        name = info.name
        parts = name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or "tests" in parts:
            continue
        if any(name == s or name.startswith(s + ".") for s in _SKIP_MODULES):
            continue
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls_name.startswith("_") or not cls.__module__.startswith("sktrust"):
                continue
            if not issubclass(cls, BaseEstimator) or inspect.isabstract(cls):
                continue
            if cls_name.startswith("Base") or cls_name.endswith("Mixin"):
                continue
            found[cls_name] = cls

    estimators = sorted(found.items(), key=itemgetter(0))
    if type_filter is None:
        return estimators
    filters = [type_filter] if isinstance(type_filter, str) else list(type_filter)
    unknown = set(filters) - set(_TYPE_MIXINS) - {"sampler"}
    if unknown:
        raise ValueError(
            f"type_filter got unknown kinds {sorted(unknown)}; expected any of "
            f"{sorted([*_TYPE_MIXINS, 'sampler'])} or None."
        )
    kept = []
    for name, cls in estimators:
        for f in filters:
            if (f == "sampler" and _is_sampler(cls)) or (
                f in _TYPE_MIXINS and issubclass(cls, _TYPE_MIXINS[f])
            ):
                kept.append((name, cls))
                break
    return kept


def trusted_types():
    """Type names a user may pass to ``skops.io.load(trusted=...)``.

    skops refuses to load types it has not been told to trust. This lists the
    fully qualified names of every estimator sktrust ships, plus the helper
    classes their fitted state holds, so that a model saved with
    ``skops.io.dump`` loads with
    ``skops.io.load(path, trusted=sktrust.utils.trusted_types())``.
    Trust only files you made or whose origin you trust.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from sktrust.utils import trusted_types
    >>> "sktrust.unlearning._retrain.RetrainUnlearner" in trusted_types()
    True
    """
    import sys

    names = {f"{cls.__module__}.{cls.__qualname__}" for _, cls in all_estimators()}
    names.update(_EXTRA_TRUSTED)
    # Families list the helper classes their fitted state holds in a
    # module-level ``_SKOPS_TRUSTED`` of their package ``__init__``.
    for mod_name, mod in list(sys.modules.items()):
        if mod_name.startswith("sktrust.") and mod is not None:
            names.update(getattr(mod, "_SKOPS_TRUSTED", ()))
    return sorted(names)


# Non-estimator classes that fitted sktrust estimators may hold. Families add
# theirs here.
_EXTRA_TRUSTED = {
    "sklearn.frozen._frozen.FrozenEstimator",
}
