"""The exercise checks of lesson 00: a right answer passes, each typical mistake gets its own hint."""

import re

import pytest
import torch
from checks import assert_check

from stnlib import grids, sampler
from stnlib.course import budgets
from stnlib.data.samples import Samples
from stnlib.lessons import l00_stn_in_ten_minutes as L00


def right_theta(params):
    s, tx, ty = params.unbind(-1)
    z = torch.zeros_like(s)
    return torch.stack([torch.stack([s, z, tx], -1), torch.stack([z, s, ty], -1)], -2)


def in_order(*order):
    def wrong(params):
        return right_theta(params[:, list(order)])

    return wrong


def batch_axis_lost(params):
    return right_theta(params)[0]


def detached(params):
    return right_theta(params.detach())


def with_item(params):  # batch of one: the values are right but the graph is cut
    s, tx, ty = params[:, 0].item(), params[:, 1].item(), params[:, 2].item()
    return torch.tensor([[[s, 0.0, tx], [0.0, s, ty]]])


def item_per_row(params):
    rows = [[[p[0].item(), 0.0, p[1].item()], [0.0, p[0].item(), p[2].item()]] for p in params]
    return torch.tensor(rows)


def item_on_column(params):
    s = params[:, 0].item()
    return right_theta(params) * s / s


def test_attention_theta_check_knows_its_mistakes():
    run = assert_check(L00.check_attention_theta, right_theta, name="attention_theta", mistakes=[
        (in_order(0, 2, 1), "Hint: tx and ty are swapped"),
        (in_order(1, 0, 2), "Hint: the scale and a shift are swapped"),
        (in_order(2, 1, 0), "Hint: the scale and a shift are swapped"),
        (in_order(1, 2, 0), "Hint: params are read in the wrong order"),
        (in_order(2, 0, 1), "Hint: params are read in the wrong order"),
        (batch_axis_lost, "Hint: keep the batch axis"),
        (detached, "Hint: a .detach()"),
        (with_item, re.compile(r"Hint: .*\.item\(\)")),
        (item_per_row, re.compile(r"Hint: .*\.item\(\)")),
        (item_on_column, "Hint: .item() turns a tensor into one Python number"),
    ])
    assert run.passed == ("✓ attention_theta is correct (values and gradients match the reference "
                          "on 3 cases)\n")
    assert run.open == ("… attention_theta is not implemented yet: write its body in the exercise "
                        "cell above, run that cell, then this one again.\n")
    txty, st, st2, _, _, no_batch, cut, item, item_rows, item_column = run.errors
    # the failing entry is named by the row of params it comes from
    assert txty.message == ("attention_theta, case 'zoom in and shift': at params[0] = (s, tx, ty) "
                            "= (0.5, 0.25, -0.5), θ[0, 0, 2] (should be tx): your θ is -0.5, "
                            "expected 0.25 (2 of 6 entries differ)")
    for err in (st, st2):
        assert "case 'identity'" in err.message and "θ[0, 0, 0] (should be s)" in err.message
    assert "has shape (2, 3), expected (1, 2, 3)" in no_batch.message
    assert cut.message.startswith("attention_theta, case 'identity': no gradient flows")
    assert "no gradient flows" in item.message or "raised RuntimeError" in item.message
    assert "no gradient flows" in item_rows.message
    # a function that raises: the message names the case, and the student's own line
    assert item_column.message.startswith("attention_theta, case 'batch of 3': your function "
                                          "raised RuntimeError")
    line = item_on_column.__code__.co_firstlineno + 1
    assert item_column.your_line == f"line {line}: s = params[:, 0].item()"


def warp_with(kernel="bilinear", align_corners=False, swap=False):
    def warp(U, theta, out_size):
        size = tuple(out_size)[::-1] if swap else out_size
        grid = grids.affine_grid(theta, size, align_corners=align_corners)
        return sampler.sample(U, grid, kernel=kernel, padding_mode="zeros",
                              align_corners=align_corners)

    return warp


def wrong_gradient(U, theta, out_size):  # right values, θ's gradient 1.5×
    theta = theta + (0.5 * theta - 0.5 * theta.detach())
    return L00.warp_reference(U, theta, out_size)


def detached_input(U, theta, out_size):
    return L00.warp_reference(U.detach(), theta, out_size)


def test_warp_check_knows_its_mistakes():
    run = assert_check(L00.check_warp, warp_with(), name="warp", mistakes=[
        (warp_with(kernel="nearest"), "Hint: this is nearest sampling"),
        (warp_with(align_corners=True), "Hint: this is align_corners=True"),
        (warp_with(swap=True), "Hint: out_size is (H', W'), height first"),
        (wrong_gradient, None),
        (detached_input, "no gradient reaches 'U'"),
    ])
    assert run.passed == "✓ warp is correct (values and gradients match the reference on 3 cases)\n"
    nearest, _, swapped, gradient, _ = run.errors
    # an output pixel is named by where it reads U
    assert nearest.message.startswith(
        "warp, case 'zoom in, 6×8 output' (out_size=(6, 8)): at output pixel (row 0, column 0) "
        "of image 0, channel 0, which reads U at (x, y) = (4.07, 1.68) pixels: your output is ")
    assert "has shape (2, 3, 12, 9), expected (2, 3, 9, 12)" in swapped.message
    # a gradient entry is named by the entry of θ
    assert gradient.message == ("warp, case 'identity, same size' (out_size=(9, 12)): at θ[0, 0, 0]: "
                                "the gradient of your output w.r.t. 'theta' is -41.5089, expected "
                                "-27.6726 (12 of 12 entries differ)")


def gradient_wrong_off_size(U, theta, out_size):  # right values; θ's gradient 1.5× unless V is U's size
    if tuple(out_size) != tuple(U.shape[-2:]):
        theta = theta + (0.5 * theta - 0.5 * theta.detach())
    return L00.warp_reference(U, theta, out_size)


def test_warp_check_compares_the_gradient_of_every_case():
    # issue 25: gradients compared on the first case only let an answer wrong only in a later case pass
    run = assert_check(L00.check_warp, warp_with(), name="warp", mistakes=[
        (gradient_wrong_off_size, None),
    ])
    assert re.fullmatch(r"warp, case 'zoom in, 6×8 output' \(out_size=\(6, 8\)\): at θ\[\d, \d, \d\]: the "
                        r"gradient of your output w\.r\.t\. 'theta' is \S+, expected \S+ \(\d+ of 12 entries "
                        r"differ\)", run.errors[0].message), run.errors[0].message


# ---- the lesson's budget table, validation split and digit centres


def test_budget_table_changes_only_standard_epochs_and_holds_out_validation_digits():
    b = budgets.get_budget("standard", changes=L00.BUDGET_CHANGES, settings=L00.SETTINGS)
    assert b.epochs == 3 and b.n_train is None and b.settings.n_val == 5000
    assert budgets.get_budget("smoke", changes=L00.BUDGET_CHANGES, settings=L00.SETTINGS).epochs == 1


def test_smoke_and_standard_train_the_narrow_cnn_full_the_full_width_one():
    from stnlib.models import cnn, count_parameters, st_cnn

    widths = {name: budgets.get_budget(name, changes=L00.BUDGET_CHANGES,
                                       settings=L00.SETTINGS).settings.widths
              for name in budgets.BUDGET_NAMES}
    # smoke checks the parameter counts that the stored standard outputs print: same widths
    assert widths["smoke"] == widths["standard"] == {"channels": (16, 32), "hidden": 64}
    assert count_parameters(cnn(**widths["full"])) == count_parameters(cnn())
    narrow = count_parameters(cnn(**widths["standard"]))
    assert narrow < count_parameters(cnn()) / 3
    # the ST-CNN is the same CNN plus a transformer: only the localization net's parameters differ
    extra = count_parameters(st_cnn(**widths["standard"])) - narrow
    assert extra == count_parameters(st_cnn()) - count_parameters(cnn())


def test_split_validation_holds_out_the_last_digits_disjointly():
    s = Samples(images=torch.arange(10.0).view(10, 1, 1, 1), labels=torch.arange(10))
    train, val = L00.split_validation(s, 3)
    assert train.labels.tolist() == list(range(7)) and val.labels.tolist() == [7, 8, 9]
    for bad in (0, 10, 2.5, True):
        with pytest.raises(ValueError, match="n_val"):
            L00.split_validation(s, bad)


def test_digit_centres_in_normalized_coordinates():
    x = torch.zeros(3, 1, 4, 6)
    x[0, 0, 0, 0] = 1.0  # top-left pixel: centre at (-1 + 1/6, -1 + 1/4)
    x[1, 0, :, :] = 1.0  # uniform: the canvas centre
    x[1, 0, 3, 5] = 0.0
    x[1, 0, 0, 0] = 0.0  # still symmetric about the centre
    centres = L00.digit_centres(x)
    torch.testing.assert_close(centres[0], torch.tensor([-1 + 1 / 6, -1 + 1 / 4]))
    torch.testing.assert_close(centres[1], torch.zeros(2), atol=1e-6, rtol=0)
    torch.testing.assert_close(centres[2], torch.zeros(2))  # empty image
    with pytest.raises(ValueError, match="N×C×H×W"):
        L00.digit_centres(torch.zeros(4, 6))
