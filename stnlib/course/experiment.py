"""One experiment runner for every lesson: train, score and record one model per seed.

An :class:`Experiment` is one data set (training, validation and test
splits), one :class:`~stnlib.recipe.Recipe` and one way to score a model.
``run(name, make, seed)`` seeds every RNG, builds the model with ``make()``,
trains it with the recipe, scores it, measures how much its transformer moves,
and returns a :class:`Run`; the same call again returns the same run (cached
in memory, and on disk with ``cache_dir``, where an interrupted training also
resumes from its last epoch)::

    exp = Experiment(ctx, recipe=ctx.budget.recipe(), train_data=train, test_data=test)
    for seed in ctx.budget.seeds:
        exp.run("CNN", lambda: build_model("CNN"), seed)
        exp.run("ST-CNN", lambda: build_model("ST-CNN Aff"), seed)
    print(exp.compare("ST-CNN", "CNN"))

Two conditions are flagged the same way in every lesson (:class:`Run`):

* **at chance**: the model's primary score is no better than the trivial
  predictor's (the most frequent class, or what the lesson names) by at least
  :data:`CHANCE_FRACTION` of the way to a perfect score;
* **never moved**: the spread of θ over the test inputs (the largest
  standard deviation of one θ entry, :func:`theta_spread`) is below
  :data:`MOVED_THRESHOLD`: the transformer does the same thing to every input
  (or nothing at all).

A model with a transformer that is at chance is **collapsed**; a model
without one cannot collapse.

A model at chance in **every** seed has not learned the task at this budget: its
number is reported plainly, never beside a paper's value (a paper value would
read as a replication). :meth:`Experiment.table` shows "–" in its paper column
and :meth:`Experiment.record` records it without the paper value, saying why in
the note (:data:`NO_PAPER_VALUE`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path

import torch
from torch import nn

from .. import stats
from .._io import atomic_path
from ..recipe import Recipe
from ..train import History, as_dataset, evaluate, seed_everything

#: below this spread of θ over the test inputs a transformer "never moved" (θ units: normalized
#: coordinates; 0.01 is 1 % of the half-width in translation, or about 0.6° of rotation)
MOVED_THRESHOLD = 0.01

#: a model is "at chance" when it gets less than this fraction of the way from the trivial
#: predictor's score to a perfect one
CHANCE_FRACTION = 0.1

#: what :meth:`Experiment.record` adds to the note of a model at chance in every seed, whose
#: paper value it leaves out ("{paper}": the value left out)
NO_PAPER_VALUE = "at chance in every seed: recorded without the paper's value ({paper}) beside it"

#: how many test inputs the θ spread is measured on
THETA_INPUTS = 512


def theta_spread(theta: torch.Tensor) -> float:
    """How much θ varies over inputs: the largest standard deviation of one θ entry.

    Args:
        theta: N×… (any θ shape with the inputs on the first axis; N ≥ 2).

    Returns:
        ``max_j std_i θ[i, j]`` over the flattened entries j: 0 for a transformer
        that does the same to every input.

    Example:
        >>> theta_spread(torch.eye(2, 3).expand(5, 2, 3))
        0.0
    """
    if not isinstance(theta, torch.Tensor) or theta.ndim < 2 or theta.shape[0] < 2:
        raise ValueError(f"theta must be a tensor N×… with N ≥ 2 inputs, got "
                         f"{tuple(theta.shape) if isinstance(theta, torch.Tensor) else type(theta).__name__}")
    return float(theta.detach().double().reshape(theta.shape[0], -1).std(0).max())


def transformer_theta(model: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """θ that ``model``'s spatial transformer regresses for ``x``, or ``None`` without one.

    Uses the model's ``transformed(x) -> (V, θ)`` accessor; a model without a ``transformer``
    (or whose ``transformer`` is ``None``) has none.
    """
    accessor = getattr(model, "transformed", None)
    if accessor is None or getattr(model, "transformer", None) is None:
        return None
    return accessor(x)[-1]


def _inputs(data, n: int) -> torch.Tensor:
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        return data[0][:n]
    images = getattr(data, "images", None)
    if isinstance(images, torch.Tensor):
        return images[:n]
    ds = as_dataset(data, "test_data")
    return torch.stack([ds[i][0] for i in range(min(n, len(ds)))])


def _labels(data) -> torch.Tensor | None:
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[1], torch.Tensor):
        return data[1]
    labels = getattr(data, "labels", None)
    return labels if isinstance(labels, torch.Tensor) else None


def majority_error(labels: torch.Tensor) -> float:
    """The error (%) of always answering the most frequent label (class indices, any shape)."""
    labels = torch.as_tensor(labels).reshape(-1).long()
    if labels.numel() == 0 or labels.min() < 0:
        raise ValueError("labels must be a non-empty tensor of class indices (>= 0)")
    return 100.0 * (1 - torch.bincount(labels).max().item() / labels.numel())


@dataclasses.dataclass
class Run:
    """One trained model of one seed: what :meth:`Experiment.run` returns.

    Attributes:
        name: the model's name in the experiment.
        seed: its seed.
        model: the trained model (on the CPU, in evaluation mode).
        history: :class:`~stnlib.train.History` of its training.
        scores: the test scores (``{"error": 2.1}``; what the experiment's
            ``score`` returns).
        seconds: training time (the epochs' seconds, evaluation excluded).
        spread: :func:`theta_spread` over the test inputs; ``None`` without a transformer.
        at_chance: the primary score is within :data:`CHANCE_FRACTION` of the
            trivial predictor's.
    """

    name: str
    seed: int
    model: nn.Module
    history: History
    scores: dict[str, float]
    seconds: float
    spread: float | None
    at_chance: bool

    @property
    def has_transformer(self) -> bool:
        return self.spread is not None

    @property
    def never_moved(self) -> bool:
        """A transformer whose θ spread over the test inputs is below :data:`MOVED_THRESHOLD`."""
        return self.spread is not None and self.spread < MOVED_THRESHOLD

    @property
    def collapsed(self) -> bool:
        """A model with a transformer that is at chance (a model without one cannot collapse)."""
        return self.has_transformer and self.at_chance

    @property
    def flags(self) -> list[str]:
        """``"at chance"``, ``"collapsed"``, ``"transformer never moved"``: what went wrong, if anything."""
        out = []
        if self.collapsed:
            out.append("collapsed")
        elif self.at_chance:
            out.append("at chance")
        if self.never_moved:
            out.append("transformer never moved")
        return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "model"


class Experiment:
    """Train, score and record models over seeds on one data set with one recipe.

    Args:
        ctx: the lesson's context (:func:`stnlib.course.start_lesson`): its device and
            progress mode are used; ``None``: the CPU, a progress bar.
        recipe: how every model is trained (:meth:`stnlib.course.budgets.Budget.recipe`).
        train_data: training split (a ``Dataset`` or an ``(inputs, targets)`` pair), or a
            function ``train_data(seed)`` giving each seed its own draw (a distortion drawn anew).
        test_data: test split: scored once, after the last epoch; never chooses anything.
        val_data: validation split, evaluated after every epoch (in the history).
        score: ``score(model) -> dict`` of test scores; default: :func:`stnlib.train.evaluate`
            of ``metrics`` on ``test_data`` (without its loss).
        metrics, loss: what training reports and minimizes (:func:`stnlib.train.train`).
        primary: the score that flags and comparisons use (default ``"error"``).
        higher_is_better: the direction of ``primary``.
        trivial: the trivial predictor's ``primary`` score; default: the
            most-frequent-label error of the test labels (:func:`majority_error`).
        perfect: a perfect ``primary`` score (default 0 for an error, 100 otherwise).
        cache_dir: where finished runs (and the checkpoints of unfinished ones) are
            kept, so that a restarted notebook resumes; ``None``: in memory only.
        unit: the primary score's unit, for printing.
        progress: how training shows its progress (:func:`stnlib.train.train`);
            default: the lesson's (one line per epoch under ``stn-course run``), else a bar.
        device: where to train and score; default: the lesson's device, else the CPU.
    """

    def __init__(self, ctx=None, *, recipe: Recipe, train_data, test_data, val_data=None,
                 score: Callable[[nn.Module], Mapping[str, float]] | None = None,
                 metrics: Mapping | None = None, loss=None, primary: str = "error",
                 higher_is_better: bool = False, trivial: float | None = None,
                 perfect: float | None = None, cache_dir: str | Path | None = None, unit: str = "%",
                 progress=None, device=None):
        if not isinstance(recipe, Recipe):
            raise TypeError(f"recipe must be a stnlib.recipe.Recipe, got {type(recipe).__name__}")
        self.ctx = ctx
        self.device = (torch.device(device) if device is not None
                       else getattr(ctx, "device", None) or torch.device("cpu"))
        self.progress = progress if progress is not None else getattr(ctx, "progress", True)
        self.recipe = recipe
        self.train_data, self.val_data, self.test_data = train_data, val_data, test_data
        self.metrics, self.loss = metrics, loss
        self._score = score
        self.primary, self.higher_is_better, self.unit = primary, higher_is_better, unit
        if trivial is None:
            labels = _labels(test_data)
            if labels is None:
                raise ValueError("trivial: give the trivial predictor's score; the test data has no "
                                 "labels to find the most frequent one")
            if higher_is_better:
                raise ValueError("trivial: give the trivial predictor's score for a score where higher "
                                 "is better (the default is the most-frequent-label error)")
            trivial = majority_error(labels)
        self.trivial = float(trivial)
        self.perfect = float(perfect if perfect is not None else (100.0 if higher_is_better else 0.0))
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        #: (name, seed) → :class:`Run`, in the order they were trained
        self.runs: dict[tuple[str, int], Run] = {}

    # ----------------------------------------------------------------- one run

    def score(self, model: nn.Module) -> dict[str, float]:
        """The test scores of ``model`` (the experiment's ``score``, or its metrics on the test split)."""
        if self._score is not None:
            return {k: float(v) for k, v in self._score(model).items()}
        out = evaluate(model, self.test_data, device=self.device, loss=self.loss, metrics=self.metrics)
        out.pop("loss", None)
        return out

    def is_at_chance(self, value: float) -> bool:
        """Whether ``value`` of the primary score is within :data:`CHANCE_FRACTION` of the trivial score."""
        gained = (value - self.trivial) if self.higher_is_better else (self.trivial - value)
        return gained < CHANCE_FRACTION * abs(self.perfect - self.trivial)

    @torch.no_grad()
    def spread(self, model: nn.Module) -> float | None:
        """:func:`theta_spread` of ``model``'s θ over the first test inputs (``None``: no transformer)."""
        was = model.training
        model.eval()
        x = _inputs(self.test_data, THETA_INPUTS)
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
        theta = transformer_theta(model, x.to(device))
        model.train(was)
        return None if theta is None else theta_spread(theta)

    def training_data(self, seed: int):
        """The training split that ``seed`` trains on."""
        return self.train_data(seed) if callable(self.train_data) else self.train_data

    def _fingerprint(self, name: str, seed: int, recipe: Recipe, key) -> str:
        text = json.dumps({"name": name, "seed": seed, "recipe": recipe.as_dict(), "key": repr(key),
                           "n_train": len(as_dataset(self.training_data(seed)))}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _scored_run(self, name: str, seed: int, model: nn.Module, history: History, seconds: float) -> Run:
        """The :class:`Run` of a trained ``model``: scored, its θ spread measured, then moved to the CPU."""
        model.eval()
        scores = self.score(model)
        if self.primary not in scores:
            raise KeyError(f"the experiment's score gave {', '.join(scores)}, not its primary "
                           f"score {self.primary!r}")
        spread = self.spread(model)
        return Run(name, seed, model.cpu(), history, scores, seconds, spread,
                   self.is_at_chance(scores[self.primary]))

    def run(self, name: str, make: Callable[[], nn.Module], seed: int, *, recipe: Recipe | None = None,
            on_step=None, max_seconds: float | None = None, key: Hashable = None) -> Run:
        """Train ``make()`` with ``seed`` (once), score it, and return its :class:`Run`.

        Args:
            name: the model's name in this experiment (tables and comparisons use it).
            make: builds a fresh model; called after every RNG is seeded with ``seed``,
                so a seed always gives the same initial weights.
            seed: the seed of weights and batches.
            recipe: this model's recipe, when it differs from the experiment's.
            on_step: a training hook (:func:`stnlib.train.theta_monitor`).
            max_seconds: a training-time budget (:func:`stnlib.train.train`).
            key: anything else that distinguishes this run in the cache.

        Returns:
            the :class:`Run`; the same ``(name, seed)`` again returns it without training.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if (name, seed) in self.runs:
            return self.runs[name, seed]
        recipe = self.recipe if recipe is None else recipe
        seed_everything(seed)
        model = make()
        if not isinstance(model, nn.Module):
            raise TypeError(f"make() must return an nn.Module, got {type(model).__name__}")
        stem = checkpoint = None
        if self.cache_dir is not None:
            stem = self.cache_dir / f"{_slug(name)}-seed{seed}-{self._fingerprint(name, seed, recipe, key)}"
            checkpoint = stem.with_suffix(".ckpt.pt")
            done = stem.with_suffix(".run.pt")
            if done.exists():
                state = torch.load(done, map_location="cpu", weights_only=False)
                model.load_state_dict(state["model"])
                run = Run(name, seed, model.eval(), History(state["history"]), state["scores"],
                          state["seconds"], state["spread"], state["at_chance"])
                self.runs[name, seed] = run
                return run
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
        history = recipe.fit(model, self.training_data(seed), seed=seed, device=self.device,
                             val_data=self.val_data, loss=self.loss, metrics=self.metrics, on_step=on_step,
                             checkpoint=checkpoint, progress=self.progress, desc=f"{name}, seed {seed}",
                             max_seconds=max_seconds)
        run = self._scored_run(name, seed, model, history, sum(r["seconds"] for r in history.rows))
        if stem is not None:
            with atomic_path(stem.with_suffix(".run.pt")) as tmp:
                torch.save({"model": run.model.state_dict(), "history": history.rows, "scores": run.scores,
                            "seconds": run.seconds, "spread": run.spread, "at_chance": run.at_chance}, tmp)
            checkpoint.unlink(missing_ok=True)
        self.runs[name, seed] = run
        return run

    def run_seeds(self, name: str, make: Callable[[], nn.Module], seeds: Sequence[int], *,
                  recipe: Recipe | None = None, vectorized: bool = False) -> list[Run]:
        """:meth:`run` for each of ``seeds``; with ``vectorized=True``, the seeds not yet trained
        train at once as one vectorized model (:func:`stnlib.seeds.train_seeds`).

        Vectorized training gives each seed the batches and initial weights :meth:`run` would,
        and weights equal to float rounding (dropout masks aside); it pays off for small models
        (``stn-course bench --part seeds``: the 1-D ST-CNN of lesson 06 trains 5 seeds in about
        half the time on 2 CPU threads, while lesson 03's ST-CNN takes longer than one after
        another). It needs one training set for every seed, and takes no hook or time budget.
        Each run's ``seconds`` is its share of the joint training time.

        Returns:
            the :class:`Run` of each seed, in the order of ``seeds``.
        """
        recipe = self.recipe if recipe is None else recipe
        todo = [s for s in seeds if (name, s) not in self.runs]
        if vectorized and len(todo) > 1:
            if callable(self.train_data):
                raise ValueError("vectorized=True needs one training set for every seed; this "
                                 "experiment draws one per seed (train_data is a function)")
            if self.cache_dir is not None:
                raise ValueError("vectorized=True keeps no checkpoints: use it without cache_dir")
            from ..seeds import train_seeds

            models, histories = train_seeds(
                make, self.train_data, seeds=todo, epochs=recipe.epochs, lr=recipe.lr,
                batch_size=recipe.batch_size, device=self.device, val_data=self.val_data,
                weight_decay=recipe.weight_decay, schedule=recipe.schedule,
                lr_scale=recipe.lr_scale(make()), optimizer=recipe.optimizer, momentum=recipe.momentum,
                loss=self.loss, metrics=self.metrics, progress=self.progress,
                desc=f"{name}, seeds {', '.join(map(str, todo))}")
            for seed, model, history in zip(todo, models, histories):
                self.runs[name, seed] = self._scored_run(
                    name, seed, model, history, sum(r["seconds"] for r in history.rows) / len(todo))
        return [self.run(name, make, s, recipe=recipe) for s in seeds]

    # ----------------------------------------------------------------- over seeds

    def names(self) -> list[str]:
        """The models trained so far, in the order of their first run."""
        return list(dict.fromkeys(name for name, _ in self.runs))

    def seeds_of(self, name: str) -> list[int]:
        """The seeds ``name`` was trained with, in order."""
        seeds = [s for n, s in self.runs if n == name]
        if not seeds:
            raise KeyError(f"no run of {name!r}; trained: {', '.join(self.names()) or 'none'}")
        return seeds

    def values(self, name: str, score: str | None = None, seeds: Sequence[int] | None = None) -> list[float]:
        """``score`` (default: the primary one) of ``name`` for each of ``seeds`` (default: all trained)."""
        score = self.primary if score is None else score
        seeds = self.seeds_of(name) if seeds is None else list(seeds)
        missing = [s for s in seeds if (name, s) not in self.runs]
        if missing:
            raise KeyError(f"{name!r} was not trained with seed(s) {missing}")
        return [self.runs[name, s].scores[score] for s in seeds]

    def at_chance_in_every_seed(self, name: str) -> bool:
        """Whether every run of ``name`` is at chance (:attr:`Run.at_chance`, on the primary score)."""
        seeds = self.seeds_of(name)
        return all(self.runs[name, s].at_chance for s in seeds)

    def compare(self, a: str, b: str, score: str | None = None, *,
                higher_is_better: bool | None = None, unit: str | None = None) -> stats.Comparison:
        """:func:`stnlib.stats.compare` of models ``a`` and ``b`` over the seeds both were trained with."""
        seeds = [s for s in self.seeds_of(a) if s in set(self.seeds_of(b))]
        if not seeds:
            raise ValueError(f"{a!r} and {b!r} share no seed; they cannot be compared pairwise")
        primary = score is None or score == self.primary
        hib = (self.higher_is_better if primary else higher_is_better)
        if hib is None:
            raise ValueError(f"higher_is_better: say the direction of {score!r}")
        return stats.compare(self.values(a, score, seeds), self.values(b, score, seeds), names=(a, b),
                             higher_is_better=hib,
                             unit=(self.unit if primary else "") if unit is None else unit)

    def flag_lines(self, names: Sequence[str] | None = None) -> list[str]:
        """One line per flag that some seed raised: which models, with which seeds.

        E.g. ``["collapsed: ST-CNN (seed 2)", "transformer never moved: ST-CNN (seeds 0, 2)"]``;
        ``[]`` when every run learned and every transformer moved.
        """
        by_flag: dict[str, dict[str, list[int]]] = {}
        for name in self.names() if names is None else names:
            for s in self.seeds_of(name):
                for flag in self.runs[name, s].flags:
                    by_flag.setdefault(flag, {}).setdefault(name, []).append(s)
        def seeds_text(seeds: list[int]) -> str:
            return f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"

        return [f"{flag}: " + ", ".join(f"{name} ({seeds_text(seeds)})" for name, seeds in models.items())
                for flag, models in by_flag.items()]

    def table(self, names: Sequence[str] | None = None, score: str | None = None, *,
              paper: Mapping[str, float] | None = None) -> str:
        """A markdown table: model | mean [95 % interval] | per seed | θ spread | flags (| paper).

        ``paper``: the paper's value per model; a model at chance in every seed gets "–" there.
        """
        score = self.primary if score is None else score
        names = self.names() if names is None else list(names)
        head = f"| model | {score} (mean [95 % interval]) | per seed | θ spread | flags |"
        rule = "|---|---|---|---|---|"
        if paper is not None:
            head, rule = head + " paper |", rule + "---|"
        rows = [head, rule]
        for name in names:
            vals = self.values(name, score)
            m, lo, hi = stats.mean_interval(vals)
            interval = "" if len(vals) < 2 else f" [{lo:.2f}, {hi:.2f}]"
            spreads = [self.runs[name, s].spread for s in self.seeds_of(name)]
            spread = "–" if spreads[0] is None else ", ".join(f"{x:.3f}" for x in spreads)
            flags = sorted({f for s in self.seeds_of(name) for f in self.runs[name, s].flags})
            row = (f"| {name} | {m:.2f}{interval} | {', '.join(f'{v:.2f}' for v in vals)} | {spread} "
                   f"| {', '.join(flags) or '–'} |")
            if paper is not None:
                value = None if self.at_chance_in_every_seed(name) else paper.get(name)
                row += " – |" if value is None else f" {value:.2f} |"
            rows.append(row)
        return "\n".join(rows)

    def record(self, key: str, name: str, score: str | None = None, *, paper=None, unit: str | None = None,
               higher_is_better: bool | None = None, note: str = "") -> dict:
        """:func:`stnlib.course.record` the per-seed ``score`` of ``name`` (flags in the note).

        A model at chance in every seed is recorded without ``paper`` (:data:`NO_PAPER_VALUE`
        in the note says so, with the value left out).
        """
        from .results import record

        primary = score is None or score == self.primary
        flags = "; ".join(self.flag_lines([name]))
        failed = ""
        if self.at_chance_in_every_seed(name):
            failed = NO_PAPER_VALUE.format(paper="none" if paper is None else paper)
            paper = None
        note = "; ".join(x for x in (note, flags, failed) if x)
        return record(key, self.values(name, score), paper=paper,
                      unit=(self.unit if primary else "") if unit is None else unit,
                      higher_is_better=self.higher_is_better if primary and higher_is_better is None
                      else higher_is_better, seeds=self.seeds_of(name), note=note)


__all__ = ["CHANCE_FRACTION", "MOVED_THRESHOLD", "NO_PAPER_VALUE", "Experiment", "Run", "majority_error",
           "theta_spread", "transformer_theta"]
