import pytest

from stnlib import budgets


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


def test_lesson_overrides_replace_fields_and_add_extras(monkeypatch):
    monkeypatch.setitem(budgets.LESSON_OVERRIDES, "99",
                        {"smoke": {"epochs": 2, "seeds": [3, 4], "angle": 90}})
    b = budgets.get_budget("smoke", lesson="99")
    assert (b.epochs, b.seeds, b["angle"], b["batch_size"]) == (2, (3, 4), 90, 64)
    assert budgets.get_budget("smoke", lesson="98") == budgets.BUDGETS["smoke"]
    with pytest.raises(KeyError, match="no setting 'nope'"):
        b["nope"]


def test_devices(monkeypatch):
    monkeypatch.setenv("STN_DEVICE", "cpu")
    assert budgets.default_device() == "cpu"
    assert budgets.resolve_device("auto").type == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        budgets.resolve_device("gpu please")
    if not __import__("torch").cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            budgets.resolve_device("cuda")
