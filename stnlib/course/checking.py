"""Exercise checks: run a student's function against the reference and say what is wrong.

A failed check raises :class:`CheckError` (an ``AssertionError``) whose
message names the case, the quantity and the first thing that differs::

    CheckError: warp, case 'zoom in, 6×8 output': output value at index (0, 0, 3, 5)
    is 0.25, expected 0.5 (12 of 96 entries differ; largest difference 0.31)

A function that still raises ``NotImplementedError`` is not an error: the
check prints that the exercise is still open and returns ``False``, so the
rest of the lesson (which uses ``stnlib``'s reference) still runs.

This module is the generic machinery (:func:`compare_tensors`,
:func:`compare_gradients`, :func:`check_function`); each lesson's ``check_*``
functions live in its companion module ``stnlib.lessons.lNN_*``, next to the
reference they compare with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch


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
    finite_diff = (a - e).abs()[bad & torch.isfinite(a) & torch.isfinite(e)]
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
