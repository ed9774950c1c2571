"""stnlib.models.cluttered against Possatti & de Freitas' Tables I and II written out in
torch.nn.functional on the modules' own weights (issue 25, mutation run of 2026-12-05): the baseline
body, the localization body with either activation, the STN with a fixed non-identity θ sampled by
hand at its output size, the translated-cluttered pair, the bounded head's formula and starts, the
collapse model's switches, the defaults, and every error message exactly."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib.models import cluttered as K

THETA = torch.tensor([[0.75, -0.2, 0.2], [0.3, 0.8, -0.1]], dtype=torch.float64)


def body_by_hand(body: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    c1, c2 = [m for m in body if isinstance(m, nn.Conv2d)]
    a, b = [m for m in body if isinstance(m, nn.Linear)]
    h = F.max_pool2d(F.relu(F.conv2d(x, c1.weight, c1.bias)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, c2.weight, c2.bias)), 2).flatten(1)
    return F.linear(F.relu(F.linear(h, a.weight, a.bias)), b.weight, b.bias)


def loc_by_hand(body: nn.Sequential, x: torch.Tensor, relu: bool) -> torch.Tensor:
    act = F.relu if relu else (lambda t: t)
    c1, c2 = [m for m in body if isinstance(m, nn.Conv2d)]
    (a,) = [m for m in body if isinstance(m, nn.Linear)]
    h = F.max_pool2d(act(F.conv2d(F.max_pool2d(x, 2), c1.weight, c1.bias)), 2)
    h = act(F.conv2d(h, c2.weight, c2.bias)).flatten(1)
    return F.relu(F.linear(h, a.weight, a.bias))


@pytest.mark.parametrize("in_size, n_classes, in_channels, channels, hidden", [
    (10, 3, 1, 2, 4), (17, 4, 2, 3, 5), (40, 10, 1, 32, 256)])
def test_table_ii_is_the_baseline_body(in_size, n_classes, in_channels, channels, hidden):
    torch.manual_seed(0)
    body = K.seed_body(in_size, n_classes, in_channels=in_channels, channels=channels, hidden=hidden).double()
    x = torch.rand(2, in_channels, in_size, in_size, dtype=torch.float64)
    torch.testing.assert_close(body(x), body_by_hand(body, x))
    convs = [m for m in body if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == \
        [(in_channels, channels, (3, 3), (0, 0)), (channels, channels, (3, 3), (0, 0))]
    assert body[-1].out_features == n_classes and body[-3].out_features == hidden


def test_seed_body_defaults_and_smallest_size():
    body = K.seed_body()
    assert [m.out_channels for m in body if isinstance(m, nn.Conv2d)] == [32, 32]
    assert (body[-3].in_features, body[-3].out_features, body[-1].out_features) == (32 * 8 * 8, 256, 10)
    assert body[0].in_channels == 1
    with pytest.raises(ValueError, match="^" + re.escape(
            "in_size must be at least 10 (two unpadded 3×3 convolutions and two 2× poolings), got 9") + "$"):
        K.seed_body(9)


@pytest.mark.parametrize("activation", ["relu", "linear"])
@pytest.mark.parametrize("in_size", [28, 40, 61])
def test_table_i_is_the_localization_body(activation, in_size):
    torch.manual_seed(0)
    body, features = K.seed_localization(in_size, in_channels=2, activation=activation, channels=3, hidden=7)
    body = body.double()
    assert features == 7
    x = torch.rand(2, 2, in_size, in_size, dtype=torch.float64)
    torch.testing.assert_close(body(x), loc_by_hand(body, x, activation == "relu"))
    convs = [m for m in body if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [(2, 3, (5, 5)), (3, 3, (5, 5))]
    assert sum(isinstance(m, nn.ReLU) for m in body) == (3 if activation == "relu" else 1)


def test_seed_localization_defaults_and_smallest_size():
    body, features = K.seed_localization()
    assert features == 50
    assert [m.out_channels for m in body if isinstance(m, nn.Conv2d)] == [20, 20]
    (linear,) = [m for m in body if isinstance(m, nn.Linear)]
    assert (linear.in_features, linear.out_features) == (20 * 4 * 4, 50)  # 40 → 20 → 16 → 8 → 4
    assert sum(isinstance(m, nn.ReLU) for m in body) == 3
    assert K.seed_localization(28)[0] is not None
    with pytest.raises(ValueError, match="^" + re.escape(
            "in_size must be at least 28 for Table I's localization net, got 27") + "$"):
        K.seed_localization(27)
    with pytest.raises(ValueError, match="activation"):
        K.seed_localization(40, activation="tanh")


def fix(model):
    head = model.transformer.loc[0].head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(THETA.flatten())
    return model


def warp(x, out, padding_mode="zeros"):
    grid = F.affine_grid(THETA.expand(x.shape[0], 2, 3), [x.shape[0], x.shape[1], out, out], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
def test_stn_warps_to_its_output_size_then_runs_table_ii(padding_mode):
    torch.manual_seed(0)
    model = fix(K.stn(30, 4, out_size=14, in_channels=2, padding_mode=padding_mode).double())
    x = torch.rand(2, 2, 30, 30, dtype=torch.float64)
    V = warp(x, 14, padding_mode)
    torch.testing.assert_close(model(x), body_by_hand(model.body, V))
    assert model.body[0].in_channels == 2 and model.body[-1].out_features == 4
    st = model.transformer
    assert (st.align_corners, st.transform, st.out_size) == (False, "affine", (14, 14))


def test_stn_and_baseline_defaults():
    model = K.stn()
    st = model.transformer
    assert (st.out_size, st.padding_mode, st.in_channels) == ((40, 40), "zeros", 1)
    assert model.body[-1].out_features == 10 and model.body[-3].in_features == 32 * 8 * 8
    assert sum(isinstance(m, nn.ReLU) for m in st.loc[0].body) == 3
    lin = K.stn(activation="linear").transformer.loc[0].body
    assert sum(isinstance(m, nn.ReLU) for m in lin) == 1
    base = K.baseline()
    assert base.transformer is None and base.standardize is None and base.body[-3].in_features == 32 * 8 * 8
    other = K.baseline(20, 3, in_channels=2, standardize=(0.5, 0.25))
    assert other.standardize == (0.5, 0.25) and other.body[0].in_channels == 2 and other.body[-1].out_features == 3


def test_the_translated_cluttered_pair():
    st_cnn = K.tc_st_cnn()
    assert st_cnn.transformer.out_size == (30, 30) and st_cnn.body[-3].in_features == 32 * 6 * 6
    assert K.tc_st_cnn(out_size=None).transformer.out_size == (60, 60)
    assert K.tc_st_cnn(40, 5, out_size=20).body[-1].out_features == 5
    cnn = K.tc_cnn()
    assert cnn.transformer is None and cnn.body[-3].out_features == 256 and cnn.body[-3].in_features == 32 * 13 * 13
    fitted = K.tc_cnn(60, 10, params=399_202)
    assert fitted.body[-3].out_features == K.body_hidden_for(399_202, 60) == 72
    assert K.tc_cnn(40, 3).body[-1].out_features == 3


def test_body_hidden_for_rounds_to_the_nearest_width():
    def count(h, in_size=20, n=4, channels=3):
        return sum(p.numel() for p in K.seed_body(in_size, n, channels=channels, hidden=h).parameters())

    for h in (1, 2, 7):
        assert K.body_hidden_for(count(h), 20, 4, channels=3) == h
        per_unit = count(h + 1) - count(h)
        assert K.body_hidden_for(count(h) + per_unit // 2 - 1, 20, 4, channels=3) == h
        assert K.body_hidden_for(count(h) + per_unit // 2 + 1, 20, 4, channels=3) == h + 1
    two = sum(p.numel() for p in K.seed_body(20, 4, in_channels=2, channels=3, hidden=5).parameters())
    assert K.body_hidden_for(two, 20, 4, in_channels=2, channels=3) == 5
    least = count(1)
    with pytest.raises(ValueError, match="^" + re.escape(
            f"params must be an int of at least {least:,} (Table II on 20×20 with one hidden unit), "
            f"got {least - 1!r}") + "$"):
        K.body_hidden_for(least - 1, 20, 4, channels=3)
    for bad in (True, float(least)):
        with pytest.raises(ValueError, match="params must be an int"):
            K.body_hidden_for(bad, 20, 4, channels=3)


def test_standardize_layer():
    layer = K.Standardize(0.25, 0.5)
    x = torch.tensor([0.0, 0.25, 1.0])
    torch.testing.assert_close(layer(x), torch.tensor([-0.5, 0.0, 1.5]))
    assert repr(layer) == "Standardize(mean=0.25, std=0.5)"
    for bad in (0, -1.0, "1"):
        with pytest.raises(ValueError, match="^" + re.escape(f"std must be a positive number, got {bad!r}") + "$"):
            K.Standardize(0.0, bad)


def test_bounded_head_is_bound_times_tanh_and_starts_where_asked():
    torch.manual_seed(0)
    linear = nn.Linear(3, 6).double()
    weight = linear.weight.detach().clone()
    head = K.BoundedHead(linear, (2.0, 0.5))
    assert torch.equal(linear.weight, weight)  # W is kept
    identity = torch.tensor([1.0, 0, 0, 0, 1.0, 0], dtype=torch.float64)
    bound = torch.tensor([2.0, 2.0, 0.5, 2.0, 2.0, 0.5], dtype=torch.float64)
    torch.testing.assert_close(head.bound.double(), bound)
    torch.testing.assert_close(linear.bias, torch.atanh(identity / bound))
    f = torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(head(f), bound * torch.tanh(F.linear(f, linear.weight, linear.bias)))
    with torch.no_grad():
        linear.weight.zero_()
    torch.testing.assert_close(head(f), identity.expand(4, 6))  # exactly the identity at W = 0
    naive = K.BoundedHead(nn.Linear(3, 6), start="naive")
    torch.testing.assert_close(naive.linear.bias, identity.float())
    with torch.no_grad():
        naive.linear.weight.zero_()
    torch.testing.assert_close(naive(torch.zeros(1, 3))[0, 0], 1.5 * torch.tanh(torch.tensor(1.0)))
    default = K.BoundedHead(nn.Linear(3, 6))
    assert default.start == "identity" and default.bound.tolist() == [1.5, 1.5, 1.0, 1.5, 1.5, 1.0]


@pytest.mark.parametrize("args, kwargs, message", [
    ((nn.Linear(3, 5),), {}, "linear must be the nn.Linear(F, 6) head of an affine localization net"),
    ((nn.Conv1d(3, 6, 1),), {}, "linear must be the nn.Linear(F, 6) head of an affine localization net"),
    ((nn.Linear(3, 6), (2.0, 0.0)), {}, "bound must be two positive numbers (linear part, translation), "
                                        "got (2.0, 0.0)"),
    ((nn.Linear(3, 6), (0.0, 1.0)), {}, "bound must be two positive numbers (linear part, translation), "
                                        "got (0.0, 1.0)"),
    ((nn.Linear(3, 6), (1.0, 1.0)), {}, "start='identity' needs bound[0] > 1 (tanh never reaches 1), got 1.0"),
])
def test_bounded_head_errors(args, kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        K.BoundedHead(*args, **kwargs)
    assert K.BoundedHead(nn.Linear(3, 6), (1.0, 1.0), start="naive").start == "naive"  # naive: any bound


def test_bound_theta_and_randomize_head():
    torch.manual_seed(0)
    st = K.stn(28).transformer
    head = st.loc[0].head
    assert K.bound_theta(st, (3.0, 2.0), start="naive") is st
    assert isinstance(st.loc[0].head, K.BoundedHead) and st.loc[0].head.linear is head
    assert st.loc[0].head.bound.tolist() == [3.0, 3.0, 2.0, 3.0, 3.0, 2.0] and st.loc[0].head.start == "naive"
    K.bound_theta(st)  # already bounded: left as it is
    assert st.loc[0].head.bound.tolist()[0] == 3.0
    assert K.randomize_head(st) is st
    assert head.weight.abs().sum() > 0  # the bounded head's linear layer was re-initialized
    plain = K.stn(28).transformer
    assert K.randomize_head(plain).loc[0].head.weight.abs().sum() > 0
    from stnlib.transformer import SpatialTransformer
    with pytest.raises(ValueError, match="^" + re.escape("bound_theta needs an affine transformer, got 'attention'") + "$"):
        K.bound_theta(SpatialTransformer(1, align_corners=False, transform="attention"))


def test_collapse_stn_defaults_and_each_switch():
    torch.manual_seed(0)
    model = K.collapse_stn((0.1, 0.3))
    st = model.transformer
    assert (st.out_size, st.padding_mode) == ((32, 32), "zeros") and model.standardize == (0.1, 0.3)
    assert st.loc[0].head.weight.abs().sum() > 0  # random head
    assert model.body[-3].in_features == 32 * 6 * 6 and model.body[-1].out_features == 10
    assert not isinstance(st.loc[0].head, K.BoundedHead)
    ident = K.collapse_stn((0.1, 0.3), identity_init=True).transformer.loc[0].head
    assert ident.weight.abs().sum() == 0
    assert K.collapse_stn((0.1, 0.3), padding_mode="border").transformer.padding_mode == "border"
    after = K.collapse_stn((0.1, 0.3), normalize_after=True)
    assert after.standardize is None and isinstance(after.body[0], K.Standardize)
    assert (after.body[0].mean, after.body[0].std) == (0.1, 0.3)
    bounded = K.collapse_stn((0.1, 0.3), bounded=True, identity_init=True, bound=(2.0, 0.5))
    head = bounded.transformer.loc[0].head
    assert isinstance(head, K.BoundedHead) and head.start == "identity" and head.bound.tolist()[2] == 0.5
    naive = K.collapse_stn((0.1, 0.3), bounded=True, bound_start="naive").transformer.loc[0].head
    assert naive.start == "naive" and naive.bound.tolist()[0] == 1.5
    small = K.collapse_stn((0.0, 1.0), in_size=40, out_size=20, n_classes=3, in_channels=2)
    assert small.transformer.out_size == (20, 20) and small.body[0].in_channels == 2
    assert small.body[-1].out_features == 3
    assert small(torch.rand(1, 2, 40, 40)).shape == (1, 3)


def test_collapse_stn_with_identity_start_warps_the_standardized_input_as_the_identity():
    torch.manual_seed(0)
    model = K.collapse_stn((0.25, 0.5), identity_init=True, in_size=32, out_size=32).double()
    x = torch.rand(2, 1, 32, 32, dtype=torch.float64)
    V, theta = model.transformed(x)
    torch.testing.assert_close(V, x)
    assert math.isclose(theta[0, 0, 0].item(), 1.0)


@pytest.mark.parametrize("make, error, message", [
    (lambda: K.seed_body(0), ValueError, "in_size must be positive, got (0,)"),
    (lambda: K.seed_localization(0), ValueError, "in_size must be positive, got (0,)"),
    (lambda: K.body_hidden_for(10_000, 0), ValueError, "in_size must be positive, got (0,)"),
    (lambda: K.seed_localization(40, activation="tanh"), ValueError,
     "unknown activation 'tanh'; expected one of 'relu', 'linear'"),
    (lambda: K.stn(40, out_size=0), ValueError, "out_size must be positive, got (0, 0)"),
    (lambda: K.BoundedHead(nn.Linear(3, 6), start="zero"), ValueError,
     "unknown start 'zero'; expected one of 'identity', 'naive'"),
])
def test_the_size_and_choice_arguments_are_named(make, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        make()


def test_defaults_of_the_localization_and_bound_theta():
    body, _ = K.seed_localization()
    assert [m for m in body if isinstance(m, nn.Conv2d)][0].in_channels == 1
    st = K.bound_theta(K.stn(28).transformer)
    assert st.loc[0].head.start == "identity" and st.loc[0].head.bound.tolist() == [1.5, 1.5, 1.0, 1.5, 1.5, 1.0]


def test_body_hidden_for_uses_table_ii_s_sizes_and_the_class_count():
    for in_size, n in ((22, 10), (31, 3), (45, 7)):  # sizes where a 4×4 convolution would give another side
        count = sum(p.numel() for p in K.seed_body(in_size, n, hidden=9).parameters())
        assert K.body_hidden_for(count, in_size, n) == 9
    count = sum(p.numel() for p in K.seed_body(40, 3, hidden=300).parameters())
    cnn = K.tc_cnn(40, 3, params=count)  # with 10 classes' units the fit would say 299
    assert cnn.body[-3].out_features == 300 and cnn.body[-1].out_features == 3


def test_normalizing_after_the_warp_keeps_the_transformer_and_the_classifier():
    torch.manual_seed(0)
    model = K.collapse_stn((0.25, 0.5), normalize_after=True, identity_init=True, in_size=32, out_size=32)
    assert model.transformer is not None
    x = torch.rand(2, 1, 32, 32)
    assert model(x).shape == (2, 10)
    body = nn.Sequential(*list(model.body)[1:])
    torch.testing.assert_close(model(x), body((x - 0.25) / 0.5), rtol=1e-5, atol=1e-5)  # identity warp


@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
@pytest.mark.parametrize("normalize_after", [False, True])
def test_collapse_stn_with_a_fixed_theta_standardizes_before_or_after_the_warp(padding_mode, normalize_after):
    torch.manual_seed(0)
    model = fix(K.collapse_stn((0.25, 0.5), identity_init=True, padding_mode=padding_mode,
                               normalize_after=normalize_after, in_size=32, out_size=16, n_classes=3).double())
    x = torch.rand(2, 1, 32, 32, dtype=torch.float64)
    layers = nn.Sequential(*list(model.body)[1:]) if normalize_after else model.body
    before = body_by_hand(layers, warp((x - 0.25) / 0.5, 16, padding_mode))
    after = body_by_hand(layers, (warp(x, 16, padding_mode) - 0.25) / 0.5)
    torch.testing.assert_close(model(x), after if normalize_after else before)
    # border padding commutes with standardizing; zero padding reads the mean (before) or black (after)
    assert torch.allclose(before, after) == (padding_mode == "border")


def test_collapse_stn_bounded_theta_is_bound_times_tanh_of_the_localization_features():
    torch.manual_seed(0)
    model = K.collapse_stn((0.0, 1.0), bounded=True, bound=(2.0, 0.5), in_size=32, out_size=16).double()
    loc = model.transformer.loc[0]
    x = torch.rand(3, 1, 32, 32, dtype=torch.float64)
    f = loc_by_hand(loc.body, x, relu=True)
    bound = torch.tensor([2.0, 2.0, 0.5, 2.0, 2.0, 0.5], dtype=torch.float64)
    theta = bound * torch.tanh(F.linear(f, loc.head.linear.weight, loc.head.linear.bias))
    V, got = model.transformed(x)
    torch.testing.assert_close(got, theta.view(3, 2, 3))
    grid = F.affine_grid(theta.view(3, 2, 3), [3, 1, 16, 16], align_corners=False)
    torch.testing.assert_close(V, F.grid_sample(x, grid, padding_mode="zeros", align_corners=False))
    assert loc.head.linear.weight.abs().sum() > 0  # a random W kept under the bound
