r"""Grid generators: from transformation parameters θ to a sampling grid T_θ(G).

The regular grid G holds the normalized (x, y) of every *output* pixel; a grid
generator maps each of them to the position in the *input* that the sampler
reads (θ is an inverse map: output → input, as in the paper and in PyTorch).

======================= =============== ================================================
transform               θ shape         source position of an output point (x, y)
======================= =============== ================================================
affine (eq. 1)          N×2×3           θ · (x, y, 1)ᵀ
attention (eq. 2)       N×3: s, tx, ty  (s x + tx, s y + ty)
projective              N×3×3 or N×8    (a x + b y + c, d x + e y + f) / (g x + h y + 1)
thin-plate spline       N×K×2           (x, y) + Σ_k w_k φ(|(x, y) − p_k|) + affine part
time warp (1-D)         N×2: s, t       s x + t
======================= =============== ================================================

Every generator takes ``out_size`` (any size, larger or smaller than the
input) and an explicit ``align_corners``. Functions return N×H'×W'×2 grids
(N×L' for the 1-D warp) for :func:`stnlib.sampler.sample`.

The module classes (:class:`AffineGrid`, ...) add what a localization network
needs: the number of parameters, the identity parameters, and the reshaping
of a flat regression output into θ.
"""

from __future__ import annotations

import torch
from torch import nn

from . import _validate
from .sampler import normalize


def base_grid(out_size, *, align_corners: bool, dtype=torch.float32,
              device=None) -> torch.Tensor:
    """The regular grid G: normalized (x, y) of every output pixel centre, shape H'×W'×2.

    Args:
        out_size: the output's (H', W') in pixels (an int means square).
        align_corners: True puts ±1 on the centres of the corner pixels, False on their outer
            edges (as ``grid_sample``).
        dtype: the grid's dtype.
        device: the grid's device.
    """
    H, W = _validate.size(out_size, "out_size", 2)
    _validate.flag(align_corners, "align_corners")
    xs = normalize(torch.arange(W, dtype=dtype, device=device), W, align_corners=align_corners)
    ys = normalize(torch.arange(H, dtype=dtype, device=device), H, align_corners=align_corners)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1)


def _homogeneous(out_size, align_corners, like: torch.Tensor) -> torch.Tensor:
    g = base_grid(out_size, align_corners=align_corners, dtype=like.dtype, device=like.device)
    return torch.cat([g, torch.ones_like(g[..., :1])], dim=-1).reshape(-1, 3)  # (H'W', 3)


def affine_grid(theta: torch.Tensor, out_size, *, align_corners: bool) -> torch.Tensor:
    """Affine grid (eq. 1): θ (N×2×3) → grid N×H'×W'×2; equals ``F.affine_grid``.

    Args:
        theta: N×2×3, output → input in normalized coordinates.
        out_size: the output's (H', W') in pixels (an int means square).
        align_corners: as in ``grid_sample`` (always explicit).
    Returns:
        The sampling grid, N×H'×W'×2: normalized (x, y) in the input read by each output pixel.

    Example:
        >>> import torch
        >>> theta = torch.tensor([[[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]])  # read the central half
        >>> affine_grid(theta, (2, 2), align_corners=False)[0, 0, 0]  # top-left output pixel
        tensor([-0.2500, -0.2500])
    """
    _check_theta(theta, "theta", (2, 3), "N×2×3")
    H, W = _validate.size(out_size, "out_size", 2)
    points = _homogeneous((H, W), align_corners, theta)
    return (points @ theta.transpose(1, 2)).view(theta.shape[0], H, W, 2)


def attention_theta(params: torch.Tensor) -> torch.Tensor:
    """The affine θ [[s, 0, tx], [0, s, ty]], N×2×3, of attention parameters (s, tx, ty).

    ``params``: N×3 (s, tx, ty): isotropic scale and normalized translation.
    """
    _check_theta(params, "params", (3,), "N×3 (s, tx, ty)")
    s, tx, ty = params.unbind(-1)
    zero = torch.zeros_like(s)
    return torch.stack([torch.stack([s, zero, tx], -1), torch.stack([zero, s, ty], -1)], -2)


def attention_grid(params: torch.Tensor, out_size, *, align_corners: bool) -> torch.Tensor:
    """Attention grid (eq. 2): isotropic scale and translation, params N×3 (s, tx, ty).

    Args:
        params: N×3 (s, tx, ty): scale and normalized translation.
        out_size: the output's (H', W') in pixels (an int means square).
        align_corners: as in ``grid_sample`` (always explicit).
    Returns:
        The sampling grid, N×H'×W'×2.

    Example:
        >>> import torch
        >>> grid = attention_grid(torch.tensor([[0.5, 0.5, 0.0]]), (4, 4), align_corners=False)
        >>> grid.shape, grid[0, 0, 0].tolist()  # a window of half the size, moved right
        (torch.Size([1, 4, 4, 2]), [0.125, -0.375])
    """
    return affine_grid(attention_theta(params), out_size, align_corners=align_corners)


#: the normalized position given to output points that no input point reaches
OUTSIDE = 4.0


def projective_matrix(theta: torch.Tensor) -> torch.Tensor:
    """The projective θ as N×3×3: N×8 (a, b, c, d, e, f, g, h) gets the fixed last entry 1.

    ``theta``: N×8, or N×3×3 (returned as it is, after the shape check).
    """
    _validate.tensor(theta, "theta", ndim=(2, 3), layout="N×8 or N×3×3")
    if theta.dim() == 2:
        if theta.shape[1] != 8:
            raise ValueError(f"theta must have shape N×8 or N×3×3, got {tuple(theta.shape)}")
        theta = torch.cat([theta, torch.ones_like(theta[:, :1])], dim=1).view(-1, 3, 3)
    _check_theta(theta, "theta", (3, 3), "N×8 or N×3×3")
    return theta


def projective_grid(theta: torch.Tensor, out_size, *, align_corners: bool) -> torch.Tensor:
    """Projective (homography) grid: θ N×8 or N×3×3 → N×H'×W'×2.

    Args:
        theta: the homography, N×8 (a..h, the last entry fixed to 1) or N×3×3, output → input
            in normalized coordinates.
        out_size: the output's (H', W') in pixels (an int means square).
        align_corners: as in ``grid_sample`` (always explicit).
    Returns:
        The sampling grid, N×H'×W'×2.

    The source point is the dehomogenized θ · (x, y, 1)ᵀ. Output points
    whose denominator w = g x + h y + 1 is ≤ 1e-6 lie on or beyond the
    horizon: no input point projects there (dividing would give infinity, or a
    mirrored ghost of the input for w < 0), so they get the position
    (OUTSIDE, OUTSIDE), far outside the input, where the sampler reads padding
    (and passes no gradient). Near the identity, w ≈ 1 everywhere.

    Example:
        >>> import torch
        >>> identity = torch.tensor([[1.0, 0, 0, 0, 1, 0, 0, 0]])
        >>> torch.allclose(projective_grid(identity, (3, 5), align_corners=False),
        ...                base_grid((3, 5), align_corners=False)[None])
        True
    """
    M = projective_matrix(theta)
    H, W = _validate.size(out_size, "out_size", 2)
    h = _homogeneous((H, W), align_corners, M) @ M.transpose(1, 2)  # (N, H'W', 3)
    w = h[..., 2:]
    visible = w > 1e-6
    xy = h[..., :2] / torch.where(visible, w, torch.ones_like(w))
    xy = torch.where(visible, xy, torch.full_like(xy, OUTSIDE))
    return xy.view(M.shape[0], H, W, 2)


def regular_control_points(n: int = 4, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """The n×n control points of a regular grid over [-1, 1]², as K×2 (x, y), K = n², row by row.

    ``n``: points per side (≥ 2); ``dtype`` and ``device``: the tensor's.
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n (control points per side) must be an int >= 2, got {n!r}")
    t = torch.linspace(-1, 1, n, dtype=dtype, device=device)
    gy, gx = torch.meshgrid(t, t, indexing="ij")
    return torch.stack([gx, gy], -1).reshape(-1, 2)


def _tps_radial(r2: torch.Tensor) -> torch.Tensor:
    """The TPS radial basis φ = r² log r², written in r²; φ(0) = 0."""
    return r2 * torch.log(r2.clamp_min(1e-30))


def tps_weights(control_points: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """The linear map from control-point displacements to point displacements.

    A thin-plate spline through K control points p_k with values v_k solves
    [[Φ, P], [Pᵀ, 0]] · [w; a] = [v; 0] with Φ_ij = φ(|p_i − p_j|) and
    P = [1, x, y]. The interpolated value at a point q is then linear in v:
    f(q) = M(q) v. Returns M for the given points, shape Q×K.

    Args:
        control_points: p, K×2 normalized (x, y).
        points: q, Q×2 normalized (x, y), where the spline is evaluated.
    """
    K = control_points.shape[0]
    P = torch.cat([torch.ones_like(control_points[:, :1]), control_points], 1)  # K×3
    Phi = _tps_radial(torch.cdist(control_points, control_points).square())
    L = torch.zeros(K + 3, K + 3, dtype=control_points.dtype, device=control_points.device)
    L[:K, :K] = Phi
    L[:K, K:] = P
    L[K:, :K] = P.T
    Q = torch.cat([_tps_radial(torch.cdist(points, control_points).square()),
                   torch.ones_like(points[:, :1]), points], 1)  # Q×(K+3)
    return Q @ torch.linalg.inv(L)[:, :K]


def tps_grid(displacements: torch.Tensor, control_points: torch.Tensor, out_size, *,
             align_corners: bool) -> torch.Tensor:
    """Thin-plate-spline grid: control points p_k (K×2, output space) move to p_k + Δ_k.

    Args:
        displacements: Δ, N×K×2 in normalized units; zeros give the identity grid.
        control_points: p, K×2 normalized (x, y), e.g. :func:`regular_control_points`.
        out_size: the output's (H', W') in pixels (an int means square).
        align_corners: as in ``grid_sample`` (always explicit).
    Returns:
        N×H'×W'×2: each output point q maps to q + Σ M(q)_k Δ_k, the TPS that
        interpolates the displacements (exactly the identity when Δ = 0).

    Example:
        >>> import torch
        >>> cps = regular_control_points(4)                # 16 points
        >>> moved = torch.zeros(1, 16, 2)
        >>> moved[0, 5] = torch.tensor([0.2, 0.0])         # pull one inner point to the right
        >>> grid = tps_grid(moved, cps, (8, 8), align_corners=False)
        >>> grid.shape, bool((grid - base_grid((8, 8), align_corners=False)).abs().max() > 0)
        (torch.Size([1, 8, 8, 2]), True)
    """
    _check_theta(displacements, "displacements", (None, 2), "N×K×2")
    _validate.tensor(control_points, "control_points", ndim=2, layout="K×2")
    if control_points.shape[1] != 2 or control_points.shape[0] != displacements.shape[1]:
        raise ValueError(
            f"control_points must be K×2 with K = displacements.shape[1] = {displacements.shape[1]}, "
            f"got {tuple(control_points.shape)}"
        )
    H, W = _validate.size(out_size, "out_size", 2)
    G, M = tps_basis(control_points, (H, W), align_corners=align_corners,
                     dtype=displacements.dtype, device=displacements.device)
    return G + (M @ displacements).view(-1, H, W, 2)


def tps_basis(control_points: torch.Tensor, out_size, *, align_corners: bool,
              dtype=torch.float32, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The two fixed parts of a TPS grid: the base grid G (H'×W'×2) and the weights M (H'W'×K).

    The grid for displacements Δ (N×K×2) is ``G + (M @ Δ).view(N, H', W', 2)``;
    :func:`tps_grid` and :class:`TPSGrid` (which caches this per output size)
    both build it this way.

    Args:
        control_points: p, K×2 normalized (x, y).
        out_size: the output's (H', W') in pixels (an int means square).
        align_corners: as in ``grid_sample`` (always explicit).
        dtype: dtype of G and M.
        device: device of G and M.
    Returns:
        ``(G, M)``.
    """
    G = base_grid(out_size, align_corners=align_corners, dtype=dtype, device=device)
    return G, tps_weights(control_points.to(G), G.reshape(-1, 2))


def timewarp_grid(params: torch.Tensor, length: int, *, align_corners: bool) -> torch.Tensor:
    """1-D time warp: params N×2 (scale s, shift t) → positions s·x + t, N×L'.

    Args:
        params: N×2 (s, t): time scale and normalized shift.
        length: L', the number of output samples.
        align_corners: as in ``grid_sample`` (always explicit).
    Returns:
        The normalized input positions read by the output samples, N×L'.

    ``x`` runs over the normalized positions of the ``length`` output samples
    (with ``align_corners=False`` the sample centres ``(2i + 1)/L' − 1``); the
    result goes to :func:`stnlib.sampler.sample_1d`. s = 1, t = 0 is the
    identity; |s| < 1 reads a shorter stretch of the input (time is expanded,
    a zoom in), |s| > 1 a longer one (contracted, a zoom out: part of the
    output then reads padding), s < 0 flips time. This is Wang (2018)'s
    ``[1, 0, 0, 0, θ22, θ23]`` written in one dimension (:func:`timewarp_theta`).

    Example:
        >>> import torch
        >>> timewarp_grid(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]), 4, align_corners=False)
        tensor([[-0.7500, -0.2500,  0.2500,  0.7500],
                [ 0.7500,  0.2500, -0.2500, -0.7500]])
    """
    _check_theta(params, "params", (2,), "N×2 (scale, shift)")
    (L,) = _validate.size(length, "length", 1)
    x = normalize(torch.arange(L, dtype=params.dtype, device=params.device), L,
                  align_corners=_validate.flag(align_corners, "align_corners"))
    return params[:, :1] * x + params[:, 1:]


def timewarp_theta(params: torch.Tensor) -> torch.Tensor:
    """The affine θ [[1, 0, 0], [0, s, t]], N×2×3, of Wang (2018) for time-warp parameters (s, t).

    ``params``: N×2 (s, t), as :func:`timewarp_grid` takes them.

    Wang (2018), §5.2, restricts the affine θ to ``[1, 0, 0, 0, θ22, θ23]``: the
    series lies along the image's *y* axis (one column per series), ``θ22 = s``
    contracts (|s| > 1) or expands (|s| < 1) time and flips it (s < 0), and
    ``θ23 = t`` shifts its phase. On an N×C×L×1 image this θ reads exactly what
    :func:`timewarp_grid` reads on the N×C×L series (x stays 0: the one column).

    Example:
        >>> import torch
        >>> timewarp_theta(torch.tensor([[0.5, 0.25]]))
        tensor([[[1.0000, 0.0000, 0.0000],
                 [0.0000, 0.5000, 0.2500]]])
    """
    _check_theta(params, "params", (2,), "N×2 (scale, shift)")
    s, t = params.unbind(-1)
    one, zero = torch.ones_like(s), torch.zeros_like(s)
    return torch.stack([torch.stack([one, zero, zero], -1), torch.stack([zero, s, t], -1)], -2)


def _check_theta(theta, name, tail, layout) -> None:
    _validate.tensor(theta, name, ndim=1 + len(tail), layout=layout)
    if any(t is not None and s != t for s, t in zip(theta.shape[1:], tail)):
        raise ValueError(f"{name} must have shape {layout}, got {tuple(theta.shape)}")
    _validate.finite(theta, name)


# --------------------------------------------------------------------------------------
# Module versions used by SpatialTransformer: parameter count, identity, reshaping.
# --------------------------------------------------------------------------------------


class GridGenerator(nn.Module):
    """Base class: ``forward(theta, out_size, align_corners=...)`` returns the sampling grid.

    Subclasses set ``n_params`` and implement ``identity()`` (a flat vector of
    length ``n_params``), ``unflatten(flat)`` (N×n_params → θ in this
    transform's own shape) and ``forward``.
    """

    n_params: int
    #: dimensionality of the signal the grid samples (2: images, 1: time series)
    ndim: int = 2

    def identity(self, dtype=torch.float32, device=None) -> torch.Tensor:
        raise NotImplementedError  # abstract

    def unflatten(self, flat: torch.Tensor) -> torch.Tensor:
        return flat


class AffineGrid(GridGenerator):
    """Affine transform, 6 parameters; θ is N×2×3."""

    n_params = 6

    def identity(self, dtype=torch.float32, device=None):
        return torch.tensor([1, 0, 0, 0, 1, 0], dtype=dtype, device=device)

    def unflatten(self, flat):
        return flat.view(-1, 2, 3)

    def forward(self, theta, out_size, *, align_corners):
        return affine_grid(theta, out_size, align_corners=align_corners)


class AttentionGrid(GridGenerator):
    """Attention transform (isotropic scale + translation), 3 parameters (s, tx, ty)."""

    n_params = 3

    def identity(self, dtype=torch.float32, device=None):
        return torch.tensor([1, 0, 0], dtype=dtype, device=device)

    def forward(self, theta, out_size, *, align_corners):
        return attention_grid(theta, out_size, align_corners=align_corners)


class ProjectiveGrid(GridGenerator):
    """Projective transform, 8 parameters; θ is N×3×3 with θ[2, 2] = 1."""

    n_params = 8

    def identity(self, dtype=torch.float32, device=None):
        return torch.tensor([1, 0, 0, 0, 1, 0, 0, 0], dtype=dtype, device=device)

    def unflatten(self, flat):
        return projective_matrix(flat)

    def forward(self, theta, out_size, *, align_corners):
        return projective_grid(theta, out_size, align_corners=align_corners)


class TPSGrid(GridGenerator):
    """Thin-plate spline with ``n × n`` regular control points (16 for n = 4, as the paper).

    θ holds the control-point displacements, N×K×2. The map from
    displacements to the grid is precomputed once per output size.
    """

    def __init__(self, n: int = 4):
        super().__init__()
        self.register_buffer("control_points", regular_control_points(n), persistent=False)
        self.n_params = 2 * self.control_points.shape[0]
        self._cache: dict = {}

    def identity(self, dtype=torch.float32, device=None):
        return torch.zeros(self.n_params, dtype=dtype, device=device)

    def unflatten(self, flat):
        return flat.view(-1, self.n_params // 2, 2)

    def forward(self, theta, out_size, *, align_corners):
        _check_theta(theta, "theta", (self.n_params // 2, 2), f"N×{self.n_params // 2}×2")
        H, W = _validate.size(out_size, "out_size", 2)
        key = (H, W, align_corners, theta.dtype, theta.device)
        if key not in self._cache:
            self._cache[key] = tps_basis(self.control_points, (H, W), align_corners=align_corners,
                                         dtype=theta.dtype, device=theta.device)
        G, M = self._cache[key]
        return G + (M @ theta).view(-1, H, W, 2)


class TimeWarpGrid(GridGenerator):
    """1-D time warp for N×C×L signals: 2 parameters (scale, shift)."""

    n_params = 2
    ndim = 1

    def identity(self, dtype=torch.float32, device=None):
        return torch.tensor([1, 0], dtype=dtype, device=device)

    def forward(self, theta, out_size, *, align_corners):
        return timewarp_grid(theta, out_size, align_corners=align_corners)


TRANSFORMS = {
    "affine": AffineGrid,
    "attention": AttentionGrid,
    "projective": ProjectiveGrid,
    "tps": TPSGrid,
    "timewarp": TimeWarpGrid,
}


def make_grid_generator(transform: str, *, tps_points: int = 4) -> GridGenerator:
    """Build the grid generator for ``transform`` (one of :data:`TRANSFORMS`).

    ``tps_points`` (control points per side) is used by ``"tps"`` only.
    Returns the :class:`GridGenerator` (an ``nn.Module`` without parameters).
    """
    _validate.choice(transform, "transform", tuple(TRANSFORMS))
    if transform == "tps":
        return TPSGrid(tps_points)
    return TRANSFORMS[transform]()


def identity(transform: str, *, tps_points: int = 4, dtype=torch.float32, device=None) -> torch.Tensor:
    """The flat identity parameters of ``transform``: :meth:`GridGenerator.identity`.

    ``tps_points``: control points per side (``"tps"`` only); ``dtype`` and ``device``: the
    tensor's.

    Example:
        >>> identity("affine")
        tensor([1., 0., 0., 0., 1., 0.])
        >>> identity("attention")
        tensor([1., 0., 0.])
    """
    return make_grid_generator(transform, tps_points=tps_points).identity(dtype=dtype, device=device)


__all__ = [
    "base_grid", "affine_grid", "attention_theta", "attention_grid", "projective_matrix",
    "projective_grid", "regular_control_points", "tps_weights", "tps_basis", "tps_grid", "timewarp_grid",
    "timewarp_theta",
    "GridGenerator", "AffineGrid", "AttentionGrid", "ProjectiveGrid", "TPSGrid", "TimeWarpGrid",
    "TRANSFORMS", "make_grid_generator", "identity",
]
