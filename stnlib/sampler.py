r"""The sampler: read the input U at the positions of a sampling grid.

Two implementations share one signature, so a lesson or a model switches with
a single argument (``sampler="reference"`` or ``sampler="native"``):

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

Backward: a custom ``torch.autograd.Function`` for the whole sampler, not
autograd through the weights. Its backward is the paper's eqs. 6 and 7
written out: ∂L/∂U scatters ``k(x − m) k(y − n) · ∂L/∂V`` back to the taps
(eq. 6), and ∂L/∂x = Σ U_nm k'(x − m) k(y − n) · ∂L/∂V (eq. 7; likewise
for y), where ``k'`` is :attr:`stnlib.kernels.Kernel.derivative`, the
kernel's documented subgradient (right derivative at the kinks), and the
chain rule through the padding mode uses the slopes of
:func:`pad_coordinates` (border: 0 at and beyond the ends; reflection: −1 on
mirrored copies). Why: an earlier version let autograd differentiate through
the tap weights; it was 15-37× slower than ``grid_sample`` forward+backward.
``torch.profiler`` put the time in some hundred full-size elementwise passes
per call (autograd's own backward ops, the kernels' ``torch.where``, which
on CPU is ~40× slower than an add, each pass allocating a fresh tensor).
Here the separable x/y weights are computed once, for both axes together,
without ``torch.where``; the backward reuses them and one scratch buffer.
The price: the sampler is differentiable once; double backward (gradients
of gradients) raises an error (``once_differentiable``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from . import _validate
from .kernels import Kernel, get_kernel

SAMPLERS = ("native", "reference")


def unnormalize(coord: torch.Tensor, size, *, align_corners: bool) -> torch.Tensor:
    """The pixel coordinate (pixel centres at 0 … size−1) of a normalized coordinate in [-1, 1].

    ``coord``: normalized coordinates, any shape; ``size``: the number of pixels along the axis
    (an int, or a tensor that broadcasts against ``coord``). Returns pixel coordinates, shaped
    like ``coord``.

    ``align_corners=True``: −1 and +1 are the centres of the first and last pixel.
    ``align_corners=False``: −1 and +1 are the outer edges of those pixels.

    Example:
        >>> import torch
        >>> unnormalize(torch.tensor([-1.0, 1.0]), 4, align_corners=False).tolist()  # outer edges
        [-0.5, 3.5]
        >>> unnormalize(torch.tensor([-1.0, 1.0]), 4, align_corners=True).tolist()   # pixel centres
        [0.0, 3.0]
    """
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def normalize(pixel: torch.Tensor, size: int, *, align_corners: bool) -> torch.Tensor:
    """The normalized coordinate of a pixel coordinate: the inverse of :func:`unnormalize`.

    ``pixel``: pixel coordinates (centres at 0 … size−1), any shape; ``size``: the number of
    pixels along the axis; ``align_corners``: as in :func:`unnormalize`.
    """
    if align_corners:
        return pixel * 2 / (size - 1) - 1 if size > 1 else pixel * 0
    return (pixel * 2 + 1) / size - 1


def _clip(x: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Clamp to [0, size − 1]; returns (clamped x, its slope: 0 at and beyond the ends, as PyTorch)."""
    inside = (x > 0) & (x < size - 1)
    return x.clamp(0, size - 1), inside.to(x.dtype)


def _reflect(x: torch.Tensor, twice_low: int, twice_high: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror ``x`` into [twice_low / 2, twice_high / 2] as many times as needed.

    Returns (mirrored x, its slope ±1): the slope flips on every mirrored copy
    of the interval and left of ``low`` (|t| has slope +1 at t = 0, as PyTorch).
    """
    if twice_low == twice_high:
        return x * 0, torch.zeros_like(x)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    t = x - low
    sign = 1 - 2 * (t < 0).to(x.dtype)                   # d|t|/dt
    t = t.abs()
    extra = torch.fmod(t, span)                          # position inside the current copy
    odd = torch.floor(t / span).remainder(2)             # 1 on mirrored copies, else 0
    mirrored = (extra + low) * (1 - odd) + (span - extra + low) * odd
    return mirrored, sign * (1 - 2 * odd)


def pad_coordinates(x: torch.Tensor, size: int, padding_mode: str, *,
                    align_corners: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Map pixel coordinates that fall outside the image back inside, per ``padding_mode``.

    ``x``: pixel coordinates, any shape; ``size``: the number of pixels along the axis.

    ``zeros``: unchanged (taps outside read 0). ``border``: clamp to [0, size−1].
    ``reflection``: mirror about the image border (about the corner pixel
    centres when ``align_corners`` is True, about the outer edges otherwise),
    then clamp.

    Returns ``(x_padded, slope)``, both shaped like ``x``: ``slope`` is
    d x_padded / d x, the rule PyTorch's ``grid_sample`` uses for the grid
    gradient: 1 for zeros; 0 where border clamps (at and beyond the ends);
    ±1 where reflection mirrors (−1 on flipped copies), then 0 where it clamps.
    """
    if padding_mode == "border":
        return _clip(x, size)
    if padding_mode == "reflection":
        if align_corners:
            x, flip = _reflect(x, 0, 2 * (size - 1))
        else:
            x, flip = _reflect(x, -1, 2 * size - 1)
        x, inside = _clip(x, size)
        return x, flip * inside
    return x, torch.ones_like(x)


class Taps(NamedTuple):
    """The kernel support of every sample position, along x and y at once.

    Every field is (support, 2, N, H', W'): one slice per tap m, then the
    axis (0: x, 1: y) — the kernel is separable and the same along both axes.
    ``index``: the tap's pixel m, clamped into the image (int32);
    ``weight``: k(x − m), 0 for taps outside the image (they read zero);
    ``d``: x − m;
    ``dx_dgrid``: ∂x/∂grid (the normalization scale times the padding mode's
    slope), 0 for taps outside the image.
    """

    index: torch.Tensor
    weight: torch.Tensor
    d: torch.Tensor
    dx_dgrid: torch.Tensor

    def slope(self, kernel: Kernel) -> torch.Tensor:
        """∂k(x − m)/∂grid = k'(x − m) · ∂x/∂grid, with the kernel's documented subgradient k'."""
        return kernel.derivative(self.d).mul_(self.dx_dgrid)


def _per_axis(fn, x: torch.Tensor, sizes: tuple[int, int]):
    """Apply ``fn(x_axis, size)`` → (value, slope) to x[:, 0] (width W) and x[:, 1] (height H)."""
    results = [fn(x[:, axis], size) for axis, size in enumerate(sizes)]
    return tuple(torch.stack(r, dim=1) for r in zip(*results))


def find_taps(grid: torch.Tensor, sizes: tuple[int, int], kernel: Kernel, padding_mode: str,
              align_corners: bool) -> Taps:
    """The taps, weights k(x − m) and what their grid slopes need, for a grid (no autograd).

    ``x`` is the pixel position; for nearest and bilinear the padding mode moves ``x`` itself
    (its slope enters the chain rule), for bicubic it moves each integer tap.

    Args:
        grid: N×H'×W'×2 normalized (x, y).
        sizes: the input's (W, H) in pixels.
        kernel: the :class:`~stnlib.kernels.Kernel`.
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``.
        align_corners: see :func:`unnormalize`.
    Returns:
        :class:`Taps`, each field (support, 2, N, H', W').
    """
    size = torch.tensor(sizes, dtype=grid.dtype, device=grid.device).view(1, 2, 1, 1, 1)
    x = unnormalize(grid.permute(3, 0, 1, 2).unsqueeze(0), size, align_corners=align_corners)
    dx_dgrid = (size - 1) / 2 if align_corners else size / 2

    def pad(x, n):
        return pad_coordinates(x, n, padding_mode, align_corners=align_corners)

    if kernel.name != "bicubic" and padding_mode != "zeros":
        x, dpad = _per_axis(pad, x, sizes)
        dx_dgrid = dx_dgrid * dpad
    offsets = torch.tensor(kernel.offsets, dtype=x.dtype, device=x.device).view(-1, 1, 1, 1, 1)
    taps = kernel.base(x) + offsets                      # m, one slice per tap
    d = x - taps                                         # x − m
    if kernel.name == "bicubic" and padding_mode != "zeros":
        taps = _per_axis(pad, taps, sizes)[0]
    index = taps.clone()
    for axis, n in enumerate(sizes):
        index[:, axis].clamp_(0, n - 1)
    inside = 1 - (taps - index).abs_().clamp_max_(1)    # 1 for taps in the image, 0 outside
    return Taps(index.int(), kernel.weight(d).mul_(inside), d, inside.mul_(dx_dgrid))


def _taps(coord: torch.Tensor, size: int, kernel: Kernel, padding_mode: str,
          align_corners: bool):
    """Tap indices, differentiable kernel weights and validity masks along one axis.

    Used by :func:`stnlib.decoder.scatter_decode`, which differentiates through
    the weights with autograd (its positions are never padded: ``"zeros"``).
    coord: (N, H', W') normalized. Returns (index, weight, valid), each
    (N, H', W', kernel.support); ``index`` is int64 and always in range.
    """
    x = unnormalize(coord, size, align_corners=align_corners)
    if kernel.name != "bicubic" and padding_mode != "zeros":
        x, _ = pad_coordinates(x, size, padding_mode, align_corners=align_corners)
    taps = kernel.taps(x)
    weight = kernel(x.unsqueeze(-1) - taps)
    if kernel.name == "bicubic":
        taps, _ = pad_coordinates(taps, size, padding_mode, align_corners=align_corners)
    valid = (taps >= 0) & (taps <= size - 1)
    index = taps.clamp(0, size - 1).long()
    return index, weight, valid


class _Sampler(torch.autograd.Function):
    """Eq. 3 forward; eqs. 6 and 7 written out in the backward.

    Large tensors are expensive to allocate, so each pass reuses one scratch
    buffer for the per-tap values (the ``out=`` arguments).
    """

    @staticmethod
    def forward(ctx, U, grid, kernel: Kernel, padding_mode: str, align_corners: bool):
        N, C, H, W = U.shape
        P = grid.shape[1] * grid.shape[2]
        taps = find_taps(grid, (W, H), kernel, padding_mode, align_corners)
        (ix, iy), (wx, wy) = taps.index.unbind(1), taps.weight.unbind(1)
        # all (n, m) pairs of the support: flat pixel index n·W + m and weight k(x − m) k(y − n)
        index = (iy.unsqueeze(1) * W + ix.unsqueeze(0)).view(-1, N, 1, P).long()
        weight = (wy.unsqueeze(1) * wx.unsqueeze(0)).view(-1, N, 1, P)
        # eq. 3: V_i = Σ_n Σ_m U_nm k(x_i − m) k(y_i − n), over the taps of each output pixel
        U_flat = U.reshape(N, C, H * W)
        V = U.new_zeros(N, C, P)
        U_tap = torch.empty_like(V)
        for tap in range(len(index)):
            torch.gather(U_flat, 2, index[tap].expand(N, C, -1), out=U_tap)
            V.addcmul_(U_tap, weight[tap])
        ctx.save_for_backward(U, index, weight, *taps[1:])
        ctx.kernel, ctx.grid_shape = kernel, grid.shape
        return V.view(N, C, *grid.shape[1:3])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_V):
        U, index, weight, *saved = ctx.saved_tensors
        N, C, H, W = U.shape
        P = index.shape[-1]
        grad_V = grad_V.reshape(N, C, P)
        scratch = torch.empty_like(grad_V)
        grad_U = grad_grid = None
        if ctx.needs_input_grad[0]:  # eq. 6: ∂V_i/∂U_nm = k(x_i − m) k(y_i − n): scatter back
            grad_U = U.new_zeros(N, C, H * W)
            for tap in range(len(index)):
                torch.mul(grad_V, weight[tap], out=scratch)
                grad_U.scatter_add_(2, index[tap].expand(N, C, -1), scratch)
            grad_U = grad_U.view_as(U)
        if ctx.needs_input_grad[1]:  # eq. 7: ∂V_i/∂x_i = Σ U_nm k'(x_i − m) k(y_i − n), and so for y
            taps = Taps(None, *saved)
            S = len(taps.weight)
            wx, wy = taps.weight.view(S, 2, N, P).unbind(1)
            sx, sy = taps.slope(ctx.kernel).view(S, 2, N, P).unbind(1)
            U_flat = U.reshape(N, C, H * W)
            G = U.new_empty(S, S, N, P)                  # G_nm = Σ_c ∂L/∂V_i · U_nm, per tap
            for tap in range(len(index)):
                torch.gather(U_flat, 2, index[tap].expand(N, C, -1), out=scratch)
                torch.sum(scratch.mul_(grad_V), dim=1, out=G.view(-1, N, P)[tap])
            grad_x = (G * sx.unsqueeze(0)).sum(1).mul_(wy).sum(0)   # Σ_n k(y − n) Σ_m G_nm k'(x − m)
            grad_y = (G * wx.unsqueeze(0)).sum(1).mul_(sy).sum(0)   # Σ_n k'(y − n) Σ_m G_nm k(x − m)
            grad_grid = torch.stack([grad_x, grad_y], dim=-1).view(ctx.grid_shape)
        return grad_U, grad_grid, None, None, None


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
        V, N×C×H'×W'. Differentiable w.r.t. ``U`` (eq. 6) and ``grid`` (eq. 7),
        once (no double backward).
    """
    _check(U, grid, align_corners, kernel, padding_mode)
    return _Sampler.apply(U, grid, get_kernel(kernel), padding_mode, align_corners)


def grid_sample_native(U: torch.Tensor, grid: torch.Tensor, *, align_corners: bool,
                       kernel: str = "bilinear", padding_mode: str = "zeros") -> torch.Tensor:
    """``torch.nn.functional.grid_sample`` behind the course's signature (shapes as the reference).

    Args:
        U: input, N×C×H×W, floating point.
        grid: sampling grid, N×H'×W'×2, normalized (x, y) in [-1, 1].
        align_corners: see :func:`unnormalize`; required.
        kernel: ``"nearest"``, ``"bilinear"`` or ``"bicubic"`` (``grid_sample``'s ``mode``).
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``.
    Returns:
        V, N×C×H'×W'.
    """
    _check(U, grid, align_corners, kernel, padding_mode)
    return F.grid_sample(U, grid, mode=kernel, padding_mode=padding_mode,
                         align_corners=align_corners)


def sample(U: torch.Tensor, grid: torch.Tensor, *, align_corners: bool, kernel: str = "bilinear",
           padding_mode: str = "zeros", sampler: str = "native") -> torch.Tensor:
    """Sample ``U`` (N×C×H×W) at ``grid`` (N×H'×W'×2) with the chosen implementation.

    ``sampler="native"`` uses ``grid_sample`` (fast, the default for training);
    ``sampler="reference"`` uses the course's eq.-3 implementation. Both accept
    the same arguments.

    Args:
        U: input, N×C×H×W, floating point.
        grid: sampling grid, N×H'×W'×2, normalized (x, y) in [-1, 1].
        align_corners: see :func:`unnormalize`; required.
        kernel: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        padding_mode: what taps outside the input read: ``"zeros"``, ``"border"`` or
            ``"reflection"``.
        sampler: ``"native"`` or ``"reference"``.
    Returns:
        V, N×C×H'×W'.

    Example:
        >>> import torch
        >>> from stnlib.grids import affine_grid
        >>> U = torch.arange(16.0).view(1, 1, 4, 4)
        >>> grid = affine_grid(torch.eye(2, 3)[None], (4, 4), align_corners=False)
        >>> torch.equal(sample(U, grid, align_corners=False, kernel="nearest"), U)
        True
        >>> V = sample(U, grid, align_corners=False, sampler="reference")  # eq. 3, same numbers
        >>> torch.allclose(V, U)
        True
    """
    _validate.choice(sampler, "sampler", SAMPLERS)
    fn = grid_sample_native if sampler == "native" else grid_sample_reference
    return fn(U, grid, align_corners=align_corners, kernel=kernel, padding_mode=padding_mode)


def sample_1d(U: torch.Tensor, grid: torch.Tensor, *, align_corners: bool,
              kernel: str = "bilinear", padding_mode: str = "zeros",
              sampler: str = "native") -> torch.Tensor:
    """1-D sampling for time series, with the same kernels and padding modes.

    Args:
        U: N×C×L signal.
        grid: N×L' normalized positions in [-1, 1] (−1, +1: first / last sample
            per ``align_corners``).
        align_corners: see :func:`unnormalize`; required.
        kernel: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``.
        sampler: ``"native"`` or ``"reference"``.
    Returns:
        N×C×L'. Implemented as the 2-D sampler on an image of height 1, whose
        kernel in y then reduces to the single weight k(0) = 1.

    Example:
        >>> import torch
        >>> U = torch.tensor([[[0.0, 1.0, 2.0, 3.0]]])       # N×C×L
        >>> pos = torch.tensor([[-0.75, -0.25, 0.25, 0.75]])  # the pixel centres, align_corners=False
        >>> sample_1d(U, pos, align_corners=False).tolist()
        [[[0.0, 1.0, 2.0, 3.0]]]
    """
    _validate.tensor(U, "U", ndim=3, layout="N×C×L")
    _validate.tensor(grid, "grid", ndim=2, layout="N×L' (normalized positions)")
    _validate.same_batch(U, "U", grid, "grid")
    grid2d = torch.stack([grid, torch.zeros_like(grid)], dim=-1).unsqueeze(1)
    V = sample(U.unsqueeze(2), grid2d, align_corners=align_corners, kernel=kernel,
               padding_mode=padding_mode, sampler=sampler)
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
