"""One test of an exercise check, shared by every lesson's tests: :func:`assert_check`.

A check (``stnlib.lessons.lNN_*.check_*``) answers three kinds of student code, and each
answer has a contract (:mod:`stnlib.course.checking`):

- the reference (a right answer): returns ``True`` and prints one line starting with ``✓``;
- a typical mistake: raises :class:`~stnlib.course.checking.CheckError`, whose feedback is a
  one-line message (plus ``in your code:`` and ``Hint:`` lines), never a traceback, and
  names the mistake;
- an open exercise (the student copy's stub, which raises ``NotImplementedError``): returns
  ``False`` and prints the one "not implemented yet" line (:func:`~stnlib.course.checking.
  not_written_yet`), or nothing with ``verbose=False``.

``assert_check`` asserts all three and returns what the check printed and raised, so a test
can add what is particular to its lesson (the exact message naming the failing entry)::

    run = assert_check(L00.check_warp, warp_reference, name="warp", mistakes=[
        (nearest_warp, "Hint: this is nearest sampling"),   # the hint starts with these words
        (detached_warp, "no gradient reaches 'U'"),         # anywhere in the feedback
        (scaled_warp, None),                                # fails, and no hint is known
    ])
    assert run.errors[0].message.startswith("warp, case 'zoom in, 6×8 output'")
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
from collections.abc import Callable, Sequence

import pytest
import torch

from stnlib.course.checking import CheckError

#: what a mistake's feedback must contain: a piece of its text (``"Hint: …"`` for the start of
#: the hint), a pattern searched in it, or None for a mistake the check has no hint for
Expected = str | re.Pattern | None


def wrong_in_one_call(reference: Callable, call: int, where=(slice(None),), by: float = 1.0) -> Callable:
    """An answer equal to ``reference`` except in its call number ``call`` (0-based: the check's case of that
    number, for a check that calls the answer once per case), whose output entries ``where`` are off by
    ``by``. A check's feedback for it must name that case, its inputs and the first wrong entry."""
    calls = []

    def answer(**kwargs):
        calls.append(1)
        out = torch.as_tensor(reference(**kwargs)).clone()
        if len(calls) == call + 1:
            out[where] += by
        return out
    return answer


def not_yet(*args, **kwargs):
    """The student copy's stub of any exercise."""
    raise NotImplementedError("Exercise: write this part, then delete this line.")


@dataclasses.dataclass
class CheckRun:
    """What :func:`assert_check` saw: ``passed`` (printed for the reference), ``open``
    (printed for the stub) and ``errors`` (one :class:`CheckError` per mistake, in order)."""

    passed: str
    open: str
    errors: list[CheckError]


def _printed(call: Callable[[], object]) -> tuple[object, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = call()
    return result, out.getvalue()


def _one_line(text: str, what: str, *, trains: bool = False) -> str:
    """The line ``text`` is (with ``trains``: its last line; the ones before are training progress)."""
    assert "Traceback" not in text, f"{what} printed a traceback: {text!r}"
    lines = text.split("\n")
    assert text.endswith("\n") and (trains or len(lines) == 2), f"{what} must print one line: {text!r}"
    return lines[-2]


def assert_feedback(err: CheckError, expected: Expected = "", *, what: str = "the mistake") -> None:
    """``err`` is the course's short feedback and names the mistake as ``expected`` says."""
    lines = err._render_traceback_()  # what IPython and Jupyter show instead of a traceback
    assert lines[0].startswith("✗ ") and not any("Traceback" in line for line in lines), lines
    assert "\n" not in err.message, f"{what}: the message must be one line: {err.message!r}"
    text = str(err)
    assert text == "\n".join(lines)[2:], "the rendered feedback and str(err) must say the same"
    if expected is None:
        assert err.hint is None and "Hint:" not in text, f"{what}: no hint expected, got {text!r}"
    elif isinstance(expected, re.Pattern):
        assert expected.search(text), f"{what}: {expected.pattern!r} not found in {text!r}"
    else:
        assert expected in text, f"{what}: {expected!r} not in {text!r}"


def assert_check(check: Callable[..., bool], reference: Callable, *, name: str,
                 mistakes: Sequence[tuple[Callable, Expected]] = (),
                 stub: Callable = not_yet, trains: bool = False) -> CheckRun:
    """Assert the contract of an exercise ``check`` (called as ``check(student, verbose=...)``).

    ``reference`` passes: ``True`` and one printed line starting with ``✓``. Each
    ``(wrong, expected)`` of ``mistakes`` fails: a :class:`CheckError` (nothing printed, no
    traceback, a one-line message) whose text contains ``expected`` (a string, e.g. ``"Hint:
    tx and ty are swapped"``, or a compiled pattern), or that has no hint when ``expected`` is
    None. ``stub`` (raising ``NotImplementedError``) gives ``False`` and the one line
    "… ``name`` is not implemented yet: …", and ``False`` silently with ``verbose=False``.
    A check that ``trains`` a model may print training progress before its one line (and
    before its error).
    """
    ok, printed = _printed(lambda: check(reference))
    assert ok is True, f"the reference must pass {name}'s check, got {ok!r}"
    passed = _one_line(printed, "a passing check", trains=trains)
    assert passed.startswith("✓ "), passed

    errors = []
    for i, (wrong, expected) in enumerate(mistakes):
        what = f"mistake {i} ({getattr(wrong, '__name__', wrong)})"
        out = io.StringIO()
        with pytest.raises(CheckError) as err, contextlib.redirect_stdout(out):
            check(wrong)
        assert trains or out.getvalue() == "", f"{what}: a failing check prints nothing: {out.getvalue()!r}"
        assert "Traceback" not in out.getvalue(), out.getvalue()
        assert_feedback(err.value, expected, what=what)
        errors.append(err.value)

    ok, printed = _printed(lambda: check(stub))
    assert ok is False, f"an open exercise must return False, got {ok!r}"
    open_line = _one_line(printed, "an open exercise", trains=trains)
    assert f"… {name} is not implemented yet: write its body in the exercise cell above" in open_line
    ok, printed = _printed(lambda: check(stub, verbose=False))
    assert ok is False and printed == "", printed
    return CheckRun(passed=passed + "\n", open=open_line + "\n", errors=errors)
