"""Device choice: ``device="auto"`` picks CUDA when present."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import torch


def resolve_device(device="auto"):
    """Return a concrete torch device string.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"} or str or torch.device, default="auto"
        ``"auto"`` gives ``"cuda"`` when a GPU is visible, else ``"cpu"``.

    Examples
    --------
    >>> from sktrust.nn import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if isinstance(device, torch.device):
        return str(device)
    try:
        torch.device(str(device))
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'."
        ) from exc
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but no CUDA device is available; "
            "use device='auto' or 'cpu'."
        )
    return str(device)
