"""The reference sampler as a custom autograd.Function: partial gradients, no double backward."""

import pytest
import torch
import torch.nn.functional as F

from stnlib.sampler import grid_sample_reference


@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_only_the_requested_gradient_is_computed_and_it_matches(needs):
    U = torch.randn(2, 3, 7, 6, dtype=torch.float64, requires_grad=needs[0])
    grid = (torch.rand(2, 4, 5, 2, dtype=torch.float64) * 2.4 - 1.2).requires_grad_(needs[1])
    opts = dict(align_corners=False)
    ref = grid_sample_reference(U, grid, kernel="bilinear", padding_mode="border", **opts)
    nat = F.grid_sample(U, grid, mode="bilinear", padding_mode="border", **opts)
    inputs = [t for t in (U, grid) if t.requires_grad]
    up = torch.randn_like(ref)
    for g_ref, g_nat in zip(torch.autograd.grad(ref, inputs, up), torch.autograd.grad(nat, inputs, up)):
        torch.testing.assert_close(g_ref, g_nat)


def test_no_grad_forward_and_double_backward_is_refused():
    U = torch.randn(1, 1, 5, 5, dtype=torch.float64, requires_grad=True)
    grid = (torch.rand(1, 3, 3, 2, dtype=torch.float64) * 2 - 1).requires_grad_()
    with torch.no_grad():
        V = grid_sample_reference(U, grid, align_corners=True)
    assert not V.requires_grad
    V = grid_sample_reference(U, grid, align_corners=True)
    (g,) = torch.autograd.grad(V.sum(), grid, create_graph=True)
    with pytest.raises(RuntimeError):
        g.sum().backward()
