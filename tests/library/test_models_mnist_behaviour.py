"""stnlib.models.mnist, the MNIST presets, against the networks they document (issue 25, mutation run of
2026-12-05): lesson 00's CNN / ST-CNN with their defaults and a fixed non-identity θ sampled by hand,
Table 1's bodies and localization nets for every name, the width search's rule (closest count, first of
a tie, its ranges), the parameter table's lines, the tutorial's network written out in
torch.nn.functional, and every error message exactly."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib.models import classifier as C
from stnlib.models import mnist as M

THETA = torch.tensor([[0.7, -0.25, 0.2], [0.3, 0.85, -0.15]], dtype=torch.float64)


def fix_theta(model: C.Classifier) -> C.Classifier:
    head = model.transformer.loc[0].head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(THETA.flatten())
    return model


def test_lesson_00_cnn_defaults():
    model = M.cnn()
    assert model.transformer is None and model.standardize is None
    body = model.body
    assert (body.in_channels, body.in_size, body.channels, body.hidden, body.head[-1].out_features) == \
        (1, 42, (32, 64), 128, 10)
    small = M.cnn(2, 12, 3, channels=(4, 5), hidden=6).body
    assert (small.in_channels, small.in_size, small.channels, small.hidden, small.head[-1].out_features) == \
        (2, 12, (4, 5), 6, 3)


def test_lesson_00_st_cnn_defaults():
    model = M.st_cnn()
    st = model.transformer
    assert (st.transform, st.out_size, st.align_corners, st.padding_mode, st.kernel, st.in_channels) == \
        ("affine", (42, 42), False, "zeros", "bilinear", 1)
    body = st.loc[0].body
    assert isinstance(body[0], nn.MaxPool2d) and body[0].kernel_size == 2
    assert [m.out_channels for m in body if isinstance(m, nn.Conv2d)] == [12, 12]
    assert [m.out_features for m in body if isinstance(m, nn.Linear)] == [32]
    assert st.loc[0].head.in_features == 32
    assert (model.body.in_size, model.body.channels, model.body.hidden) == (42, (32, 64), 128)


def test_st_cnn_warps_with_its_options_and_builds_the_cnn_for_out_size():
    torch.manual_seed(0)
    model = fix_theta(M.st_cnn(2, 16, 3, out_size=12, align_corners=True, padding_mode="border",
                               loc_channels=3, loc_downsample=1, channels=(2, 3), hidden=4).double())
    st = model.transformer
    assert [m.out_channels for m in st.loc[0].body if isinstance(m, nn.Conv2d)] == [3, 3]
    assert not isinstance(st.loc[0].body[0], nn.MaxPool2d)
    assert (model.body.in_channels, model.body.in_size, model.body.channels, model.body.hidden) == (2, 12, (2, 3), 4)
    assert model.body.head[-1].out_features == 3
    x = torch.rand(3, 2, 16, 16, dtype=torch.float64)
    grid = F.affine_grid(THETA.expand(3, 2, 3), [3, 2, 12, 12], align_corners=True)
    V = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)
    torch.testing.assert_close(model(x), model.body(V))
    att = M.st_cnn(transform="attention", in_size=20)
    assert att.transformer.transform == "attention" and att.body.in_size == 20


def test_model_names_are_table_1s_eight():
    assert M.model_names() == ("FCN", "CNN", "ST-FCN Aff", "ST-FCN Proj", "ST-FCN TPS",
                               "ST-CNN Aff", "ST-CNN Proj", "ST-CNN TPS")


@pytest.mark.parametrize("name", ["MLP", "ST-CNN", "ST-CNN Affine", "ST-RNN Aff", "ST-CNN Aff x", "st-cnn aff"])
def test_unknown_names_list_the_eight(name):
    with pytest.raises(ValueError, match="^" + re.escape(
            f"unknown model {name!r}; expected one of FCN, CNN, ST-FCN Aff, ST-FCN Proj, ST-FCN TPS, "
            "ST-CNN Aff, ST-CNN Proj, ST-CNN TPS") + "$"):
        M.build_model(name, width=4)


@pytest.mark.parametrize("name, transform", [("ST-FCN Aff", "affine"), ("ST-FCN Proj", "projective"),
                                             ("ST-FCN TPS", "tps"), ("ST-CNN Aff", "affine"),
                                             ("ST-CNN Proj", "projective"), ("ST-CNN TPS", "tps")])
def test_table_1_models_with_a_fixed_width(name, transform):
    model = M.build_model(name, in_size=42, n_classes=7, width=6)
    st = model.transformer
    assert (st.transform, st.align_corners, st.in_channels, st.padding_mode) == (transform, False, 1, "zeros")
    body = st.loc[0].body
    if name.startswith("ST-FCN"):
        assert isinstance(model.body, C.FCN) and model.body.hidden == 6
        assert isinstance(body[0], nn.AdaptiveAvgPool2d) and body[0].output_size == 14
        assert [(m.in_features, m.out_features) for m in body if isinstance(m, nn.Linear)] == \
            [(196, 32), (32, 32)]
    else:
        assert isinstance(model.body, C.CNN) and model.body.channels == (6, 12) and model.body.hidden is None
        convs = [m for m in body if isinstance(m, nn.Conv2d)]
        assert [(c.out_channels, c.kernel_size) for c in convs] == [(8, (7, 7)), (10, (5, 5))]
        assert isinstance([m for m in body if not isinstance(m, (nn.Conv2d, nn.ReLU))][2], nn.AdaptiveMaxPool2d)
    assert st.loc[0].head.in_features == 32
    assert model.body(torch.rand(2, 1, 42, 42)).shape == (2, 7)


def test_plain_models_with_a_fixed_width():
    fcn, cnn = M.build_model("FCN", width=9), M.build_model("CNN", width=3, in_size=20, n_classes=4)
    assert fcn.transformer is None and isinstance(fcn.body, C.FCN) and fcn.body.hidden == 9
    assert fcn.body.in_size == 28 and fcn.body.net[-1].out_features == 10
    assert cnn.transformer is None and cnn.body.channels == (3, 6) and cnn.body.hidden is None
    assert cnn.body.in_size == 20 and cnn.body.head.out_features == 4


def test_fit_width_takes_the_closest_count_and_the_first_of_a_tie():
    def make(w):  # 2·w parameters
        return nn.Linear(2 * w, 1, bias=False)

    assert M._fit_width(make, 7, range(1, 50)) == 3  # 6 and 8 are both 1 away: the first
    assert M._fit_width(make, 10, range(1, 50)) == 5
    assert M._fit_width(make, 1000, range(1, 50)) == 49
    assert M._fit_width(make, 0, range(4, 50)) == 4
    seen = []
    M._fit_width(lambda w: seen.append(w) or make(w), 10, range(1, 50))
    assert seen == [1, 2, 3, 4, 5, 6]  # stops once the count has passed the target


def test_build_model_fits_the_budget_within_its_width_ranges():
    assert M.build_model("FCN", params=1).body.hidden == 4
    assert M.build_model("CNN", params=1).body.channels == (2, 4)
    fcn = M.build_model("FCN", params=20_000)
    counts = {h: C.count_parameters(C.FCN(1, 28, 10, hidden=h)) for h in (fcn.body.hidden - 1,
                                                                             fcn.body.hidden,
                                                                             fcn.body.hidden + 1)}
    best = min(counts, key=lambda h: abs(counts[h] - 20_000))
    assert fcn.body.hidden == best
    assert M.build_model("ST-CNN Aff").body.channels == M.build_model("ST-CNN Aff", in_size=28, n_classes=10,
                                                                      params=M.DEFAULT_PARAMS).body.channels


def test_body_width_names_the_fitted_width():
    assert M.body_width(M.build_model("FCN", width=17)) == "h=17"
    assert M.body_width(M.build_model("ST-CNN Proj", width=5)) == "c=5"


def test_parameter_table_lines():
    table = M.parameter_table(28, params=5_000).splitlines()
    assert table[0] == f"{'model':13s} {'classifier':>16s} {'loc. net':>9s} {'total':>8s}   (input 28×28)"
    assert len(table) == 9
    for name, line in zip(M.model_names(), table[1:], strict=True):
        m = M.build_model(name, in_size=28, params=5_000)
        loc = C.count_parameters(m.transformer) if m.transformer is not None else 0
        assert line == (f"{name:13s} {M.body_width(m):>7s} {C.count_parameters(m.body):8,d} {loc:9,d} "
                        f"{C.count_parameters(m):8,d}")
    wide = M.parameter_table(42, params=5_000).splitlines()
    assert wide[0].endswith("(input 42×42)") and M.parameter_table(params=5_000).splitlines() == table
    m = M.build_model("ST-CNN Aff", in_size=42, params=5_000)
    assert wide[6].split()[-1] == f"{C.count_parameters(m):,d}"


def test_build_model_searches_the_documented_width_ranges(monkeypatch):
    searched = []
    monkeypatch.setattr(M, "_fit_width", lambda make, target, widths: searched.append((target, widths)) or 4)
    M.build_model("FCN", params=123)
    M.build_model("ST-FCN TPS")
    M.build_model("CNN")
    M.build_model("ST-CNN Proj")
    assert searched == [(123, range(4, 1025)), (30_000, range(4, 1025)), (30_000, range(2, 257)),
                        (30_000, range(2, 257))]


def tutorial_by_hand(body: M.TutorialBody, x: torch.Tensor) -> torch.Tensor:
    c1, c2 = [m for m in body.features if isinstance(m, nn.Conv2d)]
    a, b = [m for m in body.head if isinstance(m, nn.Linear)]
    h = F.relu(F.max_pool2d(F.conv2d(x, c1.weight, c1.bias), 2))
    h = F.relu(F.max_pool2d(F.conv2d(h, c2.weight, c2.bias), 2)).flatten(1)
    return F.linear(F.relu(F.linear(h, a.weight, a.bias)), b.weight, b.bias)


@pytest.mark.parametrize("in_size", [16, 28, 33])
def test_the_tutorials_classifier_written_out(in_size):
    torch.manual_seed(0)
    body = M.TutorialBody(in_size, 4).double().eval()  # eval: both dropouts off
    x = torch.rand(2, 1, in_size, in_size, dtype=torch.float64)
    torch.testing.assert_close(body(x), tutorial_by_hand(body, x))
    convs = [m for m in body.features if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(10, (5, 5)), (20, (5, 5))]
    drops = [m for m in [*body.features, *body.head] if isinstance(m, (nn.Dropout, nn.Dropout2d))]
    assert [(type(m), m.p) for m in drops] == [(nn.Dropout2d, 0.5), (nn.Dropout, 0.5)]
    side = ((in_size - 4) // 2 - 4) // 2
    assert body.head[0].in_features == 20 * side * side and body.head[0].out_features == 50


def test_the_tutorials_classifier_rejects_small_or_other_inputs():
    with pytest.raises(ValueError, match="^in_size must be at least 16, got 15$"):
        M.TutorialBody(15)
    with pytest.raises(ValueError, match=re.escape("in_size must be positive, got (0,)")):
        M.TutorialBody(0)
    with pytest.raises(ValueError, match=re.escape("x must be N×1×16×16, got shape (1, 1, 17, 16)")):
        M.TutorialBody(16)(torch.rand(1, 1, 17, 16))
    assert M.TutorialBody().in_size == 28 and M.TutorialBody().head[-1].out_features == 10


def test_tutorial_net_options():
    net = M.tutorial_net()
    assert net.standardize == M.MNIST_MEAN_STD == (0.1307, 0.3081)
    assert net.body.in_size == 28 and net.body.head[-1].out_features == 10
    st = net.transformer
    assert (st.transform, st.align_corners, st.padding_mode) == ("affine", False, "zeros")
    loc = st.loc[0].body
    assert not any(isinstance(m, nn.AdaptiveMaxPool2d) for m in loc)
    assert [m for m in loc if isinstance(m, nn.Linear)][0].in_features == 90 and st.loc[0].head.in_features == 32
    big = M.tutorial_net(42, 3, standardize=False)
    assert big.standardize is None and big.body.in_size == 42 and big.body.head[-1].out_features == 3
    assert [m for m in big.transformer.loc[0].body if isinstance(m, nn.Linear)][0].in_features == 10 * 7 * 7  # ((42 - 6) // 2 - 4) // 2 = 7
    assert M.tutorial_net(transformer=False).transformer is None
