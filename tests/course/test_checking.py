"""The generic checking machinery: messages by input, hints of known mistakes, one-message errors."""

import sys
from pathlib import Path

import pytest
import torch

from stnlib.course import checking as checks

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nbtools  # noqa: E402


def test_compare_tensors_names_shape_dtype_and_the_first_index():
    e = torch.zeros(2, 4, 6)
    checks.compare_tensors(e + 1e-9, e)
    with pytest.raises(checks.CheckError, match=r"has shape \(4, 6\), expected \(2, 4, 6\) "
                                                r"\(the batch axis N is missing\)"):
        checks.compare_tensors(e[0], e)
    with pytest.raises(checks.CheckError, match="a reshape or transpose"):
        checks.compare_tensors(e.reshape(2, 6, 4), e)
    with pytest.raises(checks.CheckError, match="dtype torch.int64"):
        checks.compare_tensors(e.long(), e)
    with pytest.raises(checks.CheckError, match="must be a torch.Tensor, got list"):
        checks.compare_tensors([0.0], e)
    a = e.clone()
    a[1, 0, 0] = 0.1
    a[0, 3, 5] = 0.25
    with pytest.raises(checks.CheckError) as err:
        checks.compare_tensors(a, e, name="output")
    assert str(err.value) == "at index (0, 3, 5): output is 0.25, expected 0 (2 of 48 entries differ)"
    with pytest.raises(checks.CheckError) as err:
        checks.compare_tensors(a, e, describe=lambda i: f"pixel {i[1:]} of image {i[0]}")
    assert str(err.value).startswith("at pixel (3, 5) of image 0: output is 0.25")
    with pytest.raises(checks.CheckError) as err:  # describe may give up: the index is the fallback
        checks.compare_tensors(a, e, describe=lambda i: None)
    assert str(err.value).startswith("at index (0, 3, 5):")
    a[0, 1, 1] = float("nan")
    with pytest.raises(checks.CheckError, match=r"index \(0, 1, 1\): output is nan"):
        checks.compare_tensors(a, e)
    checks.compare_tensors(torch.tensor([float("nan")]), torch.tensor([float("nan")]))


def square(x):
    return x * x


def test_check_function_describes_the_input_and_gives_the_hint_of_the_mistake(capsys):
    x = torch.tensor([0.5, -2.0, 3.0])
    cases = [("three points", {"x": x}, lambda case, what, i: f"x = {case['x'][i].item():g}")]
    mistakes = [checks.Mistake("you doubled x instead of squaring it", lambda x: 2 * x),
                checks.Mistake("the square of a negative number is positive",
                               test=lambda case, actual, expected: bool((actual < 0).any()))]
    assert checks.check_function(square, square, cases, name="square", wrt=("x",))
    assert capsys.readouterr().out == ("✓ square is correct (values and gradients match the "
                                       "reference on 1 cases)\n")
    with pytest.raises(checks.CheckError) as err:
        checks.check_function(lambda x: 2 * x, square, cases, name="square", mistakes=mistakes)
    assert err.value.message == ("square, case 'three points': at x = 0.5: your output is 1, "
                                 "expected 0.25 (3 of 3 entries differ)")
    assert err.value.hint == "you doubled x instead of squaring it"
    assert str(err.value).endswith("\nHint: you doubled x instead of squaring it")
    with pytest.raises(checks.CheckError) as err:
        checks.check_function(lambda x: x * x.abs(), square, cases, name="square",
                              mistakes=mistakes)
    assert err.value.message.startswith("square, case 'three points': at x = -2: your output is -4")
    assert err.value.hint == "the square of a negative number is positive"
    with pytest.raises(checks.CheckError) as err:  # no known mistake: no hint
        checks.check_function(lambda x: x + 10, square, cases, name="square", mistakes=mistakes)
    assert err.value.hint is None and "Hint" not in str(err.value)
    with pytest.raises(checks.CheckError) as err:  # gradients name the input too
        checks.check_function(lambda x: x * x.detach(), square, cases, name="square", wrt=("x",))
    assert err.value.message.startswith("square, case 'three points': at x = 0.5: the gradient "
                                        "of your output w.r.t. 'x' is 0.770498, expected 1.541")


def test_a_mistake_must_explain_every_case_not_only_the_failing_one():
    cases = [("one", {"x": torch.tensor([1.0])}), ("three", {"x": torch.tensor([3.0])})]
    doubled = [checks.Mistake("you doubled x", lambda x: 2 * x)]

    def odd(x):  # 2x at 1, where it fails first, but not at 3
        return torch.where(x == 1, 2 * x, x + 1)

    with pytest.raises(checks.CheckError) as err:
        checks.check_function(odd, square, cases, name="square", mistakes=doubled)
    assert "case 'one'" in err.value.message and err.value.hint is None
    with pytest.raises(checks.CheckError) as err:
        checks.check_function(lambda x: 2 * x, square, cases, name="square", mistakes=doubled)
    assert err.value.hint == "you doubled x"


def test_not_implemented_prints_one_line_and_returns_false(capsys):
    def todo(x):
        raise NotImplementedError

    assert checks.check_function(todo, square, [("one", {"x": torch.ones(1)})], name="sq") is False
    assert capsys.readouterr().out == ("… sq is not implemented yet: write its body in the exercise "
                                       "cell above, run that cell, then this one again.\n")


def test_an_error_in_the_student_code_names_its_line():
    def crash(x):
        return x @ torch.zeros(5, 5)

    with pytest.raises(checks.CheckError) as err:
        checks.check_function(crash, square, [("one", {"x": torch.ones(3)})], name="square")
    assert err.value.message.startswith("square, case 'one': your function raised RuntimeError: ")
    line = crash.__code__.co_firstlineno + 1
    assert err.value.your_line == f"line {line}: return x @ torch.zeros(5, 5)"
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_render_traceback_is_the_message_alone():
    err = checks.CheckError("square, case 'one': at x = 2: your output is 4, expected 5",
                            hint="add one")
    assert err._render_traceback_() == ["✗ square, case 'one': at x = 2: your output is 4, "
                                        "expected 5", "Hint: add one"]
    assert isinstance(err, AssertionError)


def test_a_failed_check_shows_one_message_in_a_real_kernel(tmp_path):
    """In Jupyter, a failed check cell's error output is the message, without a traceback."""
    nbclient = pytest.importorskip("nbclient")
    nb = nbtools.notebook(
        nbtools.code("from stnlib.lessons import l01_sampling_kernels as L\n"
                     "import torch\n"
                     "from stnlib.kernels import bilinear_derivative"),
        nbtools.code("def bilinear_kernel(d):\n    return 1 - d.abs()"),
        nbtools.code("ok = L.check_bilinear_kernel(bilinear_kernel, bilinear_derivative)"),
    )
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}},
                                     allow_errors=True)
    client.execute()
    errors = [o for o in nb.cells[2].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "CheckError"
    assert errors[0].traceback == [
        "✗ bilinear_kernel, case 'd across the kinks': at d = -2.5: your kernel is -1.5, "
        "expected 0 (4 of 13 entries differ)",
        "Hint: k(d) = max(0, 1 − |d|): without the max(0, ·) the kernel goes negative for "
        "|d| > 1 (clamp_min(0) or torch.relu keeps it at 0 there)"]
    assert not [o for o in nb.cells[2].outputs if o.output_type == "stream"]
