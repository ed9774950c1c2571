"""The package, its environment file, the CLI and the demo."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_environment_yml_installs_this_package_with_dev_extras():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    deps = env["dependencies"]
    assert any(isinstance(d, str) and d.startswith("python") for d in deps)
    assert "pip" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert pip == ["-e .[dev]"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "stnlib"
    assert "dev" in project["optional-dependencies"]


def _requirement_names(reqs: list[str]) -> set[str]:
    """``"torch>=2.1"`` → ``"torch"``; ``"stnlib[course]"`` → ``"stnlib[course]"``."""
    return {re.split(r"[<>=!~; ]", r, maxsplit=1)[0].strip().lower() for r in reqs}


#: what only the course needs (running notebooks, JupyterLab, the classroom release)
COURSE_ONLY = ("papermill", "nbclient", "nbformat", "ipykernel", "jupyterlab", "ipywidgets", "nbgrader")


def test_core_dependencies_are_the_librarys_and_the_course_is_an_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = _requirement_names(project["dependencies"])
    extras = {k: _requirement_names(v) for k, v in project["optional-dependencies"].items()}
    # a researcher who installs the library gets the library: no notebook runner, no JupyterLab
    assert core >= {"torch", "torchvision", "numpy", "matplotlib", "tqdm", "scikit-image", "pillow",
                    "mnist1d", "pyts"}, core
    assert not core & set(COURSE_ONLY), core & set(COURSE_ONLY)
    assert extras["course"] >= set(COURSE_ONLY), extras["course"]
    assert "ipywidgets" in extras["widgets"]
    # the README's `pip install -e ".[dev]"` still brings the course, and the test tools
    assert "stnlib[course]" in extras["dev"]
    assert extras["dev"] >= {"pytest", "nbval", "ruff", "playwright"}


def test_dependencies_have_no_upper_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for v in project["optional-dependencies"].values() for r in v]
    assert not [r for r in reqs if "<" in r or "==" in r]


#: run in a fresh, isolated interpreter (``-I``) in which the course's packages cannot be imported
_BLOCKED_IMPORT = """
import importlib, pkgutil, sys

BLOCKED = {blocked!r}

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None

sys.meta_path.insert(0, Absent())
import stnlib
{extra}
skip = ("stnlib.course", "stnlib.lessons", "stnlib.widgets")
names = [m.name for m in pkgutil.walk_packages(stnlib.__path__, "stnlib.")
         if not m.name.startswith(skip)]
for name in names:
    importlib.import_module(name)
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & BLOCKED)
assert not loaded, loaded
try:
    import stnlib.widgets
except ImportError as err:
    print("widgets:", err)
print("imported:", " ".join(names))
"""


def _import_without_the_course(extra: str = "") -> subprocess.CompletedProcess:
    script = _BLOCKED_IMPORT.format(blocked=set(COURSE_ONLY) | {"jupyter_server", "notebook"},
                                    extra=extra)
    return subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True,
                          cwd=Path(sys.executable).parent, timeout=300)


def test_the_library_imports_without_the_course_packages():
    run = _import_without_the_course()
    assert run.returncode == 0, run.stderr
    imported = run.stdout.split("imported:", 1)[1].split()
    for name in ("stnlib.transformer", "stnlib.train", "stnlib.models", "stnlib.data", "stnlib.metrics",
                 "stnlib.plot", "stnlib.sampler", "stnlib.grids"):
        assert name in imported, imported
    assert not any(n.startswith(("stnlib.course", "stnlib.lessons")) for n in imported)
    # the explorers need ipywidgets, and say how to get it
    widgets = run.stdout.split("widgets:", 1)[1].split("imported:", 1)[0]
    assert "stnlib[widgets]" in widgets and "ipywidgets" in widgets, run.stdout


def test_warp_imports_without_the_course_packages():
    import stnlib

    if not hasattr(stnlib, "warp"):
        pytest.skip("stnlib.warp is not written yet (issue 23, item 1)")
    run = _import_without_the_course("from stnlib import warp")
    assert run.returncode == 0, run.stderr


def test_ci_script_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/python -m pytest" in readme and ".venv/bin/python -m pytest" in ci
    assert 'pip install -e ".[dev]"' in readme and 'pip install --quiet -e ".[dev]"' in ci


def test_demo_writes_its_figure_atomically(tmp_path):
    from stnlib.course.demo import run_demo

    out = run_demo(tmp_path / "demo.png", size=32)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["demo.png"]  # no temp file left behind


def test_cli_help_lists_the_demo():
    out = subprocess.run([sys.executable, "-m", "stnlib.course.cli", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "demo" in out


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    from stnlib._io import atomic_path

    target = tmp_path / "x.txt"
    target.write_text("old")
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]
