"""Several seeds of one model trained at once, as one vectorized model (``torch.func``).

A table needs every model at 3-5 seeds. Trained one after another, five seeds
of a small model cost five times one, although each step of a small model
leaves most of the machine idle. :func:`train_seeds` trains them together:
it builds one model per seed (``seed_everything(seed)`` first, so seed k's
initial weights are those :func:`stnlib.train.train`'s caller would build),
stacks their parameters on a leading seed axis
(:class:`StackedModels`, ``torch.func.stack_module_state``'s layout) and runs
every step as one ``torch.vmap`` of ``torch.func.functional_call`` over the
S models, each seed on its own mini-batch.

What stays the same as S calls of :func:`stnlib.train.train`:

* **the batches**: seed k sees the mini-batches, in the order, that
  ``train(..., seed=k)`` gives it (the same shuffling generator per epoch);
* **the optimizer**: Adam and SGD are elementwise, so one optimizer over the
  stacked parameters is S optimizers, as long as every seed has the same
  learning-rate schedule (it has: one-cycle, constant or stepped, with
  per-parameter-prefix ``lr_scale`` as in :func:`~stnlib.train.train`);
* **the loss**: the sum over seeds of each seed's mean loss, whose gradient
  with respect to seed k's parameters is seed k's own gradient.

The weights agree with the sequential runs to float rounding (a vmapped
convolution is a grouped convolution, which adds in another order), not bit
for bit. What differs: dropout masks (each seed gets its own, from the
global generator, not the ones a sequential run would draw), and the
history's ``seconds``, which is the wall time of the epoch of all seeds
together. There is no ``on_step`` hook, checkpoint or ``max_seconds``.

Supported models: those whose buffers are constants every seed shares (every
:class:`~stnlib.models.Classifier` preset of :mod:`stnlib.models`, lesson 06's
:mod:`stnlib.models.timeseries`; the TPS grid's control points are such a
buffer) and whose forward pass has no data-dependent Python control flow. A
model with running statistics (BatchNorm, as lesson 08's U-Net) raises
:class:`UnsupportedModelError`: each seed would update them in place.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data._utils.collate import default_collate

from .device import resolve_device
from .train import (
    OPTIMIZERS,
    SCHEDULES,
    History,
    Loss,
    Metric,
    NonFiniteLossError,
    _bar_class,
    _check_loss_and_metrics,
    _optimizer_and_schedule,
    _param_groups,
    _progress_mode,
    as_dataset,
    seed_everything,
)

__all__ = ["StackedModels", "train_seeds", "check_vectorizable", "UnsupportedModelError"]



class UnsupportedModelError(ValueError):
    """The model cannot be trained as one vectorized model of several seeds."""


def check_vectorizable(models: Sequence[nn.Module]) -> None:
    """Raise :class:`UnsupportedModelError` unless ``models`` can be stacked into one vectorized model.

    Args:
        models: one model per seed, all of one architecture.

    The models must have the same parameter names and shapes, no running
    statistics (BatchNorm / InstanceNorm with ``track_running_stats``: every
    seed would update them in place), and equal buffers (constants such as the
    TPS control points, which all seeds then share).
    """
    if not models:
        raise ValueError("models must hold at least one model")
    for i, m in enumerate(models):
        if not isinstance(m, nn.Module):
            raise TypeError(f"models[{i}] must be an nn.Module, got {type(m).__name__}")
    for name, module in models[0].named_modules():
        if isinstance(module, (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm)) \
                and module.track_running_stats:
            raise UnsupportedModelError(
                f"{type(models[0]).__name__} has {type(module).__name__} at {name!r}: its running "
                "statistics are buffers every seed would update in place, which a vectorized model "
                "cannot do; train these seeds one after another with stnlib.train.train")
    shapes = {n: p.shape for n, p in models[0].named_parameters()}
    buffers = dict(models[0].named_buffers())
    for i, m in enumerate(models[1:], 1):
        other = {n: p.shape for n, p in m.named_parameters()}
        if other != shapes:
            raise UnsupportedModelError(
                f"models[{i}] differs from models[0] in its parameters' names or shapes: every "
                "seed must be the same architecture")
        for n, b in m.named_buffers():
            if n not in buffers or b.shape != buffers[n].shape or not torch.equal(b, buffers[n]):
                raise UnsupportedModelError(
                    f"buffer {n!r} differs between models[0] and models[{i}]: only buffers that are "
                    "constants shared by every seed can be vectorized")


class StackedModels:
    """S models of one architecture as one vectorized model: parameters stacked on a seed axis.

    Args:
        models: one ``nn.Module`` per seed (same architecture, see
            :func:`check_vectorizable`); they stay the owners of the weights
            that :meth:`unstack` writes back.

    Attributes:
        params: parameter name → S×… tensor (a leaf; ``requires_grad`` as the
            models' parameter), what an optimizer updates.
        base: a copy of ``models[0]`` whose forward runs under ``torch.vmap``
            with ``params`` swapped in (its own parameters are not used; its
            buffers are the shared constants).

    Calling it: ``stack(x)`` with x S×N×… (seed k's inputs in ``x[k]``) or
    ``stack(x, shared=True)`` with x N×… (the same inputs for every seed)
    returns the S models' outputs, S×N×….

    Example:
        >>> import torch
        >>> from stnlib.models import build_model
        >>> from stnlib.train import seed_everything
        >>> models = []
        >>> for seed in (0, 1, 2):
        ...     seed_everything(seed)
        ...     models.append(build_model("ST-CNN Aff", in_size=28, width=4))
        >>> stack = StackedModels(models)
        >>> x = torch.rand(5, 1, 28, 28)
        >>> out = stack(x, shared=True)      # 3 seeds × 5 images × 10 logits
        >>> out.shape
        torch.Size([3, 5, 10])
        >>> torch.allclose(out[1], models[1](x), atol=1e-5)
        True
    """

    def __init__(self, models: Sequence[nn.Module]):
        models = list(models)
        check_vectorizable(models)
        self.models = models
        self.base = copy.deepcopy(models[0])
        self.params = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in models])
                       .requires_grad_(p.requires_grad)
                       for n, p in models[0].named_parameters()}
        has_dropout = any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0
                          for m in self.base.modules())
        #: ``torch.vmap``'s randomness: each seed its own dropout mask; otherwise random ops are errors
        self.randomness = "different" if has_dropout else "error"
        # attributes a forward pass sets (Classifier.last_theta): reset after each call, so no
        # vmapped tensor outlives the call
        self._attributes = [(m, {k: v for k, v in vars(m).items()
                                 if not k.startswith("_") and (v is None or isinstance(v, torch.Tensor))})
                            for m in self.base.modules()]

    def __len__(self) -> int:
        return len(self.models)

    def to(self, device) -> StackedModels:
        """Move the stacked parameters, the base model and the per-seed models to ``device``."""
        device = resolve_device(device)
        self.base.to(device)
        for m in self.models:
            m.to(device)
        self.params = {n: p.detach().to(device).requires_grad_(p.requires_grad)
                       for n, p in self.params.items()}
        return self

    def train(self, mode: bool = True) -> StackedModels:
        """Training (dropout on) or evaluation mode, as ``nn.Module.train``."""
        self.base.train(mode)
        return self

    def __call__(self, x: torch.Tensor, *, shared: bool = False) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a tensor, got {type(x).__name__}")
        if not shared and (x.dim() < 1 or x.shape[0] != len(self)):
            raise ValueError(f"x must be S×N×… with S = {len(self)} seeds (seed k's inputs in x[k]), "
                             f"got shape {tuple(x.shape)}; pass shared=True for inputs every seed sees")

        def one(params, xs):
            return torch.func.functional_call(self.base, params, (xs,))

        try:
            return torch.vmap(one, in_dims=(0, None if shared else 0),
                              randomness=self.randomness)(self.params, x)
        except RuntimeError as err:
            if "vmap" not in str(err):
                raise
            raise UnsupportedModelError(
                f"{type(self.base).__name__}'s forward pass cannot run under torch.vmap ({err}); "
                "train these seeds one after another with stnlib.train.train") from err
        finally:
            for module, attrs in self._attributes:
                for k, v in attrs.items():
                    setattr(module, k, v)

    @torch.no_grad()
    def unstack(self) -> list[nn.Module]:
        """Copy each seed's slice of :attr:`params` into its model; return the models (ordinary modules)."""
        for k, m in enumerate(self.models):
            for n, p in m.named_parameters():
                p.copy_(self.params[n][k])
        return self.models

    @torch.no_grad()
    def evaluate(self, data, *, batch_size: int = 256, loss: Loss | None = None,
                 metrics: Mapping[str, Metric] | None = None) -> list[dict[str, float]]:
        """Each seed's mean ``loss`` and metrics on ``data``, as :func:`stnlib.train.evaluate` gives them.

        Args:
            data: a ``Dataset`` or an ``(inputs, targets)`` pair; every seed sees all of it.
            batch_size: inputs per vectorized forward pass.
            loss, metrics: as :func:`stnlib.train.evaluate` (default: cross-entropy, ``error`` in %).

        Returns:
            one dict per seed: ``loss`` and every metric.
        """
        loss, metrics = _check_loss_and_metrics(loss, metrics)
        device = next(iter(self.params.values())).device
        was_training = self.base.training
        self.train(False)
        S = len(self)
        loss_sum, n = [0.0] * S, 0
        outputs: list[list[torch.Tensor]] = [[] for _ in range(S)]
        targets = []
        for x, y in DataLoader(as_dataset(data), batch_size=batch_size, shuffle=False):
            x, y = x.to(device), y.to(device)
            out = self(x, shared=True)
            for k in range(S):
                loss_sum[k] += loss(out[k], y).item() * y.shape[0]
                outputs[k].append(out[k].cpu())
            targets.append(y.cpu())
            n += y.shape[0]
        self.train(was_training)
        if n == 0:
            raise ValueError("cannot evaluate on an empty data set")
        target = torch.cat(targets)
        return [{"loss": loss_sum[k] / n,
                 **{name: float(fn(torch.cat(outputs[k]), target)) for name, fn in metrics.items()}}
                for k in range(S)]


def _batches(dataset, n: int, batch_size: int, seed: int, epoch: int):
    """Seed ``seed``'s mini-batches of ``epoch``, in :func:`stnlib.train.train`'s order."""
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)  # train's per-epoch generator
    # a DataLoader over the indices draws from the generator exactly as one over the data does
    for index in DataLoader(range(n), batch_size=batch_size, shuffle=True, generator=gen):
        if isinstance(dataset, TensorDataset):
            yield tuple(t[index] for t in dataset.tensors)
        else:
            yield default_collate([dataset[i] for i in index.tolist()])


def train_seeds(build: Callable[[], nn.Module], train_data, *, seeds: Sequence[int], epochs: int,
                lr: float = 3e-3, batch_size: int = 64, device=None, val_data=None,
                weight_decay: float = 0.0, schedule: str = "onecycle",
                lr_scale: Mapping[str, float] | None = None, optimizer: str = "adam",
                momentum: float = 0.0, milestones: Sequence[int] | None = None, gamma: float = 0.1,
                loss: Loss | None = None, metrics: Mapping[str, Metric] | None = None,
                progress: bool | str = "bar", desc: str = "train"
                ) -> tuple[list[nn.Module], list[History]]:
    """Train one model per seed, all at once as one vectorized model; the same results as one run per seed.

    For each seed k: ``seed_everything(k); model = build()``; then all models
    train together, seed k on the batches ``train(model, train_data, seed=k, …)``
    would give it (see the module's docstring for what is and is not the same).

    Args:
        build: makes one fresh model (no arguments); called once per seed
            right after :func:`~stnlib.train.seed_everything`.
        train_data: a ``Dataset`` or an ``(inputs, targets)`` pair of tensors.
        seeds: the seeds, distinct ints (e.g. ``[0, 1, 2]``).
        epochs, lr, batch_size, device, val_data, weight_decay, schedule,
            lr_scale, optimizer, momentum, milestones, gamma, loss, metrics:
            as :func:`stnlib.train.train`, the same for every seed.
        progress: ``True`` / ``"bar"`` (a progress bar), ``"log"`` (one line
            per epoch: the seeds' mean training loss) or ``False`` / ``"off"``.
        desc: the progress label.

    Returns:
        ``(models, histories)``: per seed, in the order of ``seeds``, the
        trained model (an ordinary ``nn.Module`` on ``device``, in training
        mode) and its :class:`~stnlib.train.History` (the rows of
        :func:`~stnlib.train.train`; ``seconds`` is the epoch of all seeds together).

    Raises:
        UnsupportedModelError: the model cannot be vectorized (BatchNorm;
            see :func:`check_vectorizable`).
        NonFiniteLossError: a seed's loss became NaN or inf (the message names
            the seed; all seeds stop).

    Example:
        >>> import torch
        >>> from stnlib.models import build_model
        >>> data = (torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,)))
        >>> models, histories = train_seeds(lambda: build_model("CNN", width=4), data,
        ...                                 seeds=[0, 1, 2], epochs=2, batch_size=32, progress=False)
        >>> len(models), len(histories[2]), sorted(histories[0].last)
        (3, 2, ['epoch', 'lr', 'seconds', 'train_error', 'train_loss'])
    """
    seeds = list(seeds) if isinstance(seeds, (list, tuple, range)) else seeds
    if (not isinstance(seeds, list) or not seeds
            or any(not isinstance(s, int) or isinstance(s, bool) for s in seeds)):
        raise ValueError(f"seeds must be a non-empty list of ints, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}")
    if not callable(build):
        raise TypeError(f"build must be a function of no arguments that returns a model, got {build!r}")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(map(repr, SCHEDULES))}, got {schedule!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}, "
                         f"got {optimizer!r}")
    mode = _progress_mode(progress)  # as train(): a clear error for anything else
    if schedule == "step":
        milestones = (sorted({max(1, epochs // 3), max(1, 2 * epochs // 3)} - {epochs})
                      if milestones is None else sorted(milestones))
        if any(not isinstance(m, int) or isinstance(m, bool) or not 0 < m < epochs for m in milestones):
            raise ValueError(f"milestones must be epochs in 1..{epochs - 1}, got {milestones!r}")
    loss_fn, metrics = _check_loss_and_metrics(loss, metrics)
    dataset = as_dataset(train_data, "train_data")
    n = len(dataset)
    if n == 0:
        raise ValueError("train_data is empty")

    models = []
    for seed in seeds:
        seed_everything(seed)
        models.append(build())
    if device is None:
        first = next(models[0].parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    stack = StackedModels(models).to(device)
    device = resolve_device(device)

    steps_per_epoch = math.ceil(n / batch_size)
    opt, scheduler = _optimizer_and_schedule(
        _param_groups(stack.params, lr, lr_scale), optimizer, schedule, momentum=momentum,
        weight_decay=weight_decay, total_steps=epochs * steps_per_epoch, milestones=milestones,
        steps_per_epoch=steps_per_epoch, gamma=gamma)

    bar = None
    if mode == "bar":
        bar = _bar_class()(total=epochs * steps_per_epoch, desc=f"{desc} ×{len(seeds)} seeds", unit="batch")
    histories = [History() for _ in seeds]
    S = len(seeds)
    try:
        for epoch in range(epochs):
            stack.train(True)
            start = time.perf_counter()
            loss_sum, count = [0.0] * S, 0
            outputs: list[list[torch.Tensor]] = [[] for _ in range(S)]
            targets: list[list[torch.Tensor]] = [[] for _ in range(S)]
            loaders = [_batches(dataset, n, batch_size, seed, epoch) for seed in seeds]
            for i, batch in enumerate(zip(*loaders)):
                x = torch.stack([b[0] for b in batch]).to(device, non_blocking=True)
                y = torch.stack([b[1] for b in batch]).to(device, non_blocking=True)
                out = stack(x)
                losses = torch.stack([loss_fn(out[k], y[k]) for k in range(S)])
                values = losses.tolist()
                for k, value in enumerate(values):
                    if not math.isfinite(value):
                        raise NonFiniteLossError(
                            f"seed {seeds[k]}'s loss became {value} at epoch {epoch + 1}/{epochs}, "
                            f"batch {i + 1}: training of all {S} seeds stopped. Usual causes: a "
                            "learning rate too high (try lr / 10), a localization net that was not "
                            "initialized to the identity, or NaN in the input images.")
                opt.zero_grad(set_to_none=True)
                losses.sum().backward()
                opt.step()
                if scheduler is not None:
                    scheduler.step()
                count += y.shape[1]
                for k, value in enumerate(values):
                    loss_sum[k] += value * y.shape[1]
                    if metrics:
                        outputs[k].append(out[k].detach().cpu())
                        targets[k].append(y[k].cpu())
                if bar is not None:
                    bar.update(1)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds = time.perf_counter() - start
            ev = (stack.evaluate(val_data, batch_size=max(256, batch_size), loss=loss_fn,
                                 metrics=metrics) if val_data is not None else None)
            for k in range(S):
                row = {"epoch": epoch + 1, "train_loss": loss_sum[k] / count}
                if metrics:
                    out_k, tgt_k = torch.cat(outputs[k]), torch.cat(targets[k])
                    row.update({f"train_{name}": float(fn(out_k, tgt_k)) for name, fn in metrics.items()})
                row.update(lr=opt.param_groups[0]["lr"], seconds=seconds)
                if ev is not None:
                    row.update({f"val_{name}": v for name, v in ev[k].items()})
                histories[k].rows.append(row)
            if mode != "off":
                mean = sum(loss_sum) / (S * count)
                line = (f"{desc} ×{S} seeds: epoch {epoch + 1}/{epochs}  train loss {mean:.3f} "
                        f"(mean over seeds)  {seconds:.0f} s")
                if bar is not None:
                    bar.write(line)
                else:
                    print(line, flush=True)
    finally:
        if bar is not None:
            bar.close()
    models = stack.unstack()
    for m in models:
        m.train(True)
    return models, histories
