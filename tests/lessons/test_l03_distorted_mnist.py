"""Lesson 03's exercise checks and budget entries."""

import pytest
import torch

from stnlib import data, grids
from stnlib.course import budgets
from stnlib.course.checking import CheckError
from stnlib.lessons import l03_distorted_mnist as L
from stnlib.localization import init_identity
from stnlib.models import model_names


def good_head(n_features, transform):
    identity = grids.identity(transform)
    return init_identity(torch.nn.Linear(n_features, identity.numel()), identity)


def good_angle(theta):
    return torch.rad2deg(torch.atan2(theta[:, 1, 0], theta[:, 0, 0]))


def test_identity_head_check_accepts_the_solution_and_names_mistakes(capsys):
    assert L.check_identity_head(good_head) is True
    assert "✓ identity_head is correct" in capsys.readouterr().out

    def affine_bias_everywhere(n, transform):
        head = torch.nn.Linear(n, grids.identity(transform).numel())
        with torch.no_grad():
            head.weight.zero_()
            head.bias.zero_()
            head.bias[0] = head.bias[4] = 1
        return head

    with pytest.raises(CheckError, match=r"identity_head\(7, 'tps'\).bias .*index \(0,\) is 1"):
        L.check_identity_head(affine_bias_everywhere)

    def six_outputs(n, transform):
        return good_head(n, "affine")

    with pytest.raises(CheckError, match=r"maps 32 → 6 features, expected 32 → 8"):
        L.check_identity_head(six_outputs)

    def random_weights(n, transform):
        head = good_head(n, transform)
        torch.nn.init.normal_(head.weight)
        return head

    with pytest.raises(CheckError, match=r"\.weight"):
        L.check_identity_head(random_weights)

    def not_yet(n, transform):
        raise NotImplementedError

    assert L.check_identity_head(not_yet) is False
    assert "not implemented yet" in capsys.readouterr().out


def test_picture_angle_check(capsys):
    assert L.check_picture_angle(good_angle) is True

    def inverse_sign(theta):  # forgets that θ is the inverse map
        return -good_angle(theta)

    with pytest.raises(CheckError, match=r"turn 30° counter-clockwise.*is -30, expected 30"):
        L.check_picture_angle(inverse_sign)

    def radians(theta):
        return torch.atan2(theta[:, 1, 0], theta[:, 0, 0])

    with pytest.raises(CheckError, match="expected 30"):
        L.check_picture_angle(radians)


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
    if name == "standard":  # the transformer models that must beat their baselines
        assert {"ST-CNN Aff", "ST-FCN Aff"} <= set(S.table1["R"]) & set(S.table1["RTS"])
    if name == "full":
        assert len(b.seeds) >= 3 and b.n_train is None and b.batch_size == 256


def test_paper_table1_values():
    assert set(L.PAPER_TABLE1) == {"R", "RTS", "P", "E"}
    assert all(tuple(row) == model_names() for row in L.PAPER_TABLE1.values())
    assert L.PAPER_TABLE1["RTS"]["ST-CNN Aff"] == 0.5 and L.PAPER_TABLE1["E"]["FCN"] == 3.2
