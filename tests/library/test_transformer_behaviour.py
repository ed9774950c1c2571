"""stnlib.transformer.SpatialTransformer against the layer it documents (issue 25, mutation run of
2026-12-05): every transform with a fixed non-identity θ (the localization head's weight 0, its bias θ)
checked against torch's ``affine_grid`` + ``grid_sample`` (or the grid written out by hand) with the
kernel, padding, align_corners and output size asked for; input-dependent θ for per-channel, parallel
and shared localization nets recomputed from the layer's own body and head; the amplitude of the time
warp; the defaults and the repr; the options reaching the warp; every error message word for word."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib import transformer as T
from stnlib.grids import regular_control_points, tps_grid
from stnlib.localization import conv_body, fc_body
from stnlib.transformer import SpatialTransformer

D = torch.float64
THETA = torch.tensor([[0.7, -0.25, 0.2], [0.3, 0.85, -0.15]], dtype=D)


def fix(st: SpatialTransformer, *biases) -> SpatialTransformer:
    """Zero every localization head's weight and set its bias (one flat bias per net)."""
    with torch.no_grad():
        for loc, bias in zip(st.loc, biases, strict=True):
            loc.head.weight.zero_()
            loc.head.bias.copy_(torch.as_tensor(bias, dtype=loc.head.bias.dtype).flatten())
    return st


def move_heads(st: SpatialTransformer, seed: int = 0, scale: float = 0.05) -> SpatialTransformer:
    """Give the heads small random weights, so θ differs from sample to sample."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for loc in st.loc:
            loc.head.weight.copy_(torch.randn(loc.head.weight.shape, generator=g, dtype=D) * scale)
    return st


def data(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=D)


def affine_ref(U, theta, out_hw, *, kernel="bilinear", padding="zeros", ac=False):
    theta = theta.expand(U.shape[0], 2, 3) if theta.dim() == 2 else theta
    grid = F.affine_grid(theta, [U.shape[0], U.shape[1], *out_hw], align_corners=ac)
    return F.grid_sample(U, grid, mode=kernel, padding_mode=padding, align_corners=ac)


def positions(n, ac):
    """The normalized centres of n output samples."""
    i = torch.arange(n, dtype=D)
    return 2 * i / (n - 1) - 1 if ac else (2 * i + 1) / n - 1


def timewarp_ref(U, s, t, length, *, kernel="bilinear", padding="zeros", ac=False):
    """Output time x reads U at s·x + t: grid_sample on an image one row high."""
    x = s[:, None] * positions(length, ac)[None] + t[:, None]  # N×L'
    grid = torch.stack([x, torch.zeros_like(x)], -1)[:, None]  # N×1×L'×2
    return F.grid_sample(U[:, :, None], grid, mode=kernel, padding_mode=padding, align_corners=ac)[:, :, 0]


# ---------------------------------------------------------------- defaults and repr


def test_defaults_and_the_default_localization_net():
    st = SpatialTransformer(2, align_corners=False)
    assert (st.transform, st.out_size, st.kernel, st.padding_mode, st.sampler, st.align_corners) == \
        ("affine", None, "bilinear", "zeros", "native", False)
    assert (st.n_transformers, st.per_channel, st.shared_localization, st.amplitude, st.tps_points,
            st.in_channels) == (1, False, False, False, 4, 2)
    assert len(st.loc) == 1
    loc = st.loc[0]
    assert (loc.copies, loc.n_params) == (1, 6)
    expected = conv_body(2)
    assert [type(m) for m in loc.body] == [type(m) for m in expected]
    convs = [m for m in loc.body if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == \
        [(2, 20, (5, 5), (2, 2)), (20, 20, (5, 5), (2, 2))]
    assert (loc.body[-2].in_features, loc.body[-2].out_features) == (320, 50)
    assert (loc.head.in_features, loc.head.out_features) == (50, 6)
    assert loc.head.weight.abs().max() == 0
    assert loc.head.bias.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert [id(p) for p in st.localization_parameters()] == [id(p) for p in st.loc.parameters()]
    assert [id(p) for p in st.localization_parameters()] == [id(p) for p in st.parameters()]


def test_defaults_warp_bilinear_with_zeros_at_the_input_size():
    st = fix(SpatialTransformer(2, align_corners=False).double(), THETA)
    U = data(3, 2, 7, 9)
    V, theta = st(U)
    torch.testing.assert_close(theta, THETA.expand(3, 2, 3))
    torch.testing.assert_close(V, affine_ref(U, THETA, (7, 9)), rtol=0, atol=1e-12)


def test_extra_repr_names_every_option():
    st = SpatialTransformer(3, align_corners=True, transform="tps", out_size=5, kernel="bicubic",
                            padding_mode="border", sampler="reference", n_transformers=2,
                            shared_localization=True)
    assert st.extra_repr() == (
        "transform='tps', out_size=(5, 5), kernel='bicubic', padding_mode='border', align_corners=True, "
        "sampler='reference', n_transformers=2, per_channel=False, shared_localization=True")
    assert SpatialTransformer(1, align_corners=False, per_channel=True).extra_repr() == (
        "transform='affine', out_size=None, kernel='bilinear', padding_mode='zeros', align_corners=False, "
        "sampler='native', n_transformers=1, per_channel=True, shared_localization=False")


# ---------------------------------------------------------------- every transform with a fixed θ


@pytest.mark.parametrize("ac", [False, True])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("kernel", ["nearest", "bilinear", "bicubic"])
def test_affine_with_a_fixed_theta_is_affine_grid_and_grid_sample(kernel, padding, ac):
    st = fix(SpatialTransformer(2, align_corners=ac, out_size=(5, 7), kernel=kernel,
                                padding_mode=padding).double(), THETA)
    U = data(3, 2, 6, 8)
    V, theta = st(U)
    torch.testing.assert_close(theta, THETA.expand(3, 2, 3), rtol=0, atol=0)
    expected = affine_ref(U, THETA, (5, 7), kernel=kernel, padding=padding, ac=ac)
    assert V.shape == (3, 2, 5, 7)
    torch.testing.assert_close(V, expected, rtol=0, atol=1e-10)


def test_the_sampler_option_reaches_the_warp(monkeypatch):
    calls = []
    real = T.warp

    def spy(U, theta, out_size, **kw):
        calls.append(dict(kw, out_size=out_size))
        return real(U, theta, out_size, **kw)

    monkeypatch.setattr(T, "warp", spy)
    st = fix(SpatialTransformer(1, align_corners=True, out_size=(4, 5), kernel="bicubic",
                                padding_mode="reflection", sampler="reference").double(), THETA)
    U = data(2, 1, 6, 6)
    V, _ = st(U)
    assert calls == [dict(out_size=(4, 5), transform="affine", tps_points=4, kernel="bicubic",
                          padding_mode="reflection", align_corners=True, sampler="reference")]
    torch.testing.assert_close(V, affine_ref(U, THETA, (4, 5), kernel="bicubic", padding="reflection",
                                             ac=True), rtol=0, atol=1e-10)


def test_attention_theta_is_scale_and_translation():
    st = fix(SpatialTransformer(1, align_corners=False, transform="attention", out_size=(4, 6),
                                padding_mode="border").double(), [0.6, 0.2, -0.1])
    U = data(2, 1, 7, 7)
    V, theta = st(U)
    torch.testing.assert_close(theta, torch.tensor([[0.6, 0.2, -0.1]] * 2, dtype=D))
    affine = torch.tensor([[0.6, 0.0, 0.2], [0.0, 0.6, -0.1]], dtype=D)
    torch.testing.assert_close(V, affine_ref(U, affine, (4, 6), padding="border"), rtol=0, atol=1e-12)


@pytest.mark.parametrize("ac", [False, True])
def test_projective_theta_is_the_dehomogenized_homography(ac):
    h = [0.9, -0.1, 0.1, 0.2, 1.1, -0.05, 0.15, -0.1]
    st = fix(SpatialTransformer(1, align_corners=ac, transform="projective", out_size=(5, 4)).double(), h)
    U = data(2, 1, 6, 6)
    V, theta = st(U)
    M = torch.tensor(h + [1.0], dtype=D).view(3, 3)
    torch.testing.assert_close(theta, M.expand(2, 3, 3))
    y, x = torch.meshgrid(positions(5, ac), positions(4, ac), indexing="ij")
    pts = torch.stack([x, y, torch.ones_like(x)], -1) @ M.T
    grid = (pts[..., :2] / pts[..., 2:]).expand(2, 5, 4, 2)
    expected = F.grid_sample(U, grid, mode="bilinear", padding_mode="zeros", align_corners=ac)
    torch.testing.assert_close(V, expected, rtol=0, atol=1e-12)


def test_tps_with_three_control_points_per_side():
    g = torch.Generator().manual_seed(3)
    disp = (torch.rand(9, 2, generator=g, dtype=D) - 0.5) * 0.3
    st = fix(SpatialTransformer(2, align_corners=True, transform="tps", tps_points=3, out_size=(6, 5)).double(),
             disp)
    assert st.tps_points == 3 and st.loc[0].n_params == 18
    U = data(2, 2, 7, 7)
    V, theta = st(U)
    torch.testing.assert_close(theta, disp.expand(2, 9, 2))
    grid = tps_grid(disp.expand(2, 9, 2), regular_control_points(3, dtype=D), (6, 5), align_corners=True)
    expected = F.grid_sample(U, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    torch.testing.assert_close(V, expected, rtol=0, atol=1e-12)
    assert SpatialTransformer(1, align_corners=True, transform="tps").theta(torch.rand(1, 1, 8, 8)).shape == \
        (1, 16, 2)


@pytest.mark.parametrize("ac", [False, True])
@pytest.mark.parametrize("kernel,padding", [("bilinear", "zeros"), ("nearest", "border"),
                                            ("bicubic", "reflection")])
def test_timewarp_reads_scale_times_time_plus_shift(kernel, padding, ac):
    st = fix(SpatialTransformer(2, align_corners=ac, transform="timewarp", out_size=9, kernel=kernel,
                                padding_mode=padding).double(), [0.8, 0.15])
    assert st.out_size == (9,)
    U = data(3, 2, 12)
    V, theta = st(U)
    torch.testing.assert_close(theta, torch.tensor([[0.8, 0.15]] * 3, dtype=D))
    s, t = theta.unbind(1)
    torch.testing.assert_close(V, timewarp_ref(U, s, t, 9, kernel=kernel, padding=padding, ac=ac),
                               rtol=0, atol=1e-10)
    conv = [m for m in st.loc[0].body if isinstance(m, (nn.Conv1d, nn.Conv2d))]
    assert all(isinstance(m, nn.Conv1d) for m in conv) and len(conv) == 2


def test_timewarp_amplitude_scales_and_offsets_per_sample():
    st = SpatialTransformer(1, align_corners=False, transform="timewarp", amplitude=True, out_size=7).double()
    assert st.loc[0].head.bias.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert st.loc[0].n_params == 4
    U = data(3, 1, 10)
    fix(st, [0.9, -0.1, 2.0, -0.5])
    move_heads(st)
    V, theta = st(U)
    loc = st.loc[0]
    flat = loc.body(U) @ loc.head.weight.T + loc.head.bias
    torch.testing.assert_close(theta, flat)
    assert theta.shape == (3, 4) and not torch.allclose(theta[0], theta[1])
    s, t, a, b = theta.unbind(1)
    expected = a[:, None, None] * timewarp_ref(U, s, t, 7) + b[:, None, None]
    torch.testing.assert_close(V, expected, rtol=0, atol=1e-12)
    # and through warp with a θ from elsewhere
    th = torch.tensor([[1.0, 0.0, 3.0, 1.0], [0.5, 0.2, -1.0, 0.25], [-1.0, 0.0, 1.0, 0.0]], dtype=D)
    expected = th[:, 2, None, None] * timewarp_ref(U, th[:, 0], th[:, 1], 7) + th[:, 3, None, None]
    torch.testing.assert_close(st.warp(U, th), expected, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- θ per channel, per transformer, shared


def test_per_channel_theta_from_the_layers_own_body_and_head():
    st = SpatialTransformer(3, align_corners=True, per_channel=True, padding_mode="border").double()
    loc = st.loc[0]
    assert (loc.copies, loc.head.out_features) == (3, 18)
    assert loc.head.bias.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0] * 3
    assert [m.in_channels for m in loc.body if isinstance(m, nn.Conv2d)][0] == 3
    fix(st, torch.cat([THETA.flatten(), THETA.flip(1).flatten(), (0.5 * THETA).flatten()]))
    move_heads(st)
    U = data(2, 3, 8, 8)
    V, theta = st(U)
    flat = loc.body(U) @ loc.head.weight.T + loc.head.bias
    expected_theta = flat.view(2, 3, 2, 3)
    torch.testing.assert_close(theta, expected_theta)
    assert not torch.allclose(theta[0], theta[1])
    for c in range(3):
        torch.testing.assert_close(V[:, c:c + 1], affine_ref(U[:, c:c + 1], theta[:, c], (8, 8),
                                                             padding="border", ac=True), rtol=0, atol=1e-12)


def test_per_channel_timewarp_with_amplitude():
    st = SpatialTransformer(2, align_corners=False, transform="timewarp", per_channel=True,
                            amplitude=True).double()
    fix(st, [0.9, 0.1, 2.0, 0.5, 1.1, -0.2, -1.0, 0.25])
    U = data(3, 2, 11)
    V, theta = st(U)
    assert theta.shape == (3, 2, 4)
    for c, (s, t, a, b) in enumerate([(0.9, 0.1, 2.0, 0.5), (1.1, -0.2, -1.0, 0.25)]):
        expected = a * timewarp_ref(U[:, c:c + 1], torch.full((3,), s, dtype=D), torch.full((3,), t, dtype=D),
                                    11) + b
        torch.testing.assert_close(V[:, c:c + 1], expected, rtol=0, atol=1e-12)


def test_parallel_transformers_each_with_its_own_net():
    body = fc_body(2 * 36, hidden=5)
    st = SpatialTransformer(2, align_corners=False, n_transformers=2, out_size=(4, 4), loc_body=body,
                            loc_features=5).double()
    assert len(st.loc) == 2 and st.loc[0].body is not st.loc[1].body and st.loc[0].body is not body
    for loc in st.loc:
        assert (loc.copies, loc.head.out_features) == (1, 6)
        for p, q in zip(loc.body.parameters(), body.parameters(), strict=True):
            torch.testing.assert_close(p, q.double())  # deep copies of the given body
    with torch.no_grad():  # the copies share no parameters
        st.loc[0].body[1].weight.add_(1.0)
    assert not torch.allclose(st.loc[1].body[1].weight, st.loc[0].body[1].weight)
    assert not torch.allclose(body[1].weight.double(), st.loc[0].body[1].weight)
    second = torch.tensor([[1.1, 0.1, -0.2], [-0.1, 0.9, 0.3]], dtype=D)
    fix(st, THETA, second)
    move_heads(st)
    U = data(3, 2, 6, 6)
    V, theta = st(U)
    assert theta.shape == (3, 2, 2, 3) and V.shape == (3, 4, 4, 4)
    for k, loc in enumerate(st.loc):
        flat = loc.body(U) @ loc.head.weight.T + loc.head.bias
        torch.testing.assert_close(theta[:, k], flat.view(3, 2, 3))
        torch.testing.assert_close(V[:, 2 * k:2 * k + 2], affine_ref(U, theta[:, k], (4, 4)), rtol=0, atol=1e-12)


def test_shared_localization_regresses_all_theta_with_one_net():
    st = SpatialTransformer(1, align_corners=False, n_transformers=3, shared_localization=True,
                            transform="attention", out_size=(5, 5)).double()
    assert len(st.loc) == 1 and len(list(st.localization_parameters())) == len(list(st.loc[0].parameters()))
    loc = st.loc[0]
    assert (loc.copies, loc.head.out_features) == (3, 9)
    assert loc.head.bias.tolist() == [1.0, 0.0, 0.0] * 3
    fix(st, [0.5, 0.2, 0.1, 0.8, -0.3, 0.0, 1.2, 0.0, 0.25])
    move_heads(st)
    U = data(2, 1, 9, 9)
    V, theta = st(U)
    flat = (loc.body(U) @ loc.head.weight.T + loc.head.bias).view(2, 3, 3)
    torch.testing.assert_close(theta, flat)
    assert theta.shape == (2, 3, 3) and V.shape == (2, 3, 5, 5)
    for k in range(3):
        s, tx, ty = flat[:, k].unbind(1)
        z = torch.zeros_like(s)
        affine = torch.stack([torch.stack([s, z, tx], 1), torch.stack([z, s, ty], 1)], 1)
        torch.testing.assert_close(V[:, k:k + 1], affine_ref(U, affine, (5, 5)), rtol=0, atol=1e-12)


def test_shared_localization_of_two_is_accepted():
    st = SpatialTransformer(1, align_corners=False, n_transformers=2, shared_localization=True)
    assert len(st.loc) == 1 and st.loc[0].copies == 2
    assert st(torch.rand(2, 1, 8, 8))[1].shape == (2, 2, 2, 3)


def test_warp_checks_the_leading_axes_of_theta():
    U = data(3, 2, 6, 6)
    st = SpatialTransformer(2, align_corners=False)
    with pytest.raises(ValueError, match="^" + re.escape(
            "theta must start with the axes N = (3,), as SpatialTransformer.theta returns; "
            "got shape (2, 2, 3)") + "$"):
        st.warp(U, torch.rand(2, 2, 3, dtype=D))
    st = SpatialTransformer(2, align_corners=False, per_channel=True)
    with pytest.raises(ValueError, match="^" + re.escape(
            "theta must start with the axes N×C = (3, 2), as SpatialTransformer.theta returns; "
            "got shape (3, 3, 2, 3)") + "$"):
        st.warp(U, torch.rand(3, 3, 2, 3, dtype=D))
    st = SpatialTransformer(2, align_corners=False, n_transformers=2)
    with pytest.raises(ValueError, match="^" + re.escape(
            "theta must start with the axes N×K = (3, 2), as SpatialTransformer.theta returns; "
            "got shape (3, 3, 2, 3)") + "$"):
        st.warp(U, torch.rand(3, 3, 2, 3, dtype=D))
    with pytest.raises(TypeError, match="^" + re.escape(
            "theta must be a torch.Tensor as SpatialTransformer.theta returns, got list") + "$"):
        st.warp(U, [[1.0]])
    with pytest.raises(TypeError, match="^" + re.escape(
            "theta must have a floating dtype (float32 or float64), got torch.int64; "
            "convert it with theta.float()") + "$"):
        st.warp(U, torch.ones(3, 2, 2, 3, dtype=torch.int64))


def test_warp_checks_u():
    st = SpatialTransformer(2, align_corners=False)
    with pytest.raises(ValueError, match="^" + re.escape(
            "U must be a 4-D tensor N×C×H×W, got shape (2, 6, 6)") + "$"):
        st.warp(data(2, 6, 6), THETA.expand(2, 2, 3))
    with pytest.raises(TypeError, match="^" + re.escape("U must be a torch.Tensor N×C×H×W, got list") + "$"):
        st.warp([1.0], THETA.expand(2, 2, 3))
    tw = SpatialTransformer(2, align_corners=False, transform="timewarp")
    with pytest.raises(ValueError, match="^" + re.escape(
            "U must be a 3-D tensor N×C×L, got shape (2, 2, 6, 6)") + "$"):
        tw.warp(data(2, 2, 6, 6), torch.ones(2, 2, dtype=D))
    with pytest.raises(TypeError, match="^" + re.escape("U must be a torch.Tensor N×C×L, got list") + "$"):
        tw.warp([1.0], torch.ones(2, 2, dtype=D))


# ---------------------------------------------------------------- input checks of theta / forward


@pytest.mark.parametrize("call", ["theta", "forward"])
def test_input_errors_name_the_layout(call):
    st = SpatialTransformer(1, align_corners=False)
    run = st.theta if call == "theta" else st
    with pytest.raises(ValueError, match="^" + re.escape(
            "U must have 1 channels (N×C×H×W), got shape (2, 3, 8, 8)") + "$"):
        run(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="^" + re.escape(
            "U must be a 4-D tensor N×C×H×W, got shape (8, 8)") + "$"):
        run(torch.rand(8, 8))
    with pytest.raises(TypeError, match="^" + re.escape("U must be a torch.Tensor N×C×H×W, got list") + "$"):
        run([[1.0]])
    with pytest.raises(TypeError, match="^" + re.escape(
            "U must have a floating dtype (float32 or float64), got torch.int64; convert it with U.float()")
            + "$"):
        run(torch.ones(2, 1, 8, 8, dtype=torch.int64))
    tw = SpatialTransformer(2, align_corners=False, transform="timewarp")
    run = tw.theta if call == "theta" else tw
    with pytest.raises(ValueError, match="^" + re.escape(
            "U must have 2 channels (N×C×L), got shape (2, 1, 8)") + "$"):
        run(torch.rand(2, 1, 8))
    with pytest.raises(ValueError, match="^" + re.escape(
            "U must be a 3-D tensor N×C×L, got shape (2, 2, 8, 8)") + "$"):
        run(torch.rand(2, 2, 8, 8))
    with pytest.raises(TypeError, match="^" + re.escape("U must be a torch.Tensor N×C×L, got list") + "$"):
        run([[1.0]])


# ---------------------------------------------------------------- construction


def test_out_size_forms():
    assert SpatialTransformer(1, align_corners=False, out_size=6).out_size == (6, 6)
    assert SpatialTransformer(1, align_corners=False, out_size=[3, 4]).out_size == (3, 4)
    assert SpatialTransformer(1, align_corners=False, out_size=torch.Size([5, 2])).out_size == (5, 2)
    assert SpatialTransformer(1, align_corners=False, transform="timewarp", out_size=[7]).out_size == (7,)
    st = SpatialTransformer(1, align_corners=False, out_size=(3, 5))
    assert st(torch.rand(2, 1, 8, 8))[0].shape == (2, 1, 3, 5)
    tw = SpatialTransformer(1, align_corners=False, transform="timewarp", out_size=4)
    assert tw(torch.rand(2, 1, 9))[0].shape == (2, 1, 4)
    assert SpatialTransformer(1, align_corners=False, transform="timewarp")(torch.rand(2, 1, 9))[0].shape == \
        (2, 1, 9)


def _raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def test_construction_errors_word_for_word():
    def make(**kw):
        return SpatialTransformer(kw.pop("in_channels", 1), **{"align_corners": False, **kw})

    with _raises(ValueError, "in_channels must be positive, got (0,)"):
        make(in_channels=0)
    with _raises(TypeError, "in_channels must be an int or a sequence of 1 ints, got True"):
        make(in_channels=True)
    with _raises(TypeError, "align_corners must be True or False (pass it explicitly), got None"):
        make(align_corners=None)
    with _raises(ValueError, "unknown padding_mode 'wrap'; expected one of 'zeros', 'border', 'reflection'"):
        make(padding_mode="wrap")
    with _raises(ValueError, "unknown sampler 'fast'; expected one of 'native', 'reference'"):
        make(sampler="fast")
    with _raises(ValueError, "unknown kernel 'cubic'; expected one of 'nearest', 'bilinear', 'bicubic'"):
        make(kernel="cubic")
    with _raises(ValueError, "n_transformers must be positive, got (0,)"):
        make(n_transformers=0)
    with _raises(TypeError, "n_transformers must be an int or a sequence of 1 ints, got True"):
        make(n_transformers=True)
    with _raises(ValueError, "choose either n_transformers > 1 or per_channel=True, not both"):
        make(n_transformers=2, per_channel=True)
    with _raises(TypeError, "shared_localization must be True or False (pass it explicitly), got 1"):
        make(n_transformers=2, shared_localization=1)
    with _raises(ValueError, "shared_localization=True needs n_transformers >= 2 (the θ it shares one "
                             "localization net for), got n_transformers=1"):
        make(shared_localization=True)
    with _raises(ValueError, "unknown transform 'similarity'; expected one of 'affine', 'attention', "
                             "'projective', 'tps', 'timewarp'"):
        make(transform="similarity")
    with _raises(ValueError, "out_size must be positive, got (0, 5)"):
        make(out_size=(0, 5))
    with _raises(TypeError, "out_size must be an int or a sequence of 2 ints, got (3,)"):
        make(out_size=(3,))
    with _raises(TypeError, "out_size must be an int or a sequence of 1 ints, got (3, 3)"):
        make(transform="timewarp", out_size=(3, 3))
    with _raises(ValueError, "amplitude=True is only available for transform='timewarp'"):
        make(amplitude=True)
    with _raises(ValueError, "loc_features (the width F of loc_body's N×F output) is required with loc_body"):
        make(loc_body=nn.Flatten())
    # accepted edges
    assert make(per_channel=True).per_channel is True
    assert make(n_transformers=3).n_transformers == 3


def test_forward_is_warp_of_theta():
    st = move_heads(fix(SpatialTransformer(1, align_corners=False, out_size=(5, 5)).double(), THETA))
    U = data(3, 1, 8, 8)
    V, theta = st(U)
    torch.testing.assert_close(theta, st.theta(U), rtol=0, atol=0)
    torch.testing.assert_close(V, affine_ref(U, theta, (5, 5)), rtol=0, atol=1e-12)


def test_a_given_body_gets_the_copies_and_the_amplitude_identity():
    st = SpatialTransformer(3, align_corners=False, per_channel=True, loc_body=fc_body(3 * 16, hidden=4),
                            loc_features=4)
    assert (st.loc[0].copies, st.loc[0].head.out_features) == (3, 18)
    assert st(torch.rand(2, 3, 4, 4))[1].shape == (2, 3, 2, 3)
    st = SpatialTransformer(1, align_corners=False, transform="timewarp", amplitude=True,
                            loc_body=nn.Flatten(), loc_features=6)
    assert st.loc[0].head.bias.tolist() == [1.0, 0.0, 1.0, 0.0] and st.loc[0].n_params == 4
    U = torch.rand(2, 1, 6)
    V, theta = st(U)
    torch.testing.assert_close(V, U, rtol=0, atol=1e-6)
    assert theta.shape == (2, 4)
    st = SpatialTransformer(1, align_corners=False, n_transformers=2, shared_localization=True,
                            loc_body=nn.Flatten(), loc_features=16)
    assert (len(st.loc), st.loc[0].copies, st.loc[0].head.out_features) == (1, 2, 12)


def test_per_channel_warp_checks_u_before_folding_the_channels():
    st = SpatialTransformer(2, align_corners=False, per_channel=True)
    with pytest.raises(ValueError, match="^" + re.escape(
            "U must be a 4-D tensor N×C×H×W, got shape (3, 2, 6)") + "$"):
        st.warp(data(3, 2, 6), THETA.expand(3, 2, 2, 3))
    tw = SpatialTransformer(2, align_corners=False, transform="timewarp", per_channel=True)
    with pytest.raises(ValueError, match="^" + re.escape(
            "U must be a 3-D tensor N×C×L, got shape (3, 2, 6, 6)") + "$"):
        tw.warp(data(3, 2, 6, 6), torch.ones(3, 2, 2, dtype=D))
