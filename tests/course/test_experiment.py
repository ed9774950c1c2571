"""stnlib.course.experiment: one run per (model, seed), cached and resumable; flags; comparisons."""

import pytest
import torch
from torch import nn

from stnlib import SpatialTransformer
from stnlib.course.experiment import (
    CHANCE_FRACTION,
    MOVED_THRESHOLD,
    Experiment,
    majority_error,
    theta_spread,
    transformer_theta,
)
from stnlib.recipe import Recipe


def _data(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.rand(n, 1, 8, 8, generator=g) * 0.5
    x[y == 1, :, :, :4] += 0.5  # class 1: the left half is brighter
    return x, y


TRAIN, TEST = _data(256, 0), _data(128, 1)
RECIPE = Recipe(epochs=3, lr=0.02, batch_size=32)


class Net(nn.Module):
    """A small classifier, with a spatial transformer in front when asked."""

    def __init__(self, st=False):
        super().__init__()
        self.transformer = SpatialTransformer(1, align_corners=False) if st else None
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))

    def transformed(self, x):
        if self.transformer is None:
            raise ValueError("no transformer")
        return self.transformer(x)

    def forward(self, x):
        if self.transformer is not None:
            x = self.transformer(x)[0]
        return self.body(x)


class Constant(nn.Module):
    """Always answers class 1, whatever the input: a model at chance."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.tensor([0.0, 5.0]))

    def forward(self, x):
        return self.bias.expand(x.shape[0], 2) + 0 * x.sum()


def test_theta_spread_and_majority_error():
    assert theta_spread(torch.eye(2, 3).expand(4, 2, 3)) == 0.0
    th = torch.eye(2, 3).repeat(4, 1, 1)
    th[:, 0, 2] = torch.tensor([0.0, 0.1, 0.2, 0.3])
    assert theta_spread(th) == pytest.approx(torch.tensor([0.0, 0.1, 0.2, 0.3]).double().std().item())
    with pytest.raises(ValueError, match="N ≥ 2"):
        theta_spread(torch.eye(2, 3)[None])
    assert majority_error(torch.tensor([0, 1, 1, 1])) == 25.0
    with pytest.raises(ValueError, match="class indices"):
        majority_error(torch.tensor([-1, 0]))


def test_transformer_theta_reads_the_accessor_and_hides_no_error():
    x = TEST[0][:4]
    assert transformer_theta(Net(), x) is None  # transformer=None: no θ
    assert transformer_theta(Constant(), x) is None  # no transformer at all
    torch.testing.assert_close(transformer_theta(Net(st=True), x), torch.eye(2, 3).expand(4, 2, 3))
    with pytest.raises(ValueError, match="U must have 1 channels"):  # a real error is not a "no transformer"
        transformer_theta(Net(st=True), torch.rand(4, 3, 8, 8))


def test_run_trains_scores_and_caches():
    exp = Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST)
    made = []

    def make():
        made.append(1)
        return Net()

    run = exp.run("MLP", make, 0)
    assert run.scores["error"] < exp.trivial - 10  # it learned
    assert not run.at_chance and not run.collapsed and run.spread is None and run.flags == []
    assert len(run.history) == 3 and run.seconds > 0
    assert not run.model.training and next(run.model.parameters()).device.type == "cpu"
    assert exp.run("MLP", make, 0) is run and len(made) == 1  # cached: not built or trained again
    # the same seed gives the same model in a new experiment
    again = Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST).run("MLP", Net, 0)
    assert again.scores == run.scores
    assert all(torch.equal(a, b) for a, b in zip(run.model.parameters(), again.model.parameters()))
    other = exp.run("MLP", Net, 1)
    assert not all(torch.equal(a, b) for a, b in zip(run.model.parameters(), other.model.parameters()))
    assert exp.values("MLP") == [run.scores["error"], other.scores["error"]]
    assert exp.seeds_of("MLP") == [0, 1] and exp.names() == ["MLP"]


def test_training_data_may_be_drawn_per_seed():
    drawn = []

    def train_data(seed):
        drawn.append(seed)
        return _data(128, 10 + seed)

    exp = Experiment(progress=False, recipe=RECIPE.replace(epochs=1), train_data=train_data, test_data=TEST)
    a, b = exp.run("MLP", Net, 0), exp.run("MLP", Net, 1)
    assert drawn == [0, 1] and a.scores != b.scores
    assert len(exp.training_data(3)[0]) == 128


def test_seeds_trained_vectorized_match_seeds_trained_one_by_one():
    recipe = RECIPE.replace(epochs=2)
    one = Experiment(progress=False, recipe=recipe, train_data=TRAIN, val_data=TEST, test_data=TEST)
    many = Experiment(progress=False, recipe=recipe, train_data=TRAIN, val_data=TEST, test_data=TEST)
    seq = one.run_seeds("ST", lambda: Net(st=True), [0, 1, 2])
    vec = many.run_seeds("ST", lambda: Net(st=True), [0, 1, 2], vectorized=True)
    assert [r.seed for r in vec] == [0, 1, 2] and many.seeds_of("ST") == [0, 1, 2]
    for a, b in zip(seq, vec):
        assert b.scores["error"] == pytest.approx(a.scores["error"], abs=1.0)  # one image at most
        assert b.spread == pytest.approx(a.spread, rel=1e-3, abs=1e-6)
        for pa, pb in zip(a.model.parameters(), b.model.parameters()):
            torch.testing.assert_close(pb, pa, rtol=1e-3, atol=1e-4)  # float32 rounding of the grouped sums
        assert b.history["val_error"] == pytest.approx(a.history["val_error"], abs=1.0)
        assert not b.model.training and next(b.model.parameters()).device.type == "cpu"
    assert many.run_seeds("ST", lambda: Net(st=True), [0, 1, 2], vectorized=True) == vec  # cached
    with pytest.raises(ValueError, match="one training set"):
        Experiment(progress=False, recipe=recipe, train_data=lambda s: TRAIN, test_data=TEST).run_seeds(
            "ST", Net, [0, 1], vectorized=True)


def test_at_chance_and_collapsed_are_defined_once():
    exp = Experiment(progress=False, recipe=RECIPE.replace(lr=1e-9), train_data=TRAIN, test_data=TEST)
    assert exp.trivial == majority_error(TEST[1])
    run = exp.run("constant", Constant, 0)
    assert run.scores["error"] == pytest.approx(100 * (TEST[1] == 0).float().mean().item())
    assert run.at_chance and not run.collapsed  # no transformer: at chance, but not "collapsed"
    assert run.flags == ["at chance"]
    # the threshold: CHANCE_FRACTION of the way from the trivial score to a perfect one
    edge = exp.trivial * (1 - CHANCE_FRACTION)
    assert exp.is_at_chance(edge + 0.01) and not exp.is_at_chance(edge - 0.01)
    f1 = Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST, primary="f1", higher_is_better=True,
                    trivial=50.0)
    assert f1.perfect == 100.0
    assert f1.is_at_chance(54.9) and not f1.is_at_chance(55.1)


def test_a_transformer_that_never_moved_is_flagged():
    still = Experiment(progress=False, recipe=RECIPE.replace(loc_lr_scale=1e-9), train_data=TRAIN, test_data=TEST)
    run = still.run("ST", lambda: Net(st=True), 0)
    assert run.spread is not None and run.spread < MOVED_THRESHOLD
    assert run.never_moved and "transformer never moved" in run.flags
    moving = Experiment(progress=False, recipe=RECIPE.replace(loc_lr_scale=5.0), train_data=TRAIN, test_data=TEST)
    run = moving.run("ST", lambda: Net(st=True), 0)
    assert run.spread > MOVED_THRESHOLD and not run.never_moved


def test_a_collapsed_transformer():
    class Away(Net):  # a transformer that reads only the padding: every output pixel is 0
        def __init__(self):
            super().__init__(st=True)
            head = self.transformer.loc[0].head
            with torch.no_grad():
                head.bias.copy_(torch.tensor([1.0, 0, 5.0, 0, 1.0, 5.0]))
            for p in self.transformer.parameters():
                p.requires_grad_(False)

    exp = Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST)
    run = exp.run("ST off the image", Away, 0)
    assert run.at_chance and run.collapsed and run.flags[0] == "collapsed"
    exp.run("constant", Constant, 0)
    exp.run("constant", Constant, 1)
    assert exp.flag_lines() == ["collapsed: ST off the image (seed 0)",
                                "transformer never moved: ST off the image (seed 0)",
                                "at chance: constant (seeds 0, 1)"]
    assert exp.flag_lines(["constant"]) == ["at chance: constant (seeds 0, 1)"]


def test_disk_cache_resumes_without_training(tmp_path, monkeypatch):
    exp = Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST, cache_dir=tmp_path)
    run = exp.run("MLP", Net, 0)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("MLP-seed0-") and files[0].endswith(".run.pt")

    from stnlib import recipe as recipe_module

    monkeypatch.setattr(recipe_module.Recipe, "fit", lambda *a, **k: pytest.fail("trained again"))
    back = Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST, cache_dir=tmp_path).run("MLP", Net, 0)
    assert back.scores == run.scores and back.history.rows == run.history.rows
    assert all(torch.equal(a, b) for a, b in zip(run.model.parameters(), back.model.parameters()))
    # another recipe is another run: it trains (and here fails, since fit is patched)
    with pytest.raises(pytest.fail.Exception):
        Experiment(progress=False, recipe=RECIPE.replace(lr=0.01), train_data=TRAIN, test_data=TEST,
                   cache_dir=tmp_path).run("MLP", Net, 0)


def test_compare_table_and_record(tmp_path, monkeypatch):
    monkeypatch.setenv("STN_RESULTS", str(tmp_path / "results.json"))
    monkeypatch.setenv("STN_LESSON", "03")
    exp = Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST)
    for seed in (0, 1, 2):
        exp.run("MLP", Net, seed)
        exp.run("constant", Constant, seed)
    c = exp.compare("MLP", "constant")
    assert c.verdict == "ahead" and c.n == 3 and c.unit == "%"
    assert exp.compare("constant", "MLP").verdict == "behind"
    table = exp.table(paper={"MLP": 1.5})
    lines = table.splitlines()
    assert lines[0].startswith("| model | error (mean [95 % interval]) |") and lines[0].endswith("paper |")
    assert lines[2].startswith("| MLP | ") and lines[2].endswith("| – | – | 1.50 |")
    assert "| at chance | – |" in lines[3]
    entry = exp.record("test error, constant", "constant", note="a note")
    assert entry["values"] == exp.values("constant") and entry["seeds"] == [0, 1, 2]
    assert entry["note"] == ("a note; at chance: constant (seeds 0, 1, 2); at chance in every seed: "
                             "recorded without the paper's value (none) beside it")
    assert entry["higher_is_better"] is False and entry["unit"] == "%"


def test_a_model_at_chance_in_every_seed_gets_no_paper_value(tmp_path, monkeypatch):
    monkeypatch.setenv("STN_RESULTS", str(tmp_path / "results.json"))
    monkeypatch.setenv("STN_LESSON", "03")
    exp = Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST)
    for seed in (0, 1):
        exp.run("MLP", Net, seed)
        exp.run("constant", Constant, seed)
    exp.runs["mixed", 0] = exp.runs["MLP", 0]       # one seed learned, one at chance
    exp.runs["mixed", 1] = exp.runs["constant", 1]
    assert exp.at_chance_in_every_seed("constant")
    assert not exp.at_chance_in_every_seed("MLP") and not exp.at_chance_in_every_seed("mixed")
    rows = exp.table(["MLP", "constant", "mixed"], paper={"MLP": 1.5, "constant": 2.5, "mixed": 3.5})
    rows = rows.splitlines()[2:]
    assert rows[0].endswith(" 1.50 |") and rows[1].endswith(" – |") and rows[2].endswith(" 3.50 |")
    failed = exp.record("test error, constant", "constant", paper=2.5)
    assert failed["paper"] is None
    assert failed["note"].endswith("at chance in every seed: recorded without the paper's value (2.5) beside it")
    learned = exp.record("test error, mixed", "mixed", paper=3.5)
    assert learned["paper"] == 3.5 and "every seed" not in learned["note"]


def test_device_comes_from_the_argument_then_the_lesson():
    class Ctx:
        device = torch.device("cpu")
        progress = "log"

    assert Experiment(recipe=RECIPE, train_data=TRAIN, test_data=TEST).device == torch.device("cpu")
    from_ctx = Experiment(Ctx(), recipe=RECIPE, train_data=TRAIN, test_data=TEST)
    assert from_ctx.device == torch.device("cpu") and from_ctx.progress == "log"
    with pytest.raises(RuntimeError):  # an explicit device wins over the lesson's
        Experiment(Ctx(), recipe=RECIPE, train_data=TRAIN, test_data=TEST, device="no-such-device")


def test_errors():
    exp = Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST)
    with pytest.raises(TypeError, match="recipe"):
        Experiment(progress=False, recipe={"epochs": 1}, train_data=TRAIN, test_data=TEST)
    with pytest.raises(ValueError, match="trivial"):
        Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST, primary="f1", higher_is_better=True)
    with pytest.raises(TypeError, match="nn.Module"):
        exp.run("x", lambda: 3, 0)
    with pytest.raises(KeyError, match="no run of 'nothing'"):
        exp.values("nothing")
    exp.run("MLP", Net, 0)
    with pytest.raises(KeyError, match="seed"):
        exp.values("MLP", seeds=[5])
    with pytest.raises(KeyError, match="primary score 'f1'"):
        Experiment(progress=False, recipe=RECIPE, train_data=TRAIN, test_data=TEST, primary="f1", higher_is_better=True,
                   trivial=50.0).run("MLP", Net, 0)
