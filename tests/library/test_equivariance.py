"""stnlib.equivariance: the misalignment measure (zero for the identity and for integer
translations of a convolution, positive for rotations of an asymmetric filter), the map geometry,
θ on a map, the angle read-out against known θ, and the orthogonal fit."""

import math

import pytest
import torch
from torch import nn

from stnlib import data
from stnlib import equivariance as eq
from stnlib.models.placement import PlacementNet
from stnlib.theta import affine_theta, invert


def _conv(kernel, padding=0):
    conv = nn.Conv2d(1, kernel.shape[0], kernel.shape[-1], padding=padding, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(kernel)
    return conv


def _blob_images(n=3, size=24, margin=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    f = torch.zeros(n, 1, size, size, dtype=torch.float64)
    f[:, :, margin:size - margin, margin:size - margin] = torch.rand(
        n, 1, size - 2 * margin, size - 2 * margin, generator=g, dtype=torch.float64)
    return f


ASYMMETRIC = torch.tensor([[[[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [0.0, 0.0, 1.0]]]], dtype=torch.float64)


def test_rotation_shift_and_theta_on_map():
    th = eq.theta_on_map(eq.rotation_shift(30.0, (2.0, -1.0), size=28), (0.0, 1.0, 28))
    torch.testing.assert_close(th, affine_theta(30.0, translation=(4 / 28, -2 / 28), dtype=torch.float64))
    # a shift by 2 input pixels is a shift by 1 pixel of a stride-2 map
    th = eq.theta_on_map(eq.rotation_shift(0.0, (2.0, 0.0), size=28), (4.5, 2.0, 10))
    torch.testing.assert_close(th, affine_theta(translation=(2 / 10, 0.0), dtype=torch.float64))


def test_map_geometry_of_the_paper_network():
    net = PlacementNet()
    # conv 9 (valid) → pool 2: pixel j at 4 + 0.5 + 2j; conv 7 → pool 2: 4.5 + 2·3 + 1 + 4j
    assert eq.map_geometry(net.blocks, 28) == [(0.0, 1.0, 28), (4.5, 2.0, 10), (11.5, 4.0, 2)]
    assert eq.map_geometry([nn.Conv2d(1, 2, 5, padding=2)], 16) == [(0.0, 1.0, 16), (0.0, 1.0, 16)]
    with pytest.raises(ValueError, match="Conv2d, MaxPool2d, AvgPool2d"):
        eq.map_geometry([nn.BatchNorm2d(2)], 16)


def test_misalignment_is_zero_for_the_identity():
    net = PlacementNet().double()
    f = _blob_images(size=28)
    m = eq.misalignment(net.feature_maps, f, eq.rotation_shift(0.0), eq.map_geometry(net.blocks, 28))
    assert m.shape == (3, 3)
    assert m.abs().max() < 1e-12


@pytest.mark.parametrize("shift", [(1, 0), (0, 2), (-3, 2)])
def test_misalignment_is_zero_for_an_integer_translation_of_a_convolution(shift):
    conv = _conv(torch.randn(4, 1, 5, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    f = _blob_images()
    m = eq.misalignment(lambda x: [conv(x)], f, eq.rotation_shift(0.0, shift, size=24),
                       eq.map_geometry([conv], 24))
    assert m.abs().max() < 1e-12


def test_pooling_breaks_odd_translations_but_not_even_ones():
    pool = nn.Sequential(_conv(ASYMMETRIC), nn.MaxPool2d(2))
    f = _blob_images(seed=3)
    geo = eq.map_geometry([pool], 24)
    even = eq.misalignment(lambda x: [pool(x)], f, eq.rotation_shift(0.0, (2, 0), size=24), geo)
    odd = eq.misalignment(lambda x: [pool(x)], f, eq.rotation_shift(0.0, (1, 0), size=24), geo)
    assert even.abs().max() < 1e-12
    assert (odd[1] > 0.05).all()


def test_misalignment_is_positive_for_a_rotation_of_an_asymmetric_filter():
    f = _blob_images(size=25, margin=6)
    for padding, conv in ((1, _conv(ASYMMETRIC, padding=1)), (0, _conv(ASYMMETRIC))):
        geo = eq.map_geometry([conv], 25)
        m = eq.misalignment(lambda x, c=conv: [c(x)], f, eq.rotation_shift(90.0, size=25), geo)
        assert m[0].abs().max() < 1e-12  # a quarter turn of the input is exact on the pixel grid
        assert (m[1] > 0.3).all(), padding
    # ... and zero for a filter with the symmetry of the rotation
    sym = _conv(torch.tensor([[[[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]]], dtype=torch.float64))
    m = eq.misalignment(lambda x: [sym(x)], f, eq.rotation_shift(90.0, size=25), eq.map_geometry([sym], 25))
    assert m.abs().max() < 1e-12


def test_misalignment_errors_and_empty_masks():
    conv = _conv(ASYMMETRIC)
    with pytest.raises(ValueError, match="pass geometry=map_geometry"):
        eq.misalignment(lambda x: [conv(x)], _blob_images(), eq.rotation_shift(0.0, size=24))
    with pytest.raises(ValueError, match="N×C×H×W with H = W"):
        eq.misalignment(lambda x: [conv(x)], torch.rand(2, 1, 24, 20), eq.rotation_shift(0.0, size=24))
    net = PlacementNet().double()  # block 2 gives 2×2 maps: a 2-pixel shift of them leaves nothing
    m = eq.misalignment(net.feature_maps, _blob_images(size=28), eq.rotation_shift(0.0, (8, 0)),
                       eq.map_geometry(net.blocks, 28))
    assert torch.isnan(m[2]).all() and not torch.isnan(m[:2]).any()
    # a 45° turn of a 2×2 map still reads on it (within its outer edges): measurable
    m = eq.misalignment(net.feature_maps, _blob_images(size=28), eq.rotation_shift(45.0),
                       eq.map_geometry(net.blocks, 28))
    assert not torch.isnan(m).any() and (m[1:] > 0.05).all()


@pytest.mark.parametrize("angle", [-170.0, -90.0, -30.0, 0.0, 12.5, 60.0, 135.0])
def test_predicted_angle_against_known_theta(angle):
    # a transformer that puts a digit turned by `angle` upright turns its input by -angle
    theta = affine_theta(-angle, scale=1.3, translation=(0.1, -0.2), dtype=torch.float64)
    assert eq.predicted_angle(theta).item() == pytest.approx(angle, abs=1e-9)
    batch = affine_theta(-torch.tensor([angle, 10.0], dtype=torch.float64), dtype=torch.float64)
    torch.testing.assert_close(eq.predicted_angle(batch), torch.tensor([angle, 10.0], dtype=torch.float64))
    # the authors' read-out: atan2 of the inverted θ's first row (their sign convention)
    inv = invert(theta)
    assert math.degrees(math.atan2(-inv[1, 0].item(), inv[0, 0].item())) == pytest.approx(-angle, abs=1e-9)


def test_predicted_angle_tracks_the_data_rotation():
    # the data's rotation by +a is undone by warping with affine_theta(a)⁻¹ = affine_theta(-a)
    r = data.load("mnist-rot-finnveden", "test", n=50, cache=False)
    theta = invert(affine_theta(r.params["angle"].double(), dtype=torch.float64))
    torch.testing.assert_close(eq.predicted_angle(theta), r.params["angle"].double())


def test_orthogonal_fit():
    x = torch.linspace(-90, 90, 101, dtype=torch.float64)
    fit = eq.orthogonal_fit(x, 0.8 * x + 5)
    assert fit["slope"] == pytest.approx(0.8) and fit["intercept"] == pytest.approx(5.0)
    assert fit["r"] == pytest.approx(1.0) and fit["spread"] == pytest.approx(0.0, abs=1e-9)
    flat = eq.orthogonal_fit(x, torch.zeros_like(x) + torch.tensor([1.0, -1.0]).repeat(51)[:101])
    assert abs(flat["slope"]) < 0.01 and flat["spread"] > 0.9
    with pytest.raises(ValueError, match="same number"):
        eq.orthogonal_fit(x, x[:5])




@pytest.mark.parametrize("angle", [90.0, 180.0, -90.0])
def test_pointwise_layers_are_equivariant_to_quarter_turns(angle):
    # a quarter turn maps pixel centres onto pixel centres: no resampling, so only the layer counts
    f = _blob_images(size=20, margin=5)
    conv1x1 = _conv(torch.tensor([[[[2.0]]], [[[-0.5]]]], dtype=torch.float64))  # 1×1, two channels
    for layer in (nn.ReLU(), nn.Tanh(), conv1x1, nn.Sequential(conv1x1, nn.Sigmoid())):
        m = eq.misalignment(lambda x, g=layer: [g(x - 0.3)], f, eq.rotation_shift(angle, size=20))
        assert m.shape == (2, 3)
        assert m.abs().max() < 1e-12, layer


def test_a_1x1_convolution_adds_nothing_to_the_resampling_floor_at_any_angle():
    # bilinear resampling at 30° is not exact (row 0 > 0), and a linear pointwise layer keeps that
    # floor unchanged: ‖w(T⁻¹T f − f)‖ / ‖w f‖ = ‖T⁻¹T f − f‖ / ‖f‖
    f = _blob_images(size=24, margin=6)
    conv1x1 = _conv(torch.tensor([[[[-3.0]]]], dtype=torch.float64))
    m = eq.misalignment(lambda x: [conv1x1(x)], f, eq.rotation_shift(30.0, size=24))
    assert (m[0] > 1e-3).all()
    torch.testing.assert_close(m[1], m[0])


def test_predicted_angle_refuses_what_is_not_affine():
    with pytest.raises(ValueError, match="affine"):
        eq.predicted_angle(torch.eye(3))
