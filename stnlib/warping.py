r"""One public warp: U and θ in, V out — grid generator and sampler in one call.

:func:`warp` is the STN's last two stages (Jaderberg et al. 2015, §3.2-3.3)
without the localization net: given θ, build the sampling grid T_θ(G) with
:func:`stnlib.grids.make_grid_generator` and read U there with
:func:`stnlib.sampler.sample`. :func:`warp_1d` is the same for N×C×L time
series with Wang (2018)'s time warp. Every part of the library that warps
(:meth:`stnlib.transformer.SpatialTransformer.warp`, the models, the lessons)
goes through these two functions.

Convention (the paper's and PyTorch's ``affine_grid`` / ``grid_sample``):

* θ maps **output** coordinates to **input** coordinates: the output pixel at
  normalized (x, y) shows the input at T_θ(x, y). θ is the *inverse* of what
  happens to the picture; to warp with a forward map (input → output) pass
  :func:`stnlib.theta.invert` of it.
* Both coordinates are normalized to [-1, 1] for the input and for the
  output, whatever their sizes: x = −1 is the left edge, +1 the right; y = −1
  the top, +1 the bottom (y points down, along the rows).
  ``align_corners=True`` puts ±1 on the centres of the corner pixels,
  ``False`` on their outer edges; it must be chosen explicitly.
* Positions outside [-1, 1] read the padding (``padding_mode``).
"""

from __future__ import annotations

from functools import lru_cache

import torch

from . import _validate
from .grids import TRANSFORMS, GridGenerator, make_grid_generator
from .kernels import get_kernel
from .sampler import SAMPLERS, sample, sample_1d

#: the transforms :func:`warp` takes (images); :func:`warp_1d` takes the time warp
TRANSFORMS_2D = tuple(t for t in TRANSFORMS if t != "timewarp")


def _theta_layout(transform: str, tps_points: int) -> tuple[tuple[tuple[int, ...], ...], str]:
    """The allowed trailing shapes of θ for ``transform`` and their description."""
    if transform == "affine":
        return ((2, 3),), "N×2×3"
    if transform == "attention":
        return ((3,),), "N×3 (s, tx, ty)"
    if transform == "projective":
        return ((3, 3), (8,)), "N×3×3 (or N×8)"
    if transform == "tps":
        K = tps_points * tps_points
        return ((K, 2),), f"N×{K}×2 (displacements of {tps_points}×{tps_points} control points)"
    return ((2,),), "N×2 (scale, shift)"


@lru_cache(maxsize=16)
def _generator(transform: str, tps_points: int) -> GridGenerator:
    # TPSGrid precomputes its control points and caches its basis per output size.
    return make_grid_generator(transform, tps_points=tps_points)


def _check(U, theta, out_size, *, transform, kernel, padding_mode, align_corners, sampler,
           tps_points, ndim):
    """Validate every argument of :func:`warp` / :func:`warp_1d`; return the output size."""
    layout = "N×C×H×W" if ndim == 2 else "N×C×L"
    _validate.tensor(U, "U", ndim=ndim + 2, layout=layout)
    if isinstance(tps_points, bool) or not isinstance(tps_points, int) or tps_points < 2:
        raise ValueError(f"tps_points (control points per side) must be an int >= 2, got {tps_points!r}")
    tails, theta_layout = _theta_layout(transform, tps_points)
    _validate.tensor(theta, "theta", ndim=tuple(sorted({1 + len(t) for t in tails})), layout=theta_layout)
    if tuple(theta.shape[1:]) not in tails:
        raise ValueError(f"theta for transform={transform!r} must have shape {theta_layout}, "
                         f"got {tuple(theta.shape)}")
    _validate.same_batch(U, "U", theta, "theta")
    if theta.dtype != U.dtype:
        raise TypeError(f"U and theta must share a dtype, got U {U.dtype} and theta {theta.dtype}")
    if theta.device != U.device:
        raise ValueError(f"U and theta must be on the same device, got U on {U.device} "
                         f"and theta on {theta.device}")
    _validate.finite(theta, "theta")
    _validate.flag(align_corners, "align_corners")
    get_kernel(kernel)
    _validate.choice(padding_mode, "padding_mode", _validate.PADDING_MODES)
    _validate.choice(sampler, "sampler", SAMPLERS)
    if out_size is None:
        return tuple(U.shape[2:])
    return _validate.size(out_size, "out_size", ndim)


def warp(U: torch.Tensor, theta: torch.Tensor, out_size=None, *, transform: str = "affine",
         kernel: str = "bilinear", padding_mode: str = "zeros", align_corners: bool,
         sampler: str = "native", tps_points: int = 4) -> torch.Tensor:
    """Warp images U by θ: ``V = sample(U, T_θ(G))``, the STN's grid generator and sampler.

    Args:
        U: N×C×H×W input (float32 or float64).
        theta: θ in the transform's own shape, one per image, same dtype and
            device as U: ``"affine"`` N×2×3 (eq. 1), ``"attention"`` N×3
            (s, tx, ty; eq. 2), ``"projective"`` N×3×3 (or N×8, the last
            entry fixed to 1), ``"tps"`` N×K×2 (displacements of the
            ``tps_points``² regular control points; zeros are the identity).
        out_size: (H', W') or an int for a square; ``None`` keeps (H, W).
        transform: ``"affine"`` | ``"attention"`` | ``"projective"`` | ``"tps"``.
        kernel: ``"nearest"`` | ``"bilinear"`` | ``"bicubic"``.
        padding_mode: what positions outside the input read: ``"zeros"`` |
            ``"border"`` | ``"reflection"``.
        align_corners: whether ±1 are the corner pixels' centres (True) or
            outer edges (False); required.
        sampler: ``"native"`` (``torch.nn.functional.grid_sample``) or
            ``"reference"`` (the course's eq.-3 sampler; same numbers).
        tps_points: control points per side for ``"tps"``.

    Returns:
        V, N×C×H'×W', same dtype and device as U; differentiable in U and θ
        (nearest sampling passes no gradient to θ).

    Convention:
        θ maps output coordinates to input coordinates, both normalized to
        [-1, 1] (x right, y down), as in the paper and in PyTorch's
        ``affine_grid``: output pixel (x, y) shows the input at T_θ(x, y). So
        tx = +0.5 reads to the right and moves the picture *left*. To apply a
        forward map (input → output), pass ``stnlib.theta.invert(theta)``.

    Example:
        >>> import torch
        >>> U = torch.arange(16.0).view(1, 1, 4, 4)
        >>> theta = torch.tensor([[[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]]])  # read one pixel to the right
        >>> warp(U, theta, align_corners=False)[0, 0, 0]       # the picture moves left; zeros come in
        tensor([1., 2., 3., 0.])
        >>> warp(U, theta, align_corners=False, padding_mode="border")[0, 0, 0]
        tensor([1., 2., 3., 3.])
        >>> zoom = torch.tensor([[0.5, 0.0, 0.0]])             # attention: the central half, 2×2 out
        >>> warp(U, zoom, (2, 2), transform="attention", align_corners=False)
        tensor([[[[ 5.,  6.],
                  [ 9., 10.]]]])
    """
    _validate.choice(transform, "transform", TRANSFORMS_2D + ("timewarp",))
    if transform == "timewarp":
        raise ValueError("transform='timewarp' warps N×C×L series: use stnlib.warp_1d(U, theta)")
    size = _check(U, theta, out_size, transform=transform, kernel=kernel, padding_mode=padding_mode,
                  align_corners=align_corners, sampler=sampler, tps_points=tps_points, ndim=2)
    grid = _generator(transform, tps_points)(theta, size, align_corners=align_corners)
    return sample(U, grid, align_corners=align_corners, kernel=kernel, padding_mode=padding_mode,
                  sampler=sampler)


def warp_1d(U: torch.Tensor, theta: torch.Tensor, out_size=None, *, kernel: str = "bilinear",
            padding_mode: str = "zeros", align_corners: bool, sampler: str = "native") -> torch.Tensor:
    """Warp time series U by a time warp θ = (scale s, shift t): output time x reads U at s·x + t.

    The 1-D twin of :func:`warp` (Wang 2018, §5.2): the grid is
    :func:`stnlib.grids.timewarp_grid`, the sampler :func:`stnlib.sampler.sample_1d`.

    Args:
        U: N×C×L series (float32 or float64).
        theta: N×2, (s, t) per series, same dtype and device as U; (1, 0) is
            the identity, |s| < 1 stretches a shorter stretch of U over the
            output (zoom in), |s| > 1 squeezes a longer one (zoom out), s < 0
            reverses time, t shifts.
        out_size: L' (an int or a 1-tuple); ``None`` keeps L.
        kernel, padding_mode, align_corners, sampler: as in :func:`warp`.

    Returns:
        V, N×C×L', same dtype and device as U.

    Convention:
        θ maps output time to input time, both normalized to [-1, 1]
        (−1: the start, +1: the end; ``align_corners`` says whether these are
        the first and last samples' centres or outer edges), as :func:`warp`.

    Example:
        >>> import torch
        >>> U = torch.tensor([[[0.0, 1.0, 2.0, 3.0]]])
        >>> warp_1d(U, torch.tensor([[-1.0, 0.0]]), align_corners=False)  # time reversed
        tensor([[[3., 2., 1., 0.]]])
        >>> warp_1d(U, torch.tensor([[1.0, 0.5]]), align_corners=False, padding_mode="border")
        tensor([[[1., 2., 3., 3.]]])
    """
    size = _check(U, theta, out_size, transform="timewarp", kernel=kernel, padding_mode=padding_mode,
                  align_corners=align_corners, sampler=sampler, tps_points=4, ndim=1)
    grid = _generator("timewarp", 4)(theta, size, align_corners=align_corners)
    return sample_1d(U, grid, align_corners=align_corners, kernel=kernel, padding_mode=padding_mode,
                     sampler=sampler)


__all__ = ["warp", "warp_1d", "TRANSFORMS_2D"]
