"""Where the course lives: the repository, its solutions and its run folders."""

from __future__ import annotations

from pathlib import Path


def repo_root() -> Path | None:
    """The course repository this ``stnlib`` comes from (editable install), else ``None``."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "stnlib").is_dir() else None


def course_root() -> Path:
    """The repository root, or the working directory for an installed ``stnlib``."""
    return repo_root() or Path.cwd()


def default_solutions_dir() -> Path:
    """The solution notebooks: ``solutions/`` of :func:`course_root`."""
    return course_root() / "solutions"


def default_lessons_dir() -> Path:
    """The student notebooks: ``lessons/`` of :func:`course_root`."""
    return course_root() / "lessons"
