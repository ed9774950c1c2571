"""stnlib.seeds.train_seeds against stnlib.train.train run once per seed (issue 25, mutation run of
2026-12-05): every option of the recipe (defaults, SGD with momentum and weight decay, the step schedule
with its milestones and gamma, per-prefix rates, a custom loss and metrics, validation) gives each seed
the weights and history rows one run of ``train`` gives it; the log line; the argument checks at their
edges with their exact messages; and StackedModels' mode, device and shared inputs."""

import re

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from stnlib import metrics as M
from stnlib import train as T
from stnlib.seeds import StackedModels, train_seeds

X = torch.randn(37, 1, 3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
Y = torch.randint(0, 3, (37,), generator=torch.Generator().manual_seed(1))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.loc = nn.Linear(9, 4)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        return self.head(torch.tanh(self.loc(x.flatten(1))))


def build():
    return Net().double()


def one_by_one(seeds, data=(X, Y), **kw):
    models, histories = [], []
    for s in seeds:
        T.seed_everything(s)
        m = build()
        histories.append(T.train(m, data, seed=s, progress=False, **kw))
        models.append(m)
    return models, histories


def assert_same(kw, seeds=(0, 3), data=(X, Y)):
    ours, ours_h = train_seeds(build, data, seeds=list(seeds), progress=False, **kw)
    ref, ref_h = one_by_one(seeds, data, **kw)
    for a, b, ha, hb in zip(ours, ref, ours_h, ref_h, strict=True):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-11)
        assert len(ha) == len(hb)
        for ra, rb in zip(ha.rows, hb.rows, strict=True):
            assert set(ra) == set(rb)
            for k in ra:
                if k != "seconds":
                    assert ra[k] == pytest.approx(rb[k], rel=1e-9, abs=1e-9), k
    return ours, ours_h


def test_the_defaults_are_trains():
    assert_same({"epochs": 2}, data=(X.repeat(2, 1, 1, 1), Y.repeat(2)))  # 74 examples: batches of 64 and 10


@pytest.mark.parametrize("kw", [
    {"epochs": 2, "lr": 0.05, "batch_size": 8, "optimizer": "sgd", "momentum": 0.9, "weight_decay": 0.01,
     "schedule": "constant"},
    {"epochs": 3, "lr": 0.05, "batch_size": 8, "optimizer": "sgd", "schedule": "step", "milestones": [1], "gamma": 0.5},
    {"epochs": 3, "lr": 0.05, "batch_size": 8, "optimizer": "sgd", "schedule": "step"},
    {"epochs": 2, "lr": 0.02, "batch_size": 10, "lr_scale": {"loc": 0.1}, "weight_decay": 0.1},
    {"epochs": 2, "lr": 0.02, "batch_size": 16, "val_data": (X[:9], Y[:9]),
     "metrics": {"error": M.error, "f1": lambda o, y: float((o.argmax(1) == y).float().mean())}},
    {"epochs": 1, "lr": 0.02, "batch_size": 16, "loss": lambda o, y: nn.functional.cross_entropy(o, y) * 2,
     "metrics": {}},
], ids=["sgd-momentum-decay", "step-milestone", "step-default-milestones", "lr-scale", "val-metrics", "loss"])
def test_every_option_is_trains(kw):
    assert_same(kw)


def test_a_dataset_that_is_not_a_tensor_pair():
    class Listed(torch.utils.data.Dataset):
        def __len__(self):
            return 37

        def __getitem__(self, i):
            return X[i], Y[i]

    ours, _ = train_seeds(build, Listed(), seeds=[1], epochs=1, lr=0.05, batch_size=8, progress=False)
    ref, _ = one_by_one([1], epochs=1, lr=0.05, batch_size=8)
    for p, q in zip(ours[0].parameters(), ref[0].parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-11)
    assert isinstance(TensorDataset(X, Y), TensorDataset)


def test_the_log_line_is_the_seeds_mean(capsys):
    _, hs = train_seeds(build, (X, Y), seeds=[0, 1], epochs=2, lr=0.02, batch_size=16, progress="log", desc="CNN")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for e, line in enumerate(lines):
        mean = (hs[0].rows[e]["train_loss"] + hs[1].rows[e]["train_loss"]) / 2
        assert re.fullmatch(rf"CNN ×2 seeds: epoch {e + 1}/2  train loss {mean:.3f} \(mean over seeds\)  \d+ s", line)
    train_seeds(build, (X, Y), seeds=[0], epochs=1, progress="log")
    assert capsys.readouterr().out.startswith("train ×1 seeds: epoch 1/1  train loss ")
    train_seeds(build, (X, Y), seeds=[0], epochs=1, progress=False)
    assert capsys.readouterr().out == ""


def test_the_models_come_back_in_training_mode_in_seed_order():
    models, hs = train_seeds(build, (X, Y), seeds=range(3), epochs=1, lr=0.02, batch_size=16, progress=False)
    assert len(models) == 3 and all(m.training for m in models)
    assert [len(h) for h in hs] == [1, 1, 1]
    T.seed_everything(2)
    start = build()
    assert not torch.equal(start.head.weight, models[2].head.weight)  # trained


@pytest.mark.parametrize("kwargs, error, message", [
    ({"seeds": []}, ValueError, "seeds must be a non-empty list of ints, got []"),
    ({"seeds": 3}, ValueError, "seeds must be a non-empty list of ints, got 3"),
    ({"seeds": [0, True]}, ValueError, "seeds must be a non-empty list of ints, got [0, True]"),
    ({"seeds": (1, 1)}, ValueError, "seeds must be distinct, got [1, 1]"),
    ({"build": 3}, TypeError, "build must be a function of no arguments that returns a model, got 3"),
    ({"epochs": 0}, ValueError, "epochs must be a positive int, got 0"),
    ({"epochs": True}, ValueError, "epochs must be a positive int, got True"),
    ({"lr": 0}, ValueError, "lr must be a positive number, got 0"),
    ({"batch_size": 0}, ValueError, "batch_size must be a positive int, got 0"),
    ({"batch_size": True}, ValueError, "batch_size must be a positive int, got True"),
    ({"schedule": "cosine"}, ValueError, "schedule must be one of 'onecycle', 'constant', 'step', got 'cosine'"),
    ({"optimizer": "lbfgs"}, ValueError, "optimizer must be one of 'adam', 'sgd', got 'lbfgs'"),
    ({"schedule": "step", "milestones": [0]}, ValueError, "milestones must be epochs in 1..2, got [0]"),
    ({"schedule": "step", "milestones": [3]}, ValueError, "milestones must be epochs in 1..2, got [3]"),
    ({"schedule": "step", "milestones": [True]}, ValueError, "milestones must be epochs in 1..2, got [True]"),
    ({"train_data": (X[:0], Y[:0])}, ValueError, "train_data is empty"),
    ({"train_data": (X, Y[:3])}, ValueError, "train_data: images and labels differ in length (37 vs 3)"),
])
def test_argument_checks_are_exact(kwargs, error, message):
    args = {"build": build, "train_data": (X, Y), "seeds": [0, 1], "epochs": 3, "progress": False, **kwargs}
    b, data = args.pop("build"), args.pop("train_data")
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        train_seeds(b, data, **args)


def test_the_accepted_edges():
    _, hs = train_seeds(build, (X[:1], Y[:1]), seeds=[5], epochs=1, lr=1, batch_size=1, progress=False)
    assert len(hs[0]) == 1
    _, hs = train_seeds(build, (X, Y), seeds=[0], epochs=3, schedule="step", milestones=[1, 2], progress=False)
    assert [round(r["lr"], 12) for r in hs[0].rows] == [3e-4, 3e-5, 3e-5]


def test_stacked_models_mode_device_and_shared_inputs():
    torch.manual_seed(0)
    nets = [nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5)).double() for _ in range(2)]
    stack = StackedModels(nets)
    assert stack.train(False) is stack and not stack.base.training
    x = torch.randn(5, 3, dtype=torch.float64)
    out = stack(x, shared=True)
    assert out.shape == (2, 5, 4)
    for k in range(2):
        torch.testing.assert_close(out[k], nets[k][0](x))  # eval: dropout off
    assert stack.train() is stack and stack.base.training
    moved = stack.to("cpu")
    assert moved is stack and all(p.device.type == "cpu" and p.requires_grad for p in stack.params.values())
    with pytest.raises(TypeError, match="^x must be a tensor, got list$"):
        stack([1.0])
    with pytest.raises(ValueError, match="^" + re.escape(
            "x must be S×N×… with S = 2 seeds (seed k's inputs in x[k]), got shape (3, 5, 3); pass shared=True for "
            "inputs every seed sees") + "$"):
        stack(torch.randn(3, 5, 3, dtype=torch.float64))


def test_check_vectorizable_messages():
    from stnlib.seeds import UnsupportedModelError, check_vectorizable

    with pytest.raises(ValueError, match="^models must hold at least one model$"):
        check_vectorizable([])
    with pytest.raises(TypeError, match="^" + re.escape("models[1] must be an nn.Module, got int") + "$"):
        check_vectorizable([build(), 3])
    bn = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    with pytest.raises(UnsupportedModelError, match="^" + re.escape(
            "Sequential has BatchNorm1d at '1': its running statistics are buffers every seed would update in place, "
            "which a vectorized model cannot do; train these seeds one after another with stnlib.train.train") + "$"):
        check_vectorizable([bn, bn])
    check_vectorizable([nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2, track_running_stats=False))] * 2)
    wide = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(UnsupportedModelError, match="^" + re.escape(
            "models[2] differs from models[0] in its parameters' names or shapes: every seed must be the same "
            "architecture") + "$"):
        check_vectorizable([nn.Sequential(nn.Linear(2, 2)), nn.Sequential(nn.Linear(2, 2)), wide])

    def with_buffer(value):
        m = nn.Linear(2, 2)
        m.register_buffer("points", torch.full((3,), value))
        return m

    check_vectorizable([with_buffer(1.0), with_buffer(1.0)])
    with pytest.raises(UnsupportedModelError, match="^" + re.escape(
            "buffer 'points' differs between models[0] and models[1]: only buffers that are constants shared by "
            "every seed can be vectorized") + "$"):
        check_vectorizable([with_buffer(1.0), with_buffer(2.0)])
    other_shape = nn.Linear(2, 2)
    other_shape.register_buffer("points", torch.zeros(4))
    with pytest.raises(UnsupportedModelError, match="buffer 'points' differs"):
        check_vectorizable([with_buffer(0.0), other_shape])
    extra = nn.Linear(2, 2)
    extra.register_buffer("more", torch.zeros(1))
    with pytest.raises(UnsupportedModelError, match="buffer 'more' differs"):
        check_vectorizable([nn.Linear(2, 2), extra])


def test_the_progress_bar_counts_every_batch_of_every_epoch(capsys):
    # outside a kernel the text bar, on stderr, whatever was imported before: tqdm.auto would pick its
    # notebook bar for good once ipykernel is imported (as a test of the lessons' language_info does)
    import ipykernel.zmqshell  # noqa: F401

    train_seeds(build, (X, Y), seeds=[0, 1], epochs=2, lr=0.02, batch_size=16, desc="ST")
    out, err = capsys.readouterr()
    assert "ST ×2 seeds: 100%" in err and "6/6" in err and "batch" in err
    assert [line.split("  ")[0] for line in out.splitlines()] == ["ST ×2 seeds: epoch 1/2", "ST ×2 seeds: epoch 2/2"]


def test_dropout_is_on_while_training():
    # with dropout p = 1 every input is zeroed in training mode: only the bias can learn
    def dropped():
        return nn.Sequential(nn.Flatten(), nn.Dropout(1.0), nn.Linear(9, 3)).double()

    T.seed_everything(0)
    start = dropped()[2].weight.detach().clone()
    models, _ = train_seeds(dropped, (X, Y), seeds=[0, 1], epochs=1, lr=0.05, batch_size=16, progress=False)
    assert torch.equal(models[0][2].weight, start) and not torch.equal(models[0][2].bias, dropped()[2].bias)


@pytest.mark.parametrize("epochs, expected", [(1, [1.0]), (2, [0.1, 0.1]), (3, [0.1, 0.01, 0.01]), (6, [1, 0.1, 0.1, 0.01, 0.01, 0.01])])
def test_the_default_milestones_are_a_third_and_two_thirds(epochs, expected):
    _, hs = train_seeds(build, (X, Y), seeds=[0], epochs=epochs, lr=1.0, batch_size=37, optimizer="sgd",
                        schedule="step", progress=False)
    assert [r["lr"] for r in hs[0].rows] == pytest.approx(expected)



class _Scale(nn.Module):
    """y = w · x · gain: ``gain`` is a plain tensor attribute the forward reads, ``last`` one it sets."""

    def __init__(self, w: float):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float64))
        self.gain = torch.tensor(3.0, dtype=torch.float64)
        self.last = None

    def forward(self, x):
        self.last = x
        return self.w * x * self.gain


def test_one_input_per_seed_may_be_a_scalar():
    stack = StackedModels([_Scale(2.0), _Scale(5.0)])
    out = stack(torch.tensor([1.0, 10.0], dtype=torch.float64))  # S = 2 seeds, each sees one scalar
    torch.testing.assert_close(out, torch.tensor([6.0, 150.0], dtype=torch.float64))
    with pytest.raises(ValueError, match=re.escape("got shape ()")):
        stack(torch.tensor(1.0, dtype=torch.float64))


def test_the_attributes_a_forward_sets_are_restored_to_their_values():
    stack = StackedModels([_Scale(2.0), _Scale(5.0)])
    x = torch.ones(2, 4, dtype=torch.float64)
    first = stack(x)
    assert stack.base.last is None  # no vmapped tensor outlives the call
    assert torch.equal(stack.base.gain, torch.tensor(3.0, dtype=torch.float64))  # kept, not set to None
    torch.testing.assert_close(stack(x), first)  # so a second call still reads it


class _ItemForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        return self.lin(x) * float(x.sum().item())  # .item() cannot run under vmap


def test_a_forward_that_vmap_cannot_run_names_the_model_and_the_fallback():
    from stnlib.seeds import UnsupportedModelError

    stack = StackedModels([_ItemForward(), _ItemForward()])
    with pytest.raises(UnsupportedModelError) as info:
        stack(torch.ones(2, 3, 2))
    message = str(info.value)
    cause = str(info.value.__cause__)
    assert "vmap" in cause
    assert message == ("_ItemForward's forward pass cannot run under torch.vmap (" + cause + "); "
                       "train these seeds one after another with stnlib.train.train")


class _Raises(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        raise RuntimeError("a plain failure of the model")


def test_a_forward_that_fails_for_another_reason_raises_its_own_error():
    stack = StackedModels([_Raises(), _Raises()])
    with pytest.raises(RuntimeError, match="^a plain failure of the model$"):
        stack(torch.ones(2, 3, 2))
