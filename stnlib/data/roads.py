r"""Synthetic road scenes: a stand-in for KITTI road (Abou Chacra & Zelek) that needs no download.

Each scene is ray-cast from a pinhole camera over a flat ground plane:

* the road is a band of width ``w`` around a centre line
  x_c(z) = x₀ + z·tan(heading) + ½ κ z² (curvature κ), with a dashed centre
  line and solid edge lines; its surface is scikit-image's ``gravel`` texture
  in asphalt grey, the verge is its ``grass`` texture in green, both mapped in
  world coordinates so they shrink with distance;
* with probability ``paved`` the verge is paved too (a sidewalk or a parking strip: a finer
  grey texture a little lighter or darker than the asphalt), so that colour alone no longer
  tells road from not-road and the lane lines and the scene's geometry must (``paved=0``, the
  default, draws exactly the scenes it drew before the option existed); ``paved_tone`` sets how
  far the paving's grey lies from the asphalt's;
* with probability ``1 − edge_lines`` a scene's road has no painted edge lines (many of KITTI's
  urban and rural roads have none), so that its border must be told from the surfaces alone
  (``edge_lines=1``, the default, paints them always and draws nothing);
* shadows (ellipses on the ground, across road and verge) darken the ground;
* distractors stand on the ground as upright boxes: "cars" on the road and
  "posts / trees" on the verge; they hide the road behind them (the mask
  marks visible road only, as KITTI's ground truth does);
* the camera's height, pitch, roll and yaw vary per scene, so where the
  road lies in the image depends on geometry (what a spatial transformer
  can undo), and a haze towards the horizon and a global gain vary the look.

The label is the binary road mask (1 road, 0 not), as KITTI's magenta.
Images are RGB, quantized to 8-bit levels; 256×256 by default (Abou Chacra & Zelek's
input size), any ``size`` for smoke runs. The default split sizes are the
paper's 150 / 79 / 60, and any number more can be drawn.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from .distortions import _nonneg, _positive_int, _quantize_, _range
from .samples import Samples


@dataclass(frozen=True)
class RoadScene:
    """Parameters of :func:`road_scenes`; ranges are uniform, angles in degrees, lengths in m.

    Attributes:
        size: image side in pixels (Abou Chacra & Zelek: 256).
        fov: horizontal field of view of the camera.
        height: camera height above the ground.
        pitch: downward tilt of the camera (positive looks down).
        roll: camera roll, uniform in ±roll.
        yaw: camera heading relative to the road, uniform in ±yaw.
        width: road width.
        offset: camera's lateral position relative to the road centre, uniform
            in ±offset × width / 2.
        curvature: road curvature κ (1/m), uniform in ±curvature.
        shadows: number of shadow ellipses, uniform integer in this range.
        cars: number of cars on the road, uniform integer in this range.
        posts: number of posts / trees on the verge, uniform integer in this range.
        paved: probability that a scene's verge is paved (grey) instead of grass.
        paved_tone: how much lighter or darker than the asphalt a paved verge is (its grey
            level differs by a uniform amount in this range, the sign a coin flip).
        edge_lines: probability that a scene's road has its solid edge lines painted.
    """

    size: int = 256
    fov: float = 80.0
    height: tuple[float, float] = (1.4, 1.9)
    pitch: tuple[float, float] = (3.0, 10.0)
    roll: float = 4.0
    yaw: float = 10.0
    width: tuple[float, float] = (5.5, 9.0)
    offset: float = 0.6
    curvature: float = 0.012
    shadows: tuple[int, int] = (0, 6)
    cars: tuple[int, int] = (0, 2)
    posts: tuple[int, int] = (0, 6)
    paved: float = 0.0
    paved_tone: tuple[float, float] = (0.04, 0.12)
    edge_lines: float = 1.0

    def __post_init__(self):
        _positive_int(self.size, "size")
        if not 10 <= self.fov <= 150:
            raise ValueError(f"fov must be in [10, 150] degrees, got {self.fov!r}")
        object.__setattr__(self, "height", _range(self.height, "height", positive=True))
        object.__setattr__(self, "pitch", _range(self.pitch, "pitch", low=0.5))
        object.__setattr__(self, "width", _range(self.width, "width", positive=True))
        for name in ("roll", "yaw", "offset", "curvature"):
            _nonneg(getattr(self, name), name)
        for name in ("paved", "edge_lines"):
            p = getattr(self, name)
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
                raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
        object.__setattr__(self, "paved_tone", _range(self.paved_tone, "paved_tone", low=0))
        for name in ("shadows", "cars", "posts"):
            lo, hi = _range(getattr(self, name), name, low=0)
            object.__setattr__(self, name, (int(lo), int(hi)))


@functools.lru_cache(maxsize=1)
def _textures() -> tuple[torch.Tensor, torch.Tensor]:
    from skimage import data

    grass = torch.as_tensor(data.grass(), dtype=torch.float32) / 255
    gravel = torch.as_tensor(data.gravel(), dtype=torch.float32) / 255
    return grass, gravel


def _lookup(tex: torch.Tensor, x: torch.Tensor, z: torch.Tensor, metres: float) -> torch.Tensor:
    """Texture value at world (x, z), the texture tiling every ``metres`` (nearest, wrapped)."""
    n = tex.shape[0]
    i = torch.floor(z / metres * n).long() % n
    j = torch.floor(x / metres * n).long() % n
    return tex[i, j]


def _rotation(pitch, roll, yaw) -> torch.Tensor:
    """Camera → world rotation (x right, y down, z forward), R = R_yaw · R_pitch · R_roll."""
    p, r, y = (math.radians(a) for a in (pitch, roll, yaw))
    # rotation about x by −p maps the forward axis (0, 0, 1) to (0, sin p, cos p): looking down
    Rx = torch.tensor([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    Rz = torch.tensor([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    Ry = torch.tensor([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    return (Ry @ Rx @ Rz).float()


def _render(spec: RoadScene, g: torch.Generator):
    """One scene: (image 3×S×S, mask S×S long, params dict of floats)."""
    S = spec.size

    def u(lo, hi):
        return lo + (hi - lo) * float(torch.rand((), generator=g))

    def ri(lo, hi):
        return int(torch.randint(lo, hi + 1, (), generator=g))

    prm = {
        "height": u(*spec.height), "pitch": u(*spec.pitch), "roll": u(-spec.roll, spec.roll),
        "yaw": u(-spec.yaw, spec.yaw), "width": u(*spec.width),
        "curvature": u(-spec.curvature, spec.curvature),
    }
    prm["offset"] = u(-spec.offset, spec.offset) * prm["width"] / 2
    f = (S / 2) / math.tan(math.radians(spec.fov) / 2)
    R = _rotation(prm["pitch"], prm["roll"], prm["yaw"])
    v, uu = torch.meshgrid(torch.arange(S) + 0.5, torch.arange(S) + 0.5, indexing="ij")
    d = torch.stack([(uu - S / 2) / f, (v - S / 2) / f, torch.ones_like(uu)], -1) @ R.T
    h, w, k, x0 = prm["height"], prm["width"], prm["curvature"], -prm["offset"]
    ground = d[..., 1] > 1e-4
    t = h / d[..., 1].clamp_min(1e-4)
    X, Z = t * d[..., 0], t * d[..., 2]
    far = 400.0
    ground &= Z < far
    xc = x0 + 0.5 * k * Z.square()
    lateral = X - xc
    road = ground & (lateral.abs() < w / 2)

    grass, gravel = _textures()
    gtex = _lookup(grass, X, Z, 3.0)
    rtex = _lookup(gravel, X, Z, 2.0)
    hue = torch.tensor([u(0.25, 0.45), u(0.45, 0.65), u(0.12, 0.25)])
    verge = (0.35 + 0.9 * gtex)[..., None] * hue
    grey = u(0.3, 0.5)
    asphalt = (grey * (0.75 + 0.5 * rtex))[..., None].expand(S, S, 3)
    if spec.paved > 0 and u(0, 1) < spec.paved:  # (no draw at paved=0: the old scenes)
        tone = grey + (1 if u(0, 1) < 0.5 else -1) * u(*spec.paved_tone)
        ptex = _lookup(gravel, X + 0.37, Z + 0.61, 0.8)
        verge = (tone * (0.8 + 0.4 * ptex))[..., None].expand(S, S, 3)
    img = torch.where(road[..., None], asphalt, verge)
    # lane markings: dashed centre line, solid edge lines
    dashed = (lateral.abs() < 0.08) & (torch.remainder(Z, 9.0) < 3.0)
    edges = (lateral.abs() - (w / 2 - 0.25)).abs() < 0.08
    if spec.edge_lines < 1 and u(0, 1) >= spec.edge_lines:  # (no draw at edge_lines=1)
        edges = torch.zeros_like(edges)
    marks = road & (dashed | edges) & (Z < 120)
    img = torch.where(marks[..., None], torch.full_like(img, u(0.8, 0.95)), img)
    # shadows across road and verge
    shade = torch.ones(S, S)
    for _ in range(ri(*spec.shadows)):
        cz, cx = u(4, 45), u(-12, 12)
        a, b = u(1.0, 5.0), u(1.0, 4.0)
        inside = ((X - cx) / a).square() + ((Z - cz) / b).square() < 1
        shade = torch.where(ground & inside, shade * u(0.4, 0.65), shade)
    img = img * shade[..., None]
    # sky and haze
    sky_top, sky_low = torch.tensor([0.35, 0.55, 0.85]), torch.tensor([0.85, 0.9, 0.95])
    elev = (-d[..., 1] / d.norm(dim=-1)).clamp(0, 1)[..., None]
    sky = sky_low + (sky_top - sky_low) * elev.sqrt()
    haze = torch.exp(-Z.clamp_min(0) / u(60, 150))[..., None]
    img = torch.where(ground[..., None], img * haze + sky_low * (1 - haze), sky)
    # distractors: upright boxes standing on the ground, drawn far to near
    objects = []
    for _ in range(ri(*spec.cars)):
        z = u(8, 60)
        objects.append((z, x0 + 0.5 * k * z * z + u(-w / 4, w / 4), u(1.6, 2.0), u(1.3, 1.7),
                        torch.rand(3, generator=g) * 0.7 + 0.1))
    for _ in range(ri(*spec.posts)):
        z = u(5, 60)
        side = 1 if float(torch.rand((), generator=g)) < 0.5 else -1
        objects.append((z, x0 + 0.5 * k * z * z + side * (w / 2 + u(0.5, 6)), u(0.2, 1.5),
                        u(1.5, 6.0), torch.tensor([u(0.2, 0.4), u(0.25, 0.5), u(0.1, 0.25)])))
    occluded = torch.zeros(S, S, dtype=torch.bool)
    for z, x, bw, bh, colour in sorted(objects, key=lambda o: -o[0]):
        corners = torch.tensor([[x - bw / 2, h, z], [x + bw / 2, h, z],
                                [x + bw / 2, h - bh, z], [x - bw / 2, h - bh, z]])
        cam = corners @ R  # world → camera (R is orthonormal)
        if (cam[:, 2] < 0.5).any():
            continue
        px = torch.stack([f * cam[:, 0] / cam[:, 2] + S / 2, f * cam[:, 1] / cam[:, 2] + S / 2], 1)
        c0, r0 = (int(max(0, math.floor(float(px[:, i].min())))) for i in (0, 1))
        c1, r1 = (int(min(S, math.ceil(float(px[:, i].max())) + 1)) for i in (0, 1))
        if c0 >= c1 or r0 >= r1:
            continue
        e = px.roll(-1, 0) - px
        turn = float((e[:, 0] * e.roll(-1, 0)[:, 1] - e[:, 1] * e.roll(-1, 0)[:, 0]).sum())
        sign = 1.0 if turn >= 0 else -1.0
        vv, uw = v[r0:r1, c0:c1], uu[r0:r1, c0:c1]
        inside = torch.ones_like(vv, dtype=torch.bool)
        for i in range(4):  # convex quad: the pixel is on the inner side of every edge
            a, b = px[i], px[(i + 1) % 4]
            inside &= sign * ((b[0] - a[0]) * (vv - a[1]) - (b[1] - a[1]) * (uw - a[0])) >= 0
        fade = math.exp(-z / 150)
        win = img[r0:r1, c0:c1]
        img[r0:r1, c0:c1] = torch.where(inside[..., None], colour * fade + sky_low * (1 - fade),
                                        win)
        occluded[r0:r1, c0:c1] |= inside
    img = img * u(0.75, 1.2)
    mask = (road & ~occluded).long()
    return _quantize_(img.permute(2, 0, 1).contiguous()), mask, prm


def road_scenes(n: int | None = None, *, spec: RoadScene | None = None,
                generator: torch.Generator | None = None, split: str = "") -> Samples:
    """Render ``n`` road scenes (default 150) with parameters drawn from ``generator``.

    Args:
        n: how many scenes (default 150).
        spec: the camera and road ranges (default :class:`RoadScene`).
        generator: the random draws (default: seeded with 0, so always the same scenes).
        split: the split name stored in the returned ``Samples``.

    Returns ``Samples``: images N×3×S×S in [0, 1], labels N×S×S int64 road
    masks, params ``height``, ``pitch``, ``roll``, ``yaw``, ``width``,
    ``curvature``, ``offset`` (N each; units as in :class:`RoadScene`).
    """
    spec = RoadScene() if spec is None else spec
    n = 150 if n is None else n
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    g = torch.Generator().manual_seed(0) if generator is None else generator
    images, masks, params = [], [], []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many small ops per scene: one thread is faster than two
    try:
        for _ in range(n):
            img, mask, prm = _render(spec, g)
            images.append(img)
            masks.append(mask)
            params.append(prm)
    finally:
        torch.set_num_threads(threads)
    p = {k: torch.tensor([q[k] for q in params], dtype=torch.float32) for k in params[0]}
    return Samples(torch.stack(images), torch.stack(masks), p, name="roads", split=split,
                   classes=("not road", "road"))
