"""The package's shape: the library stands apart from the course, and no module imports itself back."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "stnlib"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """module → the stnlib modules it imports (module level and inside functions)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node)
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            else:
                continue
            for t in targets:
                # the longest known module that the import names (a module, or a name in it)
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != name and t.startswith("stnlib"):
                    deps.add(t)
        graph[name] = deps
    return graph


def _package_of(module: str) -> str:
    """A package's own __init__ is part of it; `stnlib.x.y` belongs to `stnlib.x`."""
    return module


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    # a package imports its own submodules (its __init__ re-exports them): that is not a cycle
    def edges(m):
        return {d for d in graph[m] if not m.startswith(d + ".")}

    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in edges(m):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_module_imports_another_that_imports_it_back():
    cycle = find_cycle(import_graph())
    assert cycle is None, " → ".join(cycle)


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"stnlib.a": {"stnlib.b"}, "stnlib.b": {"stnlib.c"}, "stnlib.c": {"stnlib.a"},
             "stnlib.d": set()}
    assert find_cycle(graph) == ["stnlib.a", "stnlib.b", "stnlib.c", "stnlib.a"]
    assert find_cycle({"stnlib.p": {"stnlib.p.q"}, "stnlib.p.q": {"stnlib.p"}}) is None


@pytest.mark.parametrize("library_module", sorted(
    m for m in import_graph() if not m.startswith(("stnlib.course", "stnlib.lessons"))))
def test_the_library_never_imports_the_course_or_the_lessons(library_module):
    bad = {d for d in import_graph()[library_module]
           if d.startswith(("stnlib.course", "stnlib.lessons"))}
    assert not bad, f"{library_module} imports {sorted(bad)}"


def test_the_course_never_imports_a_lesson():
    graph = import_graph()
    bad = {(m, d) for m in graph if m.startswith("stnlib.course") for d in graph[m]
           if d.startswith("stnlib.lessons")}
    assert not bad


def test_the_plots_do_not_import_the_widgets():
    assert "stnlib.widgets" not in import_graph()["stnlib.plot"]


def _loaded_after(statement: str) -> set[str]:
    code = (f"import sys; {statement}; print(','.join(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('papermill', 'nbclient', 'ipywidgets', 'nbformat', 'stnlib'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return set(out.stdout.strip().split(","))


def test_import_stnlib_loads_no_course_machinery():
    loaded = _loaded_after("import stnlib")
    assert not {m for m in loaded if m.split(".")[0] in ("papermill", "nbclient", "ipywidgets",
                                                          "nbformat")}
    assert not {m for m in loaded if m.startswith(("stnlib.course", "stnlib.lessons"))}


def test_import_stnlib_course_works_on_its_own():
    loaded = _loaded_after("import stnlib.course as c; c.start_lesson; c.record")
    assert "stnlib.course.results" in loaded and "stnlib.lessons" not in loaded
