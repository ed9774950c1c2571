"""The exercise checks of lesson 00: a right answer passes, each typical mistake gets its own hint."""

import pytest
import torch

from stnlib import grids, sampler
from stnlib.course import budgets
from stnlib.course.checking import CheckError
from stnlib.data.samples import Samples
from stnlib.lessons import l00_stn_in_ten_minutes as L00


def right_theta(params):
    s, tx, ty = params.unbind(-1)
    z = torch.zeros_like(s)
    return torch.stack([torch.stack([s, z, tx], -1), torch.stack([z, s, ty], -1)], -2)


def failure(check, fn) -> CheckError:
    with pytest.raises(CheckError) as err:
        check(fn, verbose=False)
    return err.value


def test_attention_theta_right_answer_passes_and_prints_what_it_printed(capsys):
    assert L00.check_attention_theta(right_theta) is True
    assert capsys.readouterr().out == ("✓ attention_theta is correct (values and gradients match "
                                       "the reference on 3 cases)\n")


def test_attention_theta_tx_ty_swapped_names_the_params_row_and_the_entry():
    err = failure(L00.check_attention_theta, lambda params: right_theta(params[:, [0, 2, 1]]))
    assert err.message == ("attention_theta, case 'zoom in and shift': at params[0] = (s, tx, ty) "
                           "= (0.5, 0.25, -0.5), θ[0, 0, 2] (should be tx): your θ is -0.5, "
                           "expected 0.25 (2 of 6 entries differ)")
    assert err.hint.startswith("tx and ty are swapped")


@pytest.mark.parametrize("order", [(1, 0, 2), (2, 1, 0)])
def test_attention_theta_s_and_t_swapped(order):
    err = failure(L00.check_attention_theta, lambda params: right_theta(params[:, list(order)]))
    assert "case 'identity'" in err.message and "θ[0, 0, 0] (should be s)" in err.message
    assert err.hint.startswith("the scale and a shift are swapped")


def test_attention_theta_batch_axis_lost():
    err = failure(L00.check_attention_theta, lambda params: right_theta(params)[0])
    assert "has shape (2, 3), expected (1, 2, 3)" in err.message
    assert err.hint.startswith("keep the batch axis")


def test_attention_theta_graph_cut_by_detach_or_item():
    err = failure(L00.check_attention_theta, lambda params: right_theta(params.detach()))
    assert err.message.startswith("attention_theta, case 'identity': no gradient flows")
    assert ".detach()" in err.hint

    def with_item(params):
        s, tx, ty = params[:, 0].item(), params[:, 1].item(), params[:, 2].item()
        return torch.tensor([[[s, 0.0, tx], [0.0, s, ty]]])

    err = failure(L00.check_attention_theta, with_item)
    # batch of one: the values are right but the graph is cut
    assert "no gradient flows" in err.message or "raised RuntimeError" in err.message
    assert ".item()" in err.hint


def test_attention_theta_item_on_a_batch_names_the_line_and_the_hint():
    def with_item(params):
        rows = [[[p[0].item(), 0.0, p[1].item()], [0.0, p[0].item(), p[2].item()]] for p in params]
        return torch.tensor(rows)

    err = failure(L00.check_attention_theta, with_item)
    assert "no gradient flows" in err.message and ".item()" in err.hint

    def item_on_column(params):
        s = params[:, 0].item()
        return right_theta(params) * s / s

    err = failure(L00.check_attention_theta, item_on_column)
    assert err.message.startswith("attention_theta, case 'batch of 3': your function raised "
                                  "RuntimeError")
    line = item_on_column.__code__.co_firstlineno + 1
    assert err.your_line == f"line {line}: s = params[:, 0].item()"
    assert err.hint.startswith(".item() turns a tensor into one Python number")


def test_not_implemented_is_reported_without_raising(capsys):
    def todo(params):
        raise NotImplementedError("Exercise")

    assert L00.check_attention_theta(todo) is False
    assert capsys.readouterr().out == ("… attention_theta is not implemented yet: write its body "
                                       "in the exercise cell above, run that cell, then this one "
                                       "again.\n")


def warp_with(kernel="bilinear", align_corners=False, swap=False):
    def warp(U, theta, out_size):
        size = tuple(out_size)[::-1] if swap else out_size
        grid = grids.affine_grid(theta, size, align_corners=align_corners)
        return sampler.sample(U, grid, kernel=kernel, padding_mode="zeros",
                              align_corners=align_corners)

    return warp


def test_warp_right_answer_passes(capsys):
    assert L00.check_warp(warp_with()) is True
    assert capsys.readouterr().out == ("✓ warp is correct (values and gradients match the "
                                       "reference on 3 cases)\n")


def test_warp_nearest_names_the_output_pixel_and_where_it_reads():
    err = failure(L00.check_warp, warp_with(kernel="nearest"))
    assert err.message.startswith(
        "warp, case 'zoom in, 6×8 output' (out_size=(6, 8)): at output pixel (row 0, column 0) "
        "of image 0, channel 0, which reads U at (x, y) = (4.07, 1.68) pixels: your output is ")
    assert err.hint.startswith("this is nearest sampling")


def test_warp_align_corners_true_and_out_size_swapped():
    assert failure(L00.check_warp, warp_with(align_corners=True)).hint.startswith(
        "this is align_corners=True")
    err = failure(L00.check_warp, warp_with(swap=True))
    assert "has shape (2, 3, 12, 9), expected (2, 3, 9, 12)" in err.message
    assert err.hint.startswith("out_size is (H', W'), height first")


def test_warp_gradient_mismatch_names_the_theta_entry():
    def wrong_gradient(U, theta, out_size):  # right values, θ's gradient 1.5×
        theta = theta + (0.5 * theta - 0.5 * theta.detach())
        return L00.warp_reference(U, theta, out_size)

    err = failure(L00.check_warp, wrong_gradient)
    assert err.message == ("warp, case 'identity, same size' (out_size=(9, 12)): at θ[0, 0, 0]: "
                           "the gradient of your output w.r.t. 'theta' is -41.5089, expected "
                           "-27.6726 (12 of 12 entries differ)")

    def detached_input(U, theta, out_size):
        return L00.warp_reference(U.detach(), theta, out_size)

    assert "no gradient reaches 'U'" in failure(L00.check_warp, detached_input).message


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
