"""Exercise checks: run a student's function against the reference and say what is wrong.

A failed check raises :class:`CheckError` (an ``AssertionError``) whose
message names the case, the quantity and the first thing that differs::

    ✗ warp, case 'zoom in, 6×8 output': at output pixel (row 0, column 3) of image 0,
    channel 0, which reads U at (x, y) = (4.1, 2.3): your output is 0.25, expected 0.5
    (12 of 96 entries differ)
    Hint: this is nearest sampling; the sampler of the paper (eq. 5) is bilinear

(in IPython and Jupyter only these lines show: :meth:`CheckError._render_traceback_`).

A function that still raises ``NotImplementedError`` is not an error: the
check prints that the exercise is still open and returns ``False``
(:func:`not_written_yet`, the one place that says it), so the rest of the
lesson (which uses ``stnlib``'s reference) still runs.

This module is the generic machinery (:func:`compare_tensors`,
:func:`compare_gradients`, :func:`check_function`); each lesson's ``check_*``
functions live in its companion module ``stnlib.lessons.lNN_*``, next to the
reference they compare with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch


class CheckError(AssertionError):
    """A student's result differs from the reference; the message says where and how.

    ``hint`` (optional) says what the typical mistake behind it is. In IPython
    and Jupyter the error shows as its message alone (``_render_traceback_``),
    not as a traceback through the library; it stays an exception, so a run of
    the notebook (papermill, nbval) still fails on a broken solution.
    """

    def __init__(self, message: str, *, hint: str | None = None, your_line: str | None = None):
        self.message, self.hint, self.your_line = message, hint, your_line
        super().__init__(self._text())

    def _text(self) -> str:
        text = self.message
        if self.your_line:
            text += f"\n  in your code: {self.your_line}"
        if self.hint:
            text += f"\nHint: {self.hint}"
        return text

    def with_hint(self, hint: str | None) -> CheckError:
        """The same error with ``hint`` (kept as it is when ``hint`` is None)."""
        if hint is None:
            return self
        return CheckError(self.message, hint=hint, your_line=self.your_line)

    def prefixed(self, prefix: str) -> CheckError:
        """The same error with ``prefix`` before the message."""
        return CheckError(f"{prefix}{self.message}", hint=self.hint, your_line=self.your_line)

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines instead of a traceback
        return ["✗ " + line if i == 0 else line for i, line in enumerate(self._text().splitlines())]


def _index(flat_index: int, shape: torch.Size) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        out.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(out))


def _num(x: float) -> str:
    return f"{x + 0.0:.6g}"


def compare_tensors(actual, expected: torch.Tensor, *, name: str = "output",
                    rtol: float = 1e-5, atol: float = 1e-6,
                    describe: Callable[[tuple[int, ...]], str | None] | None = None) -> None:
    """Raise :class:`CheckError` unless ``actual`` matches ``expected`` in type, shape and value.

    Values match when ``|actual − expected| ≤ atol + rtol·|expected|``
    everywhere (NaN matches NaN). The message names the first entry that
    differs — by its input, ``describe(index)`` (e.g. "d = -2.5"), or by its
    index when there is no ``describe`` or it returns None — and counts the others.
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
    bad = _mismatch(a, e, rtol=rtol, atol=atol)
    if not bad.any():
        return
    flat = int(bad.reshape(-1).nonzero()[0])  # the first entry that differs
    where = _index(flat, a.shape)
    got, want = a.reshape(-1)[flat].item(), e.reshape(-1)[flat].item()
    n_bad = int(bad.sum())
    extra = f"{n_bad} of {a.numel()} entries differ" if a.numel() > 1 else ""
    desc = describe(where) if describe is not None else None
    if desc is None and a.dim():
        desc = f"index {where}"
    at = f"at {desc}: " if desc else ""
    raise CheckError(f"{at}{name} is {_num(got)}, expected {_num(want)}"
                     + (f" ({extra})" if extra else ""))


def _mismatch(a: torch.Tensor, e: torch.Tensor, *, rtol: float, atol: float) -> torch.Tensor:
    both_nan = torch.isnan(a) & torch.isnan(e)
    return ~((a - e).abs() <= atol + rtol * e.abs()) & ~both_nan


def matches(actual, expected, *, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Whether ``actual`` is a tensor of ``expected``'s shape with the same values (no message)."""
    if not isinstance(actual, torch.Tensor) or not isinstance(expected, torch.Tensor):
        return False
    if actual.shape != expected.shape:
        return False
    a = actual.detach().to(device=expected.device, dtype=torch.float64)
    return not bool(_mismatch(a, expected.detach().to(torch.float64), rtol=rtol, atol=atol).any())


@dataclasses.dataclass(frozen=True)
class Mistake:
    """A typical mistake and its hint.

    ``wrong``: a function with the reference's signature that makes the
    mistake; the hint applies when the student's output equals its output on
    the failing case and on every other case of the check (one case alone can
    be ambiguous: on a zoom without rotation a transpose is an inverse).
    ``test``: alternatively ``test(case, actual, expected) -> bool`` on the
    failing case, for a mistake that no single wrong function reproduces.
    """

    hint: str
    wrong: Callable | None = None
    test: Callable[[Mapping[str, Any], Any, torch.Tensor], bool] | None = None

    def applies(self, case: Mapping[str, Any], actual, expected, *, rtol: float, atol: float,
                student: Callable | None = None,
                cases: Sequence[Mapping[str, Any]] = ()) -> bool:
        tol = {"rtol": max(rtol, 1e-4), "atol": max(atol, 1e-5)}
        try:
            if self.wrong is None:
                return bool(self.test(case, actual, expected))
            wrong = self.wrong(**_clone(case))
            if matches(wrong, expected, rtol=rtol, atol=atol) or not matches(actual, wrong, **tol):
                return False
            for other in cases if student is not None else ():
                if other is not case and not matches(student(**_clone(other)),
                                                     self.wrong(**_clone(other)), **tol):
                    return False
            return True
        except Exception:  # a diagnosis never hides the real message
            return False


def diagnose(mistakes: Sequence[Mistake], case: Mapping[str, Any], actual, expected, *,
             rtol: float = 1e-5, atol: float = 1e-6, student: Callable | None = None,
             cases: Sequence[Mapping[str, Any]] = ()) -> str | None:
    """The hint of the first of ``mistakes`` that explains ``actual`` (None: no known mistake).

    With ``student`` and the check's ``cases``, a wrong function must explain
    the student's output on every case, not only on the failing one.
    """
    for m in mistakes:
        if m.applies(case, actual, expected, rtol=rtol, atol=atol, student=student, cases=cases):
            return m.hint
    return None


#: hints for errors a student's function raises, by a piece of their message
RAISED_HINTS = (
    ("cannot be converted to Scalar", ".item() turns a tensor into one Python number: it fails on "
     "a batch and cuts the autograd graph; build the result with tensor operations (torch.stack, "
     "indexing, arithmetic) instead"),
    ("converted to Python scalar", ".item() turns a tensor into one Python number: it fails on a "
     "batch and cuts the autograd graph; build the result with tensor operations (torch.stack, "
     "indexing, arithmetic) instead"),
    ("can't call numpy() on Tensor that requires grad", ".numpy() leaves autograd: stay in torch"),
    ("only one element tensors can be converted", ".item() / float() on a tensor works for one "
     "value only and cuts the autograd graph; use tensor operations"),
    ("a leaf Variable that requires grad is being used in an in-place operation",
     "a parameter (a leaf tensor that requires grad) cannot be changed in place while autograd "
     "records: put the change inside `with torch.no_grad():`"),
    ("as parameter '", "a module's weight and bias are nn.Parameter: change their values in place "
     "inside `with torch.no_grad():` (e.g. head.bias.copy_(values)) instead of assigning a plain "
     "tensor"),
)


def your_line(err: BaseException) -> str | None:
    """``line N: <source>`` of the innermost frame of ``err`` outside stnlib and torch, if any."""
    import linecache
    import os
    import traceback

    skip = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            os.path.dirname(torch.__file__))
    found = None
    for frame in traceback.extract_tb(err.__traceback__):
        if not os.path.abspath(frame.filename).startswith(skip):
            found = frame
    if found is None:
        return None
    text = (found.line or linecache.getline(found.filename, found.lineno)).strip()
    return f"line {found.lineno}: {text}" if text else None


def raised(where: str, err: Exception, hints: Sequence[tuple[str, str]] = ()) -> CheckError:
    """The :class:`CheckError` for a student's function that raised ``err``.

    Its hint is that of the first ``(piece, hint)`` of ``hints`` (the exercise's own), then of
    :data:`RAISED_HINTS`, whose piece occurs in ``err``'s message.
    """
    hint = next((h for piece, h in (*hints, *RAISED_HINTS) if piece in str(err)), None)
    return CheckError(f"{where}: your function raised {type(err).__name__}: {err}", hint=hint,
                      your_line=your_line(err))


CUT_GRAPH_HINT = ("a .detach(), .item(), .numpy(), torch.tensor(...) of tensors or torch.no_grad() "
                  "cuts the result off the autograd graph: build it from the inputs with torch "
                  "operations")


def compare_gradients(student: Callable, reference: Callable, inputs: Mapping[str, Any], *,
                      wrt: Sequence[str], name: str = "output", rtol: float = 1e-5,
                      atol: float = 1e-6, seed: int = 0,
                      describe: Callable[[str, tuple[int, ...]], str | None] | None = None) -> None:
    """Compare ∂L/∂x of ``student(**inputs)`` and ``reference(**inputs)`` for each x in ``wrt``.

    L = Σ g ⊙ output with one fixed random g, so every output entry counts.
    Raises :class:`CheckError` naming the input whose gradient differs (or
    that no gradient reaches at all: a ``.detach()``, ``.item()`` or a
    detour through NumPy cuts the graph). ``describe(x, index)`` names an
    entry of x's gradient by its input (index as the fallback).
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
                raise CheckError(f"no gradient flows from {name} back to {', '.join(wrt)}: the "
                                 "result is cut off the autograd graph", hint=CUT_GRAPH_HINT)
            raise RuntimeError(f"reference of {name} is not differentiable w.r.t. {wrt}")
        grads.append(torch.autograd.grad((out * g).sum(), targets, allow_unused=True))
    for k, expected, actual in zip(wrt, grads[0], grads[1], strict=True):
        if actual is None and expected is not None:
            raise CheckError(f"no gradient reaches {k!r} through {name}", hint=CUT_GRAPH_HINT)
        if expected is None:
            continue
        compare_tensors(actual, expected, name=f"the gradient of {name} w.r.t. {k!r}",
                        rtol=max(rtol, 1e-4), atol=max(atol, 1e-5),
                        describe=(lambda index, k=k: describe(k, index)) if describe else None)


def _describe(case: Mapping[str, Any]) -> str:
    """The case's arguments that are not tensors, ``k=v, …``."""
    return ", ".join(f"{k}={v!r}" for k, v in case.items() if not isinstance(v, torch.Tensor))


Case = tuple  # (label, kwargs) or (label, kwargs, describe)


def check_function(student: Callable, reference: Callable, cases: Sequence[Case], *, name: str,
                   wrt: Sequence[str] = (), rtol: float = 1e-5, atol: float = 1e-6,
                   verbose: bool = True, output: str = "your output",
                   mistakes: Sequence[Mistake] = (),
                   describe: Callable[[Mapping[str, Any], str, tuple[int, ...]], str | None]
                   | None = None, raised_hints: Sequence[tuple[str, str]] = ()) -> bool:
    """Run ``student`` and ``reference`` on every ``(label, kwargs)`` case and compare.

    Compares outputs with :func:`compare_tensors` and, for the inputs named
    in ``wrt``, gradients with :func:`compare_gradients`. Returns ``True``
    when all cases pass (printing ✓), ``False`` when the student's function
    still raises ``NotImplementedError``; raises :class:`CheckError` otherwise,
    with one short message: the case, the first entry that differs named by
    its input (``describe(case, what, index)``, ``what`` = ``"output"`` or the
    input of ``wrt``; the index where it returns None) and, when the output is
    that of one of the typical ``mistakes``, its hint. A student's function that raises gets
    the hint of the first ``(piece, hint)`` of ``raised_hints`` (then of :data:`RAISED_HINTS`)
    whose piece is in the error's message.
    """
    if not callable(student):
        raise TypeError(f"pass the function itself to the check, e.g. check({name}), "
                        f"got {type(student).__name__}")
    # values of every case first, then gradients: a wrong value explains a wrong gradient
    for label, case, *rest in cases:
        desc = rest[0] if rest else describe
        args = _describe(case)
        where = f"{name}, case {label!r}" + (f" ({args})" if args else "")
        expected = reference(**_clone(case))
        try:
            actual = student(**_clone(case))
        except NotImplementedError:
            return not_written_yet(name, verbose=verbose)
        except Exception as err:
            raise raised(where, err, raised_hints) from None
        try:
            compare_tensors(actual, expected, name=output, rtol=rtol, atol=atol,
                            describe=(lambda index, c=case, d=desc: d(c, "output", index))
                            if desc else None)
        except CheckError as err:
            hint = diagnose(mistakes, case, actual, expected, rtol=rtol, atol=atol,
                            student=student, cases=[c for _, c, *_ in cases])
            raise err.prefixed(f"{where}: ").with_hint(hint) from None
    for label, case, *rest in cases if wrt else ():
        desc = rest[0] if rest else describe
        args = _describe(case)
        try:
            compare_gradients(student, reference, case, wrt=wrt, name="your output",
                              rtol=rtol, atol=atol,
                              describe=(lambda what, index, c=case, d=desc: d(c, what, index))
                              if desc else None)
        except CheckError as err:
            raise err.prefixed(f"{name}, case {label!r}" + (f" ({args})" if args else "")
                               + ": ") from None
    if verbose:
        what = "values and gradients" if wrt else "values"
        print(f"✓ {name} is correct ({what} match the reference on {len(cases)} cases)")
    return True


def not_written_yet(name: str, *, verbose: bool = True, before: str = "") -> bool:
    """What a check does when the student's ``name`` still raises ``NotImplementedError``.

    Prints one line (when ``verbose``), no traceback, and returns ``False``:
    an open exercise is not an error, and the rest of the lesson runs on the
    library's reference. ``before`` goes in front of the line, e.g. what the
    check already found right. Every exercise check answers an open exercise
    through this function (:func:`check_function` does it for its own)::

        try:
            head = student(20, "affine")
        except NotImplementedError:
            return not_written_yet("identity_head", verbose=verbose)

    >>> not_written_yet("warp")  # doctest: +ELLIPSIS
    … warp is not implemented yet: write its body in the exercise cell above, run that cell, ...
    False
    """
    if verbose:
        print(f"{before}… {name} is not implemented yet: write its body in the exercise cell above, "
              "run that cell, then this one again.")
    return False


def _clone(case: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in case.items()}


def require_done(passed, exercise: str) -> None:
    """Raise :class:`CheckError` unless a check returned ``True``.

    For graded copies (the nbgrader release, :mod:`stnlib.course.classroom`):
    a check returns ``False`` when the exercise still raises
    ``NotImplementedError``, which an autograder would score as a pass; after
    ``require_done`` it scores 0, and the feedback says why in one line.
    """
    if passed is not True:
        raise CheckError(f"{exercise} is not written yet: this check scores 0 until it is",
                         hint="write the code of the exercise cell above, run it, then this cell")
