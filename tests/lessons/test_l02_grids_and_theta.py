"""The exercise checks of lesson 02: a right answer passes, typical mistakes get a precise message."""

import math

import torch
from checks import assert_check

from stnlib import theta
from stnlib.lessons import l02_grids_and_theta as L02


def rotate_zoom_theta(angle=30.0, zoom=2.0):
    a = math.radians(angle)
    return torch.tensor([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0]]) / zoom


def rotate_zoom_wrong(*, radians=False, sign=1, multiply=False):
    def wrong(angle=30.0, zoom=2.0):
        a = sign * (angle if radians else math.radians(angle))
        R = torch.tensor([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0]])
        return R * zoom if multiply else R / zoom

    return wrong


def test_rotate_zoom_theta_check_knows_its_mistakes():
    run = assert_check(L02.check_rotate_zoom_theta, rotate_zoom_theta, name="rotate_zoom_theta",
                       mistakes=[
        (rotate_zoom_wrong(radians=True), "Hint: angle is in degrees"),
        (lambda a, z: theta.invert(rotate_zoom_theta(a, z)), "Hint: this is the forward map"),
        (rotate_zoom_wrong(sign=-1), "Hint: the rotation goes the wrong way"),
        (rotate_zoom_wrong(multiply=True), "Hint: the zoom is multiplied instead of divided"),
    ])
    assert run.passed == "✓ rotate_zoom_theta is correct (values match the reference on 3 cases)\n"
    assert run.errors[0].message == ("rotate_zoom_theta, case 'rotate 30°, zoom in 2×' (angle=30.0, "
                                     "zoom=2.0): at θ[0, 0]: your θ is 0.0771257, expected 0.433013 "
                                     "(4 of 6 entries differ)")


def transposed(th):
    A, t = th[..., :2], th[..., 2:]
    return torch.cat([A.mT, -A.mT @ t], -1)


def shift_kept(th):
    return torch.cat([torch.linalg.inv(th[..., :2]), th[..., 2:]], -1)


def test_invert_theta_check_knows_its_mistakes():
    run = assert_check(L02.check_invert_theta, lambda th: theta.invert(th), name="invert_theta",
                       mistakes=[
        (lambda th: th, None),  # no known mistake: the message alone
        (transposed, "Hint: the transpose is the inverse only of a pure rotation"),
        (shift_kept, "Hint: the linear part is right, the shift is not"),
    ])
    unchanged, _, kept = run.errors
    assert unchanged.message.startswith("invert_theta, case 'zoom and shift': at θ[0] of the batch, "
                                        "entry [0, 0]: your inverse is 0.5, expected 2")
    assert "entry [0, 2]: your inverse is 0.2, expected -0.4" in kept.message


def test_theta_from_cv2_check_knows_its_mistakes():
    run = assert_check(
        L02.check_theta_from_cv2,
        lambda M, i, o: theta.theta_from_pixel_matrix(M, i, o, align_corners=False),
        name="theta_from_cv2", mistakes=[
            (lambda M, i, o: theta.theta_from_pixel_matrix(M, i, o, align_corners=True),
             "Hint: this is θ for align_corners=True"),
            (lambda M, i, o: theta.theta_from_pixel_matrix(M, i, o, align_corners=False,
                                                           inverse_map=True),
             "Hint: M maps source to destination"),
        ])
    assert run.errors[0].message.startswith(
        "theta_from_cv2, case 'shift 3 px right, 1 px down, 10×12' (in_size=(10, 12), "
        "out_size=(10, 12)): at θ[0, 2]: your θ is")
