"""Lesson 03, distorted MNIST: the companion module of ``solutions/03_distorted_mnist.ipynb``.

The lesson replicates Table 1 of Jaderberg et al. (2015, §4.1) and the
out-of-range sweeps of Wang (2018, §4.1). This module holds

* the paper's numbers (:data:`PAPER_TABLE1`) and the data sets of each distortion;
* the budget table (:data:`BUDGET_CHANGES`, :class:`Settings`);
* the experiment glue: :func:`experiment` (one
  :class:`~stnlib.course.experiment.Experiment` per distortion: its data and the
  budget's recipe), :func:`maker`, :func:`table1_markdown`, :func:`predictions`;
* the exercise checks, each next to the reference it compares with.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from .. import data
from ..course import lesson as _lesson
from ..course.checking import CheckError, Mistake, check_function, compare_tensors, not_written_yet, raised
from ..course.experiment import Experiment
from ..course.results import results_path
from ..models import build_model, model_names

LESSON = "03"

#: Table 1 (left) of Jaderberg et al. (2015): test error in %, per distortion and model
PAPER_TABLE1: dict[str, dict[str, float]] = {
    "R": {"FCN": 2.1, "CNN": 1.2, "ST-FCN Aff": 1.2, "ST-FCN Proj": 1.3, "ST-FCN TPS": 1.1,
          "ST-CNN Aff": 0.7, "ST-CNN Proj": 0.8, "ST-CNN TPS": 0.7},
    "RTS": {"FCN": 5.2, "CNN": 0.8, "ST-FCN Aff": 0.8, "ST-FCN Proj": 0.9, "ST-FCN TPS": 0.8,
            "ST-CNN Aff": 0.5, "ST-CNN Proj": 0.6, "ST-CNN TPS": 0.5},
    "P": {"FCN": 3.1, "CNN": 1.5, "ST-FCN Aff": 1.5, "ST-FCN Proj": 1.4, "ST-FCN TPS": 1.4,
          "ST-CNN Aff": 0.8, "ST-CNN Proj": 0.8, "ST-CNN TPS": 0.8},
    "E": {"FCN": 3.2, "CNN": 1.4, "ST-FCN Aff": 2.7, "ST-FCN Proj": 2.6, "ST-FCN TPS": 2.4,
          "ST-CNN Aff": 1.2, "ST-CNN Proj": 1.3, "ST-CNN TPS": 1.1},
}
#: the distortions of Table 1 (and Wang (2018)'s RTS) → ``stnlib.data`` dataset names
DATASETS = {"R": "mnist-r", "RTS": "mnist-rts", "P": "mnist-p", "E": "mnist-e",
            "RTS-Wang": "mnist-rts-wang"}
TABLE1_DISTORTIONS = ("R", "RTS", "P", "E")

# --------------------------------------------------------------------------- budget table

_TABLE1_NAMES = ("FCN", "CNN", "ST-FCN Aff", "ST-FCN Proj", "ST-FCN TPS", "ST-CNN Aff",
                 "ST-CNN Proj", "ST-CNN TPS")
#: every model on every distortion
_TABLE1_ALL = {d: _TABLE1_NAMES for d in TABLE1_DISTORTIONS}
#: the baselines and the transform that matches the distortion
_TABLE1_MATCHED = {
    "R": ("FCN", "CNN", "ST-FCN Aff", "ST-CNN Aff"),
    "RTS": ("FCN", "CNN", "ST-FCN Aff", "ST-CNN Aff"),
    "P": ("FCN", "CNN", "ST-FCN Proj", "ST-CNN Proj"),
    "E": ("FCN", "CNN", "ST-FCN TPS", "ST-CNN TPS"),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Lesson 03's own knobs (the rest of a budget is :class:`stnlib.course.budgets.Budget`)."""

    table1: Mapping[str, Sequence[str]]  # the models trained per distortion
    params: int  # the parameter budget every Table-1 model is sized to
    loc_lr_scale: float  # learning-rate factor of the localization nets
    recipe: Mapping[str, Any]  # optimizer and schedule of every model of the budget
    sweep_seeds: tuple[int, ...]  # seeds of Wang (2018)'s out-of-range sweeps
    sweep_n_train: int | None  # training digits of the sweep models (None: all)
    sweep_n_test: int  # test digits per sweep point
    checkpoints: bool  # write a checkpoint per model (long `full` runs resume)
    sweep_rotation: tuple[float, ...]  # max rotation (°) per sweep point
    sweep_translation: tuple[float, ...]  # max shift (fraction of the width)
    sweep_scale: tuple[float, ...]  # scale amount a (1 ± a)
    tutorial: bool  # the PyTorch tutorial's recipe side by side


#: the Budget fields lesson 03 changes
BUDGET_CHANGES = {
    "smoke": {"n_train": 256, "n_test": 256, "batch_size": 64},
    # 20k digits × 3 epochs, three seeds (the notebook takes about 8 minutes on 2 CPU threads); the
    # Table-1 cells beyond the matched transforms are `full` only
    "standard": {"epochs": 3, "n_train": 20_000, "n_test": None, "batch_size": 64, "seeds": (0, 1, 2)},
    # the paper: SGD, batch 256, a stepped learning rate, 150k iterations (640 epochs of
    # 60k); here 60 epochs (14k iterations) × 3 seeds × 32 models on one GPU
    "full": {"epochs": 60, "n_train": None, "n_test": None, "batch_size": 256,
             "seeds": (0, 1, 2), "lr": 0.01, "cell_timeout": 10 * 3600},
}
_ADAM = {"optimizer": "adam", "schedule": "onecycle"}
SETTINGS = {
    "smoke": Settings(table1=_TABLE1_ALL, params=30_000, loc_lr_scale=1.0, recipe=_ADAM,
                      sweep_seeds=(0,), sweep_n_train=256, sweep_n_test=128, checkpoints=False,
                      sweep_rotation=(0, 90, 180), sweep_translation=(0.0, 0.4),
                      sweep_scale=(0.0, 0.6), tutorial=True),
    "standard": Settings(table1=_TABLE1_MATCHED, params=30_000, loc_lr_scale=1.0, recipe=_ADAM,
                         sweep_seeds=(0, 1, 2), sweep_n_train=10_000, sweep_n_test=2000,
                         checkpoints=False, sweep_rotation=(0, 30, 60, 90, 120, 150, 180),
                         sweep_translation=(0.0, 0.1, 0.2, 0.3, 0.4),
                         sweep_scale=(0.0, 0.15, 0.3, 0.45, 0.6), tutorial=True),
    "full": Settings(table1=_TABLE1_ALL, params=30_000, loc_lr_scale=1.0,
                     recipe={"optimizer": "sgd", "momentum": 0.9, "schedule": "step"},
                     sweep_seeds=(0, 1, 2, 3, 4), sweep_n_train=None, sweep_n_test=10_000,
                     checkpoints=True,
                     sweep_rotation=(0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180),
                     sweep_translation=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4),
                     sweep_scale=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), tutorial=True),
}


def start(budget: str | None = None, seed: int = 0, device: str | None = None):
    """``course.start_lesson("03", ...)`` with this lesson's budget table."""
    return _lesson.start_lesson(LESSON, budget=budget, seed=seed, device=device,
                                changes=BUDGET_CHANGES, settings=SETTINGS)


# --------------------------------------------------------------------------- experiments


def experiment(ctx, dist: str, *, n_train: int | None = None) -> Experiment:
    """The :class:`~stnlib.course.experiment.Experiment` of one distortion: its data and the recipe.

    Each seed trains on its own draw of ``n_train`` distorted digits (default:
    the budget's), as Table 1's runs are repeated over seeds; every model is
    scored on the same fixed test digits after its last epoch. The recipe is the
    budget's (``settings.recipe`` says its optimizer and schedule) with the
    localization nets at ``settings.loc_lr_scale``; at ``full`` the runs are kept
    on disk, so a long run that stops resumes where it was.

    Args:
        ctx: the lesson's context (:func:`start`).
        dist: a key of :data:`DATASETS` (``"R"``, ``"RTS"``, ``"P"``, ``"E"``, ``"RTS-Wang"``).
        n_train: training digits per seed; ``None``: the budget's.
    """
    B, S = ctx.budget, ctx.budget.settings
    if dist not in DATASETS:
        raise ValueError(f"dist must be one of {', '.join(map(repr, DATASETS))}, got {dist!r}")
    n = n_train or B.n_train

    @functools.cache
    def train_data(seed: int):
        return data.load(DATASETS[dist], "train", n=n, seed=seed)

    cache = results_path().parent / "checkpoints" / f"03-{dist}-{n or 'all'}" if S.checkpoints else None
    return Experiment(ctx, recipe=B.recipe(**S.recipe, loc_lr_scale=S.loc_lr_scale), train_data=train_data,
                      test_data=data.load(DATASETS[dist], "test", n=B.n_test, seed=0), cache_dir=cache)


def maker(name: str, exp: Experiment, params: int) -> Callable[[], torch.nn.Module]:
    """A function that builds Table-1 model ``name`` for ``exp``'s image size with ≈ ``params`` parameters."""
    size = exp.test_data.images.shape[-1]
    return lambda: build_model(name, in_size=size, params=params)


def summary_lines(ours: Mapping[tuple[str, str], float]) -> list[str]:
    """What a run measured, as text: how far each trained cell of Table 1 is from the paper's.

    The comparisons between models are printed by :meth:`Experiment.compare`, with their intervals.
    """
    ratios = {k: v / PAPER_TABLE1[k[0]][k[1]] for k, v in ours.items()}
    if not ratios:
        return []
    lo, hi = min(ratios, key=ratios.get), max(ratios, key=ratios.get)
    return [f"Table 1: {len(ours)} cells trained; ours / paper from {ratios[lo]:.1f}× "
            f"({lo[1]} on {lo[0]}) to {ratios[hi]:.1f}× ({hi[1]} on {hi[0]})"]


def table1_markdown(ours: Mapping[tuple[str, str], float], *, title: str) -> str:
    """Table 1 as markdown, ``ours / paper`` per cell (test error in %), ``–`` where not trained."""
    rows = ["| model | " + " | ".join(TABLE1_DISTORTIONS) + " |",
            "|---|" + "---|" * len(TABLE1_DISTORTIONS)]
    for name in model_names():
        cells = [f"{ours[d, name]:.2f} / {PAPER_TABLE1[d][name]}" if (d, name) in ours
                 else f"– / {PAPER_TABLE1[d][name]}" for d in TABLE1_DISTORTIONS]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return f"**{title}**\n\n" + "\n".join(rows)


@torch.no_grad()
def predictions(model: torch.nn.Module, images: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """The class ``model`` predicts for each of ``images`` (N,), in batches."""
    return torch.cat([model(x).argmax(1) for x in images.split(batch)])


# --------------------------------------------------------------------------- exercise checks


_PARAMS = {"affine": "6 (a 2×3 θ)", "projective": "8 (a 3×3 homography without its last "
           "entry)", "tps": "32 (16 control points × (x, y))"}


def check_identity_head(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 03, exercise 1: ``identity_head(n_features, transform)``, the localization net's last layer.

    It must be an ``nn.Linear(n_features, P)`` with zero weights and the
    identity parameters of ``transform`` as its bias (affine P = 6,
    projective P = 8, 16-point TPS P = 32), so that a new spatial transformer
    passes its input through unchanged.
    """
    from torch import nn

    from ..grids import identity

    cases = [(20, "affine"), (32, "projective"), (7, "tps")]
    for n_features, transform in cases:
        where = f"identity_head({n_features}, {transform!r})"
        try:
            head = student(n_features, transform)
        except NotImplementedError:
            return not_written_yet("identity_head", verbose=verbose)
        except Exception as err:
            raise raised(where, err) from None
        if not isinstance(head, nn.Linear):
            raise CheckError(f"{where} must return an nn.Linear, got {type(head).__name__}",
                             hint="return the layer itself, torch.nn.Linear(n_features, P)")
        expected = identity(transform)
        if (head.in_features, head.out_features) != (n_features, expected.numel()):
            hint = None
            if head.out_features == 6 and transform != "affine":
                hint = ("this is the affine head for every transform: P depends on the transform, "
                        "P = grids.identity(transform).numel()")
            elif head.in_features != n_features:
                hint = "the layer reads the n_features features of the localization body"
            raise CheckError(f"{where}: the layer maps {head.in_features} → {head.out_features} "
                             f"features, expected {n_features} → {expected.numel()} (a {transform} "
                             f"transform has {_PARAMS[transform]} parameters)", hint=hint)
        if head.bias is None:
            raise CheckError(f"{where}: the layer has no bias, and the bias is what holds the "
                             "identity", hint="nn.Linear(n_features, P) has a bias by default; "
                             "do not pass bias=False")
        try:
            compare_tensors(head.weight.detach(), torch.zeros_like(head.weight),
                            name="the weight", describe=lambda i: f"weight[{i[0]}, {i[1]}]")
        except CheckError as err:
            raise err.prefixed(f"{where}: ").with_hint(
                "a new nn.Linear starts with random weights: set them to zero "
                "(nn.init.zeros_(head.weight)), so the output is the bias whatever the features "
                "are") from None
        try:
            compare_tensors(head.bias.detach(), expected, name="the bias",
                            describe=lambda i: f"bias[{i[0]}] (identity parameter {i[0]})")
        except CheckError as err:
            affine = identity("affine")
            b = head.bias.detach()
            hint = "the bias is the identity of the transform: grids.identity(transform)"
            if transform != "affine" and b.numel() >= 6 and torch.allclose(b[:6], affine) \
                    and not torch.allclose(expected[:6], affine):
                hint = ("this bias is the affine identity [1, 0, 0, 0, 1, 0]; each transform has "
                        "its own identity: grids.identity(transform)")
            elif b.abs().max() == 0:
                hint = "the bias is all zeros: it must hold the identity, grids.identity(transform)"
            raise err.prefixed(f"{where}: ").with_hint(hint) from None
        if not (head.weight.requires_grad and head.bias.requires_grad):
            raise CheckError(f"{where}: the weight and the bias are frozen (requires_grad=False)",
                             hint="the identity is only where the localization net starts: it "
                             "must learn from there, so leave both trainable (set their values "
                             "under torch.no_grad() instead of freezing them)")
    if verbose:
        print("✓ identity_head is correct: zero weights and the identity as bias for affine, "
              "projective and TPS")
    return True


def _similarity_thetas() -> torch.Tensor:
    from ..theta import affine_theta

    g = torch.Generator().manual_seed(3)
    angles = torch.rand(6, generator=g) * 340 - 170
    scales = torch.rand(6, generator=g) * 1.5 + 0.5
    shifts = torch.rand(6, 2, generator=g) - 0.5
    return torch.stack([affine_theta(angle=a.item(), scale=s.item(), translation=t.tolist())
                        for a, s, t in zip(angles, scales, shifts)]).float()


def picture_angle_reference(theta: torch.Tensor) -> torch.Tensor:
    """The reference of lesson 03, exercise 2: by how many degrees warping with θ turns the picture.

    θ (N×2×3) → angles (N,), counter-clockwise positive, as
    :func:`stnlib.theta.affine_theta`; :func:`stnlib.theta.decompose_affine`'s ``angle``.
    """
    from ..theta import decompose_affine

    return decompose_affine(theta)["angle"]


def check_picture_angle(student: Callable, *, verbose: bool = True) -> bool:
    """Lesson 03, exercise 2: ``picture_angle(theta)`` for rotations, zooms and shifts."""
    from ..theta import affine_theta

    cases = [
        ("identity", {"theta": affine_theta().unsqueeze(0).float()}),
        ("turn 30° counter-clockwise", {"theta": affine_theta(angle=30.0).unsqueeze(0).float()}),
        ("turn −120°, zoom out 2×", {"theta": affine_theta(angle=-120.0, scale=0.5)
                                     .unsqueeze(0).float()}),
        ("batch of 6 rotations, zooms and shifts", {"theta": _similarity_thetas()}),
    ]
    return check_function(student, picture_angle_reference, cases, name="picture_angle",
                          rtol=1e-4, atol=1e-3, verbose=verbose, output="your angle",
                          mistakes=PICTURE_ANGLE_MISTAKES, describe=_describe_angle)


def _describe_angle(case, what, index):
    if len(index) != 1:
        return None
    return f"θ[{index[0]}]" + (" of the batch" if len(case["theta"]) > 1 else "")


PICTURE_ANGLE_MISTAKES = [
    Mistake("this is the angle in radians: the course gives angles in degrees (torch.rad2deg)",
            lambda theta: torch.deg2rad(picture_angle_reference(theta))),
    Mistake("the sign is flipped: warping with θ turns the picture by the angle of θ's rotation "
            "as affine_theta builds it (counter-clockwise positive); compare with "
            "theta.affine_theta(angle=30)",
            lambda theta: -picture_angle_reference(theta)),
    Mistake("atan gives angles in (−90°, 90°) only: for larger turns use torch.atan2(sin, cos), "
            "which knows the quadrant",
            lambda theta: torch.rad2deg(torch.atan(torch.tan(
                torch.deg2rad(picture_angle_reference(theta)))))),
    Mistake("the sign is flipped and atan misses the quadrant: use torch.atan2 and check the "
            "sign against theta.affine_theta(angle=30)",
            lambda theta: -torch.rad2deg(torch.atan(torch.tan(
                torch.deg2rad(picture_angle_reference(theta)))))),
    Mistake("radians, and the sign is flipped: use torch.rad2deg and check the sign against "
            "theta.affine_theta(angle=30)",
            lambda theta: -torch.deg2rad(picture_angle_reference(theta))),
]
