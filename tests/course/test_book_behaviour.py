"""The course website's sources and build, without Sphinx: pages written out, the build with a fake
sphinx-build (its command recorded), the atomic swap of the site, messages word for word."""

import argparse
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
from nbtools import code, markdown, notebook, write

from stnlib.course import book
from stnlib.course.book import BookError

# ---------------------------------------------------------------- MathJax and discovery


def _fake_mathjax(monkeypatch, tmp_path, *, complete=True):
    pkg = tmp_path / "site" / "mathjax"
    es5 = pkg / "static" / "mathjax" / "es5"
    es5.mkdir(parents=True)
    if complete:
        (es5 / "tex-chtml.js").write_text("js")
    for part in ("input", "output/chtml", "ui", "a11y", "adaptors", "unused"):
        (es5 / part).mkdir(parents=True)
        (es5 / part / "x.js").write_text(part)
    monkeypatch.setitem(sys.modules, "mathjax", types.SimpleNamespace(__file__=str(pkg / "__init__.py")))
    return es5


def test_mathjax_dir(monkeypatch, tmp_path):
    es5 = _fake_mathjax(monkeypatch, tmp_path)
    assert book.mathjax_dir() == es5


def test_mathjax_dir_errors(monkeypatch, tmp_path):
    es5 = _fake_mathjax(monkeypatch, tmp_path, complete=False)
    with pytest.raises(BookError, match=f"^{re.escape(f'{es5} has no tex-chtml.js: reinstall django-static-mathjax')}$"):
        book.mathjax_dir()
    (es5 / "tex-chtml.js").mkdir()
    with pytest.raises(BookError, match="has no tex-chtml.js"):
        book.mathjax_dir()
    monkeypatch.setitem(sys.modules, "mathjax", None)
    message = ("the book needs MathJax from PyPI: pip install django-static-mathjax "
               "(or pip install -e \".[dev]\")")
    with pytest.raises(BookError, match=f"^{re.escape(message)}$") as info:
        book.mathjax_dir()
    assert isinstance(info.value.__cause__, ImportError)


def test_discover(tmp_path):
    for n in ("05_b.ipynb", "00_a.ipynb", "x.ipynb", "1_c.ipynb"):
        (tmp_path / n).write_text("{}")
    assert book.discover(tmp_path) == [tmp_path / "00_a.ipynb", tmp_path / "05_b.ipynb"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BookError, match=f"^{re.escape(f'no lesson notebooks ([0-9][0-9]_*.ipynb) in {empty}')}$"):
        book.discover(empty)


# ---------------------------------------------------------------- pages


def test_lesson_summary_title_and_promise():
    nb = notebook(code("# Not a title\nx = 1"),
                  markdown("intro\n\n**The promise:** you   will\n  learn  a lot.\n\n**The promise:** second"),
                  markdown("## Sub\n\n#No space\n\n#  Lesson 05 —  Several objects  \nmore text\n\n# Second title"),
                  markdown("# Third"))
    assert book.lesson_summary(nb) == ("Lesson 05 —  Several objects", "you will learn a lot.")


def test_lesson_summary_stops_at_the_title_cell_and_defaults():
    nb = notebook(markdown("# Title"), markdown("**The promise:** later"))
    assert book.lesson_summary(nb) == ("Title", "")
    nb = notebook(markdown("# Title\n \n**The promise:** same cell"))
    assert book.lesson_summary(nb) == ("Title", "same cell")
    assert book.lesson_summary(notebook(markdown("**The promise:** p"), code("x"))) == ("(untitled)", "p")
    assert book.lesson_summary(notebook()) == ("(untitled)", "")


def test_open_locally_exact_with_and_without_student_copy():
    common_head = (":::{admonition} Open this lesson locally\n:class: tip\n\n"
                   "This page shows the solution with the outputs of its stored `standard` run; nothing was "
                   "executed to build it. To work through it yourself, from the repository root:\n\n"
                   "```bash\npython3 -m venv .venv && .venv/bin/pip install -e \".[dev]\"\n"
                   ".venv/bin/stn-course lab lessons/05_x.ipynb\n```\n\n")
    tail = (", or {download}`the solution </notebooks/solution/05_x.ipynb>` (`solutions/05_x.ipynb`). With "
            "`BUDGET = \"smoke\"` in its parameters cell the whole notebook runs in a minute or two on a "
            "laptop (its numbers then mean nothing).\n:::")
    assert book.open_locally("05_x.ipynb", has_student=True) == (
        common_head + "Download {download}`the student copy </notebooks/student/05_x.ipynb>` "
        "(`lessons/05_x.ipynb`: exercises to fill in, no outputs)" + tail)
    assert book.open_locally("05_x.ipynb", has_student=False) == (
        common_head + "Download the student copy (`lessons/05_x.ipynb`; not generated yet: "
        "`stn-course make-lessons`)" + tail)


def test_lesson_page_inserts_the_note_after_the_first_cell():
    nb = notebook(markdown("# T"), code("x"))
    before = nbformat.writes(nb)
    page = book.lesson_page(nb, name="05_x.ipynb", has_student=False)
    assert nbformat.writes(nb) == before
    assert [c.source for c in page.cells] == ["# T", book.open_locally("05_x.ipynb", has_student=False), "x"]
    assert page.cells[1].cell_type == "markdown" and page.cells[1].id == "stn-book-open-locally"
    nbformat.validate(page)


ENTRIES = [
    {"lesson": "05", "key": "error a|b", "value": 0.123456, "std": 0.01, "paper": 0.2, "unit": "%",
     "budget": "standard", "seeds": [0, 1], "higher_is_better": False},
    {"lesson": "05", "key": "acc", "value": 97.0, "paper": None, "budget": "smoke", "values": [1, 2, 3],
     "higher_is_better": True, "note": "a note"},
    {"lesson": "05", "key": "t", "value": 2.0, "unit": "s", "budget": "full", "values": [2.0], "seeds": [],
     "note": "a note"},
]


def test_report_table_rows():
    assert book.report_table(ENTRIES) == [
        "| quantity | paper | ours | budget | seeds |", "|---|---|---|---|---|",
        "| error a\\|b ↓ | 0.2% | 0.123% ± 0.01 | standard | 0, 1 |",
        "| acc ↑ | – | 97 | smoke | n=3 |",
        "| t | – | 2 s | full | n=1 |"]
    assert book.report_table([]) == ["| quantity | paper | ours | budget | seeds |", "|---|---|---|---|---|"]


HEAD = ("# Replication report\n\nEvery number a lesson compares with a paper, as its run recorded it "
        "(`stnlib.course.record`), beside the paper's value (– where the paper gives none). ↓ lower is better, "
        "↑ higher is better; *ours* is the mean (± std) over the seeds. `stn-course report runs/<budget>` "
        "prints the same numbers for a run of your own.\n\n")
STANDARD_NOTE = ("`standard` runs are sized for a CPU (about 15 minutes a lesson): their numbers are close "
                 "enough to teach from, not the papers' protocols.\n\n")


def test_report_page_exact(tmp_path):
    std = tmp_path / "standard.json"
    rows = [*ENTRIES, {"lesson": "09", "key": "k", "value": 1.0, "budget": "standard", "values": [1.0]},
            {"lesson": "03", "key": "z", "value": 5.0, "budget": "standard", "values": [5.0]}]
    std.write_text(json.dumps({"schema": 1, "results": rows}))
    lessons = {"03_warp": ("Lesson 03", "p3"), "05_objects": ("Lesson 05", "p5")}
    text = book.report_page({"standard": std, "full": None, "smoke": tmp_path / "missing.json"}, lessons)
    table05 = "\n".join(book.report_table(ENTRIES))
    table03 = "\n".join(book.report_table(rows[-1:]))
    table09 = "\n".join(book.report_table(rows[3:4]))
    assert text == (
        HEAD + "## The `standard` run\n\n"
        f"### Lesson 03\n\nThe lesson: {{doc}}`lessons/03_warp`.\n\n{table03}\n\n"
        f"### Lesson 05\n\nThe lesson: {{doc}}`lessons/05_objects`.\n\n{table05}\n\n"
        "Notes:\n\n- rows \"acc\"; \"t\": a note\n\n"
        f"### lesson 09\n\n(no notebook in solutions/)\n\n{table09}\n\n"
        + STANDARD_NOTE
        + "## The `full` run\n\nNo `full` run's results are committed yet (`results/full.json`: "
        "`stn-course run --budget full`, then `stn-course store-outputs`).\n\n"
        "## The `smoke` run\n\nNo `smoke` run's results are committed yet (`results/smoke.json`: "
        "`stn-course run --budget smoke`, then `stn-course store-outputs`).\n\n")


def test_report_page_nothing_recorded(tmp_path):
    full = tmp_path / "full.json"
    full.write_text(json.dumps({"schema": 1, "results": []}))
    assert book.report_page({"full": full}, {}) == HEAD + "## The `full` run\n\nNothing recorded.\n\n"
    assert book.report_page({"standard": full}, {}) == (
        HEAD + "## The `standard` run\n\nNothing recorded.\n\n" + STANDARD_NOTE)
    assert book.report_page({}, {}) == HEAD


README = """# stn-course

A course on *Spatial Transformer Networks*,
two lines.

Second paragraph.

## Setup (quick)

pip it.

## References

- Jaderberg et al. 2015.
- Lin & Lucey 2017.

"""


def test_readme_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    assert book.readme_section(readme, "References") == "- Jaderberg et al. 2015.\n- Lin & Lucey 2017."
    assert book.readme_section(readme, "Setup (quick)") == "pip it."
    assert book.references_page(readme) == "# References\n\n- Jaderberg et al. 2015.\n- Lin & Lucey 2017.\n"
    missing = f"{readme} has no '## Setup' section"
    with pytest.raises(BookError, match=f"^{re.escape(missing)}$"):
        book.readme_section(readme, "Setup")
    with pytest.raises(BookError, match="has no '## stn-course' section"):
        book.readme_section(readme, "stn-course")
    readme.write_text("## References\nx\n### Sub\ny\n## Next\nz", encoding="utf-8")
    assert book.readme_section(readme, "References") == "x\n### Sub\ny"
    readme.write_text("## References  \n\n  a  \n", encoding="utf-8")
    assert book.readme_section(readme, "References") == "a"


def test_landing_page(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    text = book.landing_page({"00_intro": ("Lesson 0", "see | it"), "05_obj": ("Lesson 5", "")}, readme)
    assert text.startswith("# stn-course\n\nA course on *Spatial Transformer Networks*,\ntwo lines.\n\n"
                           "Each lesson below is a Jupyter notebook")
    assert ("## The lessons\n\n| lesson | what you leave with |\n|---|---|\n"
            "| {doc}`Lesson 0 <lessons/00_intro>` | see \\| it |\n"
            "| {doc}`Lesson 5 <lessons/05_obj>` |  |\n\n## How to run the course") in text
    assert ("```{toctree}\n:hidden:\n:caption: Lessons\n\nlessons/00_intro\nlessons/05_obj\n```\n\n"
            "```{toctree}\n:hidden:\n:caption: The course\n\nreport\nreferences\n```\n") in text
    assert text.endswith("report\nreferences\n```\n")
    assert "{doc}`replication report <report>`" in text and "{{" not in text


# ---------------------------------------------------------------- staging and building


def _course(tmp_path, monkeypatch, *, full=False):
    root = tmp_path / "course"
    sol = root / "solutions"
    write(sol / "00_a.ipynb", notebook(markdown("# Lesson A\n\n**The promise:** pa"), code("x = 1")))
    write(sol / "05_b.ipynb", notebook(markdown("# Lesson B"), code("y = 2")))
    write(root / "lessons" / "00_a.ipynb", notebook(code("student")))
    (root / "README.md").write_text(README, encoding="utf-8")
    (root / "results").mkdir()
    (root / "results" / "standard.json").write_text(json.dumps({"schema": 1, "results": [
        {"lesson": "00", "key": "k", "value": 1.0, "budget": "standard", "values": [1.0]}]}))
    if full:
        (root / "results" / "full.json").write_text(json.dumps({"schema": 1, "results": []}))
    es5 = _fake_mathjax(monkeypatch, tmp_path)
    return root, es5


@pytest.mark.parametrize("full", [False, True])
def test_stage_writes_every_source(tmp_path, monkeypatch, full):
    root, es5 = _course(tmp_path, monkeypatch, full=full)
    src = tmp_path / "src"
    lessons = book.stage(src, root=root)
    assert lessons == {"00_a": ("Lesson A", "pa"), "05_b": ("Lesson B", "")}
    assert (src / "conf.py").read_text(encoding="utf-8") == book.CONF_PY.format(downloads="notebooks")
    assert 'exclude_patterns = ["notebooks/**", "_build", "**.ipynb_checkpoints"]' in (src / "conf.py").read_text()
    compile((src / "conf.py").read_text(), "conf.py", "exec")
    assert (src / "index.md").read_text(encoding="utf-8") == book.landing_page(lessons, root / "README.md")
    results = {"standard": root / "results" / "standard.json",
               "full": root / "results" / "full.json" if full else None}
    assert (src / "report.md").read_text(encoding="utf-8") == book.report_page(results, lessons)
    assert (src / "references.md").read_text(encoding="utf-8") == book.references_page(root / "README.md")
    for name, has_student in (("00_a.ipynb", True), ("05_b.ipynb", False)):
        page = nbformat.read(src / "lessons" / name, as_version=4)
        assert page.cells[1].source == book.open_locally(name, has_student=has_student)
        assert (src / "notebooks" / "solution" / name).read_bytes() == (root / "solutions" / name).read_bytes()
    assert sorted(p.name for p in (src / "notebooks" / "student").iterdir()) == ["00_a.ipynb"]
    assert (src / "notebooks" / "student" / "00_a.ipynb").read_bytes() == (
        root / "lessons" / "00_a.ipynb").read_bytes()
    mj = src / "_static" / "mathjax"
    assert sorted(str(p.relative_to(mj)) for p in mj.rglob("*") if p.is_file()) == [
        "a11y/x.js", "adaptors/x.js", "input/x.js", "output/chtml/x.js", "tex-chtml.js", "ui/x.js"]
    assert (mj / "tex-chtml.js").read_text() == "js"


def test_stage_without_lessons_fails_before_writing(tmp_path):
    (tmp_path / "solutions").mkdir()
    with pytest.raises(BookError, match="no lesson notebooks"):
        book.stage(tmp_path / "src", root=tmp_path)
    assert not (tmp_path / "src").exists()


class FakeSphinx:
    def __init__(self, returncode=0, stderr="", index="<html>new</html>"):
        self.calls = []
        self.returncode, self.stderr, self.index = returncode, stderr, index

    def __call__(self, cmd, **kwargs):
        self.calls.append((cmd, kwargs))
        src, html = Path(cmd[-2]), Path(cmd[-1])
        assert (src / "conf.py").is_file()
        html.mkdir(parents=True)
        (html / "index.html").write_text(self.index)
        return subprocess.CompletedProcess(cmd, self.returncode, stdout="",
                                           stderr=None if kwargs.get("capture_output") is False else self.stderr)


def test_build_book_runs_sphinx_quietly_and_writes_the_marker(tmp_path, monkeypatch):
    root, _ = _course(tmp_path, monkeypatch)
    sphinx = FakeSphinx()
    monkeypatch.setattr(book.subprocess, "run", sphinx)
    monkeypatch.setattr(book, "time", types.SimpleNamespace(strftime=lambda fmt: f"T[{fmt}]"))
    out = book.build_book(root=str(root))
    assert out == (root / "build" / "book").resolve()
    [(cmd, kwargs)] = sphinx.calls
    work = Path(kwargs["cwd"])
    assert work.parent == out.parent and work.name.startswith(".book.build-")
    assert cmd == [sys.executable, "-m", "sphinx", "-q", "-b", "html", "-E", "-n", "--keep-going",
                   "-d", str(work / "doctrees"), str(work / "src"), str(work / "html")]
    assert kwargs == {"capture_output": True, "text": True, "cwd": work}
    assert (out / "index.html").read_text() == "<html>new</html>"
    assert json.loads((out / book.MARKER).read_text()) == {"built": "T[%Y-%m-%dT%H:%M:%S]"}
    assert (out / book.MARKER).read_text().endswith("}\n")
    assert not (out / "build-warnings.txt").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["book"]  # the work folder is gone


def test_build_book_verbose_warnings_and_replacing_an_earlier_book(tmp_path, monkeypatch):
    root, _ = _course(tmp_path, monkeypatch)
    out = tmp_path / "web"
    out.mkdir()
    (out / book.MARKER).write_text("{}")
    (out / "stale.html").write_text("old")
    sphinx = FakeSphinx(stderr="  WARNING: a\nWARNING: b  \n")
    monkeypatch.setattr(book.subprocess, "run", sphinx)
    monkeypatch.setattr(book, "course_root", lambda: root)
    assert book.build_book(out) == out
    assert (out / "build-warnings.txt").read_text(encoding="utf-8") == "WARNING: a\nWARNING: b\n"
    assert not (out / "stale.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course", "site", "web"]  # no work or old folder left
    sphinx = FakeSphinx(stderr="ignored when verbose")
    monkeypatch.setattr(book.subprocess, "run", sphinx)
    book.build_book(out, root=root, verbose=True)
    cmd, kwargs = sphinx.calls[0]
    assert "-q" not in cmd and cmd[:4] == [sys.executable, "-m", "sphinx", "-b"]
    assert kwargs["capture_output"] is False
    assert not (out / "build-warnings.txt").exists()
    # an empty folder may be built into
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(book.subprocess, "run", FakeSphinx())
    assert book.build_book(empty, root=root) == empty and (empty / "index.html").exists()


def test_build_book_failure_keeps_the_previous_site(tmp_path, monkeypatch):
    root, _ = _course(tmp_path, monkeypatch)
    out = tmp_path / "web"
    out.mkdir()
    (out / book.MARKER).write_text("{}")
    (out / "index.html").write_text("old")
    monkeypatch.setattr(book.subprocess, "run", FakeSphinx(returncode=3, stderr="x" * 10 + "E" * 4000))
    with pytest.raises(BookError) as info:
        book.build_book(out, root=root)
    assert str(info.value) == "sphinx-build failed (exit 3):\n" + "E" * 4000
    assert (out / "index.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    monkeypatch.setattr(book.subprocess, "run", FakeSphinx(returncode=1, stderr=None))
    with pytest.raises(BookError, match=r"^sphinx-build failed \(exit 1\):\n$"):
        book.build_book(out, root=root)


def test_build_book_refuses_a_folder_that_is_not_a_book(tmp_path, monkeypatch):
    root, _ = _course(tmp_path, monkeypatch)
    monkeypatch.setattr(book.subprocess, "run", FakeSphinx())
    other = tmp_path / "docs"
    other.mkdir()
    (other / "mine.txt").write_text("keep")
    message = f"{other} exists and is not a book built by stn-course; pass another --out or remove it"
    with pytest.raises(BookError, match=f"^{re.escape(message)}$"):
        book.build_book(other, root=root)
    assert [p.name for p in other.iterdir()] == ["mine.txt"]
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(BookError, match="exists and is not a book"):
        book.build_book(afile, root=root)


def test_build_book_cleans_up_when_staging_fails(tmp_path, monkeypatch):
    (tmp_path / "solutions").mkdir()
    with pytest.raises(BookError, match="no lesson notebooks"):
        book.build_book(tmp_path / "out" / "book", root=tmp_path)
    assert list((tmp_path / "out").iterdir()) == []


def test_build_book_swap_removes_the_old_copy(tmp_path, monkeypatch):
    root, _ = _course(tmp_path, monkeypatch)
    out = tmp_path / "web"
    out.mkdir()
    (out / book.MARKER).write_text("{}")
    monkeypatch.setattr(book.subprocess, "run", FakeSphinx())
    monkeypatch.setattr(book.os, "getpid", lambda: 4242)
    moves = []
    real = book.os.replace
    monkeypatch.setattr(book.os, "replace", lambda a, b: moves.append((Path(a).name, Path(b).name)) or real(a, b))
    book.build_book(out, root=root)
    assert moves == [("web", ".web.old-4242"), ("html", "web")]
    assert not (tmp_path / ".web.old-4242").exists()


def _parser():
    parser = argparse.ArgumentParser(prog="stn-course")
    sub = parser.add_subparsers(dest="command", required=True)
    book.add_cli(sub)
    return parser


def test_cli(tmp_path, monkeypatch, capsys):
    calls = []
    site = tmp_path / "web"
    site.mkdir()
    monkeypatch.setattr(book, "build_book", lambda out, *, verbose: calls.append((out, verbose)) or site)
    monkeypatch.setattr(book, "time", types.SimpleNamespace(monotonic=iter([100.0, 142.6]).__next__))
    args = _parser().parse_args(["book"])
    assert args.func(args) == 0 and calls == [(None, False)]
    assert capsys.readouterr().out == f"built the book in 43 s: open {site / 'index.html'}\n"
    (site / "build-warnings.txt").write_text("w")
    monkeypatch.setattr(book, "time", types.SimpleNamespace(monotonic=iter([0.0, 1.0]).__next__))
    args = _parser().parse_args(["book", "--out", "X", "--verbose"])
    assert args.func(args) == 0 and calls[-1] == ("X", True)
    assert capsys.readouterr().out == (f"built the book in 1 s: open {site / 'index.html'}\n"
                                       f"Sphinx warned: see {site / 'build-warnings.txt'}\n")

    def boom(out, *, verbose):
        raise BookError("no MathJax")
    monkeypatch.setattr(book, "build_book", boom)
    monkeypatch.setattr(book, "time", types.SimpleNamespace(monotonic=lambda: 0.0))
    assert args.func(args) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "stn-course book: error: no MathJax\n")
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert sub._choices_actions[0].help == "build the course website from solutions/ (stored outputs, offline)"
    opts = {a.dest: (a.help, a.default) for a in sub.choices["book"]._actions}
    assert opts["out"] == ("target folder (default: build/book)", None)
    assert opts["verbose"] == ("show Sphinx's output", False)


@pytest.fixture
def ascii_locale(monkeypatch):
    """A platform whose default text encoding is not UTF-8 (Windows' cp1252, an old C locale): a text
    file opened without an explicit encoding then uses ASCII here, and every non-ASCII character fails."""
    import io

    real = io.text_encoding
    monkeypatch.setattr(io, "text_encoding", lambda encoding, stacklevel=2: real(encoding) if encoding else "ascii")


def test_stage_writes_and_reads_utf8_whatever_the_locale(tmp_path, monkeypatch, ascii_locale):
    root, _ = _course(tmp_path, monkeypatch)
    (root / "README.md").write_bytes(README.replace("two lines.", "two lines — θ.").replace(
        "Lin & Lucey", "Lin & Lucey — IC-STN").encode("utf-8"))
    write(root / "solutions" / "00_a.ipynb", notebook(markdown("# Lesson A — θ"), code("x = 1")))
    src = tmp_path / "src"
    lessons = book.stage(src, root=root)
    assert lessons["00_a"] == ("Lesson A — θ", "")
    assert "two lines — θ." in (src / "index.md").read_bytes().decode("utf-8")
    assert (src / "references.md").read_bytes().decode("utf-8") == (
        "# References\n\n- Jaderberg et al. 2015.\n- Lin & Lucey — IC-STN 2017.\n")
    assert "↓ lower is better" in (src / "report.md").read_bytes().decode("utf-8")
    page = nbformat.reads((src / "lessons" / "00_a.ipynb").read_bytes().decode("utf-8"), as_version=4)
    assert page.cells[0].source == "# Lesson A — θ"


def test_build_warnings_are_utf8_whatever_the_locale(tmp_path, monkeypatch, ascii_locale):
    root, _ = _course(tmp_path, monkeypatch)
    monkeypatch.setattr(book.subprocess, "run", FakeSphinx(stderr="WARNING: θ — 2\n"))
    out = book.build_book(tmp_path / "web", root=root)
    assert (out / "build-warnings.txt").read_bytes().decode("utf-8") == "WARNING: θ — 2\n"


def test_build_book_makes_missing_parent_folders(tmp_path, monkeypatch):
    root, _ = _course(tmp_path, monkeypatch)
    monkeypatch.setattr(book.subprocess, "run", FakeSphinx())
    out = tmp_path / "a" / "b" / "book"
    assert book.build_book(out, root=root) == out and (out / "index.html").is_file()


def test_a_folder_that_cannot_be_removed_does_not_fail_the_build(tmp_path, monkeypatch):
    """Removing the previous site or the work folder may fail (a file held open on Windows, a network
    drive): the new site is in place by then, so the build succeeds and leaves the leftovers."""
    root, _ = _course(tmp_path, monkeypatch)
    out = tmp_path / "web"
    out.mkdir()
    (out / book.MARKER).write_text("{}")
    monkeypatch.setattr(book.subprocess, "run", FakeSphinx())
    tried = []

    def rmtree(path, ignore_errors=False):
        tried.append(Path(path).name)
        if not ignore_errors:
            raise OSError(f"busy: {path}")
    monkeypatch.setattr(book.shutil, "rmtree", rmtree)
    assert book.build_book(out, root=root) == out
    assert (out / "index.html").read_text() == "<html>new</html>"
    assert tried[0].startswith(".web.old-") and tried[1].startswith(".web.build-") and len(tried) == 2


def test_report_table_paper_value_without_unit():
    row = {"key": "k", "value": 1.5, "paper": 0.5, "budget": "smoke", "values": [1.5]}
    assert book.report_table([row])[2] == "| k | 0.5 | 1.5 | smoke | n=1 |"
