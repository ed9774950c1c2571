"""Where the course lives: the repository of an editable install, else the working folder."""

from pathlib import Path

from stnlib.course import paths

REPO = Path(paths.__file__).resolve().parents[2]


def test_repo_root_is_the_checkout():
    assert paths.repo_root() == REPO
    assert (REPO / "pyproject.toml").is_file() and (REPO / "stnlib").is_dir()


def _fake_install(tmp_path, monkeypatch, *, pyproject, stnlib_dir):
    pkg = tmp_path / "site" / "stnlib" / "course"
    pkg.mkdir(parents=True)
    if pyproject == "file":
        (tmp_path / "site" / "pyproject.toml").write_text("")
    elif pyproject == "dir":
        (tmp_path / "site" / "pyproject.toml").mkdir()
    if not stnlib_dir:
        (tmp_path / "site" / "stnlib").rename(tmp_path / "site" / "other")
        pkg = tmp_path / "site" / "other" / "course"
    monkeypatch.setattr(paths, "__file__", str(pkg / "paths.py"))
    return tmp_path / "site"


def test_repo_root_needs_both_pyproject_file_and_stnlib_folder(tmp_path, monkeypatch):
    site = _fake_install(tmp_path, monkeypatch, pyproject="file", stnlib_dir=True)
    assert paths.repo_root() == site
    cases = ({"pyproject": None, "stnlib_dir": True}, {"pyproject": "dir", "stnlib_dir": True},
             {"pyproject": "file", "stnlib_dir": False})
    for number, case in enumerate(cases):
        other = tmp_path / f"case{number}"
        other.mkdir()
        _fake_install(other, monkeypatch, **case)
        assert paths.repo_root() is None, case


def test_course_root_and_default_folders(tmp_path, monkeypatch):
    assert paths.course_root() == REPO
    assert paths.default_solutions_dir() == REPO / "solutions"
    assert paths.default_lessons_dir() == REPO / "lessons"
    monkeypatch.setattr(paths, "repo_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert paths.course_root() == tmp_path
    assert paths.default_solutions_dir() == tmp_path / "solutions"
    assert paths.default_lessons_dir() == tmp_path / "lessons"
