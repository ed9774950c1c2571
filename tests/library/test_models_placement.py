"""Lesson 07's placement model: CNN / STN-CX / STN-SLX for every X (shapes, identity at
initialization reproduces the plain CNN, what is warped, shared layers, the localization body and
its normalization, which keeps the ReLUs of a feature-map localization net alive, errors)."""

import pytest
import torch
from torch import nn

from stnlib.models import placement as P
from stnlib.theta import affine_theta

NAMES = ["CNN", "STN-C0", "STN-C1", "STN-C2", "STN-SL1", "STN-SL2"]


def _plain_and(name, in_size=28):
    torch.manual_seed(0)
    plain = P.build("CNN", in_size=in_size).double()
    model = P.build(name, in_size=in_size).double()
    missing = model.load_state_dict(plain.state_dict(), strict=False)
    assert not missing.unexpected_keys
    assert all(k.startswith("transformer.") for k in missing.missing_keys)
    return plain, model


@pytest.mark.parametrize("in_size", [28, 42])
@pytest.mark.parametrize("name", NAMES)
def test_shapes_for_every_depth(name, in_size):
    model = P.build(name, in_size=in_size)
    x = torch.rand(3, 1, in_size, in_size)
    assert model(x).shape == (3, 10)
    if name == "CNN":
        assert model.transformer is None
        return
    V, theta = model.transformed(x)
    assert theta.shape == (3, 2, 3)
    expected = (1, in_size, in_size) if "SL" in name or name == "STN-C0" else model.shapes[model.depth]
    assert tuple(V.shape[1:]) == tuple(expected)
    assert model.last_theta.shape == (3, 2, 3) and model.last_output.shape == V.shape


@pytest.mark.parametrize("name", NAMES[1:])
def test_identity_theta_reproduces_the_plain_cnn(name):
    plain, model = _plain_and(name)
    x = torch.rand(5, 1, 28, 28, dtype=torch.float64)
    V, theta = model.transformed(x)
    torch.testing.assert_close(theta, affine_theta(0.0, dtype=torch.float64).expand(5, 2, 3))
    torch.testing.assert_close(model(x), plain(x), rtol=0, atol=1e-12)


def test_identity_in_float32_to_rounding():
    torch.manual_seed(1)
    plain = P.build("CNN")
    model = P.build("STN-SL1")
    model.load_state_dict(plain.state_dict(), strict=False)
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(model(x), plain(x), rtol=0, atol=2e-5)


def _rotating(model, angle):
    with torch.no_grad():  # the head's bias is θ's flat entries: make the transform a rotation
        model.transformer.loc[0].head.bias.copy_(affine_theta(angle, dtype=torch.float64).flatten())
    return model


def test_sl_warps_the_input_and_c_warps_the_feature_map():
    x = torch.rand(2, 1, 28, 28, dtype=torch.float64)
    _, sl = _plain_and("STN-SL1")
    _, c1 = _plain_and("STN-C1")
    for m in (sl, c1):
        _rotating(m, 90.0)
    rot = torch.rot90(x, 1, dims=(2, 3))  # a quarter turn: exact on the pixel grid
    V, _ = sl.transformed(x)
    # θ of a 90° counter-clockwise picture rotation, applied to the input
    torch.testing.assert_close(V, rot, rtol=0, atol=1e-10)
    torch.testing.assert_close(sl(x), sl.head(sl.blocks[1](sl.blocks[0](rot))), rtol=0, atol=1e-10)
    V1, _ = c1.transformed(x)
    torch.testing.assert_close(V1, torch.rot90(c1.blocks[0](x), 1, dims=(2, 3)), rtol=0, atol=1e-10)
    torch.testing.assert_close(c1(x), c1.head(c1.blocks[1](V1)), rtol=0, atol=1e-10)


def test_shared_layers_are_the_classifiers_own():
    sl = P.build("STN-SL1")
    loc_params = {id(p) for p in sl.transformer.parameters()}
    block_params = {id(p) for p in sl.blocks.parameters()}
    assert not loc_params & block_params  # the localization net adds only its FC layers
    x = torch.rand(2, 1, 28, 28)
    sl.transformer.loc[0].head.weight.data.normal_(0, 0.1)  # θ now depends on block 1's features
    sl(x).sum().backward()
    # block 1 gets gradient from both passes; perturbing it changes θ
    theta = sl.transformed(x)[1].detach()
    with torch.no_grad():
        sl.blocks[0][0].weight.add_(0.1)
    assert not torch.allclose(sl.transformed(x)[1], theta)


def test_sl0_is_c0():
    a, b = P.build("STN-C0"), P.PlacementNet("SL", 0)
    assert a.name == b.name == "STN-C0"
    b.load_state_dict(a.state_dict())
    x = torch.rand(2, 1, 28, 28)
    a.transformer.loc[0].head.weight.data.normal_(0, 0.01)
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a(x), b(x))


def test_localization_is_under_the_lr_scale_prefix():
    m = P.build("STN-C1")
    names = [n for n, _ in m.named_parameters() if n.startswith("transformer.loc")]
    assert len(names) == 14  # three FC layers, their batch norms and the head, weight and bias each
    plain = P.build("STN-C1", loc_norm=None)
    assert len([n for n, _ in plain.named_parameters() if n.startswith("transformer.loc")]) == 8


@pytest.mark.parametrize("norm, kind", [(None, None), ("batch", nn.BatchNorm1d), ("layer", nn.LayerNorm)])
def test_localization_body_layers(norm, kind):
    body = P.localization_body(6400, hidden=32, norm=norm)
    linears = [m for m in body if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(6400, 32), (32, 32), (32, 32)]
    assert sum(isinstance(m, nn.ReLU) for m in body) == 3
    norms = [m for m in body if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm))]
    assert len(norms) == (0 if norm is None else 3) and all(isinstance(m, kind) for m in norms)
    for i, m in enumerate(body):  # a norm sits right between its linear layer and its ReLU
        if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm)):
            assert isinstance(body[i - 1], nn.Linear) and isinstance(body[i + 1], nn.ReLU)
    assert body(torch.rand(4, 64, 10, 10)).shape == (4, 32)
    assert len([m for m in P.localization_body(10, layers=1) if isinstance(m, nn.Linear)]) == 1


def _strokes(n, gen):
    """Digit-like 28×28 images: thick random strokes inside a 5-pixel margin (values 0 or 1)."""
    noise = torch.rand(n, 1, 28, 28, generator=gen)
    noise[..., :5, :] = noise[..., -5:, :] = 0
    noise[..., :, :5] = noise[..., :, -5:] = 0
    return (nn.functional.avg_pool2d(noise, 5, stride=1, padding=2) > 0.62).float()


def _pre_relu(model, x):
    """The localization body's pre-ReLU activations: one N×hidden tensor per layer."""
    out = []
    hooks = [m.register_forward_hook(lambda mod, inp, o: out.append(inp[0].detach()))
             for m in model.transformer.loc[0].body if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        _, theta = model.transformed(x)
    for h in hooks:
        h.remove()
    return out, theta


def _after_adam_steps(steps=30, **kw):
    """STN-C1 after ``steps`` Adam steps (lr 2e-3, lesson 07's recipe, batch 64) on stroke images,
    labelled by which half (top / bottom, left / right) holds more ink: the fraction of each
    localization layer's units that are positive for some test image, and θ's spread."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = P.PlacementNet("C", 1, **kw)
    x = _strokes(256, gen)
    y = ((x[..., :14, :].sum((1, 2, 3)) > x[..., 14:, :].sum((1, 2, 3))).long()
         + 2 * (x[..., :14].sum((1, 2, 3)) > x[..., 14:].sum((1, 2, 3))).long())
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for k in range(steps):
        i = (k % 4) * 64
        loss = nn.functional.cross_entropy(model(x[i:i + 64]), y[i:i + 64])
        opt.zero_grad()
        loss.backward()
        opt.step()
    acts, theta = _pre_relu(model.eval(), _strokes(256, gen))
    return [(a > 0).any(0).float().mean().item() for a in acts], theta.std(0).amax().item()


def test_localization_relus_on_block1_maps_are_alive_at_init():
    torch.manual_seed(0)
    for norm in P.LOC_NORMS:
        acts, theta = _pre_relu(P.PlacementNet("C", 1, loc_norm=norm).eval(),
                                _strokes(256, torch.Generator().manual_seed(1)))
        assert (acts[0] > 0).any(0).float().mean() > 0.9  # most first-layer units fire for some input
        torch.testing.assert_close(theta, affine_theta(0.0).expand(256, 2, 3))  # identity at init


def test_localization_relus_stay_alive_under_adam_and_theta_moves():
    # the default (batch norm): (nearly) every unit of every layer is positive for some input after
    # 30 steps, and θ varies over the inputs (the lesson's "never moved" threshold is a spread of 0.01)
    live, spread = _after_adam_steps()
    assert min(live) >= 0.9
    assert spread > 0.05
    # the authors' plain layers on block 1's 6 400 non-negative features: most first-layer units
    # are negative for every input after the same steps (dead ReLUs)
    live, _ = _after_adam_steps(loc_norm=None)
    assert live[0] < 0.6


def test_errors():
    with pytest.raises(ValueError, match="depth must be an int from 0 to 2"):
        P.PlacementNet("C", 3)
    with pytest.raises(ValueError, match="placement"):
        P.PlacementNet("X", 1)
    with pytest.raises(ValueError, match="depth must be 0 for placement='CNN'"):
        P.PlacementNet("CNN", 1)
    with pytest.raises(ValueError, match="in_size=12 is too small"):
        P.PlacementNet("CNN", 0, in_size=12)
    with pytest.raises(ValueError, match="name must be 'CNN'"):
        P.build("STN-X1")
    with pytest.raises(ValueError, match=r"must be N×1×28×28"):
        P.build("STN-C1")(torch.rand(2, 1, 42, 42))
    with pytest.raises(ValueError, match="no spatial transformer"):
        P.build("CNN").transformed(torch.rand(1, 1, 28, 28))
    with pytest.raises(ValueError, match="loc_norm must be one of"):
        P.PlacementNet("C", 1, loc_norm="group")
    with pytest.raises(ValueError, match="norm must be one of"):
        P.localization_body(10, norm="instance")
