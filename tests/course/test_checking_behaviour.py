"""The checking helpers fed a right and a wrong answer: tolerances at their edge, every message, the order
of checks, and what check_function prints."""

import pytest
import torch

from stnlib.course import checking as C


def _error(fn, *args, **kwargs):
    with pytest.raises(C.CheckError) as err:
        fn(*args, **kwargs)
    return str(err.value)


def test_tolerance_is_atol_plus_rtol_times_the_expected_value():
    e = torch.tensor([4.0, 0.0], dtype=torch.float64)
    C.compare_tensors(e + torch.tensor([0.5, 0.25], dtype=torch.float64), e, rtol=0.0625, atol=0.25)  # at the edge
    assert _error(C.compare_tensors, e + torch.tensor([0.5, 0.375], dtype=torch.float64), e,
                  rtol=0.0625, atol=0.25) == \
        "at index (1,): output is 0.375, expected 0 (1 of 2 entries differ)"
    assert _error(C.compare_tensors, e + torch.tensor([0.625, 0.0], dtype=torch.float64), e,
                  rtol=0.0625, atol=0.25) == \
        "at index (0,): output is 4.625, expected 4 (1 of 2 entries differ)"
    # the defaults: rtol 1e-5, atol 1e-6
    C.compare_tensors(torch.tensor([1.0 + 5e-6]), torch.tensor([1.0]))
    with pytest.raises(C.CheckError):
        C.compare_tensors(torch.tensor([1.0 + 5e-5]), torch.tensor([1.0]))


def test_the_first_differing_entry_is_named_and_the_others_counted():
    e = torch.zeros(3, 4)
    a = e.clone()
    a[0, 1], a[2, 3], a[1, 2] = 0.5, -2.0, 1.0
    assert _error(C.compare_tensors, a, e, name="V") == \
        "at index (0, 1): V is 0.5, expected 0 (3 of 12 entries differ)"
    # described by its input where the check knows it
    assert _error(C.compare_tensors, a, e, name="V", describe=lambda where: f"pixel {where}") == \
        "at pixel (0, 1): V is 0.5, expected 0 (3 of 12 entries differ)"


def test_nan_matches_only_nan():
    e = torch.tensor([float("nan"), 1.0])
    C.compare_tensors(e.clone(), e)
    assert _error(C.compare_tensors, torch.tensor([0.0, 1.0]), e) == \
        "at index (0,): output is 0, expected nan (1 of 2 entries differ)"
    assert _error(C.compare_tensors, torch.tensor([float("nan"), 1.0, 3.0])[:2] * torch.tensor([1.0, 2.0]), e) \
        == "at index (1,): output is 2, expected 1 (1 of 2 entries differ)"


def test_a_scalar_has_no_index():
    assert _error(C.compare_tensors, torch.tensor(2.0), torch.tensor(1.0), name="loss") == \
        "loss is 2, expected 1"


def test_type_shape_and_dtype_messages():
    e = torch.zeros(2, 3)
    assert _error(C.compare_tensors, [0.0], e) == \
        "output must be a torch.Tensor, got list (use torch.tensor / torch.stack, not a list)"
    assert _error(C.compare_tensors, (0.0,), e) == \
        "output must be a torch.Tensor, got tuple (use torch.tensor / torch.stack, not a list)"
    assert _error(C.compare_tensors, 0.0, e, name="k") == "k must be a torch.Tensor, got float"
    assert _error(C.compare_tensors, torch.zeros(4), e) == "output has shape (4,), expected (2, 3)"
    assert _error(C.compare_tensors, torch.zeros(3), torch.zeros(2, 3)) == "output has shape (3,), expected (2, 3) " \
        "(the batch axis N is missing)"
    assert _error(C.compare_tensors, torch.zeros(3, 2), e) == \
        "output has shape (3, 2), expected (2, 3) (same number of entries: a reshape or transpose is off)"
    assert _error(C.compare_tensors, torch.zeros(1, 2, 3), e) == "output has shape (1, 2, 3), expected (2, 3) " \
        "(same number of entries: a reshape or transpose is off)"
    assert _error(C.compare_tensors, torch.zeros(2, 3, dtype=torch.int32), e) == \
        "output has dtype torch.int32, expected a floating dtype like torch.float32"
    C.compare_tensors(torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.int64))


def _square(x):
    return x * x


def test_compare_gradients_names_the_input_whose_gradient_is_wrong():
    x = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    y = torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64)
    C.compare_gradients(lambda x, y: x * y, lambda x, y: x * y, {"x": x, "y": y}, wrt=["x", "y"])

    def wrong_y(x, y):  # right value, ∂/∂y doubled
        return x * (2 * y - y.detach())

    msg = _error(C.compare_gradients, wrong_y, lambda x, y: x * y, {"x": x, "y": y}, wrt=["x", "y"], name="f")
    assert msg.startswith("at index (0,): the gradient of f w.r.t. 'y' is ")
    assert msg.endswith("(3 of 3 entries differ)")
    # only the inputs in wrt are compared
    C.compare_gradients(wrong_y, lambda x, y: x * y, {"x": x, "y": y}, wrt=["x"])
    assert _error(C.compare_gradients, lambda x, y: x.detach() * y.detach(), lambda x, y: x * y,
                  {"x": x, "y": y}, wrt=["x"], name="f") == (
        "no gradient flows from f back to x: the result is cut off the autograd graph\n"
        "Hint: " + C.CUT_GRAPH_HINT)
    assert _error(C.compare_gradients, lambda x, y: y * 2, lambda x, y: x * y, {"x": x, "y": y},
                  wrt=["x", "y"], name="f") == "no gradient reaches 'x' through f\nHint: " + C.CUT_GRAPH_HINT
    # an input the reference does not use may be unused by the student too
    C.compare_gradients(lambda x, y: y * 2, lambda x, y: y * 2, {"x": x, "y": y}, wrt=["x", "y"])
    with pytest.raises(RuntimeError, match=r"reference of f is not differentiable w.r.t. \['x'\]"):
        C.compare_gradients(_square, lambda x: x.detach(), {"x": x}, wrt=["x"], name="f")


def test_gradient_tolerance_is_at_least_1e_4_relative():
    x = torch.tensor([100.0], dtype=torch.float64)

    def close(x):  # gradient off by 5e-5 relative: accepted
        return x * x + (5e-5 * 200 / 2) * (x - x.detach()) * 1.0

    C.compare_gradients(close, _square, {"x": x}, wrt=["x"], rtol=0, atol=0)

    def off(x):  # gradient off by 1e-3 relative: rejected
        return x * x + 0.2 * (x - x.detach())

    with pytest.raises(C.CheckError, match="gradient of output"):
        C.compare_gradients(off, _square, {"x": x}, wrt=["x"], rtol=0, atol=0)


CASES = [("small", {"x": torch.tensor([1.0, 2.0])}), ("negative", {"x": torch.tensor([-3.0, 0.5])})]


def test_check_function_passes_a_right_answer_and_says_so(capsys):
    assert C.check_function(_square, _square, CASES, name="square") is True
    assert capsys.readouterr().out == "✓ square is correct (values match the reference on 2 cases)\n"
    assert C.check_function(_square, _square, CASES, name="square", wrt=["x"]) is True
    assert capsys.readouterr().out == "✓ square is correct (values and gradients match the reference on 2 cases)\n"
    assert C.check_function(_square, _square, CASES, name="square", verbose=False) is True
    assert capsys.readouterr().out == ""


def test_check_function_runs_every_case():
    def wrong_when_negative(x):
        return x * x.abs()

    assert _error(C.check_function, wrong_when_negative, _square, CASES, name="square") == (
        "square, case 'negative': at index (0,): your output is -9, expected 9 (1 of 2 entries differ)")


def test_values_of_every_case_come_before_any_gradient():
    def bad(x):  # wrong gradient everywhere, wrong value only in the second case
        y = x * x + (x - x.detach())
        return torch.where(x < 0, y + 1, y)

    msg = _error(C.check_function, bad, _square, CASES, name="square", wrt=["x"])
    assert msg.startswith("square, case 'negative': at index (0,): your output is 10")

    def bad_gradient(x):
        return x * x + (x - x.detach())

    assert _error(C.check_function, bad_gradient, _square, CASES, name="square", wrt=["x"]).startswith(
        "square, case 'small': ")


def test_gradients_of_every_case_are_compared_not_only_the_first():
    # issue 25: gradients were compared on the first case only. Values are right everywhere, and the
    # gradient is right in the first case and wrong in the second alone: the check must fail there.
    def wrong_gradient_when_negative(x):
        return x * x + torch.where(x < 0, x - x.detach(), torch.zeros_like(x))

    msg = _error(C.check_function, wrong_gradient_when_negative, _square, CASES, name="square", wrt=["x"])
    assert msg == ("square, case 'negative': at index (0,): the gradient of your output w.r.t. 'x' is "
                   f"{C._num(_grad_of_square_times_g(CASES[1][1]['x'], extra=1.0)[0])}, expected "
                   f"{C._num(_grad_of_square_times_g(CASES[1][1]['x'])[0])} (1 of 2 entries differ)")
    # and a third case, wrong alone, is reached too
    three = [*CASES, ("large", {"x": torch.tensor([10.0, 20.0])})]

    def wrong_gradient_when_large(x):
        return x * x + torch.where(x > 5, x - x.detach(), torch.zeros_like(x))

    assert _error(C.check_function, wrong_gradient_when_large, _square, three, name="square",
                  wrt=["x"]).startswith("square, case 'large': at index (0,): the gradient of your output")


def _grad_of_square_times_g(x, extra=0.0):
    """∂(Σ g ⊙ x²)/∂x (+ ``extra``·g) for compare_gradients' fixed g (seed 0)."""
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(0), dtype=x.dtype)
    return (2 * x * g + extra * g).tolist()


def test_check_function_tolerances_reach_the_comparison():
    def slightly_off(x):
        return x * x + 1e-3

    with pytest.raises(C.CheckError):
        C.check_function(slightly_off, _square, CASES, name="square")
    assert C.check_function(slightly_off, _square, CASES, name="square", atol=2e-3, verbose=False)
    assert C.check_function(slightly_off, _square, CASES, name="square", rtol=5e-3, atol=0, verbose=False)


def test_not_implemented_open_exercises_and_crashes(capsys):
    def todo(x):
        raise NotImplementedError

    assert C.check_function(todo, _square, CASES, name="square") is False
    assert capsys.readouterr().out == ("… square is not implemented yet: write its body in the exercise cell "
                                       "above, run that cell, then this one again.\n")
    assert C.check_function(todo, _square, CASES, name="square", verbose=False) is False
    assert capsys.readouterr().out == ""

    def crash(x):
        return x @ torch.zeros(3, 3)

    msg = _error(C.check_function, lambda x, p: crash(x), lambda x, p: x**p, [("k", {"x": torch.ones(2), "p": 2})],
                 name="square")
    assert msg.startswith("square, case 'k' (p=2): your function raised RuntimeError: ")
    with pytest.raises(TypeError) as err:
        C.check_function(None, _square, CASES, name="square")
    assert str(err.value) == "pass the function itself to the check, e.g. check(square), got NoneType"


def test_the_student_gets_a_copy_of_each_input():
    x = torch.tensor([1.0, 2.0])

    def vandal(x):
        y = x * x
        x.fill_(100.0)  # a student's in-place edit must not change the case (or the reference)
        return y

    assert C.check_function(vandal, _square, [("one", {"x": x}), ("again", {"x": x})], name="sq", verbose=False)
    assert x.tolist() == [1.0, 2.0]


def test_gradient_messages_for_several_inputs():
    x = torch.tensor([1.0, -2.0], dtype=torch.float64)
    y = torch.tensor([0.5, 3.0], dtype=torch.float64)
    assert _error(C.compare_gradients, lambda x, y: (x * y).detach(), lambda x, y: x * y, {"x": x, "y": y},
                  wrt=["x", "y"], name="f").startswith("no gradient flows from f back to x, y: ")

    def wrong_y(x, y):  # the reference ignores x; the student's ∂/∂y is doubled: must still be caught
        return 2 * y - y.detach()

    with pytest.raises(C.CheckError, match="w.r.t. 'y'"):
        C.compare_gradients(wrong_y, lambda x, y: y * 1.0, {"x": x, "y": y}, wrt=["x", "y"])
    with pytest.raises(TypeError, match=r"check\(square\), got int$"):
        C.check_function(3, _square, CASES, name="square")
