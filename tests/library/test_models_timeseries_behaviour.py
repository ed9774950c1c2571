"""Lesson 06's 1-D models against hand-written references (issue 25, mutation run of 2026-12-05): the
SeriesCNN and Wang's localization body as explicit torch.nn.functional code on the modules' own weights,
st_cnn's defaults as the warp V = a·U(s·x + t) + b they hand the body, and every error message."""

import pytest
import torch
import torch.nn.functional as F

from stnlib.grids import timewarp_grid
from stnlib.models import count_parameters
from stnlib.models import timeseries as ts
from stnlib.sampler import sample_1d


def _series_cnn_by_hand(model: ts.SeriesCNN, x: torch.Tensor) -> torch.Tensor:
    """Greydanus' CNN: conv 5 /2 → ReLU → conv 3 /2 → ReLU → conv 3 /2 → ReLU → flatten → linear."""
    convs = [m for m in model.features if isinstance(m, torch.nn.Conv1d)]
    assert [tuple(c.weight.shape[2:]) for c in convs] == [(5,), (3,), (3,)]
    h = x
    for c in convs:
        h = F.relu(F.conv1d(h, c.weight, c.bias, stride=2, padding=1))
    return F.linear(h.flatten(1), model.head.weight, model.head.bias)


@pytest.mark.parametrize("in_channels,length,n_classes,channels", [(1, 40, 10, 25), (2, 8, 3, 4), (3, 23, 2, 5)])
def test_series_cnn_is_greydanus_cnn_written_out(in_channels, length, n_classes, channels):
    torch.manual_seed(0)
    model = ts.SeriesCNN(in_channels, length, n_classes, channels=channels).double()
    assert (model.in_channels, model.length, model.channels) == (in_channels, length, channels)
    x = torch.randn(4, in_channels, length, dtype=torch.float64)
    torch.testing.assert_close(model(x), _series_cnn_by_hand(model, x))
    assert all(c.out_channels == channels for c in model.features if isinstance(c, torch.nn.Conv1d))
    assert model.head.out_features == n_classes


def test_series_cnn_defaults_and_cnn_defaults():
    model = ts.SeriesCNN()
    assert (model.in_channels, model.length, model.channels, model.head.out_features) == (1, 40, 25, 10)
    base = ts.cnn()
    assert base.transformer is None and (base.body.in_channels, base.body.length, base.body.channels) == (1, 40, 25)
    assert base(torch.zeros(2, 1, 40)).shape == (2, 10)
    wide = ts.cnn(23, 3, in_channels=2, channels=7)
    assert (wide.body.in_channels, wide.body.length, wide.body.channels, wide.body.head.out_features) == \
        (2, 23, 7, 3)


def _wang_by_hand(body: torch.nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """Wang (2018) §4.1.2 in 1-D: conv 7 (8) → max-pool 2 → ReLU → conv 5 (10) → max-pool 2 → ReLU →
    adaptive max-pool 6 → FC 32 → ReLU."""
    c1, c2 = [m for m in body if isinstance(m, torch.nn.Conv1d)]
    (fc,) = [m for m in body if isinstance(m, torch.nn.Linear)]
    assert c1.weight.shape[0] == 8 and c1.weight.shape[2] == 7
    assert tuple(c2.weight.shape) == (10, 8, 5) and tuple(fc.weight.shape) == (32, 60)
    h = F.relu(F.max_pool1d(F.conv1d(x, c1.weight, c1.bias), 2))
    h = F.relu(F.max_pool1d(F.conv1d(h, c2.weight, c2.bias), 2))
    h = F.adaptive_max_pool1d(h, 6).flatten(1)
    return F.relu(F.linear(h, fc.weight, fc.bias))


@pytest.mark.parametrize("in_channels,length", [(1, 40), (3, 36), (2, 128)])
def test_wang_localization_is_wang_body_written_out(in_channels, length):
    torch.manual_seed(1)
    body, features = ts.wang_localization(in_channels)
    assert features == 32
    body = body.double()
    x = torch.randn(5, in_channels, length, dtype=torch.float64)
    torch.testing.assert_close(body(x), _wang_by_hand(body, x))
    assert ts.wang_localization()[0][0].in_channels == 1


def _set_theta(model, theta):
    head = model.transformer.loc[0].head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.tensor(theta))


def test_st_cnn_defaults_are_wang_transformer_with_amplitude_bilinear_and_border():
    torch.manual_seed(0)
    model = ts.st_cnn()
    assert (model.body.in_channels, model.body.length, model.body.channels, model.body.head.out_features) == \
        (1, 40, 25, 10)
    _set_theta(model, [0.5, 0.3, 2.0, -0.25])  # zoom in off centre, double, lower
    x = torch.randn(3, 1, 40)
    V, theta = model.transformed(x)
    assert theta.tolist() == [[0.5, 0.30000001192092896, 2.0, -0.25]] * 3
    grid = timewarp_grid(theta[:, :2], 40, align_corners=False)
    expected = 2.0 * sample_1d(x, grid, align_corners=False, kernel="bilinear", padding_mode="border") - 0.25
    torch.testing.assert_close(V, expected)
    torch.testing.assert_close(model(x), model.body(V))
    # the localization net is Wang's body: the transformer's θ depends on the series
    assert [m.kernel_size for m in model.transformer.loc[0].body if isinstance(m, torch.nn.Conv1d)] == [(7,), (5,)]


def test_st_cnn_arguments_reach_the_body_and_the_transformer():
    torch.manual_seed(0)
    model = ts.st_cnn(23, 3, in_channels=2, channels=6, amplitude=False, kernel="nearest",
                      padding_mode="zeros")
    assert (model.body.in_channels, model.body.length, model.body.channels, model.body.head.out_features) == \
        (2, 23, 6, 3)
    _set_theta(model, [1.7, 0.2])  # zoom out: reads past both ends
    x = torch.rand(4, 2, 23) + 0.5
    V, theta = model.transformed(x)
    assert theta.shape == (4, 2)
    grid = timewarp_grid(theta, 23, align_corners=False)
    torch.testing.assert_close(V, sample_1d(x, grid, align_corners=False, kernel="nearest", padding_mode="zeros"))
    assert (V == 0).any()  # zeros padding shows
    assert model(x).shape == (4, 3)


def test_st_cnn_per_series_false_has_a_blind_body():
    model = ts.st_cnn(per_series=False)
    _set_theta(model, [0.8, -0.1, 1.0, 0.0])
    _, theta = model.transformed(torch.randn(3, 1, 40) * 5)
    assert torch.equal(theta, torch.tensor([[0.8, -0.1, 1.0, 0.0]]).expand(3, 4))
    assert count_parameters(model.transformer) == 1 * 4 + 4  # the head alone: 1 feature → 4 θ entries


def test_parameter_matched_cnn_defaults():
    model = ts.parameter_matched_cnn(count_parameters(ts.cnn(channels=9)))
    assert model.body.channels == 9 and (model.body.in_channels, model.body.length) == (1, 40)
    assert model.body.head.out_features == 10
    two = ts.parameter_matched_cnn(count_parameters(ts.cnn(23, 3, in_channels=2, channels=5)), 23, 3, in_channels=2)
    assert (two.body.channels, two.body.in_channels, two.body.length, two.body.head.out_features) == (5, 2, 23, 3)
    # one parameter more than width 9 has needs width 10
    assert ts.parameter_matched_cnn(count_parameters(ts.cnn(channels=9)) + 1).body.channels == 10


def test_warp_parameters_names_each_column():
    theta = torch.tensor([[0.5, 0.1, 2.0, -1.0], [1.5, -0.2, 0.5, 3.0]])
    p = ts.warp_parameters(theta)
    assert list(p) == ["scale", "shift", "amplitude", "offset"]
    assert [p[k].tolist() for k in p] == theta.t().tolist()
    p = ts.warp_parameters(theta[:, :2])
    assert list(p) == ["scale", "shift"] and p["shift"].tolist() == [0.10000000149011612, -0.20000000298023224]
    assert ts.WARP_NAMES == ("scale", "shift", "amplitude", "offset")


def test_error_messages():
    with pytest.raises(ValueError) as err:
        ts.cnn(40, in_channels=2)(torch.zeros(2, 1, 40))
    assert str(err.value) == "x must be N×2×40 (series), got shape (2, 1, 40)"
    with pytest.raises(ValueError) as err:
        ts.check_series(torch.zeros(2, 1, 39), 1, 40, name="series")
    assert str(err.value) == "series must be N×1×40 (series), got shape (2, 1, 39)"
    ts.check_series(torch.zeros(2, 1, 40), 1, 40)
    with pytest.raises(ValueError) as err:
        ts.check_series(torch.zeros(1, 40), 1, 40)
    assert str(err.value) == "x must be a 3-D tensor N×C×L, got shape (1, 40)"
    with pytest.raises(ValueError) as err:
        ts.SeriesCNN(1, 7)
    assert str(err.value) == "length must be at least 8 (three stride-2 convolutions), got 7"
    ts.SeriesCNN(1, 8)
    for kwargs, name in [(dict(in_channels=0), "in_channels"), (dict(length=0), "length"),
                         (dict(n_classes=0), "n_classes"), (dict(channels=0), "channels")]:
        with pytest.raises(ValueError) as err:
            ts.SeriesCNN(**kwargs)
        assert str(err.value) == f"{name} must be positive, got (0,)"
    with pytest.raises(ValueError) as err:
        ts.wang_localization(0)
    assert str(err.value) == "in_channels must be positive, got (0,)"
    with pytest.raises(ValueError) as err:
        ts.parameter_matched_cnn(0)
    assert str(err.value) == "params must be positive, got (0,)"
    with pytest.raises(ValueError) as err:
        ts.warp_parameters(torch.zeros(3, 3))
    assert str(err.value) == "theta must be N×2 or N×4, got shape (3, 3)"
    with pytest.raises(ValueError) as err:
        ts.warp_parameters(torch.zeros(3))
    assert str(err.value) == \
        "theta must be a 2-D tensor N×2 (scale, shift) or N×4 (+ amplitude, offset), got shape (3,)"
