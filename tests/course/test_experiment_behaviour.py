"""stnlib.course.experiment, the engine every replication runs on (issue 25, mutation run of 2026-12-05):
the table's every cell, comparisons over the shared seeds with their direction and unit, the flag lines,
what ``record`` stores, the inputs θ is measured on, the cache key, the test scores, the vectorized
seeds' checks, and every error message exactly. Runs are built by hand where training is not the point."""

import math
import re

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from stnlib import stats
from stnlib.course import experiment as E
from stnlib.recipe import Recipe
from stnlib.train import History

RECIPE = Recipe(epochs=1, lr=0.02, batch_size=16)
X = torch.rand(40, 1, 4, 4, generator=torch.Generator().manual_seed(0))
Y = torch.tensor([0, 1, 1, 1] * 10)  # the most frequent label is 75 %: majority error 25 %


def exp(**kw):
    return E.Experiment(**{"progress": False, "recipe": RECIPE, "train_data": (X, Y), "test_data": (X, Y), **kw})


def put(e, name, seed, value, *, spread=None, at_chance=False, scores=None):
    e.runs[name, seed] = E.Run(name, seed, nn.Linear(1, 1), History(), scores or {e.primary: value}, 1.0,
                               spread, at_chance)


def test_the_table_cell_by_cell():
    e = exp()
    for s, v in zip((0, 1, 2), (1.0, 2.0, 4.0)):
        put(e, "ST", s, v, spread=0.5 + s)
    put(e, "CNN", 0, 3.0)
    m, lo, hi = stats.mean_interval([1.0, 2.0, 4.0])
    lines = e.table().splitlines()
    assert lines[0] == "| model | error (mean [95 % interval]) | per seed | θ spread | flags |"
    assert lines[1] == "|---|---|---|---|---|"
    assert lines[2] == f"| ST | {m:.2f} [{lo:.2f}, {hi:.2f}] | 1.00, 2.00, 4.00 | 0.500, 1.500, 2.500 | – |"
    assert lines[3] == "| CNN | 3.00 | 3.00 | – | – |"  # one seed: no interval
    assert len(lines) == 4
    assert e.table(["CNN"]).splitlines()[2] == lines[3]
    with_paper = e.table(["CNN", "ST"], paper={"ST": 1.234}).splitlines()
    assert with_paper[0].endswith("| flags | paper |") and with_paper[1] == "|---|---|---|---|---|---|"
    assert with_paper[2].endswith("| – | – |") and with_paper[3].endswith("| – | 1.23 |")


def test_the_table_of_another_score_and_its_flags():
    e = exp()
    put(e, "ST", 0, 1.0, spread=0.001, at_chance=True, scores={"error": 1.0, "f1": 70.0})
    put(e, "ST", 1, 2.0, spread=0.2, scores={"error": 2.0, "f1": 80.0})
    row = e.table(score="f1").splitlines()
    assert row[0].startswith("| model | f1 (mean [95 % interval]) |")
    assert row[2].startswith("| ST | 75.00 [") and "| 70.00, 80.00 | 0.001, 0.200 |" in row[2]
    assert row[2].endswith("| collapsed, transformer never moved |")


def test_flag_lines_group_models_and_seeds():
    e = exp()
    put(e, "A", 0, 1.0, spread=0.001, at_chance=True)
    put(e, "A", 1, 1.0, spread=0.001)
    put(e, "B", 3, 1.0, at_chance=True)
    put(e, "C", 0, 1.0, spread=0.5)
    assert e.flag_lines() == ["collapsed: A (seed 0)", "transformer never moved: A (seeds 0, 1)",
                              "at chance: B (seed 3)"]
    assert e.flag_lines(["C"]) == [] and e.flag_lines(["B"]) == ["at chance: B (seed 3)"]


def test_compare_uses_the_shared_seeds_in_order_and_the_direction():
    e = exp()
    for s, a, b in ((0, 1.0, 3.0), (1, 2.0, 5.0), (2, 1.5, 4.0), (5, 9.0, 0.0)):
        put(e, "A", s, a)
        if s != 5:
            put(e, "B", s, b)
    c = e.compare("A", "B")
    expected = stats.compare([1.0, 2.0, 1.5], [3.0, 5.0, 4.0], names=("A", "B"), higher_is_better=False, unit="%")
    assert c == expected and c.verdict == "ahead" and c.n == 3
    assert e.compare("A", "B", unit="pp").unit == "pp"
    up = exp(primary="f1", higher_is_better=True, trivial=50.0)
    for s in (0, 1, 2):
        put(up, "A", s, 90.0 + s)
        put(up, "B", s, 60.0 + 2 * s)
    assert up.compare("A", "B").verdict == "ahead" and up.compare("A", "B").higher_is_better is True


def test_compare_of_another_score_needs_its_direction():
    e = exp()
    for s in (0, 1, 2):
        put(e, "A", s, 1.0, scores={"error": 1.0 + s, "f1": 90.0 + s})
        put(e, "B", s, 2.0, scores={"error": 3.0 + s, "f1": 80.0 + 2 * s})
    with pytest.raises(ValueError, match="^" + re.escape("higher_is_better: say the direction of 'f1'") + "$"):
        e.compare("A", "B", "f1")
    c = e.compare("A", "B", "f1", higher_is_better=True)
    assert c.verdict == "ahead" and c.unit == "" and c.a[0] == 91.0
    assert e.compare("A", "B", "error").unit == "%"  # the primary score keeps the experiment's unit


def test_compare_without_a_shared_seed():
    e = exp()
    put(e, "A", 0, 1.0)
    put(e, "B", 1, 1.0)
    with pytest.raises(ValueError, match="^" + re.escape("'A' and 'B' share no seed; they cannot be compared pairwise") + "$"):
        e.compare("A", "B")


def test_names_seeds_values_and_their_errors():
    e = exp()
    with pytest.raises(KeyError, match=re.escape("no run of 'A'; trained: none")):
        e.seeds_of("A")
    put(e, "B", 2, 1.0)
    put(e, "A", 1, 2.0)
    put(e, "B", 0, 3.0)
    assert e.names() == ["B", "A"] and e.seeds_of("B") == [2, 0]
    assert e.values("B") == [1.0, 3.0] and e.values("B", seeds=[0]) == [3.0]
    with pytest.raises(KeyError, match=re.escape("no run of 'C'; trained: B, A")):
        e.values("C")
    with pytest.raises(KeyError, match=re.escape("'B' was not trained with seed(s) [1, 7]")):
        e.values("B", seeds=[0, 1, 7])


def test_record_stores_values_seeds_direction_unit_and_note(tmp_path, monkeypatch):
    monkeypatch.setenv("STN_RESULTS", str(tmp_path / "results.json"))
    monkeypatch.setenv("STN_LESSON", "05")
    e = exp()
    put(e, "A", 0, 1.0, spread=0.001)
    put(e, "A", 1, 2.0, spread=0.5, scores={"error": 2.0, "f1": 77.0})
    entry = e.record("test error, A", "A", paper=1.5, note="n")
    assert entry["values"] == [1.0, 2.0] and entry["seeds"] == [0, 1] and entry["paper"] == 1.5
    assert entry["unit"] == "%" and entry["higher_is_better"] is False
    assert entry["note"] == "n; transformer never moved: A (seed 0)"
    put(e, "G", 0, 1.0, spread=0.5, scores={"error": 1.0, "f1": 70.0})
    put(e, "G", 1, 1.0, spread=0.5, scores={"error": 1.0, "f1": 80.0})
    other = e.record("f1, G", "G", "f1", higher_is_better=True)
    assert other["values"] == [70.0, 80.0] and other["unit"] == "" and other["higher_is_better"] is True
    assert other["note"] == ""
    assert e.record("f1 %, G", "G", "f1", unit="%")["unit"] == "%"
    assert e.record("error, G", "G", higher_is_better=True)["higher_is_better"] is True


def test_scores_are_the_test_metrics_without_the_loss_or_the_experiments_own():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    e = exp()
    logits = model(X)
    error = 100.0 * float((logits.argmax(1) != Y).float().mean())
    assert e.score(model) == pytest.approx({"error": error})
    own = exp(score=lambda m: {"error": torch.tensor(3.5), "f1": 1})
    assert own.score(model) == {"error": 3.5, "f1": 1.0} and all(type(v) is float for v in own.score(model).values())


def test_at_chance_is_measured_from_the_trivial_score_towards_perfect():
    e = exp()
    assert e.trivial == 25.0 and e.perfect == 0.0
    assert e.is_at_chance(25.0) and e.is_at_chance(22.6) and not e.is_at_chance(22.4)
    up = exp(primary="f1", higher_is_better=True, trivial=40.0)
    assert up.perfect == 100.0
    assert up.is_at_chance(45.9) and not up.is_at_chance(46.1)
    assert exp(trivial=50.0, perfect=10.0).is_at_chance(46.5) and not exp(trivial=50.0, perfect=10.0).is_at_chance(45.9)


class Watched(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.Identity()
        self.lin = nn.Linear(1, 1)
        self.seen = None

    def transformed(self, x):
        self.seen = x
        return x, x.flatten(1)[:, :6] * 2


def test_the_spread_is_measured_on_the_first_test_inputs_in_eval_mode():
    many = torch.rand(600, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    model = Watched().train()
    for data in ((many, torch.zeros(600, dtype=torch.long)), TensorDataset(many, torch.zeros(600)),
                 type("S", (), {"images": many, "labels": torch.zeros(600)})()):
        e = E.Experiment(progress=False, recipe=RECIPE, train_data=(X, Y), test_data=data, trivial=50.0)
        spread = e.spread(model)
        assert torch.equal(model.seen, many[:E.THETA_INPUTS])
        assert spread == pytest.approx(E.theta_spread(many[:512].flatten(1)[:, :6] * 2))
        assert model.training  # the mode is restored
    assert E.THETA_INPUTS == 512
    small = TensorDataset(many[:3], torch.zeros(3))
    E.Experiment(progress=False, recipe=RECIPE, train_data=(X, Y), test_data=small, trivial=50.0).spread(model)
    assert torch.equal(model.seen, many[:3])
    assert exp().spread(nn.Linear(1, 1)) is None


def test_theta_spread_and_its_error():
    theta = torch.tensor([[1.0, 0.0], [3.0, 0.5], [5.0, 1.0]], dtype=torch.float64)
    assert E.theta_spread(theta) == pytest.approx(2.0)  # the first entry's standard deviation
    for bad, shape in ((torch.zeros(1, 6), "(1, 6)"), (torch.zeros(5), "(5,)"), ([1.0, 2.0], "list")):
        with pytest.raises(ValueError, match="^" + re.escape(f"theta must be a tensor N×… with N ≥ 2 inputs, got {shape}") + "$"):
            E.theta_spread(bad)


@pytest.mark.parametrize("name, slug", [("ST-CNN Aff", "ST-CNN-Aff"), ("2×ST (zeros)", "2-ST-zeros"),
                                        ("a.b_c", "a.b_c"), ("×", "model"), ("  x  ", "x")],
                         ids=["spaces", "symbols", "kept", "nothing-left", "ends"])
def test_slug(name, slug):
    assert E._slug(name) == slug


def test_the_cache_key_changes_with_each_ingredient():
    e = exp()
    base = e._fingerprint("A", 0, RECIPE, None)
    assert len(base) == 16 and base == e._fingerprint("A", 0, RECIPE, None)
    others = {e._fingerprint("B", 0, RECIPE, None), e._fingerprint("A", 1, RECIPE, None),
              e._fingerprint("A", 0, Recipe(epochs=2, lr=0.02, batch_size=16), None),
              e._fingerprint("A", 0, RECIPE, "zeros"),
              E.Experiment(progress=False, recipe=RECIPE, train_data=(X[:30], Y[:30]), test_data=(X, Y))
              ._fingerprint("A", 0, RECIPE, None)}
    assert base not in others and len(others) == 5


def test_run_seeds_vectorized_refuses_what_it_cannot_do(tmp_path):
    per_seed = E.Experiment(progress=False, recipe=RECIPE, train_data=lambda s: (X, Y), test_data=(X, Y))
    with pytest.raises(ValueError, match="^" + re.escape(
            "vectorized=True needs one training set for every seed; this experiment draws one per seed "
            "(train_data is a function)") + "$"):
        per_seed.run_seeds("A", lambda: nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), [0, 1], vectorized=True)
    cached = exp(cache_dir=tmp_path)
    with pytest.raises(ValueError, match="^" + re.escape(
            "vectorized=True keeps no checkpoints: use it without cache_dir") + "$"):
        cached.run_seeds("A", lambda: nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), [0, 1], vectorized=True)


def test_run_seeds_vectorized_shares_the_time_and_returns_seeds_in_order():
    e = exp()
    runs = e.run_seeds("A", lambda: nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), [2, 0], vectorized=True)
    assert [r.seed for r in runs] == [2, 0] and e.seeds_of("A") == [2, 0]
    assert all(r.seconds > 0 and r.name == "A" and len(r.history) == 1 for r in runs)
    assert runs[0].seconds == pytest.approx(runs[1].seconds)  # each its share of the joint time
    again = e.run_seeds("A", lambda: nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), [0, 2, 1], vectorized=True)
    assert again[0] is runs[1] and again[1] is runs[0] and again[2].seed == 1


def test_run_names_must_be_strings():
    for bad in ("", None, 3):
        with pytest.raises(ValueError, match="^" + re.escape(f"name must be a non-empty string, got {bad!r}") + "$"):
            exp().run(bad, lambda: nn.Linear(1, 1), 0)


def test_construction_errors_are_exact():
    with pytest.raises(TypeError, match="^recipe must be a stnlib.recipe.Recipe, got dict$"):
        E.Experiment(recipe={}, train_data=(X, Y), test_data=(X, Y))
    with pytest.raises(ValueError, match="^" + re.escape(
            "trivial: give the trivial predictor's score; the test data has no labels to find the most "
            "frequent one") + "$"):
        E.Experiment(recipe=RECIPE, train_data=(X, Y), test_data=TensorDataset(X, Y))
    with pytest.raises(ValueError, match="^" + re.escape(
            "trivial: give the trivial predictor's score for a score where higher is better (the default "
            "is the most-frequent-label error)") + "$"):
        E.Experiment(recipe=RECIPE, train_data=(X, Y), test_data=(X, Y), higher_is_better=True)
    assert math.isclose(E.majority_error(torch.tensor([[2, 2], [0, 2]])), 25.0)


# ----------------------------------------------------------------------------- training through run()


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 2))


def metric_pos(out, y):  # a second metric: % of answers "1"
    return 100.0 * float((out.argmax(1) == 1).float().mean())


class WithLoc(nn.Module):
    """A model whose parameters include a localization net's (named transformer.loc.0.…)."""

    def __init__(self):
        super().__init__()
        from stnlib.grids import make_grid_generator
        from stnlib.localization import LocalizationNet, fc_body
        self.transformer = nn.Module()
        self.transformer.loc = nn.ModuleList([LocalizationNet(fc_body(16, hidden=4, layers=1), 4,
                                                              make_grid_generator("affine"))])
        self.body = mlp()

    def forward(self, x):
        return self.body(x) + self.transformer.loc[0](x).flatten(1)[:, :2]


def test_run_passes_the_recipe_metrics_hook_time_budget_and_label(capsys):
    e = exp(metrics={"error": __import__("stnlib").metrics.error, "pos": metric_pos}, progress="log")
    steps = []
    run = e.run("A B", mlp, 0, recipe=Recipe(epochs=2, lr=0.02, batch_size=16), on_step=lambda i: steps.append(i.step))
    assert len(run.history) == 2 and "train_pos" in run.history.last and set(run.scores) == {"error", "pos"}
    assert steps == list(range(6))  # 40 examples in batches of 16: 3 steps per epoch
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("A B, seed 0: epoch 1/2  train loss ")
    stopped = e.run("T", mlp, 0, max_seconds=1e-9)
    assert stopped.history.last.get("stopped") == 1
    own = exp(score=lambda m: {"error": float(m[1].bias.detach().abs().sum())})
    r = own.run("S", mlp, 3)
    assert r.scores["error"] == pytest.approx(float(r.model[1].bias.detach().abs().sum()))


def test_a_primary_score_missing_from_the_scores_is_named():
    e = exp(score=lambda m: {"f1": 1.0, "iou": 2.0})
    with pytest.raises(KeyError) as err:
        e.run("A", mlp, 0)
    assert err.value.args[0] == "the experiment's score gave f1, iou, not its primary score 'error'"


def test_test_data_of_another_kind():
    class Labelled:
        def __init__(self):
            self.images, self.labels = X, Y

        def __len__(self):
            return len(Y)

        def __getitem__(self, i):
            return X[i], Y[i]

    assert E.Experiment(recipe=RECIPE, train_data=(X, Y), test_data=Labelled()).trivial == 25.0
    assert E.Experiment(recipe=RECIPE, train_data=(X, Y), test_data=[X, Y]).trivial == 25.0
    odd = E.Experiment(recipe=RECIPE, train_data=(X, Y), test_data=5, trivial=50.0)
    with pytest.raises(TypeError, match="^" + re.escape(
            "test_data must be a torch Dataset or an (images, labels) pair of tensors, got int") + "$"):
        odd.spread(Watched())


def test_the_disk_cache_keeps_every_field_and_tells_runs_apart(tmp_path):
    cache = tmp_path / "a" / "b"  # made, parents and all
    first = exp(cache_dir=cache)
    seen = []
    run = first.run("A B", mlp, 1, recipe=Recipe(epochs=2, lr=0.02, batch_size=16),
                    on_step=lambda i: seen.append(sorted(p.name for p in cache.iterdir())))
    assert seen[-1] and all(n.endswith(".ckpt.pt") for n in seen[-1])  # the checkpoint while it trains
    assert [p.name.endswith(".run.pt") for p in cache.iterdir()] == [True]  # then only the finished run
    again = exp(cache_dir=cache)
    loaded = again.run("A B", mlp, 1, recipe=Recipe(epochs=2, lr=0.02, batch_size=16))
    assert (loaded.name, loaded.seed, loaded.seconds, loaded.spread, loaded.at_chance, loaded.scores) == \
        (run.name, run.seed, run.seconds, run.spread, run.at_chance, run.scores)
    assert again.run("A B", mlp, 1) is loaded and again.runs["A B", 1] is loaded  # no second load
    assert loaded.history.rows == run.history.rows
    # the same slug, another name; another key: trained, not loaded
    other = exp(cache_dir=cache).run("A-B", mlp, 1, recipe=Recipe(epochs=2, lr=0.02, batch_size=16))
    keyed = exp(cache_dir=cache).run("A B", mlp, 1, recipe=Recipe(epochs=2, lr=0.02, batch_size=16), key="zeros")
    assert len(list(cache.iterdir())) == 3
    assert other.seconds != run.seconds and keyed.seconds != run.seconds  # trained anew, not loaded


def test_an_interrupted_training_resumes_from_its_checkpoint(tmp_path):
    recipe = Recipe(epochs=2, lr=0.02, batch_size=16)

    def stop_in_epoch_2(info):
        if info.epoch == 1:
            raise RuntimeError("interrupted")

    e = exp(cache_dir=tmp_path)
    with pytest.raises(RuntimeError, match="interrupted"):
        e.run("A", mlp, 0, recipe=recipe, on_step=stop_in_epoch_2)
    (ckpt,) = tmp_path.iterdir()
    first_epoch = torch.load(ckpt, weights_only=False)["history"]
    assert len(first_epoch) == 1
    resumed = exp(cache_dir=tmp_path).run("A", mlp, 0, recipe=recipe)
    assert resumed.history.rows[0] == first_epoch[0] and len(resumed.history) == 2
    assert not ckpt.exists()


def test_the_cache_key_is_the_documented_hash():
    import hashlib
    import json

    e = exp()
    text = json.dumps({"name": "A", "seed": 3, "recipe": RECIPE.as_dict(), "key": repr("k"), "n_train": 40},
                      sort_keys=True)
    assert e._fingerprint("A", 3, RECIPE, "k") == hashlib.sha256(text.encode()).hexdigest()[:16]


def test_run_seeds_vectorized_trains_as_run_would_with_the_whole_recipe(capsys):
    recipe = Recipe(epochs=2, lr=0.05, batch_size=16, optimizer="sgd", momentum=0.9, weight_decay=0.01,
                    schedule="constant", loc_lr_scale=0.1)
    metrics = {"error": __import__("stnlib").metrics.error, "pos": metric_pos}
    vec = exp(metrics=metrics, progress="log")
    runs = vec.run_seeds("L", WithLoc, [0, 1], recipe=recipe, vectorized=True)
    out = capsys.readouterr().out
    assert out.startswith("L, seeds 0, 1 ×2 seeds: epoch 1/2  train loss ")
    one = exp(metrics=metrics, progress=False)
    for r in runs:
        ref = one.run("L", WithLoc, r.seed, recipe=recipe)
        assert len(r.history) == 2 and "train_pos" in r.history.last
        for a, b in zip(r.model.parameters(), ref.model.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    plain = exp(cache_dir=None)
    assert [len(r.history) for r in plain.run_seeds("P", mlp, [0, 1], recipe=Recipe(epochs=3, batch_size=16))] == [3, 3]


def test_run_seeds_is_one_by_one_by_default_and_for_one_seed(tmp_path):
    cached = exp(cache_dir=tmp_path)
    assert [r.seed for r in cached.run_seeds("A", mlp, [0, 1])] == [0, 1]  # with a cache: no vectorizing asked
    assert [r.seed for r in cached.run_seeds("B", mlp, [2], vectorized=True)] == [2]  # one seed: nothing to vectorize


# ----------------------------------------------------------------------------- edges (second pass)


def test_edges_of_the_helpers():
    assert E.theta_spread(torch.tensor([[0.0, 1.0], [2.0, 1.0]])) == pytest.approx(math.sqrt(2.0))  # two inputs suffice
    assert E.majority_error(torch.tensor([3])) == 0.0
    with pytest.raises(ValueError, match="^" + re.escape("labels must be a non-empty tensor of class indices (>= 0)") + "$"):
        E.majority_error(torch.tensor([], dtype=torch.long))
    assert E._slug("X-ray XX") == "X-ray-XX"

    class OnlyTransformed(nn.Module):  # an accessor, but no transformer attribute
        def transformed(self, x):
            return x, x

    assert E.transformer_theta(OnlyTransformed(), X) is None


def test_labels_are_read_from_pairs_and_label_attributes_only():
    class NotIndexable:
        labels = Y
        images = X

    assert E.Experiment(recipe=RECIPE, train_data=(X, Y), test_data=NotIndexable()).trivial == 25.0
    for no_labels in ((X, Y, Y), type("L", (), {"labels": Y.tolist(), "images": X})()):
        with pytest.raises(ValueError, match="^trivial: give the trivial predictor's score; the test data has no labels"):
            E.Experiment(recipe=RECIPE, train_data=(X, Y), test_data=no_labels)


def test_the_lessons_context_gives_device_and_progress():
    ctx = type("Ctx", (), {"device": torch.device("cpu"), "progress": "log"})()
    e = E.Experiment(ctx, recipe=RECIPE, train_data=(X, Y), test_data=(X, Y))
    assert e.ctx is ctx and e.device == torch.device("cpu") and e.progress == "log"
    assert E.Experiment(ctx, recipe=RECIPE, train_data=(X, Y), test_data=(X, Y), progress=False).progress is False
    plain = E.Experiment(recipe=RECIPE, train_data=(X, Y), test_data=(X, Y))
    assert plain.ctx is None and plain.progress is True and plain.device == torch.device("cpu")


def test_at_chance_is_strict_at_the_boundary():
    assert not exp().is_at_chance(22.5)  # exactly 10 % of the way from 25 to 0: no longer at chance


def test_make_must_return_a_module():
    with pytest.raises(TypeError, match="^make\\(\\) must return an nn.Module, got int$"):
        exp().run("A", lambda: 3, 0)


def double_loss(out, y):
    return 2 * torch.nn.functional.cross_entropy(out, y)


def test_the_experiments_loss_is_the_one_trained_and_progress_off_is_silent(capsys):
    plain = exp().run("A", mlp, 0)
    doubled = exp(loss=double_loss).run("A", mlp, 0)
    assert doubled.history.rows[0]["train_loss"] == pytest.approx(2 * plain.history.rows[0]["train_loss"], rel=1e-3)
    vec = exp(loss=double_loss).run_seeds("A", mlp, [0, 1], vectorized=True)
    assert vec[0].history.rows[0]["train_loss"] == pytest.approx(2 * plain.history.rows[0]["train_loss"], rel=1e-3)
    assert vec[0].seconds == pytest.approx(sum(r["seconds"] for r in vec[0].history.rows) / 2)
    assert capsys.readouterr() == ("", "")


def test_a_cached_run_keeps_its_theta_spread(tmp_path):
    from stnlib.transformer import SpatialTransformer

    class ST(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = SpatialTransformer(1, align_corners=False)
            self.body = mlp()

        def transformed(self, x):
            return self.transformer(x)

        def forward(self, x):
            return self.body(self.transformer(x)[0])

    first = exp(cache_dir=tmp_path).run("ST", ST, 0)
    again = exp(cache_dir=tmp_path).run("ST", ST, 0)
    assert first.spread is not None and again.spread == first.spread


def test_comparisons_and_notes_of_several_models():
    e = exp()
    for s in (0, 1, 2):
        put(e, "P", s, 1.0, scores={"error": 1.0 + s, "f1": 90.0 + s})
        put(e, "Q", s, 2.0, scores={"error": 3.0 + s, "f1": 80.0 + 2 * s})
    put(e, "Q", 7, 2.0, scores={"error": 9.0, "f1": 1.0})  # a seed only Q has: left out of the pairs
    c = e.compare("P", "Q", "f1", higher_is_better=True)
    assert c.names == ("P", "Q") and c.b[0] == pytest.approx(82.0) and c.n == 3
    assert e.compare("P", "Q").b[0] == pytest.approx(4.0)
    f = exp()
    put(f, "A", 0, 1.0, spread=0.001, at_chance=True)
    put(f, "B", 1, 1.0, spread=0.001, at_chance=True)
    assert f.flag_lines() == ["collapsed: A (seed 0), B (seed 1)", "transformer never moved: A (seed 0), B (seed 1)"]


def test_a_note_with_two_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("STN_RESULTS", str(tmp_path / "r.json"))
    monkeypatch.setenv("STN_LESSON", "04")
    e = exp()
    put(e, "A", 0, 1.0, spread=0.001, at_chance=True)
    put(e, "A", 1, 2.0, spread=0.5)
    assert e.record("k", "A")["note"] == "collapsed: A (seed 0); transformer never moved: A (seed 0)"


def test_the_device_is_the_lessons_own():
    ctx = type("Ctx", (), {"device": torch.device("cpu", 0), "progress": False})()
    assert E.Experiment(ctx, recipe=RECIPE, train_data=(X, Y), test_data=(X, Y)).device == torch.device("cpu", 0)
