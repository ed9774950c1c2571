"""The spatial decoder of Dense Transformer Networks (Li et al. 2017), used by Abou Chacra & Zelek.

A spatial transformer in an encoder warps a feature map onto its own output
grid: output pixel i reads the input at T_θ(G_i). For dense prediction the
result must go back onto the input's pixel grid. The decoder does the
transpose of the sampler: each output value V_i is *scattered* to the input
pixels around T_θ(G_i) with the same kernel weights k(x − m) k(y − n) the
sampler used to gather, and every input pixel is normalized by the sum of
the weights that reached it:

    D_nm = Σ_i w_i,nm V_i / Σ_i w_i,nm        where Σ_i w_i,nm > eps,
    D_nm = skip_nm                              elsewhere (nothing landed there).

The skip features (the encoder's features at that depth, as in a U-Net)
fill the holes. With the identity θ, D = V exactly; for any warp that covers
a region densely, decode(encode(x)) ≈ x there. Differentiable w.r.t. V (the
scatter's backward is a gather), the skip features, and θ (through the
kernel weights and their subgradients).
"""

from __future__ import annotations

import torch
from torch import nn

from . import _validate
from .grids import make_grid_generator
from .kernels import get_kernel
from .sampler import _taps


def scatter_decode(V: torch.Tensor, grid: torch.Tensor, out_size, *, align_corners: bool,
                   kernel: str = "bilinear", skip: torch.Tensor | None = None,
                   eps: float = 1e-6) -> torch.Tensor:
    """Scatter V (N×C×H'×W') back to an H×W grid along ``grid`` (N×H'×W'×2).

    Args:
        V: N×C×H'×W', the transformed feature map.
        grid: N×H'×W'×2, the sampling grid the encoder used (normalized input positions of V's
            pixels).
        out_size: (H, W) of the decoded map, the encoder's input size.
        align_corners: must match the encoder's.
        kernel: the scatter weights, ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        skip: N×C×H×W, fills the pixels no output reached (zeros when ``None``).
        eps: pixels whose summed weight is at most ``eps`` count as not reached.
    Returns:
        N×C×H×W: each reached pixel the weighted mean of the values scattered onto it.
    """
    _validate.tensor(V, "V", ndim=4, layout="N×C×H'×W'")
    _validate.tensor(grid, "grid", ndim=4, layout="N×H'×W'×2")
    if grid.shape[1:3] != V.shape[2:] or grid.shape[-1] != 2:
        raise ValueError(f"grid must have shape N×H'×W'×2 matching V's N×C×{V.shape[2]}×{V.shape[3]}, "
                         f"got {tuple(grid.shape)}")
    _validate.same_batch(V, "V", grid, "grid")
    H, W = _validate.size(out_size, "out_size", 2)
    _validate.flag(align_corners, "align_corners")
    N, C = V.shape[:2]
    if skip is not None:
        _validate.tensor(skip, "skip", ndim=4, layout="N×C×H×W")
        if tuple(skip.shape) != (N, C, H, W):
            raise ValueError(f"skip must have shape {(N, C, H, W)}, got {tuple(skip.shape)}")
    k = get_kernel(kernel)
    ix, wx, vx = _taps(grid[..., 0], W, k, "zeros", align_corners)
    iy, wy, vy = _taps(grid[..., 1], H, k, "zeros", align_corners)
    index = (iy.unsqueeze(-1) * W + ix.unsqueeze(-2)).reshape(N, -1)  # N×(H'W'T)
    weight = (wy.unsqueeze(-1) * wx.unsqueeze(-2) * (vy.unsqueeze(-1) & vx.unsqueeze(-2)))
    T = k.support * k.support
    weight = weight.reshape(N, -1, T)  # N×H'W'×T
    values = (V.reshape(N, C, -1, 1) * weight.unsqueeze(1)).reshape(N, C, -1)
    num = V.new_zeros(N, C, H * W).scatter_add(2, index.unsqueeze(1).expand(N, C, -1), values)
    den = V.new_zeros(N, 1, H * W).scatter_add(2, index.unsqueeze(1), weight.reshape(N, 1, -1))
    covered = den > eps
    decoded = num / torch.where(covered, den, torch.ones_like(den))
    fill = V.new_zeros(N, C, H * W) if skip is None else skip.reshape(N, C, H * W)
    return torch.where(covered, decoded, fill).view(N, C, H, W)


class SpatialDecoder(nn.Module):
    """Map a transformed feature map back onto the input grid, given the encoder's θ.

    Args:
        align_corners: must match the encoder's transformer.
        transform: the encoder's transform (``"affine"``, ``"attention"``,
            ``"projective"``, ``"tps"``).
        kernel: the scatter kernel (``"bilinear"`` as in Li et al.; any of
            nearest / bilinear / bicubic).
        tps_points: control points per side (``"tps"`` only).
        eps: pixels whose summed weight is below ``eps`` count as uncovered.

    ``forward(V, theta, skip)``: V N×C×H'×W' (the transformer's output),
    θ as the transformer returned it, skip N×C×H×W (the features before the
    transformer) → N×C×H×W.

    Example:
        >>> import torch
        >>> from stnlib.transformer import SpatialTransformer
        >>> st = SpatialTransformer(8, align_corners=False, transform="affine")
        >>> dec = SpatialDecoder(align_corners=False, transform="affine")
        >>> x = torch.rand(2, 8, 16, 16)
        >>> V, theta = st(x)                   # identity θ at initialization
        >>> torch.allclose(dec(V, theta, skip=torch.zeros_like(x)), x, atol=1e-5)
        True
    """

    def __init__(self, *, align_corners: bool, transform: str = "affine",
                 kernel: str = "bilinear", tps_points: int = 4, eps: float = 1e-6):
        super().__init__()
        self.generator = make_grid_generator(transform, tps_points=tps_points)
        if self.generator.ndim != 2:
            raise ValueError(f"SpatialDecoder needs an image transform, got {transform!r}")
        self.align_corners = _validate.flag(align_corners, "align_corners")
        self.kernel = get_kernel(kernel).name
        self.eps = eps

    def forward(self, V: torch.Tensor, theta: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        _validate.tensor(V, "V", ndim=4, layout="N×C×H'×W'")
        _validate.tensor(skip, "skip", ndim=4, layout="N×C×H×W")
        grid = self.generator(theta, tuple(V.shape[2:]), align_corners=self.align_corners)
        return scatter_decode(V, grid, tuple(skip.shape[2:]), align_corners=self.align_corners,
                              kernel=self.kernel, skip=skip, eps=self.eps)
