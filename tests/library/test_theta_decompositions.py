"""stnlib.theta's decompositions: decompose_affine inverts affine_theta (params -> θ -> params,
shear included, batched), homography_from_points maps its four points and agrees with OpenCV's
formula on a known case, and the projective distortion and the θ explorer go through them."""

import pytest
import torch

from stnlib import grids, plot
from stnlib.theta import affine_theta, compose, decompose_affine, homography_from_points, invert

PARAMS = [
    dict(angle=0.0, scale=(1.0, 1.0), shear=0.0, translation=(0.0, 0.0)),
    dict(angle=30.0, scale=(2.0, 0.5), shear=10.0, translation=(0.1, -0.2)),
    dict(angle=-170.0, scale=(0.3, 2.5), shear=-45.0, translation=(-0.9, 0.7)),
    dict(angle=90.0, scale=(1.2, 1.2), shear=60.0, translation=(0.5, 0.0)),
    dict(angle=179.0, scale=(0.8, 3.0), shear=-80.0, translation=(0.0, -1.5)),
]


@pytest.mark.parametrize("p", PARAMS)
def test_params_theta_params_round_trip(p):
    th = affine_theta(p["angle"], p["scale"], p["shear"], p["translation"], dtype=torch.float64)
    d = decompose_affine(th)
    assert d["angle"].item() == pytest.approx(p["angle"], abs=1e-9)
    assert d["scale"].tolist() == pytest.approx(list(p["scale"]), abs=1e-9)
    assert d["shear"].item() == pytest.approx(p["shear"], abs=1e-9)
    assert d["translation"].tolist() == pytest.approx(list(p["translation"]), abs=1e-9)
    # ... and back: the read parameters rebuild θ
    again = affine_theta(d["angle"], tuple(d["scale"].tolist()), d["shear"], tuple(d["translation"].tolist()),
                         dtype=torch.float64)
    torch.testing.assert_close(again, th)


def test_theta_params_theta_round_trip_for_random_proper_thetas():
    # any θ with det > 0 is some affine_theta with an x-shear: decompose, rebuild, compare
    g = torch.Generator().manual_seed(0)
    th = torch.randn(200, 2, 3, generator=g, dtype=torch.float64)
    th = th[torch.linalg.det(th[:, :, :2]) > 0.05]
    d = decompose_affine(th)
    assert d["angle"].shape == (len(th),) and d["scale"].shape == (len(th), 2)
    assert (d["scale"] > 0).all() and (d["shear"].abs() < 90).all()
    rebuilt = affine_theta(d["angle"], d["scale"], d["shear"], d["translation"], dtype=torch.float64)
    torch.testing.assert_close(rebuilt, th)


def test_decompose_affine_of_known_matrices():
    # θ reads at half the distance: the picture is twice as big; det of θ's linear part 1/4
    d = decompose_affine(torch.tensor([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]], dtype=torch.float64))
    assert d["scale"].tolist() == [2.0, 2.0] and d["det"].item() == 0.25
    # θ reads one half to the left: the picture moves right by 0.5
    d = decompose_affine(torch.tensor([[1.0, 0.0, -0.5], [0.0, 1.0, 0.0]]))
    assert d["translation"].tolist() == [0.5, 0.0] and d["angle"].item() == 0.0
    # a mirror: det < 0, which no affine_theta builds
    assert decompose_affine(torch.tensor([[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))["det"].item() == -1.0
    # composing two rotations adds their angles
    both = compose(affine_theta(20.0, dtype=torch.float64), affine_theta(50.0, dtype=torch.float64))
    assert decompose_affine(both)["angle"].item() == pytest.approx(70.0)


def test_decompose_affine_refuses_what_is_not_affine():
    with pytest.raises(ValueError, match=r"theta must be affine, \(N×\)2×3, got shape \(3, 3\)"):
        decompose_affine(torch.eye(3))
    with pytest.raises(ValueError, match="theta must be invertible, but 1 of its matrices are singular"):
        decompose_affine(torch.stack([torch.eye(2, 3), torch.zeros(2, 3)]))
    with pytest.raises(TypeError, match="theta must be a torch.Tensor"):
        decompose_affine([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_homography_maps_the_four_points():
    g = torch.Generator().manual_seed(1)
    square = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], dtype=torch.float64)
    src = square.expand(6, 4, 2)
    dst = square + 0.2 * torch.randn(6, 4, 2, generator=g, dtype=torch.float64)
    H = homography_from_points(src, dst)
    assert H.shape == (6, 3, 3) and torch.equal(H[:, 2, 2], torch.ones(6, dtype=torch.float64))
    mapped = torch.cat([src, torch.ones(6, 4, 1, dtype=torch.float64)], -1) @ H.transpose(1, 2)
    torch.testing.assert_close(mapped[..., :2] / mapped[..., 2:], dst)
    # the inverse homography maps dst back to src
    torch.testing.assert_close(homography_from_points(dst, src), invert(H))
    # one set of points gives one 3×3
    torch.testing.assert_close(homography_from_points(src[0], dst[0]), H[0])


def test_homography_of_an_affine_map_is_that_map():
    th = affine_theta(25.0, (1.5, 0.7), 5.0, (0.1, 0.3), dtype=torch.float64)
    pts = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    moved = pts @ th[:, :2].T + th[:, 2]
    H = homography_from_points(pts, moved)
    torch.testing.assert_close(H[:2], th)
    torch.testing.assert_close(H[2], torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    # as a projective θ it samples where the affine θ does
    torch.testing.assert_close(grids.projective_grid(H[None], (5, 7), align_corners=False),
                               grids.affine_grid(th[None], (5, 7), align_corners=False))


def test_homography_refuses_bad_points():
    with pytest.raises(ValueError, match="src and dst must be"):
        homography_from_points(torch.zeros(3, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="src and dst must be"):
        homography_from_points(torch.zeros(2, 4, 2), torch.zeros(1, 4, 2))


def test_explorer_values_go_through_decompose_affine():
    values = dict(angle=50.0, scale_x=1.5, scale_y=0.8, shear=10.0, tx=0.2, ty=-0.1)
    th = plot.explorer_theta(**values)
    torch.testing.assert_close(th, affine_theta(50.0, (1.5, 0.8), 10.0, (0.2, -0.1)))
    d = decompose_affine(th.double())
    back = plot.explorer_values(th)
    assert back == pytest.approx(values, abs=1e-4)
    assert back["shear"] == pytest.approx(d["shear"].item()) and back["angle"] == pytest.approx(d["angle"].item())
