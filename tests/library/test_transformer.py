"""SpatialTransformer: identity at initialization, shapes of every variant, gradients, learning."""

import itertools

import pytest
import torch
from torch import nn

from stnlib.grids import identity, make_grid_generator
from stnlib.localization import LocalizationNet, fc_body, init_identity
from stnlib.transformer import SpatialTransformer

IMAGE_TRANSFORMS = ["affine", "attention", "projective", "tps"]
KERNELS = ["nearest", "bilinear", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]
THETA_TAIL = {"affine": (2, 3), "attention": (3,), "projective": (3, 3), "tps": (16, 2), "timewarp": (2,)}


@pytest.mark.parametrize(
    "transform,parity,align_corners,padding",
    list(itertools.product(IMAGE_TRANSFORMS + ["timewarp"], ["odd", "even"], [True, False], PADDINGS)),
)
def test_fresh_transformer_returns_its_input(transform, parity, align_corners, padding):
    size = {"odd": (9, 11), "even": (12, 10)}[parity]
    st = SpatialTransformer(2, transform=transform, align_corners=align_corners,
                            padding_mode=padding).double()
    U = torch.rand(3, 2, *(size if transform != "timewarp" else size[:1]), dtype=torch.float64)
    for kernel in KERNELS:
        st.kernel = kernel
        V, theta = st(U)
        torch.testing.assert_close(V, U, rtol=0, atol=1e-12)
        assert theta.shape == (3, *THETA_TAIL[transform])
        gen = make_grid_generator(transform)
        identity = gen.unflatten(gen.identity(torch.float64).expand(3, -1).clone())
        torch.testing.assert_close(theta, identity)


def test_identity_in_float32_to_rounding():
    U = torch.rand(4, 1, 28, 28)
    V, _ = SpatialTransformer(1, align_corners=False)(U)
    torch.testing.assert_close(V, U, rtol=0, atol=5e-6)


@pytest.mark.parametrize("transform", IMAGE_TRANSFORMS)
def test_parallel_transformers_concatenate_channels(transform):
    st = SpatialTransformer(2, transform=transform, align_corners=False, n_transformers=3, out_size=(14, 12))
    V, theta = st(torch.rand(5, 2, 28, 28))
    assert V.shape == (5, 6, 14, 12)
    assert theta.shape == (5, 3, *THETA_TAIL[transform])
    assert len(st.loc) == 3 and st.loc[0] is not st.loc[1]


@pytest.mark.parametrize("transform", IMAGE_TRANSFORMS)
def test_per_channel_transforms(transform):
    st = SpatialTransformer(3, transform=transform, align_corners=True, per_channel=True)
    with torch.no_grad():  # give each channel a different translation
        st.loc[0].head.bias.view(3, -1)[:, -1] += torch.tensor([0.0, 0.5, -0.5])
    U = torch.rand(2, 3, 16, 16)
    V, theta = st(U)
    assert V.shape == U.shape and theta.shape == (2, 3, *THETA_TAIL[transform])
    torch.testing.assert_close(V[:, 0], U[:, 0], atol=1e-5, rtol=0)
    assert not torch.allclose(V[:, 1], U[:, 1])


def test_timewarp_with_amplitude():
    st = SpatialTransformer(2, transform="timewarp", align_corners=True, amplitude=True, out_size=50)
    with torch.no_grad():
        st.loc[0].head.bias.copy_(torch.tensor([1.0, 0.0, 2.0, 0.5]))
    U = torch.rand(3, 2, 50)
    V, theta = st(U)
    assert theta.shape == (3, 4)
    torch.testing.assert_close(V, 2 * U + 0.5, atol=1e-5, rtol=0)


def test_downsampling_output_size():
    V, _ = SpatialTransformer(1, align_corners=False, out_size=(7, 5), kernel="bicubic")(torch.rand(2, 1, 28, 28))
    assert V.shape == (2, 1, 7, 5)


@pytest.mark.parametrize("kernel", ["bilinear", "bicubic"])
def test_reference_and_native_samplers_agree_inside_a_model(kernel):
    torch.manual_seed(1)
    st = SpatialTransformer(1, align_corners=False, kernel=kernel, sampler="reference")
    with torch.no_grad():
        st.loc[0].head.weight.normal_(std=0.01)
    U = torch.rand(4, 1, 20, 20)
    V_ref, _ = st(U)
    st.sampler = "native"
    V_nat, _ = st(U)
    torch.testing.assert_close(V_ref, V_nat, atol=1e-5, rtol=1e-4)


def test_gradients_reach_the_localization_net():
    st = SpatialTransformer(1, align_corners=False)
    U = torch.rand(4, 1, 20, 20)
    V, _ = st(U)
    (V * torch.randn_like(V)).sum().backward()
    assert st.loc[0].head.weight.grad.abs().sum() > 0
    assert len(list(st.localization_parameters())) == len(list(st.parameters()))


def test_custom_localization_body():
    st = SpatialTransformer(1, align_corners=False, transform="attention", loc_body=fc_body(64), loc_features=32)
    V, theta = st(torch.rand(2, 1, 8, 8))
    assert theta.shape == (2, 3)
    torch.testing.assert_close(theta, torch.tensor([[1.0, 0, 0]]).expand(2, 3))


def test_init_identity_for_every_parametrization():
    for transform in ["affine", "attention", "projective", "tps", "timewarp"]:
        ident = identity(transform)
        head = init_identity(nn.Linear(7, 2 * ident.numel()), ident)
        out = head(torch.randn(3, 7))
        torch.testing.assert_close(out, ident.repeat(2).expand(3, -1))
    loc = LocalizationNet(fc_body(16), 32, make_grid_generator("affine"), copies=2)
    assert loc(torch.randn(5, 16)).shape == (5, 2, 6)


def test_stn_learns_to_undo_a_translation():
    """A transformer trained to centre shifted blobs moves θ's translation the right way."""
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 16), torch.linspace(-1, 1, 16), indexing="ij")

    def blob(cx):
        return torch.exp(-((xx - cx) ** 2 + yy**2) / 0.2)

    shifts = torch.tensor([-0.3, 0.3] * 8)
    U = torch.stack([blob(s) for s in shifts]).unsqueeze(1)
    target = blob(0.0).expand(16, 1, 16, 16)
    st = SpatialTransformer(1, align_corners=False, transform="attention", padding_mode="border",
                            loc_body=fc_body(256), loc_features=32)
    opt = torch.optim.Adam(st.parameters(), lr=1e-2)
    for _ in range(150):
        V, theta = st(U)
        loss = ((V - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    tx = theta[:, 1].detach()
    assert (tx[shifts < 0] < -0.2).all() and (tx[shifts > 0] > 0.2).all()
