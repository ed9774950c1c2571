"""stnlib.models.addition: MNIST addition (Jaderberg et al. 2015, A.1), two digits in one image."""

import pytest
import torch
import torch.nn.functional as F

from stnlib.grids import affine_grid
from stnlib.models import addition as A
from stnlib.models import count_parameters
from stnlib.sampler import sample
from stnlib.transformer import SpatialTransformer


def _identity_warp(x, out=28):
    theta = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]], dtype=x.dtype).expand(len(x), 2, 3)
    return sample(x, affine_grid(theta, (out, out), align_corners=False), align_corners=False)


class TestAdditionModels:
    @pytest.mark.parametrize("name", [n for n in A.ADDITION_MODELS if n not in A.WANG_MODELS])
    def test_logits_and_parameter_budget(self, name):
        m = A.addition_model(name)
        assert m(torch.rand(3, 2, 42, 42)).shape == (3, 19)
        assert abs(count_parameters(m) - A.DEFAULT_ADDITION_PARAMS) < 0.03 * A.DEFAULT_ADDITION_PARAMS

    def test_wangs_addition_models_keep_his_sizes(self):
        st, cnn = A.addition_model("Wang ST"), A.addition_model("Wang CNN")
        assert count_parameters(st.body) == 38_299  # his classifier, shared over the two windows
        assert count_parameters(cnn) == 69_054  # his CNN2, its linear layer for 42×42 channels
        x = torch.rand(3, 2, 42, 42)
        assert st(x).shape == (3, 19) and cnn(x).shape == (3, 19)
        V, theta = st.transformed(x)
        assert V.shape == (3, 2, 28, 28) and theta.shape == (3, 2, 2, 3)
        torch.testing.assert_close(V, _identity_warp(x), atol=1e-5, rtol=0)

    @pytest.mark.parametrize("name, V, theta", [
        ("ST-FCN", (3, 2, 28, 28), (3, 2, 3)),
        ("ST-FCN per channel", (3, 2, 28, 28), (3, 2, 2, 3)),
        ("2×ST-FCN", (3, 4, 28, 28), (3, 2, 2, 3)),
        ("ST-CNN", (3, 2, 28, 28), (3, 2, 3)),
        ("ST-CNN per channel", (3, 2, 28, 28), (3, 2, 2, 3)),
        ("2×ST-CNN", (3, 4, 28, 28), (3, 2, 2, 3)),
    ])
    def test_warp_shapes(self, name, V, theta):
        out, th = A.addition_model(name).transformed(torch.rand(3, 2, 42, 42))
        assert tuple(out.shape) == V and tuple(th.shape) == theta

    def test_new_transformers_are_the_identity_per_channel_and_in_parallel(self):
        x = torch.rand(4, 2, 42, 42)
        ident = _identity_warp(x)
        V, _ = A.addition_model("ST-FCN per channel").transformed(x)
        torch.testing.assert_close(V, ident, atol=1e-5, rtol=0)
        V, _ = A.addition_model("2×ST-CNN").transformed(x)
        torch.testing.assert_close(V, torch.cat([ident, ident], 1), atol=1e-5, rtol=0)

    def test_per_channel_warps_each_channel_with_its_own_theta(self):
        st = A.addition_transformer("per channel")
        head = st.loc[0].head
        with torch.no_grad():  # channel 0: identity; channel 1: shifted right by half the width
            head.bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0, 1, 0, 0.5, 0, 1, 0]))
        x = torch.rand(2, 2, 42, 42)
        V, th = st(x)
        torch.testing.assert_close(V[:, :1], _identity_warp(x[:, :1]), atol=1e-5, rtol=0)
        assert not torch.allclose(V[:, 1:], _identity_warp(x[:, 1:]), atol=1e-3)
        assert th[:, 1, 0, 2].tolist() == [0.5, 0.5]

    def test_fitted_widths_and_a_fixed_width(self):
        assert A.addition_model("FCN", width=10).body.hidden == 10
        table = A.addition_parameter_table()
        assert "2×ST-FCN" in table and "2 (one per transformer)" in table

    def test_errors(self):
        with pytest.raises(ValueError, match="unknown model 'ST-RNN'"):
            A.addition_model("ST-RNN")
        with pytest.raises(ValueError, match="kind must be one of"):
            A.addition_transformer("both")
        with pytest.raises(ValueError, match="x must be N×2×42×42"):
            A.addition_model("CNN")(torch.rand(2, 1, 42, 42))


class TestTwoDigitModels:
    def test_parameter_counts_are_wangs(self):
        # Wang's STN3: localization 12 438 + classifier 38 299; his CNN3: 62 554
        m = A.two_digit_model()
        assert count_parameters(m.transformer) == 12_438
        assert count_parameters(m) == 50_737
        assert count_parameters(A.two_digit_cnn()) == 62_554
        assert A.two_digit_model()(torch.rand(5, 1, 28, 56)).shape == (5, 19)
        assert A.two_digit_cnn()(torch.rand(5, 1, 28, 56)).shape == (5, 19)

    def test_one_localization_net_regresses_both_thetas(self):
        st = A.two_digit_model().transformer
        assert len(st.loc) == 1 and st.loc[0].head.out_features == 12

    @pytest.mark.parametrize("padding", A.PADDING_MODES)
    def test_left_right_windows_are_exactly_the_two_halves(self, padding):
        m = A.two_digit_model("left-right", padding, standardize=False).double()
        x = torch.rand(4, 1, 28, 56, dtype=torch.float64)
        V, theta = m.transformed(x)
        torch.testing.assert_close(V[:, 0], x[:, 0, :, :28], atol=1e-12, rtol=0)
        torch.testing.assert_close(V[:, 1], x[:, 0, :, 28:], atol=1e-12, rtol=0)
        assert theta[0].flatten().tolist() == A.LEFT_RIGHT_BIAS.tolist()

    def test_left_right_windows_with_standardization_are_the_halves_too(self):
        x = torch.rand(2, 1, 28, 56)
        V, _ = A.two_digit_model("left-right", "zeros").transformed(x)  # warp undoes the standardization
        torch.testing.assert_close(V[:, 1], x[:, 0, :, 28:], atol=1e-5, rtol=0)

    def test_identity_windows_are_the_whole_image_squeezed(self):
        # with align_corners=False, output column j reads between input columns 2j and 2j+1
        m = A.two_digit_model("identity", standardize=False).double()
        x = torch.rand(3, 1, 28, 56, dtype=torch.float64)
        V, _ = m.transformed(x)
        squeezed = F.avg_pool2d(x, (1, 2))
        torch.testing.assert_close(V[:, :1], squeezed, atol=1e-12, rtol=0)
        torch.testing.assert_close(V[:, 1:], squeezed, atol=1e-12, rtol=0)

    def test_random_initialization_is_pytorchs_default_and_seeded(self):
        torch.manual_seed(3)
        a = A.two_digit_model("random").transformer.loc[0].head
        torch.manual_seed(3)
        b = A.two_digit_model("random").transformer.loc[0].head
        torch.testing.assert_close(a.weight, b.weight)
        bound = 1 / 32 ** 0.5  # nn.Linear(32, 12).reset_parameters: U(−1/√32, 1/√32)
        assert a.weight.abs().max() <= bound and a.bias.abs().max() <= bound
        assert a.weight.abs().sum() > 0 and not torch.allclose(a.bias, A.IDENTITY_BIAS)

    def test_zero_padding_reads_grey_after_standardization(self):
        # a window that leaves the image reads 0 in standardized units, i.e. MNIST's mean grey
        m = A.two_digit_model("left-right", "zeros")
        with torch.no_grad():
            m.transformer.loc[0].head.bias[2] = -3.0  # window 1 entirely left of the image
        V, _ = m.transformed(torch.zeros(1, 1, 28, 56))
        torch.testing.assert_close(V[:, 0], torch.full((1, 28, 28), A.MNIST_MEAN), atol=1e-6, rtol=0)
        m = A.two_digit_model("left-right", "border")
        with torch.no_grad():
            m.transformer.loc[0].head.bias[2] = -3.0
        V, _ = m.transformed(torch.zeros(1, 1, 28, 56))
        torch.testing.assert_close(V[:, 0], torch.zeros(1, 28, 28), atol=1e-6, rtol=0)

    def test_errors(self):
        with pytest.raises(ValueError, match="init"):
            A.two_digit_model("gaussian")
        with pytest.raises(ValueError, match="padding_mode"):
            A.two_digit_model("identity", "reflection")
        with pytest.raises(ValueError, match="V .*two 28×28 windows"):
            A.PairCNN()(torch.rand(2, 1, 28, 28))
        with pytest.raises(ValueError, match="x must be N×1×28×56"):
            A.two_digit_cnn()(torch.rand(2, 1, 28, 28))
        with pytest.raises(ValueError, match="12 outputs"):
            A.init_two_digit_head(torch.nn.Linear(32, 6), "identity")


def test_shared_localization_needs_several_transformers():
    with pytest.raises(ValueError, match="shared_localization=True needs n_transformers >= 2"):
        SpatialTransformer(1, align_corners=False, shared_localization=True)
    st = SpatialTransformer(1, align_corners=False, n_transformers=3, shared_localization=True)
    V, theta = st(torch.rand(2, 1, 16, 16))
    assert len(st.loc) == 1 and V.shape == (2, 3, 16, 16) and theta.shape == (2, 3, 2, 3)


# ------------------------------------------------ issue 25: options away from the identity, FCN/CNN bodies

@pytest.mark.parametrize("kind", ["single", "per channel", "parallel"])
@pytest.mark.parametrize("loc", ["fcn", "cnn"])
def test_addition_transformer_passes_padding_mode_on_and_it_shows_in_a_zoomed_out_v(kind, loc):
    from option_checks import assert_padding_shows

    x = torch.rand(2, 2, 42, 42, dtype=torch.float64) + 0.5
    assert_padding_shows(lambda **kw: A.addition_transformer(kind, loc=loc, **kw), x,
                         transformer=lambda m: m, run=lambda m, x: m(x)[0])


def test_wang_and_two_digit_models_pass_padding_and_kernel_on_and_they_show_in_v():
    from option_checks import assert_kernel_shows, assert_padding_shows

    x = torch.rand(2, 2, 42, 42, dtype=torch.float64) + 0.5
    assert_padding_shows(lambda **kw: A.wang_addition_model(**kw), x)
    x = torch.rand(2, 1, 28, 56, dtype=torch.float64) + 0.5
    for standardize in (True, False):
        assert_padding_shows(lambda s=standardize, **kw: A.two_digit_model("identity", standardize=s, **kw),
                             x)
        assert_kernel_shows(lambda s=standardize, **kw: A.two_digit_model("identity", "border", standardize=s,
                                                                          **kw), x)


def test_addition_localization_bodies_fcn_has_no_convolution_cnn_has():
    from torch import nn

    for kind in ("single", "per channel", "parallel"):
        fcn = A.addition_transformer(kind, loc="fcn").loc[0].body
        cnn = A.addition_transformer(kind, loc="cnn").loc[0].body
        assert not any(isinstance(m, nn.Conv2d) for m in fcn.modules())
        pools = [m for m in fcn.modules() if "Pool" in type(m).__name__]
        assert len(pools) == 1 and isinstance(pools[0], nn.AdaptiveAvgPool2d) and pools[0].output_size == 14
        convs = [m for m in cnn.modules() if isinstance(m, nn.Conv2d)]
        assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [(2, 8, (7, 7)),
                                                                                   (8, 10, (5, 5))]
        pools = [m for m in cnn.modules() if "Pool" in type(m).__name__]
        assert [type(p) for p in pools] == [nn.MaxPool2d, nn.MaxPool2d, nn.AdaptiveMaxPool2d]
    for name, loc in (("ST-FCN", "fcn"), ("2×ST-CNN", "cnn"), ("ST-CNN per channel", "cnn")):
        body = A.addition_model(name).transformer.loc[0].body
        assert any(isinstance(m, nn.Conv2d) for m in body.modules()) == (loc == "cnn"), name


def test_pair_cnn_pairs_the_two_windows_of_the_same_image_in_order():
    # issue 25 (which image goes with which label): logits of sample n come from sample n's two windows
    torch.manual_seed(0)
    net = A.PairCNN().double().eval()
    V = torch.rand(5, 2, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        out = net(V)
        for n in range(5):
            f = [net.features(V[n:n + 1, k:k + 1]).reshape(1, 320) for k in (0, 1)]
            torch.testing.assert_close(out[n:n + 1], net.head(torch.cat(f, 1)), rtol=0, atol=1e-12)
            torch.testing.assert_close(out[n:n + 1], net(V[n:n + 1]), rtol=0, atol=1e-12)
        assert (net(V.flip(1)) - out).abs().max() > 1e-6  # window 0 is the first digit


# ------------------------------------------------ issue 24: the shared-digit classifier of MNIST addition

class TestSharedDigitBody:
    @pytest.mark.parametrize("kind", ["fcn", "cnn"])
    def test_each_channel_goes_through_the_same_digit_net(self, kind):
        torch.manual_seed(0)
        body = A.SharedDigitBody(3, 28, kind=kind, width=8).double().eval()
        x = torch.rand(4, 3, 28, 28, dtype=torch.float64)
        with torch.no_grad():
            f = body.features(x)
            assert f.shape == (4, 3, body.n_features)
            for c in range(3):  # channel c's features are the digit net's of channel c alone
                torch.testing.assert_close(f[:, c], body.digit(x[:, c:c + 1]), rtol=0, atol=1e-12)
            torch.testing.assert_close(body(x), body.head(f.flatten(1)), rtol=0, atol=1e-12)

    def test_the_logits_read_every_channel_and_know_which_is_which(self):
        torch.manual_seed(1)
        body = A.SharedDigitBody(2, 42, kind="fcn", width=16).double().eval()
        x = torch.rand(3, 2, 42, 42, dtype=torch.float64)
        with torch.no_grad():
            out = body(x)
            for c in range(2):  # changing one channel only changes the logits
                y = x.clone()
                y[:, c] = torch.rand(3, 42, 42, dtype=torch.float64)
                assert (body(y) - out).abs().max() > 1e-6
                assert torch.equal(body.features(y)[:, 1 - c], body.features(x)[:, 1 - c])
            assert (body(x.flip(1)) - out).abs().max() > 1e-6  # the head knows the channel's place

    def test_widths_and_parameter_counts(self):
        fcn = A.SharedDigitBody(2, 42, kind="fcn", width=10)
        # digit net 42²·10 + 10 + 10·10 + 10, head 20·10 + 10 + 10·19 + 19
        assert count_parameters(fcn) == 42 * 42 * 10 + 10 + 110 + 210 + 209
        cnn = A.SharedDigitBody(4, 28, kind="cnn", width=4)
        # conv 5×5 1→8 and 3×3 8→8, both stride 2 (28 → 14 → 7), linear 8·7·7 → 4, head 4·4 → 4 → 19
        assert count_parameters(cnn) == (25 * 8 + 8) + (72 * 8 + 8) + (392 * 4 + 4) + (16 * 4 + 4) + (
            4 * 19 + 19)
        # 42 → 21 → 11
        assert A.SharedDigitBody(2, 42, kind="cnn", width=4).digit[-2].in_features == 8 * 11 * 11
        assert A.SharedDigitBody(2, 28, kind="fcn", width=10, head=7).hidden == 7

    def test_errors(self):
        with pytest.raises(ValueError, match="unknown kind 'rnn'"):
            A.SharedDigitBody(2, 42, kind="rnn")
        with pytest.raises(ValueError, match="x must be N×2×42×42"):
            A.SharedDigitBody(2, 42)(torch.rand(2, 4, 42, 42))
        with pytest.raises(ValueError, match="in_size must be at least 4 for the CNN"):
            A.SharedDigitBody(2, 3, kind="cnn")
        with pytest.raises(ValueError, match="unknown classifier 'both'"):
            A.addition_model("FCN", classifier="both")


class TestSharedAdditionModels:
    @pytest.mark.parametrize("name", [n for n in A.ADDITION_MODELS if n not in A.WANG_MODELS])
    @pytest.mark.parametrize("params", [300_000, 1_000_000])
    def test_logits_and_parameter_budget(self, name, params):
        m = A.addition_model(name, params=params, classifier="shared")
        assert isinstance(m.body, A.SharedDigitBody)
        assert m(torch.rand(3, 2, 42, 42)).shape == (3, 19)
        assert abs(count_parameters(m) - params) < 0.03 * params
        w = m.body.width
        gaps = [abs(count_parameters(A.addition_model(name, width=v, classifier="shared")) - params)
                for v in (w - 1, w, w + 1)]
        assert gaps[1] == min(gaps)

    @pytest.mark.parametrize("name, channels, side", [
        ("FCN", 2, 42), ("CNN", 2, 42), ("ST-FCN", 2, 28), ("ST-FCN per channel", 2, 28),
        ("2×ST-FCN", 4, 28), ("2×ST-CNN", 4, 28)])
    def test_the_body_reads_what_the_transformer_outputs(self, name, channels, side):
        m = A.addition_model(name, params=100_000, classifier="shared")
        kind = "fcn" if "FCN" in name else "cnn"
        assert (m.body.in_channels, m.body.in_size, m.body.kind) == (channels, side, kind)

    def test_joint_is_the_default_and_unchanged(self):
        from stnlib.models.classifier import FCN

        assert isinstance(A.addition_model("FCN").body, FCN)
        assert A.addition_model("FCN").body.hidden == A.addition_model("FCN", classifier="joint").body.hidden

    def test_parameter_table_names_the_shared_widths(self):
        table = A.addition_parameter_table(params=300_000, names=("FCN", "CNN", "2×ST-FCN"),
                                           classifier="shared")
        widths = {line.split()[0]: line.split()[1] for line in table.splitlines()[1:]}
        assert widths["FCN"] == f"w={A.addition_model('FCN', params=300_000, classifier='shared').body.width}"
        assert widths["CNN"] == f"w={A.addition_model('CNN', params=300_000, classifier='shared').body.width}"
