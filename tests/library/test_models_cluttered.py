"""stnlib.models.cluttered: lesson 04's models (Possatti & de Freitas, Tables I-II; TC; collapse)."""

import pytest
import torch
from torch import nn

from stnlib.models import cluttered as zoo
from stnlib.models import count_parameters
from stnlib.theta import identity


def _params_by_hand_baseline(in_size, c=32, hidden=256, n=10):
    side = ((in_size - 2) // 2 - 2) // 2
    return (9 * c + c) + (9 * c * c + c) + (c * side * side * hidden + hidden) + (hidden * n + n)


def _params_by_hand_loc(in_size, c=20, hidden=50):
    side = (in_size // 2 - 4) // 2 - 4
    return (25 * c + c) + (25 * c * c + c) + (c * side * side * hidden + hidden) + (hidden * 6 + 6)


@pytest.mark.parametrize("in_size", [40, 60, 64])
def test_baseline_shape_and_parameter_count(in_size):
    model = zoo.baseline(in_size)
    assert model.transformer is None
    assert model(torch.rand(3, 1, in_size, in_size)).shape == (3, 10)
    assert count_parameters(model) == _params_by_hand_baseline(in_size)


def test_stn_parameter_count_is_baseline_plus_table1():
    model = zoo.stn(40)
    assert count_parameters(model.transformer) == _params_by_hand_loc(40)
    assert count_parameters(model) == _params_by_hand_baseline(40) + _params_by_hand_loc(40)
    # with a downsampling transformer the classifier is built for the output size
    tc = zoo.tc_st_cnn(60, out_size=30)
    assert count_parameters(tc) == _params_by_hand_baseline(30) + _params_by_hand_loc(60)


@pytest.mark.parametrize("make,size,out", [(lambda: zoo.stn(40), 40, 40),
                                           (lambda: zoo.tc_st_cnn(60), 60, 30),
                                           (lambda: zoo.stn(40, activation="linear"), 40, 40)])
def test_stn_is_the_identity_at_initialization(make, size, out):
    torch.manual_seed(0)
    model = make()
    U = torch.rand(4, 1, size, size)
    V, theta = model.transformed(U)
    assert V.shape == (4, 1, out, out)
    torch.testing.assert_close(theta, identity(4))
    if out == size:
        torch.testing.assert_close(V, U, atol=1e-5, rtol=0)
    else:  # the identity grid at half the size averages 2×2 blocks (bilinear, align_corners=False)
        torch.testing.assert_close(V, nn.functional.avg_pool2d(U, 2), atol=1e-5, rtol=0)
    assert model(U).shape == (4, 10)


def test_linear_activation_removes_the_relus_only():
    relu, linear = zoo.seed_localization(40)[0], zoo.seed_localization(40, activation="linear")[0]
    assert sum(isinstance(m, nn.ReLU) for m in relu) == 3
    assert sum(isinstance(m, nn.ReLU) for m in linear) == 1  # the FC 50's ReLU stays (Table I)
    assert count_parameters(relu) == count_parameters(linear)


def test_collapse_model_switches():
    torch.manual_seed(0)
    U = torch.rand(5, 1, 64, 64)
    _, theta = zoo.collapse_stn((0.0, 1.0)).transformed(U)  # random head: θ far from the identity, near 0
    assert theta[:, :, :2].det().abs().sqrt().max() < 0.5
    _, theta = zoo.collapse_stn((0.0, 1.0), identity_init=True).transformed(U)
    torch.testing.assert_close(theta, identity(5))
    # bounded, identity start: exactly the identity with zero weights
    _, theta = zoo.collapse_stn((0.0, 1.0), identity_init=True, bounded=True).transformed(U)
    torch.testing.assert_close(theta, identity(5))
    # the naive tanh-over-identity start is a zoom in to tanh(1) ≈ 0.76
    _, theta = zoo.collapse_stn((0.0, 1.0), identity_init=True, bounded=True, bound_start="naive",
                                bound=(1.0, 1.0)).transformed(U)
    torch.testing.assert_close(theta[:, 0, 0], torch.full((5,), torch.tanh(torch.tensor(1.0)).item()))
    # bounded θ stays within its bounds whatever the features
    model = zoo.collapse_stn((0.0, 1.0), bounded=True)
    head = model.transformer.loc[0].head
    theta = head(torch.randn(100, 50) * 100).view(100, 2, 3)
    assert theta[:, :, :2].abs().max() <= 1.5 and theta[:, :, 2].abs().max() <= 1.0
    # normalize after the warp: the classifier standardizes the transformer's output
    model = zoo.collapse_stn((0.1, 0.2), normalize_after=True)
    assert isinstance(model.body[0], zoo.Standardize) and model.standardize is None
    torch.testing.assert_close(model.body[0](torch.tensor([0.1, 0.3])), torch.tensor([0.0, 1.0]))
    # the collapsing recipe standardizes before the transformer
    assert zoo.collapse_stn((0.1, 0.2)).standardize == (0.1, 0.2)
    assert zoo.collapse_stn((0.0, 1.0), padding_mode="border").transformer.padding_mode == "border"


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="activation"):
        zoo.seed_localization(40, activation="tanh")
    with pytest.raises(ValueError, match="in_size must be at least 28"):
        zoo.seed_localization(20)
    with pytest.raises(ValueError, match="in_size must be at least 10"):
        zoo.seed_body(8)
    with pytest.raises(ValueError, match=r"bound\[0\] > 1"):
        zoo.collapse_stn((0.0, 1.0), bounded=True, bound=(1.0, 1.0))
    with pytest.raises(ValueError, match="std must be a positive"):
        zoo.Standardize(0.0, 0.0)


# ------------------------------------------------ issue 25: options away from the identity

def test_stn_and_collapse_stn_pass_padding_mode_on_and_it_shows_in_a_zoomed_out_v():
    from option_checks import assert_padding_shows

    x = torch.rand(2, 1, 40, 40, dtype=torch.float64) + 0.5
    assert_padding_shows(lambda **kw: zoo.stn(40, **kw), x)
    x = torch.rand(2, 1, 64, 64, dtype=torch.float64) + 0.5
    assert_padding_shows(lambda **kw: zoo.collapse_stn((0.1, 0.3), identity_init=True, **kw), x)


def test_table_1_localization_pools_first_and_after_the_first_convolution():
    body, _ = zoo.seed_localization(40)
    kinds = [type(m) for m in body if not isinstance(m, (nn.ReLU, nn.Identity))]
    assert kinds == [nn.MaxPool2d, nn.Conv2d, nn.MaxPool2d, nn.Conv2d, nn.Flatten, nn.Linear]
    assert all(m.kernel_size == 2 for m in body if isinstance(m, nn.MaxPool2d))


class TestParameterMatchedCNN:
    @pytest.mark.parametrize("in_size, hidden", [(40, 37), (48, 120), (60, 72), (60, 256)])
    def test_body_hidden_for_inverts_the_parameter_count(self, in_size, hidden):
        assert zoo.body_hidden_for(_params_by_hand_baseline(in_size, hidden=hidden), in_size) == hidden

    @pytest.mark.parametrize("in_size, out_size", [(40, 20), (48, 24), (60, 30)])
    def test_tc_cnn_matches_the_st_cnn_count_within_half_a_unit(self, in_size, out_size):
        target = count_parameters(zoo.tc_st_cnn(in_size, out_size=out_size))
        cnn = zoo.tc_cnn(in_size, params=target)
        side = ((in_size - 2) // 2 - 2) // 2
        per_unit = 32 * side * side + 1 + 10
        assert abs(count_parameters(cnn) - target) <= per_unit / 2
        assert count_parameters(cnn) != count_parameters(zoo.tc_cnn(in_size))  # Table II's 256 units differ
        assert cnn.transformer is None and cnn(torch.rand(2, 1, in_size, in_size)).shape == (2, 10)

    def test_default_tc_cnn_is_table_ii_and_too_few_parameters_is_an_error(self):
        assert count_parameters(zoo.tc_cnn(60)) == _params_by_hand_baseline(60)
        smallest = _params_by_hand_baseline(60, hidden=1)
        assert zoo.body_hidden_for(smallest, 60) == 1
        for bad in (smallest - 1, 1000.0, True):
            with pytest.raises(ValueError, match="params must be an int of at least"):
                zoo.body_hidden_for(bad, 60)
