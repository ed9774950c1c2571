"""Lesson 07's companion module: the W/M toy, the budgets and recipe, and the two exercise checks
with right and wrong answers (the measures themselves: tests/library/test_equivariance.py)."""

import dataclasses

import pytest
import torch
from checks import assert_check

from stnlib.lessons import l07_feature_maps as L
from stnlib.models.placement import PlacementNet, build
from stnlib.theta import invert


def test_the_w_m_toy():
    W = L.letter_w()
    gamma = L.toy_network(W)
    img = torch.zeros(1, 1, 21, 21)
    img[0, 0, 6:15, 6:15] = W
    M = L.rotation_shift(180.0, size=21)
    spatial, _ = L.best_spatial_alignment(gamma, img, M, range(0, 360, 5))
    permuted, angle = L.best_spatial_alignment(gamma, img, M, range(0, 360, 5), permute=True)
    assert spatial > 0.5  # no rotation brings the channels back
    assert permuted < 1e-5 and angle == 180.0  # swapping the channels and turning back does
    with pytest.raises(ValueError, match="odd k×k"):
        L.toy_network(torch.ones(4, 4))


def test_budgets():
    for name in ("smoke", "standard", "full"):
        ctx = L.start(name)
        assert isinstance(ctx.budget.settings, L.Settings)
    full = L.start("full").budget
    assert full.settings.optimizer == "sgd" and full.lr == 0.01 and full.batch_size == 256
    assert full.settings.test_passes == 10 and len(full.seeds) == 3
    assert full.settings.columns == L.TABLE1_COLUMNS and full.settings.depth_models
    standard = L.start("standard").budget
    assert len(standard.seeds) >= 3  # a table needs 3 seeds per model
    assert len(standard.settings.head_lr_grid) >= 2 and standard.settings.loc_norm == "batch"
    smoke = L.start("smoke").budget.settings  # smoke runs every code path of full
    assert smoke.columns == L.TABLE1_COLUMNS and smoke.depth_models == full.settings.depth_models


@pytest.mark.parametrize("name", ["STN-C0", "STN-C1", "STN-SL1"])
def test_the_recipe_puts_the_theta_head_and_the_localization_body_in_their_own_groups(name):
    from stnlib.train import _param_groups

    model = build(name)
    budget = L.start("smoke").budget
    budget = dataclasses.replace(budget, settings=L.Settings(loc_lr_scale=0.5))
    recipe = L.recipe(budget, head_lr_scale=30.0)
    assert (recipe.optimizer, recipe.schedule, recipe.epochs) == (budget.settings.optimizer,
                                                                  budget.settings.schedule, budget.epochs)
    groups = _param_groups(model, 1e-3, recipe.lr_scale(model))
    lr_of = {id(p): g["lr"] for g in groups for p in g["params"]}
    loc = model.transformer.loc[0]
    assert [lr_of[id(p)] for p in loc.head.parameters()] == pytest.approx([30e-3] * 2)
    body = list(loc.body.parameters())
    assert [lr_of[id(p)] for p in body] == pytest.approx([0.5e-3] * len(body))
    rest = list(model.blocks.parameters()) + list(model.head.parameters())
    assert [lr_of[id(p)] for p in rest] == pytest.approx([1e-3] * len(rest))
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    assert recipe.lr_scale(PlacementNet("CNN")) is None
    override = L.recipe(budget, epochs=7, head_lr_scale=2.0)
    assert override.epochs == 7
    lr_of = {id(p): g["lr"] for g in _param_groups(model, 1e-3, override.lr_scale(model)) for p in g["params"]}
    assert [lr_of[id(p)] for p in loc.head.parameters()] == pytest.approx([2e-3] * 2)
    with pytest.raises(TypeError):
        L.recipe(budget)  # the θ head's factor is always said (tuned per model)


def test_build_uses_the_budgets_localization_norm():
    budget = L.start("smoke").budget
    model = L.build("STN-C1", 28, budget)
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in model.transformer.loc[0].body)
    plain = dataclasses.replace(budget, settings=dataclasses.replace(budget.settings, loc_norm=None))
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in L.build("STN-C1", 28, plain).transformer.loc[0].body)
    assert L.build("CNN", 42, budget).in_size == 42


class _History:
    def __init__(self, val):
        self.last = {"val_error": val}


class _FakeExperiment:
    """What tune_head_lr uses of an Experiment: val_data, runs and run(name, make, seed, recipe=)."""

    def __init__(self, errors, val_data="validation split"):
        self.errors, self.val_data, self.runs, self.calls = errors, val_data, {}, []

    def run(self, name, make, seed, *, recipe):
        from stnlib.course.experiment import Run

        self.calls.append((name, seed, recipe))
        run = Run(name, seed, make(), _History(self.errors[recipe]), {"error": 1.0}, 1.0, 0.1, False)
        self.runs[name, seed] = run
        return run


def test_tune_head_lr_keeps_the_lowest_validation_error_and_adopts_that_run():
    exp = _FakeExperiment({1.0: 8.0, 10.0: 7.5, 100.0: 9.0})
    chosen, errors = L.tune_head_lr(exp, "STN-C1", lambda: torch.nn.Linear(1, 1), 3, (1.0, 10.0, 100.0),
                                    lambda h: h)
    assert chosen == 10.0 and errors == {1.0: 8.0, 10.0: 7.5, 100.0: 9.0}
    assert [c[0] for c in exp.calls] == [L.tuning_name("STN-C1", h) for h in (1.0, 10.0, 100.0)]
    assert all(c[1] == 3 for c in exp.calls)
    adopted = exp.runs["STN-C1", 3]
    assert adopted.name == "STN-C1"
    assert adopted.model is exp.runs[L.tuning_name("STN-C1", 10.0), 3].model  # not trained again
    assert L.tuning_name("STN-C1", 10.0) == "STN-C1, θ head ×10"
    # a tie keeps the first in the grid; one value: that value
    assert L.tune_head_lr(_FakeExperiment({1.0: 5.0, 10.0: 5.0}), "m", lambda: torch.nn.Linear(1, 1), 0,
                          (10.0, 1.0), lambda h: h)[0] == 10.0
    assert L.tune_head_lr(_FakeExperiment({0.1: 5.0}), "m", lambda: torch.nn.Linear(1, 1), 0, (0.1,),
                          lambda h: h)[0] == 0.1
    with pytest.raises(ValueError, match="validation split"):
        L.tune_head_lr(_FakeExperiment({}, val_data=None), "m", None, 0, (1.0,), lambda h: h)
    with pytest.raises(ValueError, match="at least one"):
        L.tune_head_lr(_FakeExperiment({}), "m", None, 0, (), lambda h: h)


# ----------------------------------------------------------------------------------------
# the exercise checks
# ----------------------------------------------------------------------------------------

def off(gamma, images, theta):  # an unknown mistake
    return 1.1 * L.misalignment_reference(gamma, images, theta)


def forward_warped(gamma, images, theta):  # T_g(Γ f) against Γ T_g f: the map warped forward
    moved = L.warp(gamma(images), theta)
    return (gamma(L.warp(images, theta)) - moved).flatten(1).norm(dim=1) / gamma(images).flatten(1).norm(dim=1)


def channel_norm(gamma, images, theta):  # norm(dim=1) without flatten: a norm per pixel
    back, plain = L.warp(gamma(L.warp(images, theta)), invert(theta)), gamma(images)
    return (back - plain).norm(dim=1) / plain.norm(dim=1)


def kept_dim(gamma, images, theta):
    return L.misalignment_reference(gamma, images, theta)[:, None]


def batched_theta(gamma, images, theta):  # θ[None]: a batch of one θ for three images
    return L.misalignment_reference(gamma, images, theta[None])


def torch_grid(gamma, images, theta):  # torch's affine_grid with the one 2×3 θ
    grid = torch.nn.functional.affine_grid(theta, images.shape, align_corners=False)
    return torch.nn.functional.grid_sample(images, grid, align_corners=False).flatten(1).norm(dim=1)


def test_misalignment_check_accepts_the_reference_and_names_each_mistake():
    run = assert_check(L.check_misalignment, L.misalignment_reference, name="misalignment",
                       mistakes=[*((m.wrong, f"Hint: {m.hint}") for m in L.MISALIGNMENT_MISTAKES if m.wrong),
                                 (off, None)])
    assert "✓" in run.passed
    unknown = run.errors[-1]  # no hint, but the case it fails on
    assert "case 'T_g = 30° rotation'" in str(unknown)
    assert not any(m.hint in str(unknown) for m in L.MISALIGNMENT_MISTAKES)


def test_misalignment_check_names_the_forward_warped_map_and_shape_errors():
    # issue 26: the forward-warped map, and shape errors, each in one line with its hint
    run = assert_check(L.check_misalignment, L.misalignment_reference, name="misalignment", mistakes=[
        (forward_warped, "Hint: you warped Γ f FORWARD and compared T_g(Γ f) with Γ T_g f: eq. (1) warps"),
        (channel_norm, "Hint: norm(dim=1) of an N×C×H×W map is the norm over the channels"),
        (kept_dim, "Hint: return a tensor of shape (N,), one value per image"),
        (batched_theta, "Hint: θ is one 2×3 matrix for the whole batch: pass it to L.warp as it is"),
        (torch_grid, "Hint: θ is one 2×3 matrix for the whole batch: use L.warp(f, theta)"),
    ])
    assert "has shape (3, 16, 16), expected (3,)" in run.errors[1].message
    assert all("\n" not in e.message for e in run.errors)


def broken(x, pieces):
    return pieces.head(pieces.blocks[1](x))  # forgot block 1 on the warped input


def sl_parts(theta_from="b0", warped_through=("b0", "b1"), head=True):
    """STN-SL1 put together wrong: θ from ``theta_from`` ("x", "b0" or "b1"), the warped input
    through ``warped_through``, then the head (or not)."""
    def sl_forward(x, pieces):
        b = {"b0": pieces.blocks[0], "b1": pieces.blocks[1]}
        features = {"x": x, "b0": b["b0"](x), "b1": b["b1"](b["b0"](x))}[theta_from]
        out = L.warp(x, pieces.localization(features), padding_mode="border")
        for name in warped_through:
            out = b[name](out)
        return pieces.head(out) if head else out
    return sl_forward


def test_sl_check_accepts_the_reference_and_names_each_mistake():
    run = assert_check(L.check_sl_forward, L.sl_forward_reference, name="sl_forward",
                       mistakes=[*((m.wrong, f"Hint: {m.hint}") for m in L.SL_MISTAKES if m.wrong),
                                 (broken, "sl_forward")])
    assert len(str(run.errors[-1]).splitlines()) <= 4  # an error in one short message
    assert L.check_sl_forward(sl_parts(), verbose=False) is True  # the helper below, put together right

    def via_model(x, pieces):
        return pieces.net(x)  # the library's PlacementNet("SL", 1) does the same

    assert L.check_sl_forward(via_model) is True


def test_sl_check_says_which_layer_got_the_wrong_map():
    # issue 26: a shape error is one line (the error, the student's line) with the hint for it
    run = assert_check(L.check_sl_forward, L.sl_forward_reference, name="sl_forward", mistakes=[
        (sl_parts(theta_from="x"), "Hint: the localization net reads block 1's features, pieces.blocks[0](x), "
                                   "not the image x"),
        (sl_parts(theta_from="b1"), "Hint: the localization net reads block 1's features, not block 2's"),
        (sl_parts(warped_through=("b0",)), "Hint: the head reads block 2's output: run blocks[1] after blocks[0]"),
        (sl_parts(warped_through=("b1",)), "Hint: block 2 reads block 1's output (64 channels), not an image"),
        (sl_parts(head=False), "Hint: these are block 2's features (N×64×2×2): the head"),
    ])
    for err in run.errors[:4]:
        assert "your function raised" in err.message and err.your_line and L.SL_SHAPES in err.hint
