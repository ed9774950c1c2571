"""Lesson 01, sampling kernels and subgradients: the companion of ``solutions/01_sampling_kernels.ipynb``.

Its exercise checks (each with the reference it compares with) and its budget table.
Lesson 01 trains no network: it recovers a known θ by gradient descent with each
kernel, on an image of ``fit_size``² pixels for ``fit_steps`` Adam steps.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import torch

from .. import sampler
from ..course import lesson as _lesson
from ..course.checking import CheckError, Mistake, check_function, matches, not_written_yet

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


def _describe_d(case, what, index):
    return f"d = {case['d'][index].item():g}"


def _bilinear_left_derivative(d: torch.Tensor) -> torch.Tensor:
    one = torch.ones_like(d)
    return torch.where((d > -1) & (d <= 0), one, torch.where((d > 0) & (d <= 1), -one, 0 * one))


def _only_at_kinks(case, actual, expected) -> bool:
    d = case["d"]
    if not isinstance(actual, torch.Tensor) or actual.shape != expected.shape:
        return False
    bad = ~torch.isclose(actual.detach().double(), expected.double())
    kinks = torch.isin(d, torch.tensor([-1.0, 0.0, 1.0], dtype=d.dtype))
    return bool((bad & kinks).any() and not (bad & ~kinks).any())


_RIGHT = ("at a kink any value between the left and the right derivative is a subgradient, but the "
          "course (and grid_sample) uses the right derivative, lim h→0⁺ (k(d + h) − k(d)) / h: "
          "+1 on [−1, 0), −1 on [0, 1), 0 elsewhere")

KERNEL_MISTAKES = [
    Mistake("k(d) = max(0, 1 − |d|): without the max(0, ·) the kernel goes negative for |d| > 1 "
            "(clamp_min(0) or torch.relu keeps it at 0 there)", lambda d: 1 - d.abs()),
    Mistake("k(d) = max(0, 1 − |d|) needs the absolute value: the kernel is symmetric, "
            "k(−d) = k(d)", lambda d: (1 - d).clamp_min(0)),
]
SUBGRADIENT_MISTAKES = [
    Mistake("the sign is flipped: k rises on [−1, 0) (slope +1) and falls on [0, 1) (slope −1)",
            lambda d: -_bilinear_derivative(d)),
    Mistake(f"this is the left derivative at the kinks −1, 0 and 1; {_RIGHT}",
            _bilinear_left_derivative),
    Mistake(f"right away from the kinks, wrong at them; {_RIGHT}", test=_only_at_kinks),
]


def _bilinear_derivative(d):
    from ..kernels import bilinear_derivative

    return bilinear_derivative(d)


def _describe_grid_case(case, what, index):
    """An output pixel (or its grid entry) by the pixel position it reads; U's entries by pixel."""
    U, grid = case["U"], case["grid"]
    H, W = U.shape[-2:]
    if what == "U" and len(index) == 4:
        n, c, i, j = index
        return f"input pixel (row {i}, column {j}) of image {n}, channel {c}"
    if what == "output" and len(index) == 4:
        n, _, i, j = index
    elif what == "grid" and len(index) == 4:
        n, i, j, _ = index
    else:
        return None
    x = sampler.unnormalize(grid[n, i, j, 0], W, align_corners=False).item()
    y = sampler.unnormalize(grid[n, i, j, 1], H, align_corners=False).item()
    pixel = f"output pixel (row {i}, column {j}) of image {n}, which reads U at (x, y) = ({x:g}, {y:g})"
    if what == "grid":
        return f"{pixel}, its {'xy'[index[3]]} coordinate"
    return f"{pixel}, channel {index[1]}"


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
                          name="bilinear_kernel", verbose=False, output="your kernel",
                          mistakes=KERNEL_MISTAKES, describe=_describe_d):
        return not_written_yet("bilinear_kernel", verbose=verbose)
    try:
        subgradient(d.clone())
    except NotImplementedError:
        return not_written_yet("bilinear_subgradient", verbose=verbose,
                               before="✓ bilinear_kernel is correct; ")
    except Exception:  # check_function reports it, with the case
        pass
    check_function(subgradient, bilinear_derivative, [("d across the kinks", {"d": d})],
                   name="bilinear_subgradient", verbose=False, output="your subgradient",
                   mistakes=SUBGRADIENT_MISTAKES, describe=_describe_d)
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
                        rtol=1e-7, atol=1e-9, verbose=False, describe=_describe_grid_case)
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


def _describe_gather(case, what, index):
    """An output entry (or its x / y) by the position it reads; U's entries by pixel."""
    if what == "U" and len(index) == 4:
        n, c, i, j = index
        return f"U[{n}, {c}] at row {i}, column {j}"
    if what == "output" and len(index) == 4:
        n, c, i, j = index
        pixel, tail = f"output (image {n}, channel {c}, row {i}, column {j})", ""
    elif what in ("x", "y") and len(index) == 3:
        n, i, j = index
        pixel, tail = f"output (image {n}, row {i}, column {j})", f", the gradient w.r.t. its {what}"
    else:
        return None
    x, y = case["x"][n, i, j].item(), case["y"][n, i, j].item()
    return f"{pixel}, which reads U at (x, y) = ({x:.4g}, {y:.4g}){tail}"


def _reads_outside(case, actual, expected) -> bool:
    """Whether every wrong entry is one whose kernel support reaches outside the image."""
    from ..kernels import get_kernel

    if not isinstance(actual, torch.Tensor) or actual.shape != expected.shape:
        return False
    H, W = case["U"].shape[-2:]
    k = get_kernel(case["kernel"])
    tx, ty = k.taps(case["x"]), k.taps(case["y"])
    outside = ((tx < 0) | (tx > W - 1)).any(-1) | ((ty < 0) | (ty > H - 1)).any(-1)  # N×H'×W'
    bad = ~torch.isclose(actual.detach().double(), expected.double(), rtol=1e-6, atol=1e-9)
    return bool(bad.any() and not (bad & ~outside[:, None]).any())


def _gather_rounded_taps(U, x, y, kernel="bilinear"):
    from ..kernels import get_kernel

    k = get_kernel(kernel)
    H, W = U.shape[-2:]
    grid = torch.stack([x * 2 / (W - 1) - 1, y * 2 / (H - 1) - 1], -1).to(U.dtype)
    return sampler.grid_sample_reference(U, grid, align_corners=True, padding_mode="zeros",
                                         kernel=dataclasses.replace(k, base=torch.round))


def _gather_masked(lo_x=0, hi_x=0, lo_y=0, hi_y=0):
    """The solution's gather with its validity mask shifted: a tap tx counts when
    ``lo_x ≤ tx ≤ W − 1 + hi_x`` (likewise ty, H); taps are clamped into the image to be read."""
    from ..kernels import get_kernel

    def wrong(U, x, y, kernel="bilinear"):
        k = get_kernel(kernel)
        N, C, H, W = U.shape
        tx, ty = k.taps(x), k.taps(y)
        wx, wy = k(x[..., None] - tx), k(y[..., None] - ty)
        vx, vy = (tx >= lo_x) & (tx <= W - 1 + hi_x), (ty >= lo_y) & (ty <= H - 1 + hi_y)
        ix, iy = tx.clamp(0, W - 1).long(), ty.clamp(0, H - 1).long()
        index = iy[..., :, None] * W + ix[..., None, :]
        weight = wy[..., :, None] * wx[..., None, :] * (vy[..., :, None] & vx[..., None, :])
        values = U.reshape(N, C, H * W).gather(2, index.reshape(N, 1, -1).expand(N, C, -1))
        return (values.view(N, C, *index.shape[1:]) * weight[:, None]).sum((-1, -2))
    return wrong


def _mask_said(axis: str, lo: int, hi: int) -> list[str]:
    t, line, last = ("tx", "column", "W") if axis == "x" else ("ty", "row", "H")
    out = []
    if lo == 1:
        out.append(f"`{t} > 0` leaves out {line} 0")
    if lo == -1:
        out.append(f"`{t} >= -1` lets the tap at {line} −1, outside the image, read the border")
    if hi == -1:
        out.append(f"`{t} < {last} − 1` leaves out the last {line}, {last} − 1")
    if hi == 1:
        out.append(f"`{t} <= {last}` lets the tap at {line} {last}, outside the image, read the border")
    return out


def _mask_mistakes() -> list[Mistake]:
    """One mistake per off-by-one validity mask (either end of either axis, or several)."""
    out = []
    for lo_x, hi_x, lo_y, hi_y in itertools.product((0, 1, -1), repeat=4):
        said = _mask_said("x", lo_x, hi_x) + _mask_said("y", lo_y, hi_y)
        if said:
            out.append(Mistake(f"off by one in the validity mask: {'; '.join(said)}. A tap is inside "
                               "when 0 ≤ tx ≤ W − 1 and 0 ≤ ty ≤ H − 1, both ends included",
                               _gather_masked(lo_x, hi_x, lo_y, hi_y)))
    return out


GATHER_MISTAKES = [
    Mistake("taps outside the image must read 0 (zero padding): give them weight 0 (or mask "
            "them out) instead of clamping them to the border",
            lambda U, x, y, kernel="bilinear": sampler.grid_sample_native(
                U, torch.stack([x * 2 / (U.shape[-1] - 1) - 1, y * 2 / (U.shape[-2] - 1) - 1],
                               -1).to(U.dtype), align_corners=True, kernel=kernel,
                padding_mode="border")),
    *_mask_mistakes(),
    Mistake("taps outside the image must read 0 (zero padding): your values differ only where "
            "the kernel reaches outside the image", test=_reads_outside),
    Mistake("x and y are swapped: x is the column (0 … W−1), y the row (0 … H−1); U[n, c, y, x]",
            lambda U, x, y, kernel="bilinear": gather_reference(U, y, x, kernel)),
    Mistake("the taps start at ⌊x⌋ (k.taps(x), torch.floor), not at the rounded x: with "
            "rounding, half of the positions use the wrong pair of pixels",
            _gather_rounded_taps),
    Mistake("use the kernel argument (kernels.get_kernel(kernel)): your function always samples "
            "bilinearly", lambda U, x, y, kernel="bilinear": gather_reference(U, x, y, "bilinear")),
]


def _index_hint(student: Callable, H: int, W: int) -> str:
    """The hint for a gather that indexed outside U (an IndexError or gather's RuntimeError).

    Runs ``student`` on a square image with every tap inside, with the one-tap nearest kernel
    (then with the bilinear one): there a swapped row and column index no longer leaves the
    image and reads U[n, c, x, y]; a gather that forgot to clamp its taps reads the right values.
    """
    g = torch.Generator().manual_seed(8)
    U = torch.rand(1, 2, 6, 6, generator=g, dtype=torch.float64)
    x, y = (1.1 + 2.8 * torch.rand(1, 2, 3, generator=g, dtype=torch.float64) for _ in range(2))
    swapped = unclamped = False
    for kernel in ("nearest", "bilinear"):
        try:
            out = student(U=U.clone(), x=x.clone(), y=y.clone(), kernel=kernel)
        except Exception:  # noqa: BLE001 - the hint stays the general one
            continue
        swapped |= matches(out, gather_reference(U, y, x, kernel), rtol=1e-6, atol=1e-9)
        unclamped |= matches(out, gather_reference(U, x, y, kernel), rtol=1e-6, atol=1e-9)
    if swapped:
        return (f"x and y are swapped in your index: on this {H}×{W} image (H = {H} rows, W = {W} "
                f"columns) a column number ran past the {H} rows. x is the column, y the row: "
                "U[n, c, y, x], and a flat index is y · W + x")
    if unclamped:
        return ("a tap outside the image was used as an index: clamp the taps into it "
                "(tx.clamp(0, W − 1), ty.clamp(0, H − 1)) before indexing, and give those outside "
                "weight 0")
    return ("an index ran outside U: rows go with y and H, columns with x and W (U[n, c, y, x]), "
            "and taps outside the image must be clamped into it before indexing")


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
    try:
        if not check_function(student, gather_reference, value_cases, name="gather_sample",
                              rtol=1e-6, atol=1e-9, verbose=False, mistakes=GATHER_MISTAKES,
                              describe=_describe_gather):
            return not_written_yet("gather_sample", verbose=verbose)
    except CheckError as err:
        if err.hint is None and "your function raised" in err.message and "out of bounds" in err.message:
            raise err.with_hint(_index_hint(student, *U.shape[-2:])) from None
        raise
    check_function(student, gather_reference, grad_cases, name="gather_sample",
                   wrt=("U", "x", "y"), rtol=1e-6, atol=1e-9, verbose=False,
                   describe=_describe_gather)
    if verbose:
        print("✓ gather_sample is correct: nearest, bilinear and bicubic match grid_sample in value "
              "(random positions and pixel centres, inside and outside the image) and in the "
              "gradients w.r.t. U, x and y")
    return True
