"""Lesson 06, a spatial transformer for time series: budgets, published values, exercise checks
and experiment helpers for ``solutions/06_time_series.ipynb``.

Published values (what the notebook records its numbers against):

* :data:`PAPER_MNIST1D`: Greydanus (2020), *Scaling down deep learning* (MNIST-1D), test
  accuracy in % on the default 4 000 / 1 000 split: logistic regression 32, MLP 68, CNN 94,
  GRU 91, human about 96.
* :data:`PAPER_UCR`: the UCR time series archive (Dau et al. 2018), 1-NN test error (a
  fraction): GunPoint, Euclidean 0.087 and DTW 0.093 (warping does not help); CBF, Euclidean
  0.148 and DTW 0.004 (it does).
* :data:`PAPER_WANG`: Wang (2018), §5.2.3, test AUC in % on MIMIC-III in-hospital mortality
  (not used here: credentialed data): ST-CNN 85.10, CNN 83.48, the LSTM of Harutyunyan et al.
  85.40.

The exercises: the 1-D sampling grid of a time warp (:func:`check_timewarp_grid`) and the
identity initialization of the localization head with the amplitude terms
(:func:`check_warp_head_init`), each with its typical wrong answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..course import lesson as _lesson
from ..course.checking import CheckError, Mistake, check_function
from ..grids import timewarp_grid
from ..metrics import auc, error
from ..sampler import unnormalize
from ..train import evaluate
from ..warping import warp_1d

LESSON = "06"

#: Greydanus (2020): MNIST-1D test accuracy in % (default 4 000 / 1 000 split)
PAPER_MNIST1D = {"logistic regression": 32.0, "MLP": 68.0, "CNN": 94.0, "GRU": 91.0, "human": 96.0}
#: the UCR archive (Dau et al. 2018): 1-NN test error (fraction), Euclidean and DTW
PAPER_UCR = {("GunPoint", "Euclidean"): 0.087, ("GunPoint", "DTW"): 0.093,
             ("CBF", "Euclidean"): 0.148, ("CBF", "DTW"): 0.004}
#: Wang (2018), §5.2.3: test AUC in % on MIMIC-III in-hospital mortality
PAPER_WANG = {"ST-CNN": 85.10, "CNN": 83.48, "LSTM": 85.40}


@dataclass(frozen=True)
class Settings:
    """Lesson 06's own knobs (the budget's ``epochs``, ``n_train``, ``n_test``, ``batch_size``,
    ``lr`` and ``seeds`` drive the MNIST-1D experiment).

    The time warp without the amplitude terms is not trained: in a standard run of five seeds
    its θ's spread over the test series stayed below 0.01 in three.

    Attributes:
        n_val: MNIST-1D series held out of the 4 000 training series for validation.
        ucr_epochs: epochs on GunPoint (50 training series) and CBF (30).
        ucr_seeds: the seeds of the GunPoint and CBF runs (each takes seconds: several seeds
            show how much 30 or 50 training series make a result vary).
        loc_lr_scale: the localization nets' learning rate relative to the rest (every
            transformer model, both data sets): 0.3. At the full rate one of five GunPoint ST-CNN
            seeds ended with a dead localization net (θ the same for every training series,
            spread 0.000); at 0.3 and 0.1 all five moved (spread 0.017-0.28 and 0.014-0.057 over
            the training series, in 60-epoch runs of the five seeds; the test set unused).
        cbf_draws: the draws of CBF's generator (``data.load("cbf", seed=k)``) over which the
            1-NN references are reported (mean and range); the models train and test on the
            first draw.
        ucr_batch_size: their mini-batch size.
        dtw: compute the 1-NN DTW errors (an O(L²) loop, a few seconds on a CPU).
        recover_n: MNIST-1D test series warped by a known (scale, shift) for experiment 3.
        recover_scale: the applied scales, uniform in this range.
        recover_shift: the applied shifts, uniform in ± this (normalized time).
        smooth_length: samples of the synthetic sines of experiment 4.
        smooth_scales: the warp scales of experiment 4 (s < 1 zooms in, s > 1 zooms out).
    """

    n_val: int = 500
    ucr_epochs: int = 60
    ucr_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    loc_lr_scale: float = 0.3
    cbf_draws: tuple[int, ...] = (0, 1, 2, 3, 4)
    ucr_batch_size: int = 16
    dtw: bool = True
    recover_n: int = 1000
    recover_scale: tuple[float, float] = (0.8, 1.25)
    recover_shift: float = 0.25
    smooth_length: int = 128
    smooth_scales: tuple[float, ...] = (0.5, 0.8, 1.25, 1.6)


#: how lesson 06 differs from the default budgets (Budget fields)
BUDGET_CHANGES = {
    "smoke": {"epochs": 2, "n_train": 1000, "n_test": 500, "batch_size": 100, "seeds": (0, 1),
              "lr": 1e-2},
    # five seeds: the 1-D models train all seeds at once (vectorized), in seconds each
    "standard": {"epochs": 40, "n_train": None, "n_test": None, "batch_size": 100,
                 "seeds": (0, 1, 2, 3, 4), "lr": 1e-2},
    # Greydanus (2020) trains 6 000 steps of 100 series (150 epochs) at Adam lr 1e-2; five seeds
    "full": {"epochs": 150, "n_train": None, "n_test": None, "batch_size": 100,
             "seeds": (0, 1, 2, 3, 4), "lr": 1e-2},
}
SETTINGS = {
    "smoke": Settings(n_val=200, ucr_epochs=3, ucr_seeds=(0, 1), cbf_draws=(0, 1), dtw=False, recover_n=200),
    "standard": Settings(),
    "full": Settings(ucr_epochs=300, ucr_seeds=(0, 1, 2, 3, 4), cbf_draws=tuple(range(10))),
}


def start(budget=None, seed: int = 0, device=None):
    """Start lesson 06 (``ctx.budget.settings`` is its :class:`Settings`)."""
    return _lesson.start_lesson(LESSON, budget=budget, seed=seed, device=device,
                                changes=BUDGET_CHANGES, settings=SETTINGS)


# --------------------------------------------------------------------------------------
# Experiment helpers
# --------------------------------------------------------------------------------------

def scores(model: nn.Module, data, device, *, binary: bool = False) -> dict[str, float]:
    """Test error (a fraction, as the UCR archive reports it), accuracy in % and, for a binary
    task, the AUC in % (Wang (2018)'s measure) of ``model`` on ``data``."""
    metrics = {"error": error, **({"auc": auc} if binary else {})}
    r = evaluate(model, data, device=device, metrics=metrics)
    out = {"error": r["error"] / 100, "accuracy": 100 - r["error"]}
    if binary:
        out["auc"] = 100 * r["auc"]
    return out


def warp_series(series: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, *,
                kernel: str = "bilinear", padding_mode: str = "border") -> torch.Tensor:
    """Read every series U (N×C×L) at s·x + t: V(x) = U(s·x + t), ``align_corners=False``."""
    theta = torch.stack([scale, shift], 1).to(series)
    return warp_1d(series, theta, align_corners=False, kernel=kernel, padding_mode=padding_mode)


def recovered_warp(theta_warped: torch.Tensor, theta_plain: torch.Tensor,
                   applied_scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The (scale, shift) the transformer undid, from its θ on a warped and on the plain series.

    A series warped by (s_a, t_a) is U(s_a·x + t_a); the transformer reads it at
    s_r·x + t_r, i.e. U at s_a·s_r·x + s_a·t_r + t_a. If it brings the series back to
    what it makes of the plain one, U(s_0·x + t_0), then s_a = s_0 / s_r and
    t_a = t_0 − s_a·t_r. Returns those two estimates (each N).
    """
    s_r, t_r = theta_warped[:, 0], theta_warped[:, 1]
    s_0, t_0 = theta_plain[:, 0], theta_plain[:, 1]
    s_hat = s_0 / s_r
    return s_hat, t_0 - applied_scale * t_r


def band_energy(V: torch.Tensor, band=(0.25, 0.5)) -> torch.Tensor:
    """Energy of each series (N×L, Hann-windowed) in a frequency band, in cycles per sample
    (0.5 = the Nyquist frequency; the default band is its upper half). Shape N."""
    L = V.shape[-1]
    window = torch.hann_window(L, periodic=False, dtype=torch.float64)
    power = torch.fft.rfft(V.double() * window, dim=-1).abs() ** 2
    f = torch.fft.rfftfreq(L, dtype=torch.float64)
    return power[:, (f >= band[0]) & (f <= band[1])].sum(-1)


def sine_warp(frequencies, scale: float, *, kernel: str, length: int = 128,
              shift: float | None = None) -> dict[str, torch.Tensor]:
    """What a warp does to sines, per frequency (cycles per series): energy kept and error.

    Sines sin(2π f i / L + φ) (seven phases φ each) are warped by (scale, shift) with
    ``kernel`` and compared with the exact warped sine (the same continuous sine read at the
    warped positions), on the output samples whose kernel taps all lie inside the input:

    * ``kept``: the energy of V over the energy of the exact sine, ‖V‖² / ‖exact‖² (1: no
      smoothing; below 1: the kernel damps that frequency, a low-pass);
    * ``error``: the relative error energy ‖V − exact‖² / ‖exact‖² (nearest keeps the energy
      but reads the wrong place: its error is large although nothing is damped).

    ``shift`` defaults to a quarter of a sample (0.5 / L), so that no output lands on a sample.
    Returns ``{"kept": …, "error": …}``, each a tensor with one value per frequency.
    """
    f = torch.as_tensor(frequencies, dtype=torch.float64)
    L = length
    phase = torch.linspace(0, 2 * math.pi, 8, dtype=torch.float64)[:-1]
    i = torch.arange(L, dtype=torch.float64)
    ff, pp = (a.reshape(-1, 1) for a in torch.meshgrid(f, phase, indexing="ij"))
    U = torch.sin(2 * math.pi * ff * i / L + pp)
    t = 0.5 / L if shift is None else shift  # one sample is 2 / L in normalized time
    params = torch.tensor([[scale, t]], dtype=torch.float64).expand(len(U), 2)
    V = warp_1d(U[:, None], params, align_corners=False, kernel=kernel, padding_mode="zeros")[:, 0]
    grid = timewarp_grid(params, L, align_corners=False)  # where V read: for the exact sine
    pixel = unnormalize(grid, L, align_corners=False)
    exact = torch.sin(2 * math.pi * ff * pixel / L + pp)
    inside = ((pixel >= 2) & (pixel <= L - 3)).double()
    norm = (exact ** 2 * inside).sum(-1)
    kept = (V ** 2 * inside).sum(-1) / norm
    err = ((V - exact) ** 2 * inside).sum(-1) / norm
    return {"kept": kept.view(len(f), -1).mean(1), "error": err.view(len(f), -1).mean(1)}


def round_trip_energy_kept(series: torch.Tensor, scale: float, *, kernel: str,
                           band=(0.25, 0.5)) -> torch.Tensor:
    """The fraction of each series' high-frequency energy that a warp and its inverse keep.

    Each series U (N×1×L) is warped by (scale, a quarter-sample shift) and back by the
    inverse warp with ``kernel``; an ideal (band-limited) sampler would return U on every
    sample the round trip reads from inside the input (zooming out by s > 1 and back also
    loses what lies above the Nyquist frequency / s). Compares the energy in ``band`` of the
    round trip with that of U, both on those samples (Hann-windowed). Shape N.
    """
    N, _, L = series.shape
    x = series.double()
    t = 0.5 / L
    s = torch.full((N,), float(scale), dtype=torch.float64)
    there = warp_series(x, s, torch.full_like(s, t), kernel=kernel, padding_mode="zeros")
    back = warp_series(there, 1 / s, torch.full_like(s, -t / scale), kernel=kernel,
                       padding_mode="zeros")
    # the samples whose round trip reads only the inside: output position x reads the first
    # warp's output at y = (x − t) / s, which reads U at s·y + t = x; keep both (and the
    # kernels' taps, up to 2 samples = 4 / L away, times s) inside [-1, 1]
    pos = (torch.arange(L, dtype=torch.float64) * 2 + 1) / L - 1
    y = (pos - t) / scale
    margin = 6 / L
    keep = (y.abs() <= 1 - margin) & (pos.abs() <= 1 - margin * max(scale, 1.0))
    return band_energy(back[:, 0, keep], band) / band_energy(x[:, 0, keep], band)


# --------------------------------------------------------------------------------------
# Exercise 1: the 1-D grid of a time warp
# --------------------------------------------------------------------------------------

def timewarp_positions_reference(params: torch.Tensor, length: int) -> torch.Tensor:
    """The reference of exercise 1: :func:`stnlib.grids.timewarp_grid`, ``align_corners=False``."""
    return timewarp_grid(params, length, align_corners=False)


def _centres(L, dtype=torch.float32):
    return (2 * torch.arange(L, dtype=dtype) + 1) / L - 1


def _wrong_grid(positions, combine=lambda s, t, x: s * x + t):
    def wrong(params, length):
        x = positions(length, params.dtype)
        return combine(params[:, :1], params[:, 1:], x)
    return wrong


def _grid_cases():
    g = torch.Generator().manual_seed(6)
    return [
        ("identity, L = 8", {"params": torch.tensor([[1.0, 0.0]]), "length": 8}),
        ("zoom in by 2 (s = 0.5), L = 8", {"params": torch.tensor([[0.5, 0.0]]), "length": 8}),
        ("shift by t = 0.25, L = 8", {"params": torch.tensor([[1.0, 0.25]]), "length": 8}),
        ("zoom out (s = 1.5) and shift, L = 5", {"params": torch.tensor([[1.5, -0.2]]), "length": 5}),
        ("a flip (s = −1), L = 6", {"params": torch.tensor([[-1.0, 0.0]]), "length": 6}),
        ("a batch of three warps, L = 7",
         {"params": torch.cat([torch.tensor([[0.8, 0.1]]), torch.rand(2, 2, generator=g) * 2 - 0.5]),
          "length": 7}),
    ]


def _describe_grid(case, what, index):
    if len(index) != 2:
        return None
    n, i = index
    s, t = case["params"][n].tolist()
    return f"series {n}, output sample i = {i} (scale s = {s:.3g}, shift t = {t:.3g})"


#: typical wrong answers of exercise 1, each with its hint
GRID_MISTAKES = (
    Mistake("these are align_corners=True positions (torch.linspace(-1, 1, L)); the course's "
            "transformers use align_corners=False: sample i sits at the centre of its cell, "
            "x_i = (2i + 1) / L − 1", wrong=_wrong_grid(
                lambda L, dt: torch.linspace(-1, 1, L, dtype=dt))),
    Mistake("your positions are the left edges of the cells, 2i / L − 1: add half a cell, "
            "x_i = (2i + 1) / L − 1", wrong=_wrong_grid(
                lambda L, dt: 2 * torch.arange(L, dtype=dt) / L - 1)),
    Mistake("you scaled the shift too, s·(x + t): θ maps x to s·x + t (θ22 x + θ23), the shift "
            "is added after the scale", wrong=_wrong_grid(_centres, lambda s, t, x: s * (x + t))),
    Mistake("you divided by the scale, x / s + t: that is the inverse map. θ maps an OUTPUT "
            "position to the INPUT position it reads, s·x + t",
            wrong=_wrong_grid(_centres, lambda s, t, x: x / s + t)),
    Mistake("scale and shift are swapped: params[:, 0] is the scale s, params[:, 1] the shift t",
            wrong=_wrong_grid(_centres, lambda s, t, x: t * x + s)),
    Mistake("these are sample indices, not normalized positions: the grid lives in [-1, 1] "
            "(x_i = (2i + 1) / L − 1), which the sampler maps back to samples",
            wrong=_wrong_grid(lambda L, dt: torch.arange(L, dtype=dt))),
    Mistake("you subtracted the shift: the input position is s·x + t",
            wrong=_wrong_grid(_centres, lambda s, t, x: s * x - t)),
)


def check_timewarp_grid(student, *, verbose: bool = True) -> bool:
    """Lesson 06, exercise 1: ``timewarp_positions(params, length)`` → N×L positions s·x_i + t.

    ``params`` is N×2 (scale s, shift t); x_i are the normalized centres of the ``length``
    output samples with ``align_corners=False``. Names the usual mistakes
    (:data:`GRID_MISTAKES`): ``align_corners=True`` positions, cell edges, s·(x + t), x / s + t,
    swapped parameters, indices instead of normalized positions, a subtracted shift.
    """
    return check_function(student, timewarp_positions_reference, _grid_cases(),
                          name="timewarp_positions", wrt=("params",), rtol=1e-5, atol=1e-6,
                          verbose=verbose, mistakes=GRID_MISTAKES, describe=_describe_grid)


# --------------------------------------------------------------------------------------
# Exercise 2: the identity initialization of the localization head, with amplitude
# --------------------------------------------------------------------------------------

#: the identity of one series' time warp with amplitude terms: scale, shift, amplitude, offset
WARP_IDENTITY = (1.0, 0.0, 1.0, 0.0)
_FEATURES = 6


def init_warp_head_reference(head: nn.Linear) -> nn.Linear:
    """The reference of exercise 2: zero weights, bias (1, 0, 1, 0) per series
    (:func:`stnlib.localization.init_identity` with the time warp's and the amplitude's identity)."""
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.tensor(WARP_IDENTITY).repeat(head.out_features // 4))
    return head


def _head_output(init):
    """A function of the case that builds a fresh head, applies ``init`` and returns its outputs."""
    def run(n_out, features):
        torch.manual_seed(0)  # the same random start for the student's and the reference's head
        head = nn.Linear(features.shape[1], n_out)
        out = init(head)
        head = out if isinstance(out, nn.Linear) else head  # in place or returned: both are fine
        with torch.no_grad():
            return head(features)
    return run


def _bias_init(bias, zero_weight=True):
    def init(head):
        with torch.no_grad():
            if zero_weight:
                head.weight.zero_()
            head.bias.copy_(torch.tensor(bias).repeat(head.out_features // len(bias))
                            [: head.out_features])
        return head
    return init


def _first_only(head):
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.bias[:4] = torch.tensor(WARP_IDENTITY)
    return head


def _head_cases():
    g = torch.Generator().manual_seed(60)
    return [
        ("one series, 6 features from 5 inputs",
         {"n_out": 4, "features": torch.randn(5, _FEATURES, generator=g)}),
        ("one series, 3 features from 4 inputs",
         {"n_out": 4, "features": torch.randn(4, 3, generator=g)}),
        ("two channels, each its own warp (8 outputs), 6 features from 3 inputs",
         {"n_out": 8, "features": torch.randn(3, _FEATURES, generator=g)}),
    ]


def _describe_head(case, what, index):
    if len(index) != 2:
        return None
    n, k = index
    name = ("scale s", "shift t", "amplitude a", "offset b")[k % 4]
    series = f", channel {k // 4}" if case["n_out"] > 4 else ""
    return f"input {n}, parameter {k} ({name}{series})"


#: typical wrong answers of exercise 2, each with its hint
HEAD_MISTAKES = (
    Mistake("all zeros: s = 0 reads one point for the whole series and a = 0 multiplies it by "
            "0. The identity is s = 1, t = 0, a = 1, b = 0: V = 1 · U(1 · x + 0) + 0",
            wrong=_head_output(_bias_init((0.0, 0.0, 0.0, 0.0)))),
    Mistake("the amplitude a is 0, so V = 0 · U + b is flat: the identity amplitude is 1 "
            "(bias (1, 0, 1, 0))", wrong=_head_output(_bias_init((1.0, 0.0, 0.0, 0.0)))),
    Mistake("the order is (scale, shift, amplitude, offset): the bias is (1, 0, 1, 0), "
            "not (1, 1, 0, 0)", wrong=_head_output(_bias_init((1.0, 1.0, 0.0, 0.0)))),
    Mistake("all ones: shift t = 1 moves the window by half the series and offset b = 1 lifts "
            "it; only the scale and the amplitude are 1", wrong=_head_output(
                _bias_init((1.0, 1.0, 1.0, 1.0)))),
    Mistake("the offset b is 1, which adds 1 to every value: the identity offset is 0",
            wrong=_head_output(_bias_init((1.0, 0.0, 1.0, 1.0)))),
    Mistake("the bias is right but the weights are still random, so θ depends on the input "
            "from the first step: zero the weights too (head.weight.zero_())",
            wrong=_head_output(_bias_init(WARP_IDENTITY, zero_weight=False))),
    Mistake("with 4·k outputs (k channels, each its own warp) the identity repeats k times: "
            "(1, 0, 1, 0, 1, 0, 1, 0, …)", wrong=_head_output(_first_only)),
)


def check_warp_head_init(student, *, verbose: bool = True) -> bool:
    """Lesson 06, exercise 2: ``init_warp_head(head)`` makes a new time-warp transformer the identity.

    ``head`` is the localization net's last layer, an ``nn.Linear`` with 4·k outputs (per
    series: scale, shift, amplitude, offset); after ``init_warp_head`` (in place, or returning
    the head) it must output (1, 0, 1, 0) for every input. Names the usual mistakes
    (:data:`HEAD_MISTAKES`): all zeros, amplitude 0, another order, all ones, offset 1,
    random weights left, only the first series set.
    """
    if not callable(student):
        raise TypeError(f"pass the function itself, check_warp_head_init(init_warp_head), got "
                        f"{type(student).__name__}")
    return check_function(_head_output(student), _head_output(init_warp_head_reference),
                          _head_cases(), name="init_warp_head", rtol=1e-6, atol=1e-6,
                          verbose=verbose, output="the head's output θ", mistakes=HEAD_MISTAKES,
                          describe=_describe_head)


__all__ = [
    "PAPER_MNIST1D", "PAPER_UCR", "PAPER_WANG", "Settings", "BUDGET_CHANGES", "SETTINGS", "start",
    "scores", "warp_series", "recovered_warp",
    "band_energy", "sine_warp", "round_trip_energy_kept",
    "check_timewarp_grid", "check_warp_head_init", "GRID_MISTAKES", "HEAD_MISTAKES", "CheckError",
]
