import nbformat
import pytest
from nbtools import code, markdown, notebook, write

from stnlib.course import notebooks
from stnlib.course.cli import main

SOLUTION = '''import torch


def rotation(angle):
    """θ (2×3) that turns the picture by ``angle`` radians."""
    c, s = torch.cos(angle), torch.sin(angle)
    ### BEGIN SOLUTION
    return torch.stack([torch.stack([c, -s, 0 * c]), torch.stack([s, c, 0 * c])])
    ### END SOLUTION


print("defined")'''


def solution_notebook():
    return notebook(
        markdown("# Lesson 99"),
        code("BUDGET = None", "parameters"),
        code(SOLUTION),
        code("# Exercise 2: make x the answer.\n# (one line)\nx = 42", "solution"),
        markdown("Why? Because.", "solution"),
        code("print('teacher only')", "teacher"),
        code("print(x)"),
    )


def test_markers_become_a_stub_keeping_signature_and_docstring():
    out = notebooks.strip_solution(SOLUTION)
    assert '"""θ (2×3) that turns the picture by ``angle`` radians."""' in out
    assert "    c, s = torch.cos(angle), torch.sin(angle)" in out
    assert ('    raise NotImplementedError("Exercise: complete `rotation`, then delete this line.")'
            in out)
    assert "torch.stack" not in out and "SOLUTION" not in out
    assert out.rstrip().endswith('print("defined")')


@pytest.mark.parametrize("source, match", [
    ("### BEGIN SOLUTION\nx = 1", "BEGIN SOLUTION without"),
    ("x = 1\n### END SOLUTION", "END SOLUTION without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_unbalanced_markers_are_reported_with_place(source, match):
    with pytest.raises(notebooks.MarkerError, match=match):
        notebooks.strip_solution(source, where="99_x.ipynb, cell 3")


def test_make_lesson_strips_solutions_outputs_and_teacher_cells():
    nb = solution_notebook()
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="defined\n")]
    nb.cells[2].execution_count = 3
    nb.cells[2].metadata["papermill"] = {"duration": 1.0}
    nb.metadata["papermill"] = {"parameters": {}}
    lesson = notebooks.make_lesson(nb)
    sources = [c.source for c in lesson.cells]
    assert not any("teacher only" in s for s in sources)
    assert len(lesson.cells) == len(nb.cells) - 1
    ex1, ex2, answer = lesson.cells[2], lesson.cells[3], lesson.cells[4]
    assert ex1.outputs == [] and ex1.execution_count is None and "papermill" not in ex1.metadata
    assert ex1.metadata["tags"] == ["raises-exception"]
    assert ex2.source.splitlines() == [
        "# Exercise 2: make x the answer.", "# (one line)",
        'raise NotImplementedError("Exercise: write this part, then delete this line.")']
    assert ex2.metadata["tags"] == ["raises-exception"]
    assert answer.source == "*Your answer here.*" and "tags" not in answer.metadata
    assert lesson.cells[1].metadata["tags"] == ["parameters"]
    assert set(lesson.metadata) == {"kernelspec", "language_info"}
    assert nb.cells[2].outputs, "the solution notebook itself is not modified"


def test_make_lessons_writes_then_check_passes_and_detects_drift(tmp_path, capsys):
    sol, les = tmp_path / "solutions", tmp_path / "lessons"
    write(sol / "99_demo.ipynb", solution_notebook())
    args = ["--solutions", str(sol), "--lessons", str(les)]
    assert main(["make-lessons", "--check", *args]) == 1
    assert "99_demo.ipynb: missing" in capsys.readouterr().err
    assert main(["make-lessons", *args]) == 0
    assert main(["make-lessons", "--check", *args]) == 0
    # an edit in the solution makes the lesson stale
    nb = solution_notebook()
    nb.cells[-1].source = "print(x + 1)"
    write(sol / "99_demo.ipynb", nb)
    assert main(["make-lessons", "--check", *args]) == 1
    assert "99_demo.ipynb: out of date" in capsys.readouterr().err
    # a lesson without a solution is stale too
    main(["make-lessons", *args])
    write(les / "98_orphan.ipynb", notebook())
    assert main(["make-lessons", "--check", *args]) == 1
    assert "98_orphan.ipynb: no solutions/98_orphan.ipynb" in capsys.readouterr().err


def test_markers_in_markdown_are_an_error(tmp_path, capsys):
    sol = tmp_path / "solutions"
    write(sol / "97_bad.ipynb", notebook(markdown("### BEGIN SOLUTION\nanswer\n### END SOLUTION")))
    assert main(["make-lessons", "--solutions", str(sol), "--lessons", str(tmp_path / "l")]) == 2
    assert "97_bad.ipynb, cell 0: solution markers only work in code cells" in (
        capsys.readouterr().err)
