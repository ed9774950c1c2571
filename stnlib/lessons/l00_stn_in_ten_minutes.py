"""Lesson 00, an STN in ten minutes: the companion module of ``solutions/00_stn_in_ten_minutes.ipynb``.

Its exercise checks (each with the reference it compares with) and its budget table:
lesson 00 trains a CNN and an ST-CNN on RTS MNIST (Jaderberg et al. 2015, §4.1)
with the default budgets of :mod:`stnlib.course.budgets`, except that ``standard`` trains
3 epochs instead of 4, and ``smoke`` and ``standard`` narrow the CNN of
:func:`stnlib.models.cnn` (16 and 32 channels, 64 hidden units instead of 32, 64 and 128), so
that the lesson keeps its promise of ten minutes on an idle 2-core CPU; ``full`` trains the
full-width CNN. Both models of a budget share that width: the ST-CNN is the same CNN behind a
transformer (:func:`stnlib.models.st_cnn`, whose cheap localization net pools its input first).
The per-epoch curve is read on a validation split held out from the training digits
(:func:`split_validation`); the test digits are scored once, after the last epoch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from .. import grids, sampler
from ..course import lesson as _lesson
from ..course.checking import Mistake, check_function

LESSON = "00"
#: how lesson 00 differs from the default budgets: ``standard`` trains 3 epochs (ten minutes)
BUDGET_CHANGES: dict[str, dict] = {"standard": {"epochs": 3}}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Lesson 00's own knobs.

    Attributes:
        n_val: training digits held out (never trained on) for validation.
        channels: the CNN's two convolution widths (:func:`stnlib.models.cnn`).
        hidden: the CNN's hidden units.
    """

    n_val: int
    channels: tuple[int, int] = (16, 32)
    hidden: int = 64

    @property
    def widths(self) -> dict:
        """``channels`` and ``hidden`` as keyword arguments of ``cnn`` / ``st_cnn``."""
        return {"channels": self.channels, "hidden": self.hidden}


SETTINGS = {"smoke": Settings(n_val=256), "standard": Settings(n_val=5000),
            "full": Settings(n_val=5000, channels=(32, 64), hidden=128)}


def start(budget: str | None = None, seed: int = 0, device: str | None = None):
    """``course.start_lesson("00", ...)`` with this lesson's budget table."""
    return _lesson.start_lesson(LESSON, budget=budget, seed=seed, device=device,
                                changes=BUDGET_CHANGES, settings=SETTINGS)


def split_validation(train_set, n_val: int):
    """``(train, val)``: the last ``n_val`` samples of ``train_set`` held out as the validation split.

    The two never share a sample; the model is trained on ``train`` only. Raises
    ``ValueError`` unless ``1 <= n_val < len(train_set)``.
    """
    n = len(train_set)
    if not isinstance(n_val, int) or isinstance(n_val, bool) or not 1 <= n_val < n:
        raise ValueError(f"n_val must be an int in 1..{n - 1} (the training set has {n} samples), "
                         f"got {n_val!r}")
    index = torch.arange(n)
    return train_set.subset(index[:n - n_val]), train_set.subset(index[n - n_val:])


def digit_centres(images: torch.Tensor) -> torch.Tensor:
    """The ink centre of mass of each image, N×C×H×W → N×2 ``(x, y)`` in normalized [-1, 1]
    coordinates (``align_corners=False``); the canvas centre for an empty image."""
    if images.dim() != 4:
        raise ValueError(f"images must be N×C×H×W, got shape {tuple(images.shape)}")
    h, w = images.shape[-2:]
    ink = images.sum(1)  # N×H×W
    total = ink.sum((1, 2))
    ys = (2 * torch.arange(h, dtype=images.dtype) + 1) / h - 1
    xs = (2 * torch.arange(w, dtype=images.dtype) + 1) / w - 1
    safe = total.clamp_min(1e-12)
    cx = (ink.sum(1) * xs).sum(1) / safe
    cy = (ink.sum(2) * ys).sum(1) / safe
    empty = total <= 0
    return torch.stack([cx.masked_fill(empty, 0.0), cy.masked_fill(empty, 0.0)], 1)


def _cases_params() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.cat([torch.rand(3, 1, generator=g) * 1.5 + 0.25,
                      torch.rand(3, 2, generator=g) * 2 - 1], dim=1)


_THETA_ENTRY = {(0, 0): "s", (0, 1): "0", (0, 2): "tx", (1, 0): "0", (1, 1): "s", (1, 2): "ty"}


def _describe_attention(case, what, index):
    """θ[n, i, j] (or ∂/∂params[n, k]) by the row of params it comes from."""
    params = case["params"]
    if len(index) < 2 or index[0] >= len(params):
        return None
    n = index[0]
    s, tx, ty = (f"{v:.3g}" for v in params[n].tolist())
    row = f"params[{n}] = (s, tx, ty) = ({s}, {tx}, {ty})"
    if what == "output" and len(index) == 3:
        entry = _THETA_ENTRY.get(tuple(index[1:]), "?")
        return f"{row}, θ[{n}, {index[1]}, {index[2]}] (should be {entry})"
    if what == "params":
        return f"{row}, the entry of {('s', 'tx', 'ty')[index[1]]}"
    return None


def _attention_in_order(order: tuple[int, int, int]):
    def wrong(params):
        return grids.attention_theta(params[:, list(order)])

    return wrong


_ORDER = ("θ = [[s, 0, tx], [0, s, ty]] with s = params[:, 0], tx = params[:, 1], "
          "ty = params[:, 2]")

ATTENTION_MISTAKES = [
    Mistake(f"tx and ty are swapped: {_ORDER} (x is the column, the first shift)",
            _attention_in_order((0, 2, 1))),
    *[Mistake(f"the scale and a shift are swapped: {_ORDER}", _attention_in_order(order))
      for order in ((1, 0, 2), (2, 1, 0))],
    *[Mistake(f"params are read in the wrong order: {_ORDER}", _attention_in_order(order))
      for order in ((1, 2, 0), (2, 0, 1))],
    Mistake("keep the batch axis: one 2×3 θ per row of params, N×2×3 in all (torch.stack the "
            "rows along the last axes; no params[0], no .squeeze())",
            test=lambda case, actual, expected: isinstance(actual, torch.Tensor)
            and actual.dim() < expected.dim()),
]


def check_attention_theta(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 00, exercise 1: (s, tx, ty) N×3 → θ = [[s, 0, tx], [0, s, ty]] N×2×3 (eq. 2)."""
    cases = [
        ("identity", {"params": torch.tensor([[1.0, 0.0, 0.0]])}),
        ("zoom in and shift", {"params": torch.tensor([[0.5, 0.25, -0.5]])}),
        ("batch of 3", {"params": _cases_params()}),
    ]
    return check_function(student, grids.attention_theta, cases, name="attention_theta",
                          wrt=("params",), verbose=verbose, output="your θ",
                          mistakes=ATTENTION_MISTAKES, describe=_describe_attention)


def warp_reference(U: torch.Tensor, theta: torch.Tensor, out_size) -> torch.Tensor:
    """The reference of lesson 00, exercise 2: grid generator then bilinear sampler.

    U N×C×H×W, θ N×2×3 → V N×C×H'×W' (``align_corners=False``, zero padding).
    """
    grid = grids.affine_grid(theta, out_size, align_corners=False)
    return sampler.sample(U, grid, kernel="bilinear", padding_mode="zeros", align_corners=False)


def _describe_warp(case, what, index):
    """An output pixel by where it reads U; a gradient entry by its pixel of U or entry of θ."""
    U, theta = case["U"], case["theta"]
    H, W = U.shape[-2:]
    if what == "output" and len(index) == 4:
        n, c, i, j = index
        Ho, Wo = case["out_size"]
        if i >= Ho or j >= Wo:
            return None
        g = grids.affine_grid(theta.detach(), case["out_size"], align_corners=False)[n, i, j]
        x = sampler.unnormalize(g[0], W, align_corners=False).item()
        y = sampler.unnormalize(g[1], H, align_corners=False).item()
        return (f"output pixel (row {i}, column {j}) of image {n}, channel {c}, which reads U at "
                f"(x, y) = ({x:.3g}, {y:.3g}) pixels")
    if what == "U" and len(index) == 4:
        n, c, i, j = index
        return f"input pixel (row {i}, column {j}) of image {n}, channel {c}"
    if what == "theta" and len(index) == 3:
        return f"θ[{index[0]}, {index[1]}, {index[2]}]"
    return None


def _warp_with(*, kernel="bilinear", align_corners=False, swap=False):
    def wrong(U, theta, out_size):
        size = tuple(out_size)[::-1] if swap else out_size
        grid = grids.affine_grid(theta, size, align_corners=align_corners)
        return sampler.sample(U, grid, kernel=kernel, padding_mode="zeros",
                              align_corners=align_corners)

    return wrong


WARP_MISTAKES = [
    Mistake("this is nearest sampling; the sampler of the course (eq. 5 of the paper) is "
            "kernel=\"bilinear\", which is also the one with a useful gradient",
            _warp_with(kernel="nearest")),
    Mistake("this is align_corners=True: the course uses align_corners=False (−1 and +1 are the "
            "outer edges of the image), in the grid generator and in the sampler alike",
            _warp_with(align_corners=True)),
    Mistake("align_corners must be False in both the grid generator and the sampler",
            lambda U, theta, out_size: sampler.sample(
                U, grids.affine_grid(theta, out_size, align_corners=True), kernel="bilinear",
                padding_mode="zeros", align_corners=False)),
    Mistake("align_corners must be False in both the grid generator and the sampler",
            lambda U, theta, out_size: sampler.sample(
                U, grids.affine_grid(theta, out_size, align_corners=False), kernel="bilinear",
                padding_mode="zeros", align_corners=True)),
    Mistake("out_size is (H', W'), height first, as in torch: your output is W' × H'",
            _warp_with(swap=True)),
    Mistake("pixels that read outside U are 0 (padding_mode=\"zeros\"), not the border's value",
            lambda U, theta, out_size: sampler.sample(
                U, grids.affine_grid(theta, out_size, align_corners=False), kernel="bilinear",
                padding_mode="border", align_corners=False)),
]


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
                          verbose=verbose, mistakes=WARP_MISTAKES, describe=_describe_warp)
