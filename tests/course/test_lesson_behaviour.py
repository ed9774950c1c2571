"""Starting a lesson: lesson ids, the progress mode, the context, seeding and the printed line."""

import re

import pytest
import torch

from stnlib.course import budgets, lesson


@pytest.mark.parametrize("given, expected", [(3, "03"), ("3", "03"), ("03", "03"), (" 7 ", "07"), (12, "12"),
                                             ("00", "00"), (0, "00")])
def test_lesson_id(given, expected):
    assert lesson.lesson_id(given) == expected


@pytest.mark.parametrize("given", ["123", "x", "", "3a", "-1", -1, 3.0, None])
def test_lesson_id_errors_word_for_word(given):
    message = f"lesson must be a lesson number such as '00' or 3, got {given!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        lesson.lesson_id(given)


@pytest.mark.parametrize("value, mode", [(None, "bar"), ("", "bar"), ("log", "log"), (" log\n", "log"),
                                         ("LOG", "bar"), ("bar", "bar"), ("logs", "bar")])
def test_progress_mode(monkeypatch, value, mode):
    if value is None:
        monkeypatch.delenv("STN_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("STN_PROGRESS", value)
    assert lesson.progress_mode() == mode


@pytest.fixture
def fakes(monkeypatch):
    seen = {"seeds": [], "devices": []}
    monkeypatch.setattr(lesson, "seed_everything", seen["seeds"].append)
    monkeypatch.setattr(lesson, "resolve_device",
                        lambda d: seen["devices"].append(d) or torch.device("meta"))
    monkeypatch.setattr(lesson, "_current", None)
    monkeypatch.delenv("STN_BUDGET", raising=False)
    monkeypatch.delenv("STN_PROGRESS", raising=False)
    return seen


def test_start_lesson_builds_the_context_seeds_and_prints(fakes, capsys):
    assert lesson.current_lesson() is None
    ctx = lesson.start_lesson(5, budget="smoke", seed=3, device="cpu")
    assert ctx == lesson.LessonContext("05", budgets.get_budget("smoke"), 3, torch.device("meta"), "bar")
    assert fakes == {"seeds": [3], "devices": ["cpu"]}
    assert capsys.readouterr().out == "lesson 05 · budget smoke · device meta · seed 3\n"
    assert lesson.current_lesson() is ctx


def test_start_lesson_defaults_changes_quiet_and_log_progress(fakes, capsys, monkeypatch):
    monkeypatch.setenv("STN_PROGRESS", "log")
    monkeypatch.setenv("STN_BUDGET", "standard")
    changes = {"standard": {"epochs": 9}}
    ctx = lesson.start_lesson("07", changes=changes, verbose=False)
    assert ctx.budget == budgets.get_budget("standard", changes=changes) and ctx.budget.epochs == 9
    assert (ctx.lesson, ctx.seed, ctx.progress) == ("07", 0, "log")
    assert fakes == {"seeds": [0], "devices": [None]}
    assert capsys.readouterr().out == ""
    assert lesson.current_lesson() is ctx


def test_start_lesson_settings_are_passed_on(fakes):
    settings = {"smoke": {"width": 1}, "standard": {"width": 2}, "full": {"width": 3}}
    ctx = lesson.start_lesson(1, budget="smoke", settings=settings, verbose=False)
    assert ctx.budget == budgets.get_budget("smoke", settings=settings)


@pytest.mark.parametrize("seed", [True, 1.0, "1", None])
def test_start_lesson_seed_must_be_an_int(fakes, seed):
    with pytest.raises(TypeError, match=f"^{re.escape(f'seed must be an int, got {seed!r}')}$"):
        lesson.start_lesson(1, budget="smoke", seed=seed)
    assert fakes["seeds"] == [] and lesson.current_lesson() is None


def test_start_lesson_bad_lesson_leaves_no_context(fakes):
    with pytest.raises(ValueError, match="^lesson must be"):
        lesson.start_lesson("x", budget="smoke")
    assert fakes["seeds"] == [] and lesson.current_lesson() is None


def test_context_is_frozen_and_defaults_to_bar():
    ctx = lesson.LessonContext("01", budgets.get_budget("smoke"), 0, torch.device("cpu"))
    assert ctx.progress == "bar"
    with pytest.raises(AttributeError):
        ctx.seed = 1
