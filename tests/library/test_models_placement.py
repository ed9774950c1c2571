"""Lesson 07's placement model: CNN / STN-CX / STN-SLX for every X (shapes, identity at
initialization reproduces the plain CNN, what is warped, shared layers, errors)."""

import pytest
import torch

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
    assert len(names) == 8  # three FC layers and the head, weight and bias each


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
