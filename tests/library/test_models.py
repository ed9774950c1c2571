"""The model family: Classifier, its bodies, and the MNIST presets (lesson 00, Table 1, the tutorial)."""

import pytest
import torch

from stnlib import train as tr
from stnlib.localization import conv_body
from stnlib.models import (
    CNN,
    FCN,
    LOC_PREFIX,
    Classifier,
    build_model,
    cnn,
    count_parameters,
    model_names,
    parameter_table,
    st_cnn,
    tutorial_net,
)
from stnlib.models.mnist import DEFAULT_PARAMS
from stnlib.transformer import SpatialTransformer

NAMES = model_names()
#: every Table-1 model is within this fraction of the parameter budget (the CNN widths move in
#: steps of about 5 % on 42×42 inputs)
BAND = 0.06


def test_the_eight_models_of_table_1():
    assert NAMES == ("FCN", "CNN", "ST-FCN Aff", "ST-FCN Proj", "ST-FCN TPS",
                     "ST-CNN Aff", "ST-CNN Proj", "ST-CNN TPS")


@pytest.mark.parametrize("in_size", [28, 42])
@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_parameter_budget(name, in_size):
    model = build_model(name, in_size=in_size)
    n = count_parameters(model)
    assert abs(n - DEFAULT_PARAMS) <= BAND * DEFAULT_PARAMS, f"{name} at {in_size}: {n:,}"
    out = model(torch.rand(3, 1, in_size, in_size))
    assert out.shape == (3, 10)
    assert isinstance(model, Classifier)
    assert (model.transformer is not None) == name.startswith("ST-")


def test_other_budgets_and_fixed_widths():
    small = build_model("ST-CNN TPS", params=20_000)
    assert abs(count_parameters(small) - 20_000) <= BAND * 20_000
    assert build_model("CNN", width=8).body.channels == (8, 16)
    assert build_model("FCN", width=50).body.hidden == 50
    assert build_model("ST-FCN Proj", width=30).body.hidden == 30


def test_architecture_follows_the_paper():
    fcn, cnn = build_model("FCN"), build_model("CNN")
    weight_layers = [m for m in cnn.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(weight_layers) == 3
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in cnn.modules()) == 2
    assert sum(isinstance(m, torch.nn.Linear) for m in fcn.modules()) == 3
    st = build_model("ST-CNN TPS")
    assert st.transformer.generator.n_params == 32  # 16 control points
    assert st.transformer.transform == "tps"


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("ST-")])
def test_st_models_are_the_identity_at_initialization(name):
    torch.manual_seed(1)
    model = build_model(name, in_size=42)
    x = torch.rand(4, 1, 42, 42)
    V, theta = model.transformed(x)
    torch.testing.assert_close(V, x, atol=1e-5, rtol=0)
    # the body sees exactly the input: same logits as the body alone
    torch.testing.assert_close(model(x), model.body(x), atol=1e-5, rtol=0)
    assert model.last_theta is not None and model.last_output.shape == x.shape


@pytest.mark.parametrize("name", ["FCN", "CNN", "ST-FCN Aff", "ST-CNN Proj", "ST-CNN TPS"])
def test_one_training_step_decreases_the_loss(name):
    torch.manual_seed(0)
    model = build_model(name)
    x, y = torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = torch.nn.functional.cross_entropy(model(x), y)
    before.backward()
    opt.step()
    after = torch.nn.functional.cross_entropy(model(x), y)
    assert after < before


def test_localization_parameters_are_named_for_a_lower_learning_rate():
    model = build_model("ST-CNN Aff")
    loc = [n for n, _ in model.named_parameters() if n.startswith(LOC_PREFIX)]
    assert loc and all(n.startswith("transformer.loc.") for n in loc)
    groups = tr._param_groups(model, 1e-2, {LOC_PREFIX: 0.1})
    assert [g["lr"] for g in groups] == [1e-3, 1e-2]
    assert sum(p.numel() for p in groups[0]["params"]) == count_parameters(model.transformer)


@pytest.mark.parametrize("in_size", [28, 42])
def test_tutorial_net(in_size):
    net = tutorial_net(in_size)
    assert net(torch.rand(2, 1, in_size, in_size)).shape == (2, 10)
    plain = tutorial_net(in_size, transformer=False)
    assert plain.transformer is None and count_parameters(plain) < count_parameters(net)
    net.eval()
    x = torch.rand(2, 1, in_size, in_size)
    V, _ = net.transformed(x)  # identity at init, shown on the input's [0, 1] scale
    torch.testing.assert_close(V, x, atol=1e-5, rtol=0)
    # standardized before the transformer: its zero padding reads −mean/std, not black
    assert net.standardize == (0.1307, 0.3081) and tutorial_net(28, standardize=False).standardize is None
    if in_size == 28:  # the tutorial's own numbers: fc 320 → 50, fc_loc 90 → 32
        assert net.body.head[0].in_features == 320
        assert net.transformer.loc[0].body[-2].in_features == 90


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="unknown model 'ST-CNN Affine'"):
        build_model("ST-CNN Affine")
    with pytest.raises(ValueError, match=r"x must be N×1×28×28"):
        build_model("CNN")(torch.rand(2, 1, 42, 42))
    with pytest.raises(ValueError, match="at least 18"):
        build_model("ST-CNN Aff", in_size=12)
    with pytest.raises(ValueError, match="no spatial transformer"):
        tutorial_net(transformer=False).transformed(torch.rand(1, 1, 28, 28))
    with pytest.raises(TypeError, match="transformer must be a SpatialTransformer"):
        Classifier(CNN(), transformer=torch.nn.Identity())
    with pytest.raises(ValueError, match="std > 0"):
        Classifier(CNN(), standardize=(0.5, 0.0))


def test_parameter_table_lists_every_model():
    text = parameter_table(28)
    assert all(name in text for name in NAMES)
    assert count_parameters(FCN(1, 28, 10, hidden=10)) == 784 * 10 + 10 + 110 + 110


def test_theta_monitor_logs_and_stops_a_collapse():
    torch.manual_seed(0)
    model = build_model("ST-CNN Aff")
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    monitor = tr.theta_monitor(model.transformer.transform, every=1)
    tr.train(model, (x, y), epochs=2, batch_size=16, progress=False, on_step=monitor)
    assert [r["step"] for r in monitor.history] == list(range(8))
    assert abs(monitor.history[0]["scale_mean"] - 1) < 0.05

    # a localization head that zooms out 10×: stopped with a clear message
    with torch.no_grad():
        model.transformer.loc[0].head.bias.copy_(torch.tensor([10.0, 0, 0, 0, 10.0, 0]))
    from stnlib.diagnostics import CollapseDetector, ThetaCollapseError

    with pytest.raises(ThetaCollapseError, match="zooms out"):
        tr.train(model, (x, y), epochs=3, batch_size=16, lr=1e-6, progress=False,
                 on_step=tr.theta_monitor("affine", every=1, detector=CollapseDetector(patience=5)))
    tps = build_model("ST-FCN TPS")
    monitor = tr.theta_monitor(tps.transformer.transform, every=2)
    tr.train(tps, (x, y), epochs=1, batch_size=16, progress=False, on_step=monitor)
    assert len(monitor.history) == 2 and "displacement_mean" in monitor.history[0]
    # transform=None reads it from the model: the same rows as naming it
    torch.manual_seed(0)
    tps = build_model("ST-FCN TPS")
    inferred = tr.theta_monitor(None, every=2)
    tr.train(tps, (x, y), epochs=1, batch_size=16, progress=False, on_step=inferred)
    assert [sorted(r) for r in inferred.history] == [sorted(r) for r in monitor.history]
    assert "displacement_mean" in inferred.history[0] and "scale_mean" not in inferred.history[0]
    with pytest.raises(ValueError, match="transform="):
        tr.train(nn_without_transformer(), (x, y), epochs=1, batch_size=16, progress=False,
                 on_step=tr.theta_monitor(None, every=1))


def test_lesson_00_presets():
    torch.manual_seed(0)
    plain, st = cnn(), st_cnn()
    assert count_parameters(plain) == 872_714  # the 0.87M-parameter CNN of lesson 00 on 42×42
    x = torch.rand(2, 1, 42, 42)
    V, theta = st.transformed(x)
    torch.testing.assert_close(V, x, atol=1e-5, rtol=0)
    assert theta.shape == (2, 2, 3) and st(x).shape == (2, 10)
    small = st_cnn(in_size=42, out_size=21)  # the transformer downsamples; the CNN is built for 21
    assert small(x).shape == (2, 10) and small.transformed(x)[0].shape == (2, 1, 21, 21)


def test_classifier_standardizes_before_the_transformer_and_shows_v_on_the_input_scale():
    st = SpatialTransformer(1, align_corners=False, transform="affine", padding_mode="zeros")
    model = Classifier(torch.nn.Flatten(), st, standardize=(0.5, 0.25))
    x = torch.rand(3, 1, 8, 8)
    torch.testing.assert_close(model(x), ((x - 0.5) / 0.25).flatten(1), atol=1e-5, rtol=0)
    V, _ = model.transformed(x)
    torch.testing.assert_close(V, x, atol=1e-5, rtol=0)
    assert model.last_output is not None and model.last_theta.shape == (3, 2, 3)
    plain = Classifier(torch.nn.Flatten())
    torch.testing.assert_close(plain(x), x.flatten(1))
    assert plain.last_theta is None


@pytest.mark.parametrize("in_size", [8, 13, 28, 42, 60])
def test_conv_body_downsample_shapes_and_the_first_pool(in_size):
    x = torch.rand(3, 1, in_size, in_size)
    full, half = conv_body(1, channels=8, hidden=32), conv_body(1, channels=8, hidden=32, downsample=2)
    assert full(x).shape == half(x).shape == (3, 32)
    assert not isinstance(full[0], torch.nn.MaxPool2d)
    assert isinstance(half[0], torch.nn.MaxPool2d) and half[0].kernel_size == 2
    # the same weights see the max-pooled input: the body with downsample=2 is pool ∘ the full body
    half_rest = torch.nn.Sequential(*list(half)[1:])
    full.load_state_dict(half_rest.state_dict())
    pooled = torch.nn.functional.max_pool2d(x, 2, ceil_mode=True)
    torch.testing.assert_close(half(x), full(pooled))
    # time series: the same option for ndim=1
    assert conv_body(2, ndim=1, downsample=3)(torch.rand(4, 2, 50)).shape == (4, 50)


def test_conv_body_rejects_bad_options():
    with pytest.raises(ValueError, match="downsample"):
        conv_body(1, downsample=0)
    with pytest.raises(TypeError, match="downsample"):
        conv_body(1, downsample=1.5)
    with pytest.raises(ValueError, match="ndim"):
        conv_body(1, ndim=3)


def test_st_cnn_cheap_localization_net_identity_and_parameters():
    torch.manual_seed(0)
    model = st_cnn()  # default: max-pool 2, then 12-channel 5×5 convolutions at 21×21
    loc = model.transformer.loc[0]
    assert isinstance(loc.body[0], torch.nn.MaxPool2d)
    # 1→12 conv 5×5 (312) + 12→12 conv 5×5 (3 612) + linear 12·4·4→32 (6 176) + head 32→6 (198)
    assert count_parameters(loc) == 312 + 3612 + 6176 + 198
    assert count_parameters(model) == 872_714 + count_parameters(loc)
    old = st_cnn(loc_downsample=1, loc_channels=16)  # the full-resolution net of earlier versions
    assert not isinstance(old.transformer.loc[0].body[0], torch.nn.MaxPool2d)
    assert count_parameters(old.transformer.loc[0]) == 416 + 6416 + 8224 + 198
    for size in (28, 42, 60):
        m = st_cnn(in_size=size)
        x = torch.rand(2, 1, size, size)
        V, theta = m.transformed(x)
        torch.testing.assert_close(V, x, atol=1e-5, rtol=0)  # identity at initialization
        torch.testing.assert_close(theta, torch.eye(2, 3).expand(2, 2, 3))
        assert m(x).shape == (2, 10)


def nn_without_transformer():
    """A model that keeps a `last_theta` but has no `transformer` to read the transform from."""
    from torch import nn

    class Bare(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.LazyLinear(10))
            self.last_theta = torch.eye(2, 3).expand(4, 2, 3)

        def forward(self, x):
            return self.body(x)

    return Bare()


# ------------------------------------------------ issue 25: options away from the identity, FCN/CNN bodies

def test_st_cnn_passes_padding_mode_on_and_it_shows_in_a_zoomed_out_v():
    from option_checks import assert_padding_shows

    x = torch.rand(2, 1, 28, 28, dtype=torch.float64) + 0.5
    assert_padding_shows(lambda **kw: st_cnn(1, 28, channels=(4, 8), hidden=8, **kw), x)


def test_table_1_localization_bodies_fcn_has_no_convolution_cnn_has_and_their_pooling():
    from torch import nn

    for transform in ("Aff", "Proj", "TPS"):
        fcn = build_model(f"ST-FCN {transform}", in_size=42).transformer.loc[0].body
        cnn_ = build_model(f"ST-CNN {transform}", in_size=42).transformer.loc[0].body
        assert not any(isinstance(m, nn.Conv2d) for m in fcn.modules())
        # FCN: average-pool to a 14×14 thumbnail first, no other pooling
        pools = [m for m in fcn.modules() if "Pool" in type(m).__name__]
        assert len(pools) == 1 and isinstance(pools[0], nn.AdaptiveAvgPool2d)
        assert pools[0].output_size == 14 and fcn[0] is pools[0]
        # CNN: conv 7×7 8 → max-pool 2 → ReLU → conv 5×5 10 → max-pool 2 → ReLU (→ max-pool to 3×3)
        convs = [m for m in cnn_.modules() if isinstance(m, nn.Conv2d)]
        assert [(c.out_channels, c.kernel_size) for c in convs] == [(8, (7, 7)), (10, (5, 5))]
        pools = [m for m in cnn_.modules() if "Pool" in type(m).__name__]
        assert [type(p) for p in pools] == [nn.MaxPool2d, nn.MaxPool2d, nn.AdaptiveMaxPool2d]
        assert [p.kernel_size for p in pools[:2]] == [2, 2] and pools[2].output_size == 3
