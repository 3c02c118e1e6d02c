"""Fit every torch-backed sktrust estimator with device="cpu" and device="auto".

On a machine with CUDA, "auto" must put the nets on the GPU and give the
same predictions as the CPU run (up to float noise). Prints one table and
exits non-zero when a check fails. Run: ``python benchmarks/check_gpu.py``.
"""

import sys
import time
import warnings

import numpy as np
import torch
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_digits

from sktrust.utils import all_estimators
from sktrust.utils._test_common.instance_generator import _construct_instance


def _torch_devices(est):
    """Devices of every torch parameter reachable from the fitted estimator."""
    found = set()
    for value in vars(est).values():
        module = getattr(value, "module_", None) or (
            value if isinstance(value, torch.nn.Module) else None)
        if module is not None:
            found |= {p.device.type for p in module.parameters()}
    return found or {"numpy"}


def main():
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0)[:600]
    y = y[:600]
    cuda = torch.cuda.is_available()
    print(f"CUDA available: {cuda} ({torch.cuda.get_device_name(0) if cuda else '-'})")
    print(f"{'estimator':32s} {'weights':>10s} {'agree':>7s} {'cpu s':>7s} {'auto s':>7s}")
    failures = []
    for name, cls in all_estimators():
        if "device" not in cls().get_params():
            continue
        base = _construct_instance(cls)
        if "max_epochs" in base.get_params():
            base.set_params(max_epochs=5)
        target = y if is_classifier(base) or not hasattr(base, "predict") else X[:, 20]
        out, secs, devices = {}, {}, None
        try:
            for device in ("cpu", "auto"):
                est = clone(base).set_params(device=device)
                t = time.perf_counter()
                est.fit(X, target)
                if hasattr(est, "unlearn"):
                    forget = target == 3 if is_classifier(est) else np.arange(len(X)) < 30
                    est.unlearn(X[forget], target[forget], X[~forget], target[~forget])
                secs[device] = time.perf_counter() - t
                method = "predict_proba" if hasattr(est, "predict_proba") else "predict"
                out[device] = np.asarray(getattr(est, method)(X), dtype=float)
                if device == "auto":
                    devices = _torch_devices(est)
        except Exception as exc:  # report and go on
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            print(f"{name:32s} FAILED {type(exc).__name__}: {str(exc)[:80]}")
            continue
        agree = float(np.mean(np.isclose(out["cpu"], out["auto"], atol=1e-3)))
        dev = ",".join(sorted(devices))
        print(f"{name:32s} {dev:>10s} {agree:7.3f} {secs['cpu']:7.2f} {secs['auto']:7.2f}")
        if cuda and "cpu" in devices:
            failures.append(f"{name}: device='auto' left weights on the CPU")
    if failures:
        print("\n".join(["", "FAILURES:", *failures]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
