"""The exercise checks of lesson 02: a right answer passes, typical mistakes get a precise message."""

import math

import pytest
import torch

from stnlib import theta
from stnlib.course.checking import CheckError
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


def failure(check, fn) -> CheckError:
    with pytest.raises(CheckError) as err:
        check(fn, verbose=False)
    return err.value


def test_rotate_zoom_theta_check(capsys):
    assert L02.check_rotate_zoom_theta(rotate_zoom_theta)
    assert capsys.readouterr().out == ("✓ rotate_zoom_theta is correct (values match the "
                                       "reference on 3 cases)\n")
    err = failure(L02.check_rotate_zoom_theta, rotate_zoom_wrong(radians=True))
    assert err.message == ("rotate_zoom_theta, case 'rotate 30°, zoom in 2×' (angle=30.0, "
                           "zoom=2.0): at θ[0, 0]: your θ is 0.0771257, expected 0.433013 "
                           "(4 of 6 entries differ)")
    assert err.hint.startswith("angle is in degrees")
    assert failure(L02.check_rotate_zoom_theta, lambda a, z: theta.invert(
        rotate_zoom_theta(a, z))).hint.startswith("this is the forward map")
    assert failure(L02.check_rotate_zoom_theta, rotate_zoom_wrong(sign=-1)).hint.startswith(
        "the rotation goes the wrong way")
    assert failure(L02.check_rotate_zoom_theta, rotate_zoom_wrong(multiply=True)).hint.startswith(
        "the zoom is multiplied instead of divided")


def test_invert_theta_check():
    assert L02.check_invert_theta(lambda th: theta.invert(th), verbose=False)
    err = failure(L02.check_invert_theta, lambda th: th)
    assert err.message.startswith("invert_theta, case 'zoom and shift': at θ[0] of the batch, "
                                  "entry [0, 0]: your inverse is 0.5, expected 2")
    assert err.hint is None  # no known mistake: the message alone

    def transposed(th):
        A, t = th[..., :2], th[..., 2:]
        return torch.cat([A.mT, -A.mT @ t], -1)

    assert failure(L02.check_invert_theta, transposed).hint.startswith(
        "the transpose is the inverse only of a pure rotation")

    def shift_kept(th):
        return torch.cat([torch.linalg.inv(th[..., :2]), th[..., 2:]], -1)

    err = failure(L02.check_invert_theta, shift_kept)
    assert "entry [0, 2]: your inverse is 0.2, expected -0.4" in err.message
    assert err.hint.startswith("the linear part is right, the shift is not")


def test_theta_from_cv2_check():
    assert L02.check_theta_from_cv2(
        lambda M, i, o: theta.theta_from_pixel_matrix(M, i, o, align_corners=False), verbose=False)
    err = failure(L02.check_theta_from_cv2, lambda M, i, o: theta.theta_from_pixel_matrix(
        M, i, o, align_corners=True))
    assert err.message.startswith("theta_from_cv2, case 'shift 3 px right, 1 px down, 10×12' "
                                  "(in_size=(10, 12), out_size=(10, 12)): at θ[0, 2]: your θ is")
    assert err.hint.startswith("this is θ for align_corners=True")
    assert failure(L02.check_theta_from_cv2, lambda M, i, o: theta.theta_from_pixel_matrix(
        M, i, o, align_corners=False, inverse_map=True)).hint.startswith(
        "M maps source to destination")
