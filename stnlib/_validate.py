"""Argument checks shared by every public function.

Each check raises a ``TypeError`` or ``ValueError`` whose message names the
argument, what was expected and what came, so a student sees at once which
call is wrong (``"U must be a 4-D tensor N×C×H×W, got shape (3, 28, 28)"``)
instead of an index error deep inside PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

PADDING_MODES = ("zeros", "border", "reflection")


def tensor(x, name: str, *, ndim: int | tuple[int, ...] | None = None, layout: str = "",
           floating: bool = True) -> torch.Tensor:
    """Check that ``x`` is a tensor of the given rank(s) and (optionally) floating dtype."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor{_layout(layout)}, got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if x.dim() not in allowed:
            ranks = " or ".join(f"{r}-D" for r in allowed)
            raise ValueError(
                f"{name} must be a {ranks} tensor{_layout(layout)}, got shape {tuple(x.shape)}"
            )
    if floating and not x.is_floating_point():
        raise TypeError(
            f"{name} must have a floating dtype (float32 or float64), got {x.dtype}; "
            f"convert it with {name}.float()"
        )
    return x


def finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """Raise if ``x`` holds NaN or ±inf (a diverged localization network, typically).

    Under ``torch.vmap`` (several seeds trained as one model, :mod:`stnlib.seeds`) the check
    reads the whole batched tensor, every seed's values at once.
    """
    data = x
    while torch._C._functorch.is_batchedtensor(data):  # a Python `if` on a vmapped tensor fails
        data = torch._C._functorch.get_unwrapped(data)
    if not torch.isfinite(data).all():
        bad = (~torch.isfinite(data)).sum().item()
        raise ValueError(f"{name} must be finite, but {bad} of its {data.numel()} entries are NaN or inf")
    return x


def same_batch(a: torch.Tensor, a_name: str, b: torch.Tensor, b_name: str) -> None:
    """Raise if the leading (batch) sizes of two tensors differ."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"batch size mismatch: {a_name} has {a.shape[0]} items (shape {tuple(a.shape)}) "
            f"but {b_name} has {b.shape[0]} (shape {tuple(b.shape)})"
        )


def choice(value, name: str, options: Sequence[str]) -> str:
    """Raise if ``value`` is not one of ``options``."""
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(map(repr, options))}")
    return value


def flag(value, name: str) -> bool:
    """Raise unless ``value`` is a real bool (``align_corners`` must be chosen explicitly)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False (pass it explicitly), got {value!r}")
    return value


def size(value, name: str, n: int) -> tuple[int, ...]:
    """Normalize an output size: an int (square) or a sequence of ``n`` positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * n
    if isinstance(value, torch.Size):
        value = tuple(value)
    if (
        not isinstance(value, Sequence)
        or len(value) != n
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise TypeError(f"{name} must be an int or a sequence of {n} ints, got {value!r}")
    if any(v <= 0 for v in value):
        raise ValueError(f"{name} must be positive, got {tuple(value)}")
    return tuple(value)


def _layout(layout: str) -> str:
    return f" {layout}" if layout else ""
