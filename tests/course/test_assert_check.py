"""The shared test of exercise checks (tests/checks.py) and the one "not written yet" answer
(checking.not_written_yet): a check that keeps the contract passes, one that breaks it is caught."""

import re

import pytest
import torch
from checks import assert_check

from stnlib.course import checking as C

CASES = [("small", {"x": torch.tensor([1.0, -2.0, 0.5])})]
DOUBLED = [C.Mistake("you doubled x instead of squaring it", lambda x: 2 * x)]


def square(x):
    return x * x


def check_square(student, *, verbose=True):
    return C.check_function(student, square, CASES, name="square", verbose=verbose,
                            mistakes=DOUBLED)


def test_not_written_yet_is_one_line_and_false(capsys):
    assert C.not_written_yet("warp") is False
    assert capsys.readouterr().out == ("… warp is not implemented yet: write its body in the exercise "
                                       "cell above, run that cell, then this one again.\n")
    assert C.not_written_yet("b", before="✓ a is correct; ") is False
    assert capsys.readouterr().out.startswith("✓ a is correct; … b is not implemented yet: ")
    assert C.not_written_yet("warp", verbose=False) is False
    assert capsys.readouterr().out == ""


def test_a_check_that_keeps_the_contract_passes():
    run = assert_check(check_square, square, name="square", mistakes=[
        (lambda x: 2 * x, "Hint: you doubled x"),
        (lambda x: x * x + 1, None),
        (lambda x: x[0], re.compile(r"has shape \(\), expected \(3,\)")),
    ])
    assert run.passed == "✓ square is correct (values match the reference on 1 cases)\n"
    assert run.open.startswith("… square is not implemented yet")
    assert run.errors[1].message == ("square, case 'small': at index (0,): your output is 2, "
                                     "expected 1 (3 of 3 entries differ)")


@pytest.mark.parametrize("mistakes, says", [
    ([(lambda x: 2 * x, "Hint: you tripled x")], "not in"),  # the wrong hint
    ([(lambda x: 2 * x, None)], "no hint expected"),  # a hint where none is expected
    ([(lambda x: x * x + 1, "Hint:")], "not in"),  # no hint where one is expected
    ([(lambda x: x * x + 1, re.compile("doubled"))], "not found"),
    ([(square, "Hint: you doubled x")], "DID NOT RAISE"),  # a right answer is no mistake
])
def test_a_mistake_the_check_does_not_name_is_caught(mistakes, says):
    with pytest.raises((AssertionError, pytest.fail.Exception), match=says):
        assert_check(check_square, square, name="square", mistakes=mistakes)


def check_that_lets_the_stub_raise(student, *, verbose=True):
    student(torch.ones(1))
    return check_square(student, verbose=verbose)


def check_with_its_own_open_message(student, *, verbose=True):
    try:
        student(torch.ones(1))
    except NotImplementedError:
        if verbose:
            print("square: not done\nwrite it above")
        return False
    return check_square(student, verbose=verbose)


def check_that_prints_on_failure(student, *, verbose=True):
    print("checking…")
    return check_square(student, verbose=verbose)


@pytest.mark.parametrize("check, says", [
    (check_that_lets_the_stub_raise, "Exercise: write this part"),  # NotImplementedError escapes
    (check_with_its_own_open_message, "one line"),
    (check_that_prints_on_failure, "one line"),
])
def test_a_check_that_breaks_the_protocol_is_caught(check, says):
    with pytest.raises((AssertionError, NotImplementedError), match=says):
        assert_check(check, square, name="square", mistakes=[(lambda x: 2 * x, "Hint:")])
