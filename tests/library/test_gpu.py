"""The parity suite again on CUDA, when a GPU is present (skipped otherwise)."""

import itertools

import pytest
import test_sampler
import torch

from stnlib.transformer import SpatialTransformer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"),
]


@pytest.mark.parametrize("kernel,padding,align_corners,dtype", list(itertools.product(
    test_sampler.KERNEL_NAMES, test_sampler.PADDINGS, [True, False], [torch.float32, torch.float64])))
def test_parity_on_cuda(kernel, padding, align_corners, dtype):
    test_sampler.test_reference_matches_grid_sample(kernel, padding, align_corners, "odd", dtype, device="cuda")


def test_transformer_identity_on_cuda():
    st = SpatialTransformer(3, align_corners=False).cuda()
    U = torch.rand(4, 3, 28, 28, device="cuda")
    V, theta = st(U)
    assert V.device.type == "cuda"
    torch.testing.assert_close(V, U, atol=5e-6, rtol=0)
