"""Lesson 07, why a spatial transformer cannot align CNN feature maps: budgets, published values,
the misalignment measure, the angle read-out, exercise checks and experiment helpers for
``solutions/07_feature_maps.ipynb``.

Published values (what the notebook records its numbers against):

* :data:`PAPER_TABLE1`: Finnveden, Jansson & Lindeberg (2020), Table 1, test error in % on
  rotated MNIST (±90°) and translated MNIST: CNN 1.71 / 1.72, STN-C0 1.08 / 1.08,
  STN-C1 1.32 / 1.15, STN-SL1 0.98 / 1.10.
* :data:`PAPER_TABLE2`: their Table 2, SVHN (not available offline; quoted for the trend only):
  STN-CX / STN-SLX at X = 0, 3, 6, 8: 3.81 / 3.81, 3.70 / 3.54, 3.91 / 3.29, 4.00 / 3.27 %.

Their protocol (the paper's §2 and their code, luuf/stn-placement): SGD at learning rate 0.01,
mini-batches of 256, about 150 000 iterations, the localization net at a lower learning rate,
the test error averaged over 10 randomly transformed passes of the test set.

The measure (the paper's eq. 1, made a number): for a network Γ whose k-th block gives the
feature map Γ_k f and a spatial transform T_g, the relative misalignment

    ‖T_g⁻¹(Γ_k T_g f) − Γ_k f‖ / ‖Γ_k f‖,

zero when transforming the feature map back undoes what transforming the input did
(:func:`misalignment`). T_g acts on each map in that map's own pixel grid, which
:func:`map_geometry` places on the input's (where each feature pixel sits, in input pixels).

The exercises: the misalignment of a feature map under a given T_g (:func:`check_misalignment`)
and STN-SL1 built from the pieces, the shared layers used twice (:func:`check_sl_forward`), each
with its typical wrong answers.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import nn

from .. import data as _data
from ..course import lesson as _lesson
from ..course.checking import CheckError, Mistake, check_function
from ..equivariance import predicted_angle, rotation_shift, theta_on_map
from ..equivariance import warp_map as warp  # the lesson's L.warp: one θ for the batch, bilinear
from ..metrics import error
from ..models import placement as _placement
from ..models.placement import PlacementNet
from ..theta import affine_theta, invert
from ..train import evaluate
from ..warping import warp as _library_warp

LESSON = "07"

#: Finnveden, Jansson & Lindeberg (2020), Table 1: test error in %, (rotation, translation)
PAPER_TABLE1 = {"CNN": (1.71, 1.72), "STN-C0": (1.08, 1.08), "STN-C1": (1.32, 1.15),
                "STN-SL1": (0.98, 1.10)}
#: their Table 2 (SVHN): test error in %, X -> (STN-CX, STN-SLX)
PAPER_TABLE2 = {0: (3.81, 3.81), 3: (3.70, 3.54), 6: (3.91, 3.29), 8: (4.00, 3.27)}
#: the data sets of Table 1's two columns
TABLE1_COLUMNS = ("rotation", "translation")


@dataclass(frozen=True)
class Settings:
    """Lesson 07's own knobs (the budget's ``epochs``, ``n_train``, ``n_test``, ``batch_size``, ``lr``
    and ``seeds`` drive the rotation runs).

    Attributes:
        optimizer, schedule: the training recipe (``"adam"`` one-cycle on a CPU; the paper's
            ``"sgd"`` at a constant rate in ``full``).
        loc_lr_scale: the localization net's learning rate relative to the rest (1 with Adam, as
            lesson 03; 0.1 with the paper's SGD, our choice of "a lower learning rate").
        head_lr_grid: the learning rates of the localization net's last layer, the θ head
            (parameters ``transformer.loc.0.head.*``), relative to the rest, that every
            transformer model is tuned over (:func:`tune_head_lr`: one seed, the lowest
            validation error after the last epoch wins; the CNN has no θ head). The head starts
            at zero (the identity θ) and must move before any rotation is learned. One value:
            nothing is tuned (``full``, the paper's single recipe).
        n_val: training images held out for validation (the tuning above, and reported beside
            the test error).
        columns: Table 1's columns that are run (``standard``: rotation only; the translated
            set's 42×42 digits cost about 4× as much and were still at 15-40 % error after
            2 000 digits × 3 epochs, so that column is ``full`` only).
        trans_dataset: the translated set (``"mnist-trans-finnveden"``, 42×42; ``"mnist-tc"`` is
            the authors' 60×60 translated and cluttered set, about 4× the compute).
        trans_n_train, trans_epochs: the translation runs' size.
        loc_norm: the localization body's normalization (:func:`stnlib.models.placement.localization_body`:
            ``"batch"``; ``None``, the authors' plain layers, lets the ReLUs of STN-C1's localization
            net die under Adam, and its θ never moves).
        test_passes: randomly transformed passes of the test set averaged (the paper: 10).
        depth_models: the extra models of the depth comparison (X beyond 1); empty: not run
            (``standard``: 3 seeds of two more models, each tuned, do not fit its 15 minutes).
        misalign_n: test digits of the misalignment-by-depth experiment.
        angles: the rotations (degrees) of that experiment; shifts: its translations (pixels).
        angle_n: test digits of the predicted-vs-applied angle plot.
    """

    optimizer: str = "adam"
    schedule: str = "onecycle"
    loc_lr_scale: float = 1.0
    head_lr_grid: tuple[float, ...] = (1.0, 10.0)
    n_val: int = 1000
    columns: tuple[str, ...] = ("rotation",)
    trans_dataset: str = "mnist-trans-finnveden"
    trans_n_train: int | None = 2000
    trans_epochs: int = 3
    loc_norm: str | None = "batch"
    test_passes: int = 1
    depth_models: tuple[str, ...] = ()
    misalign_n: int = 256
    angles: tuple[float, ...] = (0.0, 15.0, 30.0, 45.0, 60.0, 90.0, 120.0, 150.0, 180.0)
    shifts: tuple[int, ...] = (0, 1, 2, 3, 4, 6, 8)
    angle_n: int = 2000


#: how lesson 07 differs from the default budgets (Budget fields)
BUDGET_CHANGES = {
    "smoke": {"epochs": 1, "n_train": 256, "n_test": 256, "batch_size": 64, "seeds": (0,),
              "lr": 3e-3},
    # 3 seeds × 4 models + the θ-head tuning (3 more runs) in ≈ 7 CPU-minutes of training
    "standard": {"epochs": 4, "n_train": 6000, "n_test": 2000, "batch_size": 64, "seeds": (0, 1, 2),
                 "lr": 2e-3},
    # the paper: ≈ 150 000 iterations of 256 (≈ 640 epochs of 60 000), SGD 0.01; three seeds
    "full": {"epochs": 640, "n_train": None, "n_test": None, "batch_size": 256,
             "seeds": (0, 1, 2), "lr": 0.01},
}
SETTINGS = {
    # smoke runs every code path of full (both columns, the depth models), on a few hundred digits
    "smoke": Settings(n_val=128, columns=TABLE1_COLUMNS, trans_n_train=128, trans_epochs=1, misalign_n=16,
                      depth_models=("STN-C2", "STN-SL2"),
                      angles=(0.0, 45.0, 90.0, 180.0), shifts=(0, 2, 4), angle_n=256),
    "standard": Settings(),
    "full": Settings(optimizer="sgd", schedule="constant", loc_lr_scale=0.1, head_lr_grid=(0.1,),
                     columns=TABLE1_COLUMNS, depth_models=("STN-C2", "STN-SL2"), n_val=5000,
                     trans_dataset="mnist-tc", trans_n_train=None, trans_epochs=640, test_passes=10,
                     misalign_n=1000, angle_n=10000),
}


def start(budget=None, seed: int = 0, device=None):
    """Start lesson 07 (``ctx.budget.settings`` is its :class:`Settings`)."""
    return _lesson.start_lesson(LESSON, budget=budget, seed=seed, device=device,
                                changes=BUDGET_CHANGES, settings=SETTINGS)


# --------------------------------------------------------------------------------------
# The toy of Figure 1: two channels, "W" and "M"
# --------------------------------------------------------------------------------------

_W = ("1.......1",
      "1.......1",
      "1.......1",
      "1...1...1",
      "1...1...1",
      ".1.1.1.1.",
      ".1.1.1.1.",
      "..1...1..",
      "..1...1..")


def letter_w() -> torch.Tensor:
    """A 9×9 binary "W" (float); its 180° rotation, ``torch.rot90(W, 2)``, is an "M"."""
    return torch.tensor([[float(c == "1") for c in row] for row in _W])


def toy_network(template: torch.Tensor) -> nn.Module:
    """Γ with two channels: matched filters for ``template`` ("W") and its 180° rotation ("M").

    conv k×k ('same' padding, zero-mean unit-norm filters, no bias) → ReLU; N×1×H×W → N×2×H×W.
    """
    k = template.shape[-1]
    if template.dim() != 2 or template.shape[0] != k or k % 2 == 0:
        raise ValueError(f"template must be an odd k×k matrix, got shape {tuple(template.shape)}")
    filters = torch.stack([template, torch.rot90(template, 2)])
    filters = filters - filters.mean(dim=(1, 2), keepdim=True)
    filters = filters / filters.flatten(1).norm(dim=1)[:, None, None]
    conv = nn.Conv2d(1, 2, k, padding=k // 2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(filters[:, None])
    return nn.Sequential(conv, nn.ReLU())


@torch.no_grad()
def best_spatial_alignment(gamma: nn.Module, f: torch.Tensor, M: torch.Tensor, angles,
                           permute: bool = False) -> tuple[float, float]:
    """The smallest misalignment ‖S(Γ T_g f) − Γ f‖ / ‖Γ f‖ over spatial transforms S = rotations
    by ``angles`` (degrees, about the centre), optionally with the two channels swapped first.

    Returns ``(best misalignment, its angle)``. With T_g a 180° rotation of the toy, no angle
    brings the channels back; swapping the channels and turning by 180° does, exactly.
    """
    size = f.shape[-1]
    Tf = warp(f, theta_on_map(M, (0.0, 1.0, size)))
    a, b = gamma(Tf), gamma(f)
    if permute:
        a = a.flip(1)
    best = (math.inf, 0.0)
    for angle in angles:
        S = rotation_shift(float(angle), size=size)
        back = warp(a, theta_on_map(S, (0.0, 1.0, size)))
        value = ((back - b).norm() / b.norm()).item()
        best = min(best, (value, float(angle)))
    return best


# --------------------------------------------------------------------------------------
# Experiment helpers
# --------------------------------------------------------------------------------------

def load_split(name: str, n_train: int | None, n_val: int, *, seed: int = 0):
    """``(train, val)``: the first ``n_val`` training images for validation, the next ``n_train``
    for training (``None``: all the rest)."""
    full = _data.load(name, "train", n=None if n_train is None else n_train + n_val, seed=seed)
    return full.subset(slice(n_val, None)), full.subset(slice(0, n_val))


def recipe(budget, *, head_lr_scale: float, epochs: int | None = None):
    """Lesson 07's training recipe: the budget's, with the lesson's optimizer and schedule, the
    localization net at ``settings.loc_lr_scale`` of the learning rate and its θ head at
    ``head_lr_scale`` of it (one of ``settings.head_lr_grid``, chosen by :func:`tune_head_lr`);
    ``epochs`` (default: the budget's) for the translation runs."""
    S = budget.settings
    return budget.recipe(epochs=epochs or budget.epochs, optimizer=S.optimizer, schedule=S.schedule,
                         loc_lr_scale=S.loc_lr_scale, head_lr_scale=head_lr_scale)


def build(name: str, in_size: int, budget) -> PlacementNet:
    """The placement model ``name`` (``"CNN"``, ``"STN-C1"`` …) for ``in_size``×``in_size`` inputs,
    its localization body normalized as ``budget.settings.loc_norm``."""
    return _placement.build(name, in_size=in_size, loc_norm=budget.settings.loc_norm)


def tuning_name(name: str, head_lr_scale: float) -> str:
    """The name of ``name``'s tuning run with the θ head at ``head_lr_scale`` × the rate."""
    return f"{name}, θ head ×{head_lr_scale:g}"


def tune_head_lr(exp, name: str, make, seed: int, grid, recipe_for) -> tuple[float, dict[float, float]]:
    """Choose ``name``'s θ-head learning-rate factor on the validation split, the same rule for
    every model: train ``make()`` with ``seed`` once per factor in ``grid`` (``recipe_for(h)``
    gives the recipe) and keep the factor with the lowest validation error after the last
    epoch (a tie: the first in ``grid``). The test split is not read.

    The runs are ``exp``'s, named :func:`tuning_name`; the chosen one also becomes ``name``'s run
    for ``seed`` (same data, seed and recipe as training it again, so it is not trained twice).
    Needs ``exp`` to have a validation split.

    Returns ``(chosen factor, {factor: validation error})``.
    """
    if exp.val_data is None:
        raise ValueError("tune_head_lr needs an Experiment with a validation split (val_data)")
    grid = tuple(grid)
    if not grid:
        raise ValueError("grid must hold at least one factor")
    errors = {}
    for h in grid:
        run = exp.run(tuning_name(name, h), make, seed, recipe=recipe_for(h))
        errors[h] = float(run.history.last["val_error"])
    chosen = min(grid, key=lambda h: (errors[h], grid.index(h)))
    best = exp.runs[tuning_name(name, chosen), seed]
    exp.runs.setdefault((name, seed), dataclasses.replace(best, name=name))
    return chosen, errors


def test_error(model: nn.Module, name: str, *, n_test: int | None, passes: int, device) -> float:
    """Test error in %, averaged over ``passes`` independently transformed draws of the test set
    (the paper averages 10)."""
    errs = [evaluate(model, _data.load(name, "test", n=n_test, epoch=p), device=device,
                     metrics={"error": error})["error"] for p in range(passes)]
    return sum(errs) / len(errs)


@torch.no_grad()
def angles_of(model: PlacementNet, images: torch.Tensor, device, batch: int = 512) -> torch.Tensor:
    """The predicted angle (:func:`predicted_angle`) of ``model``'s transformer for every image."""
    model.eval().to(device)
    out = [predicted_angle(model.transformed(images[i:i + batch].to(device))[1].double().cpu())
           for i in range(0, len(images), batch)]
    return torch.cat(out)


# --------------------------------------------------------------------------------------
# Exercise 1: the misalignment of a feature map
# --------------------------------------------------------------------------------------

def misalignment_reference(gamma, images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """The reference of exercise 1: per image, ‖T_g⁻¹(Γ T_g f) − Γ f‖ / ‖Γ f‖ with T_g f =
    ``warp(f, θ)`` and T_g⁻¹ = ``warp(·, invert(θ))`` (zero padding, no border mask)."""
    a = gamma(warp(images, theta))
    back = warp(a, invert(theta))
    b = gamma(images)
    return (back - b).flatten(1).norm(dim=1) / b.flatten(1).norm(dim=1)


def _wrong_misalignment(kind):
    def wrong(gamma, images, theta):
        a = gamma(warp(images, theta))
        b = gamma(images)
        if kind in ("forward", "forward, moved norm"):  # T_g Γ f against Γ T_g f
            moved = warp(b, theta)
            d = (a - moved).flatten(1).norm(dim=1)
            return d / (moved if kind == "forward, moved norm" else b).flatten(1).norm(dim=1)
        if kind == "no inverse":
            back = warp(a, theta)
        elif kind == "not back":
            back = a
        elif kind == "input back":
            back = gamma(warp(warp(images, theta), invert(theta)))
        else:
            back = warp(a, invert(theta))
        d = (back - b).flatten(1).norm(dim=1)
        if kind == "moved norm":
            return d / a.flatten(1).norm(dim=1)
        if kind == "squared":
            return d ** 2 / b.flatten(1).norm(dim=1) ** 2
        if kind == "absolute":
            return d
        if kind == "batch":
            return (back - b).norm() / b.norm()
        return d / b.flatten(1).norm(dim=1)
    return wrong


class _Named:
    """A callable with a short repr (so a check's message names it, not its modules)."""

    def __init__(self, fn, name):
        self.fn, self.name = fn, name

    def __call__(self, *a, **k):
        return self.fn(*a, **k)

    def __repr__(self):
        return self.name


def _exercise_gamma(seed=7):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU())
    for p in net.parameters():
        p.requires_grad_(False)
    return _Named(net, f"Γ = conv 5×5 (4 channels, 'same' padding) → ReLU, seed {seed}")


def _misalignment_cases():
    g = torch.Generator().manual_seed(70)
    f = torch.zeros(3, 1, 16, 16)
    f[:, :, 4:12, 4:12] = torch.rand(3, 1, 8, 8, generator=g)
    gamma = _exercise_gamma()
    return [
        ("T_g = identity", {"gamma": gamma, "images": f, "theta": affine_theta(0.0)}),
        ("T_g = 30° rotation", {"gamma": gamma, "images": f, "theta": affine_theta(30.0)}),
        ("T_g = 90° rotation", {"gamma": gamma, "images": f, "theta": affine_theta(90.0)}),
        ("T_g = shift by 2 pixels right", {"gamma": gamma, "images": f,
                                           "theta": affine_theta(translation=(0.25, 0.0))}),
        ("T_g = 45° rotation and zoom 1.2", {"gamma": gamma, "images": f,
                                             "theta": affine_theta(45.0, scale=1.2)}),
    ]


#: typical wrong answers of exercise 1, each with its hint
MISALIGNMENT_MISTAKES = (
    Mistake("you warped Γ T_g f with θ again: to undo T_g, warp the feature map with the "
            "inverse, invert(θ)", wrong=_wrong_misalignment("no inverse")),
    Mistake("you compared Γ T_g f with Γ f directly: apply T_g⁻¹ (warp with invert(θ)) to the "
            "feature map first", wrong=_wrong_misalignment("not back")),
    Mistake("you undid T_g on the input, Γ(T_g⁻¹ T_g f): that is what STN-C0 does. Eq. (1) "
            "warps the FEATURE MAP back: T_g⁻¹(Γ T_g f)", wrong=_wrong_misalignment("input back")),
    Mistake("divide by ‖Γ f‖, the norm of the original image's feature map, not by ‖Γ T_g f‖",
            wrong=_wrong_misalignment("moved norm")),
    Mistake("these are squared norms: take the norms themselves, ‖·‖ = sqrt(sum of squares)",
            wrong=_wrong_misalignment("squared")),
    Mistake("relative misalignment: divide by ‖Γ f‖", wrong=_wrong_misalignment("absolute")),
    Mistake("one value per image: flatten each image's map (x.flatten(1)) and take the norm "
            "along dim=1, not over the whole batch", wrong=_wrong_misalignment("batch")),
    Mistake("you warped Γ f FORWARD and compared T_g(Γ f) with Γ T_g f: eq. (1) warps the moved "
            "image's feature map BACK, T_g⁻¹(Γ T_g f) = warp(Γ(warp(f, θ)), invert(θ)), and compares "
            "it with Γ f (the two differ where the warp moves content off or onto the map)",
            wrong=_wrong_misalignment("forward")),
    Mistake("you warped Γ f FORWARD and compared T_g(Γ f) with Γ T_g f, divided by ‖T_g Γ f‖: eq. "
            "(1) warps the moved image's feature map BACK, T_g⁻¹(Γ T_g f), compares it with Γ f "
            "and divides by ‖Γ f‖", wrong=_wrong_misalignment("forward, moved norm")),
    Mistake("norm(dim=1) of an N×C×H×W map is the norm over the channels at each pixel: flatten "
            "each image's map first, x.flatten(1).norm(dim=1), for one value per image",
            test=lambda case, actual, expected: isinstance(actual, torch.Tensor)
            and actual.shape == (case["images"].shape[0], *case["images"].shape[2:])),
    Mistake("return a tensor of shape (N,), one value per image: keepdim=True or an [:, None] "
            "leaves an extra axis", test=lambda case, actual, expected: isinstance(actual, torch.Tensor)
            and actual.dim() > 1 and actual.numel() == expected.numel()),
)
#: hints for what misalignment raises, by a piece of the error's message
MISALIGNMENT_RAISED = (
    ("Expected a batch of 2D affine matrices", "θ is one 2×3 matrix for the whole batch: use "
     "L.warp(f, theta), which applies it to every image (torch's affine_grid wants N×2×3)"),
    ("batch size mismatch", "θ is one 2×3 matrix for the whole batch: pass it to L.warp as it is, "
     "which applies it to every image (θ[None] is a batch of one)"),
)


def check_misalignment(student, *, verbose: bool = True) -> bool:
    """Lesson 07, exercise 1: ``misalignment(gamma, images, theta)`` → N relative misalignments.

    ``gamma`` maps N×1×H×W images to feature maps of the same size; T_g f = ``warp(f, θ)`` and
    T_g⁻¹ = ``warp(·, invert(θ))``. Names the usual mistakes (:data:`MISALIGNMENT_MISTAKES`): no
    inverse, no warp back, warping the input back instead, the wrong norm in the denominator,
    squared norms, no division, one value for the whole batch, Γ f warped forward instead of
    Γ T_g f warped back, the norm over the channels only, an extra axis; and what a batch of
    θ raises (:data:`MISALIGNMENT_RAISED`).
    """
    return check_function(student, misalignment_reference, _misalignment_cases(),
                          name="misalignment", rtol=1e-4, atol=1e-6, verbose=verbose,
                          output="your misalignment", mistakes=MISALIGNMENT_MISTAKES,
                          raised_hints=MISALIGNMENT_RAISED,
                          describe=lambda case, what, index: f"image {index[0]}" if index else None)


# --------------------------------------------------------------------------------------
# Exercise 2: STN-SL1 from the pieces
# --------------------------------------------------------------------------------------

class SLPieces:
    """The pieces of exercise 2: ``blocks`` (the classifier's two blocks), ``head`` (flatten →
    linear) and ``localization`` (block 1's features N×64×10×10 → θ N×2×3)."""

    def __init__(self, seed: int = 7):
        torch.manual_seed(seed)
        self.net = PlacementNet("SL", 1)
        with torch.no_grad():  # a localization net that does something
            self.net.transformer.loc[0].head.weight.normal_(0, 0.02)
        self.net.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.blocks, self.head = self.net.blocks, self.net.head
        self.localization = self.net.transformer.theta
        self.seed = seed

    def __repr__(self):
        return f"pieces of STN-SL1 (seed {self.seed})"


def sl_forward_reference(x: torch.Tensor, pieces: SLPieces) -> torch.Tensor:
    """The reference of exercise 2: θ from block 1's features, warp the INPUT (border padding),
    both blocks again on the warped input, then the head."""
    theta = pieces.localization(pieces.blocks[0](x))
    V = warp(x, theta, padding_mode="border")
    return pieces.head(pieces.blocks[1](pieces.blocks[0](V)))


def _wrong_sl(kind):
    def wrong(x, pieces):
        b0, b1, head = pieces.blocks[0], pieces.blocks[1], pieces.head
        theta = pieces.localization(b0(x))
        if kind == "C1":
            return head(b1(warp(b0(x), theta, padding_mode="border")))
        if kind == "no warp":
            return head(b1(b0(x)))
        if kind == "zeros":
            return head(b1(b0(warp(x, theta))))
        if kind == "inverse":
            return head(b1(b0(warp(x, invert(theta), padding_mode="border"))))
        if kind == "corners":
            return head(b1(b0(_library_warp(x, theta, align_corners=True, padding_mode="border"))))
        raise ValueError(kind)
    return wrong


def _sl_cases():
    g = torch.Generator().manual_seed(71)
    pieces = SLPieces()
    return [
        ("4 random 28×28 images", {"x": torch.rand(4, 1, 28, 28, generator=g), "pieces": pieces}),
        ("2 images with a bright square", {"x": torch.zeros(2, 1, 28, 28).index_fill_(
            2, torch.arange(6, 16), 1.0), "pieces": pieces}),
    ]


#: typical wrong answers of exercise 2, each with its hint
SL_MISTAKES = (
    Mistake("you warped block 1's feature map: that is STN-C1. STN-SL1 only READS block 1's "
            "features to predict θ; θ warps the INPUT x, and the warped input goes through "
            "block 1 again", wrong=_wrong_sl("C1")),
    Mistake("θ is never used: warp the input with it (V = warp(x, θ)) and classify V",
            wrong=_wrong_sl("no warp")),
    Mistake("zero padding: use border padding (padding_mode='border'), the authors' choice "
            "for MNIST", wrong=_wrong_sl("zeros")),
    Mistake("warp with θ itself, not its inverse: θ already maps output to input coordinates",
            wrong=_wrong_sl("inverse")),
    Mistake("align_corners=True: the course's transformers use align_corners=False",
            wrong=_wrong_sl("corners")),
    Mistake("these are block 2's features (N×64×2×2): the head, pieces.head, turns them into the "
            "10 logits", test=lambda case, actual, expected: isinstance(actual, torch.Tensor)
            and actual.shape == (case["x"].shape[0], 64, 2, 2)),
)
#: STN-SL1's shapes, said once for every shape error of exercise 2
SL_SHAPES = ("x N×1×28×28 → blocks[0] → N×64×10×10 → localization → θ N×2×3; V = warp(x, θ) → "
             "blocks[0] → blocks[1] → N×64×2×2 → head → N×10")
#: hints for what sl_forward raises, by a piece of the error's message (the first that fits)
SL_RAISED = (
    ("U must have 64 channels", "the localization net reads block 1's features, "
     f"pieces.blocks[0](x), not the image x: {SL_SHAPES}"),
    ("x256 and 6400x32", f"the localization net reads block 1's features, not block 2's: {SL_SHAPES}"),
    ("x6400 and 256x10", f"the head reads block 2's output: run blocks[1] after blocks[0]: {SL_SHAPES}"),
    ("to have 64 channels, but got 1 channels", "block 2 reads block 1's output (64 channels), not "
     f"an image: blocks[1](blocks[0](V)): {SL_SHAPES}"),
    ("shapes cannot be multiplied", f"a layer got the wrong map: {SL_SHAPES}"),
    ("channels, but got", f"a layer got the wrong map: {SL_SHAPES}"),
)


def check_sl_forward(student, *, verbose: bool = True) -> bool:
    """Lesson 07, exercise 2: ``sl_forward(x, pieces)`` → logits of STN-SL1 (N×10).

    ``pieces`` (:class:`SLPieces`) has ``blocks``, ``head`` and ``localization``. Names the usual
    mistakes (:data:`SL_MISTAKES`): warping the feature map (STN-C1), not warping, zero padding,
    the inverse θ, ``align_corners=True``, no head; and the shape errors of a layer fed the
    wrong map (:data:`SL_RAISED`).
    """
    return check_function(student, sl_forward_reference, _sl_cases(), name="sl_forward",
                          rtol=1e-4, atol=1e-5, verbose=verbose, output="your logits",
                          mistakes=SL_MISTAKES, raised_hints=SL_RAISED,
                          describe=lambda case, what, index: (f"image {index[0]}, logit of class "
                                                              f"{index[1]}") if len(index) == 2 else None)


__all__ = [
    "PAPER_TABLE1", "PAPER_TABLE2", "TABLE1_COLUMNS", "Settings", "BUDGET_CHANGES", "SETTINGS",
    "start", "warp", "letter_w", "toy_network", "best_spatial_alignment",
    "load_split", "recipe", "build", "tuning_name", "tune_head_lr", "test_error", "angles_of",
    "misalignment_reference",
    "check_misalignment", "MISALIGNMENT_MISTAKES", "MISALIGNMENT_RAISED", "SLPieces",
    "sl_forward_reference", "check_sl_forward", "SL_MISTAKES", "SL_RAISED", "CheckError",
]
