"""Lesson 06's companion module: budgets, published values, the 1-NN baselines, the smoothing
measures and the exercise checks (right and wrong answers)."""

import math
import re

import pytest
import torch
from checks import assert_check
from torch import nn

from stnlib.grids import timewarp_grid
from stnlib.lessons import l06_time_series as L
from stnlib.localization import init_identity
from stnlib.models import timeseries as ts


def test_published_values():
    assert L.PAPER_MNIST1D["CNN"] == 94.0 and L.PAPER_MNIST1D["GRU"] == 91.0
    assert L.PAPER_UCR == {("GunPoint", "Euclidean"): 0.087, ("GunPoint", "DTW"): 0.093,
                           ("CBF", "Euclidean"): 0.148, ("CBF", "DTW"): 0.004}
    assert L.PAPER_WANG == {"ST-CNN": 85.10, "CNN": 83.48, "LSTM": 85.40}


def test_budgets():
    assert L.BUDGET_CHANGES["full"]["seeds"] == (0, 1, 2, 3, 4)
    assert L.BUDGET_CHANGES["smoke"]["n_train"] <= 1000 and L.SETTINGS["smoke"].dtw is False
    ctx = L.start("smoke", 0, "cpu")
    assert ctx.budget.epochs == 2 and ctx.budget.settings.n_val == 200 and ctx.lesson == "06"


# ----------------------------------------------------------------- baselines and measures

def test_sine_warp_identity_and_the_linear_kernels_low_pass():
    f = [2, 16, 32, 48]
    ident = L.sine_warp(f, 1.0, kernel="bilinear", shift=0.0)
    torch.testing.assert_close(ident["kept"], torch.ones(4, dtype=torch.float64))
    torch.testing.assert_close(ident["error"], torch.zeros(4, dtype=torch.float64), atol=1e-20, rtol=0)
    # a quarter-sample shift: linear interpolation is (3/4) x_i + (1/4) x_{i+1}; at ω its gain is
    # |3/4 + e^{iω}/4|², so at f = 32 cycles per 128 samples (ω = π/2) it keeps 10/16 of the energy
    r = L.sine_warp(f, 1.0, kernel="bilinear")
    w = torch.tensor(f, dtype=torch.float64) * 2 * math.pi / 128
    expected = (0.75 + 0.25 * w.cos()) ** 2 + (0.25 * w.sin()) ** 2
    torch.testing.assert_close(r["kept"], expected, atol=2e-3, rtol=0)
    assert r["kept"][2].item() == pytest.approx(10 / 16, abs=2e-3)
    assert (r["kept"].diff() < 0).all()  # damps more, the higher the frequency
    near = L.sine_warp(f, 1.25, kernel="nearest")
    assert (near["kept"] - 1).abs().max() < 0.05 and near["error"][-1] > 0.3  # not damped, misplaced
    cubic = L.sine_warp(f, 1.25, kernel="bicubic")
    assert (cubic["kept"][1:] > L.sine_warp(f, 1.25, kernel="bilinear")["kept"][1:]).all()


def test_round_trip_keeps_a_slow_sine_and_damps_a_fast_one():
    i = torch.arange(128, dtype=torch.float64)
    slow = torch.sin(2 * math.pi * 3 * i / 128)[None, None]
    fast = torch.sin(2 * math.pi * 45 * i / 128)[None, None]
    series = torch.cat([slow + fast, slow])
    for s in (0.8, 1.25):
        kept = L.round_trip_energy_kept(series[:1], s, kernel="bilinear")
        assert 0.01 < kept.item() < 0.6  # the fast sine (0.35 cycles per sample) loses most
    assert L.round_trip_energy_kept(series[:1], 0.5, kernel="nearest").item() == pytest.approx(1.0)
    assert L.band_energy(slow[:, 0]).item() < 1e-3 * L.band_energy(fast[:, 0]).item()


def test_warp_series_and_recovered_warp_undo_each_other():
    U = torch.randn(4, 1, 40)
    s, t = torch.tensor([0.9, 1.1, 1.0, 0.8]), torch.tensor([0.1, -0.2, 0.0, 0.05])
    V = L.warp_series(U, s, t)
    grid = timewarp_grid(torch.stack([s, t], 1), 40, align_corners=False)
    assert V.shape == U.shape and not torch.allclose(V, U)
    # a transformer that reads the warped series at the inverse warp recovers (s, t) exactly
    theta_plain = torch.tensor([[1.0, 0.0]]).expand(4, 2)
    theta_warped = torch.stack([1 / s, -t / s], 1)
    s_hat, t_hat = L.recovered_warp(theta_warped, theta_plain, s)
    torch.testing.assert_close(s_hat, s)
    torch.testing.assert_close(t_hat, t)
    assert grid.shape == (4, 40)


# ----------------------------------------------------------------- exercise 1

def good_positions(params, length):
    x = (2 * torch.arange(length, dtype=params.dtype) + 1) / length - 1
    return params[:, :1] * x + params[:, 1:]


def _centres(L_):
    return (2 * torch.arange(L_, dtype=torch.float32) + 1) / L_ - 1


GRID_MISTAKES = [
    (lambda params, length: params[:, :1] * torch.linspace(-1, 1, length) + params[:, 1:], "align_corners=True"),
    (lambda params, length: params[:, :1] * (2 * torch.arange(length) / length - 1) + params[:, 1:], "left edges"),
    (lambda params, length: params[:, :1] * (_centres(length) + params[:, 1:]), "s·(x + t)"),
    (lambda params, length: _centres(length) / params[:, :1] + params[:, 1:], "inverse map"),
    (lambda params, length: params[:, 1:] * _centres(length) + params[:, :1], "swapped"),
    (lambda params, length: params[:, :1] * torch.arange(length) + params[:, 1:], "sample indices"),
    (lambda params, length: params[:, :1] * _centres(length) - params[:, 1:], "subtracted the shift"),
    # other failures: a cut graph, a transposed result, an unknown mistake (no hint, only where)
    (lambda params, length: good_positions(params.detach(), length),
     re.compile("no gradient flows(?s:.)*Hint")),
    (lambda params, length: good_positions(params, length).T, "shape (8, 1)"),
    (lambda params, length: good_positions(params, length) * 1.01, None),
]


def test_grid_check_accepts_the_solution_and_names_the_mistakes():
    run = assert_check(L.check_timewarp_grid, good_positions, name="timewarp_positions",
                       mistakes=GRID_MISTAKES)
    assert "✓ timewarp_positions is correct" in run.passed
    assert all("timewarp_positions, case" in err.message for err in run.errors[:7])
    assert "output sample i = " in run.errors[-1].message  # an unknown mistake: where


# ----------------------------------------------------------------- exercise 2

def good_init(head):
    return init_identity(head, torch.tensor([1.0, 0.0, 1.0, 0.0]))


def _bias(values, zero=True):
    def init(head):
        with torch.no_grad():
            if zero:
                head.weight.zero_()
            head.bias.copy_(torch.tensor(values).repeat(head.out_features // 4))
    return init


def test_head_check_accepts_the_solution_in_place_or_returned(capsys):
    assert L.check_warp_head_init(good_init) is True
    assert "✓ init_warp_head is correct" in capsys.readouterr().out
    assert L.check_warp_head_init(_bias([1.0, 0.0, 1.0, 0.0])) is True  # in place, returns None
    with pytest.raises(TypeError, match="pass the function itself"):
        L.check_warp_head_init(None)


def _first_only(head):
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.bias[:4] = torch.tensor([1.0, 0.0, 1.0, 0.0])


HEAD_MISTAKES = [
    (_bias([0.0, 0.0, 0.0, 0.0]), "all zeros"),
    (_bias([1.0, 0.0, 0.0, 0.0]), "the amplitude a is 0"),
    (_bias([1.0, 1.0, 0.0, 0.0]), "the order is (scale, shift, amplitude, offset)"),
    (_bias([1.0, 1.0, 1.0, 1.0]), "all ones"),
    (_bias([1.0, 0.0, 1.0, 1.0]), "the offset b is 1"),
    (_bias([1.0, 0.0, 1.0, 0.0], zero=False), "weights are still random"),
    (_first_only, "the identity repeats k times"),
]


def in_place_without_no_grad(head):  # autograd refuses to change a leaf tensor in place
    head.weight.zero_()
    head.bias.copy_(torch.tensor([1.0, 0.0, 1.0, 0.0]).repeat(head.out_features // 4))
    return head


def plain_tensor_assigned(head):  # a tensor where an nn.Parameter must stay
    with torch.no_grad():
        head.weight.zero_()
    head.bias = torch.tensor([1.0, 0.0, 1.0, 0.0]).repeat(head.out_features // 4)
    return head


def test_head_check_names_the_mistake():
    run = assert_check(L.check_warp_head_init, good_init, name="init_warp_head", mistakes=[
        *HEAD_MISTAKES, (lambda head: head.bais.zero_(), "your function raised AttributeError"),
        # issue 26: the RuntimeError / TypeError of a parameter changed the wrong way gets its hint
        (in_place_without_no_grad, re.compile(r"(?s)raised RuntimeError: a leaf Variable.*in your code: line \d+: "
                                              r"head\.weight\.zero_\(\).*Hint: .*inside `with torch\.no_grad\(\):`")),
        (plain_tensor_assigned, re.compile(r"(?s)raised TypeError: cannot assign.*Hint: a module's weight and bias "
                                           r"are nn\.Parameter: change their values in place")),
    ])
    assert run.errors[-3].hint is None  # the typo: no hint is known
    for err in run.errors[:-3]:
        assert "init_warp_head, case" in err.message
        assert "parameter" in err.message  # names the entry: input n, parameter k (scale s …)


def test_head_check_makes_a_transformer_the_identity():
    model = ts.st_cnn(40, 10, amplitude=True)
    nn.init.normal_(model.transformer.loc[0].head.weight)
    good_init(model.transformer.loc[0].head)
    U = torch.randn(3, 1, 40)
    torch.testing.assert_close(model.transformed(U)[0], U, atol=1e-5, rtol=0)
