r"""Sampling kernels k(d) and their (sub)gradients k'(d).

The spatial transformer's sampler (Jaderberg et al. 2015, eq. 3) writes every
output value as a kernel-weighted sum over the input,

.. math::  V_i^c = \sum_n \sum_m U^c_{nm}\, k(x^s_i - m)\, k(y^s_i - n),

so a sampler is fully described by one 1-D kernel ``k`` and the set of taps
``m`` where ``k(x - m)`` can be non-zero (its *support*). This module defines
the three kernels PyTorch's ``grid_sample`` offers:

========== ======================================== ========== ==============
name       k(d)                                     taps       paper
========== ======================================== ========== ==============
nearest    δ(round(x) − m)                          1          eq. 4
bilinear   max(0, 1 − |d|)                          2          eq. 5
bicubic    Keys' cubic convolution, a = −0.75       4          (PyTorch)
========== ======================================== ========== ==============

Subgradients at the kinks
-------------------------
``max(0, 1 − |d|)`` has kinks at d = −1, 0, 1. Eq. 7 of the paper picks, for
each tap separately, ``+1`` if m ≥ x, ``−1`` if m < x and ``0`` if |m − x| ≥ 1.
Taken literally at an integer position x = m, it gives ∂V/∂x = U_m, which is
neither the left derivative (U_m − U_{m−1}) nor the right one
(U_{m+1} − U_m) of V. We therefore use one convention for every kernel: the
**right derivative**, k'(d) = lim_{h→0⁺} (k(d + h) − k(d)) / h. Summed over
the taps it is exactly the right derivative of V, and it is what
``grid_sample`` computes (it always interpolates inside the cell
[floor(x), floor(x) + 1]), so the reference sampler matches PyTorch to the
last bit of the gradient, integer positions included. Away from the kinks all
conventions agree. The bicubic kernel is C¹ (no kinks); nearest is piecewise
constant, so its derivative is zero everywhere it exists and we use zero at
the jumps too: nearest sampling passes no gradient to the grid.

Each kernel is a :class:`Kernel` with ``weight(d)`` (the value),
``derivative(d)`` (the subgradient above), ``taps(x)`` (the integer tap
offsets its support needs) and ``__call__(d)``, which evaluates ``k(d)``
through a tiny ``autograd.Function`` whose backward *is* ``derivative`` — so
the gradient that reaches the sampling grid is the documented subgradient, not
whatever ``torch.abs`` happens to do at zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from . import _validate

#: Keys' parameter used by PyTorch's bicubic ``grid_sample`` and ``interpolate``.
BICUBIC_A = -0.75


def nearest_weight(d: torch.Tensor) -> torch.Tensor:
    """The nearest-neighbour kernel (eq. 4): 1 where the tap is the rounded position, else 0.

    Taps are chosen by :meth:`Kernel.taps` with ``torch.round`` (round half to
    even, as ``grid_sample``'s ``nearbyint``), so for every tap the sampler
    builds ``|d| <= 0.5``; the value is 1 there. The paper's ⌊x + 0.5⌋ rounds
    halves up instead; the two differ only at exact half-pixel positions.
    ``d``: tap offsets (sample position − tap position) in pixels, any shape; returns the same
    shape.
    """
    return (d.abs() <= 0.5).to(d.dtype)


def nearest_derivative(d: torch.Tensor) -> torch.Tensor:
    """The derivative dk/dd of the nearest kernel: zero everywhere (the jumps get zero too).

    ``d``: tap offsets in pixels, any shape; returns zeros of the same shape.
    """
    return torch.zeros_like(d)


def bilinear_weight(d: torch.Tensor) -> torch.Tensor:
    """The bilinear ("tent") kernel of eq. 5: ``max(0, 1 − |d|)``.

    ``d``: tap offsets in pixels, any shape; returns the same shape.
    """
    return (1 - d.abs()).clamp_min_(0)


def bilinear_derivative(d: torch.Tensor) -> torch.Tensor:
    """The right derivative of ``max(0, 1 − |d|)``: +1 on [−1, 0), −1 on [0, 1), 0 elsewhere.

    ``d``: tap offsets in pixels, any shape; returns the same shape.

    The tent is linear between consecutive integers, so its right derivative
    at d is the slope of the piece [⌊d⌋, ⌊d⌋ + 1]: k(⌊d⌋ + 1) − k(⌊d⌋).
    (Written with arithmetic only, no ``torch.where``: it is on the sampler's hot path.)
    """
    left = d.floor()
    return bilinear_weight(left + 1) - bilinear_weight(left)


def _bicubic_pieces(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks (as 0/1 in t's dtype) of the inner piece |d| ≤ 1 and the outer piece 1 < |d| < 2."""
    inner = (t <= 1).to(t.dtype)
    return inner, (t < 2).to(t.dtype) - inner


def bicubic_weight(d: torch.Tensor, a: float = BICUBIC_A) -> torch.Tensor:
    """Keys' cubic convolution kernel with parameter ``a`` (PyTorch uses a = −0.75).

    k(d) = (a+2)|d|³ − (a+3)|d|² + 1           for |d| ≤ 1
           a|d|³ − 5a|d|² + 8a|d| − 4a          for 1 < |d| < 2
           0                                    otherwise.

    ``d``: tap offsets in pixels, any shape; ``a``: the kernel's parameter (PyTorch: −0.75).
    Returns k(d), the same shape.
    """
    t = d.abs().clamp_max(2)  # k = k' = 0 from |d| = 2 on; the clamp keeps huge |d| finite
    in_inner, in_outer = _bicubic_pieces(t)
    inner = ((a + 2) * t - (a + 3)) * t * t + 1
    outer = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return inner * in_inner + outer * in_outer


def bicubic_derivative(d: torch.Tensor, a: float = BICUBIC_A) -> torch.Tensor:
    """The derivative dk/dd of Keys' kernel; continuous (k is C¹), so no subgradient choice is needed.

    ``d``: tap offsets in pixels, any shape; ``a``: the kernel's parameter (PyTorch: −0.75).
    Returns k'(d), the same shape.
    """
    t = d.abs().clamp_max(2)  # k = k' = 0 from |d| = 2 on; the clamp keeps huge |d| finite
    in_inner, in_outer = _bicubic_pieces(t)
    inner = (3 * (a + 2) * t - 2 * (a + 3)) * t
    outer = (3 * a * t - 10 * a) * t + 8 * a
    return torch.sign(d) * (inner * in_inner + outer * in_outer)


class _KernelFn(torch.autograd.Function):
    """k(d) in the forward pass, the kernel's documented subgradient k'(d) in the backward."""

    @staticmethod
    def forward(ctx, d, weight, derivative):
        ctx.save_for_backward(d)
        ctx.derivative = derivative
        return weight(d)

    @staticmethod
    def backward(ctx, grad_out):
        (d,) = ctx.saved_tensors
        return grad_out * ctx.derivative(d), None, None


@dataclass(frozen=True)
class Kernel:
    """A separable sampling kernel: its value, its subgradient and its support.

    Attributes:
        name: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        weight: k(d), elementwise.
        derivative: k'(d), elementwise (right derivative at kinks, see module doc).
        offsets: integer tap offsets relative to ``base(x)``; the taps of a
            sample at x are ``base(x) + offsets``.
        base: ``round`` for nearest, ``floor`` for the others.
    """

    name: str
    weight: Callable[[torch.Tensor], torch.Tensor]
    derivative: Callable[[torch.Tensor], torch.Tensor]
    offsets: tuple[int, ...]
    base: Callable[[torch.Tensor], torch.Tensor]

    @property
    def support(self) -> int:
        """Number of taps per dimension (1, 2 or 4)."""
        return len(self.offsets)

    def taps(self, x: torch.Tensor) -> torch.Tensor:
        """Integer tap positions for sample positions ``x``: shape ``x.shape + (support,)``.

        Returned as a float tensor without gradient (tap positions are
        piecewise constant in x, so they carry no gradient).
        """
        base = self.base(x.detach())
        offsets = torch.tensor(self.offsets, dtype=x.dtype, device=x.device)
        return base.unsqueeze(-1) + offsets

    def __call__(self, d: torch.Tensor) -> torch.Tensor:
        """k(d), differentiable with k'(d) as its gradient."""
        return _KernelFn.apply(d, self.weight, self.derivative)


KERNELS: dict[str, Kernel] = {
    "nearest": Kernel("nearest", nearest_weight, nearest_derivative, (0,), torch.round),
    "bilinear": Kernel("bilinear", bilinear_weight, bilinear_derivative, (0, 1), torch.floor),
    "bicubic": Kernel("bicubic", bicubic_weight, bicubic_derivative, (-1, 0, 1, 2), torch.floor),
}


def get_kernel(kernel: str | Kernel) -> Kernel:
    """Look a kernel up by name (``"nearest"``, ``"bilinear"``, ``"bicubic"``) or pass one through.

    ``kernel``: a name or a :class:`Kernel`.
    Returns the :class:`Kernel`.

    Example:
        >>> import torch
        >>> k = get_kernel("bilinear")
        >>> k.weight(torch.tensor([-1.0, -0.5, 0.0, 0.5])).tolist()   # max(0, 1 − |d|)
        [0.0, 0.5, 1.0, 0.5]
        >>> k.derivative(torch.tensor([-0.5, 0.0, 0.5])).tolist()   # the right derivative at 0
        [1.0, -1.0, -1.0]
    """
    if isinstance(kernel, Kernel):
        return kernel
    _validate.choice(kernel, "kernel", tuple(KERNELS))
    return KERNELS[kernel]
