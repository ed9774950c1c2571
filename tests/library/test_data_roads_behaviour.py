"""stnlib.data.roads against the scene's geometry computed here (issue 25, mutation run of 2026-12-05):
with the camera's angles fixed, the road mask is the set of pixels whose ray meets the ground within the
road's half-width (a pinhole ray cast written out below); roll tilts the horizon the documented way;
the lateral offset spans its range; cars hide the road behind them (the mask marks visible road only);
the drawn parameters are reported; and the spec's checks name their argument."""

import math
import re

import pytest
import torch

from stnlib.data import roads as R

CALM = {"shadows": (0, 0), "cars": (0, 0), "posts": (0, 0)}


def flat_road_mask(S, fov, h, pitch, width, offset=0.0):
    """Road pixels of a camera with no roll or yaw over a straight road, by casting each pixel's ray."""
    f = (S / 2) / math.tan(math.radians(fov) / 2)
    p = math.radians(pitch)
    mask = torch.zeros(S, S, dtype=torch.long)
    for row in range(S):
        for col in range(S):
            a, b = (col + 0.5 - S / 2) / f, (row + 0.5 - S / 2) / f
            down, forward = b * math.cos(p) + math.sin(p), -b * math.sin(p) + math.cos(p)
            if down <= 1e-4:
                continue  # sky
            t = h / down
            x, z = t * a, t * forward
            if z < 400 and abs(x + offset) < width / 2:
                mask[row, col] = 1
    return mask


@pytest.mark.parametrize("fov, h, pitch, width", [(80.0, 1.5, 5.0, 6.0), (60.0, 1.8, 9.0, 8.0),
                                                  (100.0, 1.4, 3.0, 5.5)])
def test_the_mask_is_the_ray_cast_road_for_a_level_camera(fov, h, pitch, width):
    spec = R.RoadScene(size=24, fov=fov, height=(h, h), pitch=(pitch, pitch), roll=0.0, yaw=0.0,
                       width=(width, width), offset=0.0, curvature=0.0, **CALM)
    s = R.road_scenes(2, spec=spec, generator=torch.Generator().manual_seed(1))
    expected = flat_road_mask(24, fov, h, pitch, width)
    assert expected.sum() > 20 and (expected == 0).sum() > 20
    for k in range(2):
        assert torch.equal(s.labels[k], expected)
    for name, value in {"height": h, "pitch": pitch, "width": width, "roll": 0.0, "yaw": 0.0,
                        "curvature": 0.0, "offset": 0.0}.items():
        torch.testing.assert_close(s.params[name], torch.full((2,), value))


def test_the_lateral_offset_moves_the_road_and_spans_its_range():
    spec = R.RoadScene(size=8, roll=0.0, yaw=0.0, curvature=0.0, offset=0.6, **CALM)
    s = R.road_scenes(200, spec=spec, generator=torch.Generator().manual_seed(2))
    ratio = s.params["offset"] / (s.params["width"] / 2)
    assert ratio.abs().max() <= 0.6 and ratio.max() > 0.55 and ratio.min() < -0.55
    one = R.RoadScene(size=24, height=(1.5, 1.5), pitch=(5.0, 5.0), roll=0.0, yaw=0.0, width=(6.0, 6.0),
                      offset=0.6, curvature=0.0, **CALM)
    scene = R.road_scenes(1, spec=one, generator=torch.Generator().manual_seed(3))
    offset = float(scene.params["offset"][0])
    assert abs(offset) > 0.3
    # the camera sits `offset` metres right of the road's centre: the road is centred at x = −offset
    assert torch.equal(scene.labels[0], flat_road_mask(24, 80.0, 1.5, 5.0, 6.0, offset))


def first_ground_row(mask_col):
    rows = torch.nonzero(mask_col).flatten()
    return int(rows.min()) if len(rows) else None


def test_roll_tilts_the_horizon_higher_on_the_right_for_a_positive_roll():
    # a road wider than the view: every ground pixel is road, so the mask's top edge is the horizon
    spec = R.RoadScene(size=32, height=(1.5, 1.5), pitch=(4.0, 4.0), roll=8.0, yaw=0.0, width=(5000.0, 5000.0),
                       offset=0.0, curvature=0.0, **CALM)
    s = R.road_scenes(12, spec=spec, generator=torch.Generator().manual_seed(4))
    signs = []
    for k in range(12):
        roll = float(s.params["roll"][k])
        if abs(roll) < 2:
            continue
        left, right = first_ground_row(s.labels[k][:, 0]), first_ground_row(s.labels[k][:, -1])
        assert (right < left) == (roll > 0) and right != left
        signs.append(roll > 0)
    assert True in signs and False in signs
    assert s.params["roll"].abs().max() <= 8.0


def test_yaw_turns_the_road_towards_the_opposite_side():
    spec = R.RoadScene(size=32, height=(1.6, 1.6), pitch=(6.0, 6.0), roll=0.0, yaw=12.0, width=(6.0, 6.0),
                       offset=0.0, curvature=0.0, **CALM)
    s = R.road_scenes(10, spec=spec, generator=torch.Generator().manual_seed(5))
    cols = torch.arange(32.0)
    for k in range(10):
        yaw = float(s.params["yaw"][k])
        top = torch.nonzero(s.labels[k].sum(1)).min()  # the road's farthest visible row
        centre = float((s.labels[k][top] * cols).sum() / s.labels[k][top].sum())
        if abs(yaw) > 3:  # camera yawed right (positive): the far road appears left of the centre
            assert (centre < 15.5) == (yaw > 0)


def test_cars_hide_the_road_behind_them_and_only_change_what_they_cover():
    base = {"size": 48, "height": (1.5, 1.5), "pitch": (6.0, 6.0), "roll": 0.0, "yaw": 0.0, "width": (7.0, 7.0),
            "offset": 0.0, "curvature": 0.0, "shadows": (0, 0), "posts": (0, 0)}
    without = R.road_scenes(6, spec=R.RoadScene(**base, cars=(0, 0)), generator=torch.Generator().manual_seed(6))
    with_cars = R.road_scenes(6, spec=R.RoadScene(**base, cars=(2, 2)), generator=torch.Generator().manual_seed(6))
    hidden = 0
    for k in range(6):
        a, b = without.labels[k].bool(), with_cars.labels[k].bool()
        assert not (b & ~a).any()  # a car never adds road
        lost = a & ~b
        hidden += int(lost.sum())
        changed = (with_cars.images[k] != without.images[k]).any(0)
        assert not (lost & ~changed).any()  # road is lost only where a car is drawn
    assert hidden > 10  # 17 pixels of road hidden in these six scenes


def test_the_defaults_are_the_papers_size_and_sets():
    spec = R.RoadScene()
    assert (spec.size, spec.fov, spec.height, spec.pitch, spec.roll, spec.yaw, spec.width, spec.offset,
            spec.curvature, spec.shadows, spec.cars, spec.posts, spec.paved, spec.paved_tone, spec.edge_lines) == \
        (256, 80.0, (1.4, 1.9), (3.0, 10.0), 4.0, 10.0, (5.5, 9.0), 0.6, 0.012, (0, 6), (0, 2), (0, 6), 0.0,
         (0.04, 0.12), 1.0)
    small = R.RoadScene(size=8)
    s = R.road_scenes(spec=small)
    assert len(s) == 150 and s.images.shape == (150, 3, 8, 8) and s.labels.shape == (150, 8, 8)
    assert torch.equal(s.images, R.road_scenes(spec=small, generator=torch.Generator().manual_seed(0)).images)
    assert s.classes == ("not road", "road") and s.name == "roads" and s.split == ""
    assert R.road_scenes(1, spec=small, split="val").split == "val"
    assert set(s.params) == {"height", "pitch", "roll", "yaw", "width", "curvature", "offset"}
    assert s.params["roll"].abs().max() <= 4 and s.params["yaw"].abs().max() <= 10
    assert s.params["curvature"].abs().max() <= 0.012 and s.params["roll"].abs().max() > 3
    assert ((s.params["height"] >= 1.4) & (s.params["height"] <= 1.9)).all()
    assert ((s.params["pitch"] >= 3) & (s.params["pitch"] <= 10)).all()
    assert s.images.min() >= 0 and s.images.max() <= 1
    assert torch.equal(s.images, torch.round(s.images * 255) / 255)  # 8-bit levels


@pytest.mark.parametrize("kwargs, message", [
    ({"size": 0}, "size must be a positive int, got 0"),
    ({"fov": 9.0}, "fov must be in [10, 150] degrees, got 9.0"),
    ({"fov": 151}, "fov must be in [10, 150] degrees, got 151"),
    ({"height": (0.0, 1.0)}, "height must be > 0, got (0.0, 1.0)"),
    ({"pitch": (0.4, 5.0)}, "pitch must be >= 0.5, got (0.4, 5.0)"),
    ({"width": (0, 3)}, "width must be > 0, got (0, 3)"),
    ({"roll": -1.0}, "roll must be a number >= 0, got -1.0"),
    ({"yaw": -0.5}, "yaw must be a number >= 0, got -0.5"),
    ({"offset": -0.1}, "offset must be a number >= 0, got -0.1"),
    ({"curvature": -0.01}, "curvature must be a number >= 0, got -0.01"),
    ({"paved": 1.5}, "paved must be a probability in [0, 1], got 1.5"),
    ({"paved": True}, "paved must be a probability in [0, 1], got True"),
    ({"edge_lines": -0.1}, "edge_lines must be a probability in [0, 1], got -0.1"),
    ({"edge_lines": "1"}, "edge_lines must be a probability in [0, 1], got '1'"),
    ({"paved_tone": (-0.1, 0.1)}, "paved_tone must be >= 0, got (-0.1, 0.1)"),
    ({"shadows": (-1, 2)}, "shadows must be >= 0, got (-1, 2)"),
    ({"cars": (3, 1)}, "cars must have low <= high, got (3, 1)"),
    ({"posts": (0, -1)}, "posts must have low <= high, got (0, -1)"),
])
def test_spec_errors_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        R.RoadScene(**kwargs)


def test_the_edges_of_the_spec_are_accepted():
    spec = R.RoadScene(fov=10, pitch=(0.5, 0.5), paved=1, edge_lines=0, shadows=(1.0, 2.0))
    assert spec.shadows == (1, 2) and isinstance(spec.shadows[0], int)
    assert R.RoadScene(fov=150, paved=0.0, edge_lines=1.0).fov == 150


@pytest.mark.parametrize("n", [0, -1, True, 2.0])
def test_road_scenes_rejects_a_bad_count(n):
    with pytest.raises(ValueError, match="^" + re.escape(f"n must be a positive int, got {n!r}") + "$"):
        R.road_scenes(n, spec=R.RoadScene(size=8))


def test_rotation_is_yaw_pitch_roll():
    p, r, y = 7.0, -5.0, 12.0
    M = R._rotation(p, r, y)
    P, Q, Y = (math.radians(a) for a in (p, r, y))
    forward = M @ torch.tensor([0.0, 0.0, 1.0])
    # forward: yaw turns it right (+x), pitch tilts it down (+y); roll leaves it alone
    torch.testing.assert_close(forward, torch.tensor([math.sin(Y) * math.cos(P), math.sin(P),
                                                      math.cos(Y) * math.cos(P)]), rtol=0, atol=1e-6)
    right = M @ torch.tensor([1.0, 0.0, 0.0])
    assert math.isclose(float(right[1]), math.sin(Q) * math.cos(P), abs_tol=1e-6)  # roll tips the right axis
    torch.testing.assert_close(M @ M.T, torch.eye(3), rtol=0, atol=1e-6)


def test_texture_lookup_wraps_every_metres():
    tex = torch.arange(16.0).view(4, 4)
    x = torch.tensor([0.0, 0.5, 1.9, 2.0, -0.1])
    z = torch.tensor([0.0, 1.0, 0.0, 2.5, 0.0])
    # n = 4 cells per 2 m: cell = floor(coord / 2 * 4) mod 4
    assert R._lookup(tex, x, z, 2.0).tolist() == [0.0, 9.0, 3.0, 4.0 * 1 + 0.0, 3.0]


def level_camera_rays(S, fov, pitch):
    """Per pixel of a camera with no roll or yaw: the ray's (down, forward, right) components and length."""
    f = (S / 2) / math.tan(math.radians(fov) / 2)
    p = math.radians(pitch)
    v, u = torch.meshgrid(torch.arange(S) + 0.5, torch.arange(S) + 0.5, indexing="ij")
    a, b = (u - S / 2) / f, (v - S / 2) / f
    down, forward = b * math.cos(p) + math.sin(p), -b * math.sin(p) + math.cos(p)
    return down, forward, a, torch.sqrt(a * a + down * down + forward * forward)


def test_the_sky_is_the_documented_gradient_times_the_scenes_gain():
    S = 40
    spec = R.RoadScene(size=S, fov=90.0, pitch=(3.0, 3.0), roll=0.0, yaw=0.0, offset=0.0, curvature=0.0, **CALM)
    s = R.road_scenes(4, spec=spec, generator=torch.Generator().manual_seed(7))
    down, _, _, norm = level_camera_rays(S, 90.0, 3.0)
    sky_mask = down <= 1e-4
    elev = (-down / norm).clamp(0, 1)
    top, low = torch.tensor([0.35, 0.55, 0.85]), torch.tensor([0.85, 0.9, 0.95])
    sky = low[:, None, None] + (top - low)[:, None, None] * elev.sqrt()  # 3×S×S
    assert sky_mask.sum() > 100
    for k in range(4):
        img = s.images[k]
        ratio = (img / sky)[:, sky_mask]
        gain = ratio.median()
        unclamped = (sky * gain)[:, sky_mask] < 0.99
        assert 0.75 <= gain <= 1.2
        assert ((img[:, sky_mask] - sky[:, sky_mask] * gain).abs()[unclamped] <= 1 / 255).all()
        assert (s.labels[k][sky_mask] == 0).all()


def test_the_lane_markings_are_dashed_in_the_middle_and_solid_at_the_edges():
    S = 96
    spec = R.RoadScene(size=S, fov=60.0, height=(1.6, 1.6), pitch=(8.0, 8.0), roll=0.0, yaw=0.0, width=(8.0, 8.0),
                       offset=0.0, curvature=0.0, **CALM)
    s = R.road_scenes(2, spec=spec, generator=torch.Generator().manual_seed(8))
    down, forward, right, _ = level_camera_rays(S, 60.0, 8.0)
    t = 1.6 / down.clamp_min(1e-4)
    X, Z = t * right, t * forward
    road = (down > 1e-4) & (X.abs() < 4.0) & (Z < 120)
    lum = s.images.mean(1)
    for k in range(2):
        asphalt = lum[k][road & ((X.abs() - 1.0).abs() < 0.5) & (Z < 40)].median()
        centre = road & (X.abs() < 0.04) & (Z < 40)
        dash = centre & (torch.remainder(Z, 9.0) < 2.8) & (torch.remainder(Z, 9.0) > 0.2)
        gap = centre & (torch.remainder(Z, 9.0) > 3.4) & (torch.remainder(Z, 9.0) < 8.6)
        edge = road & ((X.abs() - 3.75).abs() < 0.04) & (Z < 40)
        assert dash.sum() > 3 and gap.sum() > 3 and edge.sum() > 3
        assert lum[k][dash].min() > asphalt * 1.3 and lum[k][edge].min() > asphalt * 1.3
        assert lum[k][gap].max() < asphalt * 1.3


# --------------------------------------------------------------------------------------------------------------
# The whole scene pixel by pixel: the module docstring's renderer written out here, drawing the same random
# stream in the documented order (the camera and road, the verge's hue, the asphalt's grey, [the paving],
# [the edge-line coin], the markings' white, the shadows, the haze, the cars, the posts, the gain).
# The geometry (the rays, the ground point of each pixel) is computed in float32 in the same order as the
# renderer, so that the texture cells and the mask's border agree to the bit; the colours may differ by one
# 8-bit level where float32 rounding straddles a level.
# --------------------------------------------------------------------------------------------------------------

def skimage_textures():
    from skimage import data

    return (torch.as_tensor(data.grass(), dtype=torch.float32) / 255,
            torch.as_tensor(data.gravel(), dtype=torch.float32) / 255)


def texture_at(tex, x, z, metres):
    n = tex.shape[0]  # the texture tiles every `metres`, nearest cell, wrapped
    return tex[torch.floor(z / metres * n).long() % n, torch.floor(x / metres * n).long() % n]


def camera_to_world(pitch, roll, yaw):
    p, r, y = (math.radians(a) for a in (pitch, roll, yaw))
    c, s = math.cos, math.sin
    pitch_m = torch.tensor([[1.0, 0.0, 0.0], [0.0, c(p), s(p)], [0.0, -s(p), c(p)]])
    roll_m = torch.tensor([[c(r), -s(r), 0.0], [s(r), c(r), 0.0], [0.0, 0.0, 1.0]])
    yaw_m = torch.tensor([[c(y), 0.0, s(y)], [0.0, 1.0, 0.0], [-s(y), 0.0, c(y)]])
    return yaw_m @ pitch_m @ roll_m


def reference_scene(spec, g, log=None):
    """(image 3×S×S before quantizing, mask S×S) of one scene, as the module docstring describes it."""
    S = spec.size

    def u(lo, hi):
        return lo + (hi - lo) * float(torch.rand((), generator=g))

    def ri(lo, hi):
        return int(torch.randint(lo, hi + 1, (), generator=g))

    h, pitch, roll, yaw = u(*spec.height), u(*spec.pitch), u(-spec.roll, spec.roll), u(-spec.yaw, spec.yaw)
    w, kappa = u(*spec.width), u(-spec.curvature, spec.curvature)
    offset = u(-spec.offset, spec.offset) * w / 2
    x0 = -offset  # the road's centre, seen from the camera
    f = (S / 2) / math.tan(math.radians(spec.fov) / 2)
    rot = camera_to_world(pitch, roll, yaw)
    row, col = torch.meshgrid(torch.arange(S) + 0.5, torch.arange(S) + 0.5, indexing="ij")
    ray = torch.stack([(col - S / 2) / f, (row - S / 2) / f, torch.ones(S, S)], -1) @ rot.T
    t = h / ray[..., 1].clamp_min(1e-4)
    X, Z = t * ray[..., 0], t * ray[..., 2]
    ground = (ray[..., 1] > 1e-4) & (Z < 400)
    lateral = X - (x0 + kappa * Z * Z / 2)
    road = ground & (lateral.abs() < w / 2)
    grass, gravel = skimage_textures()
    # verge: grass, 3 m tiles, in a green hue; asphalt: gravel, 2 m tiles, in a grey
    hue = torch.tensor([u(0.25, 0.45), u(0.45, 0.65), u(0.12, 0.25)], dtype=torch.float64)
    verge = (0.35 + 0.9 * texture_at(grass, X, Z, 3.0).double())[..., None] * hue
    grey = u(0.3, 0.5)
    asphalt = (grey * (0.75 + 0.5 * texture_at(gravel, X, Z, 2.0).double()))[..., None].repeat(1, 1, 3)
    paved = spec.paved > 0 and u(0, 1) < spec.paved
    if paved:  # a finer gravel (0.8 m tiles, shifted by (0.37, 0.61) m), lighter or darker than the asphalt
        lighter = u(0, 1) < 0.5
        tone = grey + (1 if lighter else -1) * u(*spec.paved_tone)
        paving = texture_at(gravel, X + 0.37, Z + 0.61, 0.8).double()
        verge = (tone * (0.8 + 0.4 * paving))[..., None].repeat(1, 1, 3)
    img = torch.where(road[..., None], asphalt, verge)
    dashes = (lateral.abs() < 0.08) & (torch.remainder(Z, 9.0) < 3.0)  # 3 m painted every 9 m, 16 cm wide
    edge_lines = (lateral.abs() - (w / 2 - 0.25)).abs() < 0.08  # 16 cm wide, 25 cm inside the road's edge
    painted = not (spec.edge_lines < 1 and u(0, 1) >= spec.edge_lines)
    lines = (dashes | edge_lines) if painted else dashes
    white = u(0.8, 0.95)
    img[road & lines & (Z < 120)] = white
    shade = torch.ones(S, S, dtype=torch.float64)
    n_shadows = ri(*spec.shadows)
    for _ in range(n_shadows):  # an ellipse on the ground centred at (cx, cz), semi-axes a (x) and b (z)
        cz, cx, a, b = u(4, 45), u(-12, 12), u(1.0, 5.0), u(1.0, 4.0)
        inside = ((X - cx) / a) ** 2 + ((Z - cz) / b) ** 2 < 1
        shade[ground & inside] *= u(0.4, 0.65)
    img = img * shade[..., None]
    sky_top = torch.tensor([0.35, 0.55, 0.85], dtype=torch.float64)
    sky_low = torch.tensor([0.85, 0.9, 0.95], dtype=torch.float64)
    elevation = (-ray[..., 1] / ray.norm(dim=-1)).clamp(0, 1).double()[..., None]
    sky = sky_low + (sky_top - sky_low) * elevation.sqrt()
    haze = torch.exp(-Z.clamp_min(0).double() / u(60, 150))[..., None]
    img = torch.where(ground[..., None], haze * img + (1 - haze) * sky_low, sky)
    boxes = []  # (distance, centre x, width, height, colour)
    n_cars = ri(*spec.cars)
    for _ in range(n_cars):  # on the road, within a quarter width of its centre
        z = u(8, 60)
        boxes.append((z, x0 + kappa * z * z / 2 + u(-w / 4, w / 4), u(1.6, 2.0), u(1.3, 1.7),
                      (torch.rand(3, generator=g) * 0.7 + 0.1).double()))
    n_posts = ri(*spec.posts)
    for _ in range(n_posts):  # on the verge, 0.5 to 6 m beyond the road's edge on a random side
        z = u(5, 60)
        side = 1 if float(torch.rand((), generator=g)) < 0.5 else -1
        x = x0 + kappa * z * z / 2 + side * (w / 2 + u(0.5, 6))
        bw, bh = u(0.2, 1.5), u(1.5, 6.0)
        boxes.append((z, x, bw, bh, torch.tensor([u(0.2, 0.4), u(0.25, 0.5), u(0.1, 0.25)],
                                                 dtype=torch.float64)))
    hidden = torch.zeros(S, S, dtype=torch.bool)
    drawn = 0
    for z, x, bw, bh, colour in sorted(boxes, key=lambda o: o[0], reverse=True):  # far to near
        corners = torch.tensor([[x - bw / 2, h, z], [x + bw / 2, h, z], [x + bw / 2, h - bh, z],
                                [x - bw / 2, h - bh, z]])
        cam = corners @ rot
        if (cam[:, 2] < 0.5).any():
            continue
        px = torch.stack([f * cam[:, 0] / cam[:, 2] + S / 2, f * cam[:, 1] / cam[:, 2] + S / 2], 1)
        inside = torch.ones(S, S, dtype=torch.bool)
        orient = None
        for i in range(4):  # a convex quadrilateral: the pixel centre is on the inner side of every edge
            a, b = px[i], px[(i + 1) % 4]
            cross = (b[0] - a[0]) * (row - a[1]) - (b[1] - a[1]) * (col - a[0])
            if orient is None:  # the corners go round clockwise on the screen (y down)
                e1, e2 = px[1] - px[0], px[2] - px[1]
                orient = 1.0 if float(e1[0] * e2[1] - e1[1] * e2[0]) >= 0 else -1.0
            inside &= orient * cross >= 0
        drawn += int(inside.any())
        fade = math.exp(-z / 150)  # the box fades into the low sky with distance
        img[inside] = colour * fade + sky_low * (1 - fade)
        hidden |= inside
    img = img * u(0.75, 1.2)  # the scene's gain
    if log is not None:
        log.append({"paved": paved, "lighter": paved and lighter, "painted": painted, "shadows": n_shadows,
                    "cars": n_cars, "posts": n_posts, "drawn": drawn, "offset": offset, "roll": roll,
                    "marks": road & lines & (Z < 120)})
    return img.permute(2, 0, 1), (road & ~hidden).long()


def assert_scenes_match(spec, n, seed, log=None):
    got = R.road_scenes(n, spec=spec, generator=torch.Generator().manual_seed(seed))
    g = torch.Generator().manual_seed(seed)
    for k in range(n):
        img, mask = reference_scene(spec, g, log)
        assert torch.equal(got.labels[k], mask), k
        expected = (img.clamp(0, 1) * 255).round() / 255
        diff = (got.images[k].double() - expected).abs()
        assert diff.max() <= 1 / 255 + 1e-6, (k, float(diff.max()))
        assert (diff > 1e-6).sum() <= 3, (k, int((diff > 1e-6).sum()))  # a level straddled, rarely
    return got


BUSY = {"size": 40, "fov": 80.0, "shadows": (3, 6), "cars": (2, 3), "posts": (4, 6)}


def test_busy_scenes_are_the_documented_rendering_pixel_by_pixel():
    log = []
    spec = R.RoadScene(**BUSY)
    assert_scenes_match(spec, 5, 11, log)
    assert sum(e["drawn"] for e in log) >= 20 and sum(e["shadows"] for e in log) >= 15


def test_scenes_with_the_default_spec_at_a_small_size_are_the_documented_rendering():
    log = []
    assert_scenes_match(R.RoadScene(size=32), 6, 12, log)
    assert any(e["cars"] for e in log) and any(e["posts"] for e in log) and any(e["shadows"] for e in log)


def test_paved_verges_and_missing_edge_lines_are_the_documented_rendering():
    log = []
    spec = R.RoadScene(size=32, paved=0.5, edge_lines=0.5, paved_tone=(0.05, 0.15), shadows=(0, 2),
                       cars=(0, 1), posts=(0, 2))
    assert_scenes_match(spec, 10, 13, log)
    seen = {(e["paved"], e["lighter"], e["painted"]) for e in log}
    assert {e["paved"] for e in log} == {True, False} and {e["painted"] for e in log} == {True, False}
    assert (True, True, True) in seen or (True, True, False) in seen
    assert (True, False, True) in seen or (True, False, False) in seen


def test_rendering_runs_on_one_thread_and_restores_the_callers_count(monkeypatch):
    seen = []
    real = R._render

    def spy(spec, g):
        seen.append(torch.get_num_threads())
        return real(spec, g)

    monkeypatch.setattr(R, "_render", spy)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        R.road_scenes(2, spec=R.RoadScene(size=8))
        assert seen == [1, 1] and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_the_defaults_draw_from_their_own_seed_not_the_global_stream():
    small = R.RoadScene(size=8)
    seeded = R.road_scenes(3, spec=small, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1234)
    torch.rand(5)
    assert torch.equal(R.road_scenes(3, spec=small).images, seeded.images)
    torch.manual_seed(99)
    one = R.road_scenes(1)  # the default spec: 256×256
    assert one.images.shape == (1, 3, 256, 256)
    assert torch.equal(one.images, R.road_scenes(1, spec=R.RoadScene(), generator=torch.Generator().manual_seed(0))
                       .images)
    assert all(v.dtype == torch.float32 for v in seeded.params.values())


def test_the_ranges_are_stored_as_tuples_of_floats():
    spec = R.RoadScene(height=[1, 2], pitch=[1, 5], width=[6, 7], paved_tone=[0, 1], shadows=[1.0, 3.0])
    assert (spec.height, spec.pitch, spec.width, spec.paved_tone, spec.shadows) == \
        ((1.0, 2.0), (1.0, 5.0), (6.0, 7.0), (0.0, 1.0), (1, 3))
    for pair in (spec.height, spec.pitch, spec.width, spec.paved_tone):
        assert type(pair) is tuple and all(type(v) is float for v in pair)


def test_a_camera_turned_round_sees_the_ground_behind_it_and_skips_boxes_behind_it():
    # yaw beyond ±90°: the ground behind the camera (Z < 0, no haze) is still ground, the sky there stays sky,
    # and boxes with a corner less than 0.5 m in front of the camera are not drawn
    log = []
    spec = R.RoadScene(size=32, fov=120.0, yaw=175.0, shadows=(1, 3), cars=(1, 2), posts=(3, 6))
    assert_scenes_match(spec, 8, 14, log)
    s = R.road_scenes(8, spec=spec, generator=torch.Generator().manual_seed(14))
    assert (s.params["yaw"].abs() > 120).sum() >= 2 and sum(e["drawn"] for e in log) >= 5


def test_an_upside_down_camera_draws_its_boxes_with_the_corners_going_the_other_way_round():
    log = []
    spec = R.RoadScene(size=32, roll=178.0, shadows=(0, 2), cars=(2, 2), posts=(4, 6))
    assert_scenes_match(spec, 8, 15, log)
    upside_down = [e["drawn"] for e in log if abs(e["roll"]) > 90]
    upright = [e["drawn"] for e in log if abs(e["roll"]) < 90]
    assert sum(upside_down) >= 3 and sum(upright) >= 3


def level_row_distance(S, fov, h, pitch, row):
    """The forward distance at which the ray through a row's centre meets the ground (no roll, no yaw)."""
    f = (S / 2) / math.tan(math.radians(fov) / 2)
    p, b = math.radians(pitch), (row + 0.5 - S / 2) / f
    down = b * math.cos(p) + math.sin(p)
    return h * (-b * math.sin(p) + math.cos(p)) / down if down > 1e-4 else math.inf  # (sky)


def pitch_for_distance(S, fov, h, row, distance):
    lo, hi = 0.5, 30.0  # the distance falls as the pitch grows: bisect
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if level_row_distance(S, fov, h, mid, row) > distance else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize("distance, ground", [(399.5, True), (400.5, False)])
def test_the_ground_ends_400_m_away(distance, ground):
    S, fov, h = 16, 20.0, 1.5
    pitch = pitch_for_distance(S, fov, h, 7, distance)  # row 7 (the one above the centre) meets it
    assert abs(level_row_distance(S, fov, h, pitch, 7) - distance) < 0.01
    spec = R.RoadScene(size=S, fov=fov, height=(h, h), pitch=(pitch, pitch), roll=0.0, yaw=0.0,
                       width=(5000.0, 5000.0), offset=0.0, curvature=0.0, **CALM)
    s = R.road_scenes(1, spec=spec, generator=torch.Generator().manual_seed(16))
    assert s.labels[0][7].tolist() == [int(ground)] * S  # the whole row is road, or none of it
    assert s.labels[0][:7].sum() == 0 and s.labels[0][8:].sum() == 16 * 8


@pytest.mark.parametrize("distance, painted", [(119.5, True), (120.5, False)])
def test_the_lane_markings_end_120_m_away(distance, painted):
    S, fov, h = 16, 20.0, 1.5
    pitch = pitch_for_distance(S, fov, h, 7, distance)
    assert abs(level_row_distance(S, fov, h, pitch, 7) - distance) < 0.01
    f = (S / 2) / math.tan(math.radians(fov) / 2)
    p, b = math.radians(pitch), -0.5 / f
    down = b * math.cos(p) + math.sin(p)
    x = h * (13.5 - S / 2) / f / down  # column 13's ground point on row 7
    spec = R.RoadScene(size=S, fov=fov, height=(h, h), pitch=(pitch, pitch), roll=0.0, yaw=0.0,
                       width=(2 * (x + 0.25), 2 * (x + 0.25)), offset=0.0, curvature=0.0, **CALM)
    s = R.road_scenes(1, spec=spec, generator=torch.Generator().manual_seed(17))
    g = torch.Generator().manual_seed(17)
    log = []
    img, _ = reference_scene(spec, g, log)
    assert s.labels[0][7, 13] == 1 and s.labels[0][7, 14] == 0  # the edge line lies on the road's last column
    assert bool(log[0]["marks"][7, 13]) == painted and int(log[0]["marks"][7].sum()) == (2 if painted else 0)
    assert torch.allclose(s.images[0].double(), (img.clamp(0, 1) * 255).round() / 255, atol=1 / 255 + 1e-6)


# --------------------------------------------------------------------------------------------------------------
# Scenes placed by hand: torch.rand and torch.randint answer from a script for the scene's generator (the same
# script for the renderer and for the reference above), so that a box can be put where the window's clipping,
# the "in front of the camera" test and the skipping of a box behind the camera decide its pixels, a coin can
# land exactly on its probability, and a pixel can lie exactly on a boundary.
# --------------------------------------------------------------------------------------------------------------

def scripted_draws(monkeypatch, scripts):
    """torch.rand / torch.randint give the generators of ``scripts`` ((generator, list) pairs) their listed values
    in order: a float for a scalar draw, a list of floats for a vector, an int for randint; others draw as usual."""
    rand, randint = torch.rand, torch.randint
    left = [(generator, iter(values)) for generator, values in scripts]

    def script(generator):
        return next((rest for g, rest in left if g is generator), None)

    def scripted_rand(*size, generator=None, **kwargs):
        if script(generator) is None:
            return rand(*size, generator=generator, **kwargs)
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        value = torch.tensor(next(script(generator)), dtype=torch.float32)
        assert tuple(value.shape) == shape and ((value >= 0) & (value < 1)).all(), (value, shape)
        return value

    def scripted_randint(low, high, size, generator=None, **kwargs):
        if script(generator) is None:
            return randint(low, high, size, generator=generator, **kwargs)
        value = next(script(generator))
        assert isinstance(value, int) and low <= value < high and tuple(size) == ()
        return torch.tensor(value)

    monkeypatch.setattr(torch, "rand", scripted_rand)
    monkeypatch.setattr(torch, "randint", scripted_randint)
    return left


def hand_placed_spec(fov=80.0, pitch=5.0, yaw=0.0, posts=0, cars=0, size=32, height=1.5, width=7.0, shadows=0,
                     offset=0.0, **kwargs):
    # a straight road, no roll: the camera's draws fix everything but the yaw and the lateral offset
    return R.RoadScene(size=size, fov=fov, height=(height, height), pitch=(pitch, pitch), roll=0.0, yaw=yaw,
                       width=(width, width), offset=offset, curvature=0.0, shadows=(shadows, shadows),
                       cars=(cars, cars), posts=(posts, posts), **kwargs)


def hand_placed_draws(posts=(), cars=(), surface=(), shadows=(), offset=0.5):
    """The draws of a hand_placed_spec scene: the yaw at −yaw (draw 0), the offset's draw, every other uniform at
    its middle (hue (0.35, 0.55, 0.185), grey 0.4, white 0.875, haze 105 m, gain 0.975); ``surface``: the paving's
    and the edge lines' draws where the spec makes them; the shadows, each [z, x, x semi-axis, z semi-axis,
    darkening]; the cars, each [z, from the centre line, width, height, colour (3)]; the posts, each [z, side
    (< 0.5: right), beyond the edge, width, height, colour × 3]; all as draws in [0, 1)."""
    draws = [0.5, 0.5, 0.5, 0.0, 0.5, 0.5, offset, 0.5, 0.5, 0.5, 0.5, *surface, 0.5, len(shadows)]
    for shadow in shadows:
        draws += shadow
    draws += [0.5, len(cars)]
    for car in cars:
        draws += car
    draws.append(len(posts))
    for post in posts:
        draws += post
    return draws + [0.5]


def box_pixel(colour, z, gain=0.975):
    """A box's 8-bit RGB: its colour faded into the low sky with distance, times the gain."""
    fade = math.exp(-z / 150)
    value = (torch.tensor(colour, dtype=torch.float64) * fade + torch.tensor([0.85, 0.9, 0.95]).double() * (1 - fade))
    return (value * gain * 255).round() / 255


def assert_hand_placed_scene(monkeypatch, spec, draws, log=None):
    ours, theirs = torch.Generator(), torch.Generator()
    left = scripted_draws(monkeypatch, [(ours, draws), (theirs, draws)])
    got = R.road_scenes(1, spec=spec, generator=ours)
    img, mask = reference_scene(spec, theirs, log)
    assert all(next(rest, None) is None for _, rest in left)  # every scripted draw was used
    assert torch.equal(got.labels[0], mask)
    expected = (img.clamp(0, 1) * 255).round() / 255
    diff = (got.images[0].double() - expected).abs()
    assert diff.max() <= 1 / 255 + 1e-6 and (diff > 1e-6).sum() <= 3
    return got.images[0].double(), got.labels[0]


def is_box(image, colour, z):
    return ((image - box_pixel(colour, z)[:, None, None]).abs() <= 1 / 255 + 1e-6).all(0)


def test_a_box_reaching_past_the_first_column_and_row_is_drawn_there(monkeypatch):
    # a post 5.96 m tall and 1.49 m wide 5 m ahead, 4 m left of the road's centre (0.5 m beyond its edge): its
    # corners project to columns -3.7 … 3.9 and rows -4.2 … 19.9, so that it covers column 0 and row 0
    colour = [0.3, 0.375, 0.175]
    image, _ = assert_hand_placed_scene(monkeypatch, hand_placed_spec(posts=1),
                                        hand_placed_draws(posts=[[0.0, 0.75, 0.0, 0.99, 0.99, 0.5, 0.5, 0.5]]))
    box = is_box(image, colour, 5.0)
    assert box[:20, :3].all() and box[14:20, 3].all() and box.sum() == 66  # rows 0-19, columns 0-2 (3 below 14)


def test_a_box_with_a_corner_between_half_a_metre_and_one_and_a_half_metres_ahead_is_drawn(monkeypatch):
    # a camera looking 80° down (fov 150°) and a post 1.5 m tall 5 m ahead, 4 m right: its top corners, level with
    # the camera, lie 5 · cos 80° = 0.87 m ahead of it (its foot 2.35 m): in front (≥ 0.5 m), so that it is drawn
    colour = [0.2, 0.25, 0.1]
    image, _ = assert_hand_placed_scene(monkeypatch, hand_placed_spec(150.0, 80.0, posts=1),
                                        hand_placed_draws(posts=[[0.0, 0.0, 0.0, 0.99, 0.0, 0.0, 0.0, 0.0]]))
    assert 0.5 < 5 * math.cos(math.radians(80)) < 1.5
    box = is_box(image, colour, 5.0)
    assert box.sum() == 26 and box[:7, 23:].sum() == 26  # the top right corner of the picture


def test_a_box_exactly_half_a_metre_ahead_is_drawn(monkeypatch):
    # a camera 2 m up looking straight down (pitch 90°) and a post 1.5 m tall: its top corners lie exactly 0.5 m ahead
    # of the camera (the limit: a box is skipped only with a corner less than 0.5 m ahead), its foot 2 m
    colour = [0.2, 0.25, 0.1]
    spec = hand_placed_spec(150.0, 90.0, posts=1, height=2.0, width=1.0)
    post = [0.0, 0.0, 0.0, 0.99, 0.0, 0.0, 0.0, 0.0]
    image, _ = assert_hand_placed_scene(monkeypatch, spec, hand_placed_draws(posts=[post]))
    half = (0.2 + 1.3 * 0.99) / 2  # the post stands at x = 0.5 + 0.5 m, 1.487 m wide
    top = torch.tensor([[1 - half, 0.5, 5.0], [1 + half, 0.5, 5.0]]) @ camera_to_world(90.0, 0.0, 0.0)
    assert top[:, 2].tolist() == [0.5, 0.5]
    box = is_box(image, colour, 5.0)
    assert box.sum() == 18 and box[:5, 17:21].sum() == 18


def test_a_box_behind_the_camera_is_skipped_and_the_nearer_boxes_are_still_drawn(monkeypatch):
    # a camera turned 120° left (fov 150°): a post 59.45 m down the road and 9.4 m left lies 21 to 22.5 m behind it
    # and is skipped (seen through the camera from behind, it would land on columns 4-5, rows 15-16); the post 5 m
    # down the road and 6.75 m left, drawn after it (far to near), lies 2.3 to 4.1 m in front of it and is drawn:
    # a skipped box does not end the drawing
    far, near = [0.398, 0.4975, 0.2485], [0.2, 0.25, 0.1]
    draws = hand_placed_draws(posts=[[0.99, 0.75, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99],   # z 59.45, 5.9 m out
                                     [0.0, 0.75, 0.5, 0.99, 0.99, 0.0, 0.0, 0.0]])       # z 5, 3.25 m out
    image, _ = assert_hand_placed_scene(monkeypatch, hand_placed_spec(150.0, 5.0, 120.0, posts=2), draws)
    box = is_box(image, near, 5.0)
    assert box.sum() == 26 and box[7:18, 25:30].sum() == 26
    assert not is_box(image, far, 59.45).any()


def test_a_pixel_centre_on_a_box_edge_is_inside(monkeypatch):
    # a car 1.6 m wide 8 m ahead with its right side on the camera's axis (x = -0.8 + 0.8 = 0 m): on a 31 px picture
    # that side projects to x = 15.5 px exactly, through the centres of column 15, which are drawn
    colour = [0.45, 0.45, 0.45]
    image, _ = assert_hand_placed_scene(monkeypatch, hand_placed_spec(cars=1, size=31, width=3.2),
                                        hand_placed_draws(cars=[[0.0, 0.0, 0.0, 0.5, [0.5, 0.5, 0.5]]]))
    box = is_box(image, colour, 8.0)
    assert box[14:17, 12:16].all() and box.sum() == 12 and not box[:, 16:].any()


def test_a_pixel_on_the_roads_edge_is_not_road(monkeypatch):
    # a camera 1 m up looking straight down (fov 90°, 32 px): column c sees the ground at x = (c + 0.5 - 16) / 16 m,
    # exactly; a road 1.9375 m wide ends at ±0.96875 m, the ground of columns 0 and 31: outside (|x| < w/2 is road)
    spec = hand_placed_spec(90.0, 90.0, height=1.0, width=1.9375)
    _, mask = assert_hand_placed_scene(monkeypatch, spec, hand_placed_draws())
    expected = torch.ones(32, 32, dtype=torch.long)
    expected[:, [0, 31]] = 0
    assert torch.equal(mask, expected)


def test_coins_that_land_on_their_probability_come_up_no(monkeypatch):
    # a uniform draw u in [0, 1) says yes when u < p, which happens with probability p exactly: a draw of exactly
    # p = 0.5 leaves the verge unpaved, takes the edge lines away (they stay when u < edge_lines), puts the post on
    # the left (right when u < 0.5) and, on a paved verge, makes the paving darker (lighter when u < 0.5)
    log = []
    colour = [0.3, 0.375, 0.175]
    spec = hand_placed_spec(posts=1, paved=0.5, edge_lines=0.5)
    post = [0.0, 0.5, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5]  # side: exactly 0.5
    image, _ = assert_hand_placed_scene(monkeypatch, spec, hand_placed_draws(posts=[post], surface=[0.5, 0.5]), log)
    assert (log[0]["paved"], log[0]["painted"]) == (False, False)
    box = is_box(image, colour, 5.0)
    assert box.sum() > 10 and not box[:, 16:].any()  # the left half
    assert_hand_placed_scene(monkeypatch, hand_placed_spec(paved=0.75), hand_placed_draws(surface=[0.5, 0.5, 0.5]),
                             log)
    assert (log[1]["paved"], log[1]["lighter"]) == (True, False)


# A camera looking straight down (pitch 90°) with f = 16 px on 32 px (fov 90°): column c sees the ground at
# x = h (c + 0.5 − 16) / 16 and row r at z = h (15.5 − r) / 16 (behind the camera below the middle), exactly in
# float32 for the heights below, so that a pixel can lie exactly on a boundary.

def straight_down(height, **kwargs):
    return hand_placed_spec(90.0, 90.0, height=height, **kwargs)


def test_lane_lines_end_exactly_at_their_half_width(monkeypatch):
    # h = 32 · 0.08 (in float32): the pixels next to the middle see x = ±0.08 m, the row above it z = 0.08 m; on a
    # road 0.5 m wide the edge lines' centre is the centre line: both lines are 0.16 m wide (|lateral| < 0.08 m),
    # so that nothing is painted, though every dash and line reaches those pixels' edges
    h = 32 * float(torch.tensor(0.08))
    log = []
    _, mask = assert_hand_placed_scene(monkeypatch, straight_down(h, width=0.5), hand_placed_draws(), log)
    assert not log[0]["marks"].any()
    assert mask[:, 14:18].all() and mask.sum() == 4 * 32  # |x| = 0.08 or 0.24 m: road


def test_a_dash_ends_exactly_3_m_into_each_9_m(monkeypatch):
    # h = 96 m, the road's centre 3 m right of the camera (offset draw 0: −0.75 · 8 / 2 m): column 16 sees the centre
    # line (x = 3 m); row 14 sees z = 9 m, where a dash starts, row 15 z = 3 m, where it has ended (a dash covers
    # remainder(z, 9 m) < 3 m)
    log = []
    _, mask = assert_hand_placed_scene(monkeypatch, straight_down(96.0, width=8.0, offset=0.75),
                                       hand_placed_draws(offset=0.0), log)
    assert bool(log[0]["marks"][14, 16]) and not bool(log[0]["marks"][15, 16])
    assert mask[14, 16] == 1 and mask[15, 16] == 1


def test_lane_markings_exactly_120_m_away_are_not_painted(monkeypatch):
    # h = 3840 m: row 15 sees z = 120 m, column 16 x = 120 m; the road's centre 116.25 m right of the camera
    # (offset draw 0: −29.0625 · 8 / 2 m) puts the right edge line's centre (3.75 m out) there: road, not painted
    log = []
    _, mask = assert_hand_placed_scene(monkeypatch, straight_down(3840.0, width=8.0, offset=29.0625),
                                       hand_placed_draws(offset=0.0), log)
    assert mask[15, 16] == 1 and not log[0]["marks"][:16].any()


def test_ground_exactly_400_m_away_is_not_ground(monkeypatch):
    # h = 12800 m: row 15 sees z = 400 m, column 16 x = 400 m, where the road's centre lies (offset draw 0: −100 ·
    # 8 / 2 m): sky there (the sky's lowest colour, times the gain), no road; row 14 (z = 1200 m) as well
    image, mask = assert_hand_placed_scene(monkeypatch, straight_down(12800.0, width=8.0, offset=100.0),
                                           hand_placed_draws(offset=0.0))
    assert mask[:16].sum() == 0
    sky = (torch.tensor([0.85, 0.9, 0.95], dtype=torch.float64) * 0.975 * 255).round() / 255
    assert (image[:, :16] - sky[:, None, None]).abs().max() <= 1 / 255 + 1e-6


def test_a_pixel_on_a_shadows_rim_is_not_shaded(monkeypatch):
    # h = 192 m: column 16 sees x = 6 m, row 14 z = 18 m; a shadow centred at x = 6 m, z = 19.375 m with semi-axes
    # 1 m (x) and 1.375 m (z) has that ground point on its rim ((18 − 19.375) / 1.375 = −1): not inside (< 1), and
    # no other pixel's point is inside it: the scene has no shade
    log = []
    shadow = [0.375, 0.75, 0.0, 0.125, 0.5]  # z 4 + 41 · 0.375, x −12 + 24 · 0.75, 1 + 4 · 0, 1 + 3 · 0.125
    shaded, _ = assert_hand_placed_scene(monkeypatch, straight_down(192.0, shadows=1),
                                         hand_placed_draws(shadows=[shadow]), log)
    plain, _ = assert_hand_placed_scene(monkeypatch, straight_down(192.0), hand_placed_draws(), log)
    assert log[0]["shadows"] == 1 and torch.equal(shaded, plain)
