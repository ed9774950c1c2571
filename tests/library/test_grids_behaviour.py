"""Grid generators: bad input by name, the identity of every transform, the TPS against scipy.

Written against the survivors of mutation testing (tools/mutation.py grids): each test pins a
behaviour a planted fault changed without any other test noticing.
"""

import pytest
import torch
import torch.nn.functional as F

from stnlib import grids
from stnlib.sampler import sample, sample_1d

A = {"align_corners": False}
CPS = grids.regular_control_points(4)

BAD_INPUT = [
    (lambda: grids.base_grid((0, 4), **A), ValueError, "out_size must be positive, got (0, 4)"),
    (lambda: grids.base_grid((4, 4), align_corners=1), TypeError,
     "align_corners must be True or False (pass it explicitly), got 1"),
    (lambda: grids.affine_grid(torch.rand(2, 3), (4, 4), **A), ValueError,
     "theta must be a 3-D tensor N×2×3, got shape (2, 3)"),
    (lambda: grids.affine_grid(torch.rand(2, 3, 3), (4, 4), **A), ValueError,
     "theta must have shape N×2×3, got (2, 3, 3)"),
    (lambda: grids.affine_grid(torch.rand(2, 2, 3), (0, 4), **A), ValueError,
     "out_size must be positive, got (0, 4)"),
    (lambda: grids.affine_grid(torch.full((2, 2, 3), float("nan")), (4, 4), **A), ValueError,
     "theta must be finite, but 12 of its 12 entries are NaN or inf"),
    (lambda: grids.attention_theta(torch.rand(2, 4)), ValueError,
     "params must have shape N×3 (s, tx, ty), got (2, 4)"),
    (lambda: grids.attention_theta(torch.rand(2, 3, 1)), ValueError,
     "params must be a 2-D tensor N×3 (s, tx, ty), got shape (2, 3, 1)"),
    (lambda: grids.projective_matrix(torch.rand(2, 7)), ValueError,
     "theta must have shape N×8 or N×3×3, got (2, 7)"),
    (lambda: grids.projective_matrix(torch.rand(2, 3, 2)), ValueError,
     "theta must have shape N×8 or N×3×3, got (2, 3, 2)"),
    (lambda: grids.projective_matrix(torch.rand(2, 2, 2, 2)), ValueError,
     "theta must be a 2-D or 3-D tensor N×8 or N×3×3, got shape (2, 2, 2, 2)"),
    (lambda: grids.projective_grid(torch.rand(2, 3, 3), (4, 0), **A), ValueError,
     "out_size must be positive, got (4, 0)"),
    (lambda: grids.tps_grid(torch.rand(2, 16, 3), CPS, (4, 4), **A), ValueError,
     "displacements must have shape N×K×2, got (2, 16, 3)"),
    (lambda: grids.tps_grid(torch.rand(2, 16, 2), torch.rand(16, 2, 1), (4, 4), **A), ValueError,
     "control_points must be a 2-D tensor K×2, got shape (16, 2, 1)"),
    (lambda: grids.tps_grid(torch.rand(2, 16, 2), torch.rand(9, 2), (4, 4), **A), ValueError,
     "control_points must be K×2 with K = displacements.shape[1] = 16, got (9, 2)"),
    (lambda: grids.tps_grid(torch.rand(2, 16, 2), torch.rand(16, 3), (4, 4), **A), ValueError,
     "control_points must be K×2 with K = displacements.shape[1] = 16, got (16, 3)"),
    (lambda: grids.tps_grid(torch.rand(2, 16, 2), CPS, (4, -1), **A), ValueError,
     "out_size must be positive, got (4, -1)"),
    (lambda: grids.timewarp_grid(torch.rand(2, 3), 5, **A), ValueError,
     "params must have shape N×2 (scale, shift), got (2, 3)"),
    (lambda: grids.timewarp_grid(torch.rand(2, 2), 0, **A), ValueError,
     "length must be positive, got (0,)"),
    (lambda: grids.timewarp_grid(torch.rand(2, 2), 5, align_corners=None), TypeError,
     "align_corners must be True or False (pass it explicitly), got None"),
    (lambda: grids.timewarp_theta(torch.rand(2, 2, 2)), ValueError,
     "params must be a 2-D tensor N×2 (scale, shift), got shape (2, 2, 2)"),
    (lambda: grids.regular_control_points(1), ValueError,
     "n (control points per side) must be an int >= 2, got 1"),
    (lambda: grids.regular_control_points(2.0), ValueError,
     "n (control points per side) must be an int >= 2, got 2.0"),
    (lambda: grids.make_grid_generator("rigid"), ValueError,
     "unknown transform 'rigid'; expected one of 'affine', 'attention', 'projective', 'tps', "
     "'timewarp'"),
    (lambda: grids.TPSGrid(4)(torch.rand(2, 9, 2), (4, 4), **A), ValueError,
     "theta must have shape N×16×2, got (2, 9, 2)"),
    (lambda: grids.TPSGrid(3)(torch.rand(2, 9, 2), (4, 0), **A), ValueError,
     "out_size must be positive, got (4, 0)"),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUT,
                         ids=[f"bad{i:02d}" for i in range(len(BAD_INPUT))])
def test_bad_input_names_the_argument_and_the_expected_shape(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


# --------------------------------------------------------------------------- identities

IDENTITIES = {"affine": [1, 0, 0, 0, 1, 0], "attention": [1, 0, 0],
              "projective": [1, 0, 0, 0, 1, 0, 0, 0], "tps": [0] * 32, "timewarp": [1, 0]}


@pytest.mark.parametrize("transform", list(grids.TRANSFORMS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_each_identity_is_exact_and_gives_the_base_grid(transform, dtype):
    gen = grids.make_grid_generator(transform)
    flat = gen.identity(dtype=dtype)
    assert flat.dtype == dtype and flat.tolist() == IDENTITIES[transform]
    assert torch.equal(grids.identity(transform, dtype=dtype), flat)
    assert grids.identity(transform, dtype=dtype).dtype == dtype
    theta = gen.unflatten(flat.unsqueeze(0).repeat(2, 1))
    if transform == "timewarp":
        expected = grids.base_grid((1, 7), dtype=dtype, **A)[..., 0].expand(2, 7)
        assert torch.equal(gen(theta, 7, **A), expected)
    else:
        grid = gen(theta, (5, 6), **A)
        assert grid.dtype == dtype
        assert torch.allclose(grid, grids.base_grid((5, 6), dtype=dtype, **A).expand(2, 5, 6, 2),
                              atol=1e-6)


@pytest.mark.parametrize("transform", list(grids.TRANSFORMS))
def test_identities_and_grids_are_made_on_the_device_asked_for(transform):
    meta = torch.device("meta")
    assert grids.identity(transform, device=meta).device == meta
    assert grids.make_grid_generator(transform).identity(device=meta).device == meta
    assert grids.base_grid((3, 4), device=meta, **A).device == meta
    assert grids.regular_control_points(3, device=meta).device == meta


def test_tps_with_other_control_points_has_their_identity():
    assert grids.identity("tps", tps_points=3).tolist() == [0] * 18
    assert grids.make_grid_generator("tps", tps_points=5).n_params == 50


def test_regular_control_points_run_along_x_first_over_the_whole_square():
    cps = grids.regular_control_points(3, dtype=torch.float64)
    assert cps.dtype == torch.float64
    assert cps.tolist() == [[-1, -1], [0, -1], [1, -1], [-1, 0], [0, 0], [1, 0],
                            [-1, 1], [0, 1], [1, 1]]


def test_tps_control_points_are_not_saved_with_a_model():
    gen = grids.TPSGrid(4)
    assert "control_points" not in gen.state_dict()
    assert torch.equal(gen.control_points, grids.regular_control_points(4))


# --------------------------------------------------------------------------- thin-plate spline


def test_tps_grid_is_scipys_thin_plate_spline():
    """Off the control points, with displacements large enough to bend the grid."""
    interpolate = pytest.importorskip("scipy.interpolate")
    torch.manual_seed(0)
    cps = grids.regular_control_points(4, dtype=torch.float64)
    delta = torch.randn(1, 16, 2, dtype=torch.float64) * 0.1
    grid = grids.tps_grid(delta, cps, (7, 9), **A)[0]
    q = grids.base_grid((7, 9), dtype=torch.float64, **A).reshape(-1, 2)
    rbf = interpolate.RBFInterpolator(cps.numpy(), delta[0].numpy(), kernel="thin_plate_spline",
                                      degree=1)
    expected = q + torch.from_numpy(rbf(q.numpy()))
    assert torch.allclose(grid.reshape(-1, 2), expected, atol=1e-9)


def test_tps_module_caches_one_basis_per_output_size():
    torch.manual_seed(1)
    gen = grids.TPSGrid(4)
    delta = torch.randn(2, 16, 2) * 0.1
    for size in ((4, 4), (6, 5), (4, 4), (3, 8)):
        got = gen(delta, size, **A)
        assert got.shape == (2, *size, 2)
        assert torch.allclose(got, grids.tps_grid(delta, gen.control_points, size, **A), atol=1e-6)
    aligned = gen(delta, (6, 5), align_corners=True)
    assert torch.allclose(aligned, grids.tps_grid(delta, gen.control_points, (6, 5),
                                                  align_corners=True), atol=1e-6)


# --------------------------------------------------------------------------- time warps


def test_timewarp_theta_is_wangs_restricted_affine():
    theta = grids.timewarp_theta(torch.tensor([[0.5, 0.25], [-1.0, 0.0]]))
    assert theta.tolist() == [[[1, 0, 0], [0, 0.5, 0.25]], [[1, 0, 0], [0, -1, 0]]]


@pytest.mark.parametrize("align_corners", [False, True])
def test_timewarp_theta_on_a_one_column_image_reads_what_the_1d_grid_reads(align_corners):
    torch.manual_seed(2)
    series = torch.rand(3, 2, 11, dtype=torch.float64)
    params = torch.tensor([[0.7, 0.1], [-1.0, 0.0], [1.3, -0.2]], dtype=torch.float64)
    one_d = sample_1d(series, grids.timewarp_grid(params, 11, align_corners=align_corners),
                      align_corners=align_corners, padding_mode="border")
    grid = grids.affine_grid(grids.timewarp_theta(params), (11, 1), align_corners=align_corners)
    image = sample(series.unsqueeze(-1), grid, align_corners=align_corners, padding_mode="border")
    assert torch.allclose(image.squeeze(-1), one_d, atol=1e-12)


def test_timewarp_grid_keeps_the_params_dtype_and_scales_and_shifts():
    params = torch.tensor([[2.0, 0.5]], dtype=torch.float64)
    grid = grids.timewarp_grid(params, 4, **A)
    assert grid.dtype == torch.float64
    assert grid.tolist() == [[2 * x + 0.5 for x in (-0.75, -0.25, 0.25, 0.75)]]
    aligned = grids.timewarp_grid(params, 3, align_corners=True)
    assert aligned.tolist() == [[-1.5, 0.5, 2.5]]


def test_attention_grid_is_the_affine_grid_of_its_theta():
    params = torch.tensor([[0.5, 0.2, -0.3], [1.5, 0.0, 0.1]], dtype=torch.float64)
    theta = grids.attention_theta(params)
    assert theta.tolist() == [[[0.5, 0, 0.2], [0, 0.5, -0.3]], [[1.5, 0, 0.0], [0, 1.5, 0.1]]]
    assert torch.equal(grids.attention_grid(params, (4, 5), **A), grids.affine_grid(theta, (4, 5), **A))
    expected = F.affine_grid(theta, (2, 1, 4, 5), align_corners=False)
    assert torch.allclose(grids.attention_grid(params, (4, 5), **A), expected, atol=1e-12)
