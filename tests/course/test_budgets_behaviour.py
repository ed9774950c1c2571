"""Budgets: which name wins, what a lesson's changes and settings do, and the documented defaults."""

import dataclasses

import pytest

from stnlib.course import budgets


def _message(fn, *args, **kwargs):
    with pytest.raises((TypeError, ValueError)) as err:
        fn(*args, **kwargs)
    return str(err.value)


def test_the_defaults_are_the_documented_table():
    # smoke: CI on 2 cores (code paths only); standard: a laptop CPU; full: the paper's protocol on a GPU
    B = budgets.BUDGETS
    assert B["smoke"] == budgets.Budget("smoke", 1, 1024, 512, 64, (0,), 3e-3, 600, None)
    assert B["standard"] == budgets.Budget("standard", 4, None, None, 64, (0,), 3e-3, 4 * 3600, None)
    assert B["full"] == budgets.Budget("full", 30, None, None, 128, (0, 1, 2), 2e-3, 24 * 3600, None)
    assert budgets.BUDGET_ENV == "STN_BUDGET"


@pytest.mark.parametrize("cuda,expected", [(True, "full"), (False, "standard")])
def test_without_argument_or_environment_the_hardware_decides(monkeypatch, cuda, expected):
    import torch

    monkeypatch.delenv("STN_BUDGET", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert budgets.resolve_budget() == expected
    assert budgets.resolve_budget("") == expected  # an empty parameter is no choice
    monkeypatch.setenv("STN_BUDGET", "  ")
    assert budgets.resolve_budget() == expected  # nor is a blank variable


def test_the_environment_is_read_stripped(monkeypatch):
    monkeypatch.setenv("STN_BUDGET", " smoke\n")
    assert budgets.resolve_budget() == "smoke"
    assert budgets.get_budget().name == "smoke"
    assert budgets.resolve_budget("full") == "full"


def test_bad_budget_names_are_clear_errors(monkeypatch):
    assert _message(budgets.resolve_budget, "tiny") == \
        "unknown budget 'tiny'; expected one of 'smoke', 'standard', 'full'"
    monkeypatch.setenv("STN_BUDGET", "huge")
    assert _message(budgets.resolve_budget) == \
        "environment variable STN_BUDGET='huge' is not a budget; expected one of 'smoke', 'standard', 'full'"


def test_changes_apply_to_their_budget_only():
    changes = {"smoke": {"epochs": 2, "seeds": [3, 4], "lr": 0.1}, "full": {"batch_size": 7}}
    smoke = budgets.get_budget("smoke", changes=changes)
    assert smoke == dataclasses.replace(budgets.BUDGETS["smoke"], epochs=2, seeds=(3, 4), lr=0.1)
    assert isinstance(smoke.seeds, tuple)
    assert budgets.get_budget("standard", changes=changes) == budgets.BUDGETS["standard"]
    assert budgets.get_budget("full", changes=changes).batch_size == 7
    ready = budgets.Budget("mine", 1, 2, 3, 4, (5,))
    assert budgets.get_budget(ready, changes=changes) is ready


def test_unknown_fields_and_missing_settings_are_named():
    assert _message(budgets.get_budget, "smoke", changes={"smoke": {"angle": 90, "epochs": 1, "blur": 2}}) == (
        "changes['smoke'] names 'angle', 'blur', which are not budget fields (batch_size, cell_timeout, "
        "epochs, lr, n_test, n_train, seeds); a lesson's own knobs belong in its SETTINGS")
    assert _message(budgets.get_budget, "smoke", changes={"smoke": {"name": "x"}}).startswith(
        "changes['smoke'] names 'name', which are not budget fields")
    assert _message(budgets.get_budget, "smoke", settings={"full": 1, "standard": 2}) == \
        "settings has no entry for budget 'smoke'; it has 'full', 'standard'"


@dataclasses.dataclass(frozen=True)
class Knobs:
    table1: bool
    angle: float


def test_settings_ride_along_and_are_printed_with_the_fields():
    settings = {"smoke": Knobs(False, 45.0), "standard": Knobs(True, 90.0), "full": Knobs(True, 90.0)}
    b = budgets.get_budget("smoke", settings=settings)
    assert b.settings == Knobs(False, 45.0)
    assert b.as_dict() == {"name": "smoke", "epochs": 1, "n_train": 1024, "n_test": 512, "batch_size": 64,
                           "seeds": (0,), "lr": 3e-3, "cell_timeout": 600, "table1": False, "angle": 45.0}
    assert budgets.get_budget("smoke").settings is None
    # settings that are not a dataclass are kept but not spread into the printout
    other = budgets.get_budget("smoke", settings={"smoke": ("knobs", 1)})
    assert other.settings == ("knobs", 1) and "settings" not in other.as_dict()
    assert set(other.as_dict()) == {"name", "epochs", "n_train", "n_test", "batch_size", "seeds", "lr",
                                    "cell_timeout"}
