"""Lesson 06's 1-D pieces: the time-warp grid against grid_sample, Wang's θ layout, the 1-D
models (shapes, identity at initialization, the amplitude path, flips)."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from stnlib.grids import timewarp_grid, timewarp_theta
from stnlib.models import count_parameters
from stnlib.models import timeseries as ts
from stnlib.sampler import sample_1d

KERNELS = ["nearest", "bilinear", "bicubic"]
# scale, shift: identity, expansion, contraction (reads padding), flips, a shift
WARPS = torch.tensor([[1.0, 0.0], [0.63, 0.21], [1.37, -0.17], [-1.0, 0.0], [-0.8, 0.1], [1.0, 0.31]],
                     dtype=torch.float64)


@pytest.mark.parametrize("kernel,align_corners,padding",
                         list(itertools.product(KERNELS, [False, True], ["zeros", "border"])))
def test_timewarp_equals_grid_sample_on_a_one_row_image(kernel, align_corners, padding):
    g = torch.Generator().manual_seed(0)
    U = torch.randn(len(WARPS), 2, 23, generator=g, dtype=torch.float64)
    grid = timewarp_grid(WARPS, 23, align_corners=align_corners)
    opts = dict(kernel=kernel, padding_mode=padding, align_corners=align_corners)
    ours = sample_1d(U, grid, sampler="reference", **opts)
    # torch's own: the series as an N×C×1×L image, read at x = s·x_i + t, y = 0, with the
    # normalized sample positions x_i written out by hand
    i = torch.arange(23, dtype=torch.float64)
    x = -1 + 2 * i / 22 if align_corners else (2 * i + 1) / 23 - 1
    s, t = WARPS[:, :1], WARPS[:, 1:]
    image_grid = torch.stack([s * x + t, torch.zeros(len(WARPS), 23, dtype=torch.float64)], -1)
    torch_v = F.grid_sample(U[:, :, None], image_grid[:, None], mode=kernel, padding_mode=padding,
                            align_corners=align_corners)[:, :, 0]
    if not align_corners:  # and through affine_grid: θ = [[s, 0, t], [0, 1, 0]], time along x
        theta = torch.zeros(len(WARPS), 2, 3, dtype=torch.float64)
        theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1] = WARPS[:, 0], WARPS[:, 1], 1
        image_grid = F.affine_grid(theta, (len(WARPS), 2, 1, 23), align_corners=False)
        torch.testing.assert_close(ours, F.grid_sample(U[:, :, None], image_grid, mode=kernel,
                                   padding_mode=padding, align_corners=False)[:, :, 0])
    torch.testing.assert_close(ours, torch_v)


@pytest.mark.parametrize("kernel", KERNELS)
def test_wang_theta_reads_the_same_with_time_along_y(kernel):
    """Wang (2018)'s [1, 0, 0, 0, θ22, θ23] on an N×C×L×1 image is our 1-D warp."""
    U = torch.randn(len(WARPS), 1, 17, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    theta = timewarp_theta(WARPS)
    assert theta[:, 0].tolist() == [[1.0, 0.0, 0.0]] * len(WARPS)
    assert torch.equal(theta[:, 1, 1:], WARPS)
    grid = F.affine_grid(theta, (len(WARPS), 1, 17, 1), align_corners=False)
    wang = F.grid_sample(U[..., None], grid, mode=kernel, align_corners=False)[..., 0]
    ours = sample_1d(U, timewarp_grid(WARPS, 17, align_corners=False), kernel=kernel,
                     align_corners=False)
    torch.testing.assert_close(ours, wang)


def test_timewarp_grid_by_hand_and_flip():
    g = timewarp_grid(torch.tensor([[0.5, 0.25], [-1.0, 0.0]]), 4, align_corners=False)
    torch.testing.assert_close(g, torch.tensor([[-0.125, 0.125, 0.375, 0.625], [0.75, 0.25, -0.25, -0.75]]))
    U = torch.arange(6.0).view(1, 1, 6)
    V = sample_1d(U, timewarp_grid(torch.tensor([[-1.0, 0.0]]), 6, align_corners=False),
                  align_corners=False, kernel="bilinear")
    torch.testing.assert_close(V.flatten(), torch.arange(5.0, -1, -1))


@pytest.mark.parametrize("length", [40, 128, 150])
def test_series_cnn_shapes_and_greydanus_size(length):
    model = ts.cnn(length, 10)
    assert model(torch.randn(3, 1, length)).shape == (3, 10)
    if length == 40:  # Greydanus (2020)'s CNN: 25 channels, 125 features before the linear layer
        assert model.body.head.in_features == 125
        assert count_parameters(model) == (5 * 25 + 25) + 2 * (3 * 25 * 25 + 25) + (125 * 10 + 10)


@pytest.mark.parametrize("amplitude,kernel", list(itertools.product([False, True], KERNELS)))
def test_st_cnn_is_the_identity_at_initialization(amplitude, kernel):
    torch.manual_seed(0)
    model = ts.st_cnn(40, 10, amplitude=amplitude, kernel=kernel)
    U = torch.randn(5, 1, 40)
    V, theta = model.transformed(U)
    assert theta.shape == (5, 4 if amplitude else 2)
    expected = torch.tensor([1.0, 0.0, 1.0, 0.0][: theta.shape[1]])
    assert torch.equal(theta, expected.expand_as(theta))
    torch.testing.assert_close(V, U, atol=1e-5, rtol=0)  # float32 rounding of the positions
    torch.testing.assert_close(model(U), model.body(U))  # the body sees exactly U


def test_st_cnn_amplitude_path_and_flip():
    model = ts.st_cnn(40, 10, amplitude=True)
    head = model.transformer.loc[0].head
    with torch.no_grad():
        head.bias.copy_(torch.tensor([-1.0, 0.0, 2.0, 0.5]))  # flip time, double, lift by 0.5
    U = torch.randn(2, 1, 40)
    V, _ = model.transformed(U)
    torch.testing.assert_close(V, 2 * U.flip(-1) + 0.5, atol=1e-5, rtol=0)
    p = ts.warp_parameters(model.transformer(U)[1])
    assert p["scale"].tolist() == [-1.0, -1.0] and p["offset"].tolist() == [0.5, 0.5]


def test_the_warp_learns_gradients_reach_theta():
    model = ts.st_cnn(40, 10)
    U = torch.randn(4, 1, 40)
    model(U).logsumexp(1).sum().backward()
    head = model.transformer.loc[0].head
    assert head.weight.grad.abs().sum() > 0 and head.bias.grad[:4].abs().min() > 0


def test_clear_errors():
    with pytest.raises(ValueError, match=r"x must be N×1×40 \(series\), got shape \(2, 1, 39\)"):
        ts.cnn(40)(torch.zeros(2, 1, 39))
    with pytest.raises(ValueError, match="x must be a 3-D tensor"):
        ts.cnn(40)(torch.zeros(2, 40))
    with pytest.raises(ValueError, match="length must be at least 8"):
        ts.SeriesCNN(1, 5)
    with pytest.raises(ValueError, match="theta must be N×2 or N×4"):
        ts.warp_parameters(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"params must have shape N×2 \(scale, shift\)"):
        timewarp_theta(torch.zeros(3, 3))


# ------------------------------------------------ issue 25: options away from the identity

@pytest.mark.parametrize("amplitude", [True, False])
def test_st_cnn_passes_padding_and_kernel_on_and_they_show_in_a_zoomed_out_v(amplitude):
    from option_checks import assert_kernel_shows, assert_padding_shows

    x = torch.rand(3, 1, 40, dtype=torch.float64) + 0.5
    assert_padding_shows(lambda **kw: ts.st_cnn(40, amplitude=amplitude, **kw), x)
    assert_kernel_shows(lambda **kw: ts.st_cnn(40, amplitude=amplitude, padding_mode="border", **kw), x)


def test_parameter_matched_cnn_is_the_smallest_width_reaching_the_target():
    for length, n_classes in ((40, 10), (128, 3), (150, 2)):
        target = count_parameters(ts.st_cnn(length, n_classes))
        model = ts.parameter_matched_cnn(target, length, n_classes)
        width = model.body.channels
        assert count_parameters(model) >= target
        assert count_parameters(ts.cnn(length, n_classes, channels=width - 1)) < target
        assert model.transformer is None
        assert model(torch.rand(2, 1, length)).shape == (2, n_classes)
    # a target the plain CNN already reaches keeps the smallest width that does
    assert ts.parameter_matched_cnn(1, 40, 10).body.channels == 1
    with pytest.raises(ValueError, match="params"):
        ts.parameter_matched_cnn(0, 40, 10)


def test_st_cnn_per_series_false_learns_one_warp_for_every_series():
    torch.manual_seed(0)
    model = ts.st_cnn(40, 3, per_series=False)
    x = torch.randn(16, 1, 40)
    y = torch.randint(0, 3, (16,))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    _, theta = model.transformed(torch.randn(8, 1, 40) * 3)
    # θ moved away from the identity (the bias learns) ...
    assert not torch.allclose(theta[0], torch.tensor([1.0, 0.0, 1.0, 0.0]), atol=1e-3)
    # ... but is the same warp for every series, whatever the input
    assert torch.allclose(theta, theta[:1].expand_as(theta))
    # while Wang's transformer gives different series different θ once trained
    torch.manual_seed(0)
    wang = ts.st_cnn(40, 3)
    opt = torch.optim.Adam(wang.parameters(), lr=0.05)
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(wang(x), y).backward()
        opt.step()
    _, theta = wang.transformed(x)
    assert theta.std(0).max() > 1e-3
