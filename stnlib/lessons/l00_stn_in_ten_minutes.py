"""Lesson 00, an STN in ten minutes: the companion module of ``solutions/00_stn_in_ten_minutes.ipynb``.

Its exercise checks (each with the reference it compares with) and its budget table:
lesson 00 trains a CNN and an ST-CNN on RTS MNIST (Jaderberg et al. 2015, §4.1)
with the default budgets of :mod:`stnlib.course.budgets`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import grids, sampler
from ..course import lesson as _lesson
from ..course.checking import check_function

LESSON = "00"
#: how lesson 00 differs from the default budgets: not at all
BUDGET_CHANGES: dict[str, dict] = {}


def start(budget: str | None = None, seed: int = 0, device: str | None = None):
    """``course.start_lesson("00", ...)`` with this lesson's budget table."""
    return _lesson.start_lesson(LESSON, budget=budget, seed=seed, device=device,
                                changes=BUDGET_CHANGES)




def _cases_params() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.cat([torch.rand(3, 1, generator=g) * 1.5 + 0.25,
                      torch.rand(3, 2, generator=g) * 2 - 1], dim=1)


def check_attention_theta(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 00, exercise 1: (s, tx, ty) N×3 → θ = [[s, 0, tx], [0, s, ty]] N×2×3 (eq. 2)."""
    cases = [
        ("identity", {"params": torch.tensor([[1.0, 0.0, 0.0]])}),
        ("zoom in and shift", {"params": torch.tensor([[0.5, 0.25, -0.5]])}),
        ("batch of 3", {"params": _cases_params()}),
    ]
    return check_function(student, grids.attention_theta, cases, name="attention_theta",
                          wrt=("params",), verbose=verbose)


def warp_reference(U: torch.Tensor, theta: torch.Tensor, out_size) -> torch.Tensor:
    """The reference of lesson 00, exercise 2: grid generator then bilinear sampler.

    U N×C×H×W, θ N×2×3 → V N×C×H'×W' (``align_corners=False``, zero padding).
    """
    grid = grids.affine_grid(theta, out_size, align_corners=False)
    return sampler.sample(U, grid, kernel="bilinear", padding_mode="zeros", align_corners=False)


def check_warp(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 00, exercise 2: ``warp(U, theta, out_size)`` against :func:`warp_reference`."""
    g = torch.Generator().manual_seed(1)
    U = torch.rand(2, 3, 9, 12, generator=g)
    zoom = grids.attention_theta(torch.tensor([[0.5, 0.2, -0.1], [0.8, -0.3, 0.25]]))
    rotate = torch.tensor([[[0.0, -1.0, 0.1], [1.0, 0.0, 0.0]]]).expand(2, 2, 3)
    cases = [
        ("identity, same size", {"U": U, "theta": grids.attention_theta(
            torch.tensor([[1.0, 0.0, 0.0]]).expand(2, 3)), "out_size": (9, 12)}),
        ("zoom in, 6×8 output", {"U": U, "theta": zoom, "out_size": (6, 8)}),
        ("rotate 90°, 12×12 output", {"U": U, "theta": rotate.clone(), "out_size": (12, 12)}),
    ]
    return check_function(student, warp_reference, cases, name="warp", wrt=("U", "theta"),
                          verbose=verbose)


