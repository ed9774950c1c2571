from pathlib import Path

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


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


def figure_output(png=PNG):
    return nbformat.v4.new_output("display_data", data={"image/png": png,
                                                        "text/plain": "<Figure>"})


def test_every_stored_figure_becomes_an_example_output_attachment():
    nb = notebook(
        markdown("# Lesson 99"),
        code("def draw(x):\n    ### BEGIN SOLUTION\n    plt.plot(x)\n    ### END SOLUTION\n\n"
             "draw([1, 2])"),
        code("ok = L.check_draw(draw)"),
        code("draw([3, 4])  # draws with the student's function"),
        code("plt.plot([5])  # draws with the library"),
        code("def other(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"),
    )
    nb.cells[1].outputs = [figure_output(), figure_output(PNG[::-1])]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="✓\n")]
    nb.cells[3].outputs = [figure_output()]
    nb.cells[4].outputs = [figure_output()]
    lesson = notebooks.make_lesson(nb, name="99_x.ipynb")
    nbformat.validate(lesson)
    kinds = [(c.cell_type, c.source.splitlines()[0]) for c in lesson.cells]
    assert kinds == [("markdown", "# Lesson 99"), ("code", "def draw(x):"),
                     ("markdown", notebooks.EXAMPLE_OUTPUT), ("code", "ok = L.check_draw(draw)"),
                     ("code", "draw([3, 4])  # draws with the student's function"),
                     ("markdown", notebooks.EXAMPLE_OUTPUT),
                     ("code", "plt.plot([5])  # draws with the library"),
                     ("markdown", notebooks.EXAMPLE_OUTPUT),
                     ("code", "def other(x):")]
    first = lesson.cells[2]
    assert first.attachments == {"cell1_1.png": {"image/png": PNG},
                                 "cell1_2.png": {"image/png": PNG[::-1]}}
    assert "![example output](attachment:cell1_1.png)" in first.source
    assert "![example output](attachment:cell1_2.png)" in first.source
    assert lesson.cells[5].attachments == {"cell3_1.png": {"image/png": PNG}}
    assert lesson.cells[7].attachments == {"cell4_1.png": {"image/png": PNG}}
    assert all(c.outputs == [] for c in lesson.cells if c.cell_type == "code")
    # the same solution gives the same text (ids are deterministic)
    assert notebooks.render(lesson) == notebooks.render(notebooks.make_lesson(nb, name="99_x.ipynb"))


def test_the_stored_outputs_note_is_rewritten_for_the_student_copy():
    note = ("# Lesson 99\n\n> The outputs stored in this notebook come from a **`standard`** "
            "run.\n> With smoke it is fast.")
    nb = notebook(markdown(note, notebooks.STORED_NOTE_TAG), code("x = 1"))
    lesson = notebooks.make_lesson(nb, name="99_x.ipynb")
    assert lesson.cells[0].source == (
        "# Lesson 99\n\n> This student copy has no stored outputs (run it to see them); the "
        "outputs stored in its solution, `solutions/99_x.ipynb`, come from a **`standard`** run."
        "\n> With smoke it is fast.")
    assert "tags" not in lesson.cells[0].metadata
    with pytest.raises(notebooks.MarkerError, match="would be false in the student copy"):
        notebooks.make_lesson(notebook(markdown(note)), name="99_x.ipynb")
    with pytest.raises(notebooks.MarkerError, match="has no \"The outputs stored"):
        notebooks.make_lesson(notebook(markdown("# hi", notebooks.STORED_NOTE_TAG)), name="9.ipynb")


SOLUTIONS = sorted((Path(__file__).resolve().parents[2] / "solutions").glob(notebooks.NOTEBOOK_GLOB))


def _stored_pngs(nb):
    return [png if isinstance(png, str) else "".join(png)
            for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            for png in [o.get("data", {}).get("image/png")] if png]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name[:2])
def test_every_figure_of_the_solution_is_in_the_student_copy(path):
    """The course's rule: a student copy shows, as the expected output, every figure the solution draws."""
    solution = nbformat.read(path, as_version=4)
    lesson = notebooks.make_lesson(solution, name=path.name)
    shown = [a["image/png"] for c in lesson.cells if c.cell_type == "markdown"
             for a in c.get("attachments", {}).values()]
    stored = [png.replace("\n", "") for png in _stored_pngs(solution)]
    assert shown == stored, (f"{path.name}: {len(stored)} stored figures, {len(shown)} shown, "
                             f"{sum(p not in shown for p in stored)} missing")
    for index, cell in enumerate(lesson.cells):  # each right after the cell that draws it
        if cell.get("attachments"):
            assert lesson.cells[index - 1].cell_type == "code", f"{path.name}, cell {index}"


def test_language_info_is_what_the_kernel_reports_so_a_fresh_lesson_is_not_unsaved():
    """JupyterLab writes its kernel's ``language_info`` into the notebook it opens; when the stored
    one differs the tab opens marked unsaved (a lesson stored only ``{"name": "python"}``)."""
    from ipykernel.ipkernel import IPythonKernel

    lesson = notebooks.make_lesson(solution_notebook())
    info = dict(lesson.metadata["language_info"])
    kernel = dict(IPythonKernel.language_info)
    assert info.pop("version").count(".") == 2 and kernel.pop("version")
    assert info == kernel
    text = notebooks.render(lesson)
    assert text.endswith("}\n") and '"nbformat_minor": 5' in text
    assert all(c.get("id") for c in lesson.cells), "JupyterLab adds missing cell ids (a change)"
