"""SpatialDecoder: identity, round trip where the warp covers, skip features in the holes, gradcheck."""

import pytest
import torch

from stnlib import theta as theta_lib
from stnlib.decoder import SpatialDecoder, scatter_decode
from stnlib.grids import affine_grid
from stnlib.sampler import sample
from stnlib.theta import affine_theta
from stnlib.transformer import SpatialTransformer


def smooth_image(n=2, c=3, h=24, w=20):
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h, dtype=torch.float64),
                            torch.linspace(-1, 1, w, dtype=torch.float64), indexing="ij")
    chans = [torch.sin(2 * xx + k) * torch.cos(1.5 * yy - k) for k in range(c)]
    return torch.stack(chans).expand(n, c, h, w).clone()


@pytest.mark.parametrize("kernel", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_identity_theta_decodes_exactly(kernel, align_corners):
    x = smooth_image()
    dec = SpatialDecoder(align_corners=align_corners, kernel=kernel)
    theta = theta_lib.identity(2, dtype=torch.float64)
    torch.testing.assert_close(dec(x, theta, torch.zeros_like(x)), x)


def test_round_trip_where_the_warp_covers():
    """decode(encode(x)) ≈ x inside the region the (zoom-in, rotated) transformer looked at."""
    x = smooth_image()
    theta = affine_theta(20.0, 1.6, 0.0, (0.1, 0.0), dtype=torch.float64).expand(2, 2, 3)
    grid = affine_grid(theta, (48, 40), align_corners=False)  # finer than the input: dense coverage
    V = sample(x, grid, align_corners=False, sampler="reference")
    skip = torch.full_like(x, 7.0)
    D = SpatialDecoder(align_corners=False)(V, theta, skip)
    covered = (D != 7.0).all(1, keepdim=True)
    assert covered.float().mean() > 0.25  # the zoomed window covers part of the image
    inner = torch.nn.functional.max_pool2d((~covered).double(), 3, 1, 1) == 0  # away from its edge
    assert (D - x).abs()[inner.expand_as(x)].max() < 0.03
    assert (D[~covered.expand_as(D)] == 7.0).all()  # holes take the skip features


def test_decoder_after_a_spatial_transformer_module():
    st = SpatialTransformer(3, align_corners=True).double()
    x = smooth_image()
    V, theta = st(x)
    torch.testing.assert_close(SpatialDecoder(align_corners=True)(V, theta, torch.zeros_like(x)), x)


def test_gradcheck_decoder():
    torch.manual_seed(0)
    V = torch.randn(1, 2, 5, 4, dtype=torch.float64, requires_grad=True)
    skip = torch.randn(1, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    theta = (affine_theta(17.0, 1.3, 3.0, (0.07, -0.03), dtype=torch.float64)[None] +
             0.01 * torch.randn(1, 2, 3, dtype=torch.float64)).requires_grad_()
    dec = SpatialDecoder(align_corners=False)
    assert torch.autograd.gradcheck(lambda V, t, s: dec(V, t, s), (V, theta, skip), eps=1e-6, atol=1e-5)


def test_scatter_decode_checks_shapes():
    V = torch.rand(1, 2, 4, 4)
    with pytest.raises(ValueError, match="grid must have shape"):
        scatter_decode(V, torch.rand(1, 3, 3, 2), (8, 8), align_corners=False)
    with pytest.raises(ValueError, match="skip must have shape"):
        scatter_decode(V, torch.rand(1, 4, 4, 2), (8, 8), align_corners=False, skip=torch.rand(1, 3, 8, 8))
