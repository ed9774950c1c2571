"""One training loop for every lesson: seeded, device-agnostic, resumable, honest.

:func:`train` fits a model with Adam and a one-cycle learning-rate schedule
(SGD with momentum and the paper's stepped schedule are options) and returns
a :class:`History` with one row per epoch. What it minimizes and what it
reports are pluggable: ``loss(outputs, targets)`` (default: cross-entropy of
logits) and ``metrics``, a dict of :mod:`stnlib.metrics`-style functions
(default: classification ``error`` in %), so the same loop trains lesson
03's classifiers, lesson 06's time-series models and lesson 08's per-pixel
segmentation. It

* is seeded: the same seed gives the same batches and the same initial
  weights (bit-identical on CPU; ``grid_sample`` backward is not
  deterministic on CUDA);
* runs wherever the model should (``device="cpu"``, ``"cuda"``...);
* shows a progress bar (``tqdm.auto``: a widget in JupyterLab), or prints
  one line per epoch (``progress="log"``: what ``stn-course run`` asks for,
  so stored notebook outputs stay small), or nothing (``progress=False``);
* stops at the first non-finite loss with :class:`NonFiniteLossError`
  saying where and what to try;
* calls an optional ``on_step`` hook after every optimizer step; the one
  for θ statistics and collapse detection is :func:`theta_monitor` (a model
  with a spatial transformer keeps its last θ in ``model.last_theta``);
* writes a checkpoint atomically after every epoch and resumes from it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from . import metrics as _metrics
from ._io import atomic_path
from .device import resolve_device

#: the learning-rate schedules and optimizers :func:`train` knows
SCHEDULES = ("onecycle", "constant", "step")
OPTIMIZERS = ("adam", "sgd")

#: ``loss(outputs, targets) -> scalar tensor``; ``metric(outputs, targets) -> float``
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Metric = Callable[[torch.Tensor, torch.Tensor], float]


def cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The default loss: mean cross-entropy of logits (N×K, or N×K×H×W per pixel).

    ``outputs`` are the logits, N×K (or N×K×H×W); ``targets`` the class indices, int64 N (or
    N×H×W) in 0..K-1. Returns a scalar tensor.
    """
    return nn.functional.cross_entropy(outputs, targets)


DEFAULT_METRICS: Mapping[str, Metric] = {"error": _metrics.error}


def _check_loss_and_metrics(loss, metrics) -> tuple[Loss, dict[str, Metric]]:
    loss = cross_entropy if loss is None else loss
    if not callable(loss):
        raise TypeError(f"loss must be a function loss(outputs, targets) -> tensor, "
                        f"got {type(loss).__name__}")
    metrics = dict(DEFAULT_METRICS if metrics is None else metrics)
    for name, fn in metrics.items():
        if not isinstance(name, str) or not name or name == "loss" or not callable(fn):
            raise TypeError(f"metrics must map names (not 'loss') to functions "
                            f"metric(outputs, targets) -> float; got {name!r}: {fn!r}")
    return loss, metrics


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite: training stopped instead of producing garbage."""


class StopTraining(Exception):  # noqa: N818 - a signal, not an error
    """Raised by an ``on_step`` hook to end :func:`train` cleanly after the current step.

    The epoch's row then has ``stopped=1`` and ``steps`` (the steps taken in
    that epoch), exactly as when ``max_seconds`` runs out; validation, the
    checkpoint and the epoch line follow as after any epoch.
    """


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random number generators (all devices).

    ``seed`` is any int (NumPy gets it modulo 2³²).
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds legacy global users too
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass


def as_dataset(data, name: str = "data") -> Dataset:
    """A ``Dataset`` from a ``Dataset`` or an ``(images, labels)`` pair of tensors.

    Args:
        data: a ``Dataset`` (returned as it is) or ``(images, labels)`` tensors of equal length N.
        name: the argument's name in the error message, e.g. ``"val_data"``.
    """
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(
            isinstance(t, torch.Tensor) for t in data):
        x, y = data
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"{name}: images and labels differ in length "
                             f"({x.shape[0]} vs {y.shape[0]})")
        return TensorDataset(x, y)
    raise TypeError(f"{name} must be a torch Dataset or an (images, labels) pair of tensors, "
                    f"got {type(data).__name__}")


@dataclasses.dataclass
class History:
    """Per-epoch records of :func:`train`: ``history["val_error"]`` is a list over epochs.

    Args:
        rows: one dict per epoch, column name → value (``epoch``, ``train_loss``, ``lr``...).
    """

    rows: list[dict[str, float]] = dataclasses.field(default_factory=list)

    def __getitem__(self, key: str) -> list[float]:
        if self.rows and key not in self.rows[0]:
            raise KeyError(f"history has no {key!r}; it has {', '.join(self.rows[0])}")
        return [r[key] for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def last(self) -> dict[str, float]:
        """The last epoch's row."""
        if not self.rows:
            raise IndexError("history is empty: no epoch has finished")
        return self.rows[-1]


@dataclasses.dataclass
class StepInfo:
    """What ``on_step`` receives after every optimizer step.

    Args:
        epoch: the epoch, 0-based.
        step: the global step, 0-based.
        loss: this step's mini-batch loss.
        model: the model being trained (read ``model.last_theta`` here).
        images: this step's inputs, N×C×H×W, on the training device.
        labels: this step's targets.
    """

    epoch: int  # 0-based
    step: int  # global step, 0-based
    loss: float
    model: nn.Module
    images: torch.Tensor
    labels: torch.Tensor


@torch.no_grad()
def evaluate(model: nn.Module, data, *, device=None, batch_size: int = 256,
             loss: Loss | None = None, metrics: Mapping[str, Metric] | None = None
             ) -> dict[str, float]:
    """The mean ``loss`` and every metric (default: ``error`` in %) of ``model`` on ``data``.

    The metrics see the outputs and targets of the whole data set at once.

    Args:
        model: the model, evaluated in ``eval()`` mode (its mode is restored afterwards).
        data: a ``Dataset`` or an ``(inputs, targets)`` pair of tensors.
        device: where to evaluate; ``None``: where the model is.
        batch_size: inputs per forward pass.
        loss: ``loss(outputs, targets)`` → scalar tensor (default: :func:`cross_entropy`).
        metrics: name → ``metric(outputs, targets)`` → float (default: ``error`` in %).
    Returns:
        ``{"loss": mean loss, **{name: metric}}``, plain floats.
    """
    loss, metrics = _check_loss_and_metrics(loss, metrics)
    device = _device(model, device)
    loader = DataLoader(as_dataset(data), batch_size=batch_size, shuffle=False)
    was_training = model.training
    model.eval()
    loss_sum, n, outputs, targets = 0.0, 0, [], []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss_sum += loss(out, y).item() * y.shape[0]
        n += y.shape[0]
        outputs.append(out.cpu())
        targets.append(y.cpu())
    model.train(was_training)
    if n == 0:
        raise ValueError("cannot evaluate on an empty data set")
    return {"loss": loss_sum / n, **_score(metrics, outputs, targets)}


def _score(metrics: Mapping[str, Metric], outputs: list[torch.Tensor],
           targets: list[torch.Tensor]) -> dict[str, float]:
    if not metrics:
        return {}
    out, tgt = torch.cat(outputs), torch.cat(targets)
    return {name: float(fn(out, tgt)) for name, fn in metrics.items()}


def _device(model: nn.Module, device) -> torch.device:
    if device is not None:
        return resolve_device(device)
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _param_groups(params: nn.Module | Mapping[str, torch.Tensor], lr: float,
                  lr_scale: Mapping[str, float] | None) -> list[dict]:
    """The optimizer's parameter groups: ``lr`` × the factor of each name prefix in ``lr_scale``
    (a parameter takes its first matching prefix), ``lr`` for the rest. ``params``: a model, or
    its parameters by name (:mod:`stnlib.seeds` passes the stacked ones)."""
    names = dict(params.named_parameters() if isinstance(params, nn.Module) else params)
    if not lr_scale:
        return [{"params": [p for p in names.values() if p.requires_grad], "lr": lr}]
    groups, used = [], set()
    for prefix, scale in lr_scale.items():
        params = [p for n, p in names.items() if n.startswith(prefix) and n not in used]
        if not params:
            raise ValueError(f"lr_scale: no parameter of the model starts with {prefix!r}; "
                             f"parameters are named like {', '.join(list(names)[:4])}...")
        used.update(n for n in names if n.startswith(prefix))
        groups.append({"params": params, "lr": lr * scale})
    rest = [p for n, p in names.items() if n not in used]
    if rest:
        groups.append({"params": rest, "lr": lr})
    return groups


def _optimizer_and_schedule(groups: list[dict], optimizer: str, schedule: str, *, momentum: float,
                            weight_decay: float, total_steps: int, milestones, steps_per_epoch: int,
                            gamma: float):
    """The optimizer (Adam or SGD) over ``groups`` and its learning-rate scheduler (``None`` for a
    constant rate): one-cycle over ``total_steps``, or the rate × ``gamma`` at each epoch of
    ``milestones``."""
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, momentum=momentum, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(groups, weight_decay=weight_decay)
    scheduler = None
    if schedule == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=total_steps)
    elif schedule == "step":
        scheduler = torch.optim.lr_scheduler.MultiStepLR(
            opt, milestones=[m * steps_per_epoch for m in milestones], gamma=gamma)
    return opt, scheduler


#: what ``train(progress=...)`` accepts, and the mode each means
PROGRESS_MODES = {True: "bar", "bar": "bar", "log": "log", False: "off", "off": "off"}


def _progress_mode(progress: bool | str) -> str:
    """``"bar"``, ``"log"`` or ``"off"`` for a ``progress`` argument of :func:`train`."""
    if isinstance(progress, (bool, str)) and progress in PROGRESS_MODES:
        return PROGRESS_MODES[progress]
    raise ValueError(f"progress must be True or 'bar' (a progress bar), 'log' (one line per epoch) "
                     f"or False or 'off' (silent), got {progress!r}")


def _in_jupyter_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (IPython's ZMQ shell), asked at the call."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _bar_class():
    """tqdm's notebook bar (a widget) in a Jupyter kernel, its text bar elsewhere.

    Decided at every call: ``tqdm.auto`` decides once, when first imported, from whether
    ``ipykernel`` has been imported by then, so a script (or a test session) that imports
    ``ipykernel`` before ``tqdm.auto`` got widget bars printed as text.
    """
    if _in_jupyter_kernel():
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm


def train(model: nn.Module, train_data, *, epochs: int, lr: float = 3e-3, batch_size: int = 64,
          device=None, seed: int = 0, val_data=None, weight_decay: float = 0.0,
          schedule: str = "onecycle", lr_scale: Mapping[str, float] | None = None,
          optimizer: str = "adam", momentum: float = 0.0,
          milestones: Sequence[int] | None = None, gamma: float = 0.1,
          loss: Loss | None = None, metrics: Mapping[str, Metric] | None = None,
          on_step: Callable[[StepInfo], Any] | None = None,
          checkpoint: str | os.PathLike | None = None, resume: bool = True,
          progress: bool | str = "bar", desc: str = "train",
          max_seconds: float | None = None) -> History:
    """Train ``model`` (by default a classifier: logits, cross-entropy) and return its :class:`History`.

    Args:
        model: any ``nn.Module``; by default it maps inputs to N×classes logits.
        train_data: a ``Dataset`` or an ``(inputs, targets)`` pair of tensors.
        epochs: passes over ``train_data`` (≥ 1).
        lr: peak learning rate (one-cycle schedule unless ``schedule`` says
            otherwise).
        batch_size: mini-batch size.
        device: where to train; ``None``: where the model is.
        seed: seeds initial shuffling and the global RNGs (call
            :func:`seed_everything` before building the model for
            reproducible weights).
        val_data: evaluated after every epoch (``val_loss`` and ``val_<metric>``).
        weight_decay: the optimizer's L2 penalty.
        schedule: ``"onecycle"`` (the course default), ``"constant"``, or
            ``"step"``: ``lr`` multiplied by ``gamma`` at each epoch in
            ``milestones`` (default: after 1/3 and 2/3 of the epochs, the
            stepped schedule of Jaderberg et al.).
        lr_scale: per-parameter-name-prefix learning-rate factors, e.g.
            ``{"stn.loc": 0.1}`` trains a localization net 10× slower.
        optimizer: ``"adam"`` (the course default) or ``"sgd"`` (with
            ``momentum``; the paper's and the PyTorch tutorial's choice).
        momentum: SGD momentum (ignored by Adam).
        milestones, gamma: the ``"step"`` schedule.
        loss: ``loss(outputs, targets)`` → scalar tensor to minimize
            (default: :func:`cross_entropy`).
        metrics: name → ``metric(outputs, targets)`` → float, computed on each
            epoch's outputs (default: ``{"error": stnlib.metrics.error}``, in %).
        on_step: called with a :class:`StepInfo` after every step; raising
            :class:`StopTraining` in it ends training after that step (a stopping rule).
        checkpoint: file written (atomically) after every epoch; with
            ``resume=True`` an existing one is loaded and training goes on from it.
        progress: ``True`` or ``"bar"`` (the default): a tqdm progress bar, and
            one line per finished epoch written above it; ``"log"``: only the
            line per epoch (for logs and stored notebook outputs); ``False`` or
            ``"off"``: silent.
        desc: the progress bar's label (``"CNN"``, ``"ST-CNN"``).
        max_seconds: stop after the optimizer step at which the training time
            (the epochs' ``seconds``, evaluation excluded) reaches this many
            seconds, so that two recipes can get the same wall-clock budget;
            the last row then has ``stopped=1`` and ``steps`` taken in its epoch.

    Returns:
        :class:`History`, one row per epoch: ``epoch``, ``train_loss``,
        ``train_<metric>`` (``train_error`` in % by default), ``lr``,
        ``seconds`` and, with ``val_data``, ``val_loss`` and ``val_<metric>``.

    Raises:
        NonFiniteLossError: the loss became NaN or inf; the message names
            epoch and step.

    Example:
        A linear classifier learns the sign of 8×8 images' mean in three short epochs:

        >>> import torch
        >>> from torch import nn
        >>> seed_everything(0)
        >>> x = torch.randn(128, 1, 8, 8)
        >>> y = (x.mean((1, 2, 3)) > 0).long()
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
        >>> history = train(model, (x, y), epochs=3, lr=0.05, batch_size=32, val_data=(x, y),
        ...                 progress=False)
        >>> len(history), sorted(history.last)
        (3, ['epoch', 'lr', 'seconds', 'train_error', 'train_loss', 'val_error', 'val_loss'])
        >>> history["val_error"][-1] < history["val_error"][0]  # in %
        True
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if max_seconds is not None and not (isinstance(max_seconds, (int, float)) and max_seconds > 0):
        raise ValueError(f"max_seconds must be a positive number of seconds, got {max_seconds!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(map(repr, SCHEDULES))}, "
                         f"got {schedule!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}, "
                         f"got {optimizer!r}")
    if schedule == "step":
        milestones = (sorted({max(1, epochs // 3), max(1, 2 * epochs // 3)} - {epochs})
                      if milestones is None else sorted(milestones))
        if any(not isinstance(m, int) or isinstance(m, bool) or not 0 < m < epochs
               for m in milestones):
            raise ValueError(f"milestones must be epochs in 1..{epochs - 1}, got {milestones!r}")
    loss, metrics = _check_loss_and_metrics(loss, metrics)
    mode = _progress_mode(progress)
    device = _device(model, device)
    dataset = as_dataset(train_data, "train_data")
    if len(dataset) == 0:
        raise ValueError("train_data is empty")
    model.to(device)
    steps_per_epoch = math.ceil(len(dataset) / batch_size)
    opt_name = optimizer
    optimizer, scheduler = _optimizer_and_schedule(
        _param_groups(model, lr, lr_scale), opt_name, schedule, momentum=momentum,
        weight_decay=weight_decay, total_steps=epochs * steps_per_epoch, milestones=milestones,
        steps_per_epoch=steps_per_epoch, gamma=gamma)
    config = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": seed,
              "schedule": schedule, "n_train": len(dataset), "optimizer": opt_name,
              "momentum": momentum, "milestones": milestones, "gamma": gamma}
    history = History()
    start_epoch = 0
    if checkpoint is not None and resume and Path(checkpoint).exists():
        start_epoch = _load_checkpoint(Path(checkpoint), config, model, optimizer, scheduler,
                                       history, device)
    bar = None
    if mode == "bar" and start_epoch < epochs:
        bar = _bar_class()(total=(epochs - start_epoch) * steps_per_epoch, desc=desc, unit="batch")
    try:
        spent = sum(r["seconds"] for r in history.rows)
        for epoch in range(start_epoch, epochs):
            left = None if max_seconds is None else max_seconds - spent
            row = _train_epoch(model, dataset, optimizer, scheduler, epoch, epochs, batch_size,
                               seed, device, on_step, bar, steps_per_epoch, loss, metrics, left)
            spent += row["seconds"]
            if val_data is not None:
                ev = evaluate(model, val_data, device=device, batch_size=max(256, batch_size),
                              loss=loss, metrics=metrics)
                row.update({f"val_{k}": v for k, v in ev.items()})
            history.rows.append(row)
            if checkpoint is not None:
                _save_checkpoint(Path(checkpoint), config, model, optimizer, scheduler, history)
            if mode != "off":
                line = _epoch_line(desc, row, epochs)
                if bar is not None:
                    bar.write(line)
                else:
                    print(line, flush=True)
            if row.get("stopped"):
                break
    finally:
        if bar is not None:
            bar.close()
    return history


def _train_epoch(model, dataset, optimizer, scheduler, epoch, epochs, batch_size, seed, device,
                 on_step, bar, steps_per_epoch, loss_fn, metrics, seconds_left=None
                 ) -> dict[str, float]:
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=gen)
    model.train()
    start = time.perf_counter()
    loss_sum, n, outputs, targets, stopped = 0.0, 0, [], [], False
    for i, (x, y) in enumerate(loader):
        if seconds_left is not None and time.perf_counter() - start >= seconds_left:
            stopped = True
            break
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        out = model(x)
        loss = loss_fn(out, y)
        value = loss.item()
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"the loss became {value} at epoch {epoch + 1}/{epochs}, batch {i + 1}: training "
                "stopped. Usual causes: a learning rate too high (try lr / 10), a localization "
                "net that was not initialized to the identity, or NaN in the input images.")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        loss_sum += value * y.shape[0]
        n += y.shape[0]
        if metrics:
            outputs.append(out.detach().cpu())
            targets.append(y.cpu())
        if bar is not None:
            bar.update(1)
        if on_step is not None:
            try:
                on_step(StepInfo(epoch, epoch * steps_per_epoch + i, value, model, x, y))
            except StopTraining:
                stopped, i = True, i + 1  # this step was taken
                break
    seconds = time.perf_counter() - start
    if n == 0:  # the time ran out before this epoch's first step
        return {"epoch": epoch + 1, "train_loss": float("nan"), "lr": optimizer.param_groups[0]["lr"],
                "seconds": seconds, "stopped": 1, "steps": 0}
    row = {"epoch": epoch + 1, "train_loss": loss_sum / n}
    row.update({f"train_{k}": v for k, v in _score(metrics, outputs, targets).items()})
    row.update(lr=optimizer.param_groups[0]["lr"], seconds=seconds)
    if stopped:
        row.update(stopped=1, steps=i)
    return row


def _epoch_line(desc: str, row: Mapping[str, float], epochs: int) -> str:
    text = f"{desc}: epoch {row['epoch']}/{epochs}  train loss {row['train_loss']:.3f}"
    if "train_error" in row:
        text += f"  train error {row['train_error']:.1f}%"
        if "val_error" in row:
            text += f"  val error {row['val_error']:.2f}%"
    else:  # another task's metrics (lesson 08's F1): the first one the row has
        first = next((k[6:] for k in row if k.startswith("train_") and k != "train_loss"), None)
        if first is not None:
            text += f"  train {first} {row['train_' + first]:.2f}"
            if f"val_{first}" in row:
                text += f"  val {first} {row['val_' + first]:.2f}"
    return text + f"  {row['seconds']:.0f} s"


def _save_checkpoint(path: Path, config, model, optimizer, scheduler, history) -> None:
    state = {"config": config, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict() if scheduler is not None else None,
             "history": history.rows, "torch_rng": torch.get_rng_state(),
             "python_rng": random.getstate()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: Path, config, model, optimizer, scheduler, history, device) -> int:
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same advice
        raise ValueError(f"checkpoint {path} cannot be read ({err}); delete it to start over, "
                         "or pass resume=False") from err
    if state.get("config") != config:
        raise ValueError(f"checkpoint {path} was written for {state.get('config')}, but this call "
                         f"asks for {config}; delete it, pass another checkpoint path, or "
                         "resume=False")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"].cpu())
    random.setstate(state["python_rng"])
    history.rows[:] = state["history"]
    return len(history.rows)


def theta_monitor(transform: str | None = "affine", *, every: int = 10, detector=None,
                  out_size=None, align_corners: bool = False) -> Callable[[StepInfo], None]:
    """An ``on_step`` hook that logs θ statistics and stops a collapsing transformer.

    Every ``every`` steps it summarizes the model's last θ with
    :func:`stnlib.diagnostics.theta_stats` and feeds a
    :class:`~stnlib.diagnostics.CollapseDetector` (default limits), which
    raises :class:`~stnlib.diagnostics.ThetaCollapseError` with advice when θ
    stays degenerate. The rows (with ``step``) collect in ``hook.history``::

        monitor = theta_monitor("affine", every=50)
        train(model, data, epochs=2, on_step=monitor)
        monitor.history[-1]["scale_mean"]

    With ``out_size`` (the transformer's output (H', W')) each row also has ``outside``, the
    fraction of the output read from outside the input
    (:func:`stnlib.diagnostics.outside_fraction`, with ``align_corners``).

    ``transform=None`` reads it from the model's ``transformer`` (a
    :class:`~stnlib.transformer.SpatialTransformer`) at the first step, so one call can watch
    models of several transforms.

    The model must keep its last θ in ``last_theta`` (as :class:`stnlib.models.Classifier`).

    ``detector`` is the :class:`~stnlib.diagnostics.CollapseDetector` to feed (default: one with
    its default limits).
    """
    from .diagnostics import CollapseDetector, theta_stats

    if not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive int, got {every!r}")
    detector = CollapseDetector() if detector is None else detector
    history: list[dict[str, float]] = []

    def hook(info: StepInfo) -> None:
        if info.step % every:
            return
        theta = getattr(info.model, "last_theta", None)
        if theta is None:
            raise ValueError(f"theta_monitor needs a model that keeps its last θ in `last_theta` "
                             f"(like stnlib.models.Classifier); {type(info.model).__name__} has none")
        kind = transform
        if kind is None:
            kind = getattr(getattr(info.model, "transformer", None), "transform", None)
            if kind is None:
                raise ValueError("theta_monitor(transform=None) reads the transform from the model's "
                                 f"`transformer`; {type(info.model).__name__} has none: pass transform=")
        stats = theta_stats(theta, kind, out_size=out_size, align_corners=align_corners)
        history.append({"step": info.step, **stats})
        detector.update(stats)

    hook.history = history
    hook.detector = detector
    return hook

