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
