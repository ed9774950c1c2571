"""Lesson 03's exercise checks and budget entries."""

import re

import pytest
import torch
from checks import assert_check

from stnlib import data, grids
from stnlib.course import budgets
from stnlib.lessons import l03_distorted_mnist as L
from stnlib.localization import init_identity
from stnlib.models import model_names


def good_head(n_features, transform):
    identity = grids.identity(transform)
    return init_identity(torch.nn.Linear(n_features, identity.numel()), identity)


def good_angle(theta):
    return torch.rad2deg(torch.atan2(theta[:, 1, 0], theta[:, 0, 0]))


def affine_bias_everywhere(n, transform):
    head = torch.nn.Linear(n, grids.identity(transform).numel())
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.bias[:6] = grids.identity("affine")
    return head


def random_weights(n, transform):
    head = good_head(n, transform)
    torch.nn.init.normal_(head.weight)
    return head


def no_bias(n, transform):
    return torch.nn.Linear(n, grids.identity(transform).numel(), bias=False)


def frozen(n, transform):
    head = good_head(n, transform)
    head.requires_grad_(False)
    return head


def test_identity_head_check_accepts_the_solution_and_names_mistakes():
    run = assert_check(L.check_identity_head, good_head, name="identity_head", mistakes=[
        (affine_bias_everywhere, "Hint: this bias is the affine identity"),
        (lambda n, transform: good_head(n, "affine"),
         "Hint: this is the affine head for every transform"),
        (random_weights, "Hint: a new nn.Linear starts with random weights"),
        (no_bias, re.compile(r"Hint: .*bias=False")),
        (frozen, re.compile(r"Hint: .*trainable")),
    ])
    assert run.passed == ("✓ identity_head is correct: zero weights and the identity as bias for "
                          "affine, projective and TPS\n")
    affine_bias, affine_head, weights, bias_missing, weights_frozen = run.errors
    assert affine_bias.message == ("identity_head(7, 'tps'): at bias[0] (identity parameter 0): the "
                                   "bias is 1, expected 0 (2 of 32 entries differ)")
    assert "maps 32 → 6 features, expected 32 → 8" in affine_head.message
    assert weights.message.startswith("identity_head(20, 'affine'): at weight[0, 0]: the weight is")
    assert "has no bias" in bias_missing.message
    assert "frozen (requires_grad=False)" in weights_frozen.message


def test_picture_angle_check_knows_its_mistakes():
    run = assert_check(L.check_picture_angle, good_angle, name="picture_angle", mistakes=[
        (lambda theta: -good_angle(theta), "Hint: the sign is flipped"),
        (lambda theta: torch.atan2(theta[:, 1, 0], theta[:, 0, 0]),
         "Hint: this is the angle in radians"),
        (lambda theta: torch.rad2deg(torch.atan(theta[:, 1, 0] / theta[:, 0, 0])),
         "Hint: atan gives angles in (−90°, 90°) only"),
    ])
    assert run.passed == "✓ picture_angle is correct (values match the reference on 4 cases)\n"
    flipped, radians, atan = run.errors
    assert flipped.message == ("picture_angle, case 'turn 30° counter-clockwise': at θ[0]: your "
                               "angle is -30, expected 30")
    assert "expected 30" in radians.message
    assert atan.message.startswith("picture_angle, case 'turn −120°, zoom out 2×': at θ[0]: your "
                                   "angle is 60")


def test_picture_angle_reference_reads_the_data_sets_angles():
    r = data.load("mnist-r", "test", n=16, cache=False)
    angles = L.picture_angle_reference(r.params["theta"].double())
    torch.testing.assert_close(angles.float(), r.params["angle"].float(), atol=1e-3, rtol=0)


@pytest.mark.parametrize("name", budgets.BUDGET_NAMES)
def test_lesson_03_budgets(name):
    b = L.start(name, device="cpu").budget
    S = b.settings
    assert set(S.table1) == set(L.PAPER_TABLE1)
    for dist, models in S.table1.items():
        assert set(models) <= set(model_names()), dist
        assert {"CNN", "FCN"} <= set(models), "every budget trains both baselines"
    assert S.sweep_rotation[-1] == 180 and S.sweep_translation[-1] == 0.4
    assert S.sweep_scale[-1] == 0.6
    assert S.recipe["optimizer"] in ("adam", "sgd")
    if name == "smoke":
        assert b.n_train <= 512 and b.epochs == 1
    if name == "standard":  # the transformer models compared with their baselines
        assert {"ST-CNN Aff", "ST-FCN Aff"} <= set(S.table1["R"]) & set(S.table1["RTS"])
    if name == "full":
        assert len(b.seeds) >= 3 and b.n_train is None and b.batch_size == 256


def test_paper_table1_values():
    assert set(L.PAPER_TABLE1) == {"R", "RTS", "P", "E"}
    assert all(tuple(row) == model_names() for row in L.PAPER_TABLE1.values())
    assert L.PAPER_TABLE1["RTS"]["ST-CNN Aff"] == 0.5 and L.PAPER_TABLE1["E"]["FCN"] == 3.2


def test_each_distortion_has_its_experiment_with_a_draw_per_seed():
    ctx = L.start("smoke")
    exp = L.experiment(ctx, "R", n_train=32)
    a, b = exp.training_data(0), exp.training_data(1)
    assert len(a) == 32 and exp.training_data(0) is a  # drawn once per seed
    assert not torch.equal(a.images, b.images)  # another seed, another draw
    assert len(exp.test_data) == ctx.budget.n_test
    S = ctx.budget.settings
    assert (exp.recipe.optimizer, exp.recipe.schedule) == (S.recipe["optimizer"], S.recipe["schedule"])
    assert exp.recipe.loc_lr_scale == S.loc_lr_scale and exp.recipe.epochs == ctx.budget.epochs
    assert exp.cache_dir is None  # only `full` keeps runs on disk
    model = L.maker("ST-CNN Aff", exp, 30_000)()
    assert model.transformer is not None and 25_000 < sum(p.numel() for p in model.parameters()) < 35_000
    with pytest.raises(ValueError, match="dist must be one of"):
        L.experiment(ctx, "Q")


def test_full_keeps_its_runs_next_to_the_results_file(tmp_path, monkeypatch):
    monkeypatch.setenv("STN_RESULTS", str(tmp_path / "results.json"))
    ctx = L.start("full", device="cpu")
    exp = L.experiment(ctx, "RTS-Wang", n_train=64)
    assert exp.cache_dir == tmp_path / "checkpoints" / "03-RTS-Wang-64"
    assert (exp.recipe.optimizer, exp.recipe.momentum, exp.recipe.schedule) == ("sgd", 0.9, "step")
    assert exp.recipe.batch_size == 256 and exp.recipe.epochs == ctx.budget.epochs


def test_summary_lines_say_how_far_each_cell_is_from_the_paper():
    ours = {("R", "CNN"): 2 * L.PAPER_TABLE1["R"]["CNN"],
            ("RTS", "ST-CNN Aff"): 0.5 * L.PAPER_TABLE1["RTS"]["ST-CNN Aff"]}
    assert L.summary_lines(ours) == [
        "Table 1: 2 cells trained; ours / paper from 0.5× (ST-CNN Aff on RTS) to 2.0× (CNN on R)"]
    assert L.summary_lines({}) == []
    table = L.table1_markdown(ours, title="t").splitlines()
    assert table[0] == "**t**" and len(table) == 2 + 2 + len(model_names())
    assert "| CNN | 2.40 / 1.2 | – / 0.8 |" in table[5]
