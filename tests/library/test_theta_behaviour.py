"""θ algebra on hand-made matrices: shear, batches, projective normalization, dtypes, devices, errors.

Devices are checked on PyTorch's ``meta`` device (shapes without data), which needs no GPU: a function that
builds a helper tensor on the CPU instead of the argument's device fails there as it would on cuda.
"""

import math

import pytest
import torch
import torchvision.transforms.v2.functional as TF

from stnlib import theta as T

META = torch.device("meta")


def _message(fn, *args, **kwargs):
    with pytest.raises((TypeError, ValueError)) as err:
        fn(*args, **kwargs)
    return str(err.value)


def test_shear_angles_are_degrees_and_each_axis_has_its_own():
    # forward map Sh = [[1, tan hx], [tan hy, 1]]; θ = Sh⁻¹
    tx, ty = math.tan(math.radians(30)), math.tan(math.radians(20))
    torch.testing.assert_close(T.affine_theta(shear=30.0, dtype=torch.float64),
                               torch.tensor([[1, -tx, 0], [0, 1, 0]], dtype=torch.float64))
    torch.testing.assert_close(T.affine_theta(shear=(0.0, 20.0), dtype=torch.float64),
                               torch.tensor([[1, 0, 0], [-ty, 1, 0]], dtype=torch.float64))
    torch.testing.assert_close(T.affine_theta(shear=math.radians(30), degrees=False, dtype=torch.float64),
                               T.affine_theta(shear=30.0, dtype=torch.float64))


def test_batched_arguments_give_a_batch_of_theta():
    th = T.affine_theta(torch.tensor([0.0, 90.0]), translation=torch.tensor([[0.5, 0.0], [0.0, 0.0]]))
    expected = torch.tensor([[[1.0, 0.0, -0.5], [0.0, 1.0, 0.0]], [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]])
    torch.testing.assert_close(th, expected, atol=1e-6, rtol=0)
    scales = T.affine_theta(scale=torch.tensor([[2.0, 4.0], [1.0, 0.5]]))
    torch.testing.assert_close(scales[:, 0, 0], torch.tensor([0.5, 1.0]))
    torch.testing.assert_close(scales[:, 1, 1], torch.tensor([0.25, 2.0]))


def test_dtype_of_the_result():
    assert T.affine_theta(torch.tensor(30.0), dtype=torch.float64).dtype == torch.float64
    assert T.affine_theta(torch.tensor([90, 180])).dtype == torch.float32  # integer angles become float32
    M = torch.tensor([[1, 0, 2], [0, 1, 0]])  # an integer pixel matrix (cv2 shift by 2 px)
    theta = T.theta_from_pixel_matrix(M, (4, 8), align_corners=False)
    assert theta.dtype == torch.float32 and theta[0, 2].item() == pytest.approx(-0.5)
    half = torch.eye(2, 3, dtype=torch.float16)
    assert T.to_homogeneous(half).dtype == torch.float16
    assert T.torchvision_affine_matrix((4, 4), 10.0).dtype == torch.float64


def test_every_builder_stays_on_the_device_of_its_input():
    M = torch.eye(2, 3).to(META)
    assert T.identity(2, device=META).device == META
    assert T.identity(device=META).device == META
    assert T.affine_theta(30.0, device=META).device == META
    assert T.affine_theta(torch.tensor([30.0, 60.0]).to(META)).device == META
    assert T.affine_theta(torch.tensor([30.0, 60.0]), device=META).device == META  # moved there
    assert T.normalized_to_pixel((3, 4), align_corners=True, device=META).device == META
    assert T.to_homogeneous(M).device == META
    assert T.invert(M).device == META
    assert T.theta_from_pixel_matrix(M, (4, 8), align_corners=False).device == META
    assert T.theta_from_pixel_matrix(M, (4, 8), (2, 2), align_corners=True).device == META
    assert T.pixel_matrix_from_theta(M, (4, 8), align_corners=False).device == META
    assert T.pixel_matrix_from_theta(M, (4, 8), (2, 2), align_corners=True).device == META


def test_pixel_matrix_conversions_keep_float64():
    M = torch.tensor([[1.0, 0.2, 2.0], [0.1, 1.0, -1.0]], dtype=torch.float64) / 3
    theta = T.theta_from_pixel_matrix(M, (5, 7), (3, 4), align_corners=False)
    assert theta.dtype == torch.float64
    back = T.pixel_matrix_from_theta(theta, (5, 7), (3, 4), align_corners=False)
    assert back.dtype == torch.float64
    torch.testing.assert_close(back, M, rtol=0, atol=1e-14)  # float32 anywhere would lose this
    theta32 = T.affine_theta(20.0, 1.5)
    M32 = T.pixel_matrix_from_theta(theta32, (5, 7), (3, 4), align_corners=False)
    assert M32.dtype == torch.float32
    torch.testing.assert_close(T.theta_from_pixel_matrix(M32, (5, 7), (3, 4), align_corners=False), theta32)


def test_batched_inverse_and_composition_keep_2x3():
    a = T.affine_theta(torch.tensor([10.0, -40.0]), 1.5, dtype=torch.float64)
    inv = T.invert(a)
    assert inv.shape == (2, 2, 3)
    torch.testing.assert_close(T.compose(a, inv), T.identity(2, dtype=torch.float64))
    M = T.pixel_matrix_from_theta(a, (5, 6), align_corners=True)
    assert M.shape == (2, 2, 3)
    torch.testing.assert_close(T.theta_from_pixel_matrix(M, (5, 6), align_corners=True), a)


def test_projective_results_are_scaled_so_the_last_entry_is_one():
    P = torch.tensor([[2.0, 0.0, 0.4], [0.0, 2.0, 0.0], [0.2, 0.0, 4.0]], dtype=torch.float64)
    inv = T.invert(P)
    assert inv[2, 2].item() == pytest.approx(1.0)
    torch.testing.assert_close(inv / inv[2, 2], torch.linalg.inv(P) / torch.linalg.inv(P)[2, 2])
    torch.testing.assert_close(T.compose(P, inv), torch.eye(3, dtype=torch.float64))
    pix = T.pixel_matrix_from_theta(P, (4, 4), align_corners=True)
    assert pix[2, 2].item() == pytest.approx(1.0)
    torch.testing.assert_close(T.theta_from_pixel_matrix(pix, (4, 4), align_corners=True), P / 4)


@pytest.mark.parametrize("kwargs", [
    dict(angle=-25.0),
    dict(angle=15.0, translate=(2.0, -1.0), scale=1.3, shear=12.0),
    dict(angle=40.0, scale=0.8, shear=(5.0, 10.0), center=(3.0, 5.0)),
])
def test_torchvision_matrix_reproduces_torchvision(kwargs):
    img = torch.rand(1, 1, 9, 8, dtype=torch.float64)
    ours = T.torchvision_affine_matrix((9, 8), **kwargs)
    theta = T.theta_from_pixel_matrix(ours, (9, 8), align_corners=False)
    from stnlib.grids import affine_grid

    grid = affine_grid(theta[None], (9, 8), align_corners=False)
    warped = torch.nn.functional.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    tv_kwargs = dict(angle=kwargs["angle"], translate=list(kwargs.get("translate", (0.0, 0.0))),
                     scale=kwargs.get("scale", 1.0), center=list(kwargs["center"]) if "center" in kwargs else None)
    shear = kwargs.get("shear", 0.0)
    tv_kwargs["shear"] = [shear, 0.0] if isinstance(shear, float) else list(shear)
    expected = TF.affine(img, interpolation=TF.InterpolationMode.BILINEAR, **tv_kwargs)
    torch.testing.assert_close(warped, expected, rtol=0, atol=1e-6)


def test_torchvision_matrix_defaults():
    # a number is the x-shear; scale defaults to 1
    assert torch.equal(T.torchvision_affine_matrix((6, 5), 20.0, shear=12.0),
                       T.torchvision_affine_matrix((6, 5), 20.0, shear=(12.0, 0.0)))
    assert torch.equal(T.torchvision_affine_matrix((6, 5), 20.0),
                       T.torchvision_affine_matrix((6, 5), 20.0, (0.0, 0.0), 1.0, (0.0, 0.0)))


def test_decompose_affine_reads_back_what_affine_theta_built():
    th = T.affine_theta(torch.tensor([30.0, -120.0]), torch.tensor([[2.0, 0.5], [1.0, 3.0]]),
                        translation=torch.tensor([[0.1, -0.2], [0.0, 0.4]]), dtype=torch.float64)
    d = T.decompose_affine(th)
    torch.testing.assert_close(d["angle"], torch.tensor([30.0, -120.0], dtype=torch.float64))
    torch.testing.assert_close(d["scale"], torch.tensor([[2.0, 0.5], [1.0, 3.0]], dtype=torch.float64))
    torch.testing.assert_close(d["det"], torch.tensor([1.0, 1 / 3], dtype=torch.float64))
    torch.testing.assert_close(d["translation"], torch.tensor([[0.1, -0.2], [0.0, 0.4]], dtype=torch.float64))


def test_bad_arguments_name_themselves():
    pair = "must be a number, a pair (x, y), or a tensor of shape (N,) or N×2"
    assert _message(T.affine_theta, scale=torch.ones(4, 3)) == f"scale {pair}, got shape (4, 3)"
    assert _message(T.affine_theta, scale=torch.ones(2, 2, 2)) == f"scale {pair}, got shape (2, 2, 2)"
    assert _message(T.affine_theta, shear=(1.0, 2.0, 3.0)) == f"shear {pair}, got a sequence of shape (3,)"
    assert _message(T.affine_theta, shear=torch.ones(2, 3)) == f"shear {pair}, got shape (2, 3)"
    assert _message(T.affine_theta, torch.zeros(2, 2)) == \
        "angle must be a number or a tensor of shape (N,), got shape (2, 2)"
    assert _message(T.affine_theta, translation=(1.0, 2.0, 3.0)) == \
        "translation must be (tx, ty) or N×2, got shape (3,)"
    assert _message(T.affine_theta, translation=torch.zeros(2, 1, 2)) == \
        "translation must be (tx, ty) or N×2, got shape (2, 1, 2)"
    assert _message(T.to_homogeneous, torch.zeros(2, 2)) == "theta must end in 2×3 or 3×3, got shape (2, 2)"
    assert _message(T.invert, [[1.0, 0.0, 0.0]]) == "theta must be a torch.Tensor (N×)2×3 or (N×)3×3, got list"
    assert _message(T.compose) == "compose needs at least one theta"
    assert _message(T.normalized_to_pixel, (3,), align_corners=True) == \
        "size must be an int or a sequence of 2 ints, got (3,)"
    assert _message(T.normalized_to_pixel, (3, 3), align_corners=1) == \
        "align_corners must be True or False (pass it explicitly), got 1"
    assert _message(T.torchvision_affine_matrix, (0, 3), 0.0) == "size must be positive, got (0, 3)"
    assert _message(T.theta_from_pixel_matrix, torch.zeros(1, 1, 2, 3), (4, 4), align_corners=True) == \
        "M must be a 2-D or 3-D tensor 2×3 or 3×3 (optionally batched), got shape (1, 1, 2, 3)"
