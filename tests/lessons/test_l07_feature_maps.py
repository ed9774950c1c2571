"""Lesson 07's companion module: the W/M toy, the budgets and recipe, and the two exercise checks
with right and wrong answers (the measures themselves: tests/library/test_equivariance.py)."""

import dataclasses

import pytest
import torch
from checks import assert_check

from stnlib.lessons import l07_feature_maps as L
from stnlib.models.placement import PlacementNet, build


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


@pytest.mark.parametrize("name", ["STN-C0", "STN-C1", "STN-SL1"])
def test_the_recipe_puts_the_theta_head_and_the_localization_body_in_their_own_groups(name):
    from stnlib.train import _param_groups

    model = build(name)
    budget = L.start("smoke").budget
    budget = dataclasses.replace(budget, settings=L.Settings(loc_lr_scale=0.5, head_lr_scale=30.0))
    recipe = L.recipe(budget)
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
    assert L.start("full").budget.settings.head_lr_scale == L.start("full").budget.settings.loc_lr_scale


# ----------------------------------------------------------------------------------------
# the exercise checks
# ----------------------------------------------------------------------------------------

def off(gamma, images, theta):  # an unknown mistake
    return 1.1 * L.misalignment_reference(gamma, images, theta)


def test_misalignment_check_accepts_the_reference_and_names_each_mistake():
    run = assert_check(L.check_misalignment, L.misalignment_reference, name="misalignment",
                       mistakes=[*((m.wrong, f"Hint: {m.hint}") for m in L.MISALIGNMENT_MISTAKES),
                                 (off, None)])
    assert "✓" in run.passed
    unknown = run.errors[-1]  # no hint, but the case it fails on
    assert "case 'T_g = 30° rotation'" in str(unknown)
    assert not any(m.hint in str(unknown) for m in L.MISALIGNMENT_MISTAKES)


def broken(x, pieces):
    return pieces.head(pieces.blocks[1](x))  # forgot block 1 on the warped input


def test_sl_check_accepts_the_reference_and_names_each_mistake():
    run = assert_check(L.check_sl_forward, L.sl_forward_reference, name="sl_forward",
                       mistakes=[*((m.wrong, f"Hint: {m.hint}") for m in L.SL_MISTAKES),
                                 (broken, "sl_forward")])
    assert len(str(run.errors[-1]).splitlines()) <= 4  # an error in one short message

    def via_model(x, pieces):
        return pieces.net(x)  # the library's PlacementNet("SL", 1) does the same

    assert L.check_sl_forward(via_model) is True
