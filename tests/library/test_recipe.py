"""stnlib.recipe.Recipe: validation, learning-rate factors found in any model, and fit == train."""

import pytest
import torch
from torch import nn

from stnlib.localization import LocalizationNet
from stnlib.models import build_model
from stnlib.recipe import Recipe
from stnlib.train import seed_everything, train


def test_defaults_and_replace():
    r = Recipe()
    assert (r.epochs, r.lr, r.batch_size, r.optimizer, r.schedule) == (4, 3e-3, 64, "adam", "onecycle")
    r2 = r.replace(epochs=2, loc_lr_scale=0.1)
    assert (r2.epochs, r2.loc_lr_scale, r.epochs) == (2, 0.1, 4)
    assert r2.as_dict()["loc_lr_scale"] == 0.1
    with pytest.raises(ValueError, match="'epoch' is not a recipe field"):
        r.replace(epoch=3)


@pytest.mark.parametrize("field, value", [("epochs", 0), ("epochs", 1.5), ("batch_size", 0), ("lr", 0),
                                          ("lr", -1e-3), ("loc_lr_scale", 0), ("head_lr_scale", -1.0),
                                          ("optimizer", "rmsprop"), ("schedule", "cosine"),
                                          ("momentum", 1.0), ("weight_decay", -0.1)])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=field):
        Recipe(**{field: value})


def test_lr_scale_finds_the_localization_nets_of_any_model():
    model = build_model("ST-CNN Aff")
    assert Recipe().lr_scale(model) is None  # factors of 1: one rate for everything
    assert Recipe(loc_lr_scale=0.1).lr_scale(model) == {"transformer.loc.0.head": 0.1, "transformer.loc.0": 0.1}
    scales = Recipe(loc_lr_scale=0.1, head_lr_scale=10.0).lr_scale(model)
    assert list(scales) == ["transformer.loc.0.head", "transformer.loc.0"]  # the head first: first match wins
    assert Recipe(loc_lr_scale=0.1).lr_scale(build_model("CNN")) is None

    class Wrapped(nn.Module):  # a model that names its transformer otherwise
        def __init__(self):
            super().__init__()
            self.inner = build_model("ST-FCN Aff")

    names = list(Recipe(loc_lr_scale=0.5).lr_scale(Wrapped()))
    assert names == ["inner.transformer.loc.0.head", "inner.transformer.loc.0"]
    assert all(isinstance(m, LocalizationNet) for n, m in Wrapped().named_modules() if n == names[1])


def _data(n=96):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 28, 28, generator=g)
    return x, (x.mean((1, 2, 3)) > x.mean()).long()


def test_fit_is_train_with_the_recipe():
    data = _data()
    r = Recipe(epochs=2, lr=2e-3, batch_size=32, loc_lr_scale=0.1, head_lr_scale=3.0)
    seed_everything(1)
    a = build_model("ST-CNN Aff")
    ha = r.fit(a, data, seed=1, progress=False)
    seed_everything(1)
    b = build_model("ST-CNN Aff")
    hb = train(b, data, epochs=2, lr=2e-3, batch_size=32, seed=1, progress=False,
               lr_scale={"transformer.loc.0.head": 3.0, "transformer.loc.0": 0.1})
    assert [r_["train_loss"] for r_ in ha.rows] == [r_["train_loss"] for r_ in hb.rows]
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    # and the factors matter: without them the weights end elsewhere
    seed_everything(1)
    c = build_model("ST-CNN Aff")
    Recipe(epochs=2, lr=2e-3, batch_size=32).fit(c, data, seed=1, progress=False)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_fit_passes_the_optimizer_on():
    data = _data(64)
    seed_everything(0)
    a = build_model("CNN")
    Recipe(epochs=1, lr=0.01, batch_size=32, optimizer="sgd", momentum=0.9, schedule="constant").fit(
        a, data, progress=False)
    seed_everything(0)
    b = build_model("CNN")
    train(b, data, epochs=1, lr=0.01, batch_size=32, optimizer="sgd", momentum=0.9, schedule="constant",
          progress=False)
    assert all(torch.equal(pa, pb) for pa, pb in zip(a.parameters(), b.parameters()))


def test_fit_hands_every_argument_to_train(monkeypatch):
    from stnlib import recipe as recipe_module

    got = {}
    monkeypatch.setattr(recipe_module, "train", lambda model, data, **kw: got.update(kw, model=model, data=data))
    r = Recipe(epochs=3, lr=0.02, batch_size=16, optimizer="sgd", schedule="step", momentum=0.5,
               weight_decay=1e-4, loc_lr_scale=0.1)
    model, data = build_model("ST-CNN Aff"), _data(32)
    hook, loss, metrics = (lambda info: None), (lambda o, t: o.sum()), {"m": lambda o, t: 0.0}
    r.fit(model, data, seed=4, device="cpu", val_data=data, loss=loss, metrics=metrics, on_step=hook,
          checkpoint="ck.pt", progress="log", desc="mine", max_seconds=9.0)
    assert got["model"] is model and got["data"] is data
    assert {k: got[k] for k in ("epochs", "lr", "batch_size", "optimizer", "schedule", "momentum",
                                "weight_decay", "seed", "device", "checkpoint", "progress", "desc",
                                "max_seconds")} == {
        "epochs": 3, "lr": 0.02, "batch_size": 16, "optimizer": "sgd", "schedule": "step", "momentum": 0.5,
        "weight_decay": 1e-4, "seed": 4, "device": "cpu", "checkpoint": "ck.pt", "progress": "log",
        "desc": "mine", "max_seconds": 9.0}
    assert got["val_data"] is data and got["loss"] is loss and got["metrics"] is metrics
    assert got["on_step"] is hook and got["lr_scale"] == r.lr_scale(model)
    r.fit(model, data)
    assert (got["progress"], got["desc"], got["seed"], got["device"], got["val_data"]) == (True, "train", 0,
                                                                                          None, None)


def test_edges_of_the_fields():
    assert Recipe(batch_size=1).batch_size == 1 and Recipe(head_lr_scale=0.5).head_lr_scale == 0.5
    for bad in ({"batch_size": True}, {"lr": True}, {"head_lr_scale": True}, {"head_lr_scale": 0.0},
                {"loc_lr_scale": False}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Recipe(**bad)
    with pytest.raises(ValueError, match=r"^optimizer must be one of 'adam', 'sgd', got 'rmsprop'$"):
        Recipe(optimizer="rmsprop")
    with pytest.raises(ValueError, match=r"^schedule must be one of 'onecycle', 'constant', 'step', got 'x'$"):
        Recipe(schedule="x")
    with pytest.raises(ValueError, match=r"^'a', 'b' are not recipe fields; the fields are epochs, lr, "):
        Recipe().replace(b=1, a=2)


def test_lr_scale_when_only_one_factor_differs_and_for_a_bare_localization_net():
    model = build_model("ST-CNN Aff")
    assert Recipe(head_lr_scale=3.0).lr_scale(model) == {"transformer.loc.0.head": 3.0, "transformer.loc.0": 1.0}
    assert Recipe(loc_lr_scale=0.5, head_lr_scale=1.0).lr_scale(model) == {
        "transformer.loc.0.head": 1.0, "transformer.loc.0": 0.5}
    loc = model.transformer.loc[0]  # the localization net itself is the model: its names have no prefix
    assert Recipe(loc_lr_scale=0.5).lr_scale(loc) == {"head": 0.5, "": 0.5}


def test_lr_scale_of_a_blind_localization_body_scales_only_the_head():
    # a body without parameters (stnlib.localization.blind_body) leaves only the head to scale;
    # a prefix with no parameter of its own would make train() refuse the recipe
    from stnlib.models import timeseries as ts
    from stnlib.recipe import Recipe

    model = ts.st_cnn(40, 3, per_series=False)
    assert Recipe(loc_lr_scale=0.3).lr_scale(model) == {"transformer.loc.0.head": 0.3}
    assert Recipe(loc_lr_scale=0.3).lr_scale(ts.st_cnn(40, 3)) == {"transformer.loc.0.head": 0.3,
                                                                   "transformer.loc.0": 0.3}
    Recipe(epochs=1, batch_size=8, loc_lr_scale=0.3).fit(
        model, (torch.randn(16, 1, 40), torch.randint(0, 3, (16,))), progress=False)
