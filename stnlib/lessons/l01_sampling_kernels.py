"""Lesson 01, sampling kernels and subgradients: the companion of ``solutions/01_sampling_kernels.ipynb``.

Its exercise checks (each with the reference it compares with) and its budget table.
Lesson 01 trains no network: it recovers a known θ by gradient descent with each
kernel, on an image of ``fit_size``² pixels for ``fit_steps`` Adam steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from .. import sampler
from ..course import lesson as _lesson
from ..course.checking import CheckError, check_function

LESSON = "01"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Lesson 01's own knobs."""

    fit_size: int  # side of the image that is warped when θ is recovered
    fit_steps: int  # Adam steps per kernel


SETTINGS = {"smoke": Settings(fit_size=40, fit_steps=40),
            "standard": Settings(fit_size=96, fit_steps=200),
            "full": Settings(fit_size=128, fit_steps=400)}


def start(budget: str | None = None, seed: int = 0, device: str | None = None):
    """``course.start_lesson("01", ...)`` with this lesson's settings."""
    return _lesson.start_lesson(LESSON, budget=budget, seed=seed, device=device,
                                settings=SETTINGS)




def _pixel_positions(N: int, Ho: int, Wo: int, H: int, W: int, *, integer: bool = False,
                     seed: int = 0, margin: float = 1.5, dtype=torch.float64):
    """Pixel positions x, y (each N×H'×W') inside and a little outside an H×W image.

    ``integer=True``: exact pixel centres (kinks of every kernel); otherwise
    fractional parts in [0.1, 0.4] ∪ [0.6, 0.9], away from integers and halves.
    """
    g = torch.Generator().manual_seed(seed)

    def axis(size):
        whole = torch.randint(int(-margin), int(size + margin), (N, Ho, Wo), generator=g)
        if integer:
            return whole.to(dtype)
        frac = 0.1 + 0.3 * torch.rand(N, Ho, Wo, generator=g, dtype=dtype)
        return whole.to(dtype) + frac + 0.5 * torch.randint(0, 2, (N, Ho, Wo), generator=g)

    return axis(W), axis(H)


def _kink_points(dtype=torch.float64) -> torch.Tensor:
    return torch.tensor([-2.5, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5],
                        dtype=dtype)


def bilinear_sampler_reference(U: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """``grid_sample`` with the bilinear kernel, zero padding, ``align_corners=False`` (lesson 01)."""
    return sampler.grid_sample_native(U, grid, align_corners=False, kernel="bilinear",
                                      padding_mode="zeros")


def check_bilinear_kernel(kernel: Callable, subgradient: Callable, *, verbose: bool = True) -> bool:
    """Lesson 01, exercise 1: the bilinear kernel k(d) = max(0, 1 − |d|) (eq. 5) and its subgradient.

    Three steps, each with its own message: (1) ``kernel(d)`` against eq. 5
    on points that include the kinks −1, 0, 1; (2) ``subgradient(d)``
    against the right derivative (+1 on [−1, 0), −1 on [0, 1), 0 elsewhere),
    kinks included; (3) the reference gather sampler run with *your* kernel
    and subgradient against ``torch.nn.functional.grid_sample``: values and
    gradients w.r.t. U and the grid, at random positions and at exact pixel
    positions (where only the right-derivative convention agrees).
    """
    from ..kernels import Kernel, bilinear_derivative, bilinear_weight

    d = _kink_points()
    if not check_function(kernel, bilinear_weight, [("d across the kinks", {"d": d})],
                          name="bilinear_kernel", verbose=False):
        if verbose:
            print("… bilinear_kernel is not implemented yet: write its body above, run that cell, "
                  "then this one again.")
        return False
    try:
        got = subgradient(d.clone())
    except NotImplementedError:
        if verbose:
            print("✓ bilinear_kernel is correct; … bilinear_subgradient is not implemented yet.")
        return False
    want = bilinear_derivative(d)
    if isinstance(got, torch.Tensor) and got.shape == want.shape:
        bad = ~torch.isclose(got.double(), want)
        kinks = bad & torch.isin(d, torch.tensor([-1.0, 0.0, 1.0], dtype=d.dtype))
        if kinks.any() and not (bad & ~kinks).any():
            i = int(kinks.nonzero()[0])
            raise CheckError(
                f"bilinear_subgradient is right away from the kinks but at d = {d[i].item():g} "
                f"gives {got[i].item() + 0.0:g}, expected {want[i].item():g}: at a kink any value between "
                "the left and right derivative is a subgradient, but the course (and grid_sample) "
                "uses the right derivative, lim h→0⁺ (k(d + h) − k(d)) / h")
    check_function(subgradient, bilinear_derivative, [("d across the kinks", {"d": d})],
                   name="bilinear_subgradient", verbose=False)
    mine = Kernel("bilinear", kernel, subgradient, (0, 1), torch.floor)

    def student_sampler(U, grid):
        return sampler.grid_sample_reference(U, grid, align_corners=False, kernel=mine,
                                             padding_mode="zeros")

    g = torch.Generator().manual_seed(3)
    U = torch.rand(2, 2, 4, 8, generator=g, dtype=torch.float64)  # powers of 2: exact coordinates
    cases = []
    for label, integer in (("random positions", False), ("exact pixel positions", True)):
        x, y = _pixel_positions(2, 4, 5, 4, 8, integer=integer, seed=4)
        grid = torch.stack([sampler.normalize(x, 8, align_corners=False),
                            sampler.normalize(y, 4, align_corners=False)], -1)
        cases.append((label, {"U": U, "grid": grid}))
    ok = check_function(student_sampler, bilinear_sampler_reference, cases,
                        name="the sampler with your bilinear kernel", wrt=("U", "grid"),
                        rtol=1e-7, atol=1e-9, verbose=False)
    if ok and verbose:
        print("✓ bilinear_kernel and bilinear_subgradient are correct: values on 13 points with the "
              "kinks, and the sampler built from them matches grid_sample in value and in the "
              "gradients w.r.t. U and the grid, also at exact pixel positions")
    return ok


def gather_reference(U: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                     kernel: str = "bilinear") -> torch.Tensor:
    """Lesson 01, exercise 2's reference: sample U at pixel positions (x, y) with zero padding.

    U N×C×H×W; x, y N×H'×W' in pixels (centres at 0 … W−1) → V N×C×H'×W',
    computed by ``grid_sample`` (``align_corners=True`` maps pixels to
    normalized coordinates one to one).
    """
    H, W = U.shape[-2:]
    grid = torch.stack([x * 2 / (W - 1) - 1, y * 2 / (H - 1) - 1], -1)
    return sampler.grid_sample_native(U, grid.to(U.dtype), align_corners=True, kernel=kernel,
                                      padding_mode="zeros")


def check_gather_sample(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 01, exercise 2: ``gather_sample(U, x, y, kernel)`` against ``grid_sample``.

    Values for the three kernels at random and at exact pixel positions
    (inside the image and up to two pixels outside it, where zero padding
    reads 0); gradients w.r.t. U, x and y at positions off the kinks.
    """
    g = torch.Generator().manual_seed(5)
    U = torch.rand(2, 3, 5, 9, generator=g, dtype=torch.float64)  # H−1, W−1 powers of 2: exact
    value_cases, grad_cases = [], []
    for kernel in ("nearest", "bilinear", "bicubic"):
        x, y = _pixel_positions(2, 3, 4, 5, 9, seed=6)
        xi, yi = _pixel_positions(2, 3, 4, 5, 9, integer=True, seed=7)
        value_cases += [(f"{kernel}, random positions", {"U": U, "x": x, "y": y, "kernel": kernel}),
                        (f"{kernel}, pixel centres", {"U": U, "x": xi, "y": yi, "kernel": kernel})]
        grad_cases.append((f"{kernel}, random positions",
                           {"U": U, "x": x, "y": y, "kernel": kernel}))
    if not check_function(student, gather_reference, value_cases, name="gather_sample",
                          rtol=1e-6, atol=1e-9, verbose=False):
        if verbose:
            print("… gather_sample is not implemented yet: write its body above, run that cell, "
                  "then this one again.")
        return False
    check_function(student, gather_reference, grad_cases, name="gather_sample",
                   wrt=("U", "x", "y"), rtol=1e-6, atol=1e-9, verbose=False)
    if verbose:
        print("✓ gather_sample is correct: nearest, bilinear and bicubic match grid_sample in value "
              "(random positions and pixel centres, inside and outside the image) and in the "
              "gradients w.r.t. U, x and y")
    return True


