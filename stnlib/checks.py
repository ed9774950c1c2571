"""Exercise checks: run a student's function against the reference and say what is wrong.

A failed check raises :class:`CheckError` (an ``AssertionError``) whose
message names the case, the quantity and the first thing that differs::

    CheckError: warp, case 'zoom in, 6×8 output': output value at index (0, 0, 3, 5)
    is 0.25, expected 0.5 (12 of 96 entries differ; largest difference 0.31)

A function that still raises ``NotImplementedError`` is not an error: the
check prints that the exercise is still open and returns ``False``, so the
rest of the lesson (which uses ``stnlib``'s reference) still runs.

The machinery (:func:`compare_tensors`, :func:`compare_gradients`,
:func:`check_function`) is generic; each lesson adds its ``check_*``
functions below, next to the reference they compare with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from . import grids, sampler


class CheckError(AssertionError):
    """A student's result differs from the reference; the message says where and how."""


def _index(flat_index: int, shape: torch.Size) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        out.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(out))


def _num(x: float) -> str:
    return f"{x:.6g}"


def compare_tensors(actual, expected: torch.Tensor, *, name: str = "output",
                    rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Raise :class:`CheckError` unless ``actual`` matches ``expected`` in type, shape and value.

    Values match when ``|actual − expected| ≤ atol + rtol·|expected|``
    everywhere (NaN matches NaN). The message names the entry with the
    largest violation and counts the others.
    """
    if not isinstance(actual, torch.Tensor):
        raise CheckError(f"{name} must be a torch.Tensor, got {type(actual).__name__}"
                         + (" (use torch.tensor / torch.stack, not a list)"
                            if isinstance(actual, (list, tuple)) else ""))
    if actual.shape != expected.shape:
        hint = ""
        if actual.dim() == expected.dim() - 1 and actual.shape == expected.shape[1:]:
            hint = " (the batch axis N is missing)"
        elif actual.numel() == expected.numel():
            hint = " (same number of entries: a reshape or transpose is off)"
        raise CheckError(f"{name} has shape {tuple(actual.shape)}, expected "
                         f"{tuple(expected.shape)}{hint}")
    if expected.is_floating_point() and not actual.is_floating_point():
        raise CheckError(f"{name} has dtype {actual.dtype}, expected a floating dtype like "
                         f"{expected.dtype}")
    a = actual.detach().to(device=expected.device, dtype=torch.float64)
    e = expected.detach().to(torch.float64)
    both_nan = torch.isnan(a) & torch.isnan(e)
    bad = ~((a - e).abs() <= atol + rtol * e.abs()) & ~both_nan
    if not bad.any():
        return
    violation = torch.where(bad, (a - e).abs().nan_to_num(nan=float("inf")),
                            torch.zeros_like(a))
    flat = int(violation.reshape(-1).argmax())
    where = _index(flat, a.shape)
    got, want = a.reshape(-1)[flat].item(), e.reshape(-1)[flat].item()
    n_bad = int(bad.sum())
    finite_diff = (a - e).abs()[bad & torch.isfinite(a)]
    extra = f"{n_bad} of {a.numel()} entries differ"
    if finite_diff.numel():
        extra += f"; largest difference {_num(finite_diff.max().item())}"
    at = f" at index {where}" if a.dim() else ""
    raise CheckError(f"{name} value{at} is {_num(got)}, expected {_num(want)} ({extra})")


def compare_gradients(student: Callable, reference: Callable, inputs: Mapping[str, Any], *,
                      wrt: Sequence[str], name: str = "output", rtol: float = 1e-5,
                      atol: float = 1e-6, seed: int = 0) -> None:
    """Compare ∂L/∂x of ``student(**inputs)`` and ``reference(**inputs)`` for each x in ``wrt``.

    L = Σ g ⊙ output with one fixed random g, so every output entry counts.
    Raises :class:`CheckError` naming the input whose gradient differs (or
    that no gradient reaches at all: a ``.detach()``, ``.item()`` or a
    detour through NumPy cuts the graph).
    """
    grads = []
    for fn in (reference, student):
        args = {k: (v.detach().clone().requires_grad_(k in wrt) if isinstance(v, torch.Tensor)
                    else v) for k, v in inputs.items()}
        out = fn(**args)
        g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed),
                        dtype=out.dtype).to(out.device)
        targets = [args[k] for k in wrt]
        if not out.requires_grad:
            if fn is student:
                raise CheckError(f"no gradient flows from {name} back to "
                                 f"{', '.join(wrt)}: the result is cut off the autograd graph "
                                 "(.detach(), .item(), .numpy() or torch.no_grad() inside?)")
            raise RuntimeError(f"reference of {name} is not differentiable w.r.t. {wrt}")
        grads.append(torch.autograd.grad((out * g).sum(), targets, allow_unused=True))
    for k, expected, actual in zip(wrt, grads[0], grads[1], strict=True):
        if actual is None and expected is not None:
            raise CheckError(f"no gradient reaches {k!r} through {name}: is it used, and "
                             "without .detach()?")
        if expected is None:
            continue
        compare_tensors(actual, expected, name=f"gradient of {name} w.r.t. {k!r}",
                        rtol=max(rtol, 1e-4), atol=max(atol, 1e-5))


def _describe(case: Mapping[str, Any]) -> str:
    parts = []
    for k, v in case.items():
        parts.append(f"{k} of shape {tuple(v.shape)}" if isinstance(v, torch.Tensor)
                     else f"{k}={v!r}")
    return ", ".join(parts)


def check_function(student: Callable, reference: Callable,
                   cases: Sequence[tuple[str, Mapping[str, Any]]], *, name: str,
                   wrt: Sequence[str] = (), rtol: float = 1e-5, atol: float = 1e-6,
                   verbose: bool = True) -> bool:
    """Run ``student`` and ``reference`` on every ``(label, kwargs)`` case and compare.

    Compares outputs with :func:`compare_tensors` and, for the inputs named
    in ``wrt``, gradients with :func:`compare_gradients`. Returns ``True``
    when all cases pass (printing ✓), ``False`` when the student's function
    still raises ``NotImplementedError``; raises :class:`CheckError` otherwise.
    """
    if not callable(student):
        raise TypeError(f"pass the function itself to the check, e.g. check({name}), "
                        f"got {type(student).__name__}")
    # values of every case first, then gradients: a wrong value explains a wrong gradient
    for label, case in cases:
        where = f"{name}, case {label!r} ({_describe(case)})"
        expected = reference(**_clone(case))
        try:
            actual = student(**_clone(case))
        except NotImplementedError:
            if verbose:
                print(f"… {name} is not implemented yet: write its body in the exercise cell "
                      "above, run that cell, then this one again.")
            return False
        except Exception as err:
            raise CheckError(f"{where}: your function raised {type(err).__name__}: {err}") from err
        try:
            compare_tensors(actual, expected, name="output", rtol=rtol, atol=atol)
        except CheckError as err:
            raise CheckError(f"{where}: {err}") from None
    for label, case in cases if wrt else ():
        try:
            compare_gradients(student, reference, case, wrt=wrt, name="the output",
                              rtol=rtol, atol=atol)
        except CheckError as err:
            raise CheckError(f"{name}, case {label!r} ({_describe(case)}): {err}") from None
    if verbose:
        what = "values and gradients" if wrt else "values"
        print(f"✓ {name} is correct ({what} match the reference on {len(cases)} cases)")
    return True


def _clone(case: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in case.items()}


# --------------------------------------------------------------------------- lesson 00


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


# --------------------------------------------------------------------------- lesson 01


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
    from .kernels import Kernel, bilinear_derivative, bilinear_weight

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


# --------------------------------------------------------------------------- lesson 02


def rotate_zoom_reference(angle: float = 30.0, zoom: float = 2.0) -> torch.Tensor:
    """θ (2×3) that turns the picture ``angle``° counter-clockwise about the centre and zooms ``zoom``×."""
    from .theta import affine_theta

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
    from .theta import invert

    return invert(th)


def check_invert_theta(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 02, exercise 2: ``invert_theta(theta)``: N×2×3 → N×2×3, the inverse affine map.

    Compared with :func:`stnlib.theta.invert` in value and in the gradient
    w.r.t. θ.
    """
    from .theta import affine_theta, invert

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
    from .theta import theta_from_pixel_matrix

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
        from .theta import theta_from_pixel_matrix

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
# --------------------------------------------------------------------------- lesson 03


def check_identity_head(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 03, exercise 1: ``identity_head(n_features, transform)``, the localization net's last layer.

    It must be an ``nn.Linear(n_features, P)`` with zero weights and the
    identity parameters of ``transform`` as its bias (affine P = 6,
    projective P = 8, 16-point TPS P = 32), so that a new spatial transformer
    passes its input through unchanged.
    """
    from torch import nn

    from .localization import identity_params

    cases = [(20, "affine"), (32, "projective"), (7, "tps")]
    for n_features, transform in cases:
        where = f"identity_head({n_features}, {transform!r})"
        try:
            head = student(n_features, transform)
        except NotImplementedError:
            if verbose:
                print("… identity_head is not implemented yet: write its body in the exercise "
                      "cell above, run that cell, then this one again.")
            return False
        except Exception as err:
            raise CheckError(f"{where} raised {type(err).__name__}: {err}") from err
        if not isinstance(head, nn.Linear):
            raise CheckError(f"{where} must return an nn.Linear, got {type(head).__name__}")
        expected = identity_params(transform)
        if (head.in_features, head.out_features) != (n_features, expected.numel()):
            raise CheckError(f"{where}: the layer maps {head.in_features} → {head.out_features} "
                             f"features, expected {n_features} → {expected.numel()} (the number of "
                             f"parameters of a {transform} transform)")
        if head.bias is None:
            raise CheckError(f"{where}: the layer needs a bias (it holds the identity)")
        compare_tensors(head.weight.detach(), torch.zeros_like(head.weight), name=f"{where}.weight")
        compare_tensors(head.bias.detach(), expected, name=f"{where}.bias (the identity parameters)")
        if not (head.weight.requires_grad and head.bias.requires_grad):
            raise CheckError(f"{where}: weight and bias must stay trainable (requires_grad=True)")
    if verbose:
        print("✓ identity_head is correct: zero weights and the identity as bias for affine, "
              "projective and TPS")
    return True


def _similarity_thetas() -> torch.Tensor:
    from .theta import affine_theta

    g = torch.Generator().manual_seed(3)
    angles = torch.rand(6, generator=g) * 340 - 170
    scales = torch.rand(6, generator=g) * 1.5 + 0.5
    shifts = torch.rand(6, 2, generator=g) - 0.5
    return torch.stack([affine_theta(angle=a.item(), scale=s.item(), translation=t.tolist())
                        for a, s, t in zip(angles, scales, shifts)]).float()


def picture_angle_reference(theta: torch.Tensor) -> torch.Tensor:
    """The reference of lesson 03, exercise 2: by how many degrees warping with θ turns the picture.

    θ (N×2×3) → angles (N,), counter-clockwise positive, as
    :func:`stnlib.theta.affine_theta`; :func:`stnlib.theta.decompose_affine`'s ``angle``.
    """
    from .theta import decompose_affine

    return decompose_affine(theta)["angle"]


def check_picture_angle(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 03, exercise 2: ``picture_angle(theta)`` for rotations, zooms and shifts."""
    from .theta import affine_theta

    cases = [
        ("identity", {"theta": affine_theta().unsqueeze(0).float()}),
        ("turn 30° counter-clockwise", {"theta": affine_theta(angle=30.0).unsqueeze(0).float()}),
        ("turn −120°, zoom out 2×", {"theta": affine_theta(angle=-120.0, scale=0.5)
                                     .unsqueeze(0).float()}),
        ("batch of 6 rotations, zooms and shifts", {"theta": _similarity_thetas()}),
    ]
    return check_function(student, picture_angle_reference, cases, name="picture_angle",
                          rtol=1e-4, atol=1e-3, verbose=verbose)
