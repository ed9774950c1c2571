"""The training loop's options added for lesson 03: SGD, the stepped schedule, a slower loc net."""

import pytest
import torch
from torch import nn

from stnlib import train as tr
from stnlib.models import LOC_PREFIX, build_model


def toy_data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 1, 8, 8, generator=g) * 0.1
    x[torch.arange(n), 0, y, y] += 1.0
    return x, y


def toy_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 3))


def test_sgd_with_momentum_learns_and_is_seeded():
    weights = []
    for _ in range(2):
        tr.seed_everything(0)
        model = toy_model()
        h = tr.train(model, toy_data(), epochs=4, lr=0.1, batch_size=16, optimizer="sgd",
                     momentum=0.9, schedule="constant", val_data=toy_data(48, 1), progress=False)
        weights.append(model[1].weight.detach().clone())
    assert torch.equal(*weights)
    assert h.last["val_error"] < 20 and h["lr"] == [0.1] * 4


def test_step_schedule_divides_the_rate_at_the_milestones():
    h = tr.train(toy_model(), toy_data(), epochs=6, lr=0.1, batch_size=32, optimizer="sgd",
                 schedule="step", progress=False)
    assert h["lr"] == pytest.approx([0.1, 0.01, 0.01, 0.001, 0.001, 0.001])  # after epochs 2 and 4
    h = tr.train(toy_model(), toy_data(), epochs=3, lr=0.1, batch_size=32, schedule="step",
                 milestones=[1], gamma=0.5, progress=False)
    assert h["lr"] == pytest.approx([0.05, 0.05, 0.05])
    h = tr.train(toy_model(), toy_data(), epochs=1, lr=0.1, batch_size=32, schedule="step",
                 progress=False)  # one epoch: no step at all
    assert h["lr"] == pytest.approx([0.1])


def test_a_lower_learning_rate_for_the_localization_net():
    torch.manual_seed(0)
    model = build_model("ST-FCN Aff")
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    h = tr.train(model, (x, y), epochs=1, lr=0.01, batch_size=64, schedule="constant",
                 optimizer="sgd", lr_scale={LOC_PREFIX: 0.1}, progress=False)
    assert h["lr"] == [0.001]  # group 0 is the localization net


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="optimizer must be one of 'adam', 'sgd'"):
        tr.train(toy_model(), toy_data(), epochs=1, optimizer="rmsprop", progress=False)
    with pytest.raises(ValueError, match="schedule must be one of"):
        tr.train(toy_model(), toy_data(), epochs=1, schedule="cosine", progress=False)
    with pytest.raises(ValueError, match=r"milestones must be epochs in 1\.\.2"):
        tr.train(toy_model(), toy_data(), epochs=3, schedule="step", milestones=[3],
                 progress=False)


def test_checkpoint_of_an_sgd_run_resumes(tmp_path):
    ckpt = tmp_path / "sgd.pt"
    kw = dict(epochs=3, lr=0.1, batch_size=16, optimizer="sgd", momentum=0.9, schedule="step",
              progress=False)
    tr.seed_everything(0)
    full = toy_model()
    tr.train(full, toy_data(), **kw)
    tr.seed_everything(0)
    part = toy_model()
    tr.train(part, toy_data(), checkpoint=ckpt, **{**kw, "epochs": 3})
    tr.seed_everything(0)
    again = toy_model()
    h = tr.train(again, toy_data(), checkpoint=ckpt, **kw)  # everything done: loads and returns
    assert len(h) == 3
    torch.testing.assert_close(again[1].weight, full[1].weight)
    with pytest.raises(ValueError, match="was written for"):
        tr.train(toy_model(), toy_data(), checkpoint=ckpt, **{**kw, "optimizer": "adam"})


def test_an_adam_checkpoint_holds_the_whole_recipe(tmp_path):
    ckpt = tmp_path / "adam.pt"
    kw = dict(epochs=2, lr=0.05, batch_size=16, progress=False)
    tr.train(toy_model(), toy_data(), checkpoint=ckpt, **kw)
    config = torch.load(ckpt, weights_only=False)["config"]
    assert {k: config[k] for k in ("optimizer", "schedule", "momentum", "milestones", "gamma")} == {
        "optimizer": "adam", "schedule": "onecycle", "momentum": 0.0, "milestones": None, "gamma": 0.1}
    assert len(tr.train(toy_model(), toy_data(), checkpoint=ckpt, **kw)) == 2  # resumes: done
    for other in ({"optimizer": "sgd"}, {"schedule": "constant"}):
        with pytest.raises(ValueError, match="was written for"):
            tr.train(toy_model(), toy_data(), checkpoint=ckpt, **{**kw, **other})


def test_a_hook_can_stop_training_after_a_step():
    data = toy_data(96)  # 3 steps of 32 per epoch
    seen = []

    def stop_at_step_4(info):
        seen.append(info.step)
        if info.step == 4:
            raise tr.StopTraining

    torch.manual_seed(0)
    model = toy_model()
    h = tr.train(model, data, epochs=5, batch_size=32, on_step=stop_at_step_4, val_data=data, progress=False)
    assert seen == [0, 1, 2, 3, 4]
    assert len(h) == 2 and h.last["stopped"] == 1 and h.last["steps"] == 2  # steps 3 and 4 of epoch 2
    assert "val_error" in h.last  # the stopped epoch is still evaluated
    assert "stopped" not in h.rows[0]


def test_stopping_at_an_epochs_last_step_is_training_that_epoch():
    data = toy_data(96)

    def stop_at_step_2(info):
        if info.step == 2:
            raise tr.StopTraining

    weights = []
    for epochs, hook in ((4, stop_at_step_2), (1, None)):
        torch.manual_seed(0)
        model = toy_model()
        tr.train(model, data, epochs=epochs, batch_size=32, schedule="constant", on_step=hook, progress=False)
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])


def test_other_errors_in_a_hook_still_propagate():
    def broken(info):
        raise RuntimeError("hook failed")

    with pytest.raises(RuntimeError, match="hook failed"):
        tr.train(toy_model(), toy_data(), epochs=1, on_step=broken, progress=False)
