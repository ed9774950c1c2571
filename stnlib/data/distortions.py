r"""The papers' distortions as batched tensor operations through stnlib's grids and sampler.

Each distortion is a frozen dataclass of its parameters (its defaults and
its validation in one place) and a function
``f(images, spec, generator) -> (distorted, params)``:

* ``images``: N×C×h×w float in [0, 1] (MNIST: N×1×28×28), the source;
* ``generator``: a ``torch.Generator``; every random draw comes from it, so
  a seed fixes every sample;
* ``distorted``: N×C×H×W float32 in [0, 1], quantized to multiples of 1/255
  like the 8-bit source (so a cached set equals a freshly generated one bit
  for bit);
* ``params``: dict of tensors with first dimension N, the parameters that
  were applied, in the units the docstrings give.

Geometry: a picture's forward map sends a source point p (pixels, relative to
the source centre; x right, y down) to ``scale · R(angle) · p + shift`` in
the output canvas (pixels, relative to the canvas centre). ``angle`` is
counter-clockwise on screen, as :func:`stnlib.theta.affine_theta`. The
sampler needs the inverse, θ (output → source, normalized, ``align_corners
=False``), which is what ``params["theta"]`` holds: warping the source with
it reproduces the distorted image. Pixels outside the source read 0 (black
background, as MNIST's).

Which distortion a paper used, with which parameters, is decided in
:mod:`stnlib.data.catalog`; this module only implements them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .. import grids, sampler
from ..theta import affine_theta, homography_from_points

#: rows per call of the sampler (keeps the N×H×W×2 grid small in memory)
CHUNK = 8192
#: a source pixel counts as ink above this value (for placement and canvas checks)
INK = 0.0
#: a distorted digit counts as cut off when a pixel just outside the canvas (within MARGIN
#: px) would show more ink than this; such draws are made again (``inside=True``)
CUT = 0.25
MARGIN = 2
ROUNDS = 200


def _positive_int(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _range(value, name, *, low=None, positive=False):
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, (int, float)) for v in value)):
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {value!r}")
    lo, hi = value
    if positive and lo <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if low is not None and lo < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} must have low <= high, got {value!r}")
    return (float(lo), float(hi))


def _nonneg(value, name):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")


# --------------------------------------------------------------------------------------
# Affine: rotation, scale, translation (R, RTS, the seeds' rotated / translated sets).
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Affine:
    """Rotation, isotropic scale and translation of the digit into a canvas.

    Attributes:
        angle: rotation angle uniform in [−angle, +angle] degrees
            (counter-clockwise positive). Jaderberg et al. 2015: R ±90°, RTS ±45°.
        scale: picture scale uniform in [low, high]; > 1 enlarges the digit.
            Jaderberg RTS 0.7–1.2; Wang (2018) RTS 0.7–1.3.
        shift: translation uniform in [−shift, +shift] output pixels, each axis
            independently (ignored when ``place`` is True). Wang (2018): 0.1 of
            the width (2.8 px at 28×28); Possatti & de Freitas natural images: 10 px.
        place: True for "random placement in the canvas" (Jaderberg RTS): the
            translation is uniform, per axis, over every position that keeps the
            whole ink bounding box of the transformed digit inside the canvas,
            so a digit is never cut off.
        canvas: output side in pixels (square). Jaderberg R 28, RTS 42.
        inside: our choice where a paper's ranges can push a digit over the
            canvas edge (Wang (2018)'s RTS at 28×28: scale 1.3 and ±45° cut about
            one digit in ten): a draw whose digit would be cut off (ink just
            outside the canvas) is made again, so the kept draws are those
            that fit. False keeps every draw as it falls (test-time sweeps).
    """

    angle: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    shift: float = 0.0
    place: bool = False
    canvas: int = 28
    inside: bool = False

    def __post_init__(self):
        _nonneg(self.angle, "angle")
        object.__setattr__(self, "scale", _range(self.scale, "scale", positive=True))
        _nonneg(self.shift, "shift")
        for name in ("place", "inside"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        _positive_int(self.canvas, "canvas")


def ink_box(images: torch.Tensor) -> torch.Tensor:
    """The per-sample ink bounding box (x0, y0, x1, y1), N×4, in source pixels relative to the centre.

    ``images``: N×C×H×W in [0, 1]; ink is any value above zero in any channel.

    Edges are pixel edges (a single ink pixel at the centre of a 28×28 image
    gives (−0.5, −0.5, 0.5, 0.5)); an image without ink gives its full frame.
    """
    N, _, h, w = images.shape
    mask = images.amax(1) > INK
    rows, cols = mask.any(2), mask.any(1)
    empty = ~rows.any(1)
    rows[empty] = True
    cols[empty] = True
    y0 = rows.int().argmax(1)
    y1 = h - 1 - rows.flip(1).int().argmax(1)
    x0 = cols.int().argmax(1)
    x1 = w - 1 - cols.flip(1).int().argmax(1)
    box = torch.stack([x0 - 0.5, y0 - 0.5, x1 + 0.5, y1 + 0.5], 1).float()
    return box - torch.tensor([(w - 1) / 2, (h - 1) / 2] * 2)


def _rotated_extent(box, angle_deg, scale):
    """Extents (x_min, y_min, x_max, y_max) of the box's corners after scale · R(angle)."""
    a = torch.deg2rad(angle_deg)
    c, s = torch.cos(a), torch.sin(a)
    xs = box[:, [0, 2, 2, 0]]
    ys = box[:, [1, 1, 3, 3]]
    # y points down: counter-clockwise on screen is x' = c x + s y, y' = −s x + c y
    xr = scale[:, None] * (c[:, None] * xs + s[:, None] * ys)
    yr = scale[:, None] * (-s[:, None] * xs + c[:, None] * ys)
    return torch.stack([xr.amin(1), yr.amin(1), xr.amax(1), yr.amax(1)], 1)


def _uniform(n, low, high, generator):
    return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)


def placement_theta(angle, scale, shift, in_size: int, canvas: int) -> torch.Tensor:
    """θ (N×2×3, align_corners=False) that draws an ``in_size`` source into a ``canvas``.

    The picture is scaled by ``scale``, turned by ``angle`` degrees (counter-
    clockwise) and moved by ``shift`` (N×2, canvas pixels, +x right, +y down)
    from the canvas centre. With all zeros / ones it pastes the source in the
    centre at its own pixel size.

    Args:
        angle: N rotation angles in degrees, counter-clockwise.
        scale: N picture scales (> 1 enlarges).
        shift: N×2 moves in canvas pixels.
        in_size: the source's side in pixels.
        canvas: the output's side in pixels.
    Returns:
        θ, float64 N×2×3, output → source in normalized coordinates.
    """
    shift = torch.as_tensor(shift, dtype=torch.float64)
    scale = torch.as_tensor(scale, dtype=torch.float64)
    th = affine_theta(torch.as_tensor(angle, dtype=torch.float64), scale,
                      translation=shift / (canvas / 2), dtype=torch.float64)
    return th * (canvas / in_size)


def _sample(images: torch.Tensor, grid_fn, rows: torch.Tensor, canvas: int, margin: int):
    """Sample ``images[rows]`` on a canvas extended by ``margin`` px; crop to ``canvas``.

    ``grid_fn(index, side)`` gives the grids of the rows ``index`` for a
    ``side × side`` output. Returns (quantized crops, mask of rows whose
    margin, i.e. the ring just outside the canvas, shows ink: cut-off digits).
    """
    n, S = len(rows), canvas + 2 * margin
    out = torch.empty(n, images.shape[1], canvas, canvas, dtype=torch.float32)
    cut = torch.zeros(n, dtype=torch.bool)
    for i in range(0, n, CHUNK):
        idx = rows[i:i + CHUNK]
        v = sampler.sample(images[idx], grid_fn(idx, S).to(images.dtype), align_corners=False,
                           kernel="bilinear", padding_mode="zeros", sampler="native")
        if margin:
            ring = v.amax(1).clone()
            ring[:, margin:-margin, margin:-margin] = 0
            cut[i:i + len(idx)] = ring.flatten(1).amax(1) > CUT
            v = v[..., margin:-margin, margin:-margin]
        out[i:i + len(idx)] = _quantize_(v)
    return out, cut


def _draw_and_sample(images, draw, grid_fn, canvas: int, inside: bool, what: str):
    """Draw parameters for every row, sample, and (``inside``) redraw rows whose digit is cut.

    ``draw(rows)`` returns a dict of tensors for those rows; the rows of a
    redraw replace the earlier ones in place. Returns (images, params).
    """
    N = images.shape[0]
    rows = torch.arange(N)
    params = draw(rows)
    out = torch.empty(N, images.shape[1], canvas, canvas, dtype=torch.float32)
    for _ in range(ROUNDS):
        crops, cut = _sample(images, lambda idx, S: grid_fn(params, idx, S), rows, canvas,
                             MARGIN if inside else 0)
        out[rows] = crops
        rows = rows[cut]
        if len(rows) == 0:
            return out, params
        for k, v in draw(rows).items():
            params[k][rows] = v
    raise ValueError(f"{what}: after {ROUNDS} draws {len(rows)} digit(s) still do not fit in the "
                     f"{canvas}×{canvas} canvas; use a larger canvas, milder ranges, or "
                     "inside=False to allow cut-off digits")


def _quantize_(x: torch.Tensor) -> torch.Tensor:
    """Round to multiples of 1/255 in [0, 1], in place (8-bit levels, like the source)."""
    return x.clamp_(0, 1).mul_(255).round_().div_(255)


def _check_images(images):
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a float N×C×H×W tensor in [0, 1], got {got}")
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(f"images must be square (H = W), got shape {tuple(images.shape)}")


def affine(images: torch.Tensor, spec: Affine, generator: torch.Generator):
    """Rotate, scale and translate each image into a ``spec.canvas`` square (see :class:`Affine`).

    ``images`` are N×C×h×w sources in [0, 1]; ``spec`` an :class:`Affine`; ``generator`` draws
    the parameters (the same generator state, the same draws).

    Returns ``(distorted N×C×canvas×canvas, params)`` with params ``angle`` (N,
    degrees, counter-clockwise), ``scale`` (N), ``shift`` (N×2, canvas pixels
    from the canvas centre to where the source centre lands) and ``theta``
    (N×2×3, output → source, normalized, align_corners=False).

    Raises ValueError when the canvas is smaller than a digit (``place``: the
    transformed ink box does not fit; otherwise: it does not fit even
    unrotated at the smallest scale).
    """
    _check_images(images)
    N, size = images.shape[0], images.shape[-1]
    C = spec.canvas
    box = ink_box(images).double()
    if not spec.place and N:
        need = float((box[:, 2:] - box[:, :2]).amax()) * spec.scale[0]
        if need > C:
            raise ValueError(f"canvas {C} is smaller than the digit ({need:.1f} px at the "
                             f"smallest scale {spec.scale[0]}); use a canvas of at least "
                             f"{math.ceil(need)}")

    def draw(rows):
        k = len(rows)
        angle = _uniform(k, -spec.angle, spec.angle, generator)
        scale = _uniform(k, *spec.scale, generator)
        if not spec.place:
            shift = torch.rand(k, 2, generator=generator, dtype=torch.float64) * 2 - 1
            shift = shift * spec.shift
            return {"angle": angle, "scale": scale, "shift": shift}
        ext = _rotated_extent(box[rows], angle, scale)
        low, high = -C / 2 - ext[:, :2], C / 2 - ext[:, 2:]
        bad = (high < low - 1e-9).any(1)
        if bad.any():
            i = int(bad.nonzero()[0])
            raise ValueError(
                f"canvas {C} is smaller than digit {int(rows[i])} after scaling by "
                f"{scale[i]:.3f} and turning by {angle[i]:.1f}° (needs "
                f"{float((ext[i, 2:] - ext[i, :2]).max()):.1f} px); use a larger canvas or a "
                f"smaller scale range than {spec.scale}")
        u = torch.rand(k, 2, generator=generator, dtype=torch.float64)
        return {"angle": angle, "scale": scale, "shift": low + u * (high - low).clamp_min(0)}

    def grid_fn(p, idx, S):
        th = placement_theta(p["angle"][idx], p["scale"][idx], p["shift"][idx], size, S)
        return grids.affine_grid(th.float(), (S, S), align_corners=False)

    out, p = _draw_and_sample(images, draw, grid_fn, C, spec.inside and not spec.place,
                              "affine distortion")
    theta = placement_theta(p["angle"], p["scale"], p["shift"], size, C).float()
    return out, {"angle": p["angle"].float(), "scale": p["scale"].float(),
                 "shift": p["shift"].float(), "theta": theta}


# --------------------------------------------------------------------------------------
# Projective (P)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projective:
    """Projective distortion of Jaderberg et al. 2015 (P).

    The digit is scaled by a factor uniform in ``scale`` about the image
    centre, then each of the four corners of the (scaled) image frame is moved
    by independent Gaussian noise of ``corner_std`` pixels in x and y; the
    homography that maps the frame's corners to the moved ones is applied.

    Attributes:
        scale: uniform range of the scale factor; paper 0.75–1.0.
        corner_std: standard deviation of each corner's move in pixels; paper
            "5 px" (on the 28×28 digit).
        truncate: our choice (the paper is silent): each coordinate of the
            noise is clipped to ±truncate·corner_std, and a draw whose moved
            frame is not a convex quadrilateral (a folded, mirror-imaged digit)
            is made again.
        min_angle: our choice: every interior angle of the moved frame must
            lie in [min_angle, 180° − min_angle] degrees, else the draw is made
            again. A convex frame with an angle near 180° is almost a
            triangle, and the homography then squashes the digit into a
            stroke (about 4% of draws with convexity alone).
        canvas: output side; paper 28.
        inside: our choice: a draw that would cut the digit off (ink just
            outside the canvas) is made again (about 2% of draws).
    """

    scale: tuple[float, float] = (0.75, 1.0)
    corner_std: float = 5.0
    truncate: float = 2.0
    min_angle: float = 30.0
    canvas: int = 28
    inside: bool = True

    def __post_init__(self):
        object.__setattr__(self, "scale", _range(self.scale, "scale", positive=True))
        _nonneg(self.corner_std, "corner_std")
        _nonneg(self.truncate, "truncate")
        if not 0 <= self.min_angle < 90:
            raise ValueError(f"min_angle must be in [0, 90) degrees, got {self.min_angle!r}")
        _positive_int(self.canvas, "canvas")
        if not isinstance(self.inside, bool):
            raise ValueError(f"inside must be True or False, got {self.inside!r}")


_CORNERS = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], dtype=torch.float64)


def _well_shaped(quad: torch.Tensor, min_angle: float) -> torch.Tensor:
    """Convex quadrilaterals (N×4×2) whose interior angles all lie in [min_angle, 180° − min_angle]."""
    e = quad.roll(-1, 1) - quad
    nxt = e.roll(-1, 1)
    cross = e[..., 0] * nxt[..., 1] - e[..., 1] * nxt[..., 0]
    sine = cross / (e.norm(dim=-1) * nxt.norm(dim=-1)).clamp_min(1e-12)  # sin of the turn at a corner
    limit = math.sin(math.radians(min_angle))
    return (sine >= limit).all(1) | (sine <= -limit).all(1)


def projective(images: torch.Tensor, spec: Projective, generator: torch.Generator):
    """Jaderberg et al.'s P distortion (see :class:`Projective`).

    ``images`` are N×C×h×w sources in [0, 1]; ``spec`` a :class:`Projective`; ``generator``
    draws the parameters.

    Returns ``(distorted, params)`` with ``scale`` (N), ``corners`` (N×4×2:
    each frame corner's move in output pixels, corners ordered top-left,
    top-right, bottom-right, bottom-left) and ``theta`` (N×3×3 homography,
    output → source, normalized, align_corners=False).
    """
    _check_images(images)
    size = images.shape[-1]
    C = spec.canvas
    lim = spec.truncate * spec.corner_std
    frame = _CORNERS * (size / 2)  # source frame corners in pixels from the centre

    def draw(rows):
        k = len(rows)
        scale = _uniform(k, *spec.scale, generator)
        noise = torch.zeros(k, 4, 2, dtype=torch.float64)
        todo = torch.ones(k, dtype=torch.bool)
        for _ in range(ROUNDS):
            m = int(todo.sum())
            if m == 0:
                break
            noise[todo] = (torch.randn(m, 4, 2, generator=generator, dtype=torch.float64)
                           * spec.corner_std).clamp(-lim, lim)
            todo = ~_well_shaped(scale[:, None, None] * frame + noise, spec.min_angle)
        else:
            raise ValueError(f"corner_std {spec.corner_std} folds the image too often; use a "
                             "smaller value")
        moved = scale[:, None, None] * frame + noise
        # θ maps output (normalized by the canvas) to source (normalized by the source)
        H = homography_from_points(moved / (C / 2), frame.expand(k, 4, 2) / (size / 2))
        return {"scale": scale, "corners": noise, "theta": H}

    def grid_fn(p, idx, S):
        ext = torch.diag(torch.tensor([S / C, S / C, 1.0], dtype=torch.float64))
        return grids.projective_grid((p["theta"][idx] @ ext).float(), (S, S), align_corners=False)

    out, p = _draw_and_sample(images, draw, grid_fn, C, spec.inside, "projective distortion")
    return out, {k: v.float() for k, v in p.items()}


# --------------------------------------------------------------------------------------
# Elastic (E)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Elastic:
    """Elastic distortion of Jaderberg et al. 2015 (E): a random thin-plate-spline warp.

    A ``grid × grid`` lattice of control points spans the image (paper: 4×4,
    16 points); the output at control point p_k shows the source at
    p_k + Δ_k, and the thin-plate spline through these 16 moves gives every
    other pixel's source position (:func:`stnlib.grids.tps_grid`).

    Attributes:
        grid: control points per side; paper 4.
        displacement: our choice (the paper gives no number): each coordinate
            of Δ_k is uniform in ±displacement pixels; 3 px bends strokes
            visibly while every digit stays readable (see the preview).
        canvas: output side; paper 28.
        inside: our choice: a draw that would cut the digit off (ink just
            outside the canvas) is made again.
    """

    grid: int = 4
    displacement: float = 3.0
    canvas: int = 28
    inside: bool = True

    def __post_init__(self):
        if not isinstance(self.grid, int) or self.grid < 2:
            raise ValueError(f"grid must be an int >= 2, got {self.grid!r}")
        _nonneg(self.displacement, "displacement")
        _positive_int(self.canvas, "canvas")
        if not isinstance(self.inside, bool):
            raise ValueError(f"inside must be True or False, got {self.inside!r}")


def elastic(images: torch.Tensor, spec: Elastic, generator: torch.Generator):
    """Jaderberg et al.'s E distortion (see :class:`Elastic`).

    ``images`` are N×C×h×w sources in [0, 1]; ``spec`` an :class:`Elastic`; ``generator``
    draws the displacements.

    Returns ``(distorted, params)`` with ``displacement`` (N×K×2, source
    pixels, K = grid²: the source position read at control point k minus the
    control point) and ``control_points`` (N×K×2, normalized output (x, y)).
    """
    _check_images(images)
    N, size = images.shape[0], images.shape[-1]
    C = spec.canvas
    cp = grids.regular_control_points(spec.grid, dtype=torch.float64)
    K = cp.shape[0]
    maps = {}

    def draw(rows):
        d = torch.rand(len(rows), K, 2, generator=generator, dtype=torch.float64) * 2 - 1
        return {"displacement": d * spec.displacement}

    def grid_fn(p, idx, S):
        if S not in maps:
            # output pixels of the S×S canvas in the C-canvas's normalized units
            G = grids.base_grid((S, S), align_corners=False, dtype=torch.float64) * (S / C)
            M = grids.tps_weights(cp, G.reshape(-1, 2))  # (S·S)×K
            maps[S] = ((G * (C / size)).float(), M.float())
        base, M = maps[S]
        dn = (p["displacement"][idx] / (size / 2)).float()  # pixels → source-normalized
        return base + (M @ dn).view(-1, S, S, 2)

    out, p = _draw_and_sample(images, draw, grid_fn, C, spec.inside, "elastic distortion")
    return out, {"displacement": p["displacement"].float(),
                 "control_points": cp.float().expand(N, K, 2)}


# --------------------------------------------------------------------------------------
# Translated and cluttered (TC; Possatti & de Freitas' cluttered MNIST)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clutter:
    """A digit at a random place in a larger canvas, with pieces of other digits as clutter.

    The whole 28×28 digit frame is placed at a uniformly random integer
    position fully inside the canvas (no resampling: the digit's pixels are
    copied exactly). Then ``pieces`` crops of ``piece × piece`` pixels, each
    from a random other digit of the same split, are placed at uniformly
    random positions fully inside the canvas; overlaps keep the brighter
    pixel (maximum), so values stay in [0, 1].

    Attributes:
        canvas: output side. Jaderberg et al. TC: 60; Possatti & de Freitas: 40.
        pieces: number of clutter pieces. Jaderberg TC: 6; Possatti & de Freitas: 5.
        piece: side of each piece. Jaderberg TC: 6; Possatti & de Freitas: 5.
        crop_margin: our choice: crops are taken inside the central
            (28 − 2·crop_margin)² region of the source, where MNIST's ink is
            (the digits sit in a 20×20 box), so pieces are rarely empty.
    """

    canvas: int = 60
    pieces: int = 6
    piece: int = 6
    crop_margin: int = 4

    def __post_init__(self):
        _positive_int(self.canvas, "canvas")
        if not isinstance(self.pieces, int) or self.pieces < 0:
            raise ValueError(f"pieces must be an int >= 0, got {self.pieces!r}")
        _positive_int(self.piece, "piece")
        if self.piece > self.canvas:
            raise ValueError(f"piece ({self.piece}) must not exceed the canvas ({self.canvas})")
        if not isinstance(self.crop_margin, int) or self.crop_margin < 0:
            raise ValueError(f"crop_margin must be an int >= 0, got {self.crop_margin!r}")


def _paste_max(canvas: torch.Tensor, patch: torch.Tensor, x0: torch.Tensor, y0: torch.Tensor):
    """canvas[n, :, y0+i, x0+j] = max(canvas, patch[n, :, i, j]) for all n (integer offsets)."""
    N, Cc, H, W = canvas.shape
    ph, pw = patch.shape[-2:]
    rows = y0[:, None] + torch.arange(ph)
    cols = x0[:, None] + torch.arange(pw)
    idx = (rows[:, :, None] * W + cols[:, None, :]).reshape(N, 1, -1).expand(N, Cc, -1)
    canvas.view(N, Cc, -1).scatter_reduce_(2, idx, patch.reshape(N, Cc, -1), "amax")


def clutter(images: torch.Tensor, spec: Clutter, generator: torch.Generator,
            pool: torch.Tensor | None = None):
    """Translated and cluttered digits (see :class:`Clutter`).

    Args:
        images: N×C×h×w sources (the digits to classify).
        spec: the canvas size and the number and size of the pieces (:class:`Clutter`).
        generator: draws the positions and the pieces.
        pool: M×C×h×w images the clutter is cut from (default: ``images``
            themselves; a piece never comes from the sample's own digit when
            the pool is ``images``).
    Returns:
        ``(distorted N×C×canvas×canvas, params)`` with ``shift`` (N×2: the
        digit centre's offset from the canvas centre, pixels), ``position``
        (N×2: the digit frame's top-left x, y), ``clutter_source`` (N×pieces
        pool indices), ``clutter_crop`` (N×pieces×2: crop top-left in the
        source) and ``clutter_position`` (N×pieces×2: top-left in the canvas).
    """
    _check_images(images)
    N, Cc, h, w = images.shape
    C, P, p = spec.canvas, spec.pieces, spec.piece
    if C < h or C < w:
        raise ValueError(f"canvas {C} is smaller than the digit ({h}×{w})")
    same = pool is None
    pool = images if same else pool
    _check_images(pool)
    if p > h - 2 * spec.crop_margin:
        raise ValueError(f"piece {p} does not fit in the {h - 2 * spec.crop_margin} px central "
                         f"crop region (crop_margin {spec.crop_margin})")
    M = pool.shape[0]

    def randint(high, shape):
        return torch.randint(0, high, shape, generator=generator)

    pos = torch.stack([randint(C - w + 1, (N,)), randint(C - h + 1, (N,))], 1)
    src = randint(M, (N, P))
    if same and M > 1:
        own = torch.arange(N)[:, None]
        src = torch.where(src == own, (src + 1) % M, src)
    lo, hi = spec.crop_margin, h - spec.crop_margin - p
    crop = lo + torch.stack([randint(hi - lo + 1, (N, P)), randint(hi - lo + 1, (N, P))], -1)
    at = torch.stack([randint(C - p + 1, (N, P)), randint(C - p + 1, (N, P))], -1)
    out = images.new_zeros(N, Cc, C, C)
    r = torch.arange(p)
    for k in range(P):
        ys = crop[:, k, 1, None] + r
        xs = crop[:, k, 0, None] + r
        piece = pool[src[:, k, None, None], :, ys[:, :, None], xs[:, None, :]]  # N×p×p×C
        _paste_max(out, piece.permute(0, 3, 1, 2), at[:, k, 0], at[:, k, 1])
    _paste_max(out, images, pos[:, 0], pos[:, 1])
    shift = pos.float() + torch.tensor([w / 2, h / 2]) - C / 2
    return _quantize_(out), {"shift": shift, "position": pos, "clutter_source": src,
                            "clutter_crop": crop, "clutter_position": at}


# --------------------------------------------------------------------------------------
# Time series (Wang (2018), §5.2): time warp and amplitude change, or a cyclic shift
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeWarp:
    """Random time scale and shift, amplitude scale and offset of 1-D signals (Wang (2018), §5.2).

    Wang (2018)'s 1-D STN undoes a contraction / expansion and a phase shift of
    time (θ₂₂, θ₂₃) and a linear change of amplitude (slope, bias); this draws
    such changes at random: output x(t) = a · U(s·t + τ) + b, with t in the
    normalized [−1, 1] time axis (:func:`stnlib.grids.timewarp_grid`); samples
    read outside the signal take the border value.

    Attributes:
        scale: s uniform in this range (time contraction > 1, expansion < 1).
        shift: τ uniform in [−shift, +shift] (normalized time; 0.2 = a tenth of the length).
        amplitude: a uniform in this range.
        offset: b uniform in [−offset, +offset] (signal units; UCR series are z-normalized).
        cyclic: True for closed contours (OSULeaf: a leaf outline read as a
            1-D signal): instead of the time warp, the signal is rolled by a
            uniformly random number of samples, which is what a rotation of the
            leaf does to its outline signal.
    """

    scale: tuple[float, float] = (0.8, 1.2)
    shift: float = 0.2
    amplitude: tuple[float, float] = (0.8, 1.2)
    offset: float = 0.2
    cyclic: bool = False

    def __post_init__(self):
        object.__setattr__(self, "scale", _range(self.scale, "scale", positive=True))
        _nonneg(self.shift, "shift")
        object.__setattr__(self, "amplitude", _range(self.amplitude, "amplitude"))
        _nonneg(self.offset, "offset")
        if not isinstance(self.cyclic, bool):
            raise ValueError(f"cyclic must be True or False, got {self.cyclic!r}")


def timewarp(series: torch.Tensor, spec: TimeWarp, generator: torch.Generator):
    """Distort N×C×L signals (see :class:`TimeWarp`).

    ``series`` are N×C×L signals; ``spec`` a :class:`TimeWarp`; ``generator`` draws the
    parameters.

    Returns ``(distorted N×C×L, params)`` with ``scale``, ``shift``,
    ``amplitude``, ``offset`` (each N) or, when ``cyclic``, ``roll`` (N, samples:
    output[t] = input[t − roll mod L]) with ``amplitude`` and ``offset``.
    """
    if not isinstance(series, torch.Tensor) or series.dim() != 3 or not series.is_floating_point():
        got = tuple(series.shape) if isinstance(series, torch.Tensor) else type(series).__name__
        raise ValueError(f"series must be a float N×C×L tensor, got {got}")
    N, _, L = series.shape
    amp = _uniform(N, *spec.amplitude, generator).float()
    off = ((torch.rand(N, generator=generator, dtype=torch.float64) * 2 - 1) * spec.offset).float()
    if spec.cyclic:
        roll = torch.randint(0, L, (N,), generator=generator)
        idx = (torch.arange(L) - roll[:, None]) % L
        out = series.gather(2, idx[:, None, :].expand_as(series))
        params = {"roll": roll}
    else:
        s = _uniform(N, *spec.scale, generator).float()
        t = ((torch.rand(N, generator=generator, dtype=torch.float64) * 2 - 1) * spec.shift).float()
        grid = grids.timewarp_grid(torch.stack([s, t], 1), L, align_corners=True)
        out = sampler.sample_1d(series, grid.to(series.dtype), align_corners=True,
                                kernel="bilinear", padding_mode="border", sampler="native")
        params = {"scale": s, "shift": t}
    out = amp[:, None, None].to(out.dtype) * out + off[:, None, None].to(out.dtype)
    return out, {**params, "amplitude": amp, "offset": off}


SPECS = {"affine": Affine, "projective": Projective, "elastic": Elastic, "clutter": Clutter,
         "timewarp": TimeWarp}


def distort(images: torch.Tensor, spec, generator: torch.Generator, **kwargs):
    """Apply the distortion ``spec`` describes (any of :data:`SPECS`' classes).

    Args:
        images: N×C×H×W images in [0, 1] (N×C×L series for a :class:`TimeWarp`).
        spec: an :class:`Affine`, :class:`Projective`, :class:`Elastic`, :class:`Clutter` or
            :class:`TimeWarp`.
        generator: draws the distortion parameters.
        **kwargs: passed on (``pool`` for :func:`clutter`).
    Returns:
        ``(distorted, params)`` as the distortion's own function returns them.
    """
    fn = {Affine: affine, Projective: projective, Elastic: elastic, Clutter: clutter,
          TimeWarp: timewarp}.get(type(spec))
    if fn is None:
        raise ValueError(f"unknown distortion spec {spec!r}; expected one of "
                         f"{', '.join(c.__name__ for c in SPECS.values())}")
    return fn(images, spec, generator, **kwargs)


__all__ = ["Affine", "Projective", "Elastic", "Clutter", "TimeWarp", "SPECS", "affine",
           "projective", "elastic", "clutter", "timewarp", "distort", "ink_box",
           "placement_theta"]
