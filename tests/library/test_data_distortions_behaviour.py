"""stnlib.data.distortions against references written out here (issue 25, mutation run of 2026-12-05):
the time warp as numpy interpolation with border values, the cyclic roll, ink boxes of known pictures,
placement θ as the documented forward map inverted, the affine distortion's pixels against a warp of
the source by its recorded θ, clutter pieces cut from the recorded digits at the recorded places,
elastic and projective draws within their documented ranges, the shape test of projective frames,
every spec's checks with their exact messages, and the draws' statistics (all values reachable)."""

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stnlib.data import distortions as D


def g(seed=0):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- time warp


def timewarp_by_hand(series, s, t, a, b):
    """x_out(t_i) = a · U(s · t_i + τ) + b, t_i on [−1, 1] with the end samples' centres at ±1, border."""
    N, C, L = series.shape
    ti = np.linspace(-1, 1, L)
    out = np.empty((N, C, L))
    for n in range(N):
        pos = (s[n] * ti + t[n] + 1) / 2 * (L - 1)
        for c in range(C):
            out[n, c] = a[n] * np.interp(pos, np.arange(L), series[n, c].numpy()) + b[n]
    return torch.as_tensor(out, dtype=torch.float32)


@pytest.mark.parametrize("spec", [D.TimeWarp(), D.TimeWarp(scale=(0.5, 0.6), shift=0.5, amplitude=(2.0, 3.0), offset=1.0),
                                  D.TimeWarp(scale=(1.5, 2.0), shift=0.0, amplitude=(-1.0, -0.5), offset=0.0)],
                         ids=["default", "zoom-in-shift", "zoom-out-flip"])
def test_the_time_warp_is_interpolation_with_border_values(spec):
    series = torch.randn(6, 2, 30, generator=g(1))
    out, p = D.timewarp(series, spec, g(2))
    torch.testing.assert_close(out, timewarp_by_hand(series, p["scale"].double().numpy(), p["shift"].double().numpy(),
                                                     p["amplitude"].double().numpy(),
                                                     p["offset"].double().numpy()), rtol=0, atol=2e-5)
    assert set(p) == {"scale", "shift", "amplitude", "offset"}
    assert ((p["scale"] >= spec.scale[0]) & (p["scale"] <= spec.scale[1])).all()
    assert ((p["amplitude"] >= spec.amplitude[0]) & (p["amplitude"] <= spec.amplitude[1])).all()
    assert p["shift"].abs().max() <= spec.shift and p["offset"].abs().max() <= spec.offset
    assert p["scale"].dtype == p["amplitude"].dtype == torch.float32


def test_the_time_warp_draws_span_their_ranges():
    out, p = D.timewarp(torch.zeros(400, 1, 8), D.TimeWarp(scale=(0.5, 1.5), shift=0.3, amplitude=(1.0, 2.0), offset=0.4), g(3))
    for key, lo, hi in (("scale", 0.5, 1.5), ("shift", -0.3, 0.3), ("amplitude", 1.0, 2.0), ("offset", -0.4, 0.4)):
        v = p[key]
        assert v.min() < lo + 0.05 * (hi - lo) and v.max() > hi - 0.05 * (hi - lo), key
    torch.testing.assert_close(out[:, 0, 0], p["offset"])  # a zero signal becomes its offset


def test_the_cyclic_warp_rolls_and_scales():
    series = torch.randn(50, 1, 12, generator=g(4))
    out, p = D.timewarp(series, D.TimeWarp(cyclic=True, amplitude=(2.0, 2.0), offset=0.5), g(5))
    assert set(p) == {"roll", "amplitude", "offset"}
    for i in range(50):
        torch.testing.assert_close(out[i], 2.0 * series[i].roll(int(p["roll"][i]), -1) + p["offset"][i])
    assert p["roll"].min() == 0 and p["roll"].max() == 11  # every shift of the outline, both ends
    assert (p["amplitude"] == 2.0).all() and p["offset"].abs().max() <= 0.5


@pytest.mark.parametrize("bad, shape", [(torch.zeros(2, 5), "(2, 5)"), (torch.zeros(2, 1, 5, dtype=torch.long), "(2, 1, 5)"),
                                        ([1.0], "list")], ids=["2d", "integer", "list"])
def test_the_time_warp_names_its_input(bad, shape):
    with pytest.raises(ValueError, match="^" + re.escape(f"series must be a float N×C×L tensor, got {shape}") + "$"):
        D.timewarp(bad, D.TimeWarp(), g())


# ----------------------------------------------------------------------------- ink boxes, placement


def test_ink_box_of_known_pictures():
    x = torch.zeros(4, 2, 6, 8)
    x[0, 1, 2, 3] = 0.5          # one pixel, in the second channel
    x[1, 0, 0, 0] = 1.0          # the top-left corner ...
    x[1, 0, 5, 7] = 1.0          # ... and the bottom-right one
    x[2, 0, 1:3, 5:7] = 1.0      # a 2×2 block
    box = D.ink_box(x)           # x3: no ink, the whole frame
    cx, cy = (8 - 1) / 2, (6 - 1) / 2
    expected = torch.tensor([[3 - 0.5 - cx, 2 - 0.5 - cy, 3 + 0.5 - cx, 2 + 0.5 - cy],
                             [-0.5 - cx, -0.5 - cy, 7.5 - cx, 5.5 - cy],
                             [5 - 0.5 - cx, 1 - 0.5 - cy, 6 + 0.5 - cx, 2 + 0.5 - cy],
                             [-0.5 - cx, -0.5 - cy, 7.5 - cx, 5.5 - cy]])
    torch.testing.assert_close(box, expected)
    assert box.dtype == torch.float32


def test_placement_theta_inverts_the_documented_forward_map():
    angle, scale = torch.tensor([30.0, -75.0, 0.0]), torch.tensor([1.3, 0.7, 1.0])
    shift = torch.tensor([[3.0, -2.0], [0.0, 5.5], [0.0, 0.0]])
    th = D.placement_theta(angle, scale, shift, 28, 42)
    assert th.dtype == torch.float64 and th.shape == (3, 2, 3)
    for i in range(3):
        a = math.radians(float(angle[i]))
        # forward (pixels from the centres, y down): q = scale · R(angle) · p + shift, R counter-clockwise on screen
        R = torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]], dtype=torch.float64)
        p = torch.tensor([4.0, -6.0], dtype=torch.float64)
        q = float(scale[i]) * R @ p + shift[i].double()
        back = th[i, :, :2] @ (q / 21) + th[i, :, 2]  # output normalized → source normalized
        torch.testing.assert_close(back, p / 14)
    torch.testing.assert_close(th[2], torch.tensor([[1.5, 0, 0], [0, 1.5, 0]], dtype=torch.float64))


def test_affine_pixels_are_the_source_warped_by_the_recorded_theta():
    x = torch.zeros(6, 1, 12, 12)
    x[:, 0, 3:9, 5:7] = torch.linspace(0.2, 1.0, 6)[:, None, None]
    x[:, 0, 3, 5:9] = 1.0
    spec = D.Affine(angle=40.0, scale=(0.8, 1.2), shift=2.0, canvas=16)
    out, p = D.affine(x, spec, g(6))
    grid = F.affine_grid(p["theta"], [6, 1, 16, 16], align_corners=False)
    ref = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    torch.testing.assert_close(out, torch.round(ref.clamp(0, 1) * 255) / 255, rtol=0, atol=1 / 255 + 1e-6)
    torch.testing.assert_close(p["theta"], D.placement_theta(p["angle"], p["scale"], p["shift"], 12, 16).float())
    assert set(p) == {"angle", "scale", "shift", "theta"}
    assert p["angle"].abs().max() <= 40 and ((p["scale"] >= 0.8) & (p["scale"] <= 1.2)).all()
    assert p["shift"].abs().max() <= 2.0


def test_affine_draws_span_their_ranges():
    x = torch.zeros(300, 1, 8, 8)
    x[:, :, 3:5, 3:5] = 1.0
    _, p = D.affine(x, D.Affine(angle=60.0, scale=(0.5, 1.5), shift=3.0, canvas=16), g(7))
    assert p["angle"].min() < -55 and p["angle"].max() > 55
    assert p["scale"].min() < 0.55 and p["scale"].max() > 1.45
    assert p["shift"].min() < -2.8 and p["shift"].max() > 2.8
    assert (p["shift"][:, 0] != p["shift"][:, 1]).all()  # each axis drawn on its own


def test_placed_digits_use_the_whole_room_of_the_canvas():
    x = torch.zeros(300, 1, 8, 8)
    x[:, :, 2:6, 2:6] = 1.0  # a 4×4 ink box: at scale 1 and angle 0 it can move ±(12 − 2) px in a 24 canvas
    out, p = D.affine(x, D.Affine(place=True, canvas=24), g(8))
    assert p["shift"].abs().max() <= 10 + 1e-6 and p["shift"].min() < -9.5 and p["shift"].max() > 9.5
    assert out[:, :, 0, :].sum() + out[:, :, :, 0].sum() + out[:, :, -1, :].sum() + out[:, :, :, -1].sum() >= 0
    assert (out.flatten(1).sum(1) > 15).all()  # every digit whole on the canvas


def test_affine_canvas_checks_name_the_numbers():
    x = torch.zeros(2, 1, 10, 10)
    x[:, :, 1:9, 1:9] = 1.0  # 8 px of ink
    with pytest.raises(ValueError, match="^" + re.escape(
            "canvas 6 is smaller than the digit (7.2 px at the smallest scale 0.9); use a canvas of at least 8") + "$"):
        D.affine(x, D.Affine(scale=(0.9, 1.0), canvas=6), g())
    assert D.affine(x, D.Affine(scale=(0.9, 1.0), canvas=8), g())[0].shape == (2, 1, 8, 8)
    with pytest.raises(ValueError, match="^" + re.escape("canvas 7 is smaller than digit 0 after scaling by 1.000 and turning by 0.0°")):
        D.affine(x, D.Affine(place=True, canvas=7), g())


def test_inside_redraws_until_the_digit_fits_and_says_when_it_cannot():
    x = torch.zeros(40, 1, 8, 8)
    x[:, :, 1:7, 1:7] = 1.0
    def ring_ink(p):  # the most ink a pixel within 2 px outside the 10×10 canvas shows
        th = D.placement_theta(p["angle"], p["scale"], p["shift"], 8, 14).float()
        v = F.grid_sample(x, F.affine_grid(th, [40, 1, 14, 14], align_corners=False), align_corners=False)
        v[:, :, 2:-2, 2:-2] = 0
        return v.flatten(1).amax(1)

    _, kept = D.affine(x, D.Affine(shift=4.0, canvas=10, inside=True), g(9))
    _, free = D.affine(x, D.Affine(shift=4.0, canvas=10, inside=False), g(9))
    assert (ring_ink(kept) <= D.CUT).all() and (ring_ink(free) > D.CUT).any()
    with pytest.raises(ValueError, match="^" + re.escape(
            "affine distortion: after 200 draws 1 digit(s) still do not fit in the 6×6 canvas; use a larger "
            "canvas, milder ranges, or inside=False to allow cut-off digits") + "$"):
        # 6 px of ink, half a pixel off the 7×7 source's centre: fits the canvas by size, never by place
        off = torch.zeros(1, 1, 7, 7)
        off[:, :, :6, :6] = 1.0
        D.affine(off, D.Affine(canvas=6, inside=True), g(10))


# ----------------------------------------------------------------------------- clutter


def test_clutter_pieces_are_the_recorded_crops_at_the_recorded_places():
    torch.manual_seed(0)
    x = (torch.rand(5, 1, 12, 12, generator=g(11)) * 255).round() / 255
    spec = D.Clutter(canvas=20, pieces=3, piece=3, crop_margin=2)
    out, p = D.clutter(x, spec, g(12))
    ref = torch.zeros(5, 1, 20, 20)
    for n in range(5):
        for k in range(3):
            src, (cx, cy), (ax, ay) = int(p["clutter_source"][n, k]), p["clutter_crop"][n, k].tolist(), p["clutter_position"][n, k].tolist()
            assert src != n  # never the sample's own digit
            assert 2 <= cx <= 12 - 2 - 3 and 2 <= cy <= 12 - 2 - 3
            piece = x[src, :, cy:cy + 3, cx:cx + 3]
            ref[n, :, ay:ay + 3, ax:ax + 3] = torch.maximum(ref[n, :, ay:ay + 3, ax:ax + 3], piece)
        px, py = p["position"][n].tolist()
        ref[n, :, py:py + 12, px:px + 12] = torch.maximum(ref[n, :, py:py + 12, px:px + 12], x[n])
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(p["shift"], p["position"].float() + 6 - 10)
    assert set(p) == {"shift", "position", "clutter_source", "clutter_crop", "clutter_position"}


def test_clutter_positions_and_crops_reach_both_ends():
    x = torch.rand(400, 1, 10, 10, generator=g(13))
    _, p = D.clutter(x, D.Clutter(canvas=14, pieces=2, piece=2, crop_margin=1), g(14))
    assert p["position"].min() == 0 and p["position"].max() == 4
    assert p["clutter_crop"].min() == 1 and p["clutter_crop"].max() == 10 - 1 - 2
    assert p["clutter_position"].min() == 0 and p["clutter_position"].max() == 12
    assert p["clutter_source"].min() == 0 and p["clutter_source"].max() == 399


def test_clutter_from_a_pool():
    x = torch.zeros(3, 1, 8, 8)
    pool = torch.ones(2, 1, 8, 8)
    out, p = D.clutter(x, D.Clutter(canvas=10, pieces=1, piece=2, crop_margin=0), g(15), pool=pool)
    assert p["clutter_source"].max() <= 1 and (out.flatten(1).sum(1) == 4).all()  # one 2×2 piece of ones each
    one = D.clutter(x[:1], D.Clutter(canvas=10, pieces=2, piece=2, crop_margin=0), g(16))[1]
    assert (one["clutter_source"] == 0).all()  # a pool of one digit: its own is all there is


@pytest.mark.parametrize("kwargs, message", [
    ({"canvas": 7}, "canvas 7 is smaller than the digit (8×8)"),
    ({"piece": 5, "crop_margin": 2}, "piece 5 does not fit in the 4 px central crop region (crop_margin 2)"),
])
def test_clutter_errors(kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        D.clutter(torch.zeros(2, 1, 8, 8), D.Clutter(**{"canvas": 12, "pieces": 1, "piece": 2, **kwargs}), g())


# ----------------------------------------------------------------------------- elastic, projective


def test_elastic_displacements_span_their_range_and_move_the_pixels():
    x = torch.zeros(200, 1, 12, 12)
    x[:, :, 4:8, 4:8] = 1.0
    out, p = D.elastic(x, D.Elastic(grid=3, displacement=2.0, canvas=12, inside=False), g(17))
    d = p["displacement"]
    assert d.shape == (200, 9, 2) and d.abs().max() <= 2.0 and d.min() < -1.9 and d.max() > 1.9
    assert p["control_points"].shape == (200, 9, 2) and p["control_points"].abs().max() == pytest.approx(1.0)
    assert not torch.equal(out, x)
    still, _ = D.elastic(x[:2], D.Elastic(grid=3, displacement=0.0, canvas=12, inside=False), g(18))
    torch.testing.assert_close(still, x[:2])


def test_projective_corners_within_their_truncation_and_frames_well_shaped():
    x = torch.zeros(100, 1, 12, 12)
    x[:, :, 3:9, 3:9] = 1.0
    spec = D.Projective(scale=(0.8, 0.9), corner_std=2.0, truncate=1.5, min_angle=20.0, canvas=12, inside=False)
    out, p = D.projective(x, spec, g(19))
    assert set(p) == {"scale", "corners", "theta"} and p["theta"].shape == (100, 3, 3)
    assert p["corners"].abs().max() <= 3.0 + 1e-6 and p["corners"].abs().max() > 2.9
    assert ((p["scale"] >= 0.8) & (p["scale"] <= 0.9)).all()
    frame = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], dtype=torch.float64) * 6
    quads = p["scale"].double()[:, None, None] * frame + p["corners"].double()
    assert D._well_shaped(quads, 20.0).all()


def test_well_shaped_frames():
    square = torch.tensor([[[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]], dtype=torch.float64)
    assert D._well_shaped(square, 80.0).tolist() == [True] and D._well_shaped(square.flip(1), 80.0).tolist() == [True]
    kite = torch.tensor([[[-1.0, -1.0], [1.0, -1.0], [0.0, -0.9], [-1.0, 1.0]]], dtype=torch.float64)  # not convex
    assert D._well_shaped(kite, 0.0).tolist() == [False]
    flat = torch.tensor([[[-1.0, 0.0], [0.0, -0.1], [1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    # its corner at (0, −0.1) turns by about 11°: convex, but an interior angle of 169°
    assert D._well_shaped(flat, 0.0).tolist() == [True] and D._well_shaped(flat, 15.0).tolist() == [False]
    assert D._well_shaped(flat, 10.0).tolist() == [True]


# ----------------------------------------------------------------------------- spec checks


@pytest.mark.parametrize("make, message", [
    (lambda: D.Affine(angle=-1.0), "angle must be a number >= 0, got -1.0"),
    (lambda: D.Affine(angle=float("inf")), "angle must be finite, got inf"),
    (lambda: D.Affine(angle=True), "angle must be a number >= 0, got True"),
    (lambda: D.Affine(scale=(0.0, 1.0)), "scale must be > 0, got (0.0, 1.0)"),
    (lambda: D.Affine(scale=(1.2, 1.0)), "scale must have low <= high, got (1.2, 1.0)"),
    (lambda: D.Affine(scale=1.0), "scale must be a pair (low, high) of numbers, got 1.0"),
    (lambda: D.Affine(scale=(1.0, "2")), "scale must be a pair (low, high) of numbers, got (1.0, '2')"),
    (lambda: D.Affine(scale=(1.0, 1.0, 1.0)), "scale must be a pair (low, high) of numbers, got (1.0, 1.0, 1.0)"),
    (lambda: D.Affine(shift=-0.1), "shift must be a number >= 0, got -0.1"),
    (lambda: D.Affine(place=1), "place must be True or False, got 1"),
    (lambda: D.Affine(inside="yes"), "inside must be True or False, got 'yes'"),
    (lambda: D.Affine(canvas=0), "canvas must be a positive int, got 0"),
    (lambda: D.Affine(canvas=True), "canvas must be a positive int, got True"),
    (lambda: D.Affine(canvas=28.0), "canvas must be a positive int, got 28.0"),
    (lambda: D.Projective(scale=(-1.0, 1.0)), "scale must be > 0, got (-1.0, 1.0)"),
    (lambda: D.Projective(corner_std=-1.0), "corner_std must be a number >= 0, got -1.0"),
    (lambda: D.Projective(truncate=-2.0), "truncate must be a number >= 0, got -2.0"),
    (lambda: D.Projective(min_angle=90.0), "min_angle must be in [0, 90) degrees, got 90.0"),
    (lambda: D.Projective(min_angle=-1.0), "min_angle must be in [0, 90) degrees, got -1.0"),
    (lambda: D.Projective(canvas=-3), "canvas must be a positive int, got -3"),
    (lambda: D.Projective(inside=0), "inside must be True or False, got 0"),
    (lambda: D.Elastic(grid=1), "grid must be an int >= 2, got 1"),
    (lambda: D.Elastic(grid=3.0), "grid must be an int >= 2, got 3.0"),
    (lambda: D.Elastic(displacement=-1.0), "displacement must be a number >= 0, got -1.0"),
    (lambda: D.Elastic(canvas=0), "canvas must be a positive int, got 0"),
    (lambda: D.Elastic(inside=None), "inside must be True or False, got None"),
    (lambda: D.Clutter(canvas=0), "canvas must be a positive int, got 0"),
    (lambda: D.Clutter(pieces=-1), "pieces must be an int >= 0, got -1"),
    (lambda: D.Clutter(pieces=2.0), "pieces must be an int >= 0, got 2.0"),
    (lambda: D.Clutter(piece=0), "piece must be a positive int, got 0"),
    (lambda: D.Clutter(piece=61, canvas=60), "piece (61) must not exceed the canvas (60)"),
    (lambda: D.Clutter(crop_margin=-1), "crop_margin must be an int >= 0, got -1"),
    (lambda: D.Clutter(crop_margin=1.0), "crop_margin must be an int >= 0, got 1.0"),
    (lambda: D.TimeWarp(scale=(0.0, 1.0)), "scale must be > 0, got (0.0, 1.0)"),
    (lambda: D.TimeWarp(shift=-0.1), "shift must be a number >= 0, got -0.1"),
    (lambda: D.TimeWarp(amplitude=(2.0, 1.0)), "amplitude must have low <= high, got (2.0, 1.0)"),
    (lambda: D.TimeWarp(offset=-0.2), "offset must be a number >= 0, got -0.2"),
    (lambda: D.TimeWarp(cyclic="no"), "cyclic must be True or False, got 'no'"),
], ids=lambda v: None)
def test_spec_checks_name_the_field_and_the_value(make, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        make()


def test_the_edges_of_the_specs_are_accepted():
    assert D.Affine(angle=0, scale=(1, 1), shift=0, canvas=1).scale == (1.0, 1.0)
    assert isinstance(D.Affine(scale=[1, 2]).scale[0], float)
    assert D.Projective(min_angle=0.0, corner_std=0.0, truncate=0.0).min_angle == 0.0
    assert D.Elastic(grid=2, displacement=0.0).grid == 2
    assert D.Clutter(pieces=0, piece=60, canvas=60, crop_margin=0).piece == 60
    assert D.TimeWarp(amplitude=(-1.0, -1.0), shift=0, offset=0).amplitude == (-1.0, -1.0)


def test_defaults_are_the_documented_ones():
    assert (D.Affine().angle, D.Affine().scale, D.Affine().shift, D.Affine().place, D.Affine().canvas,
            D.Affine().inside) == (0.0, (1.0, 1.0), 0.0, False, 28, False)
    p = D.Projective()
    assert (p.scale, p.corner_std, p.truncate, p.min_angle, p.canvas, p.inside) == ((0.75, 1.0), 5.0, 2.0, 30.0, 28, True)
    e = D.Elastic()
    assert (e.grid, e.displacement, e.canvas, e.inside) == (4, 3.0, 28, True)
    c = D.Clutter()
    assert (c.canvas, c.pieces, c.piece, c.crop_margin) == (60, 6, 6, 4)
    t = D.TimeWarp()
    assert (t.scale, t.shift, t.amplitude, t.offset, t.cyclic) == ((0.8, 1.2), 0.2, (0.8, 1.2), 0.2, False)


@pytest.mark.parametrize("bad, got", [(torch.zeros(2, 8, 8), "(2, 8, 8)"), (torch.zeros(2, 1, 8, 8, dtype=torch.uint8), "(2, 1, 8, 8)"),
                                      ("x", "str")], ids=["3d", "bytes", "string"])
def test_images_must_be_float_n_c_h_w(bad, got):
    with pytest.raises(ValueError, match="^" + re.escape(f"images must be a float N×C×H×W tensor in [0, 1], got {got}") + "$"):
        D.affine(bad, D.Affine(), g())


def test_images_must_be_square():
    with pytest.raises(ValueError, match="^" + re.escape("images must be square (H = W), got shape (2, 1, 8, 9)") + "$"):
        D.elastic(torch.zeros(2, 1, 8, 9), D.Elastic(), g())


def test_distort_dispatches_on_the_spec_and_passes_keywords():
    x = torch.zeros(2, 1, 8, 8)
    x[:, :, 3:5, 3:5] = 1.0
    for spec, fn in ((D.Affine(canvas=10), D.affine), (D.Elastic(canvas=8, inside=False), D.elastic),
                     (D.Projective(canvas=8, inside=False), D.projective)):
        a, pa = D.distort(x, spec, g(20))
        b, pb = fn(x, spec, g(20))
        assert torch.equal(a, b) and pa.keys() == pb.keys()
    pool = torch.ones(1, 1, 8, 8)
    out, _ = D.distort(x, D.Clutter(canvas=10, pieces=1, piece=2, crop_margin=0), g(21), pool=pool)
    assert out.sum() > x.sum()
    s = torch.randn(2, 1, 9)
    torch.testing.assert_close(D.distort(s, D.TimeWarp(), g(22))[0], D.timewarp(s, D.TimeWarp(), g(22))[0])
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown distortion spec 'RTS'; expected one of Affine, Projective, Elastic, Clutter, TimeWarp") + "$"):
        D.distort(x, "RTS", g())


# ----------------------------------------------------------------------------- second pass: draws, shapes, edges


def test_the_draws_are_the_documented_ones():
    # a seed fixes every sample (cached sets are compared bit for bit): the order and precision of the draws
    x = torch.zeros(5, 1, 8, 8)
    x[:, :, 3:5, 3:5] = 1.0
    _, p = D.affine(x, D.Affine(angle=30.0, scale=(0.8, 1.2), shift=2.0, canvas=12), g(30))
    ref = g(30)
    angle = -30 + 60 * torch.rand(5, generator=ref, dtype=torch.float64)
    scale = 0.8 + 0.4 * torch.rand(5, generator=ref, dtype=torch.float64)
    shift = (torch.rand(5, 2, generator=ref, dtype=torch.float64) * 2 - 1) * 2.0
    assert torch.equal(p["angle"], angle.float()) and torch.equal(p["scale"], scale.float())
    assert torch.equal(p["shift"], shift.float())
    _, e = D.elastic(x, D.Elastic(grid=2, displacement=1.5, canvas=8, inside=False), g(31))
    d = (torch.rand(5, 4, 2, generator=g(31), dtype=torch.float64) * 2 - 1) * 1.5
    assert torch.equal(e["displacement"], d.float())
    s = torch.randn(4, 1, 10, generator=g(0))
    _, t = D.timewarp(s, D.TimeWarp(), g(32))
    ref = g(32)
    amp = (0.8 + 0.4 * torch.rand(4, generator=ref, dtype=torch.float64)).float()
    off = ((torch.rand(4, generator=ref, dtype=torch.float64) * 2 - 1) * 0.2).float()
    sc = (0.8 + 0.4 * torch.rand(4, generator=ref, dtype=torch.float64)).float()
    sh = ((torch.rand(4, generator=ref, dtype=torch.float64) * 2 - 1) * 0.2).float()
    assert [torch.equal(t[k], v) for k, v in (("amplitude", amp), ("offset", off), ("scale", sc), ("shift", sh))] == [True] * 4
    _, c = D.timewarp(s, D.TimeWarp(cyclic=True), g(33))
    ref = g(33)
    torch.rand(4, generator=ref, dtype=torch.float64)
    torch.rand(4, generator=ref, dtype=torch.float64)
    assert torch.equal(c["roll"], torch.randint(0, 10, (4,), generator=ref))


def test_clutter_draws_are_the_documented_ones():
    x = torch.rand(6, 1, 10, 10, generator=g(34))
    _, p = D.clutter(x, D.Clutter(canvas=16, pieces=2, piece=3, crop_margin=1), g(35))
    ref = g(35)
    pos = torch.stack([torch.randint(0, 7, (6,), generator=ref), torch.randint(0, 7, (6,), generator=ref)], 1)
    src = torch.randint(0, 6, (6, 2), generator=ref)
    own = torch.arange(6)[:, None]
    src = torch.where(src == own, (src + 1) % 6, src)
    assert torch.equal(p["position"], pos) and torch.equal(p["clutter_source"], src)


def test_placement_theta_is_computed_in_double_precision():
    angle, scale = torch.tensor([33.3]), torch.tensor([1.1])  # float32 inputs
    shift = torch.tensor([[1.7, -2.3]])
    th = D.placement_theta(angle, scale, shift, 28, 40)
    a = math.radians(float(angle.double()))
    s = float(scale.double())
    ref = torch.tensor([[math.cos(a) / s, -math.sin(a) / s], [math.sin(a) / s, math.cos(a) / s]], dtype=torch.float64)
    torch.testing.assert_close(th[0, :, :2], ref * 40 / 28, rtol=0, atol=1e-12)


def test_rotated_extent_of_an_asymmetric_box():
    box = torch.tensor([[-3.0, -1.0, 5.0, 2.0]], dtype=torch.float64)
    for angle, scale in ((30.0, 1.5), (-70.0, 0.8), (0.0, 2.0)):
        a = math.radians(angle)
        corners = [(x, y) for x in (-3.0, 5.0) for y in (-1.0, 2.0)]
        xs = [scale * (math.cos(a) * x + math.sin(a) * y) for x, y in corners]
        ys = [scale * (-math.sin(a) * x + math.cos(a) * y) for x, y in corners]
        got = D._rotated_extent(box, torch.tensor([angle], dtype=torch.float64), torch.tensor([scale], dtype=torch.float64))
        torch.testing.assert_close(got[0], torch.tensor([min(xs), min(ys), max(xs), max(ys)], dtype=torch.float64))


def test_quantize_clamps_to_0_1_and_rounds_to_8_bits():
    x = torch.tensor([-0.5, 0.2, 0.5004, 1.7])
    assert torch.equal(D._quantize_(x.clone()), torch.tensor([0.0, 51 / 255, 128 / 255, 1.0]))


def test_range_checks_and_conversions():
    assert D._range((0, 1), "x", low=0) == (0.0, 1.0)  # the lowest value allowed is allowed
    with pytest.raises(ValueError, match="^" + re.escape("x must be >= 0, got (-1, 1)") + "$"):
        D._range((-1, 1), "x", low=0)
    assert D.Projective(scale=[1, 1]).scale == (1.0, 1.0)
    assert D.TimeWarp(scale=[1, 2], amplitude=[1, 1]).scale == (1.0, 2.0)
    assert D.TimeWarp(scale=[1, 2], amplitude=[1, 1]).amplitude == (1.0, 1.0)


def test_a_digit_that_exactly_fits_is_placed_without_room():
    x = torch.zeros(20, 1, 8, 8)
    x[:, :, 1:7, 1:7] = 1.0  # 6 px of ink in a 6 px canvas: no room to move
    out, p = D.affine(x, D.Affine(place=True, canvas=6), g(36))
    assert torch.equal(p["shift"], torch.zeros(20, 2)) and (out.flatten(1).sum(1) == 36).all()
    fits = torch.zeros(1, 1, 8, 8)
    fits[:, :, 0:8, 0:8] = 1.0
    assert D.affine(fits, D.Affine(place=True, canvas=8), g())[1]["shift"].abs().max() == 0


def test_the_placement_error_says_what_the_digit_needs():
    x = torch.zeros(2, 1, 10, 10)
    x[:, :, 1:9, 1:9] = 1.0
    with pytest.raises(ValueError, match="^" + re.escape(
            "canvas 7 is smaller than digit 0 after scaling by 1.000 and turning by 0.0° (needs 8.0 px); use a larger "
            "canvas or a smaller scale range than (1.0, 1.0)") + "$"):
        D.affine(x, D.Affine(place=True, canvas=7), g())


def test_projective_pixels_are_the_source_warped_by_the_recorded_homography():
    from stnlib import grids

    x = torch.zeros(6, 1, 12, 12)
    x[:, 0, 3:9, 4:8] = torch.linspace(0.3, 1.0, 6)[:, None, None]
    out, p = D.projective(x, D.Projective(corner_std=1.5, canvas=16, inside=False), g(37))
    grid = grids.projective_grid(p["theta"], (16, 16), align_corners=False)
    ref = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    torch.testing.assert_close(out, torch.round(ref.clamp(0, 1) * 255) / 255, rtol=0, atol=1 / 255 + 1e-6)
    assert not torch.equal(p["corners"][0], p["corners"][1])  # every image its own corners


def test_projective_that_always_folds_says_so():
    with pytest.raises(ValueError, match="^" + re.escape(
            "corner_std 1000.0 folds the image too often; use a smaller value") + "$"):
        D.projective(torch.zeros(2, 1, 8, 8), D.Projective(corner_std=1000.0, truncate=1000.0, min_angle=89.0), g())


@pytest.mark.parametrize("fn, spec, name", [
    (D.projective, D.Projective(scale=(1.0, 1.0), corner_std=0.0, canvas=6, inside=True), "projective distortion"),
    (D.elastic, D.Elastic(displacement=0.0, canvas=6, inside=True), "elastic distortion"),
], ids=["projective", "elastic"])
def test_inside_redraws_for_projective_and_elastic_and_names_them(fn, spec, name):
    off = torch.zeros(1, 1, 7, 7)
    off[:, :, :6, :6] = 1.0  # fits by size, never by place
    with pytest.raises(ValueError, match="^" + re.escape(
            f"{name}: after 200 draws 1 digit(s) still do not fit in the 6×6 canvas; use a larger canvas, milder "
            "ranges, or inside=False to allow cut-off digits") + "$"):
        fn(off, spec, g())


def test_elastic_without_displacement_pastes_the_source_at_its_size():
    x = torch.rand(3, 1, 10, 10, generator=g(38))
    still, _ = D.elastic(x, D.Elastic(grid=3, displacement=0.0, canvas=14, inside=False), g())
    placed, _ = D.affine(x, D.Affine(canvas=14), g())
    torch.testing.assert_close(still, placed, rtol=0, atol=1 / 255 + 1e-6)


def test_well_shaped_against_interior_angles():
    gen = g(39)
    quads = torch.randn(2000, 4, 2, generator=gen, dtype=torch.float64) * 0.1 + torch.tensor(
        [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], dtype=torch.float64) * 0.15
    quads[::2] = quads[::2].flip(1)  # both orientations
    got = D._well_shaped(quads, 30.0)

    def ok(q):
        turns = []
        for i in range(4):
            e1, e2 = q[(i + 1) % 4] - q[i], q[(i + 2) % 4] - q[(i + 1) % 4]
            cross = float(e1[0] * e2[1] - e1[1] * e2[0])
            turns.append(cross / (float(e1.norm()) * float(e2.norm())))
        lim = math.sin(math.radians(30.0))
        return all(t >= lim for t in turns) or all(t <= -lim for t in turns)

    expected = torch.tensor([ok(q) for q in quads])
    assert torch.equal(got, expected) and 100 < int(expected.sum()) < 1900


def test_clutter_edges_and_pools():
    x = torch.rand(2, 1, 8, 8, generator=g(40))
    assert D.clutter(x, D.Clutter(canvas=8, pieces=1, piece=2, crop_margin=0), g())[0].shape == (2, 1, 8, 8)
    assert D.clutter(x, D.Clutter(canvas=12, pieces=1, piece=4, crop_margin=2), g())[0].shape == (2, 1, 12, 12)
    assert D.clutter(x, D.Clutter(canvas=12, pieces=1, piece=3, crop_margin=2), g())[0].shape == (2, 1, 12, 12)
    _, two = D.clutter(x, D.Clutter(canvas=10, pieces=20, piece=2, crop_margin=0), g(41))
    assert (two["clutter_source"] == torch.tensor([[1], [0]])).all()  # two digits: always the other one
    pool = torch.rand(3, 1, 8, 8, generator=g(42))
    _, p = D.clutter(torch.rand(3, 1, 8, 8), D.Clutter(canvas=10, pieces=30, piece=2, crop_margin=0), g(43), pool=pool)
    assert (p["clutter_source"] == torch.arange(3)[:, None]).any()  # a pool's row may be the sample's own index


def test_clutter_positions_reach_both_ends_on_each_axis():
    x = torch.rand(400, 1, 10, 10, generator=g(13))
    _, p = D.clutter(x, D.Clutter(canvas=14, pieces=2, piece=2, crop_margin=1), g(14))
    for k in (0, 1):
        assert p["position"][:, k].min() == 0 and p["position"][:, k].max() == 4
        assert p["clutter_crop"][..., k].min() == 1 and p["clutter_crop"][..., k].max() == 7
        assert p["clutter_position"][..., k].min() == 0 and p["clutter_position"][..., k].max() == 12


def test_the_placement_draws_and_the_needed_size_of_a_wide_digit():
    x = torch.zeros(4, 1, 10, 10)
    x[:, :, 2:8, 1:9] = 1.0  # 8 px wide, 6 px high
    _, p = D.affine(x, D.Affine(angle=20.0, scale=(0.9, 1.0), place=True, canvas=16), g(44))
    ref = g(44)
    angle = -20 + 40 * torch.rand(4, generator=ref, dtype=torch.float64)
    scale = 0.9 + 0.1 * torch.rand(4, generator=ref, dtype=torch.float64)
    u = torch.rand(4, 2, generator=ref, dtype=torch.float64)
    ext = D._rotated_extent(D.ink_box(x).double(), angle, scale)
    low, high = -8 - ext[:, :2], 8 - ext[:, 2:]
    assert torch.equal(p["shift"], (low + u * (high - low)).float())
    with pytest.raises(ValueError, match="^" + re.escape(
            "canvas 7 is smaller than digit 0 after scaling by 1.000 and turning by 0.0° (needs 8.0 px); use a larger "
            "canvas or a smaller scale range than (1.0, 1.0)") + "$"):
        D.affine(x, D.Affine(place=True, canvas=7), g())


def test_the_projective_theta_maps_the_moved_frame_onto_the_source_frame():
    def apply_homography(H, pts):  # N×3×3 on N×K×2 points, then the perspective division
        h = torch.cat([pts, torch.ones_like(pts[..., :1])], -1) @ H.transpose(1, 2)
        return h[..., :2] / h[..., 2:]

    x = torch.zeros(5, 1, 12, 12)
    x[:, :, 3:9, 3:9] = 1.0
    _, p = D.projective(x, D.Projective(scale=(0.8, 0.9), corner_std=1.0, canvas=16, inside=False), g(45))
    frame = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], dtype=torch.float64)
    moved = (p["scale"].double()[:, None, None] * frame * 6 + p["corners"].double()) / 8  # canvas-normalized
    torch.testing.assert_close(apply_homography(p["theta"].double(), moved), frame.expand(5, 4, 2), rtol=0, atol=1e-5)


def test_the_projective_shape_test_is_made_on_the_moved_frame(monkeypatch):
    # torch.randn answers the generator's first draw with chosen corner moves (in units of corner_std = 6 px), then
    # no move at all. On the 28 px frame (corners ±14 px, scale 1): image 0's top-left corner moved 10.5 px out
    # along the diagonal, to (−24.5, −24.5), leaves interior angles of 59.5°, 105°, 90°, 105°: kept. Image 1's moved
    # 10.5 px in, to (−3.5, −3.5), opens that corner to 152° > 180° − 30°: drawn again, and the redraw does not
    # move. A shape test of scale · frame − noise would swap the two verdicts, one of scale / frame + noise (a
    # frame 0.14 px wide) would reject image 0's draw.
    randn = torch.randn
    gen = g(46)
    first = torch.zeros(2, 4, 2, dtype=torch.float64)
    first[0, 0], first[1, 0] = -1.75, 1.75
    calls = []

    def scripted_randn(*size, generator=None, **kwargs):
        if generator is not gen:
            return randn(*size, generator=generator, **kwargs)
        calls.append(size)
        assert kwargs == {"dtype": torch.float64}
        return first.clone() if len(calls) == 1 else torch.zeros(*size, dtype=torch.float64)

    monkeypatch.setattr(torch, "randn", scripted_randn)
    x = torch.zeros(2, 1, 28, 28)
    x[:, :, 6:22, 9:19] = torch.arange(30.0, 250.0, 22.0) / 255  # 8-bit levels
    spec = D.Projective(scale=(1.0, 1.0), corner_std=6.0, truncate=2.0, min_angle=30.0, canvas=28, inside=False)
    out, p = D.projective(x, spec, gen)
    assert calls == [(2, 4, 2), (1, 4, 2)]  # one redraw, of image 1 only
    expected = torch.zeros(2, 4, 2)
    expected[0, 0] = -10.5
    assert torch.equal(p["corners"], expected) and torch.equal(p["scale"], torch.ones(2))
    frame = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], dtype=torch.float64)
    moved = (frame * 14 + expected[0].double()) / 14
    h = torch.cat([moved, torch.ones(4, 1, dtype=torch.float64)], -1) @ p["theta"][0].double().T
    torch.testing.assert_close(h[:, :2] / h[:, 2:], frame, rtol=0, atol=1e-5)  # the moved frame shows the source's
    torch.testing.assert_close(p["theta"][1], torch.eye(3), rtol=0, atol=1e-6)  # the redraw: the source as it is
    torch.testing.assert_close(out[1], x[1], rtol=0, atol=1e-6)
    assert not torch.equal(out[0], x[0])


def test_well_shaped_limits_are_inclusive():
    # interior angles in [min_angle, 180° − min_angle], ends included: at min_angle 0 a frame with a straight angle
    # (the top edge's middle point on the line between its neighbours: a turn of exactly 0) is accepted, in both
    # orientations; the same frame with the middle point 0.01 past that line (a reflex corner) is not
    straight = torch.tensor([[[-1.0, -1.0], [0.0, -1.0], [1.0, -1.0], [0.0, 1.0]]], dtype=torch.float64)
    bent = straight.clone()
    bent[0, 1, 1] = -0.99
    for quad in (straight, straight.flip(1)):
        assert D._well_shaped(quad, 0.0).tolist() == [True]
    for quad in (bent, bent.flip(1)):
        assert D._well_shaped(quad, 0.0).tolist() == [False]


def test_ink_just_outside_the_canvas_at_the_cut_level_is_not_a_cut():
    # a 16 px source shown at its pixel size on a 12 px canvas (projective, no corner moves, scale 1): the 2 px ring
    # just outside the canvas samples the source's outer 2 px exactly; a frame of exactly 0.25 there is not "more
    # ink than" the cut level and the draw is kept; a frame of 0.25 + 1/255 is a cut, made again until it gives up
    x = torch.full((1, 1, 16, 16), 0.25)
    x[:, :, 2:14, 2:14] = torch.arange(144.0).view(12, 12) / 255
    spec = D.Projective(scale=(1.0, 1.0), corner_std=0.0, canvas=12, inside=True)
    out, _ = D.projective(x, spec, g(47))
    assert torch.equal(out, x[:, :, 2:14, 2:14])
    x[:, :, :2] = 0.25 + 1 / 255
    with pytest.raises(ValueError, match="^projective distortion: after 200 draws 1 digit"):
        D.projective(x, spec, g(47))
