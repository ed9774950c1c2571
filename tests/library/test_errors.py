"""Bad input gets a clear error naming the argument, the expectation and what came."""

import pytest
import torch

from stnlib import grids, sampler, theta
from stnlib.decoder import SpatialDecoder
from stnlib.grids import make_grid_generator
from stnlib.kernels import get_kernel
from stnlib.transformer import SpatialTransformer

U = torch.rand(2, 1, 8, 8)
GRID = torch.rand(2, 4, 4, 2) * 2 - 1


@pytest.mark.parametrize("sampler_name", ["native", "reference"])
def test_sampler_rejects_bad_input(sampler_name):
    def call(**kw):
        args = dict(U=U, grid=GRID, align_corners=False, sampler=sampler_name)
        args.update(kw)
        return sampler.sample(args.pop("U"), args.pop("grid"), **args)

    with pytest.raises(ValueError, match=r"U must be a 4-D tensor N×C×H×W, got shape \(1, 8, 8\)"):
        call(U=U[0])
    with pytest.raises(ValueError, match="grid must be a 4-D"):
        call(grid=GRID[0])
    with pytest.raises(ValueError, match=r"grid must have shape N×H'×W'×2"):
        call(grid=torch.rand(2, 4, 4, 3))
    with pytest.raises(ValueError, match="batch size mismatch: U has 2 items"):
        call(grid=GRID[:1])
    with pytest.raises(TypeError, match="U must have a floating dtype.*torch.uint8"):
        call(U=(U * 255).to(torch.uint8))
    with pytest.raises(TypeError, match="U and grid must share a dtype"):
        call(grid=GRID.double())
    with pytest.raises(ValueError, match="unknown kernel 'cubic'; expected one of 'nearest'"):
        call(kernel="cubic")
    with pytest.raises(ValueError, match="unknown padding_mode 'wrap'"):
        call(padding_mode="wrap")
    with pytest.raises(TypeError, match="align_corners must be True or False"):
        call(align_corners=None)
    with pytest.raises(TypeError, match="U must be a torch.Tensor"):
        call(U=U.numpy())


def test_unknown_method_and_kernel_names():
    with pytest.raises(ValueError, match="unknown sampler 'fast'"):
        sampler.sample(U, GRID, align_corners=False, sampler="fast")
    with pytest.raises(ValueError, match="unknown kernel"):
        get_kernel("lanczos")


def test_1d_sampler_rejects_images():
    with pytest.raises(ValueError, match="U must be a 3-D tensor N×C×L"):
        sampler.sample_1d(U, torch.rand(2, 5), align_corners=True)


def test_grid_generators_reject_bad_theta():
    with pytest.raises(ValueError, match=r"theta must have shape N×2×3, got \(2, 3, 3\)"):
        grids.affine_grid(torch.rand(2, 3, 3), (4, 4), align_corners=False)
    with pytest.raises(ValueError, match="theta must be a 3-D tensor"):
        grids.affine_grid(torch.rand(2, 3), (4, 4), align_corners=False)
    with pytest.raises(ValueError, match="theta must be finite, but 1 of its 12 entries are NaN or inf"):
        bad = torch.eye(2, 3).repeat(2, 1, 1)
        bad[1, 0, 2] = float("nan")
        grids.affine_grid(bad, (4, 4), align_corners=False)
    with pytest.raises(TypeError, match="theta must have a floating dtype"):
        grids.affine_grid(torch.ones(1, 2, 3, dtype=torch.int64), (4, 4), align_corners=False)
    with pytest.raises(ValueError, match=r"out_size must be positive, got \(0, 4\)"):
        grids.affine_grid(torch.rand(1, 2, 3), (0, 4), align_corners=False)
    with pytest.raises(ValueError, match=r"length must be positive, got \(-3,\)"):
        grids.timewarp_grid(torch.rand(1, 2), -3, align_corners=False)
    with pytest.raises(TypeError, match="out_size must be an int or a sequence of 2 ints"):
        grids.affine_grid(torch.rand(1, 2, 3), (4.5, 4), align_corners=False)
    with pytest.raises(ValueError, match="theta must have shape N×8 or N×3×3"):
        grids.projective_grid(torch.rand(1, 6), (4, 4), align_corners=False)
    with pytest.raises(ValueError, match="params must have shape N×3"):
        grids.attention_grid(torch.rand(1, 4), (4, 4), align_corners=False)


def test_tps_with_mismatched_control_points():
    with pytest.raises(ValueError, match="control_points must be K×2 with K = displacements.shape.1. = 9"):
        grids.tps_grid(torch.zeros(1, 9, 2), grids.regular_control_points(4), (5, 5), align_corners=False)
    with pytest.raises(ValueError, match=r"theta must have shape N×16×2, got \(1, 9, 2\)"):
        make_grid_generator("tps")(torch.zeros(1, 9, 2), (5, 5), align_corners=False)
    with pytest.raises(ValueError, match="control points per side"):
        grids.regular_control_points(1)


def test_transformer_rejects_bad_configuration_and_input():
    with pytest.raises(ValueError, match="unknown transform 'similarity'"):
        SpatialTransformer(1, transform="similarity", align_corners=False)
    with pytest.raises(TypeError, match="align_corners must be True or False"):
        SpatialTransformer(1, align_corners="yes")
    with pytest.raises(ValueError, match="unknown sampler"):
        SpatialTransformer(1, align_corners=False, sampler="cuda")
    with pytest.raises(ValueError, match="out_size must be positive"):
        SpatialTransformer(1, align_corners=False, out_size=(0, 5))
    with pytest.raises(ValueError, match="loc_features"):
        SpatialTransformer(1, align_corners=False, loc_body=torch.nn.Flatten())
    with pytest.raises(ValueError, match="amplitude=True is only available"):
        SpatialTransformer(1, align_corners=False, amplitude=True)
    st = SpatialTransformer(1, align_corners=False)
    with pytest.raises(ValueError, match=r"U must have 1 channels \(N×C×H×W\), got shape \(2, 3, 8, 8\)"):
        st(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="U must be a 4-D tensor"):
        st(torch.rand(8, 8))
    with pytest.raises(ValueError, match="U must be a 3-D tensor N×C×L"):
        SpatialTransformer(1, align_corners=False, transform="timewarp")(U)


def test_non_finite_theta_from_a_diverged_localization_net():
    st = SpatialTransformer(1, align_corners=False)
    with torch.no_grad():
        st.loc[0].head.bias[0] = float("inf")
    with pytest.raises(ValueError, match="theta must be finite"):
        st(U)


def test_theta_helpers_reject_bad_shapes():
    with pytest.raises(ValueError, match="theta must end in 2×3 or 3×3"):
        theta.to_homogeneous(torch.rand(2, 2))
    with pytest.raises(ValueError, match="translation must be"):
        theta.affine_theta(translation=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="size must be positive"):
        theta.normalized_to_pixel((0, 3), align_corners=True)
    with pytest.raises(ValueError, match="compose needs at least one theta"):
        theta.compose()


def test_decoder_rejects_1d_transforms():
    with pytest.raises(ValueError, match="SpatialDecoder needs an image transform"):
        SpatialDecoder(align_corners=False, transform="timewarp")
