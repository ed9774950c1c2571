import pytest
import torch
from torch import nn

from stnlib import train as tr
from stnlib.models import cnn, count_parameters, st_cnn


def toy_data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 1, 8, 8, generator=g) * 0.1
    x[torch.arange(n), 0, y, y] += 1.0  # learnable: the class lights one pixel
    return x, y


def toy_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 3))


def test_train_is_seeded_and_learns(capsys):
    runs = []
    for _ in range(2):
        tr.seed_everything(0)
        model = toy_model()
        h = tr.train(model, toy_data(), epochs=3, lr=0.05, batch_size=16, val_data=toy_data(48, 1),
                     progress=False)
        runs.append((h, model[1].weight.detach().clone()))
    assert torch.equal(runs[0][1], runs[1][1])
    h = runs[0][0]
    assert len(h) == 3 and h["epoch"] == [1, 2, 3]
    assert h.last["val_error"] < 20 and h["train_loss"][-1] < h["train_loss"][0]
    assert capsys.readouterr().out == ""  # progress=False is silent


def test_log_mode_prints_one_line_per_epoch(capsys):
    h = tr.train(toy_model(), toy_data(), epochs=2, batch_size=32, desc="toy", progress="log")
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [ln.split("  ")[0] for ln in lines] == ["toy: epoch 1/2", "toy: epoch 2/2"]
    assert f"train loss {h['train_loss'][1]:.3f}" in lines[1]
    assert captured.err == ""  # no bar


@pytest.mark.parametrize("off", [False, "off"])
def test_progress_off_prints_nothing(off, capsys):
    tr.train(toy_model(), toy_data(), epochs=2, batch_size=32, val_data=toy_data(48, 1), progress=off)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("bar", [True, "bar"])
def test_bar_mode_draws_a_bar_over_every_batch(bar, capsys):
    tr.train(toy_model(), toy_data(), epochs=2, batch_size=32, desc="toy", progress=bar)
    out, err = capsys.readouterr()  # the bar on stderr, the epoch lines written above it
    assert [ln.split("  ")[0] for ln in out.splitlines()] == ["toy: epoch 1/2", "toy: epoch 2/2"]
    assert err.startswith("\rtoy:") and "6/6" in err  # 2 epochs × 3 batches


def test_the_bar_is_text_outside_a_kernel_even_after_ipykernel_was_imported(capsys):
    # tqdm.auto would pick its notebook bar for good once ipykernel is imported (as a test of the
    # lessons' language_info does); outside a kernel, train draws the text bar whatever was imported
    import ipykernel.zmqshell  # noqa: F401
    from tqdm import std

    assert tr._bar_class() is std.tqdm and not tr._in_jupyter_kernel()
    tr.train(toy_model(), toy_data(), epochs=1, batch_size=32, desc="toy", progress="bar")
    out, err = capsys.readouterr()
    assert [ln.split("  ")[0] for ln in out.splitlines()] == ["toy: epoch 1/1"]
    assert err.startswith("\rtoy:") and "3/3" in err


def test_the_environment_no_longer_changes_the_progress(monkeypatch, capsys):
    monkeypatch.setenv("STN_PROGRESS", "log")  # what `stn-course run` sets for the course
    tr.train(toy_model(), toy_data(), epochs=2, batch_size=32, progress=False)
    assert capsys.readouterr() == ("", "")
    tr.train(toy_model(), toy_data(), epochs=1, batch_size=32, desc="toy")  # the default: a bar
    assert "3/3" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [None, "quiet", 1, 0])
def test_progress_rejects_anything_else(bad):
    with pytest.raises(ValueError, match="progress must be True or 'bar'.*'log'.*False or 'off'"):
        tr.train(toy_model(), toy_data(), epochs=1, progress=bad)


def test_non_finite_loss_stops_with_a_clear_message():
    x, y = toy_data()
    x[5] = float("nan")
    with pytest.raises(tr.NonFiniteLossError, match=r"loss became nan at epoch 1/2, batch 1.*lr"):
        tr.train(toy_model(), (x, y), epochs=2, batch_size=96, progress=False)


def test_checkpoint_resume_gives_the_same_model(tmp_path):
    data = toy_data()
    tr.seed_everything(0)
    full = toy_model()
    tr.train(full, data, epochs=3, lr=0.05, batch_size=16, progress=False)

    ckpt = tmp_path / "ckpt.pt"
    tr.seed_everything(0)
    part = toy_model()

    class Stop(Exception):
        pass

    def stop_in_epoch_3(info):
        if info.epoch == 2:
            raise Stop

    with pytest.raises(Stop):
        tr.train(part, data, epochs=3, lr=0.05, batch_size=16, progress=False, checkpoint=ckpt,
                 on_step=stop_in_epoch_3)
    resumed = toy_model()
    h = tr.train(resumed, data, epochs=3, lr=0.05, batch_size=16, progress=False,
                 checkpoint=ckpt)
    assert h["epoch"] == [1, 2, 3]
    torch.testing.assert_close(resumed[1].weight, full[1].weight)
    assert not [p for p in tmp_path.iterdir() if p.name != "ckpt.pt"]
    with pytest.raises(ValueError, match="was written for"):
        tr.train(toy_model(), data, epochs=4, batch_size=16, progress=False, checkpoint=ckpt)


def test_on_step_sees_every_step_and_lr_scale_groups():
    steps = []
    model = st_cnn(in_size=12, channels=(4, 4), hidden=8)
    x = torch.rand(20, 1, 12, 12)
    y = torch.randint(0, 10, (20,))
    tr.train(model, (x, y), epochs=2, batch_size=8, progress=False, lr_scale={"transformer.": 0.1},
             on_step=lambda info: steps.append((info.epoch, info.step,
                                                tuple(info.model.last_theta.shape))))
    assert steps == [(e, e * 3 + i, (b, 2, 3)) for e in range(2) for i, b in enumerate((8, 8, 4))]
    with pytest.raises(ValueError, match="no parameter of the model starts with 'loc_net'"):
        tr.train(model, (x, y), epochs=1, progress=False, lr_scale={"loc_net": 0.1})


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs must be a positive int"),
    ({"epochs": 1, "lr": -1}, "lr must be a positive number"),
    ({"epochs": 1, "schedule": "cosine"}, "schedule must be"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tr.train(toy_model(), toy_data(), progress=False, **kwargs)


def test_models_shapes_and_the_calibrated_size():
    assert count_parameters(cnn()) == 872_714  # the 0.87M-parameter CNN of lesson 00
    x = torch.rand(3, 1, 42, 42)
    model = st_cnn()
    V, theta = model.transformed(x)
    torch.testing.assert_close(V, x)  # identity-initialized transformer
    assert model(x).shape == (3, 10) and model.last_theta.shape == (3, 2, 3)
    with pytest.raises(ValueError, match=r"x must be N×1×42×42, got shape \(3, 1, 28, 28\)"):
        cnn()(torch.rand(3, 1, 28, 28))
    ev = tr.evaluate(cnn(), (x, torch.tensor([0, 1, 2])))
    assert set(ev) == {"loss", "error"} and 0 <= ev["error"] <= 100


def test_theta_monitor_logs_and_stops_a_collapse():
    from stnlib.diagnostics import CollapseDetector, ThetaCollapseError

    model = st_cnn(in_size=12, channels=(4, 4), hidden=8)
    x, y = torch.rand(20, 1, 12, 12), torch.randint(0, 10, (20,))
    monitor = tr.theta_monitor("affine", every=2)
    tr.train(model, (x, y), epochs=2, batch_size=8, progress=False, on_step=monitor)
    assert [row["step"] for row in monitor.history] == [0, 2, 4]
    assert monitor.history[0]["scale_mean"] == pytest.approx(1.0)  # identity at the start
    strict = tr.theta_monitor("affine", every=1,
                              detector=CollapseDetector(max_scale=0.5, patience=2))
    with pytest.raises(ThetaCollapseError, match="2 bad batches in a row"):
        tr.train(model, (x, y), epochs=1, batch_size=8, progress=False, on_step=strict)
    with pytest.raises(ValueError, match="needs a model that keeps its last θ"):
        tr.train(toy_model(), toy_data(), epochs=1, progress=False,
                 on_step=tr.theta_monitor(every=1))


def test_loss_and_metrics_are_pluggable():
    # a regression: mean squared error as the loss, a mean-absolute-error metric on the whole set
    torch.manual_seed(0)
    x = torch.rand(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    model = torch.nn.Linear(3, 1)

    def mae(out, target):
        return (out - target).abs().mean().item()

    history = tr.train(model, (x, y), epochs=30, lr=0.05, batch_size=16, progress=False,
                       loss=torch.nn.functional.mse_loss, metrics={"mae": mae}, val_data=(x, y),
                       schedule="constant")
    row = history.last
    assert set(row) >= {"train_loss", "train_mae", "val_loss", "val_mae"} and "train_error" not in row
    assert row["val_mae"] < history.rows[0]["val_mae"] / 5
    ev = tr.evaluate(model, (x, y), loss=torch.nn.functional.mse_loss, metrics={"mae": mae})
    assert ev["mae"] == pytest.approx(mae(model(x).detach(), y), rel=1e-6)
    assert ev["loss"] == pytest.approx(torch.nn.functional.mse_loss(model(x), y).item(), rel=1e-5)


def test_metrics_see_the_whole_set_not_a_mean_of_batches():
    seen = []

    def count(out, target):
        seen.append(len(target))
        return float(len(target))

    model = torch.nn.Linear(2, 2)
    ev = tr.evaluate(model, (torch.rand(10, 2), torch.zeros(10, dtype=torch.long)), batch_size=3,
                     metrics={"n": count})
    assert seen == [10] and ev["n"] == 10.0


def test_default_metric_is_the_classification_error():
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1, 1, 1])
    assert tr.evaluate(model, (x, y))["error"] == 25.0
    with pytest.raises(TypeError, match="metrics must map names"):
        tr.evaluate(model, (x, y), metrics={"loss": lambda o, t: 0.0})
    with pytest.raises(TypeError, match="loss must be a function"):
        tr.train(model, (x, y), epochs=1, loss="mse")


def test_max_seconds_stops_training_at_the_time_budget(monkeypatch):
    # a fake clock: every step "takes" one second
    clock = {"t": 0.0}

    def perf_counter():
        return clock["t"]

    class Slow(torch.nn.Linear):
        def forward(self, x):
            clock["t"] += 1.0
            return super().forward(x)

    monkeypatch.setattr(tr.time, "perf_counter", perf_counter)
    x, y = torch.rand(40, 3), torch.randint(0, 2, (40,))
    model = Slow(3, 2)
    history = tr.train(model, (x, y), epochs=10, batch_size=10, progress=False,
                       schedule="constant", max_seconds=6)
    # 4 steps per epoch: epoch 1 takes 4 s, epoch 2 stops after 2 more steps (6 s in all)
    assert len(history) == 2
    assert history.rows[0].get("stopped") is None and history.rows[1]["stopped"] == 1
    assert history.rows[1]["steps"] == 2
    assert sum(r["seconds"] for r in history.rows) == 6
    with pytest.raises(ValueError, match="max_seconds must be a positive number"):
        tr.train(model, (x, y), epochs=1, max_seconds=0)


def test_log_mode_prints_another_tasks_first_metric(capsys):
    from stnlib import metrics

    g = torch.Generator().manual_seed(0)
    masks = (torch.rand(8, 4, 4, generator=g) < 0.5).long()
    x = masks[:, None].float()
    model = nn.Conv2d(1, 2, 1)
    tr.train(model, (x, masks), epochs=1, batch_size=4, val_data=(x, masks), desc="seg",
             metrics=metrics.SEGMENTATION_METRICS, progress="log")
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("seg: epoch 1/1  train loss ") and "  train f1 " in line
    assert "  val f1 " in line and "error" not in line


def test_every_epoch_sees_every_example_once_in_a_new_order():
    x = torch.arange(40, dtype=torch.float32).view(40, 1, 1, 1).expand(40, 1, 2, 2).contiguous()
    y = torch.arange(40) % 3
    seen: dict[int, list[int]] = {}

    def record(info):
        seen.setdefault(info.epoch, []).extend(info.images[:, 0, 0, 0].long().tolist())

    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    tr.train(model, (x, y), epochs=3, batch_size=8, on_step=record, progress=False)
    assert sorted(seen) == [0, 1, 2]
    for order in seen.values():
        assert sorted(order) == list(range(40))  # each example exactly once per epoch
    assert seen[0] != seen[1] != seen[2] and seen[0] != seen[2]  # reshuffled every epoch
    assert seen[0] != list(range(40))  # and shuffled at all
    again: dict[int, list[int]] = {}
    tr.train(nn.Sequential(nn.Flatten(), nn.Linear(4, 3)), (x, y), epochs=3, batch_size=8, progress=False,
             on_step=lambda info: again.setdefault(info.epoch, []).extend(info.images[:, 0, 0, 0].long().tolist()))
    assert again == seen  # the same seed, the same orders


def test_evaluation_runs_in_eval_mode_and_restores_the_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 3))
    x, y = torch.rand(64, 1, 2, 2), torch.randint(0, 3, (64,))
    model.train()
    first, second = tr.evaluate(model, (x, y)), tr.evaluate(model, (x, y))
    assert first == second  # dropout off: the same numbers twice
    assert model.training  # back in training mode afterwards
    model.eval()
    assert tr.evaluate(model, (x, y)) == first and not model.training
