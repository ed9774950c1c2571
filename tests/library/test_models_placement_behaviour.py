"""stnlib.models.placement against lesson 07's networks written out with torch.nn.functional on the
modules' own weights (issue 25, mutation run of 2026-12-05): every placement with a non-identity θ
(the localization head's weight set to zero, its bias to θ, so the warp is visible), the padding and
align_corners reaching the sampler, the localization net reading the map after block X, its layers and
normalization, the builders' defaults and parsing, and every error message exactly."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib.models import placement as P

THETA = torch.tensor([[0.7, -0.3, 0.25], [0.35, 0.8, -0.2]], dtype=torch.float64)
SMALL = {"in_size": 12, "channels": (3, 4), "kernels": (3, 3), "loc_hidden": 5}


def block_by_hand(block: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    (conv,) = [m for m in block if isinstance(m, nn.Conv2d)]
    return F.relu(F.max_pool2d(F.conv2d(x, conv.weight, conv.bias), 2))


def head_by_hand(net: P.PlacementNet, x: torch.Tensor) -> torch.Tensor:
    (linear,) = [m for m in net.head if isinstance(m, nn.Linear)]
    return F.linear(x.flatten(1), linear.weight, linear.bias)


def warp_by_hand(x, theta, padding_mode="border", align_corners=False):
    grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=align_corners)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=align_corners)


def fixed(net: P.PlacementNet) -> P.PlacementNet:
    head = net.transformer.loc[0].head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(THETA.flatten())
    return net


def make(placement, depth, **kw):
    torch.manual_seed(0)
    return P.PlacementNet(placement, depth, **{**SMALL, **kw}).double()


X = torch.rand(3, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(1))


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid behavior")  # depth 2's map is 1×1
@pytest.mark.parametrize("depth", [0, 1, 2])
@pytest.mark.parametrize("padding_mode, align", [("border", False), ("zeros", True), ("reflection", False)])
def test_c_x_warps_the_map_after_block_x(depth, padding_mode, align):
    net = fixed(make("C", depth, padding_mode=padding_mode, align_corners=align))
    h = X
    for block in net.blocks[:depth]:
        h = block_by_hand(block, h)
    V = warp_by_hand(h, THETA, padding_mode, align)
    for block in net.blocks[depth:]:
        V = block_by_hand(block, V)
    torch.testing.assert_close(net(X), head_by_hand(net, V))
    V_net, theta = net.transformed(X)
    torch.testing.assert_close(V_net, warp_by_hand(net.features(X, depth), THETA, padding_mode, align))
    torch.testing.assert_close(theta, THETA.expand(3, 2, 3))
    torch.testing.assert_close(net.last_output, V_net)
    torch.testing.assert_close(net.last_theta, THETA.expand(3, 2, 3))


@pytest.mark.parametrize("depth", [1, 2])
def test_sl_x_warps_the_input_and_runs_every_block_on_it(depth):
    net = fixed(make("SL", depth, padding_mode="zeros"))
    V = warp_by_hand(X, THETA, "zeros")
    h = V
    for block in net.blocks:
        h = block_by_hand(block, h)
    torch.testing.assert_close(net(X), head_by_hand(net, h))
    torch.testing.assert_close(net.last_output, V)


def loc_by_hand(net: P.PlacementNet, features: torch.Tensor) -> torch.Tensor:
    loc = net.transformer.loc[0]
    h = features.flatten(1)
    for m in loc.body:
        if isinstance(m, nn.Linear):
            h = F.linear(h, m.weight, m.bias)
        elif isinstance(m, nn.LayerNorm):
            h = F.layer_norm(h, m.normalized_shape, m.weight, m.bias, m.eps)
        elif isinstance(m, nn.ReLU):
            h = F.relu(h)
    return F.linear(h, loc.head.weight, loc.head.bias).view(-1, 2, 3)


@pytest.mark.parametrize("placement, depth", [("C", 0), ("C", 1), ("C", 2), ("SL", 1), ("SL", 2)])
def test_the_localization_net_reads_the_map_after_block_x(placement, depth):
    net = make(placement, depth, loc_norm="layer")
    with torch.no_grad():
        net.transformer.loc[0].head.weight.normal_(0, 0.1)
    h = X
    for block in net.blocks[:depth]:
        h = block_by_hand(block, h)
    _, theta = net.transformed(X)
    torch.testing.assert_close(theta, loc_by_hand(net, h))
    first = net.transformer.loc[0].body[1]
    c, hh, ww = net.shapes[depth]
    assert (first.in_features, first.out_features) == (c * hh * ww, 5)


@pytest.mark.parametrize("norm, kind", [(None, None), ("batch", nn.BatchNorm1d), ("layer", nn.LayerNorm)])
def test_the_localization_body_is_three_layers_with_its_normalization(norm, kind):
    body = P.localization_body(10, hidden=4, norm=norm)
    linears = [m for m in body if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(10, 4), (4, 4), (4, 4)]
    norms = [m for m in body if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm))]
    assert [type(m) for m in norms] == ([kind] * 3 if kind else [])
    assert len(P.localization_body(10, layers=2)) == 1 + 2 * 3  # flatten, then (linear, batch norm, ReLU) × 2
    assert [m.out_features for m in P.localization_body(10) if isinstance(m, nn.Linear)] == [32, 32, 32]
    net = make("C", 1, loc_norm=norm)
    assert [type(m) for m in net.transformer.loc[0].body if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm))] == \
        ([kind] * 3 if kind else [])


def test_the_defaults_are_the_papers_network():
    net = P.PlacementNet()
    assert net.name == "CNN" and net.transformer is None and net.in_size == 28 and net.in_channels == 1
    convs = [b[0] for b in net.blocks]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == \
        [(1, 64, (9, 9), (0, 0)), (64, 64, (7, 7), (0, 0))]
    assert net.shapes == [(1, 28, 28), (64, 10, 10), (64, 2, 2)]
    assert net.head[1].in_features == 256 and net.head[1].out_features == 10
    st = P.PlacementNet("C", 1).transformer
    assert (st.padding_mode, st.align_corners, st.kernel, st.transform, st.in_channels) == \
        ("border", False, "bilinear", "affine", 64)
    assert [type(m) for m in st.loc[0].body][:3] == [nn.Flatten, nn.Linear, nn.BatchNorm1d]
    assert st.loc[0].body[1].out_features == 32
    blocks = P.paper_blocks()
    assert [(b[0].in_channels, b[0].out_channels, b[0].kernel_size) for b in blocks] == [(1, 64, (9, 9)), (64, 64, (7, 7))]
    assert [type(m) for m in blocks[0]] == [nn.Conv2d, nn.MaxPool2d, nn.ReLU]
    assert blocks[0][1].kernel_size == 2


def test_feature_maps_are_the_plain_cnns_blocks():
    net = fixed(make("C", 1))
    maps = net.feature_maps(X)
    h1 = block_by_hand(net.blocks[0], X)
    assert len(maps) == 2
    torch.testing.assert_close(maps[0], h1)
    torch.testing.assert_close(maps[1], block_by_hand(net.blocks[1], h1))
    torch.testing.assert_close(net.features(X, 0), X)
    assert P.feature_shapes(P.paper_blocks(1, (3, 4), (3, 3)), 1, 12) == [(1, 12, 12), (3, 5, 5), (4, 1, 1)]


def test_the_cnn_is_its_blocks_and_head():
    net = make("CNN", 0, n_classes=3)
    h = block_by_hand(net.blocks[1], block_by_hand(net.blocks[0], X))
    torch.testing.assert_close(net(X), head_by_hand(net, h))
    assert net(X).shape == (3, 3) and net.last_theta is None and net.last_output is None
    with pytest.raises(ValueError, match="^" + re.escape("this PlacementNet has no spatial transformer (placement='CNN')") + "$"):
        net.transformed(X)
    assert repr(net).startswith("PlacementNet(\n  name='CNN', in_size=12\n")


@pytest.mark.parametrize("placement, depth, name", [("CNN", 0, "CNN"), ("C", 0, "STN-C0"), ("SL", 0, "STN-C0"),
                                                    ("C", 2, "STN-C2"), ("SL", 1, "STN-SL1")])
def test_placement_names(placement, depth, name):
    assert P.placement_name(placement, depth) == name


@pytest.mark.parametrize("name, placement, depth", [("CNN", "CNN", 0), ("STN-C0", "C", 0), ("STN-C2", "C", 2),
                                                    ("STN-SL1", "SL", 1), ("STN-SL2", "SL", 2)])
def test_build_parses_the_name(name, placement, depth):
    net = P.build(name, **{k: v for k, v in SMALL.items() if k != "in_size"}, in_size=12)
    assert (net.placement, net.depth, net.in_size, net.name) == (placement, depth, 12, name)
    assert P.build("STN-C1").in_size == 28


@pytest.mark.parametrize("name", ["STN-X1", "STN-C", "STN-Ca", "stn-c1", "cnn", "STN-SL"])
def test_build_rejects_other_names(name):
    with pytest.raises(ValueError, match=re.escape(
            f"name must be 'CNN', 'STN-C<X>' or 'STN-SL<X>' (X a block index), got {name!r}")):
        P.build(name)


@pytest.mark.parametrize("kwargs, message", [
    ({"placement": "C", "depth": 3}, "depth must be an int from 0 to 2 (the number of blocks), got 3"),
    ({"placement": "C", "depth": -1}, "depth must be an int from 0 to 2 (the number of blocks), got -1"),
    ({"placement": "C", "depth": True}, "depth must be an int from 0 to 2 (the number of blocks), got True"),
    ({"placement": "C", "depth": 1.0}, "depth must be an int from 0 to 2 (the number of blocks), got 1.0"),
    ({"placement": "CNN", "depth": 1}, "depth must be 0 for placement='CNN' (no transformer), got 1"),
    ({"loc_norm": "group"}, "loc_norm must be one of (None, 'batch', 'layer'), got 'group'"),
    ({"in_size": 8}, "in_size=8 is too small for the blocks' kernels (3, 3) and poolings"),
    ({"in_size": 9}, "in_size=9 is too small for the blocks' kernels (3, 3) and poolings"),
])
def test_construction_errors(kwargs, message):
    kwargs = {**SMALL, **kwargs}
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        P.PlacementNet(**kwargs)


def test_the_smallest_input_the_blocks_take():
    net = P.PlacementNet("C", 2, **{**SMALL, "in_size": 10})  # 10 → 8 → 4 → 2 → 1
    assert net.shapes[-1] == (4, 1, 1)
    with pytest.raises(ValueError, match=re.escape(
            "channels and kernels must have the same length, got 2 and 1")):
        P.paper_blocks(1, (3, 4), (3,))
    with pytest.raises(ValueError, match=re.escape("x must be N×1×12×12, got shape (2, 1, 11, 12)")):
        make("C", 1)(torch.rand(2, 1, 11, 12, dtype=torch.float64))
    with pytest.raises(ValueError, match=re.escape("x must be N×1×12×12, got shape (2, 2, 12, 12)")):
        make("CNN", 0).feature_maps(torch.rand(2, 2, 12, 12, dtype=torch.float64))


@pytest.mark.parametrize("name", ["in_channels", "in_size", "n_classes", "loc_hidden"])
def test_every_size_argument_is_named_in_its_error(name):
    with pytest.raises(ValueError, match="^" + re.escape(f"{name} must be positive, got (0,)") + "$"):
        P.PlacementNet("C", 1, **{**SMALL, name: 0})
    with pytest.raises(TypeError, match="^" + re.escape(
            f"{name} must be an int or a sequence of 1 ints, got (3, 3)") + "$"):
        P.PlacementNet("C", 1, **{**SMALL, name: (3, 3)})


def test_paper_blocks_and_placement_name_their_arguments():
    with pytest.raises(ValueError, match="^" + re.escape("in_channels must be positive, got (0,)") + "$"):
        P.paper_blocks(0)
    with pytest.raises(TypeError, match="^" + re.escape(
            "in_channels must be an int or a sequence of 1 ints, got (1, 1)") + "$"):
        P.paper_blocks((1, 1))
    with pytest.raises(ValueError, match="^" + re.escape("unknown placement 'X'; expected one of 'CNN', 'C', 'SL'")):
        P.PlacementNet("X", 0)
