import pytest

from stnlib.course import budgets


def test_every_budget_is_defined_once_with_sane_values():
    assert set(budgets.BUDGETS) == set(budgets.BUDGET_NAMES)
    for name, b in budgets.BUDGETS.items():
        assert b.name == name
        assert b.epochs >= 1 and b.batch_size >= 1 and len(b.seeds) >= 1
    assert budgets.BUDGETS["smoke"].n_train <= 2048  # smoke proves code paths, fast


def test_resolve_budget_prefers_argument_then_environment(monkeypatch):
    monkeypatch.setenv("STN_BUDGET", "full")
    assert budgets.resolve_budget("smoke") == "smoke"
    assert budgets.resolve_budget() == "full"
    monkeypatch.delenv("STN_BUDGET")
    expected = "full" if __import__("torch").cuda.is_available() else "standard"
    assert budgets.resolve_budget() == expected


def test_bad_budgets_name_the_argument(monkeypatch):
    with pytest.raises(ValueError, match="unknown budget 'tiny'"):
        budgets.resolve_budget("tiny")
    monkeypatch.setenv("STN_BUDGET", "huge")
    with pytest.raises(ValueError, match="STN_BUDGET='huge'"):
        budgets.resolve_budget()


def test_lesson_changes_replace_fields_and_settings_ride_along():
    changes = {"smoke": {"epochs": 2, "seeds": [3, 4]}, "standard": {"epochs": 9}}
    settings = {"smoke": ("knobs", 90), "standard": None, "full": None}
    b = budgets.get_budget("smoke", changes=changes, settings=settings)
    assert (b.epochs, b.seeds, b.batch_size, b.settings) == (2, (3, 4), 64, ("knobs", 90))
    assert budgets.get_budget("standard", changes=changes).epochs == 9
    assert budgets.get_budget("full", changes=changes) == budgets.BUDGETS["full"]
    assert budgets.get_budget("smoke") == budgets.BUDGETS["smoke"]
    assert b.as_dict()["epochs"] == 2


def test_lesson_changes_name_only_budget_fields():
    with pytest.raises(ValueError, match="'angle'.*not budget fields.*SETTINGS"):
        budgets.get_budget("smoke", changes={"smoke": {"angle": 90}})
    with pytest.raises(ValueError, match="settings has no entry for budget 'smoke'"):
        budgets.get_budget("smoke", settings={"full": 1})


def test_devices(monkeypatch):
    from stnlib import device

    monkeypatch.setenv("STN_DEVICE", "cpu")
    assert device.default_device() == "cpu"
    assert device.resolve_device("auto").type == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        device.resolve_device("gpu please")
    if not __import__("torch").cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            device.resolve_device("cuda")
