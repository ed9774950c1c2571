"""stnlib.train against a plain PyTorch loop written out here (issue 25, mutation run of 2026-12-05).

The reference loop shuffles each epoch with a ``DataLoader`` whose generator is seeded with
``seed * 100_003 + epoch``, steps torch's own Adam / SGD / OneCycleLR / MultiStepLR, and averages the
step losses weighted by batch size: ``train`` must give the same weights bit for bit and the same
``train_loss``. Then: seeding of every generator, the argument checks at their edges with their exact
messages, the row of an epoch whose time ran out, the epoch line, checkpoints of every schedule, and
``theta_monitor``'s defaults and arguments."""

import math
import random
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from stnlib import diagnostics
from stnlib import train as tr


def data(n=37, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 1, 3, 3, generator=g, dtype=torch.float64)
    x[torch.arange(n), 0, y, y] += 1.0
    return x, y


def model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(9, 3)).double()


def epoch_order(n, batch_size, seed, epoch):
    """The examples' order in an epoch: a shuffling DataLoader seeded with ``seed * 100_003 + epoch``."""
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
    loader = DataLoader(TensorDataset(torch.arange(n)), batch_size=batch_size, shuffle=True, generator=gen)
    return torch.cat([b for (b,) in loader])


def reference(net, x, y, *, epochs, lr=3e-3, batch_size=64, seed=0, optimizer="adam", momentum=0.0,
              weight_decay=0.0, schedule="onecycle", milestones=None, gamma=0.1):
    """The loop ``train`` documents, in plain torch; returns the per-epoch mean training losses."""
    n = len(y)
    steps = math.ceil(n / batch_size)
    params = list(net.parameters())
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps)
    elif schedule == "step":
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [m * steps for m in milestones], gamma=gamma)
    else:
        sched = None
    losses = []
    for epoch in range(epochs):
        order = epoch_order(n, batch_size, seed, epoch)
        total = 0.0
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += loss.item() * len(idx)
        losses.append(total / n)
    return losses


def assert_same_run(kwargs, ref_kwargs=None, *, n=37, epochs=2):
    x, y = data(n)
    ours, theirs = model(), model()
    history = tr.train(ours, (x, y), epochs=epochs, progress=False, metrics={}, **kwargs)
    losses = reference(theirs, x, y, epochs=epochs, **(kwargs if ref_kwargs is None else ref_kwargs))
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)
    assert history["train_loss"] == pytest.approx(losses, rel=1e-12, abs=0)
    assert not torch.equal(ours[1].weight, model()[1].weight)  # it trained


def test_the_defaults_are_adam_at_3e_3_one_cycle_batches_of_64_seed_0():
    assert_same_run({}, {}, n=100)  # 100 examples: batches of 64 and 36 (65 would be 65 and 35)


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.05, "batch_size": 8, "seed": 1},
    {"lr": 0.05, "batch_size": 8, "seed": 3, "weight_decay": 0.1},
    {"lr": 0.05, "batch_size": 5, "optimizer": "sgd", "momentum": 0.9, "schedule": "constant"},
    {"lr": 0.05, "batch_size": 5, "optimizer": "sgd", "weight_decay": 0.5, "schedule": "constant"},
    {"lr": 0.05, "batch_size": 5, "optimizer": "sgd", "momentum": 0.5, "schedule": "onecycle"},
    {"lr": 0.05, "batch_size": 6, "optimizer": "sgd", "schedule": "step", "milestones": [1], "gamma": 0.5},
], ids=["adam-seed1", "adam-decay", "sgd-momentum", "sgd-decay", "sgd-onecycle", "sgd-step"])
def test_train_is_the_reference_loop(kwargs):
    assert_same_run(kwargs)


def test_train_loss_is_the_batch_size_weighted_mean_of_the_step_losses():
    # 37 = 4 × 8 + 5: a plain mean of the five batch means would weigh the last five examples 8/5 as much
    x, y = data()
    steps = []
    history = tr.train(model(), (x, y), epochs=1, lr=0.05, batch_size=8, progress=False,
                       on_step=lambda info: steps.append((info.loss, len(info.labels))))
    assert [k for _, k in steps] == [8, 8, 8, 8, 5]
    assert history["train_loss"][0] == pytest.approx(sum(v * k for v, k in steps) / 37, rel=1e-12)


def test_on_step_sees_this_steps_loss_labels_and_images_in_the_epochs_order():
    x, y = data()
    seen = []
    tr.train(model(), (x, y), epochs=2, lr=0.05, batch_size=16, seed=2, progress=False,
             on_step=lambda info: seen.append((info.epoch, info.step, info.loss, info.images, info.labels)))
    assert [(e, s) for e, s, *_ in seen] == [(0, 0), (0, 1), (0, 2), (1, 3), (1, 4), (1, 5)]
    for epoch in (0, 1):
        order = epoch_order(37, 16, 2, epoch)
        batches = [b for b in seen if b[0] == epoch]
        assert torch.equal(torch.cat([b[4] for b in batches]), y[order])
        assert torch.equal(torch.cat([b[3] for b in batches]), x[order])
    assert all(isinstance(b[2], float) and math.isfinite(b[2]) for b in seen)


def test_the_loss_on_step_sees_is_the_loss_of_the_weights_before_the_step():
    x, y = data()
    net, twin = model(), model()
    losses = []
    tr.train(net, (x, y), epochs=1, lr=0.05, batch_size=37, progress=False, schedule="constant",
             on_step=lambda info: losses.append(info.loss))
    assert losses == [pytest.approx(F.cross_entropy(twin(x), y).item(), rel=1e-12)]


def test_a_parameter_left_out_of_a_step_is_not_moved_by_it():
    # zero_grad(set_to_none=True): Adam skips a parameter without a gradient; a zeroed gradient would
    # still move it by the momentum of earlier steps
    class FirstCallOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(9, 3).double()
            self.extra = nn.Parameter(torch.zeros(3, dtype=torch.float64))
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            out = self.linear(x.flatten(1))
            return out + self.extra if self.calls == 1 else out

    x, y = data(24)
    net = FirstCallOnly()
    after_first = []
    tr.train(net, (x, y), epochs=1, lr=0.05, batch_size=8, progress=False, schedule="constant",
             on_step=lambda info: after_first.append(net.extra.detach().clone()) if info.step == 0 else None)
    assert not torch.equal(after_first[0], torch.zeros(3, dtype=torch.float64))
    assert torch.equal(net.extra.detach(), after_first[0])


def test_seed_everything_seeds_python_numpy_and_torch():
    seed = 2**32 + 7  # NumPy takes it modulo 2**32
    tr.seed_everything(seed)
    got = random.random(), np.random.random(), torch.rand(1).item()  # noqa: NPY002
    assert got[0] == random.Random(seed).random()
    assert got[1] == np.random.RandomState(7).random_sample()
    assert got[2] == torch.rand(1, generator=torch.Generator().manual_seed(seed)).item()


@pytest.mark.parametrize("bad", [True, 1.0, "0"])
def test_seed_everything_rejects_what_is_not_an_int(bad):
    with pytest.raises(TypeError, match=re.escape(f"seed must be an int, got {bad!r}")):
        tr.seed_everything(bad)


def test_history_names_its_columns_when_asked_for_another():
    history = tr.History([{"epoch": 1, "train_loss": 0.5}])
    with pytest.raises(KeyError, match=re.escape("history has no 'val_error'; it has epoch, train_loss")):
        history["val_error"]
    assert tr.History()["anything"] == []


def test_param_groups_from_a_mapping_of_names_to_tensors():
    w, b, s = (torch.zeros(2, requires_grad=True) for _ in range(3))
    groups = tr._param_groups({"loc.weight": w, "loc.bias": b, "head.weight": s}, 0.1, {"loc": 0.5})
    assert [g["lr"] for g in groups] == [0.05, 0.1]
    assert [g["params"] for g in groups] == [[w, b], [s]]
    assert tr._param_groups({"a": w}, 0.2, None) == [{"params": [w], "lr": 0.2}]
    with pytest.raises(ValueError, match=re.escape(
            "lr_scale: no parameter of the model starts with 'stn'; parameters are named like "
            "a, b, c, d...")):
        tr._param_groups({k: torch.zeros(1) for k in "abcdef"}, 0.1, {"stn": 0.1})


def test_lr_scale_trains_the_prefix_at_its_rate_and_the_rest_at_lr():
    x, y = data()
    net = model()
    tr.train(net, (x, y), epochs=1, lr=0.05, batch_size=37, progress=False, schedule="constant",
             optimizer="sgd", lr_scale={"1.weight": 0.5})
    ref = model()
    loss = F.cross_entropy(ref(x), y)
    gw, gb = torch.autograd.grad(loss, [ref[1].weight, ref[1].bias])
    torch.testing.assert_close(net[1].weight, ref[1].weight - 0.025 * gw, rtol=0, atol=1e-15)
    torch.testing.assert_close(net[1].bias, ref[1].bias - 0.05 * gb, rtol=0, atol=1e-15)


def tiny():
    return data(6)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": True}, "epochs must be a positive int, got True"),
    ({"epochs": 0}, "epochs must be a positive int, got 0"),
    ({"epochs": 2.0}, "epochs must be a positive int, got 2.0"),
    ({"lr": 0}, "lr must be a positive number, got 0"),
    ({"lr": "1"}, "lr must be a positive number, got '1'"),
    ({"batch_size": 0}, "batch_size must be a positive int, got 0"),
    ({"batch_size": 2.0}, "batch_size must be a positive int, got 2.0"),
    ({"max_seconds": 0}, "max_seconds must be a positive number of seconds, got 0"),
    ({"schedule": "cosine"}, "schedule must be one of 'onecycle', 'constant', 'step', got 'cosine'"),
    ({"optimizer": "rmsprop"}, "optimizer must be one of 'adam', 'sgd', got 'rmsprop'"),
    ({"schedule": "step", "milestones": [0]}, "milestones must be epochs in 1..2, got [0]"),
    ({"schedule": "step", "milestones": [3]}, "milestones must be epochs in 1..2, got [3]"),
    ({"schedule": "step", "milestones": [True]}, "milestones must be epochs in 1..2, got [True]"),
    ({"schedule": "step", "milestones": [1.5]}, "milestones must be epochs in 1..2, got [1.5]"),
])
def test_argument_checks_name_the_argument_and_the_value(kwargs, message):
    kwargs = {"epochs": 3, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        tr.train(model(), tiny(), progress=False, **kwargs)


def test_the_edges_of_the_checks_are_accepted():
    x, y = tiny()
    for kwargs in ({"batch_size": 1}, {"max_seconds": 0.5}, {"lr": 1}, {"schedule": "step", "milestones": [1, 2]}):
        history = tr.train(model(), (x, y), epochs=3, progress=False, **kwargs)
        assert len(history) == 3 and "stopped" not in history.last
    one = tr.train(model(), (x[:1], y[:1]), epochs=2, batch_size=1, progress=False)
    assert len(one) == 2 and "stopped" not in one.last and math.isfinite(one.last["train_loss"])


def test_train_data_errors_name_train_data():
    x, y = tiny()
    with pytest.raises(ValueError, match=re.escape("train_data: images and labels differ in length (6 vs 5)")):
        tr.train(model(), (x, y[:5]), epochs=1, progress=False)
    with pytest.raises(ValueError, match="^train_data is empty$"):
        tr.train(model(), (x[:0], y[:0]), epochs=1, progress=False)


def test_a_non_finite_loss_says_where_and_what_to_try():
    x, y = tiny()
    x[3] = float("nan")
    with pytest.raises(tr.NonFiniteLossError) as err:
        tr.train(model(), (x, y), epochs=1, batch_size=6, progress=False)
    assert str(err.value) == (
        "the loss became nan at epoch 1/1, batch 1: training stopped. Usual causes: a learning rate too "
        "high (try lr / 10), a localization net that was not initialized to the identity, or NaN in the "
        "input images.")


def test_an_epoch_whose_time_ran_out_before_its_first_step(monkeypatch):
    clock = {"t": 0.0}

    class Slow(nn.Linear):
        def forward(self, x):
            clock["t"] += 1.0
            return super().forward(x)

    monkeypatch.setattr(tr.time, "perf_counter", lambda: clock["t"])
    x, y = torch.rand(8, 3), torch.randint(0, 2, (8,))
    history = tr.train(Slow(3, 2), (x, y), epochs=5, batch_size=4, lr=0.01, schedule="constant",
                       progress=False, max_seconds=2)
    # epoch 1 takes its 2 steps (2 s); epoch 2 has no time left before its first step
    assert len(history) == 2 and "stopped" not in history.rows[0]
    row = history.rows[1]
    assert set(row) == {"epoch", "train_loss", "lr", "seconds", "stopped", "steps"}
    assert (row["epoch"], row["lr"], row["seconds"], row["stopped"], row["steps"]) == (2, 0.01, 0.0, 1, 0)
    assert math.isnan(row["train_loss"])


def test_the_timed_out_row_reports_the_first_groups_rate(monkeypatch):
    ticks = iter(range(100))  # a clock that moves one second at every reading
    monkeypatch.setattr(tr.time, "perf_counter", lambda: float(next(ticks)))
    x, y = tiny()
    history = tr.train(model(), (x, y), epochs=1, lr=0.1, lr_scale={"1.weight": 0.5}, schedule="constant",
                       progress=False, max_seconds=0.5)
    assert history.last["steps"] == 0 and history.last["lr"] == 0.05


def test_the_epoch_line():
    row = {"epoch": 2, "train_loss": 0.12345, "train_error": 12.345, "val_loss": 1.0, "val_error": 7.891,
           "lr": 0.1, "seconds": 3.4}
    assert tr._epoch_line("CNN", row, 5) == \
        "CNN: epoch 2/5  train loss 0.123  train error 12.3%  val error 7.89%  3 s"
    del row["val_error"]
    assert tr._epoch_line("CNN", row, 5) == "CNN: epoch 2/5  train loss 0.123  train error 12.3%  3 s"
    bare = {"epoch": 1, "train_loss": 0.5, "lr": 0.1, "seconds": 0.2}
    assert tr._epoch_line("seg", bare, 1) == "seg: epoch 1/1  train loss 0.500  0 s"
    f1 = {"epoch": 1, "train_loss": 0.5, "train_f1": 81.234, "val_f1": 70.0, "lr": 0.1, "seconds": 0.2}
    assert tr._epoch_line("seg", f1, 1) == "seg: epoch 1/1  train loss 0.500  train f1 81.23  val f1 70.00  0 s"


def test_the_default_label_of_the_epoch_line_is_train(capsys):
    tr.train(model(), tiny(), epochs=1, progress="log", metrics={})
    [line] = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"train: epoch 1/1  train loss \d\.\d{3}  \d+ s", line)


def test_resuming_a_finished_run_draws_no_bar(tmp_path, capsys):
    path = tmp_path / "run.pt"
    tr.train(model(), tiny(), epochs=1, checkpoint=path, progress=False)
    capsys.readouterr()
    history = tr.train(model(), tiny(), epochs=1, checkpoint=path, progress="bar")
    assert len(history) == 1
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("schedule", ["constant", "step", "onecycle"])
def test_a_checkpoint_of_every_schedule_resumes_to_the_same_weights(tmp_path, schedule):
    x, y = tiny()
    kwargs = {"epochs": 3, "lr": 0.05, "batch_size": 4, "schedule": schedule, "progress": False}
    whole = model()
    tr.train(whole, (x, y), **kwargs)
    path = tmp_path / "run.pt"
    first = model()
    tr.train(first, (x, y), checkpoint=path, on_step=_stop_after(2), **kwargs)  # epoch 1's two steps
    resumed = model()
    history = tr.train(resumed, (x, y), checkpoint=path, **kwargs)
    assert len(history) == 3
    for a, b in zip(resumed.parameters(), whole.parameters(), strict=True):
        assert torch.equal(a, b)


def _stop_after(steps):
    def hook(info):
        if info.step + 1 == steps:
            raise tr.StopTraining
    return hook


@pytest.mark.parametrize("schedule", ["constant", "onecycle"])
def test_a_checkpoint_written_and_read_back(tmp_path, schedule):
    x, y = tiny()
    path = tmp_path / "run.pt"
    kwargs = {"lr": 0.05, "batch_size": 4, "schedule": schedule, "progress": False, "seed": 5}
    whole = model()
    tr.train(whole, (x, y), epochs=2, **kwargs)
    first = model()
    tr.train(first, (x, y), epochs=2, checkpoint=path, on_step=_stop_after(2), **kwargs)
    state = torch.load(path, weights_only=False)
    assert state["config"] == {"epochs": 2, "lr": 0.05, "batch_size": 4, "seed": 5, "schedule": schedule,
                               "n_train": 6, "optimizer": "adam", "momentum": 0.0, "milestones": None,
                               "gamma": 0.1}
    assert (state["scheduler"] is None) == (schedule == "constant")
    resumed = model()
    history = tr.train(resumed, (x, y), epochs=2, checkpoint=path, **kwargs)
    assert len(history) == 2
    for a, b in zip(resumed.parameters(), whole.parameters(), strict=True):
        assert torch.equal(a, b)


def test_checkpoint_errors_say_what_to_do(tmp_path):
    x, y = tiny()
    path = tmp_path / "run.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError) as err:
        tr.train(model(), (x, y), epochs=1, checkpoint=path, progress=False)
    assert str(err.value).startswith(f"checkpoint {path} cannot be read (")
    assert str(err.value).endswith("); delete it to start over, or pass resume=False")
    path.unlink()
    tr.train(model(), (x, y), epochs=1, lr=0.05, checkpoint=path, progress=False)
    with pytest.raises(ValueError) as err:
        tr.train(model(), (x, y), epochs=1, lr=0.01, checkpoint=path, progress=False)
    written = torch.load(path, weights_only=False)["config"]
    asked = {**written, "lr": 0.01}
    assert str(err.value) == (f"checkpoint {path} was written for {written}, but this call asks for "
                              f"{asked}; delete it, pass another checkpoint path, or resume=False")


class Watched(nn.Module):
    """What theta_monitor reads: a model's ``last_theta`` and, optionally, ``transformer.transform``."""

    def __init__(self, theta, transform=None):
        super().__init__()
        self.last_theta = theta
        if transform is not None:
            self.transformer = nn.Module()
            self.transformer.transform = transform


def info(net, step):
    return tr.StepInfo(0, step, 0.0, net, torch.zeros(1), torch.zeros(1))


THETA = torch.tensor([[[1.5, 0.2, 0.4], [-0.1, 0.8, -0.3]]], dtype=torch.float64)


def test_theta_monitor_defaults_affine_every_10_steps_no_outside():
    hook = tr.theta_monitor()
    net = Watched(THETA)
    for step in range(21):
        hook(info(net, step))
    assert [r["step"] for r in hook.history] == [0, 10, 20]
    assert hook.history[0] == {"step": 0, **diagnostics.theta_stats(THETA, "affine")}
    assert isinstance(hook.detector, diagnostics.CollapseDetector)


def test_theta_monitor_passes_out_size_and_align_corners_on():
    for align in (False, True):
        hook = tr.theta_monitor("affine", every=1, out_size=(5, 4), align_corners=align)
        hook(info(Watched(THETA), 0))
        expected = diagnostics.theta_stats(THETA, "affine", out_size=(5, 4), align_corners=align)
        assert hook.history == [{"step": 0, **expected}]
    outside = [diagnostics.outside_fraction(THETA, (5, 4), align_corners=a) for a in (False, True)]
    assert outside[0] != outside[1]  # the two conventions read different pixels from outside
    default = tr.theta_monitor(every=1, out_size=(5, 4))
    default(info(Watched(THETA), 0))
    assert default.history[0]["outside"] == pytest.approx(outside[0])


def test_theta_monitor_reads_the_transform_from_the_model_when_told_none():
    theta = torch.tensor([[0.5, 0.1, -0.2]], dtype=torch.float64)
    hook = tr.theta_monitor(None, every=1)
    hook(info(Watched(theta, "attention"), 0))
    assert hook.history == [{"step": 0, **diagnostics.theta_stats(theta, "attention")}]
    with pytest.raises(ValueError, match=re.escape(
            "theta_monitor(transform=None) reads the transform from the model's `transformer`; "
            "Watched has none: pass transform=")):
        hook(info(Watched(theta), 1))


def test_theta_monitor_feeds_the_detector_it_is_given_and_names_bad_input():
    detector = diagnostics.CollapseDetector()
    hook = tr.theta_monitor(every=1, detector=detector)
    assert hook.detector is detector
    with pytest.raises(ValueError, match=re.escape(
            "theta_monitor needs a model that keeps its last θ in `last_theta` (like "
            "stnlib.models.Classifier); Linear has none")):
        hook(info(nn.Linear(1, 1), 0))
    for bad in (0, 1.0):
        with pytest.raises(ValueError, match=re.escape(f"every must be a positive int, got {bad!r}")):
            tr.theta_monitor(every=bad)
