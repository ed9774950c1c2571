"""Lesson 04, cluttered MNIST and the collapse of a spatial transformer: budgets, paper values,
exercise checks and experiment helpers for ``solutions/04_cluttered_mnist.ipynb``.

Paper values (what the notebook records its numbers against):

* :data:`PAPER_CLUTTERED`: Possatti & de Freitas, Table IV, test accuracy on cluttered MNIST
  (40×40, 10 000 / 1 000 / 1 000) after 10 epochs: baseline 0.90, STN 0.96.
* :data:`PAPER_COLLAPSE`: Possatti & de Freitas, Table V, test accuracy on CIFAR-10 and on
  their CIFAR-10-DISTORTED (a 64×64 black canvas, the image in its centre, rotated ±20°,
  shifted ±10 px): the STN collapsed to 0.1 (chance) on both. Another data set than the
  course's MNIST stand-in: the notebook quotes it in prose, as context, never in a paper column.
* :data:`PAPER_TC`: Jaderberg et al. (2015), §4.1, test error (%) on translated-cluttered
  MNIST (60×60): FCN 13.2, CNN 3.5, ST-FCN 2.0, ST-CNN 1.7.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..course import lesson as _lesson
from ..course.checking import RAISED_HINTS, CheckError, Mistake, check_function, not_written_yet, your_line
from ..course.experiment import Experiment, Run, majority_error
from ..data.samples import Samples
from ..diagnostics import CollapseDetector, ThetaCollapseError, outside_fraction
from ..models import cluttered as zoo
from ..timing import time_call
from ..train import evaluate, theta_monitor

#: Possatti & de Freitas, Table IV: test accuracy on cluttered MNIST after 10 epochs
PAPER_CLUTTERED = {"Baseline": 0.90, "STN": 0.96}
#: Possatti & de Freitas, Table V: test accuracy on CIFAR-10 / CIFAR-10-DISTORTED
PAPER_COLLAPSE = {("CIFAR-10", "Baseline"): 0.74, ("CIFAR-10", "STN"): 0.1,
                  ("CIFAR-10-DISTORTED", "Baseline"): 0.56, ("CIFAR-10-DISTORTED", "STN"): 0.1}
#: Jaderberg et al. (2015), §4.1: test error (%) on translated-cluttered MNIST, 60×60
PAPER_TC = {"FCN": 13.2, "CNN": 3.5, "ST-FCN": 2.0, "ST-CNN": 1.7}


@dataclass(frozen=True)
class Settings:
    """Lesson 04's own knobs (the budget's ``epochs``, ``n_train``, ``n_test``, ``batch_size``,
    ``lr`` and ``seeds`` drive the cluttered-MNIST experiment).

    Attributes:
        n_val: validation digits of cluttered MNIST (the paper: 1 000).
        train_linear: also train the STN with Table I's convolutions read as linear.
        tc_epochs, tc_n_train, tc_n_test, tc_seeds: the translated-cluttered comparison.
        tc_canvas, tc_pieces: its canvas side and number of 6×6 clutter pieces (Jaderberg et
            al.: 60 and 6; ``standard`` uses a smaller set so that three seeds train far enough).
        tc_out_size: side of the ST-CNN transformer's output on TC (half the canvas).
        time_steps: optimizer steps timed per model for the step-time table.
        collapse_source: ``"mnist"`` (the default: MNIST on the black canvas), or
            ``"fashion-mnist"`` / ``"cifar10"`` when those are installed.
        collapse_n_train, collapse_n_test, collapse_epochs: the collapse runs.
        collapse_seeds: seeds of the condition table (initialization: five at ``standard``).
        collapse_every: steps between two θ statistics.
        collapse_patience: consecutive bad statistics before the detector fires.
        collapse_max_outside: the detector's limit on the fraction of the output read from
            outside the input (0.5: more padding than image; the library's default is 0.9).
        late_epochs, late_seeds: the late-collapse attempt (identity head, constant learning
            rate, no warm-up), one run per seed and learning rate.
        late_lr_factors: its constant learning rates, as factors of the budget's ``lr``.
        late_learned: validation accuracy (%) from which a run counts as having learned.
        fix_steps: training steps of the check that tries a student's fix.
    """

    n_val: int = 1000
    train_linear: bool = False
    tc_epochs: int = 5
    tc_n_train: int | None = 6000
    tc_n_test: int | None = 1000
    tc_seeds: tuple[int, ...] = (0, 1, 2)
    tc_canvas: int = 40
    tc_pieces: int = 4
    tc_out_size: int = 20
    time_steps: int = 10
    collapse_source: str = "mnist"
    collapse_n_train: int = 1024
    collapse_n_test: int = 400
    collapse_epochs: int = 3
    collapse_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    collapse_every: int = 2
    collapse_patience: int = 10
    collapse_max_outside: float = 0.5
    late_epochs: int = 6
    late_seeds: tuple[int, ...] = (0, 1, 2)
    late_lr_factors: tuple[float, ...] = (1.0, 0.5)
    late_learned: float = 50.0
    fix_steps: int = 40


#: how lesson 04 differs from the default budgets (Budget fields)
BUDGET_CHANGES = {
    "smoke": {"epochs": 1, "n_train": 512, "n_test": 256, "batch_size": 64, "seeds": (0,)},
    # three seeds of both models on 4 000 of the paper's 10 000 training digits (the notebook's 15 minutes)
    "standard": {"epochs": 4, "n_train": 4000, "n_test": 1000, "batch_size": 64, "seeds": (0, 1, 2)},
    # the paper: 10 epochs of the 10 000 training digits, tested on 1 000
    "full": {"epochs": 10, "n_train": 10_000, "n_test": 1000, "batch_size": 64,
             "seeds": (0, 1, 2)},
}
SETTINGS = {
    "smoke": Settings(n_val=256, tc_epochs=1, tc_n_train=256, tc_n_test=256, tc_seeds=(0,), time_steps=2,
                      collapse_n_train=256, collapse_n_test=128, collapse_epochs=1,
                      collapse_seeds=(0,), collapse_patience=3, late_epochs=2, late_seeds=(0,)),
    "standard": Settings(),
    # Jaderberg et al. train TC on 60 000 digits for many epochs; one GPU, 20 epochs
    # and on Jaderberg et al.'s own TC geometry (60×60, six pieces)
    "full": Settings(train_linear=True, tc_epochs=20, tc_n_train=None, tc_n_test=None, tc_canvas=60,
                     tc_pieces=6, tc_out_size=30, time_steps=20, collapse_n_train=10_000,
                     collapse_n_test=2000, collapse_epochs=10, collapse_every=10, late_epochs=20),
}


def start(budget=None, seed: int = 0, device=None):
    """Start lesson 04 (``ctx.budget.settings`` is its :class:`Settings`)."""
    return _lesson.start_lesson("04", budget=budget, seed=seed, device=device,
                                changes=BUDGET_CHANGES, settings=SETTINGS)


# --------------------------------------------------------------------------------------
# Experiment helpers
# --------------------------------------------------------------------------------------

def step_time(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, steps: int = 10,
              device=None, lr: float = 1e-3) -> float:
    """Seconds per training step (forward, backward, Adam update) on one batch: the mean of ``steps``
    steps after 2 warm-up steps (:func:`stnlib.timing.time_call`, wall clock)."""
    device = torch.device("cpu") if device is None else torch.device(device)
    model = model.to(device)
    x, y = images.to(device), labels.to(device)
    opt = torch.optim.Adam(model.parameters(), lr)

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return time_call(step, number=steps, device=device)


COLLAPSE_SOURCES = ("mnist", "fashion-mnist", "cifar10")


def canvas_data(split: str, n: int | None, *, seed: int = 0, source: str = "mnist") -> Samples:
    """Images on Possatti & de Freitas' 64×64 black canvas, rotated ±20°, shifted ±10 px.

    ``source="mnist"`` (the default, offline) pastes MNIST digits; ``"fashion-mnist"`` and
    ``"cifar10"`` load ``fashion-mnist-distorted`` / ``cifar10-distorted`` of
    :mod:`stnlib.data` (the same distortion) when those sets are installed.
    """
    from .. import data

    if source not in COLLAPSE_SOURCES:
        raise ValueError(f"source must be one of {', '.join(map(repr, COLLAPSE_SOURCES))}, "
                         f"got {source!r}")
    if source != "mnist":
        name = "fashion-mnist-distorted" if source == "fashion-mnist" else "cifar10-distorted"
        return data.load(name, split, n=n, seed=seed)
    return data.load("mnist-canvas", split, n=n, seed=seed)


# The collapse experiment: the recipe that collapses, then one fix at a time.
#: name -> (collapse_stn options, localization lr factor, where the input is standardized)
CONDITIONS: dict[str, dict] = {
    "collapsing recipe": {},
    "+ identity init": {"identity_init": True},
    "+ loc. net lr × 0.1": {"lr_scale": 0.1},
    "+ normalize after the warp": {"normalize": "after"},
    "+ border padding": {"padding_mode": "border"},
    "+ bounded θ (tanh, identity start)": {"bounded": True},
    "+ bounded θ (tanh, naive start 0.76)": {"bounded": True, "bound_start": "naive",
                                              "bound": (1.0, 1.0)},
    "+ identity init + loc. net lr × 0.1": {"identity_init": True, "lr_scale": 0.1},
}
#: the collapsing recipe, in words
RECIPE = ("inputs standardized to zero mean before the transformer, zero padding, a "
          "localization head initialized at random (PyTorch's default), trained at the "
          "classifier's learning rate, θ unbounded")


@dataclass
class CollapseRun:
    """One run of the collapse experiment: the :class:`~stnlib.course.experiment.Run` that
    :meth:`Experiment.run <stnlib.course.experiment.Experiment.run>` trained, and what the θ
    monitor and the collapse detector saw during its training.

    Attributes:
        condition: a key of :data:`CONDITIONS`.
        run: the experiment's run (its model, history, scores, θ spread and flags:
            ``run.at_chance`` and ``run.collapsed`` are the course's definitions).
        theta_history: the θ statistics logged every ``every`` steps (dicts with ``step``,
            ``scale_mean``, ``translation_mean``, ``outside``, …).
        detected: whether the lesson's :class:`~stnlib.diagnostics.CollapseDetector` fired
            on those statistics.
        fired_at: the step it fired at (``None``: it stayed quiet).
        message: its message (``""`` when quiet).
    """

    condition: str
    run: Run
    theta_history: list
    detected: bool
    fired_at: int | None
    message: str

    @property
    def seed(self) -> int:
        return self.run.seed

    @property
    def model(self) -> nn.Module:
        return self.run.model

    @property
    def history(self):
        return self.run.history

    @property
    def accuracy(self) -> float:
        """The run's test accuracy as a fraction (its primary score, in %, over 100)."""
        return self.run.scores["accuracy"] / 100


def standardize_stats(images: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of a training set (what a practitioner normalizes with)."""
    return images.mean().item(), images.std().item()


def replay_detector(theta_history: list, patience: int, max_outside: float = 0.5
                    ) -> tuple[int | None, str]:
    """Feed logged θ statistics to a fresh :class:`CollapseDetector`; ``(step it fired, message)``."""
    detector = CollapseDetector(patience=patience, max_outside=max_outside)
    for row in theta_history:
        stats = {k: v for k, v in row.items() if k != "step"}
        try:
            detector.update(stats)
        except ThetaCollapseError as err:
            return row["step"], str(err)
    return None, ""


def collapse_experiment(ctx, train_set: Samples, val_set: Samples, test_set: Samples, *, epochs: int,
                        budget=None, device=None, **recipe_changes) -> Experiment:
    """The collapse experiment's one :class:`~stnlib.course.experiment.Experiment`.

    Args:
        ctx: the lesson's context (its budget, device and progress mode), or ``None``.
        train_set, val_set, test_set: images on the 64×64 canvas (:func:`canvas_data`), in
            [0, 1]: every model of the experiment standardizes them itself (before or after
            the warp).
        epochs: the collapse runs' epochs (the budget's recipe otherwise).
        budget: the budget whose recipe trains the runs; default: ``ctx.budget``.
        device: default: the lesson's.
        recipe_changes: other fields of the recipe (e.g. ``schedule="constant"``, ``lr=...``
            for the late-collapse attempt).

    Returns:
        an Experiment scored by test accuracy in % (its primary score, higher is better;
        chance: the most frequent test class), the validation split evaluated after every
        epoch. :func:`run_condition` trains each condition in it; a model without a
        transformer trains with ``exp.run(name, make, seed)``.
    """
    budget = budget if budget is not None else ctx.budget
    test = (test_set.images, test_set.labels)

    def score(model: nn.Module) -> dict[str, float]:
        return {"accuracy": 100 - evaluate(model, test, device=exp.device)["error"]}

    exp = Experiment(ctx, recipe=budget.recipe(epochs=epochs, **recipe_changes), score=score,
                     primary="accuracy", higher_is_better=True, trivial=100 - majority_error(test_set.labels),
                     train_data=(train_set.images, train_set.labels),
                     val_data=(val_set.images, val_set.labels), test_data=test, device=device,
                     progress=None if ctx is not None else _lesson.progress_mode())
    return exp


def run_condition(exp: Experiment, condition: str, seed: int, *, every: int = 2, patience: int = 10,
                  max_outside: float = 0.5, fix=None, name: str | None = None) -> CollapseRun:
    """Train the collapse model under ``condition`` (a key of :data:`CONDITIONS`) in ``exp``.

    The model is trained by ``exp.run(condition, ...)`` (:func:`collapse_experiment`), with the
    experiment's recipe and the condition's localization learning-rate factor. A θ monitor,
    the run's ``on_step`` hook, logs the θ statistics (with ``outside``, from θ and the grid)
    every ``every`` steps; they are replayed through
    :class:`~stnlib.diagnostics.CollapseDetector` (``patience``, ``max_outside``) afterwards,
    so every run trains to its end. ``fix``: a function applied to the model before training
    (the exercise); ``name``: the run's name in ``exp`` and on its progress bar (default:
    ``condition``; the exercise's check trains "your fix").

    Returns:
        the :class:`CollapseRun`; a ``(condition, seed)`` trains once per experiment.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {', '.join(map(repr, CONDITIONS))}, "
                         f"got {condition!r}")
    name = condition if name is None else name
    if (name, seed) in exp.runs:
        raise ValueError(f"{name!r} with seed {seed} was already trained in this experiment; its θ "
                         "statistics are logged while it trains: use a new collapse_experiment")
    options = dict(CONDITIONS[condition])
    loc_scale = options.pop("lr_scale", 1.0)
    normalize = options.pop("normalize", "input")
    images = exp.train_data[0]
    mean, std = standardize_stats(images)

    def make():
        model = zoo.collapse_stn((mean, std), in_channels=images.shape[1],
                                 normalize_after=normalize == "after", **options)
        return model if fix is None else fix(model)

    monitor = theta_monitor("affine", every=every, out_size=(32, 32),
                            detector=CollapseDetector(patience=10 ** 9))
    run = exp.run(name, make, seed, recipe=exp.recipe.replace(loc_lr_scale=loc_scale), on_step=monitor)
    fired, message = replay_detector(monitor.history, patience, max_outside)
    return CollapseRun(condition, run, monitor.history, fired is not None, fired, message)


def epoch_theta(theta_history: list, steps_per_epoch: int, epochs: int,
                keys=("outside", "scale_mean", "translation_mean")) -> dict[str, list[float]]:
    """θ statistics per epoch: for each of ``keys``, the mean over the rows logged in each epoch.

    ``theta_history``: a :class:`CollapseRun`'s rows (each with its 0-based global ``step``);
    ``steps_per_epoch``: optimizer steps per epoch; ``epochs``: how many epochs. An epoch
    without a logged row gives ``nan``.
    """
    if not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be a positive int, got {steps_per_epoch!r}")
    out: dict[str, list[float]] = {k: [] for k in keys}
    for e in range(epochs):
        rows = [r for r in theta_history if e * steps_per_epoch <= r["step"] < (e + 1) * steps_per_epoch]
        for k in keys:
            out[k].append(sum(r[k] for r in rows) / len(rows) if rows else float("nan"))
    return out


#: what :func:`late_verdict` can say about one run
LATE_KINDS = ("learned, then drifted off the image", "drifted off before learning",
              "learned, stayed on the image", "stayed on the image, never learned")


def late_verdict(val_accuracy, outside, *, learned: float = 50.0, max_outside: float = 0.5
                 ) -> tuple[str, int | None]:
    """Classify one run of the late-collapse attempt from its per-epoch numbers.

    Args:
        val_accuracy: validation accuracy (%) after each epoch.
        outside: the fraction of the output read from outside the input in each epoch
            (:func:`epoch_theta`).
        learned: the validation accuracy from which the run counts as having learned.
        max_outside: the fraction above which the transformer counts as off the image (the
            detector's limit).

    Returns:
        ``(kind, epoch)``: kind is one of :data:`LATE_KINDS`; epoch (1-based) is the first
        epoch off the image (``None`` when it stayed; it then learned when some epoch reached
        ``learned``). The late collapse Possatti & de
        Freitas describe is the first kind: an epoch at or above ``learned`` before the first
        epoch off the image.
    """
    if len(val_accuracy) != len(outside):
        raise ValueError(f"val_accuracy and outside need one number per epoch, got {len(val_accuracy)} "
                         f"and {len(outside)}")
    off = next((e for e, o in enumerate(outside) if o > max_outside), None)
    if off is None:
        return LATE_KINDS[2 if any(a >= learned for a in val_accuracy) else 3], None
    if any(a >= learned for a in val_accuracy[:off]):
        return LATE_KINDS[0], off + 1
    return LATE_KINDS[1], off + 1


# --------------------------------------------------------------------------------------
# Exercise 1: the collapse statistic
# --------------------------------------------------------------------------------------

def outside_fraction_reference(theta: torch.Tensor, out_size) -> torch.Tensor:
    """The reference of exercise 1: :func:`stnlib.diagnostics.outside_fraction`, align_corners=False."""
    return outside_fraction(theta, out_size, align_corners=False)


def _affine(a11=1.0, a12=0.0, tx=0.0, a21=0.0, a22=1.0, ty=0.0) -> torch.Tensor:
    return torch.tensor([[[a11, a12, tx], [a21, a22, ty]]])


def _outside_cases():
    g = torch.Generator().manual_seed(4)
    batch = torch.cat([_affine(), _affine(1.6, 0.3, 0.4, -0.2, 1.3, -0.5),
                       torch.randn(1, 2, 3, generator=g) * 0.8])
    return [
        ("identity, 8×8", {"theta": _affine(), "out_size": (8, 8)}),
        ("zoom out 2×, 8×8", {"theta": _affine(2.0, a22=2.0), "out_size": (8, 8)}),
        ("a horizontal flip, 8×8", {"theta": _affine(-1.0), "out_size": (8, 8)}),
        ("shifted by 2.5: the whole grid is off the input, 8×8",
         {"theta": _affine(tx=2.5), "out_size": (8, 8)}),
        ("zoom out 2×, 6×6 (two sample columns land exactly on the edge |x| = 1)",
         {"theta": _affine(2.0, a22=2.0), "out_size": (6, 6)}),
        ("zoom out 1.5× in x only, 4×10 (H = 4, W = 10)",
         {"theta": _affine(1.5), "out_size": (4, 10)}),
        ("a batch of three θ, 5×7", {"theta": batch, "out_size": (5, 7)}),
    ]


def _grid(theta, out_size, align_corners=False):
    H, W = out_size
    return nn.functional.affine_grid(theta, (theta.shape[0], 1, H, W),
                                     align_corners=align_corners)


def _wrong(reduce, *, compare=lambda g: g.abs() > 1, align_corners=False, swap=False):
    def wrong(theta, out_size):
        size = tuple(out_size)[::-1] if swap else out_size
        return reduce(compare(_grid(theta, size, align_corners)))
    return wrong


def _pixels(beyond):  # N×H×W×2 → N: a pixel is outside when x or y is
    return beyond.any(-1).flatten(1).float().mean(1)


#: typical wrong answers of exercise 1, each with its hint
OUTSIDE_MISTAKES = (
    Mistake("you averaged over the x and y coordinates, so a pixel outside in x only counts "
            "half: a pixel is outside when x OR y is, `(grid.abs() > 1).any(-1)`",
            wrong=_wrong(lambda b: b.float().flatten(1).mean(1))),
    Mistake("you counted a pixel only when both x and y are outside (`.all`); it reads padding "
            "as soon as one of them is (`.any(-1)`)",
            wrong=_wrong(lambda b: b.all(-1).flatten(1).float().mean(1))),
    Mistake("a position on the edge, |x| = 1, is still inside the input: use `> 1`, not `>= 1`",
            wrong=_wrong(_pixels, compare=lambda g: g.abs() >= 1)),
    Mistake("you counted only the positions beyond +1 (the right and the bottom edge): a position "
            "below −1 is outside too; compare the absolute value, `grid.abs() > 1`",
            wrong=_wrong(_pixels, compare=lambda g: g > 1)),
    Mistake("the course's transformers use align_corners=False; your grid was built with True",
            wrong=_wrong(_pixels, align_corners=True)),
    Mistake("out_size is (H, W) and affine_grid's size is (N, 1, H, W): you swapped H and W",
            wrong=_wrong(_pixels, swap=True)),
    Mistake("return the fraction of the output's pixels (a number in [0, 1]), not their count",
            wrong=_wrong(lambda b: b.any(-1).flatten(1).float().sum(1))),
    Mistake("return one fraction per image (a tensor of shape N), not the batch's mean",
            test=lambda case, actual, expected: isinstance(actual, torch.Tensor)
            and actual.dim() == 0),
)


def check_outside_fraction(student, *, verbose: bool = True) -> bool:
    """Lesson 04, exercise 1: ``outside_fraction(theta, out_size)``, N fractions in [0, 1].

    Names the usual mistakes (:data:`OUTSIDE_MISTAKES`): averaging over x and y instead of
    ``any``, ``all``, ``>= 1``, ``abs()`` forgotten, ``align_corners=True``, swapped (H, W), counts instead of
    fractions, and a batch mean instead of one number per image.
    """
    return check_function(student, outside_fraction_reference, _outside_cases(),
                          name="outside_fraction", rtol=1e-5, atol=1e-6, verbose=verbose,
                          mistakes=OUTSIDE_MISTAKES)


# --------------------------------------------------------------------------------------
# Exercise 2: a fix, tried on a short run
# --------------------------------------------------------------------------------------

def check_fix(fix, *, settings: Settings | None = None, budget=None, device=None,
              source: str = "mnist", verbose: bool = True) -> bool:
    """Lesson 04, exercise 2: ``fix(model)`` changes the collapsing model so it does not collapse.

    Builds the collapsing recipe's model (:data:`RECIPE`), applies ``fix``, trains it for
    ``settings.fix_steps`` steps on the 64×64 canvas (seed 0) with standardized inputs and
    the budget's recipe, and watches θ with the collapse detector. Passes when the detector
    stays quiet and, at the end, less than half of the output is read from outside the
    input. The message says what happened otherwise.
    """
    ctx = _lesson.current_lesson()
    if budget is None:
        budget = ctx.budget if ctx is not None else _lesson.budgets.get_budget(
            "smoke", changes=BUDGET_CHANGES, settings=SETTINGS)
    settings = settings or budget.settings or Settings()
    device = device if device is not None else (ctx.device if ctx is not None else None)
    n = settings.fix_steps * budget.batch_size
    train_set = canvas_data("train", n + 256, seed=0, source=source)
    val_set, train_set = train_set.subset(slice(0, 256)), train_set.subset(slice(256, None))
    fixed = []  # what fix did to the model, read before any training step
    try:
        exp = collapse_experiment(None, train_set, val_set, val_set, epochs=1, budget=budget, device=device)
        run = run_condition(exp, "collapsing recipe", 0, every=1, patience=5,
                            fix=_checked(fix, fixed), name="your fix")
    except NotImplementedError:
        return not_written_yet("fix", verbose=verbose)
    start = fixed[0]
    first, last = run.theta_history[0], run.theta_history[-1]
    steps = last["step"] + 1
    if run.detected or last["outside"] >= 0.5:
        raise CheckError(f"your fix did not prevent the collapse: {_collapse_verdict(run, last)}",
                         hint=_fix_hint(start, first))
    if verbose:
        note = ""
        if start["kind"] in ("theta 0", "bias random", "weights random", "random"):
            note = (f"; note: θ did not start at the identity (first mean scale √|det θ| "
                    f"{first['scale_mean']:.2f}, the identity's 1): zero weights and the identity "
                    "bias start it there")
        print(f"✓ no collapse in {steps} steps: {100 * last['outside']:.0f}% of the "
              f"output read from outside the input, scale {last['scale_mean']:.2f}, validation "
              f"accuracy {run.accuracy:.2f} (chance: 0.1){note}")
    return True


def _checked(fix, fixed: list):
    """``fix`` as :func:`run_condition` applies it: one short message for what goes wrong inside,
    and :func:`_fix_start` of the model it returns appended to ``fixed`` (for the hint: what the
    answer did to the model, before training changes it)."""
    if not callable(fix):
        raise TypeError(f"pass your function itself, check_fix(fix), got {type(fix).__name__}")

    def apply(model):
        try:
            out = fix(model)
        except (NotImplementedError, CheckError):
            raise
        except Exception as err:  # noqa: BLE001 - one short message for any mistake inside fix
            hint = next((h for piece, h in RAISED_HINTS if piece in str(err)), None)
            raise CheckError(f"fix(model) raised {type(err).__name__}: {err}", hint=hint,
                             your_line=your_line(err)) from None
        if not isinstance(out, nn.Module) or not hasattr(out, "transformer"):
            raise CheckError(f"fix must return the model it was given (an ST classifier), got "
                             f"{type(out).__name__}")
        fixed.append(_fix_start(out))
        return out
    return apply


#: the affine identity, θ's six numbers in the head's bias order
_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _fix_start(model) -> dict:
    """What a fix did to the collapsing model, read before training.

    ``kind``: ``"naive bound"`` (tanh over the identity bias), ``"bounded"`` (θ bounded by
    tanh, started at the identity), ``"identity"`` (zero weights, identity bias), ``"theta 0"``
    (zero weights, zero bias), ``"bias random"`` (zero weights, the bias neither 0 nor the
    identity), ``"weights random"`` (identity bias, weights not zero) or ``"random"`` (neither);
    ``border`` (border padding), ``scaled`` (gradient hooks on the localization net, a lower
    learning rate), ``frozen`` (no localization parameter is trained).
    """
    st = model.transformer
    head = st.loc[0].head
    bounded = isinstance(head, zoo.BoundedHead)
    linear = head.linear if bounded else head
    weight, bias = linear.weight.detach(), linear.bias.detach()
    zero_w = bool(weight.abs().max() == 0)
    identity = torch.tensor(_IDENTITY, dtype=bias.dtype, device=bias.device)
    if bounded:
        identity = torch.atanh(identity / head.bound.to(bias))
    id_b, zero_b = bool(torch.allclose(bias, identity, atol=1e-6)), bool(bias.abs().max() == 0)
    if bounded and head.start == "naive":
        kind = "naive bound"
    elif zero_w and id_b:
        kind = "bounded" if bounded else "identity"
    elif zero_w and zero_b:
        kind = "theta 0"
    elif zero_w:
        kind = "bias random"
    elif id_b:
        kind = "weights random"
    else:
        kind = "random"
    params = list(st.loc.parameters())
    return {"kind": kind, "border": st.padding_mode == "border",
            "scaled": any(getattr(p, "_backward_hooks", None) for p in params),
            "frozen": bool(params) and not any(p.requires_grad for p in params)}


def _collapse_verdict(run: CollapseRun, last: dict) -> str:
    """What the run shows, in words: where the detector fired and why, and the last θ."""
    steps = last["step"] + 1
    state = (f"mean scale √|det θ| = {last['scale_mean']:.2f}, |t| = {last['translation_mean']:.2f}")
    if last["outside"] >= 0.5:
        return (f"after {steps} steps {100 * last['outside']:.0f}% of the output is read from outside "
                f"the input ({state})")
    fired = next(r for r in run.theta_history if r["step"] == run.fired_at)
    detector = CollapseDetector(max_outside=0.5)
    why = "; ".join(detector.problems({k: v for k, v in fired.items() if k != "step"}))
    return (f"the collapse detector fired at step {run.fired_at + 1} ({why}); after {steps} steps "
            f"{state}, {100 * last['outside']:.0f}% read from outside")


def _fix_hint(start: dict, first: dict) -> str:
    """The hint for a fix that did not prevent the collapse, from what it did to the model."""
    kind = start["kind"]
    if kind == "naive bound":
        return ("a tanh over the identity bias starts at tanh(1) ≈ 0.76, and a translation "
                "bounded by 1 still lets the grid slide half off the input: start the bias at "
                "atanh(identity / bound) with a bound above 1")
    if kind == "theta 0":
        return ("θ = 0 (zero weights and a zero bias) sends every output pixel to the same point, "
                "the input's centre, so the transformer's output is one flat value (scale 0). "
                "Zeroing the weights is right; the bias must be the identity (1, 0, 0, 0, 1, 0)")
    if kind == "bias random":
        return (f"the weights are zero but the bias is still PyTorch's random start, so θ starts "
                f"as one random matrix (mean scale {first['scale_mean']:.2f}, the identity's is 1): "
                "set the bias to the identity (1, 0, 0, 0, 1, 0)")
    if kind == "weights random":
        return ("the bias is the identity but the weights are still random, so θ = W·f + b "
                "depends on each image from the first step and drifts off: zero the weights too "
                "(init_identity(head, \"affine\") does both)")
    if kind == "random" and start["frozen"]:
        return ("a frozen localization net keeps its random start (θ ≈ 0 plus random shifts) for "
                "the whole run: zero its weights and set its bias to the identity instead")
    if kind == "random" and start["scaled"]:
        return ("scaling the localization net's gradients (a lower learning rate) only slows θ "
                "down; the head still starts at random (θ ≈ 0 plus random shifts): zero its "
                "weights and set its bias to the identity")
    if kind == "random" and start["border"]:
        return ("border padding only repeats the edge pixels, which are black on this canvas; "
                "the grid still leaves the input. Start θ at the identity instead")
    if kind == "random":
        return ("the localization head still starts at random (θ ≈ 0 plus random shifts): "
                "zero its weights and set its bias to the identity, or bound θ")
    return ("θ starts at the identity but drifts off the input while it trains: also lower the "
            "localization net's learning rate or bound θ")
