"""stnlib.models.unet against the U-Net of Abou Chacra & Zelek written out here (issue 25, mutation run
of 2026-12-05): every block as conv → batch norm → ReLU in torch.nn.functional on the module's own
weights, the down / bottom / up wiring, the transformer at Down p−1 with a fixed non-identity θ (sampled
by hand with grid_sample, with the padding and align_corners asked for), the decoder at Up p−1 and its
hole fill, the localization net's size, the defaults, names, and every error message exactly."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib.decoder import scatter_decode
from stnlib.models import unet as U

THETA = torch.tensor([[0.8, -0.2, 0.15], [0.25, 0.9, -0.1]], dtype=torch.float64)


def cbr(block: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """conv 3×3 'same' (no bias) → batch norm (batch statistics, as in training) → ReLU."""
    conv, bn, _ = block
    assert conv.bias is None and conv.kernel_size == (3, 3) and conv.padding == (1, 1)
    h = F.conv2d(x, conv.weight, padding=1)
    return F.relu(F.batch_norm(h, None, None, bn.weight, bn.bias, training=True, eps=bn.eps))


def unet_by_hand(net: U.UNet, x: torch.Tensor, theta=None, padding_mode="border", align=False):
    skips, U_map = [], None
    for k, block in enumerate(net.down):
        h = cbr(block.c1, x)
        if k == net.level:
            U_map = h
            grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(h.shape), align_corners=align)
            h = F.grid_sample(h, grid, mode="bilinear", padding_mode=padding_mode, align_corners=align)
        h = cbr(block.c2, h)
        skips.append(h)
        x = F.max_pool2d(h, 2)
    x = cbr(net.bottom[1], cbr(net.bottom[0], x))
    for k in range(net.depth - 2, -1, -1):
        up = net.up[k]
        t = F.conv_transpose2d(x, up.tc1.weight, up.tc1.bias, stride=2)
        x = cbr(up.tc2, torch.cat([t, skips[k]], dim=1))
        if k == net.level and net.decoder is not None:
            fill = U_map if net.hole_fill == "encoder" else x
            grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=align)
            x = scatter_decode(x, grid, tuple(x.shape[2:]), align_corners=align, skip=fill)
        x = cbr(up.tc3, x)
    return F.conv2d(x, net.head.weight, net.head.bias)


def fixed(net: U.UNet) -> U.UNet:
    head = net.transformer.loc[0].head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(THETA.flatten())
    return net


X = torch.rand(2, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(3))


def make(depth=3, **kw):
    torch.manual_seed(0)
    return U.UNet(depth, base=2, in_size=16, **kw).double()


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_the_plain_unet_is_the_wiring_written_out(depth):
    net = make(depth, n_classes=3)
    torch.testing.assert_close(net(X), unet_by_hand(net, X))
    assert net.widths == tuple(2 * 2 ** k for k in range(depth - 1))
    assert net(X).shape == (2, 3, 16, 16) and net.last_theta is None


@pytest.mark.parametrize("depth, position", [(3, 1), (3, 2), (4, 2), (4, 3)])
@pytest.mark.parametrize("hole_fill", ["encoder", "dtn"])
def test_transformer_and_decoder_at_position_with_a_fixed_theta(depth, position, hole_fill):
    net = fixed(make(depth, position=position, hole_fill=hole_fill))
    assert net.level == position - 1
    torch.testing.assert_close(net(X), unet_by_hand(net, X, THETA))
    torch.testing.assert_close(net.last_theta, THETA.expand(2, 2, 3))


@pytest.mark.parametrize("padding_mode, align", [("zeros", False), ("reflection", True), ("border", True)])
def test_the_samplers_options_reach_the_transformer_and_the_decoder(padding_mode, align):
    net = fixed(make(3, position=1, padding_mode=padding_mode, align_corners=align))
    torch.testing.assert_close(net(X), unet_by_hand(net, X, THETA, padding_mode, align))
    assert net.decoder.align_corners == align


def test_without_the_decoder_the_transformed_features_go_on():
    net = fixed(make(3, position=2, decoder=False))
    assert net.decoder is None
    torch.testing.assert_close(net(X), unet_by_hand(net, X, THETA))


def test_transformed_returns_the_warped_c1_features_and_u_on_request():
    net = fixed(make(3, position=2, padding_mode="zeros"))
    U_map = cbr(net.down[1].c1, F.max_pool2d(cbr(net.down[0].c2, cbr(net.down[0].c1, X)), 2))
    grid = F.affine_grid(THETA.expand(2, 2, 3), list(U_map.shape), align_corners=False)
    V = F.grid_sample(U_map, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    got_v, got_theta = net.transformed(X)
    torch.testing.assert_close(got_v, V)
    torch.testing.assert_close(got_theta, THETA.expand(2, 2, 3))
    got_u, got_v2, _ = net.transformed(X, with_input=True)
    torch.testing.assert_close(got_u, U_map)
    torch.testing.assert_close(got_v2, V)
    torch.testing.assert_close(net.sampling_grid(THETA.expand(2, 2, 3)), grid)
    with pytest.raises(TypeError, match="^with_input must be True or False"):
        net.transformed(X, with_input=1)


def test_sampling_grid_of_tps_and_align_corners():
    net = make(3, position=1, transform="tps", align_corners=True)
    _, theta = net.transformed(X)  # the identity control points at initialization
    theta = theta.detach().clone()
    theta[:, 0, 0] += 0.3
    expected = net.transformer.generator(theta, (16, 16), align_corners=True)
    torch.testing.assert_close(net.sampling_grid(theta), expected)
    assert net.sampling_grid(theta).shape == (2, 16, 16, 2)


def test_defaults():
    net = U.UNet()
    assert (net.depth, net.in_channels, net.n_classes, net.base, net.in_size) == (4, 3, 2, 64, 256)
    assert net.widths == (64, 128, 256) and net.transformer is None and net.decoder is None
    assert net.head.out_channels == 2 and net.head.kernel_size == (1, 1)
    st_net = U.UNet(4, base=2, in_size=64, position=2)
    st = st_net.transformer
    assert (st.transform, st.padding_mode, st.align_corners, st.kernel) == ("affine", "border", False, "bilinear")
    assert st_net.hole_fill == "encoder" and st_net.decoder is not None and st_net.tps_points is None
    body = st.loc[0].body
    convs = [m for m in body if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [20, 20] and convs[0].in_channels == 4
    linears = [m for m in body if isinstance(m, nn.Linear)]
    assert linears[-1].out_features == 50 and st.loc[0].head.in_features == 50
    assert any(isinstance(m, nn.BatchNorm2d) for m in body)
    # the 32×32 map of Down 1 is max-pooled by 2 first, so the convolutions run at 16×16
    assert isinstance(body[0], nn.MaxPool2d) and body[0].kernel_size == 2


@pytest.mark.parametrize("in_size, position, pool", [(16, 1, None), (32, 1, 2), (64, 1, 4), (64, 2, 2),
                                                     (48, 1, 3), (96, 1, 6), (136, 1, 9), (272, 2, 9)])
def test_the_localization_net_pools_its_map_to_at_most_16(in_size, position, pool):
    net = U.UNet(4, base=2, in_size=in_size, position=position, loc_channels=3, loc_hidden=7)
    body = net.transformer.loc[0].body
    first = body[0]
    assert (first.kernel_size if isinstance(first, nn.MaxPool2d) else None) == pool
    assert [m.out_channels for m in body if isinstance(m, nn.Conv2d)] == [3, 3]
    assert [m.out_features for m in body if isinstance(m, nn.Linear)] == [7]
    assert net.transformer.loc[0].head.in_features == 7


@pytest.mark.parametrize("in_size, position, points", [(16, 1, 2), (32, 1, 4), (64, 1, 8), (64, 2, 4),
                                                       (128, 3, 4)])
def test_tps_control_points_default_to_the_map_side_over_8(in_size, position, points):
    net = U.UNet(4, base=2, in_size=in_size, position=position, transform="tps")
    assert net.tps_points == points and net.transformer.tps_points == points
    assert net.decoder.generator.n_params == net.transformer.generator.n_params == 2 * points**2
    assert U.UNet(4, base=2, in_size=64, position=1, transform="tps", tps_points=3).tps_points == 3


def test_names_and_repr():
    assert make(3, position=1).name == "U-Net D=3, ST at 1"
    assert make(3, position=2, transform="tps").name == "U-Net D=3, ST at 2 TPS"
    assert make(3, position=1, decoder=False).name == "U-Net D=3, ST at 1 (no decoder)"
    assert "name='U-Net D=3', in_size=16, widths=(2, 4)" in repr(make(3))


@pytest.mark.parametrize("kwargs, message", [
    ({"depth": 1}, "depth must be an int >= 2, got 1"),
    ({"depth": True}, "depth must be an int >= 2, got True"),
    ({"depth": 2.0}, "depth must be an int >= 2, got 2.0"),
    ({"in_channels": 0}, "in_channels must be an int >= 1, got 0"),
    ({"n_classes": 0}, "n_classes must be an int >= 1, got 0"),
    ({"base": 0}, "base must be an int >= 1, got 0"),
    ({"in_size": 0}, "in_size must be an int >= 1, got 0"),
    ({"in_size": 20}, "in_size must be a multiple of 2^(depth-1) = 8 (depth 4 pools 3 times), got 20"),
    ({"position": 0}, "position must be None (no transformer) or an int from 1 to depth - 1 = 3, got 0"),
    ({"position": 4}, "position must be None (no transformer) or an int from 1 to depth - 1 = 3, got 4"),
    ({"position": True}, "position must be None (no transformer) or an int from 1 to depth - 1 = 3, got True"),
    ({"position": 1.0}, "position must be None (no transformer) or an int from 1 to depth - 1 = 3, got 1.0"),
    ({"position": 1, "transform": "tps", "tps_points": 1}, "tps_points must be an int >= 2, got 1"),
    ({"position": 1, "loc_channels": 0}, "loc_channels must be an int >= 1, got 0"),
    ({"position": 1, "loc_hidden": 0}, "loc_hidden must be an int >= 1, got 0"),
])
def test_construction_errors(kwargs, message):
    kwargs = {"depth": 4, "base": 2, "in_size": 32, **kwargs}
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        U.UNet(**kwargs)


def test_the_edges_that_are_accepted():
    assert U.UNet(2, base=1, in_size=2, in_channels=1, n_classes=1).depth == 2
    assert U.UNet(4, base=2, in_size=32, position=3).level == 2
    assert U.UNet(4, base=2, in_size=32, position=1).level == 0


def test_errors_of_a_unet_without_transformer_and_of_bad_input():
    net = make(3)
    for call in (lambda: net.transformed(X), lambda: net.sampling_grid(THETA[None])):
        with pytest.raises(ValueError, match="^" + re.escape("this UNet has no spatial transformer (position=None)") + "$"):
            call()
    with pytest.raises(ValueError, match=re.escape("x must be N×3×16×16, got shape (2, 3, 16, 8)")):
        net(X[..., :8])
    with pytest.raises(ValueError, match=re.escape("x must be N×3×16×16, got shape (2, 2, 16, 16)")):
        make(3, position=1).transformed(X[:, :2])


def test_conv_bn_relu_is_what_it_says():
    torch.manual_seed(0)
    block = U.conv_bn_relu(2, 5).double()
    x = torch.randn(3, 2, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(block(x), cbr(block, x))
    assert block[0].out_channels == 5 and block[1].num_features == 5


@pytest.mark.parametrize("kwargs, error, message", [
    ({"position": 1, "transform": "projective"}, ValueError,
     "unknown transform 'projective'; expected one of 'affine', 'tps'"),
    ({"position": 1, "hole_fill": "zeros"}, ValueError, "unknown hole_fill 'zeros'; expected one of 'encoder', 'dtn'"),
    ({"position": 1, "decoder": 1}, TypeError, "decoder must be True or False (pass it explicitly), got 1"),
])
def test_choice_and_flag_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        U.UNet(4, base=2, in_size=32, **kwargs)


def test_a_three_dimensional_input_is_named_with_its_layout():
    with pytest.raises(ValueError, match="^" + re.escape("x must be a 4-D tensor N×C×H×W, got shape (3, 16, 16)") + "$"):
        make(3)(X[0])
