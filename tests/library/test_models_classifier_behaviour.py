"""stnlib.models.classifier against the same networks written out with torch.nn.functional on the
modules' own weights (issue 25, mutation run of 2026-12-05): CNN with and without its hidden layer, FCN,
Classifier's standardize → transformer → body order with a non-identity θ, the detached last θ and V,
the defaults, and every error message."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib.models import classifier as C
from stnlib.transformer import SpatialTransformer


def cnn_by_hand(model: C.CNN, x: torch.Tensor) -> torch.Tensor:
    c1, c2 = [m for m in model.features if isinstance(m, nn.Conv2d)]
    k = c1.kernel_size[0]
    h = F.max_pool2d(F.relu(F.conv2d(x, c1.weight, c1.bias, padding=k // 2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, c2.weight, c2.bias, padding=k // 2)), 2).flatten(1)
    if model.hidden is None:
        return F.linear(h, model.head.weight, model.head.bias)
    first, _, last = model.head
    return F.linear(F.relu(F.linear(h, first.weight, first.bias)), last.weight, last.bias)


@pytest.mark.parametrize("in_channels,in_size,n_classes,channels,hidden,k", [
    (1, 8, 3, (2, 3), None, 3), (2, 9, 4, (3, 2), 5, 5), (3, 4, 2, (1, 1), 2, 1)])
def test_cnn_is_conv_relu_pool_twice_then_the_head(in_channels, in_size, n_classes, channels, hidden, k):
    torch.manual_seed(0)
    model = C.CNN(in_channels, in_size, n_classes, channels=channels, hidden=hidden, kernel_size=k).double()
    x = torch.randn(3, in_channels, in_size, in_size, dtype=torch.float64)
    torch.testing.assert_close(model(x), cnn_by_hand(model, x))
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == \
        [(in_channels, channels[0], (k, k)), (channels[0], channels[1], (k, k))]
    assert (model.in_channels, model.in_size, model.channels, model.hidden) == \
        (in_channels, in_size, channels, hidden)
    assert model(x).shape == (3, n_classes)
    if hidden is not None:
        assert model.head[0].out_features == hidden


def test_cnn_defaults():
    model = C.CNN()
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [(1, 32, (5, 5)), (32, 64, (5, 5))]
    assert (model.in_size, model.hidden, model.head[0].in_features, model.head[-1].out_features) == \
        (28, 128, 64 * 7 * 7, 10)


def fcn_by_hand(model: C.FCN, x: torch.Tensor) -> torch.Tensor:
    a, b, c = [m for m in model.net if isinstance(m, nn.Linear)]
    h = F.relu(F.linear(x.flatten(1), a.weight, a.bias))
    return F.linear(F.relu(F.linear(h, b.weight, b.bias)), c.weight, c.bias)


def test_fcn_is_three_linear_layers_with_relus_and_its_defaults():
    torch.manual_seed(0)
    model = C.FCN(2, 5, 3, hidden=7).double()
    x = torch.randn(4, 2, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(model(x), fcn_by_hand(model, x))
    assert [(m.in_features, m.out_features) for m in model.net if isinstance(m, nn.Linear)] == \
        [(50, 7), (7, 7), (7, 3)]
    assert (model.in_channels, model.in_size, model.hidden) == (2, 5, 7)
    default = C.FCN()
    assert [(m.in_features, m.out_features) for m in default.net if isinstance(m, nn.Linear)] == \
        [(784, 64), (64, 64), (64, 10)]


def test_count_parameters_counts_only_trainable_ones():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    assert C.count_parameters(model) == 16 + 10
    model[0].weight.requires_grad_(False)
    assert C.count_parameters(model) == 4 + 10


THETA = torch.tensor([[0.6, -0.3, 0.5], [0.2, 0.9, -0.4]], dtype=torch.float64)


def fixed_transformer(**kwargs) -> SpatialTransformer:
    """A transformer whose θ is THETA for every input: the head's weight is 0, its bias THETA."""
    st = SpatialTransformer(1, align_corners=False, **kwargs).double()
    head = st.loc[0].head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(THETA.flatten())
    return st


class Body(nn.Module):
    """Keeps what it was given; logits are a fixed linear map of it."""

    def __init__(self, size):
        super().__init__()
        self.linear = nn.Linear(size * size, 2).double()
        self.seen = None

    def forward(self, x):
        self.seen = x
        return self.linear(x.flatten(1))


def warped(x, padding_mode="zeros"):
    grid = F.affine_grid(THETA.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def test_classifier_standardizes_then_warps_then_classifies():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 6, 6, dtype=torch.float64)
    body = Body(6)
    model = C.Classifier(body, fixed_transformer(), standardize=(0.25, 0.5))
    assert model.standardize == (0.25, 0.5)
    logits = model(x)
    expected_v = warped((x - 0.25) / 0.5)  # the zero padding reads -mean/std on the image's scale
    torch.testing.assert_close(body.seen, expected_v)
    torch.testing.assert_close(logits, body.linear(expected_v.flatten(1)))
    torch.testing.assert_close(model.last_output, expected_v)
    torch.testing.assert_close(model.last_theta, THETA.expand(3, 2, 3))
    assert not model.last_theta.requires_grad and not model.last_output.requires_grad
    V, theta = model.transformed(x)
    torch.testing.assert_close(V, expected_v * 0.5 + 0.25)  # back on the scale of x
    torch.testing.assert_close(theta, THETA.expand(3, 2, 3))


def test_classifier_without_standardize_warps_x_itself():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 6, 6, dtype=torch.float64)
    body = Body(6)
    model = C.Classifier(body, fixed_transformer(padding_mode="border"))
    model(x)
    torch.testing.assert_close(body.seen, warped(x, "border"))
    V, _ = model.transformed(x)
    torch.testing.assert_close(V, warped(x, "border"))


def test_a_baseline_classifier_is_its_body_and_keeps_no_theta():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 6, 6, dtype=torch.float64)
    body = Body(6)
    model = C.Classifier(body, standardize=(1.0, 2.0))
    torch.testing.assert_close(model(x), body.linear(((x - 1.0) / 2.0).flatten(1)))
    assert model.last_theta is None and model.last_output is None and model.transformer is None
    with pytest.raises(ValueError, match="^" + re.escape(
            "this Classifier has no spatial transformer (transformer=None)") + "$"):
        model.transformed(x)


def test_the_localization_parameters_are_named_by_loc_prefix():
    model = C.Classifier(Body(6), fixed_transformer())
    names = [n for n, _ in model.named_parameters() if n.startswith(C.LOC_PREFIX)]
    assert names and {n for n, _ in model.named_parameters()} - set(names) == {"body.linear.weight",
                                                                                "body.linear.bias"}


@pytest.mark.parametrize("make, message", [
    (lambda: C.Classifier(Body(6), nn.Linear(1, 1)),
     "transformer must be a SpatialTransformer or None, got Linear"),
    (lambda: C.Classifier(Body(6), standardize=(0.1, 0.0)),
     "standardize must be (mean, std) with std > 0, got (0.1, 0.0)"),
    (lambda: C.Classifier(Body(6), standardize=(0.1, -1.0)),
     "standardize must be (mean, std) with std > 0, got (0.1, -1.0)"),
    (lambda: C.CNN(1, 3), "in_size must be at least 4 (two 2× poolings), got 3"),
])
def test_construction_errors(make, message):
    with pytest.raises((TypeError, ValueError), match="^" + re.escape(message) + "$"):
        make()


def test_cnn_accepts_the_smallest_size_and_rejects_other_shapes():
    model = C.CNN(2, 4, 3, channels=(2, 2), hidden=None)
    assert model(torch.rand(1, 2, 4, 4)).shape == (1, 3)
    with pytest.raises(ValueError, match=re.escape("x must be N×2×4×4, got shape (1, 1, 4, 4)")):
        model(torch.rand(1, 1, 4, 4))
    with pytest.raises(ValueError, match=re.escape("x must be N×1×5×5, got shape (1, 1, 5, 6)")):
        C.FCN(1, 5)(torch.rand(1, 1, 5, 6))
    with pytest.raises(ValueError, match=re.escape("images must be N×1×5×5, got shape (2, 1, 4, 5)")):
        C.check_images(torch.rand(2, 1, 4, 5), 1, 5, "images")


@pytest.mark.parametrize("make, error, message", [
    (lambda: C.CNN(0), ValueError, "in_channels must be positive, got (0,)"),
    (lambda: C.CNN((1, 1)), TypeError, "in_channels must be an int or a sequence of 1 ints, got (1, 1)"),
    (lambda: C.CNN(1, 0), ValueError, "in_size must be positive, got (0,)"),
    (lambda: C.CNN(1, (8, 8)), TypeError, "in_size must be an int or a sequence of 1 ints, got (8, 8)"),
    (lambda: C.CNN(1, 8, 0), ValueError, "n_classes must be positive, got (0,)"),
    (lambda: C.CNN(1, 8, (2, 2)), TypeError, "n_classes must be an int or a sequence of 1 ints, got (2, 2)"),
    (lambda: C.CNN(1, 8, 2, channels=(2,)), TypeError, "channels must be an int or a sequence of 2 ints, got (2,)"),
    (lambda: C.CNN(1, 8, 2, channels=(2, 0)), ValueError, "channels must be positive, got (2, 0)"),
    (lambda: C.CNN(1, 8, 2, hidden=0), ValueError, "hidden must be positive, got (0,)"),
    (lambda: C.CNN(1, 8, 2, hidden=(3, 3)), TypeError, "hidden must be an int or a sequence of 1 ints, got (3, 3)"),
    (lambda: C.FCN(0), ValueError, "in_channels must be positive, got (0,)"),
    (lambda: C.FCN((1, 1)), TypeError, "in_channels must be an int or a sequence of 1 ints, got (1, 1)"),
    (lambda: C.FCN(1, 0), ValueError, "in_size must be positive, got (0,)"),
    (lambda: C.FCN(1, (8, 8)), TypeError, "in_size must be an int or a sequence of 1 ints, got (8, 8)"),
    (lambda: C.FCN(1, 8, 0), ValueError, "n_classes must be positive, got (0,)"),
    (lambda: C.FCN(1, 8, (2, 2)), TypeError, "n_classes must be an int or a sequence of 1 ints, got (2, 2)"),
    (lambda: C.FCN(1, 8, 2, hidden=0), ValueError, "hidden must be positive, got (0,)"),
    (lambda: C.FCN(1, 8, 2, hidden=(3, 3)), TypeError, "hidden must be an int or a sequence of 1 ints, got (3, 3)"),
    (lambda: C.check_images(torch.rand(2, 1, 4), 1, 4), ValueError, "x must be a 4-D tensor N×C×H×W, got shape (2, 1, 4)"),
    (lambda: C.check_images([1], 1, 4, "images"), TypeError, "images must be a torch.Tensor N×C×H×W, got list"),
])
def test_every_size_argument_is_named_in_its_error(make, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        make()

