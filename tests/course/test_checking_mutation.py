"""The checking machinery's remaining behaviour (issue 25, mutation run of 2026-12-05): the hints a
crashing answer gets, the tolerances a typical mistake is judged with, the text of a failure in a case
with plain arguments, your_line for code without a source, require_done and not_written_yet."""

import pytest
import torch

from stnlib.course import checking as C


def _square(x):
    return x * x


def _raises(fn, *args, **kwargs) -> C.CheckError:
    with pytest.raises(C.CheckError) as err:
        fn(*args, **kwargs)
    return err.value


X = torch.tensor([0.5, -2.0, 3.0], dtype=torch.float64)
TWO_CASES = [("three points", {"x": X}), ("two more", {"x": torch.tensor([1.5, 4.0], dtype=torch.float64)})]


# ----------------------------------------------------------------- the error object


def test_with_hint_and_prefixed_keep_the_rest_of_the_error():
    err = C.CheckError("output is 1, expected 2", hint="add one", your_line="line 3: return x")
    hinted = err.with_hint("subtract one")
    assert (hinted.message, hinted.hint, hinted.your_line) == ("output is 1, expected 2", "subtract one",
                                                               "line 3: return x")
    assert err.with_hint(None) is err
    prefixed = err.prefixed("warp, case 'zoom': ")
    assert str(prefixed) == ("warp, case 'zoom': output is 1, expected 2\n  in your code: line 3: return x\n"
                             "Hint: add one")


def test_a_negative_zero_prints_as_0():
    msg = str(_raises(C.compare_tensors, torch.tensor([-0.0, 0.0]), torch.tensor([1.0, 0.0])))
    assert msg == "at index (0,): output is 0, expected 1 (1 of 2 entries differ)"


def test_integer_tensors_at_the_end_of_their_range_compare_exactly():
    low = torch.tensor([-128, 5], dtype=torch.int8)  # |-128| overflows in int8: compared in float64
    C.compare_tensors(low.clone(), low)
    assert C.matches(low.clone(), low)
    assert str(_raises(C.compare_tensors, torch.tensor([-128, 6], dtype=torch.int8), low)) == \
        "at index (1,): output is 6, expected 5 (1 of 2 entries differ)"


def test_matches_uses_the_default_tolerances_and_refuses_non_tensors_and_other_shapes():
    one = torch.tensor([1.0], dtype=torch.float64)
    assert C.matches(one + 5e-6, one) and not C.matches(one + 2e-5, one)
    assert not C.matches(one + 0.5, one)
    assert C.matches(one + 0.5, one, atol=0.5) and C.matches(one + 0.5, one, rtol=0.5, atol=0)
    assert not C.matches([1.0], one) and not C.matches(one, [1.0])
    assert not C.matches(torch.zeros(2), torch.zeros(3)) and not C.matches(torch.zeros(3), torch.zeros(1, 3))


# ----------------------------------------------------------------- typical mistakes


def test_a_mistake_test_sees_the_case_and_the_expected_output():
    plus_x = C.Mistake("you added x", test=lambda case, actual, expected: torch.allclose(actual - expected,
                                                                                        case["x"]))
    err = _raises(C.check_function, lambda x: x * x + x, _square, TWO_CASES, name="square", mistakes=[plus_x])
    assert err.hint == "you added x"
    err = _raises(C.check_function, lambda x: x * x + 1, _square, TWO_CASES, name="square", mistakes=[plus_x])
    assert err.hint is None


def test_the_student_must_be_within_the_mistake_tolerance_of_the_wrong_function():
    doubled = [C.Mistake("you doubled x", lambda x: 2 * x)]
    # 5e-5 relative off the mistake: within its tolerance (rtol 1e-4), so the hint applies
    err = _raises(C.check_function, lambda x: 2 * x * (1 + 5e-5), _square, TWO_CASES, name="square",
                  mistakes=doubled)
    assert err.hint == "you doubled x"
    # 0.5 off the mistake: another mistake, no hint
    err = _raises(C.check_function, lambda x: 2 * x + 0.5, _square, TWO_CASES, name="square", mistakes=doubled)
    assert err.hint is None


def test_a_mistake_that_is_right_within_the_check_tolerance_is_not_the_diagnosis():
    # with the check's rtol 1e-3: the "wrong" function is 0.9e-3 off (right), the student 1.8e-3 off
    # (wrong) and 0.9e-3 from the "wrong" function: the hint would blame a right answer
    near = [C.Mistake("near", lambda x: x * x * (1 + 0.9e-3))]
    err = _raises(C.check_function, lambda x: x * x * (1 + 1.8e-3), _square, TWO_CASES, name="square",
                  rtol=1e-3, mistakes=near)
    assert err.hint is None
    # the same with an absolute tolerance
    near = [C.Mistake("near", lambda x: x * x + 0.9e-3)]
    err = _raises(C.check_function, lambda x: x * x + 1.8e-3, _square, TWO_CASES, name="square",
                  rtol=0, atol=1e-3, mistakes=near)
    assert err.hint is None


def test_the_check_tolerances_reach_the_diagnosis():
    # the student is 0.05 % off a clearly wrong function: within the check's rtol 1e-3, so the hint applies
    off = [C.Mistake("one percent off", lambda x: x * x * 1.01)]
    err = _raises(C.check_function, lambda x: x * x * 1.01 * (1 + 5e-4), _square, TWO_CASES, name="square",
                  rtol=1e-3, mistakes=off)
    assert err.hint == "one percent off"
    # 5e-3 off a function that adds 0.1: within the check's atol 1e-2
    plus = [C.Mistake("added 0.1", lambda x: x * x + 0.1)]
    err = _raises(C.check_function, lambda x: x * x + 0.105, _square, TWO_CASES, name="square",
                  rtol=0, atol=1e-2, mistakes=plus)
    assert err.hint == "added 0.1"


def test_diagnose_defaults_no_student_and_a_crashing_mistake():
    case = {"x": torch.tensor([2.0], dtype=torch.float64)}
    expected = torch.tensor([4.0], dtype=torch.float64)
    plus_half = C.Mistake("you added a half", lambda x: x * x + 0.5)
    assert C.diagnose([plus_half], case, torch.tensor([4.5], dtype=torch.float64), expected) == "you added a half"
    # without the student's function the other cases cannot be checked: the failing case decides
    other = {"x": torch.tensor([3.0], dtype=torch.float64)}
    assert C.diagnose([plus_half], case, torch.tensor([4.5], dtype=torch.float64), expected,
                      cases=[case, other]) == "you added a half"
    crash = C.Mistake("crash", lambda x: x @ torch.zeros(5, 5, dtype=torch.float64))
    assert C.diagnose([crash, plus_half], case, torch.tensor([4.5], dtype=torch.float64), expected) \
        == "you added a half"


# ----------------------------------------------------------------- a student's function that raises


def test_a_crash_gets_the_hint_of_its_message_the_exercise_hints_first():
    def item_on_a_batch(x):
        return x * x.item()

    err = _raises(C.check_function, item_on_a_batch, _square, TWO_CASES, name="square")
    assert err.message == ("square, case 'three points': your function raised RuntimeError: a Tensor with 3 "
                           "elements cannot be converted to Scalar")
    assert err.hint == C.RAISED_HINTS[0][1]
    err = _raises(C.check_function, item_on_a_batch, _square, TWO_CASES, name="square",
                  raised_hints=[("converted to Scalar", "keep the batch")])
    assert err.hint == "keep the batch"
    # a message no hint knows: no hint
    err = _raises(C.check_function, lambda x: x @ torch.zeros(5, 5), _square, TWO_CASES, name="square")
    assert err.hint is None


def test_your_line_of_code_without_a_source_is_none():
    assert C.your_line(ValueError("never raised")) is None
    namespace = {"torch": torch}
    exec(compile("def crash(x):\n    return x @ torch.zeros(5, 5)\n", "<cell without source>", "exec"), namespace)
    err = _raises(C.check_function, namespace["crash"], _square, TWO_CASES, name="square")
    assert err.your_line is None and "in your code" not in str(err)


# ----------------------------------------------------------------- gradients and messages


def test_gradients_with_plain_arguments_and_inputs_named_by_describe():
    def power(x, p):
        return x**p

    C.compare_gradients(power, power, {"x": X, "p": 2}, wrt=["x"])

    def wrong(x, p):
        return x**p + (x - x.detach())

    msg = str(_raises(C.compare_gradients, wrong, power, {"x": X, "p": 2}, wrt=["x"], name="f",
                      describe=lambda k, i: f"{k}[{i[0]}]"))
    assert msg.startswith("at x[0]: the gradient of f w.r.t. 'x' is ")
    msg = str(_raises(C.check_function, wrong, power, [("k", {"x": X, "p": 2})], name="power",
                      wrt=["x"]))
    assert msg.startswith("power, case 'k' (p=2): at index (0,): the gradient of your output w.r.t. 'x'")


def test_check_function_names_what_differs_to_describe():
    def describe(case, what, index):
        return f"{what}[{index[0]}]"

    msg = str(_raises(C.check_function, lambda x: x * x + 1, _square, TWO_CASES, name="square",
                      describe=describe))
    assert msg.startswith("square, case 'three points': at output[0]: your output is 1.25")
    msg = str(_raises(C.check_function, lambda x: x * x + (x - x.detach()), _square, TWO_CASES, name="square",
                      wrt=["x"], describe=describe))
    assert msg.startswith("square, case 'three points': at x[0]: the gradient")
    msg = str(_raises(C.check_function, lambda x, p, q: x + 1, lambda x, p, q: x,
                      [("k", {"x": X, "p": 2, "q": 3})], name="f"))
    assert msg.startswith("f, case 'k' (p=2, q=3): at index (0,): your output is 1.5")


def test_gradient_tolerances_at_least_1e_5_absolute_and_the_check_tolerances_reach_them():
    def zero(x):
        return x * 0.0

    def tiny(x):  # gradient 2e-6·g where the reference's is 0: within atol 1e-5
        return x * 0.0 + 2e-6 * (x - x.detach())

    C.compare_gradients(tiny, zero, {"x": X}, wrt=["x"], rtol=0, atol=0)
    # the check's own tolerances reach the gradient comparison
    off = [("small", {"x": torch.tensor([1.0, 2.0], dtype=torch.float64)})]

    def grad_off(x):  # values right, gradient 0.5 % off
        return x * x + 0.01 * (x - x.detach())

    with pytest.raises(C.CheckError):
        C.check_function(grad_off, _square, off, name="square", wrt=["x"])
    assert C.check_function(grad_off, _square, off, name="square", wrt=["x"], rtol=1e-2, verbose=False)
    at_zero = [("zero", {"x": torch.zeros(2, dtype=torch.float64)})]

    def grad_off_at_zero(x):
        return x * x + 1e-3 * (x - x.detach())

    with pytest.raises(C.CheckError):
        C.check_function(grad_off_at_zero, _square, at_zero, name="square", wrt=["x"], rtol=0)
    assert C.check_function(grad_off_at_zero, _square, at_zero, name="square", wrt=["x"], rtol=0, atol=1e-2,
                            verbose=False)


# ----------------------------------------------------------------- open exercises


def test_not_written_yet_prints_by_default(capsys):
    assert C.not_written_yet("warp") is False
    assert capsys.readouterr().out == ("… warp is not implemented yet: write its body in the exercise cell "
                                       "above, run that cell, then this one again.\n")
    assert C.not_written_yet("warp", before="✓ part 1; ", verbose=True) is False
    assert capsys.readouterr().out.startswith("✓ part 1; … warp is not implemented yet")
    assert C.not_written_yet("warp", verbose=False) is False
    assert capsys.readouterr().out == ""


def test_require_done_fails_unless_the_check_returned_true():
    C.require_done(True, "warp")
    for result in (False, None, 1):
        err = _raises(C.require_done, result, "warp")
        assert err.message == "warp is not written yet: this check scores 0 until it is"
        assert err.hint == "write the code of the exercise cell above, run it, then this cell"
