"""Lesson 02, grids and θ: the companion module of ``solutions/02_grids_and_theta.ipynb``.

Its exercise checks (each with the reference it compares with) and its budget table.
Lesson 02 trains nothing: grids and θ are drawn on an image of ``image_size``² pixels.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from ..course import lesson as _lesson
from ..course.checking import Mistake, check_function

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


def _describe_theta(case, what, index):
    """An entry of a 2×3 θ (or of θ[n] in a batch)."""
    if len(index) == 2:
        return f"θ[{index[0]}, {index[1]}]"
    if len(index) == 3:
        return f"θ[{index[0]}] of the batch, entry [{index[1]}, {index[2]}]"
    return None


ROTATE_ZOOM_MISTAKES = [
    Mistake("this is the forward map (what happens to the picture); θ maps each output position "
            "to where it reads the input, so θ is its inverse: Rᵀ / zoom",
            lambda angle, zoom: theta_forward(rotate_zoom_reference(angle, zoom))),
    Mistake("angle is in degrees: convert it (math.radians) before cos and sin",
            lambda angle, zoom: rotate_zoom_reference(__import__("math").degrees(angle), zoom)),
    Mistake("the rotation goes the wrong way: y points down, so counter-clockwise on screen "
            "is the other sign of sin than in a maths book",
            lambda angle, zoom: rotate_zoom_reference(-angle, zoom)),
    Mistake("the zoom is multiplied instead of divided: to show the picture zoom× bigger, θ reads "
            "a region 1/zoom as large, so the linear part is divided by zoom",
            lambda angle, zoom: rotate_zoom_reference(angle, 1 / zoom)),
]


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

    return check_function(mine, ref, cases, name="rotate_zoom_theta", rtol=1e-5, atol=1e-6,
                          verbose=verbose, output="your θ", mistakes=ROTATE_ZOOM_MISTAKES,
                          describe=_describe_theta)


def _with_parts(linear: Callable, shift: Callable) -> Callable:
    """θ ↦ [linear(A) | shift(A, t)], batched (a wrong inverse, for the hints)."""
    def wrong(theta):
        A, t = theta[..., :2], theta[..., 2:]
        return torch.cat([linear(A), shift(A, t)], -1)

    return wrong


def _transpose(A):
    return A.transpose(-1, -2)


_TRANSPOSE_HINT = ("the transpose is the inverse only of a pure rotation: with a zoom or a shear "
                   "it is not; use torch.linalg.inv of the 2×2 part (or of the 3×3 matrix "
                   "with the row [0, 0, 1])")
_SHIFT_HINT = ("the linear part is right, the shift is not: x = A y + t gives y = A⁻¹ x − A⁻¹ t, "
               "so the inverse's shift is −A⁻¹ t")
INVERT_MISTAKES = [
    Mistake(_TRANSPOSE_HINT, _with_parts(_transpose, lambda A, t: -_transpose(A) @ t)),
    Mistake(_TRANSPOSE_HINT, _with_parts(_transpose, lambda A, t: t)),
    Mistake(_TRANSPOSE_HINT, _with_parts(_transpose, lambda A, t: -t)),
    Mistake(_TRANSPOSE_HINT, _with_parts(_transpose, lambda A, t: torch.zeros_like(t))),
    Mistake(_SHIFT_HINT, _with_parts(torch.linalg.inv, lambda A, t: t)),
    Mistake(_SHIFT_HINT, _with_parts(torch.linalg.inv, lambda A, t: -t)),
    Mistake(_SHIFT_HINT, _with_parts(torch.linalg.inv, lambda A, t: torch.linalg.inv(A) @ t)),
]


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
                          verbose=verbose, output="your inverse", mistakes=INVERT_MISTAKES,
                          describe=_describe_theta)


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

    return check_function(mine, cv2_reference, cases, name="theta_from_cv2", rtol=1e-6,
                          atol=1e-8, verbose=verbose, output="your θ", mistakes=CV2_MISTAKES,
                          describe=_describe_theta)


def _cv2_variant(*, align_corners: bool, inverse_map: bool = False) -> Callable:
    def wrong(M, in_size, out_size):
        from ..theta import theta_from_pixel_matrix

        return theta_from_pixel_matrix(M, in_size, out_size, align_corners=align_corners,
                                       inverse_map=inverse_map)

    return wrong


_NOT_INVERTED = ("M maps source to destination, but θ maps destination (output) to source "
                 "(input): invert M first")
CV2_MISTAKES = [
    Mistake("this is θ for align_corners=True: with False, −1 and +1 are the outer edges of the "
            "image, so pixel x sits at (2x + 1)/W − 1", _cv2_variant(align_corners=True)),
    Mistake(_NOT_INVERTED, _cv2_variant(align_corners=False, inverse_map=True)),
    Mistake(f"{_NOT_INVERTED}; and use align_corners=False (−1 and +1 are the outer edges)",
            _cv2_variant(align_corners=True, inverse_map=True)),
]
