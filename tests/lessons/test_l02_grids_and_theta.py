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


def test_theta_checks():
    assert L02.check_rotate_zoom_theta(rotate_zoom_theta, verbose=False)
    with pytest.raises(CheckError, match="forward map"):
        L02.check_rotate_zoom_theta(lambda a, z: theta.invert(rotate_zoom_theta(a, z)), verbose=False)
    with pytest.raises(CheckError, match="wrong way"):
        L02.check_rotate_zoom_theta(lambda a, z: rotate_zoom_theta(-a, z), verbose=False)
    assert L02.check_invert_theta(lambda th: theta.invert(th), verbose=False)
    with pytest.raises(CheckError, match="invert_theta"):
        L02.check_invert_theta(lambda th: th, verbose=False)
    assert L02.check_theta_from_cv2(
        lambda M, i, o: theta.theta_from_pixel_matrix(M, i, o, align_corners=False), verbose=False)
    with pytest.raises(CheckError, match="align_corners=True"):
        L02.check_theta_from_cv2(
            lambda M, i, o: theta.theta_from_pixel_matrix(M, i, o, align_corners=True), verbose=False)
    with pytest.raises(CheckError, match="invert M first"):
        L02.check_theta_from_cv2(lambda M, i, o: theta.theta_from_pixel_matrix(
            M, i, o, align_corners=False, inverse_map=True), verbose=False)
