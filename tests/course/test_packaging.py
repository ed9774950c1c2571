"""The package, its environment file, the CLI and the demo."""

import subprocess
import sys
from pathlib import Path

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


def test_dependencies_have_no_upper_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    # `stn-course run` (papermill) and the lessons (JupyterLab) are the course itself: runtime
    for name in ("torch", "torchvision", "numpy", "matplotlib", "tqdm", "ipywidgets",
                 "papermill", "nbclient", "nbformat", "jupyterlab", "ipykernel"):
        assert any(r.startswith(name) for r in project["dependencies"]), name
    for name in ("pytest", "nbval", "ruff", "playwright"):
        assert any(r.startswith(name) for r in project["optional-dependencies"]["dev"]), name
    assert not [r for r in reqs if "<" in r or "==" in r]


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
