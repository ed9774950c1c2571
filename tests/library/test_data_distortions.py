"""stnlib.data.distortions: shapes, ranges, seeds, and parameters that agree with the pixels."""

import math

import numpy as np
import pytest
import torch

from stnlib.data import catalog as C
from stnlib.data import datasets
from stnlib.data import distortions as D


@pytest.fixture(scope="module")
def digits():
    images, labels = datasets.raw_digits("test")
    return datasets.as_float(images[:400]), labels[:400]


def g(seed=0):
    return torch.Generator().manual_seed(seed)


def blobs(points, size=28):
    """Images with a 2×2 bright square centred at each (x, y) offset from the image centre."""
    x = torch.zeros(len(points), 1, size, size)
    for i, pts in enumerate(points):
        for px, py in pts:
            c, r = int(size / 2 + px - 1), int(size / 2 + py - 1)
            x[i, 0, r:r + 2, c:c + 2] = 1.0
    return x


def centroid(img):
    """Intensity centroid (x, y) of N×1×H×W images, relative to the image centre, in pixels."""
    N, _, H, W = img.shape
    ys, xs = torch.meshgrid(torch.arange(H) - (H - 1) / 2, torch.arange(W) - (W - 1) / 2,
                            indexing="ij")
    m = img[:, 0].sum((1, 2))
    return torch.stack([(img[:, 0] * xs).sum((1, 2)) / m, (img[:, 0] * ys).sum((1, 2)) / m], 1)


SPECS = {"R": C.JADERBERG_R, "RTS": C.JADERBERG_RTS, "P": C.JADERBERG_P, "E": C.JADERBERG_E,
         "TC": C.JADERBERG_TC, "cluttered": C.CLUTTERED_003, "004": C.RTS_WANG}


@pytest.mark.parametrize("name", SPECS)
def test_shape_dtype_range_and_seed(digits, name):
    x, _ = digits
    spec = SPECS[name]
    out, params = D.distort(x, spec, g(1))
    assert out.shape == (len(x), 1, spec.canvas, spec.canvas) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1 and out.max() > 0.9
    assert torch.equal(out * 255, (out * 255).round())  # 8-bit levels
    assert all(len(v) == len(x) for v in params.values())
    again, params2 = D.distort(x, spec, g(1))
    assert torch.equal(out, again)
    assert all(torch.equal(params[k], params2[k]) for k in params)
    other, _ = D.distort(x, spec, g(2))
    assert not torch.equal(out, other)


@pytest.mark.parametrize("name", ["R", "RTS", "004"])
def test_affine_parameters_within_documented_ranges(digits, name):
    spec = SPECS[name]
    _, p = D.affine(digits[0], spec, g())
    assert p["angle"].abs().max() <= spec.angle + 1e-4
    assert p["angle"].abs().max() > 0.8 * spec.angle  # the range is used, not just its centre
    assert p["scale"].min() >= spec.scale[0] - 1e-6 and p["scale"].max() <= spec.scale[1] + 1e-6
    if not spec.place:
        assert p["shift"].abs().max() <= spec.shift + 1e-5


def test_affine_metadata_recovers_angle_scale_and_shift_from_pixels():
    # two blobs: their midpoint gives the shift, the vector between them angle and scale
    src = blobs([[(-6, 0), (6, 0)]] * 64)
    out, p = D.affine(src, D.Affine(angle=170, scale=(0.8, 1.2), shift=5, canvas=40), g(3))
    left = out.clone()
    right = out.clone()
    # split the two blobs by the sign along the applied direction
    a = torch.deg2rad(p["angle"])
    H = out.shape[-1]
    ys, xs = torch.meshgrid(torch.arange(H) - (H - 1) / 2, torch.arange(H) - (H - 1) / 2,
                            indexing="ij")
    along = (xs - p["shift"][:, 0, None, None]) * torch.cos(a)[:, None, None] \
        - (ys - p["shift"][:, 1, None, None]) * torch.sin(a)[:, None, None]
    left[:, 0][along > 0] = 0
    right[:, 0][along <= 0] = 0
    cl, cr = centroid(left), centroid(right)
    mid, vec = (cl + cr) / 2, cr - cl
    assert torch.allclose(mid, p["shift"], atol=0.35)
    angle = torch.rad2deg(torch.atan2(-vec[:, 1], vec[:, 0]))  # y down: counter-clockwise
    assert torch.allclose(angle, p["angle"], atol=2.0)
    assert torch.allclose(vec.norm(dim=1) / 12, p["scale"], atol=0.04)


def test_real_digit_centroids_follow_the_metadata(digits):
    x, _ = digits
    out, p = D.affine(x, C.JADERBERG_RTS, g(4))
    c_src = centroid(x)
    a = torch.deg2rad(p["angle"])
    cos, sin = torch.cos(a), torch.sin(a)
    pred = p["scale"][:, None] * torch.stack([cos * c_src[:, 0] + sin * c_src[:, 1],
                                              -sin * c_src[:, 0] + cos * c_src[:, 1]], 1)
    pred = pred + p["shift"]
    assert (centroid(out) - pred).norm(dim=1).max() < 0.6


def test_rts_places_digits_fully_inside_the_canvas(digits):
    x, _ = digits
    out, _ = D.affine(x, C.JADERBERG_RTS, g(5))
    ratio = out.sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert ratio.min() > 0.3  # never mostly outside
    spec = D.Affine(angle=45, scale=(0.7, 1.2), place=True, canvas=42)
    out, p = D.affine(x, spec, g(6))
    ext = p["shift"].abs().max()
    assert ext <= 21


def test_inside_redraws_instead_of_cutting(digits):
    x, _ = digits
    spec = D.Affine(angle=45, scale=(1.2, 1.3), shift=4, canvas=28, inside=True)
    out, p = D.affine(x, spec, g(7))
    # recompute with one extra ring of canvas: no ink may lie there
    wide = D.Affine(angle=45, scale=(1.2, 1.3), shift=4, canvas=28)
    th = D.placement_theta(p["angle"], p["scale"], p["shift"], 28, 32).float()
    from stnlib import grids, sampler

    v = sampler.sample(x, grids.affine_grid(th, (32, 32), align_corners=False),
                       align_corners=False)
    v[..., 2:-2, 2:-2] = 0
    assert v.amax() <= D.CUT
    out2, _ = D.affine(x, wide, g(7))
    assert not torch.equal(out, out2)


def test_projective_metadata_maps_a_point_where_the_pixels_are():
    src = blobs([[(3, -4)]] * 32)
    out, p = D.projective(src, C.JADERBERG_P, g(8))
    assert p["scale"].min() >= 0.75 and p["scale"].max() <= 1.0
    lim = C.JADERBERG_P.truncate * C.JADERBERG_P.corner_std
    assert p["corners"].abs().max() <= lim + 1e-5
    fwd = torch.linalg.inv(p["theta"].double())  # source normalized → output normalized
    q = torch.tensor([3 / 14, -4 / 14, 1.0], dtype=torch.float64)
    h = fwd @ q
    pred = h[:, :2] / h[:, 2:] * 14
    assert (centroid(out) - pred.float()).norm(dim=1).max() < 0.6


def test_elastic_zero_displacement_is_the_identity(digits):
    x, _ = digits
    out, p = D.elastic(x, D.Elastic(displacement=0.0), g())
    assert torch.allclose(out, x, atol=1 / 255)
    out, p = D.elastic(x, C.JADERBERG_E, g(9))
    assert p["displacement"].shape == (len(x), 16, 2)
    assert p["displacement"].abs().max() <= 3.0 and p["displacement"].abs().max() > 2.5
    assert (out - x).abs().amax() > 0.5


def test_clutter_copies_the_digit_exactly_and_keeps_pieces_inside(digits):
    x, _ = digits
    spec = C.JADERBERG_TC
    out, p = D.clutter(x, spec, g(10))
    for i in range(0, len(x), 37):
        cx, cy = p["position"][i].tolist()
        window = out[i, :, cy:cy + 28, cx:cx + 28]
        assert (window >= x[i] - 1e-6).all()  # digit pixels survive (max compositing)
    assert p["position"].min() >= 0 and p["position"].max() <= 60 - 28
    assert p["clutter_position"].max() <= 60 - 6
    assert (p["clutter_source"] != torch.arange(len(x))[:, None]).all()
    assert torch.allclose(p["shift"], p["position"].float() + 14 - 30)


@pytest.mark.parametrize("make, match", [
    (lambda: D.Affine(scale=(0.0, 1.0)), "scale must be > 0"),
    (lambda: D.Affine(scale=(1.2, 0.8)), "low <= high"),
    (lambda: D.Affine(angle=-5), "angle must be a number >= 0"),
    (lambda: D.Affine(canvas=0), "canvas must be a positive int"),
    (lambda: D.Projective(scale=(-1, 1)), "scale must be > 0"),
    (lambda: D.Elastic(grid=1), "grid must be an int >= 2"),
    (lambda: D.Clutter(piece=70, canvas=60), "piece"),
    (lambda: D.TimeWarp(scale=(0, 1)), "scale must be > 0"),
])
def test_impossible_specs_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_canvas_smaller_than_the_digit_is_an_error(digits):
    x, _ = digits
    with pytest.raises(ValueError, match="canvas 16 is smaller than digit"):
        D.affine(x, D.Affine(place=True, canvas=16), g())
    with pytest.raises(ValueError, match="canvas 12 is smaller than the digit"):
        D.affine(x, D.Affine(canvas=12), g())
    with pytest.raises(ValueError, match="canvas 20 is smaller than the digit"):
        D.clutter(x, D.Clutter(canvas=20), g())
    with pytest.raises(ValueError, match="images must be a float N×C×H×W"):
        D.affine(x[:, 0], C.JADERBERG_R, g())
    with pytest.raises(ValueError, match="unknown distortion spec"):
        D.distort(x, "RTS", g())


def test_timewarp_identity_and_cyclic_roll():
    s = torch.randn(8, 1, 50)
    out, p = D.timewarp(s, D.TimeWarp(scale=(1, 1), shift=0, amplitude=(1, 1), offset=0), g())
    assert torch.allclose(out, s, atol=1e-5)
    out, p = D.timewarp(s, C.ROTATE_OUTLINE, g(1))
    for i in range(8):
        assert torch.allclose(out[i], s[i].roll(int(p["roll"][i]), -1))
    out, p = D.timewarp(s, C.WARP_SERIES, g(2))
    assert p["scale"].min() >= 0.8 and p["scale"].max() <= 1.2
    assert p["shift"].abs().max() <= 0.2 and p["offset"].abs().max() <= 0.2


@pytest.mark.slow
def test_seventy_thousand_rts_digits_take_seconds():
    import time

    x = torch.cat([datasets.as_float(datasets.raw_digits(s)[0]) for s in ("train", "test")])
    start = time.perf_counter()
    out, _ = D.affine(x, C.JADERBERG_RTS, g())
    took = time.perf_counter() - start
    assert out.shape == (70000, 1, 42, 42)
    assert took < 60, f"70k RTS digits took {took:.1f} s"
    print(f"70k RTS digits: {took:.1f} s ({math.ceil(70000 / took)} digits/s)")


# ------------------------------------------------ issue 25: loaders and generators, pixels vs parameters

def test_clutter_positions_reach_the_upper_end_and_the_pixels_are_the_recorded_pieces(digits):
    x, _ = digits
    spec = D.Clutter(canvas=31, pieces=3, piece=6)  # the digit's frame can start at 0, 1, 2 or 3
    out, p = D.clutter(x, spec, g(3))
    assert p["position"].min() == 0 and p["position"].max() == 31 - 28  # both ends are drawn
    assert p["clutter_position"].min() == 0 and p["clutter_position"].max() == 31 - 6
    lo, hi = spec.crop_margin, 28 - spec.crop_margin - 6
    assert p["clutter_crop"].min() == lo and p["clutter_crop"].max() == hi
    # the canvas, rebuilt by hand from the recorded parameters, is the generated one
    for i in range(0, len(x), 7):
        canvas = torch.zeros(1, 31, 31)
        for k in range(3):
            (cx, cy), (ax, ay) = p["clutter_crop"][i, k].tolist(), p["clutter_position"][i, k].tolist()
            piece = x[p["clutter_source"][i, k], :, cy:cy + 6, cx:cx + 6]
            canvas[:, ay:ay + 6, ax:ax + 6] = torch.maximum(canvas[:, ay:ay + 6, ax:ax + 6], piece)
        px, py = p["position"][i].tolist()
        canvas[:, py:py + 28, px:px + 28] = torch.maximum(canvas[:, py:py + 28, px:px + 28], x[i])
        torch.testing.assert_close(out[i], canvas, rtol=0, atol=1e-6)


def test_timewarp_reads_border_values_outside_and_interpolates_inside():
    torch.manual_seed(0)
    L = 50
    s = torch.randn(16, 1, L, dtype=torch.float64)
    spec = D.TimeWarp(scale=(0.6, 1.8), shift=0.4, amplitude=(0.5, 2.0), offset=0.5)
    out, p = D.timewarp(s, spec, g(4))
    t = torch.linspace(-1, 1, L, dtype=torch.float64)
    outside = 0
    for i in range(16):
        pos = ((p["scale"][i].double() * t + p["shift"][i].double() + 1) / 2 * (L - 1)).numpy()
        outside += ((pos < 0) | (pos > L - 1)).sum()
        ref = np.interp(pos, np.arange(L), s[i, 0].numpy())  # np.interp clamps: border padding
        expected = p["amplitude"][i].double() * torch.from_numpy(ref) + p["offset"][i].double()
        torch.testing.assert_close(out[i, 0], expected, rtol=0, atol=1e-4)  # θ drawn in float32
    assert outside > 20  # the border was read


@pytest.mark.parametrize("name", ["mnist-two-digits", "mnist-addition"])
def test_pair_pixels_are_the_recorded_source_digits_at_the_recorded_theta(name):
    # issue 25 (which image goes with which label): each half / channel of a pair is its recorded
    # source digit warped by its recorded θ, and that digit's label is the one the sum is made of
    import torch.nn.functional as F

    from stnlib import data
    from stnlib.grids import affine_grid

    s = data.load(name, "test", n=64, seed=3, cache=False)
    images, labels = datasets.raw_digits("test")
    idx, digits = s.params["index"], s.params["digits"]
    assert torch.equal(labels[idx], digits) and torch.equal(s.labels, digits.sum(1))
    assert (idx[:, 0] != idx[:, 1]).all()
    C = s.images.shape[-2]
    parts = (s.images[:, :1], s.images[:, 1:]) if name == "mnist-addition" else (
        s.images[..., :C], s.images[..., C:])

    def warp(k, which):
        src = datasets.as_float(images[idx[:, which]])
        grid = affine_grid(s.params["theta"][:, k], (C, C), align_corners=False)
        return F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def corr(a, b):
        a, b = a.flatten(1) - a.flatten(1).mean(1, keepdim=True), b.flatten(1) - b.flatten(1).mean(1, keepdim=True)
        return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))

    for k in (0, 1):
        own, other = warp(k, k), warp(k, 1 - k)
        assert (parts[k] - own).abs().max() < 1.5 / 255  # the same pixels, to 8-bit rounding
        assert corr(parts[k], own).min() > 0.99 and corr(parts[k], other).mean() < 0.5


@pytest.mark.parametrize("name", ["mnist-r", "mnist-rts", "mnist-rts-wang", "mnist-p", "mnist-e"])
def test_single_digit_pixels_are_the_recorded_source_digit_at_the_recorded_warp(name):
    # issue 25 (which image goes with which label), for the one-digit sets: each image is its
    # recorded source digit resampled at the recorded warp, and its label is that digit's label
    import torch.nn.functional as F

    from stnlib import data
    from stnlib.grids import affine_grid, projective_grid, tps_grid

    s = data.load(name, "test", n=64, seed=3, cache=False)
    images, labels = datasets.raw_digits("test")
    idx = s.params["index"]
    assert torch.equal(s.labels, labels[idx])
    side = s.images.shape[-1]
    src = datasets.as_float(images[idx])
    if name == "mnist-p":
        grid = projective_grid(s.params["theta"].float(), (side, side), align_corners=False)
    elif name == "mnist-e":
        disp = s.params["displacement"].float() / (src.shape[-1] / 2)  # pixels -> normalized
        grid = tps_grid(disp, s.params["control_points"][0].float(), (side, side), align_corners=False)
    else:
        grid = affine_grid(s.params["theta"].float(), (side, side), align_corners=False)
    own = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    other = own.roll(1, 0)  # the next sample's digit at the next sample's warp

    def corr(a, b):
        a, b = a.flatten(1) - a.flatten(1).mean(1, keepdim=True), b.flatten(1) - b.flatten(1).mean(1, keepdim=True)
        return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))

    assert corr(s.images, own).min() > 0.98
    assert corr(s.images, other).mean() < 0.5
    if name != "mnist-e":  # the same pixels, to 8-bit rounding
        assert (s.images - own).abs().max() < 1.5 / 255
