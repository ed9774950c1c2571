"""Equivariance measures: how far a feature map is from moving with its input.

Finnveden, Jansson & Lindeberg (2020), eq. 1: a spatial transformer can align
CNN feature maps only if T_g⁻¹(Γ_k T_g f) = Γ_k f, i.e. if the network Γ_k
up to map k commutes with the image transformation T_g. This module measures
that as a number, for any network whose layers it can trace, and reads out
what a trained transformer does:

* :func:`rotation_shift`  T_g as a 3×3 input-pixel matrix (rotation about the centre, then a shift)
* :func:`map_geometry`    where each feature map's pixels sit on the input (offset, stride, size)
* :func:`theta_on_map`    the θ that applies T_g to a map of that geometry
* :func:`warp_map`        a map warped by that θ (one θ for the batch)
* :func:`misalignment`    ‖T_g⁻¹(Γ_k T_g f) − Γ_k f‖ / ‖Γ_k f‖ for every map k, per image
* :func:`predicted_angle` the rotation a transformer's θ undoes (degrees)
* :func:`orthogonal_fit`  Deming regression of predicted against applied angles (the paper's Figure 3)

Conventions: images N×C×H×W with H = W; θ maps output to input coordinates
(normalized, ``align_corners=False``), as everywhere in :mod:`stnlib`; pixel
matrices map source to destination pixel coordinates (x right, y down).
"""

from __future__ import annotations

import torch
from torch import nn

from .grids import affine_grid
from .theta import affine_theta, decompose_affine, invert, pixel_matrix_from_theta, theta_from_pixel_matrix
from .warping import warp as _warp


def warp_map(U: torch.Tensor, theta: torch.Tensor, *, padding_mode: str = "zeros") -> torch.Tensor:
    """The map U warped by θ: V(x) = U(θx), through :func:`stnlib.warp` (bilinear,
    ``align_corners=False``, the output the size of U).

    Args:
        U: N×C×H×W maps (an image or a feature map).
        theta: 2×3, one θ for the whole batch (as :func:`theta_on_map` gives), or N×2×3.
        padding_mode: what is read outside U (``"zeros"``, ``"border"``, ``"reflection"``).

    Returns:
        V, N×C×H×W, in U's dtype.

    Example:
        >>> U = torch.rand(2, 3, 8, 8)
        >>> torch.allclose(warp_map(U, torch.eye(2, 3)), U, atol=1e-6)
        True
    """
    if theta.dim() == 2:
        theta = theta.expand(U.shape[0], 2, 3)
    return _warp(U, theta.to(U), align_corners=False, padding_mode=padding_mode)


def rotation_shift(angle: float = 0.0, shift=(0.0, 0.0), size: int = 28) -> torch.Tensor:
    """T_g as a 3×3 source → destination pixel matrix of a ``size``×``size`` image (float64).

    Args:
        angle: the picture turns by ``angle`` degrees counter-clockwise about its centre (as
            :func:`stnlib.theta.affine_theta`), ...
        shift: ... then moves by (dx, dy) pixels (+x right, +y down).
        size: the image's side in pixels.

    Returns:
        M, 3×3 float64 with last row (0, 0, 1): the destination pixel of source pixel (x, y) is
        M · (x, y, 1)ᵀ (pixel centres at 0 … size − 1).

    Example:
        >>> rotation_shift(0.0, (2.0, -1.0), size=8)
        tensor([[ 1.,  0.,  2.],
                [ 0.,  1., -1.],
                [ 0.,  0.,  1.]], dtype=torch.float64)
    """
    dx, dy = shift
    th = affine_theta(float(angle), translation=(2 * dx / size, 2 * dy / size), dtype=torch.float64)
    M = pixel_matrix_from_theta(th, (size, size), align_corners=False)
    return torch.cat([M, torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)])


def map_geometry(blocks, in_size: int) -> list[tuple[float, float, int]]:
    """Where each map's pixels sit on the input: ``(offset, stride, size)`` per map.

    Map 0 is the input ``(0, 1, in_size)``; map k is the output of ``blocks[:k]``. Feature
    pixel j of map k is centred on input pixel ``offset + stride · j`` (both axes). Traces
    ``Conv2d`` / ``MaxPool2d`` / ``AvgPool2d`` (square kernels, no dilation) and skips
    element-wise layers (ReLU, …).

    Args:
        blocks: the network's blocks in order (modules or ``nn.Sequential`` s).
        in_size: the input's side H = W in pixels.

    Returns:
        one ``(offset, stride, size)`` per map, the input first (len(blocks) + 1 entries).

    Example:
        >>> map_geometry([nn.Conv2d(1, 2, 5), nn.MaxPool2d(2)], 28)
        [(0.0, 1.0, 28), (2.0, 1.0, 24), (2.5, 2.0, 12)]
    """
    geo = [(0.0, 1.0, int(in_size))]
    o, r, n = geo[0]
    for block in blocks:
        for m in (block.modules() if isinstance(block, nn.Sequential) else [block]):
            if isinstance(m, nn.Sequential):
                continue
            if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
                k, s, p = (v if isinstance(v, int) else v[0] for v in (m.kernel_size, m.stride, m.padding))
                if isinstance(m, nn.Conv2d) and m.dilation[0] != 1:
                    raise ValueError("map_geometry does not handle dilated convolutions")
                o, r, n = o + ((k - 1) / 2 - p) * r, r * s, (n + 2 * p - k) // s + 1
            elif isinstance(m, (nn.ReLU, nn.Identity, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU)):
                continue
            else:
                raise ValueError(f"map_geometry traces Conv2d, MaxPool2d, AvgPool2d and element-wise "
                                 f"layers only, got {type(m).__name__}")
        geo.append((o, r, n))
    return geo


def theta_on_map(M: torch.Tensor, geometry: tuple[float, float, int]) -> torch.Tensor:
    """θ that applies the input-pixel transform ``M`` to a feature map with ``geometry``.

    Args:
        M: T_g, a 3×3 source → destination pixel matrix of the input (:func:`rotation_shift`).
        geometry: ``(offset, stride, size)`` of the map, an entry of :func:`map_geometry`.

    Returns:
        θ, 2×3 float64 (``align_corners=False``): ``stnlib.warp(map, θ)`` is T_g on that map,
        ``stnlib.warp(map, invert(θ))`` is T_g⁻¹.

    Example:
        >>> th = theta_on_map(rotation_shift(30.0, size=28), (0.0, 1.0, 28))   # the input itself
        >>> torch.allclose(th, affine_theta(30.0, dtype=torch.float64))
        True
        >>> th = theta_on_map(rotation_shift(0.0, (2.0, 0.0)), (4.5, 2.0, 10))  # a stride-2 map
        >>> torch.allclose(th, affine_theta(translation=(0.2, 0.0), dtype=torch.float64))  # 1 of 10 px
        True
    """
    o, r, n = geometry
    G = torch.tensor([[r, 0.0, o], [0.0, r, o], [0.0, 0.0, 1.0]], dtype=torch.float64)
    M_map = torch.linalg.inv(G) @ M.to(torch.float64) @ G
    return theta_from_pixel_matrix(M_map[:2], (n, n), align_corners=False)


def _inside(theta: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """1 where warp(·, θ) reads at a point on the map (within its outer pixel edges), else 0
    (N×1×H×W)."""
    grid = affine_grid(theta.to(like).expand(like.shape[0], 2, 3), tuple(like.shape[2:]),
                       align_corners=False)
    return (grid.abs() <= 1 + 1e-9).all(-1)[:, None].to(like.dtype)


@torch.no_grad()
def misalignment(maps, images: torch.Tensor, M: torch.Tensor, geometry=None, *,
                 mask_borders: bool = True) -> torch.Tensor:
    """Relative misalignment ‖T_g⁻¹(Γ_k T_g f) − Γ_k f‖ / ‖Γ_k f‖ of every map k, per image.

    Args:
        maps: ``maps(x)`` → the list of feature maps [Γ_1 x, Γ_2 x, …] (e.g.
            :meth:`stnlib.models.placement.PlacementNet.feature_maps`).
        images: f, N×C×H×W (H = W).
        M: T_g as a 3×3 input-pixel matrix (:func:`rotation_shift`).
        geometry: :func:`map_geometry` of the network (one entry per map, the input first);
            ``None`` only when every map is the input's size ('same' padding, stride 1).
        mask_borders: compare only where T_g⁻¹ reads a point on the map (within its outer
            pixel edges; the bilinear taps there use border padding), so that what lies outside
            the map does not count.

    Returns:
        (number of maps + 1)×N: row 0 is the input itself (T_g⁻¹ T_g f vs f, the resampling
        floor), row k the k-th feature map; NaN where nothing is left to compare (the border
        mask covers the whole map, or Γ_k f is zero there).

    Example:
        A point-wise layer commutes with a quarter turn; a convolution with an asymmetric
        filter does not:

        >>> f = torch.zeros(2, 1, 16, 16); f[:, :, 5:11, 5:11] = 1
        >>> quarter = rotation_shift(90.0, size=16)
        >>> misalignment(lambda x: [torch.relu(x - 0.5)], f, quarter)[1]
        tensor([0., 0.])
        >>> conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
        >>> with torch.no_grad():
        ...     _ = conv.weight.copy_(torch.tensor([[[[1.0, 2, 0], [0, -1, 3], [0, 0, 1]]]]))
        >>> misalignment(lambda x: [conv(x)], f, quarter)[1]
        tensor([0.4249, 0.4249])
    """
    f = images
    size = f.shape[-1]
    if f.dim() != 4 or f.shape[-2] != size:
        raise ValueError(f"images must be N×C×H×W with H = W, got shape {tuple(f.shape)}")
    plain, moved = maps(f), None
    if geometry is None:
        if any(m.shape[-1] != size for m in plain):
            raise ValueError("the maps are not the input's size: pass geometry=map_geometry(blocks, "
                             "in_size), where each map's pixels sit on the input")
        geometry = [(0.0, 1.0, size)] * (len(plain) + 1)
    if len(geometry) != len(plain) + 1:
        raise ValueError(f"geometry must have one entry per map plus the input ({len(plain) + 1}), "
                         f"got {len(geometry)}")
    Tf = warp_map(f, theta_on_map(M, geometry[0]))  # T_g f
    moved = maps(Tf)
    out = []
    for g, a, b in zip(geometry, [Tf] + list(moved), [f] + list(plain)):
        if a.shape[-1] != g[2]:
            raise ValueError(f"a map has size {a.shape[-1]}, geometry says {g[2]}")
        th_back = invert(theta_on_map(M, g))  # T_g⁻¹ on the map: V(x) = map(M x)
        back = warp_map(a, th_back, padding_mode="border")
        w = _inside(th_back, a) if mask_borders else torch.ones_like(a[:, :1])
        diff = ((back - b) * w).flatten(1).norm(dim=1)
        ref = (b * w).flatten(1).norm(dim=1)
        out.append(torch.where(ref > 0, diff / ref.clamp_min(1e-300), torch.nan))
    return torch.stack(out)


def predicted_angle(theta: torch.Tensor) -> torch.Tensor:
    """The rotation (degrees, counter-clockwise) that θ undoes: the angle the transformer predicts.

    θ maps output to input coordinates; the transformer turns its input by the angle of the
    forward map θ⁻¹, atan2 of its entries (:func:`stnlib.theta.decompose_affine`). A digit
    turned by +a is put upright by turning it by −a, so the prediction is minus that angle.
    Shape N (θ N×2×3) or scalar (θ 2×3).

    Example:
        >>> round(predicted_angle(affine_theta(-30.0)).item(), 4)   # θ turns the picture by −30°
        30.0
    """
    return -decompose_affine(theta)["angle"]


def orthogonal_fit(x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Deming (orthogonal) regression y ≈ slope·x + intercept, the fit of the authors' angle plot.

    Args:
        x, y: the applied and the predicted values (any shape, the same number ≥ 3).

    Returns:
        ``slope``, ``intercept``, ``r`` (Pearson's correlation) and ``spread`` (the
        root-mean-square vertical distance of the points from the line).

    Example:
        >>> x = torch.linspace(-90, 90, 19)
        >>> fit = orthogonal_fit(x, 2 * x + 1)
        >>> round(fit["slope"], 6), round(fit["intercept"], 6), round(fit["spread"], 6)
        (2.0, 1.0, 0.0)
    """
    x, y = x.double().flatten(), y.double().flatten()
    if x.numel() != y.numel() or x.numel() < 3:
        raise ValueError(f"x and y must hold the same number (≥ 3) of values, got {x.numel()} and "
                         f"{y.numel()}")
    mx, my = x.mean(), y.mean()
    sxx, syy, sxy = ((x - mx) ** 2).mean(), ((y - my) ** 2).mean(), ((x - mx) * (y - my)).mean()
    if sxy.abs() < 1e-12:
        slope = torch.tensor(0.0, dtype=torch.float64)
    else:
        slope = (syy - sxx + torch.sqrt((syy - sxx) ** 2 + 4 * sxy ** 2)) / (2 * sxy)
    intercept = my - slope * mx
    r = sxy / (sxx.sqrt() * syy.sqrt()).clamp_min(1e-12)
    spread = ((y - slope * x - intercept) ** 2).mean().sqrt()
    return {"slope": slope.item(), "intercept": intercept.item(), "r": r.item(),
            "spread": spread.item()}


__all__ = ["map_geometry", "misalignment", "orthogonal_fit", "predicted_angle", "rotation_shift",
           "theta_on_map", "warp_map"]
