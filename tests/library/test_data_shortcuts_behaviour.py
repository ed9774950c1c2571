"""stnlib.data's named shortcuts (mnist_r, ..., mnist_two_digits): each is ``load(<its name>, split, **kw)``."""

import pytest

import stnlib.data as data

SHORTCUTS = [
    (data.mnist_r, "mnist-r"), (data.mnist_rts, "mnist-rts"), (data.mnist_p, "mnist-p"),
    (data.mnist_e, "mnist-e"), (data.mnist_tc, "mnist-tc"), (data.mnist_cluttered, "mnist-cluttered"),
    (data.mnist_addition, "mnist-addition"), (data.mnist_two_digits, "mnist-two-digits"),
]


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def fake_load(name, split, **kw):
        seen.append((name, split, kw))
        return f"samples of {name}"

    monkeypatch.setattr(data, "load", fake_load)
    return seen


@pytest.mark.parametrize("shortcut, name", SHORTCUTS, ids=[n for _, n in SHORTCUTS])
def test_each_shortcut_loads_its_own_set(calls, shortcut, name):
    assert shortcut() == f"samples of {name}"
    assert shortcut("test", n=7, seed=3) == f"samples of {name}"
    assert calls == [(name, "train", {}), (name, "test", {"n": 7, "seed": 3})]


@pytest.mark.parametrize("shortcut, name", SHORTCUTS, ids=[n for _, n in SHORTCUTS])
def test_each_shortcut_names_a_set_of_the_catalog(shortcut, name):
    assert name in data.names()
