"""Lesson 08's U-Net (Abou Chacra & Zelek, Table 1): output shapes for every depth and position,
the transformer + decoder pair exactly transparent at the identity θ (the plain U-Net with the same
weights), what a non-identity θ does with and without the decoder, gradients to θ, errors."""

import pytest
import torch

from stnlib.models import LOC_PREFIX
from stnlib.models.unet import UNet
from stnlib.theta import affine_theta

CASES = [(d, p) for d in (2, 3, 4, 5, 6) for p in [None, *range(1, d)]]


@pytest.mark.parametrize(("depth", "position"), CASES)
@pytest.mark.parametrize("transform", ["affine", "tps"])
def test_output_shape_for_every_depth_and_position(depth, position, transform):
    size = 2 ** (depth - 1) * 2
    net = UNet(depth, base=2, in_size=size, position=position, transform=transform)
    x = torch.rand(2, 3, size, size)
    assert net(x).shape == (2, 2, size, size)
    assert net.widths == tuple(2 * 2 ** k for k in range(depth - 1))
    if position is None:
        assert net.transformer is None and net.decoder is None and net.last_theta is None
        with pytest.raises(ValueError, match="no spatial transformer"):
            net.transformed(x)
        return
    U, V, theta = net.transformed(x, with_input=True)
    side = size // 2 ** (position - 1)
    assert U.shape == V.shape == (2, 2 * 2 ** (position - 1), side, side)
    assert theta.shape == ((2, 2, 3) if transform == "affine" else (2, net.tps_points ** 2, 2))
    assert net.last_theta.shape == theta.shape
    assert net.sampling_grid(theta).shape == (2, side, side, 2)


def test_tps_control_grid_is_the_map_side_over_eight():
    assert UNet(4, base=2, in_size=256, position=2, transform="tps").tps_points == 16  # 128 / 8
    assert UNet(4, base=2, in_size=64, position=3, transform="tps").tps_points == 2  # 16 / 8
    assert UNet(4, base=2, in_size=64, position=2, transform="tps", tps_points=3).tps_points == 3


def test_paper_table_1_widths_and_sizes():
    # depth 6 with 64 base channels: Down 0 … Down 4 at 64 … 1024, bottom 1024 at 8×8 (256 input)
    net = UNet(6, base=64, in_size=256, position=4)
    assert net.widths == (64, 128, 256, 512, 1024)
    assert net.bottom[0][0].in_channels == net.bottom[1][0].out_channels == 1024
    assert net.level == 3 and net.transformer.in_channels == 512  # "Down 3 and Up 3"


def _pair(depth, position, **kw):
    torch.manual_seed(0)
    size = 2 ** (depth - 1) * 4
    plain = UNet(depth, base=3, in_size=size).double()
    with torch.no_grad():  # batch-norm statistics that are not the defaults
        for m in plain.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    model = UNet(depth, base=3, in_size=size, position=position, **kw).double()
    missing = model.load_state_dict(plain.state_dict(), strict=False)
    assert not missing.unexpected_keys
    assert missing.missing_keys and all(k.startswith("transformer.") for k in missing.missing_keys)
    return plain, model, torch.rand(3, 3, size, size, dtype=torch.float64)


@pytest.mark.parametrize(("depth", "position"), [c for c in CASES if c[1] is not None])
@pytest.mark.parametrize("kw", [{}, {"transform": "tps"}, {"decoder": False},
                                {"hole_fill": "dtn"}, {"padding_mode": "zeros"}],
                         ids=["affine", "tps", "no-decoder", "dtn-fill", "zeros"])
def test_identity_theta_makes_the_pair_exactly_transparent(depth, position, kw):
    plain, model, x = _pair(depth, position, **kw)
    for mode in (False, True):  # eval (running statistics) and train (batch statistics)
        plain.train(mode)
        model.train(mode)
        torch.testing.assert_close(model(x), plain(x), rtol=0, atol=1e-12)


def _set_theta(model, theta):
    """Make the localization net output ``theta`` for every input (zero weights, θ as bias)."""
    head = model.transformer.loc[0].head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(theta.reshape(-1).to(head.bias))


def test_a_warp_changes_the_output_with_and_without_the_decoder():
    torch.manual_seed(1)
    kw = dict(base=3, in_size=32, position=2)
    with_dec = UNet(4, **kw).double().eval()
    without = UNet(4, decoder=False, **kw).double().eval()
    without.load_state_dict(with_dec.state_dict())
    plain = UNet(4, base=3, in_size=32).double().eval()
    plain.load_state_dict(with_dec.state_dict(), strict=False)
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    shift = affine_theta(translation=(0.25, 0.0), dtype=torch.float64)  # 2 pixels of the 16×16 map
    for m in (with_dec, without):
        _set_theta(m, shift)
    y_plain, y_dec, y_none = plain(x), with_dec(x), without(x)
    assert (y_dec - y_plain).abs().max() > 1e-4  # the warp changes what the network computes
    assert (y_none - y_dec).abs().max() > 1e-4  # and the decoder changes it again


def test_the_decoder_undoes_an_integer_shift_on_covered_pixels():
    torch.manual_seed(2)
    net = UNet(3, base=2, in_size=16, position=1).double().eval()
    # the picture moves 2 px (of 16) to the right: output pixel j reads input pixel j - 2
    _set_theta(net, affine_theta(translation=(0.25, 0.0), dtype=torch.float64))
    x = torch.rand(1, 3, 16, 16, dtype=torch.float64)
    U, V, theta = net.transformed(x, with_input=True)
    torch.testing.assert_close(V[..., 2:], U[..., :-2], rtol=0, atol=1e-12)
    D = net.decoder(V, theta, skip=torch.full_like(U, -7.0))
    torch.testing.assert_close(D[..., :-2], U[..., :-2], rtol=0, atol=1e-12)  # covered: U again
    assert (D[..., -2:] == -7.0).all()  # nothing landed on the last two columns: the fill


def test_theta_gets_gradients_through_transformer_and_decoder():
    torch.manual_seed(3)
    net = UNet(4, base=2, in_size=32, position=3)
    x, y = torch.rand(2, 3, 32, 32), torch.randint(0, 2, (2, 32, 32))
    torch.nn.functional.cross_entropy(net(x), y).backward()
    head = net.transformer.loc[0].head
    assert head.bias.grad.abs().sum() > 0 and head.weight.grad.abs().sum() > 0
    assert any(n.startswith(LOC_PREFIX) for n, _ in net.named_parameters())


def test_names():
    assert UNet(4, base=2, in_size=32).name == "U-Net D=4"
    assert UNet(4, base=2, in_size=32, position=3).name == "U-Net D=4, ST at 3"
    assert UNet(5, base=2, in_size=32, position=2, transform="tps", decoder=False).name == \
        "U-Net D=5, ST at 2 TPS (no decoder)"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="in_size must be a multiple of 2\\^\\(depth-1\\) = 8"):
        UNet(4, in_size=60)
    with pytest.raises(ValueError, match="position must be None .* from 1 to depth - 1 = 3"):
        UNet(4, in_size=64, position=4)
    with pytest.raises(ValueError, match="position"):
        UNet(4, in_size=64, position=0)
    with pytest.raises(ValueError, match="depth must be an int >= 2"):
        UNet(1, in_size=64)
    with pytest.raises(ValueError, match="transform"):
        UNet(4, in_size=64, position=2, transform="projective")
    with pytest.raises(ValueError, match="hole_fill"):
        UNet(4, in_size=64, position=2, hole_fill="zeros")
    net = UNet(4, base=2, in_size=32)
    with pytest.raises(ValueError, match="x must be N×3×32×32"):
        net(torch.rand(2, 3, 64, 64))
    with pytest.raises(ValueError, match="x must be a 4-D tensor"):
        net(torch.rand(3, 32, 32))


# ------------------------------------------------ issue 25: options away from the identity

@pytest.mark.parametrize("position", [1, 2])
def test_padding_mode_reaches_the_transformer_and_shows_in_a_zoomed_out_v(position):
    torch.manual_seed(4)
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    out = {}
    for mode in ("zeros", "border"):
        torch.manual_seed(0)
        net = UNet(3, base=2, in_size=32, position=position, padding_mode=mode).double().eval()
        assert net.transformer.padding_mode == mode
        _set_theta(net, affine_theta(scale=0.5, dtype=torch.float64))  # zoom out: the edge reads outside
        with torch.no_grad():
            out[mode] = U, V, _ = net.transformed(x, with_input=True)
    (_, Vz, _), (U, Vb, _) = out["zeros"], out["border"]
    assert (Vz[..., 0, :] == 0).all() and (Vz[..., :, -1] == 0).all()  # zeros outside
    torch.testing.assert_close(Vb[..., 0, 0], U[..., 0, 0], rtol=0, atol=1e-12)  # border: the corner
    torch.testing.assert_close(Vb[..., -1, -1], U[..., -1, -1], rtol=0, atol=1e-12)
    assert U[..., 0, 0].abs().max() > 1e-3  # so the two paddings differ there


def test_hole_fill_encoder_fills_with_u_and_dtn_with_the_decoders_input():
    torch.manual_seed(5)
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    shift = affine_theta(translation=(0.25, 0.0), dtype=torch.float64)  # the last 2 columns are holes
    outs = {}
    for fill in ("encoder", "dtn"):
        torch.manual_seed(0)
        net = UNet(3, base=2, in_size=16, position=1, hole_fill=fill).double().eval()
        _set_theta(net, shift)
        seen = {}
        net.decoder.register_forward_hook(lambda m, args, kwargs, out, seen=seen: seen.update(
            inp=args[0], skip=kwargs["skip"], out=out), with_kwargs=True)
        with torch.no_grad():
            outs[fill] = net(x)
            U, _, _ = net.transformed(x, with_input=True)
        hole = seen["out"][..., -2:]
        expected = U if fill == "encoder" else seen["inp"]
        torch.testing.assert_close(hole, expected[..., -2:], rtol=0, atol=1e-12)
        assert (U[..., -2:] - seen["inp"][..., -2:]).abs().max() > 1e-3  # the two fills differ there
    assert (outs["encoder"] - outs["dtn"]).abs().max() > 1e-6


def test_localization_body_is_batch_normalized_by_default_and_plain_on_request():
    from torch import nn

    from stnlib.localization import conv_body

    body = conv_body(16, channels=20, hidden=50, norm="batch")
    kinds = [type(m) for m in body]
    # each convolution and the linear layer is followed by its batch norm, before the ReLU
    assert kinds.index(nn.BatchNorm2d) == kinds.index(nn.Conv2d) + 1
    assert [i for i, k in enumerate(kinds) if k is nn.BatchNorm1d] == [kinds.index(nn.Linear) + 1]
    assert sum(k is nn.BatchNorm2d for k in kinds) == 2
    assert not any(k in (nn.BatchNorm1d, nn.BatchNorm2d) for k in map(type, conv_body(16)))
    with pytest.raises(ValueError, match="norm"):
        conv_body(16, norm="layer")
    normed = UNet(3, base=4, in_size=32, position=2).transformer.loc[0].body
    plain = UNet(3, base=4, in_size=32, position=2, loc_norm=None).transformer.loc[0].body
    assert any(isinstance(m, nn.BatchNorm2d) for m in normed)
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in plain)


def test_the_default_localization_net_learns_a_theta_that_depends_on_the_scene():
    # lesson 08's failure without the normalization: θ hardly varied between scenes (spread < 0.01)
    from stnlib import data
    from stnlib.course.experiment import theta_spread

    torch.manual_seed(0)
    scenes = data.load("roads", "train", n=40, seed=1, size=32, roll=12.0, yaw=25.0)
    model = UNet(3, base=4, in_size=32, position=2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(30):
        i = torch.arange(10) + 10 * (step % 4)
        loss = torch.nn.functional.cross_entropy(model(scenes.images[i]), scenes.labels[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        _, theta = model.transformed(scenes.images)
    assert theta_spread(theta) > 0.01
