"""Lesson 02, grids and θ: the companion module of ``solutions/02_grids_and_theta.ipynb``.

Its exercise checks (each with the reference it compares with) and its budget table.
Lesson 02 trains nothing: grids and θ are drawn on an image of ``image_size``² pixels.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from ..course import lesson as _lesson
from ..course.checking import CheckError, check_function

LESSON = "02"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Lesson 02's own knobs."""

    image_size: int  # side of the photograph the grids are drawn on


SETTINGS = {"smoke": Settings(image_size=64), "standard": Settings(image_size=128),
            "full": Settings(image_size=128)}


def start(budget: str | None = None, seed: int = 0, device: str | None = None):
    """``course.start_lesson("02", ...)`` with this lesson's settings."""
    return _lesson.start_lesson(LESSON, budget=budget, seed=seed, device=device,
                                settings=SETTINGS)




def rotate_zoom_reference(angle: float = 30.0, zoom: float = 2.0) -> torch.Tensor:
    """θ (2×3) that turns the picture ``angle``° counter-clockwise about the centre and zooms ``zoom``×."""
    from ..theta import affine_theta

    return affine_theta(angle=angle, scale=zoom, dtype=torch.float64)


def check_rotate_zoom_theta(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 02, exercise 1: ``rotate_zoom_theta(angle, zoom)`` → θ, 2×3.

    The picture turns counter-clockwise on screen (y points down) and gets
    ``zoom`` times bigger; θ is the inverse map, so its linear part is the
    inverse rotation divided by ``zoom``.
    """
    cases = [("rotate 30°, zoom in 2×", {"angle": 30.0, "zoom": 2.0}),
             ("rotate −45°, zoom out 2×", {"angle": -45.0, "zoom": 0.5}),
             ("rotate 90°, no zoom", {"angle": 90.0, "zoom": 1.0})]

    def ref(angle, zoom):
        return rotate_zoom_reference(angle, zoom)

    def mine(angle, zoom):
        out = student(angle, zoom)
        return out.to(torch.float64) if isinstance(out, torch.Tensor) else out

    try:
        return check_function(mine, ref, cases, name="rotate_zoom_theta", rtol=1e-5, atol=1e-6,
                              verbose=verbose)
    except CheckError as err:
        hint = ""
        got = mine(30.0, 2.0)
        want = ref(30.0, 2.0)
        if isinstance(got, torch.Tensor) and got.shape == want.shape:
            if torch.allclose(got, theta_forward(want), atol=1e-4):
                hint = (" — you built the forward map (what happens to the picture); θ maps output "
                        "to input, so it is its inverse")
            elif torch.allclose(got[:, :2], want[:, :2].T, atol=1e-4):
                hint = " — the rotation goes the wrong way (y points down: counter-clockwise on screen)"
        raise CheckError(f"{err}{hint}") from None


def theta_forward(th: torch.Tensor) -> torch.Tensor:
    """The forward map of an affine θ (the inverse matrix), 2×3."""
    from ..theta import invert

    return invert(th)


def check_invert_theta(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 02, exercise 2: ``invert_theta(theta)``: N×2×3 → N×2×3, the inverse affine map.

    Compared with :func:`stnlib.theta.invert` in value and in the gradient
    w.r.t. θ.
    """
    from ..theta import affine_theta, invert

    g = torch.Generator().manual_seed(8)
    batch = affine_theta(angle=torch.rand(4, generator=g) * 360 - 180,
                         scale=torch.rand(4, 2, generator=g) + 0.5,
                         shear=torch.rand(4, generator=g) * 40 - 20,
                         translation=torch.rand(4, 2, generator=g) - 0.5, dtype=torch.float64)
    cases = [("identity", {"theta": torch.eye(2, 3, dtype=torch.float64)[None]}),
             ("zoom and shift", {"theta": torch.tensor([[[0.5, 0.0, 0.2], [0.0, 0.5, -0.4]]],
                                                      dtype=torch.float64)}),
             ("batch of 4 with rotation, scale, shear, shift", {"theta": batch})]
    def mine(theta):
        return student(theta)

    return check_function(mine, invert, cases, name="invert_theta", wrt=("theta",),
                          verbose=verbose)


def cv2_reference(M: torch.Tensor, in_size, out_size) -> torch.Tensor:
    """θ (2×3, ``align_corners=False``) equivalent to ``cv2.warpAffine(src, M, (W', H'))``."""
    from ..theta import theta_from_pixel_matrix

    return theta_from_pixel_matrix(M, in_size, out_size, align_corners=False)


def check_theta_from_cv2(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 02, exercise 3: ``theta_from_cv2(M, in_size, out_size)``: OpenCV pixel matrix → θ.

    M (2×3, float64) maps source pixels to destination pixels, as
    ``cv2.warpAffine`` takes it; sizes are (H, W). θ is for
    ``align_corners=False``.
    """
    import math

    c, s = math.cos(math.radians(20)), math.sin(math.radians(20))
    cases = [
        ("identity, 8×8", {"M": torch.tensor([[1.0, 0, 0], [0, 1, 0]], dtype=torch.float64),
                           "in_size": (8, 8), "out_size": (8, 8)}),
        ("shift 3 px right, 1 px down, 10×12", {
            "M": torch.tensor([[1.0, 0, 3], [0, 1, 1]], dtype=torch.float64),
            "in_size": (10, 12), "out_size": (10, 12)}),
        ("rotate and scale about (5, 4), 8×10 → 16×20", {
            "M": torch.tensor([[2 * c, 2 * s, 1.0], [-2 * s, 2 * c, 3.0]], dtype=torch.float64),
            "in_size": (8, 10), "out_size": (16, 20)}),
    ]

    def mine(M, in_size, out_size):
        out = student(M, in_size, out_size)
        return out.to(torch.float64) if isinstance(out, torch.Tensor) else out

    try:
        return check_function(mine, cv2_reference, cases, name="theta_from_cv2", rtol=1e-6,
                              atol=1e-8, verbose=verbose)
    except CheckError as err:
        from ..theta import theta_from_pixel_matrix

        hint = ""
        _, case = cases[2]
        got = mine(**case)
        if isinstance(got, torch.Tensor) and got.shape == (2, 3):
            if torch.allclose(got, theta_from_pixel_matrix(case["M"], case["in_size"], case["out_size"],
                                                           align_corners=True), atol=1e-6):
                hint = (" — this is θ for align_corners=True: with False, −1 and +1 are the outer "
                        "edges of the image, so pixel x sits at (2x + 1)/W − 1")
            elif torch.allclose(got, theta_from_pixel_matrix(case["M"], case["in_size"], case["out_size"],
                                                             align_corners=False, inverse_map=True),
                                atol=1e-6):
                hint = (" — M maps source to destination, but θ maps destination (output) to "
                        "source (input): invert M first")
        raise CheckError(f"{err}{hint}") from None
