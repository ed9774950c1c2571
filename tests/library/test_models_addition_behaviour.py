"""stnlib.models.addition against the networks it documents, written out in torch.nn.functional on the
modules' own weights (issue 25, mutation run of 2026-12-05): the shared digit net per channel (FCN and
strided CNN) and its head, Wang's pair CNN (window k read from channel k), his two baselines and his
localization body, the transformers of every addition model with a fixed non-identity θ, the two-digit
heads' starts, the builders' defaults and width search, the parameter table, and exact errors."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stnlib.models import addition as A
from stnlib.models import classifier as C

G = torch.Generator().manual_seed(7)


def shared_by_hand(body: A.SharedDigitBody, x: torch.Tensor) -> torch.Tensor:
    feats = []
    for c in range(x.shape[1]):
        h = x[:, c:c + 1]
        if body.kind == "fcn":
            a, b = [m for m in body.digit if isinstance(m, nn.Linear)]
            h = F.relu(F.linear(F.relu(F.linear(h.flatten(1), a.weight, a.bias)), b.weight, b.bias))
        else:
            c1, c2 = [m for m in body.digit if isinstance(m, nn.Conv2d)]
            (lin,) = [m for m in body.digit if isinstance(m, nn.Linear)]
            h = F.relu(F.conv2d(h, c1.weight, c1.bias, stride=2, padding=2))
            h = F.relu(F.conv2d(h, c2.weight, c2.bias, stride=2, padding=1))
            h = F.relu(F.linear(h.flatten(1), lin.weight, lin.bias))
        feats.append(h)
    a, b = [m for m in body.head if isinstance(m, nn.Linear)]
    return F.linear(F.relu(F.linear(torch.cat(feats, 1), a.weight, a.bias)), b.weight, b.bias)


@pytest.mark.parametrize("kind, channels, size", [("fcn", 2, 6), ("fcn", 4, 5), ("cnn", 2, 9), ("cnn", 3, 4)])
def test_shared_digit_body_written_out(kind, channels, size):
    torch.manual_seed(0)
    body = A.SharedDigitBody(channels, size, 5, kind=kind, width=6, head=7).double()
    x = torch.rand(3, channels, size, size, dtype=torch.float64, generator=G)
    torch.testing.assert_close(body(x), shared_by_hand(body, x))
    assert body.features(x).shape == (3, channels, 6) and body.hidden == 7 and body.n_features == 6
    assert body.head[0].in_features == channels * 6 and body.head[-1].out_features == 5


def test_shared_digit_body_defaults_and_the_cnns_size():
    body = A.SharedDigitBody(2, 42)
    assert (body.kind, body.width, body.hidden, body.head[-1].out_features) == ("fcn", 128, 128, 19)
    cnn = A.SharedDigitBody(2, 42, kind="cnn", width=16)
    convs = [m for m in cnn.digit if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride, c.padding) for c in convs] == \
        [(8, (5, 5), (2, 2), (2, 2)), (8, (3, 3), (2, 2), (1, 1))]
    assert cnn.digit[-2].in_features == 8 * 11 * 11  # ⌈42 / 4⌉ = 11
    assert A.SharedDigitBody(1, 4, kind="cnn").digit[-2].in_features == 8
    assert A.SharedDigitBody(1, 5, kind="cnn").digit[-2].in_features == 8 * 2 * 2


@pytest.mark.parametrize("make, error, message", [
    (lambda: A.SharedDigitBody(2, 3, kind="cnn"), ValueError,
     "in_size must be at least 4 for the CNN (two stride-2 convolutions), got 3"),
    (lambda: A.SharedDigitBody(0, 8), ValueError, "channels must be positive, got (0,)"),
    (lambda: A.SharedDigitBody(2, 0), ValueError, "in_size must be positive, got (0,)"),
    (lambda: A.SharedDigitBody(2, 8, 0), ValueError, "n_classes must be positive, got (0,)"),
    (lambda: A.SharedDigitBody(2, 8, width=0), ValueError, "width must be positive, got (0,)"),
    (lambda: A.SharedDigitBody(2, 8, head=0), ValueError, "head must be positive, got (0,)"),
    (lambda: A.SharedDigitBody(2, 8, kind="rnn"), ValueError, "unknown kind 'rnn'; expected one of 'fcn', 'cnn'"),
    (lambda: A.SharedDigitBody(2, 8)(torch.rand(1, 3, 8, 8)), ValueError, "x must be N×2×8×8, got shape (1, 3, 8, 8)"),
])
def test_shared_digit_body_errors(make, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        make()
    assert A.SharedDigitBody(2, 3, kind="fcn").n_features == 128  # the FCN takes any size


def digit_features_by_hand(features: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    c1, c2 = [m for m in features if isinstance(m, nn.Conv2d)]
    h = F.relu(F.max_pool2d(F.conv2d(x, c1.weight, c1.bias), 2))
    return F.relu(F.max_pool2d(F.conv2d(h, c2.weight, c2.bias), 2)).flatten(1)


def test_pair_cnn_reads_window_k_from_channel_k_with_one_cnn():
    torch.manual_seed(0)
    net = A.PairCNN(5, dropout=False).double()
    V = torch.rand(3, 2, 28, 28, dtype=torch.float64, generator=G)
    f = torch.cat([digit_features_by_hand(net.features, V[:, 0:1]),
                   digit_features_by_hand(net.features, V[:, 1:2])], 1)
    a, b = [m for m in net.head if isinstance(m, nn.Linear)]
    torch.testing.assert_close(net(V), F.linear(F.relu(F.linear(f, a.weight, a.bias)), b.weight, b.bias))
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(10, (5, 5)), (20, (5, 5))]
    assert (a.in_features, a.out_features, b.out_features) == (640, 50, 5)
    drops = A.PairCNN()
    assert [type(m) for m in [*drops.features, *drops.head] if isinstance(m, (nn.Dropout, nn.Dropout2d))] == \
        [nn.Dropout2d, nn.Dropout] and drops.head[-1].out_features == 19
    with pytest.raises(ValueError, match=re.escape("V (two 28×28 windows) must be N×2×28×28, got shape (1, 1, 28, 28)")):
        net(V[:1, :1])


def plain_cnn_by_hand(net: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    h = digit_features_by_hand(net, x)
    a, b = [m for m in net if isinstance(m, nn.Linear)]
    return F.linear(F.relu(F.linear(h, a.weight, a.bias)), b.weight, b.bias)


def test_wangs_two_baselines_written_out():
    torch.manual_seed(0)
    two = A.TwoDigitCNNBody(4, dropout=False).double()
    x = torch.rand(2, 1, 28, 56, dtype=torch.float64, generator=G)
    torch.testing.assert_close(two(x), plain_cnn_by_hand(two.net, x))
    add = A.WangAdditionCNNBody(6, dropout=False).double()
    x2 = torch.rand(2, 2, 42, 42, dtype=torch.float64, generator=G)
    torch.testing.assert_close(add(x2), plain_cnn_by_hand(add.net, x2))
    for body in (two, add):
        convs = [m for m in body.net if isinstance(m, nn.Conv2d)]
        assert [(c.out_channels, c.kernel_size) for c in convs] == [(10, (5, 5)), (25, (5, 5))]
    for body in (A.TwoDigitCNNBody(), A.WangAdditionCNNBody()):
        assert body.net[-1].out_features == 19
        assert [type(m) for m in body.net if isinstance(m, (nn.Dropout, nn.Dropout2d))] == [nn.Dropout2d, nn.Dropout]
    with pytest.raises(ValueError, match=re.escape("x must be N×1×28×56, got shape (2, 1, 28, 28)")):
        two(x[..., :28])
    with pytest.raises(ValueError, match=re.escape("x must be N×2×42×42, got shape (2, 1, 42, 42)")):
        add(x2[:, :1])


def test_wangs_localization_body_written_out():
    torch.manual_seed(0)
    body, features = A.two_digit_localization_body()
    body = body.double()
    assert features == 32
    x = torch.rand(2, 1, 28, 56, dtype=torch.float64, generator=G)
    c1, c2 = [m for m in body if isinstance(m, nn.Conv2d)]
    (lin,) = [m for m in body if isinstance(m, nn.Linear)]
    h = F.relu(F.max_pool2d(F.conv2d(x, c1.weight, c1.bias), 2))
    h = F.relu(F.max_pool2d(F.conv2d(h, c2.weight, c2.bias), 2)).flatten(1)
    torch.testing.assert_close(body(x), F.relu(F.linear(h, lin.weight, lin.bias)))
    assert [(c.out_channels, c.kernel_size) for c in (c1, c2)] == [(8, (7, 7)), (10, (5, 5))]


def test_init_two_digit_head():
    head = nn.Linear(32, 12)
    assert A.init_two_digit_head(head, "left-right") is head
    assert head.weight.abs().sum() == 0 and torch.equal(head.bias.detach(), A.LEFT_RIGHT_BIAS)
    A.init_two_digit_head(head, "identity")
    assert head.weight.abs().sum() == 0 and torch.equal(head.bias.detach(), A.IDENTITY_BIAS)
    torch.manual_seed(3)
    A.init_two_digit_head(head, "random")
    torch.manual_seed(3)
    ref = nn.Linear(32, 12)
    assert torch.equal(head.weight, ref.weight) and torch.equal(head.bias, ref.bias)
    assert A.LEFT_RIGHT_BIAS.tolist() == [0.5, 0, -0.5, 0, 1, 0, 0.5, 0, 0.5, 0, 1, 0]
    for bad in (nn.Linear(32, 6), nn.Conv1d(32, 12, 1)):
        with pytest.raises(ValueError, match="^" + re.escape(
                "head must be the nn.Linear with 12 outputs of the two-digit localization net, got ")):
            A.init_two_digit_head(bad, "identity")
    with pytest.raises(ValueError, match="init"):
        A.init_two_digit_head(head, "zeros")


THETA2 = torch.tensor([[[0.6, 0.1, -0.4], [-0.1, 0.9, 0.1]], [[0.5, -0.2, 0.45], [0.2, 0.8, -0.2]]],
                      dtype=torch.float64)


def sample(x, theta, out, padding_mode, mode="bilinear"):
    grid = F.affine_grid(theta, [x.shape[0], x.shape[1], out[0], out[1]], align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=False)


@pytest.mark.parametrize("padding_mode, kernel, standardize", [("zeros", "bilinear", True),
                                                              ("border", "bicubic", False)])
def test_two_digit_model_warps_two_windows_with_its_options(padding_mode, kernel, standardize):
    torch.manual_seed(0)
    model = A.two_digit_model("identity", padding_mode, dropout=False, kernel=kernel,
                              standardize=standardize).double()
    head = model.transformer.loc[0].head
    with torch.no_grad():
        head.bias.copy_(THETA2.flatten())
    x = torch.rand(2, 1, 28, 56, dtype=torch.float64, generator=G)
    u = (x - 0.1307) / 0.3081 if standardize else x
    V = torch.cat([sample(u, THETA2[k].expand(2, 2, 3), (28, 28), padding_mode, kernel) for k in (0, 1)], 1)
    torch.testing.assert_close(model.body.__class__.forward(model.body, V), model(x))
    assert model.standardize == (A.MNIST_MEAN_STD if standardize else None)
    assert isinstance(model.body, A.PairCNN)


def test_two_digit_model_and_cnn_defaults():
    model = A.two_digit_model()
    st = model.transformer
    assert (st.padding_mode, st.kernel, st.out_size, st.n_transformers, st.shared_localization) == \
        ("zeros", "bilinear", (28, 28), 2, True)
    assert torch.equal(st.loc[0].head.bias.detach(), A.LEFT_RIGHT_BIAS) and model.standardize == A.MNIST_MEAN_STD
    assert any(isinstance(m, nn.Dropout) for m in model.body.head)
    with pytest.raises(ValueError, match="padding_mode"):
        A.two_digit_model(padding_mode="reflection")
    cnn = A.two_digit_cnn()
    assert cnn.transformer is None and cnn.standardize == A.MNIST_MEAN_STD
    assert any(isinstance(m, nn.Dropout) for m in cnn.body.net)
    plain = A.two_digit_cnn(dropout=False, standardize=False)
    assert plain.standardize is None and not any(isinstance(m, nn.Dropout) for m in plain.body.net)


def fixed_heads(st, theta):
    for k, loc in enumerate(st.loc):
        with torch.no_grad():
            loc.head.weight.zero_()
            loc.head.bias.copy_(theta[k % len(theta)].flatten().repeat(loc.head.bias.numel() // 6))


@pytest.mark.parametrize("loc", ["fcn", "cnn"])
def test_addition_transformers_warp_as_their_kind_says(loc):
    x = torch.rand(2, 2, 42, 42, dtype=torch.float64, generator=G)
    single = A.addition_transformer("single", loc=loc, out_size=20, padding_mode="border").double()
    fixed_heads(single, THETA2[:1])
    V, _ = single(x)
    torch.testing.assert_close(V, sample(x, THETA2[0].expand(2, 2, 3), (20, 20), "border"))
    per = A.addition_transformer("per channel", loc=loc).double()
    with torch.no_grad():
        per.loc[0].head.weight.zero_()
        per.loc[0].head.bias.copy_(THETA2.flatten())
    V, theta = per(x)
    expected = torch.cat([sample(x[:, c:c + 1], THETA2[c].expand(2, 2, 3), (28, 28), "zeros") for c in (0, 1)], 1)
    torch.testing.assert_close(V, expected)
    par = A.addition_transformer("parallel", loc=loc).double()
    fixed_heads(par, THETA2)
    V, _ = par(x)
    expected = torch.cat([sample(x, THETA2[k].expand(2, 2, 3), (28, 28), "zeros") for k in (0, 1)], 1)
    torch.testing.assert_close(V, expected)
    assert par.align_corners is False and per.per_channel and par.n_transformers == 2


def test_addition_transformer_localization_bodies_and_errors():
    fcn = A.addition_transformer("single").loc[0].body
    assert isinstance(fcn[0], nn.AdaptiveAvgPool2d) and fcn[0].output_size == 14
    assert [m.in_features for m in fcn if isinstance(m, nn.Linear)][0] == 2 * 14 * 14
    cnn = A.addition_transformer("single", loc="cnn", in_size=42).loc[0].body
    assert [m for m in cnn if isinstance(m, nn.Conv2d)][0].in_channels == 2
    tps = A.addition_transformer("single", transform="tps")
    assert tps.transform == "tps" and tps.out_size == (28, 28)
    with pytest.raises(ValueError, match="^" + re.escape(
            "kind must be one of 'single', 'per channel', 'parallel', got 'double'") + "$"):
        A.addition_transformer("double")
    with pytest.raises(ValueError, match="^" + re.escape("loc must be 'fcn' or 'cnn', got 'rnn'") + "$"):
        A.addition_transformer("single", loc="rnn")


@pytest.mark.parametrize("name, base, kind", [("FCN", "FCN", None), ("CNN", "CNN", None),
                                              ("ST-FCN", "FCN", "single"), ("ST-CNN per channel", "CNN", "per channel"),
                                              ("2×ST-FCN", "FCN", "parallel"), ("2×ST-CNN", "CNN", "parallel"),
                                              ("Wang ST", "Wang", "per channel"), ("Wang CNN", "Wang", None)])
def test_model_names_parse(name, base, kind):
    assert A._parse_addition(name) == (base, kind)


def test_unknown_names_list_every_model():
    with pytest.raises(ValueError, match="^" + re.escape(
            "unknown model 'ST-RNN'; expected one of FCN, CNN, ST-FCN, ST-FCN per channel, 2×ST-FCN, ST-CNN, "
            "ST-CNN per channel, 2×ST-CNN, Wang ST, Wang CNN") + "$"):
        A.addition_model("ST-RNN")


def test_addition_model_bodies_with_a_fixed_width():
    m = A.addition_model("2×ST-CNN", width=3, in_size=36, out_size=20)
    assert isinstance(m.body, C.CNN) and m.body.channels == (3, 6) and m.body.hidden is None
    assert m.body.in_channels == 4 and m.body.in_size == 20 and m.body.head.out_features == 19
    assert m.transformer.out_size == (20, 20)
    f = A.addition_model("FCN", width=5)
    assert isinstance(f.body, C.FCN) and f.body.hidden == 5 and f.body.in_size == 42 and f.transformer is None
    s = A.addition_model("ST-FCN per channel", width=4, classifier="shared")
    assert isinstance(s.body, A.SharedDigitBody) and (s.body.kind, s.body.width, s.body.in_channels) == ("fcn", 4, 2)
    assert s.body.in_size == 28
    sc = A.addition_model("CNN", width=4, classifier="shared")
    assert sc.body.kind == "cnn" and sc.body.in_size == 42
    tps = A.addition_model("ST-FCN", width=4, transform="tps")
    assert tps.transformer.transform == "tps"
    wang = A.addition_model("Wang ST")
    assert isinstance(wang.body, A.PairCNN) and wang.transformer.per_channel
    assert isinstance(A.addition_model("Wang CNN").body, A.WangAdditionCNNBody)


def test_addition_model_fits_the_width_to_the_budget():
    for name, classifier in (("FCN", "joint"), ("ST-CNN", "joint"), ("ST-CNN", "shared")):
        m = A.addition_model(name, params=30_000, classifier=classifier)
        w = m.body.hidden if isinstance(m.body, C.FCN) else (m.body.channels[0] if isinstance(m.body, C.CNN)
                                                              else m.body.width)
        counts = {}
        for v in (w - 1, w, w + 1):
            counts[v] = C.count_parameters(A.addition_model(name, width=v, classifier=classifier))
        assert abs(counts[w] - 30_000) <= min(abs(counts[w - 1] - 30_000), abs(counts[w + 1] - 30_000))
    assert A.addition_model("FCN", params=1).body.hidden == 2
    assert A.addition_model("CNN", params=1).body.channels == (2, 4)
    with pytest.raises(ValueError, match=re.escape("params must be positive, got (0,)")):
        A.addition_model("FCN", params=0)
    with pytest.raises(ValueError, match="classifier"):
        A.addition_model("FCN", classifier="separate")


def test_wang_addition_model_options():
    st = A.wang_addition_model()
    assert st.standardize == A.MNIST_MEAN_STD and st.transformer.padding_mode == "border"
    assert (st.transformer.out_size, st.transformer.per_channel) == ((28, 28), True)
    assert not any(isinstance(m, nn.Dropout) for m in st.body.head)
    assert A.wang_addition_model(padding_mode="zeros").transformer.padding_mode == "zeros"
    assert any(isinstance(m, nn.Dropout) for m in A.wang_addition_model(dropout=True).body.head)
    cnn = A.wang_addition_model(transformer=False)
    assert cnn.transformer is None and cnn.standardize == A.MNIST_MEAN_STD
    assert not any(isinstance(m, nn.Dropout) for m in cnn.body.net)
    assert any(isinstance(m, nn.Dropout) for m in A.wang_addition_model(transformer=False, dropout=True).body.net)


def test_addition_parameter_table_lines():
    names = ("FCN", "ST-CNN", "2×ST-FCN", "ST-FCN per channel", "Wang CNN")
    lines = A.addition_parameter_table(params=20_000, names=names).splitlines()
    assert lines[0] == f"{'model':20s} {'classifier':>16s} {'loc. net(s)':>11s} {'total':>8s}   θ per image"
    thetas = ["–", "1 (both channels)", "2 (one per transformer)", "2 (one per channel)", "–"]
    for name, line, theta in zip(names, lines[1:], thetas, strict=True):
        m = A.addition_model(name, params=20_000)
        clf = m.body
        width = (f"h={clf.hidden}" if isinstance(clf, C.FCN) else f"c={clf.channels[0]}"
                 if isinstance(clf, C.CNN) else "Wang's")
        loc = C.count_parameters(m.transformer) if m.transformer is not None else 0
        assert line == (f"{name:20s} {width:>7s} {C.count_parameters(clf):8,d} {loc:11,d} "
                        f"{C.count_parameters(m):8,d}   {theta}")
    shared = A.addition_parameter_table(params=20_000, names=("CNN",), classifier="shared").splitlines()[1]
    assert shared.split()[1] == f"w={A.addition_model('CNN', params=20_000, classifier='shared').body.width}"


def test_small_canvases_get_a_localization_net_of_their_size():
    # below 28 px the tutorial's localization body has no adaptive pooling: its size depends on the input
    m = A.addition_model("ST-CNN", width=3, in_size=24, out_size=20)
    assert m(torch.rand(2, 2, 24, 24)).shape == (2, 19)
    assert [x for x in m.transformer.loc[0].body if isinstance(x, nn.Linear)][0].in_features == 10 * 2 * 2


def test_the_width_search_keeps_the_first_of_two_equally_close_widths():
    counts = {w: C.count_parameters(A.addition_model("FCN", width=w)) for w in range(5, 9)}
    pairs = [(w, counts[w] + counts[w + 1]) for w in range(5, 8) if (counts[w] + counts[w + 1]) % 2 == 0]
    assert pairs  # an exact midpoint exists
    w, total = pairs[0]
    assert A.addition_model("FCN", params=total // 2).body.hidden == w


def test_wangs_st_model_uses_the_tutorials_localization_body_on_both_channels():
    body = A.wang_addition_model().transformer.loc[0].body
    convs = [m for m in body if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [(2, 8, (7, 7)), (8, 10, (5, 5))]
    assert any(isinstance(m, nn.AdaptiveMaxPool2d) for m in body)


@pytest.mark.parametrize("make, message", [
    (lambda: A.TwoDigitCNNBody()(torch.rand(28, 56)), "x must be a 4-D tensor N×1×28×56, got shape (28, 56)"),
    (lambda: A.TwoDigitCNNBody()([1]), "x must be a torch.Tensor N×1×28×56, got list"),
    (lambda: A.init_two_digit_head(nn.Linear(32, 12), "zeros"),
     "unknown init 'zeros'; expected one of 'left-right', 'identity', 'random'"),
    (lambda: A.two_digit_model(padding_mode="reflection"),
     "unknown padding_mode 'reflection'; expected one of 'border', 'zeros'"),
])
def test_exact_messages_of_the_two_digit_models(make, message):
    with pytest.raises((TypeError, ValueError), match="^" + re.escape(message) + "$"):
        make()


def test_a_large_budget_fits_an_fcn_wider_than_the_cnns_range():
    m = A.addition_model("FCN", params=1_200_000)  # about 340 hidden units: past the CNN's 256 channels
    w = m.body.hidden
    assert w > 256
    counts = [C.count_parameters(A.addition_model("FCN", width=v)) for v in (w - 1, w, w + 1)]
    assert abs(counts[1] - 1_200_000) <= min(abs(counts[0] - 1_200_000), abs(counts[2] - 1_200_000))


def pair_cnn_by_hand(net: A.PairCNN, V: torch.Tensor) -> torch.Tensor:
    f = torch.cat([digit_features_by_hand(net.features, V[:, k:k + 1]) for k in (0, 1)], 1)
    a, b = [m for m in net.head if isinstance(m, nn.Linear)]
    return F.linear(F.relu(F.linear(f, a.weight, a.bias)), b.weight, b.bias)


def test_wang_st_warps_each_standardized_channel_with_its_own_theta_and_border_padding():
    torch.manual_seed(0)
    model = A.wang_addition_model().double()
    with torch.no_grad():
        model.transformer.loc[0].head.weight.zero_()
        model.transformer.loc[0].head.bias.copy_(THETA2.flatten())
    x = torch.rand(2, 2, 42, 42, dtype=torch.float64, generator=G)
    u = (x - A.MNIST_MEAN) / A.MNIST_STD
    V = torch.cat([sample(u[:, c:c + 1], THETA2[c].expand(2, 2, 3), (28, 28), "border") for c in (0, 1)], 1)
    torch.testing.assert_close(model(x), pair_cnn_by_hand(model.body, V))
    zeros = A.wang_addition_model(padding_mode="zeros").double()
    zeros.load_state_dict(model.state_dict())
    Vz = torch.cat([sample(u[:, c:c + 1], THETA2[c].expand(2, 2, 3), (28, 28), "zeros") for c in (0, 1)], 1)
    torch.testing.assert_close(zeros(x), pair_cnn_by_hand(zeros.body, Vz))
    assert not torch.allclose(zeros(x), model(x))  # the windows reach outside the canvas


@pytest.mark.parametrize("name, classifier", [("2×ST-CNN", "shared"), ("ST-FCN per channel", "shared"),
                                              ("ST-FCN", "joint"), ("2×ST-FCN", "joint")])
def test_addition_models_classify_the_windows_their_transformers_cut(name, classifier):
    torch.manual_seed(0)
    model = A.addition_model(name, width=6, classifier=classifier).double()
    st = model.transformer
    x = torch.rand(2, 2, 42, 42, dtype=torch.float64, generator=G)
    if st.per_channel:
        with torch.no_grad():
            st.loc[0].head.weight.zero_()
            st.loc[0].head.bias.copy_(THETA2.flatten())
        V = torch.cat([sample(x[:, c:c + 1], THETA2[c].expand(2, 2, 3), (28, 28), "zeros") for c in (0, 1)], 1)
    else:
        fixed_heads(st, THETA2)
        V = torch.cat([sample(x, THETA2[k].expand(2, 2, 3), (28, 28), "zeros") for k in range(st.n_transformers)], 1)
    expected = shared_by_hand(model.body, V) if classifier == "shared" else model.body(V)
    torch.testing.assert_close(model(x), expected)
    assert model.body.in_channels == V.shape[1]


@pytest.mark.parametrize("kind", ["fcn", "cnn"])
def test_swapping_the_channels_swaps_the_shared_digit_nets_features(kind):
    torch.manual_seed(0)
    body = A.SharedDigitBody(2, 12, 5, kind=kind, width=4).double()
    x = torch.rand(3, 2, 12, 12, dtype=torch.float64, generator=G)
    torch.testing.assert_close(body.features(x.flip(1)), body.features(x).flip(1))
    a, b = body.head[0], body.head[-1]
    swapped = torch.cat([body.features(x)[:, 1], body.features(x)[:, 0]], 1)
    torch.testing.assert_close(body(x.flip(1)), F.linear(F.relu(F.linear(swapped, a.weight, a.bias)),
                                                         b.weight, b.bias))
    assert not torch.allclose(body(x.flip(1)), body(x))  # the head knows which channel a feature came from


def test_swapping_the_channels_swaps_the_per_channel_windows():
    torch.manual_seed(0)
    per = A.addition_transformer("per channel").double()
    same = THETA2[0].flatten().repeat(2)
    with torch.no_grad():
        per.loc[0].head.weight.zero_()
        per.loc[0].head.bias.copy_(same)
    x = torch.rand(2, 2, 42, 42, dtype=torch.float64, generator=G)
    torch.testing.assert_close(per(x.flip(1))[0], per(x)[0].flip(1))
    par = A.addition_transformer("parallel").double()
    fixed_heads(par, THETA2)
    V, Vs = par(x)[0], par(x.flip(1))[0]
    torch.testing.assert_close(Vs, V[:, [1, 0, 3, 2]])  # each transformer warps both channels, in order


def test_the_width_search_ends_at_2048_units_or_256_cnn_channels(monkeypatch):
    # the search alone, with a stand-in model whose count is 10 per unit of width (the real models at
    # these widths have millions of parameters each): the closest width within the documented range
    monkeypatch.setattr(A, "_make_addition", lambda base, kind, width, *rest: width)
    monkeypatch.setattr(A, "count_parameters", lambda width: 10 * width)
    assert A.addition_model("FCN", params=10 ** 9) == 2048
    assert A.addition_model("ST-CNN", params=10 ** 9, classifier="shared") == 2048
    assert A.addition_model("CNN", params=10 ** 9) == 256
    assert A.addition_model("2×ST-CNN", params=10 ** 9) == 256
    assert A.addition_model("ST-CNN", params=1234) == 123 and A.addition_model("FCN", params=3004) == 300
    assert A.addition_model("FCN", params=1) == 2
