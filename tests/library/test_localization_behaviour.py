"""stnlib.localization against the networks it documents (issue 25, mutation run of 2026-12-05): each
body written out in torch.nn.functional on its own weights (the conv body's first pool, ceil-mode pools,
'same' convolutions, adaptive average pool to 4, batch norms with batch statistics, for images and time
series; the FC body's thumbnail, layers and batch / layer norms; the tutorial body's valid convolutions,
floor pools and adaptive max pool), the identity head, the blind body, the localization net's output
layout, the defaults, and every error message word for word."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib import localization as L
from stnlib.grids import make_grid_generator

D = torch.float64


def _raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def data(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=D) * 2 - 1


def randomize_norms(body: nn.Module, seed: int = 1) -> None:
    """Batch / layer norms start at weight 1, bias 0: give them values that show where they sit."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in body.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g, dtype=D) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g, dtype=D) - 0.5)


def of(body, *types):
    return [m for m in body if isinstance(m, types)]


# ---------------------------------------------------------------- init_identity


def test_init_identity_zeroes_the_weight_and_repeats_the_identity():
    head = nn.Linear(4, 6)
    assert L.init_identity(head, "affine") is head
    assert head.weight.abs().max() == 0 and head.bias.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    head = L.init_identity(nn.Linear(3, 9), "attention")
    assert head.bias.tolist() == [1.0, 0.0, 0.0] * 3
    head = L.init_identity(nn.Linear(3, 4), torch.tensor([0.5, -2.0]))
    assert head.bias.tolist() == [0.5, -2.0, 0.5, -2.0] and head.weight.abs().max() == 0
    head = L.init_identity(nn.Linear(3, 32), "tps")
    assert head.bias.abs().max() == 0
    x = torch.randn(5, 3)
    torch.testing.assert_close(L.init_identity(nn.Linear(3, 2), "timewarp")(x), torch.tensor([[1.0, 0.0]] * 5))


def test_init_identity_errors():
    with _raises(TypeError, "head must be an nn.Linear, got Conv2d"):
        L.init_identity(nn.Conv2d(1, 6, 1), "affine")
    with _raises(TypeError, "head must be an nn.Linear, got Sequential"):
        L.init_identity(nn.Sequential(nn.Linear(2, 6)), torch.ones(6))
    with _raises(ValueError, "head has 7 outputs, not a multiple of the 6 identity parameters"):
        L.init_identity(nn.Linear(2, 7), "affine")
    with _raises(ValueError, "head has 4 outputs, not a multiple of the 3 identity parameters"):
        L.init_identity(nn.Linear(2, 4), torch.ones(3))
    with _raises(ValueError, "unknown transform 'shear'; expected one of 'affine', 'attention', 'projective', "
                             "'tps', 'timewarp'"):
        L.init_identity(nn.Linear(2, 6), "shear")


# ---------------------------------------------------------------- conv_body


def conv_body_ref(body, x, *, ndim, downsample=1, norm=None):
    conv, pool, adaptive = ((F.conv2d, F.max_pool2d, F.adaptive_avg_pool2d) if ndim == 2
                            else (F.conv1d, F.max_pool1d, F.adaptive_avg_pool1d))
    c1, c2 = of(body, nn.Conv1d, nn.Conv2d)
    (lin,) = of(body, nn.Linear)
    norms = of(body, nn.BatchNorm1d, nn.BatchNorm2d)
    assert len(norms) == (3 if norm == "batch" else 0)

    def bn(y, k):
        if norm != "batch":
            return y
        m = norms[k]
        return F.batch_norm(y, None, None, m.weight, m.bias, training=True, eps=m.eps)

    if downsample > 1:
        x = pool(x, downsample, ceil_mode=True)
    x = F.relu(pool(bn(conv(x, c1.weight, c1.bias, padding=2), 0), 2, ceil_mode=True))
    x = F.relu(pool(bn(conv(x, c2.weight, c2.bias, padding=2), 1), 2, ceil_mode=True))
    x = adaptive(x, 4).flatten(1)
    return F.relu(bn(F.linear(x, lin.weight, lin.bias), 2))


@pytest.mark.parametrize("ndim,size", [(2, (9, 11)), (1, (13,))])
@pytest.mark.parametrize("downsample", [1, 3])
@pytest.mark.parametrize("norm", [None, "batch"])
def test_conv_body_is_the_documented_network(ndim, size, downsample, norm):
    torch.manual_seed(0)
    body = L.conv_body(2, channels=3, hidden=5, ndim=ndim, downsample=downsample, norm=norm).double()
    randomize_norms(body)
    c1, c2 = of(body, nn.Conv1d, nn.Conv2d)
    Conv = nn.Conv2d if ndim == 2 else nn.Conv1d
    assert isinstance(c1, Conv) and (c1.in_channels, c1.out_channels, c2.in_channels, c2.out_channels) == (2, 3, 3, 3)
    assert c1.kernel_size == c2.kernel_size == (5,) * ndim and c1.padding == c2.padding == (2,) * ndim
    (lin,) = of(body, nn.Linear)
    assert (lin.in_features, lin.out_features) == (3 * 4 ** ndim, 5)
    BN = nn.BatchNorm2d if ndim == 2 else nn.BatchNorm1d
    if norm == "batch":
        assert [type(m) for m in of(body, nn.BatchNorm1d, nn.BatchNorm2d)] == [BN, BN, nn.BatchNorm1d]
        assert [m.num_features for m in of(body, nn.BatchNorm1d, nn.BatchNorm2d)] == [3, 3, 5]
    Pool = nn.MaxPool2d if ndim == 2 else nn.MaxPool1d
    assert isinstance(body[0], Pool if downsample > 1 else Conv)
    x = data(4, 2, *size)
    out = body(x)
    assert out.shape == (4, 5)
    torch.testing.assert_close(out, conv_body_ref(body, x, ndim=ndim, downsample=downsample, norm=norm),
                               rtol=0, atol=1e-12)


def test_conv_body_downsample_2_pools_first():
    body = L.conv_body(1, channels=2, hidden=3, downsample=2).double()
    assert isinstance(body[0], nn.MaxPool2d) and body[0].kernel_size == 2 and body[0].ceil_mode
    x = data(2, 1, 11, 9)
    torch.testing.assert_close(body(x), conv_body_ref(body, x, ndim=2, downsample=2), rtol=0, atol=1e-12)


def test_conv_body_defaults():
    body = L.conv_body(3)
    c1, c2 = of(body, nn.Conv1d, nn.Conv2d)
    assert isinstance(c1, nn.Conv2d) and not isinstance(body[0], nn.MaxPool2d)
    assert (c1.in_channels, c1.out_channels, c2.out_channels) == (3, 20, 20)
    assert (body[-2].in_features, body[-2].out_features) == (320, 50)
    assert of(body, nn.BatchNorm1d, nn.BatchNorm2d) == []
    assert body(torch.rand(2, 3, 4, 4)).shape == (2, 50)  # the smallest size it takes


def test_conv_body_errors():
    with _raises(ValueError, "in_channels must be positive, got (0,)"):
        L.conv_body(0)
    with _raises(TypeError, "in_channels must be an int or a sequence of 1 ints, got 1.0"):
        L.conv_body(1.0)
    with _raises(ValueError, "norm must be None or 'batch', got 'layer'"):
        L.conv_body(1, norm="layer")
    with _raises(ValueError, "channels must be positive, got (0,)"):
        L.conv_body(1, channels=0)
    with _raises(TypeError, "channels must be an int or a sequence of 1 ints, got (2, 3)"):
        L.conv_body(1, channels=(2, 3))
    with _raises(ValueError, "hidden must be positive, got (-1,)"):
        L.conv_body(1, hidden=-1)
    with _raises(TypeError, "hidden must be an int or a sequence of 1 ints, got True"):
        L.conv_body(1, hidden=True)
    with _raises(ValueError, "downsample must be positive, got (0,)"):
        L.conv_body(1, downsample=0)
    with _raises(TypeError, "downsample must be an int or a sequence of 1 ints, got 2.0"):
        L.conv_body(1, downsample=2.0)
    with _raises(ValueError, "ndim must be 1 (time series) or 2 (images), got 3"):
        L.conv_body(1, ndim=3)
    with _raises(ValueError, "ndim must be 1 (time series) or 2 (images), got 0"):
        L.conv_body(1, ndim=0)


# ---------------------------------------------------------------- fc_body


def fc_body_ref(body, x, *, pool_to=None, norm=None):
    if pool_to is not None:
        x = F.adaptive_avg_pool2d(x, pool_to)
    x = x.flatten(1)
    norms = of(body, nn.BatchNorm1d, nn.LayerNorm)
    for k, lin in enumerate(of(body, nn.Linear)):
        x = F.linear(x, lin.weight, lin.bias)
        if norm == "batch":
            x = F.batch_norm(x, None, None, norms[k].weight, norms[k].bias, training=True, eps=norms[k].eps)
        elif norm == "layer":
            x = F.layer_norm(x, (x.shape[1],), norms[k].weight, norms[k].bias, eps=norms[k].eps)
        x = F.relu(x)
    return x


@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("norm", [None, "batch", "layer"])
@pytest.mark.parametrize("pool_to", [None, 3])
def test_fc_body_is_the_documented_network(layers, norm, pool_to):
    torch.manual_seed(0)
    in_features = 2 * 3 * 3 if pool_to else 2 * 7 * 8
    body = L.fc_body(in_features, hidden=6, pool_to=pool_to, layers=layers, norm=norm).double()
    randomize_norms(body)
    lins = of(body, nn.Linear)
    assert [(m.in_features, m.out_features) for m in lins] == [(in_features, 6)] + [(6, 6)] * (layers - 1)
    Norm = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}.get(norm)
    assert [type(m) for m in of(body, nn.BatchNorm1d, nn.LayerNorm)] == ([Norm] * layers if Norm else [])
    if pool_to:
        assert isinstance(body[0], nn.AdaptiveAvgPool2d) and body[0].output_size == 3
    else:
        assert isinstance(body[0], nn.Flatten)
    x = data(5, 2, 7, 8)
    out = body(x)
    assert out.shape == (5, 6)
    torch.testing.assert_close(out, fc_body_ref(body, x, pool_to=pool_to, norm=norm), rtol=0, atol=1e-12)


def test_fc_body_defaults():
    body = L.fc_body(12)
    assert [(m.in_features, m.out_features) for m in of(body, nn.Linear)] == [(12, 32), (32, 32)]
    assert isinstance(body[0], nn.Flatten) and [type(m) for m in body] == \
        [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear, nn.ReLU]
    assert L.LOC_NORMS == (None, "batch", "layer")


def test_fc_body_errors():
    with _raises(ValueError, "in_features must be positive, got (0,)"):
        L.fc_body(0)
    with _raises(TypeError, "in_features must be an int or a sequence of 1 ints, got None"):
        L.fc_body(None)
    with _raises(ValueError, "hidden must be positive, got (0,)"):
        L.fc_body(4, hidden=0)
    with _raises(TypeError, "hidden must be an int or a sequence of 1 ints, got 1.5"):
        L.fc_body(4, hidden=1.5)
    with _raises(ValueError, "layers must be positive, got (0,)"):
        L.fc_body(4, layers=0)
    with _raises(TypeError, "layers must be an int or a sequence of 1 ints, got (1, 1)"):
        L.fc_body(4, layers=(1, 1))
    with _raises(ValueError, "norm must be one of (None, 'batch', 'layer'), got 'group'"):
        L.fc_body(4, norm="group")
    with _raises(ValueError, "pool_to must be positive, got (0,)"):
        L.fc_body(4, pool_to=0)
    with _raises(TypeError, "pool_to must be an int or a sequence of 1 ints, got (2, 2)"):
        L.fc_body(4, pool_to=(2, 2))


# ---------------------------------------------------------------- tutorial_conv_body


def tutorial_ref(body, x, *, adaptive):
    c1, c2 = of(body, nn.Conv2d)
    (lin,) = of(body, nn.Linear)
    x = F.relu(F.max_pool2d(F.conv2d(x, c1.weight, c1.bias), 2))
    x = F.relu(F.max_pool2d(F.conv2d(x, c2.weight, c2.bias), 2))
    if adaptive:
        x = F.adaptive_max_pool2d(x, 3)
    return F.relu(F.linear(x.flatten(1), lin.weight, lin.bias))


@pytest.mark.parametrize("in_size,adaptive,side,pooled", [
    (18, True, 1, False), (21, True, 1, False), (28, True, 3, False), (29, True, 3, False),
    (32, True, 3, True), (33, True, 3, True), (32, False, 4, False), (42, False, 7, False)])
def test_tutorial_conv_body_is_the_tutorials_network(in_size, adaptive, side, pooled):
    torch.manual_seed(0)
    body, n = L.tutorial_conv_body(in_size, in_channels=2, channels=(3, 4), hidden=5, adaptive=adaptive)
    body = body.double()
    assert n == 5
    c1, c2 = of(body, nn.Conv2d)
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in (c1, c2)] == \
        [(2, 3, (7, 7), (0, 0)), (3, 4, (5, 5), (0, 0))]
    assert [m.kernel_size for m in of(body, nn.MaxPool2d)] == [2, 2]
    assert len(of(body, nn.AdaptiveMaxPool2d)) == int(pooled)
    (lin,) = of(body, nn.Linear)
    assert (lin.in_features, lin.out_features) == (4 * side * side, 5)
    x = data(3, 2, in_size, in_size)
    torch.testing.assert_close(body(x), tutorial_ref(body, x, adaptive=pooled), rtol=0, atol=1e-12)


def test_tutorial_conv_body_defaults():
    body, n = L.tutorial_conv_body(42)
    assert n == 32
    c1, c2 = of(body, nn.Conv2d)
    assert (c1.in_channels, c1.out_channels, c2.out_channels) == (1, 8, 10)
    assert isinstance(body[6], nn.AdaptiveMaxPool2d) and body[6].output_size == 3
    assert (body[-2].in_features, body[-2].out_features) == (90, 32)
    assert body(torch.rand(2, 1, 42, 42)).shape == (2, 32)


def test_tutorial_conv_body_errors():
    with _raises(ValueError, "in_size must be at least 18 for the tutorial's localization body, got 17"):
        L.tutorial_conv_body(17)
    with _raises(ValueError, "in_size must be positive, got (0,)"):
        L.tutorial_conv_body(0)
    with _raises(TypeError, "in_size must be an int or a sequence of 1 ints, got 28.0"):
        L.tutorial_conv_body(28.0)


# ---------------------------------------------------------------- the blind body


def test_blind_body_outputs_zeros_whatever_it_reads():
    body, n = L.blind_body()
    assert isinstance(body, L.BlindBody) and n == 1
    x = torch.rand(3, 2, 5, 5, dtype=D)
    out = body(x)
    assert out.shape == (3, 1) and out.dtype == D and out.abs().max() == 0
    assert L.BlindBody()(torch.rand(4, 7)).shape == (4, 1)
    assert list(body.parameters()) == []


# ---------------------------------------------------------------- LocalizationNet, default_localization


def test_localization_net_head_and_output_layout():
    body = L.fc_body(6, hidden=4).double()
    net = L.LocalizationNet(body, 4, make_grid_generator("attention"), copies=2).double()
    assert net.body is body and (net.n_params, net.copies) == (3, 2)
    assert (net.head.in_features, net.head.out_features) == (4, 6)
    assert net.head.bias.tolist() == [1.0, 0.0, 0.0] * 2 and net.head.weight.abs().max() == 0
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        net.head.weight.copy_(torch.randn(6, 4, generator=g, dtype=D))
    x = data(5, 6)
    out = net(x)
    assert out.shape == (5, 2, 3)
    torch.testing.assert_close(out, F.linear(body(x), net.head.weight, net.head.bias).view(5, 2, 3))


def test_localization_net_extra_identity_and_defaults():
    net = L.LocalizationNet(nn.Flatten(), 3, make_grid_generator("timewarp"),
                            extra_identity=torch.tensor([1.0, 0.0], dtype=D))
    assert (net.n_params, net.copies) == (4, 1)
    assert net.head.bias.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert net(torch.rand(2, 3)).shape == (2, 1, 4)
    net = L.LocalizationNet(nn.Flatten(), 3, make_grid_generator("tps", tps_points=3))
    assert (net.n_params, net.copies, net.head.out_features) == (18, 1, 18)


def test_localization_net_rejects_a_body_that_is_not_n_by_f():
    net = L.LocalizationNet(nn.Identity(), 4, make_grid_generator("affine"))
    with _raises(ValueError, "the localization body must return N×F features, got shape (2, 3, 4)"):
        net(torch.rand(2, 3, 4))
    with _raises(ValueError, "the localization body must return N×F features, got shape (2,)"):
        net(torch.rand(2))


@pytest.mark.parametrize("transform,ndim,shape", [("affine", 2, (2, 3, 8, 8)), ("timewarp", 1, (2, 3, 12))])
def test_default_localization_is_conv_body_plus_identity_head(transform, ndim, shape):
    gen = make_grid_generator(transform)
    net = L.default_localization(3, gen, copies=2, extra_identity=torch.tensor([5.0]))
    convs = of(net.body, nn.Conv1d, nn.Conv2d)
    assert all(isinstance(c, nn.Conv2d if ndim == 2 else nn.Conv1d) for c in convs)
    assert (convs[0].in_channels, convs[0].out_channels) == (3, 20)
    assert (net.head.in_features, net.head.out_features) == (50, 2 * (gen.n_params + 1))
    assert net.head.bias.tolist() == (gen.identity().tolist() + [5.0]) * 2
    assert (net.copies, net.n_params) == (2, gen.n_params + 1)
    out = net(torch.rand(*shape))
    assert out.shape == (2, 2, gen.n_params + 1)
    torch.testing.assert_close(out, net.head.bias.view(1, 2, -1).expand(2, 2, -1))
    plain = L.default_localization(1, gen)
    assert (plain.copies, plain.n_params) == (1, gen.n_params)
    with _raises(ValueError, "in_channels must be positive, got (0,)"):
        L.default_localization(0, gen)
    with _raises(TypeError, "in_channels must be an int or a sequence of 1 ints, got '3'"):
        L.default_localization("3", gen)
