"""Where tensors and models live: the device every training path uses.

Every training path of the library is device-agnostic: it runs on ``cuda``
when PyTorch sees a GPU and on the CPU otherwise, unless told otherwise::

    >>> from stnlib.device import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import os

import torch

#: the environment variable that overrides the automatic choice
DEVICE_ENV = "STN_DEVICE"


def default_device() -> str:
    """``$STN_DEVICE`` if set, else ``"cuda"`` when a GPU is present, else ``"cpu"``."""
    env = os.environ.get(DEVICE_ENV, "").strip()
    if env:
        return env
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a ``torch.device``; ``None``, ``""`` or ``"auto"``: :func:`default_device`.

    Raises a clear error for a device this machine does not have (``cuda``
    without a GPU), instead of PyTorch's failure at the first tensor moved.
    """
    if device is None or device == "" or device == "auto":
        device = default_device()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto', "
                         f"got {device!r}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but PyTorch sees no CUDA GPU here; "
                         "use device='cpu' (or leave DEVICE empty to choose automatically)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} was asked for, but MPS is not available here")
    return dev
