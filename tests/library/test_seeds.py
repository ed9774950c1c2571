"""stnlib.seeds: several seeds trained as one vectorized model give what one run per seed gives."""

import pytest
import torch
from torch import nn

from stnlib.models import build_model, timeseries
from stnlib.models.unet import UNet
from stnlib.seeds import StackedModels, UnsupportedModelError, check_vectorizable, train_seeds
from stnlib.train import NonFiniteLossError, evaluate, seed_everything, train

SEEDS = [0, 1, 2]


def _data(shape, n=40, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, *shape, generator=g, dtype=dtype), torch.randint(0, 10, (n,), generator=g)


def _sequential(build, data, **kw):
    runs = []
    for seed in SEEDS:
        seed_everything(seed)
        model = build()
        runs.append((model, train(model, data, seed=seed, progress=False, **kw)))
    return runs


CASES = {
    # lesson 03's ST-CNN (affine; Adam, one-cycle, a slower localization net) on 28×28
    "ST-CNN Aff": (lambda: build_model("ST-CNN Aff", in_size=28, width=3).double(), (1, 28, 28),
                   {"lr_scale": {"transformer.loc": 0.1}}),
    # the TPS transformer's control points are a buffer every seed shares
    "ST-CNN TPS": (lambda: build_model("ST-CNN TPS", in_size=28, width=3).double(), (1, 28, 28), {}),
    # lesson 06's time-warp ST-CNN (grid_sample on an image of height 1); SGD, stepped schedule
    "1-D ST-CNN": (lambda: timeseries.st_cnn(40, channels=6).double(), (1, 40),
                   {"optimizer": "sgd", "momentum": 0.9, "schedule": "step", "lr": 0.05}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_three_seeds_at_once_equal_three_sequential_runs(name):
    build, shape, kw = CASES[name]
    data, val = _data(shape), _data(shape, n=16, seed=1)
    common = dict(epochs=2, batch_size=16, val_data=val, **kw)  # 3 steps per epoch, the last one short
    sequential = _sequential(build, data, **common)
    models, histories = train_seeds(build, data, seeds=SEEDS, progress=False, **common)
    assert len(models) == len(histories) == len(SEEDS)
    for (ref_model, ref_history), model, history in zip(sequential, models, histories):
        assert type(model) is type(ref_model)
        moved = 0.0
        for (n, p), (n_ref, p_ref) in zip(model.named_parameters(), ref_model.named_parameters()):
            assert n == n_ref
            torch.testing.assert_close(p, p_ref, rtol=1e-9, atol=1e-10)
            seed_everything(0)
            moved = max(moved, (p_ref - build().state_dict()[n]).abs().max().item())
        assert moved > 1e-3  # the weights trained, so the comparison means something
        assert len(history) == len(ref_history) == 2
        for row, ref_row in zip(history.rows, ref_history.rows):
            assert set(row) == set(ref_row)
            for key in row:
                if key != "seconds":
                    assert row[key] == pytest.approx(ref_row[key], rel=1e-9, abs=1e-9), key


def test_float32_weights_and_losses_agree_to_rounding():
    build = CASES["ST-CNN Aff"][0]

    def build32():
        return build().float()

    data = _data((1, 28, 28), dtype=torch.float32)
    sequential = _sequential(build32, data, epochs=1, batch_size=16)
    models, histories = train_seeds(build32, data, seeds=SEEDS, epochs=1, batch_size=16, progress=False)
    for (ref_model, ref_history), model, history in zip(sequential, models, histories):
        assert history["train_loss"] == pytest.approx(ref_history["train_loss"], rel=1e-5)
        for p, p_ref in zip(model.parameters(), ref_model.parameters()):
            torch.testing.assert_close(p, p_ref, rtol=1e-3, atol=1e-3)


def test_seed_k_starts_from_the_weights_the_sequential_path_builds():
    models = []
    for seed in SEEDS:
        seed_everything(seed)
        models.append(build_model("ST-CNN Aff", in_size=28, width=3))
    stack = StackedModels(models)
    for k, seed in enumerate(SEEDS):
        seed_everything(seed)
        fresh = build_model("ST-CNN Aff", in_size=28, width=3)
        for n, p in fresh.named_parameters():
            assert torch.equal(stack.params[n][k], p)
    assert not torch.equal(stack.params["body.head.weight"][0], stack.params["body.head.weight"][1])


@pytest.mark.parametrize("name", ["ST-CNN Aff", "1-D ST-CNN"])
def test_returned_modules_evaluate_as_the_stacked_forward(name):
    build, shape, _ = CASES[name]
    models, _ = train_seeds(build, _data(shape), seeds=SEEDS, epochs=1, batch_size=16, progress=False)
    assert all(isinstance(m, nn.Module) and m.training for m in models)
    x = _data(shape, n=7, seed=3)[0]
    stack = StackedModels(models)
    stack.train(False)
    out = stack(x, shared=True)
    assert out.shape == (3, 7, 10)
    per_seed = torch.stack([x[None].expand(3, *x.shape)[k] for k in range(3)])
    torch.testing.assert_close(stack(per_seed), out)
    for k, model in enumerate(models):
        model.eval()
        torch.testing.assert_close(model(x), out[k], rtol=1e-12, atol=1e-12)
    assert models[0].last_theta is not None  # the ordinary module ran; the stack left no vmapped θ
    assert stack.base.last_theta is None
    scores = stack.evaluate(_data(shape, n=9, seed=4))
    for model, score in zip(models, scores):
        ref = evaluate(model, _data(shape, n=9, seed=4))
        assert score == pytest.approx(ref, rel=1e-9)


def test_a_seed_gets_its_own_dropout_mask():
    def build():
        return nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 2)).double()

    models = []
    for _ in SEEDS:
        seed_everything(0)  # the same weights: only the masks can differ
        models.append(build())
    stack = StackedModels(models)
    assert stack.randomness == "different"
    out = stack(torch.ones(5, 4, dtype=torch.float64), shared=True)
    assert not torch.equal(out[0], out[1])
    stack.train(False)
    out = stack(torch.ones(5, 4, dtype=torch.float64), shared=True)
    assert torch.equal(out[0], out[1])


def test_batchnorm_models_are_refused_with_a_clear_error():
    with pytest.raises(UnsupportedModelError, match="BatchNorm2d.*running statistics.*stnlib.train.train"):
        train_seeds(lambda: UNet(2, in_channels=1, n_classes=2, base=4, in_size=16), _data((1, 16, 16)), seeds=SEEDS, epochs=1,
                    progress=False)
    with pytest.raises(UnsupportedModelError, match="BatchNorm1d"):
        check_vectorizable([nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))])


def test_different_architectures_and_different_buffers_are_refused():
    with pytest.raises(UnsupportedModelError, match="same architecture"):
        check_vectorizable([nn.Linear(2, 3), nn.Linear(2, 4)])
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    a.register_buffer("scale", torch.ones(1))
    b.register_buffer("scale", torch.zeros(1))
    with pytest.raises(UnsupportedModelError, match="buffer 'scale' differs"):
        check_vectorizable([a, b])


def test_data_dependent_control_flow_is_an_unsupported_model():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 10)

        def forward(self, x):
            return self.lin(x) if x.sum() > 0 else -self.lin(x)

    with pytest.raises(UnsupportedModelError, match="torch.vmap"):
        train_seeds(Branchy, _data((4,), dtype=torch.float32), seeds=SEEDS, epochs=1, progress=False)


def test_a_non_finite_loss_names_the_seed():
    def build():
        return nn.Sequential(nn.Flatten(), nn.Linear(4, 10)).double()

    x, y = _data((4,))
    x[3, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match=r"seed \d's loss became nan at epoch 1/1"):
        train_seeds(build, (x, y), seeds=SEEDS, epochs=1, batch_size=40, progress=False)


def test_bad_arguments():
    build, data = CASES["1-D ST-CNN"][0], _data((1, 40))
    for seeds, match in (([], "non-empty"), ([0, 0], "distinct"), ([0, 1.5], "ints")):
        with pytest.raises(ValueError, match=match):
            train_seeds(build, data, seeds=seeds, epochs=1, progress=False)
    with pytest.raises(ValueError, match="lr_scale: no parameter"):
        train_seeds(build, data, seeds=SEEDS, epochs=1, lr_scale={"nope": 0.1}, progress=False)
    with pytest.raises(ValueError, match="progress"):
        train_seeds(build, data, seeds=SEEDS, epochs=1, progress="loud")
    with pytest.raises(ValueError, match="S×N"):
        StackedModels([build(), build()])(torch.rand(3, 5, 1, 40, dtype=torch.float64))
