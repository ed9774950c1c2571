r"""The sampler: read the input U at the positions of a sampling grid.

Two implementations share one signature, so a lesson or a model switches with
a single argument (``method="reference"`` or ``method="native"``):

* :func:`grid_sample_reference` is the course's own implementation of the
  paper's eq. 3, ``V_i = Σ_n Σ_m U_nm k(x_i − m) k(y_i − n)``. It never forms
  the dense H×W sum: for every output pixel it *gathers* only the taps where
  the kernel can be non-zero (1 for nearest, 2×2 for bilinear, 4×4 for
  bicubic), weights them with ``k`` and adds them up.
* :func:`grid_sample_native` is ``torch.nn.functional.grid_sample``.

The reference follows PyTorch's conventions exactly, so the two agree to
floating-point rounding, in value and in both gradients:

* the grid holds normalized (x, y) in [-1, 1]; ``align_corners=True`` puts ±1
  on the centres of the corner pixels, ``False`` on their outer edges;
* for nearest and bilinear, the padding mode is applied to the continuous
  sample position (``border`` clamps it, ``reflection`` mirrors it), then taps
  outside the image read zero; for bicubic it is applied to each integer tap.

Backward: autograd through the weights, not a custom ``autograd.Function``
for the whole sampler. The gather's own backward scatters ``w · ∂L/∂V`` back
to the taps, which is eq. 6 (∂V/∂U); the weights ``k(x − m)`` are evaluated
through :class:`stnlib.kernels.Kernel`, whose backward is the kernel's
documented subgradient, which gives eq. 7 (∂V/∂x, ∂V/∂y). This keeps the
code to the forward formula a student reads in the paper, and every
gradient is still the one the kernel module documents.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validate
from .kernels import Kernel, get_kernel

METHODS = ("native", "reference")


def unnormalize(coord: torch.Tensor, size: int, *, align_corners: bool) -> torch.Tensor:
    """Normalized coordinate in [-1, 1] → pixel coordinate (pixel centres at 0 … size−1).

    ``align_corners=True``: −1 and +1 are the centres of the first and last pixel.
    ``align_corners=False``: −1 and +1 are the outer edges of those pixels.
    """
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def normalize(pixel: torch.Tensor, size: int, *, align_corners: bool) -> torch.Tensor:
    """Inverse of :func:`unnormalize`: pixel coordinate → normalized coordinate."""
    if align_corners:
        return pixel * 2 / (size - 1) - 1 if size > 1 else pixel * 0
    return (pixel * 2 + 1) / size - 1


def _clip(x: torch.Tensor, size: int) -> torch.Tensor:
    """Clamp to [0, size − 1]; the gradient is 0 at and beyond the ends (as in PyTorch)."""
    low = torch.zeros_like(x)
    high = torch.full_like(x, size - 1)
    return torch.where(x <= 0, low, torch.where(x >= size - 1, high, x))


def _reflect(x: torch.Tensor, twice_low: int, twice_high: int) -> torch.Tensor:
    """Mirror ``x`` into [twice_low / 2, twice_high / 2] as many times as needed."""
    if twice_low == twice_high:
        return x * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    t = x - low
    sign = torch.where(t < 0, -1.0, 1.0).to(x.dtype)  # d|t|/dt = +1 at t = 0, as PyTorch
    t = t * sign
    extra = torch.fmod(t, span)
    even = torch.floor(t.detach() / span).remainder(2) == 0
    return torch.where(even, extra + low, span - extra + low)


def pad_coordinates(x: torch.Tensor, size: int, padding_mode: str, *,
                    align_corners: bool) -> torch.Tensor:
    """Map pixel coordinates that fall outside the image back inside, per ``padding_mode``.

    ``zeros``: unchanged (taps outside read 0). ``border``: clamp to [0, size−1].
    ``reflection``: mirror about the image border (about the corner pixel
    centres when ``align_corners`` is True, about the outer edges otherwise),
    then clamp.
    """
    if padding_mode == "border":
        return _clip(x, size)
    if padding_mode == "reflection":
        if align_corners:
            x = _reflect(x, 0, 2 * (size - 1))
        else:
            x = _reflect(x, -1, 2 * size - 1)
        return _clip(x, size)
    return x


def _taps(coord: torch.Tensor, size: int, kernel: Kernel, padding_mode: str,
          align_corners: bool):
    """Tap indices, kernel weights and validity masks along one axis.

    coord: (N, H', W') normalized. Returns (index, weight, valid), each
    (N, H', W', kernel.support); ``index`` is int64 and always in range.
    """
    x = unnormalize(coord, size, align_corners=align_corners)
    if kernel.name != "bicubic":
        x = pad_coordinates(x, size, padding_mode, align_corners=align_corners)
    taps = kernel.taps(x)
    weight = kernel(x.unsqueeze(-1) - taps)
    if kernel.name == "bicubic":
        taps = pad_coordinates(taps, size, padding_mode, align_corners=align_corners)
    valid = (taps >= 0) & (taps <= size - 1)
    index = taps.clamp(0, size - 1).long()
    return index, weight, valid


def grid_sample_reference(U: torch.Tensor, grid: torch.Tensor, *, align_corners: bool,
                          kernel: str = "bilinear", padding_mode: str = "zeros") -> torch.Tensor:
    r"""Eq. 3 of the STN paper, evaluated on each output pixel's kernel support.

    Args:
        U: input, N×C×H×W, floating point.
        grid: sampling grid, N×H'×W'×2, normalized (x, y) in [-1, 1].
        align_corners: see :func:`unnormalize`; required.
        kernel: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``.

    Returns:
        V, N×C×H'×W'. Differentiable w.r.t. ``U`` (eq. 6) and ``grid`` (eq. 7).
    """
    _check(U, grid, align_corners, kernel, padding_mode)
    k = get_kernel(kernel)
    N, C, H, W = U.shape
    _, Ho, Wo, _ = grid.shape
    ix, wx, vx = _taps(grid[..., 0], W, k, padding_mode, align_corners)
    iy, wy, vy = _taps(grid[..., 1], H, k, padding_mode, align_corners)

    # All taps of all output pixels at once: (N, Ho, Wo, ky, kx).
    index = iy.unsqueeze(-1) * W + ix.unsqueeze(-2)
    weight = wy.unsqueeze(-1) * wx.unsqueeze(-2) * (vy.unsqueeze(-1) & vx.unsqueeze(-2))
    T = k.support * k.support
    values = U.reshape(N, C, H * W).gather(2, index.reshape(N, 1, -1).expand(N, C, -1))
    V = (values.view(N, C, Ho * Wo, T) * weight.reshape(N, 1, Ho * Wo, T)).sum(-1)
    return V.view(N, C, Ho, Wo)


def grid_sample_native(U: torch.Tensor, grid: torch.Tensor, *, align_corners: bool,
                       kernel: str = "bilinear", padding_mode: str = "zeros") -> torch.Tensor:
    """``torch.nn.functional.grid_sample`` behind the course's signature (shapes as the reference)."""
    _check(U, grid, align_corners, kernel, padding_mode)
    return F.grid_sample(U, grid, mode=kernel, padding_mode=padding_mode,
                         align_corners=align_corners)


def sample(U: torch.Tensor, grid: torch.Tensor, *, align_corners: bool, kernel: str = "bilinear",
           padding_mode: str = "zeros", method: str = "native") -> torch.Tensor:
    """Sample ``U`` (N×C×H×W) at ``grid`` (N×H'×W'×2) with the chosen implementation.

    ``method="native"`` uses ``grid_sample`` (fast, the default for training);
    ``method="reference"`` uses the course's eq.-3 implementation. Both accept
    the same arguments and return N×C×H'×W'.
    """
    _validate.choice(method, "method", METHODS)
    fn = grid_sample_native if method == "native" else grid_sample_reference
    return fn(U, grid, align_corners=align_corners, kernel=kernel, padding_mode=padding_mode)


def sample_1d(U: torch.Tensor, grid: torch.Tensor, *, align_corners: bool,
              kernel: str = "bilinear", padding_mode: str = "zeros",
              method: str = "native") -> torch.Tensor:
    """1-D sampling for time series, with the same kernels and padding modes.

    Args:
        U: N×C×L signal.
        grid: N×L' normalized positions in [-1, 1] (−1, +1: first / last sample
            per ``align_corners``).
    Returns:
        N×C×L'. Implemented as the 2-D sampler on an image of height 1, whose
        kernel in y then reduces to the single weight k(0) = 1.
    """
    _validate.tensor(U, "U", ndim=3, layout="N×C×L")
    _validate.tensor(grid, "grid", ndim=2, layout="N×L' (normalized positions)")
    _validate.same_batch(U, "U", grid, "grid")
    grid2d = torch.stack([grid, torch.zeros_like(grid)], dim=-1).unsqueeze(1)
    V = sample(U.unsqueeze(2), grid2d, align_corners=align_corners, kernel=kernel,
               padding_mode=padding_mode, method=method)
    return V.squeeze(2)


def _check(U, grid, align_corners, kernel, padding_mode) -> None:
    _validate.tensor(U, "U", ndim=4, layout="N×C×H×W")
    _validate.tensor(grid, "grid", ndim=4, layout="N×H'×W'×2")
    if grid.shape[-1] != 2:
        raise ValueError(f"grid must have shape N×H'×W'×2 (x, y), got {tuple(grid.shape)}")
    _validate.same_batch(U, "U", grid, "grid")
    if U.dtype != grid.dtype:
        raise TypeError(f"U and grid must share a dtype, got U {U.dtype} and grid {grid.dtype}")
    _validate.flag(align_corners, "align_corners")
    get_kernel(kernel)
    _validate.choice(padding_mode, "padding_mode", _validate.PADDING_MODES)
