"""Lesson 04's models: cluttered MNIST (Possatti & de Freitas), translated-cluttered MNIST
(Jaderberg et al. 2015, §4.1), and a spatial transformer built to collapse.

Possatti & de Freitas compare two networks on cluttered MNIST (40×40): a baseline CNN (their
Table II) and the same CNN behind a spatial transformer whose localization net is their
Table I. This module builds both from ``stnlib`` parts:

============================ ================================================================
piece                        here
============================ ================================================================
:func:`seed_body`            Table II: conv 3×3 32 → ReLU → max-pool 2 → conv 3×3 32 → ReLU →
                             max-pool 2 → FC 256 → ReLU → FC 10 (unpadded convolutions, as
                             Lasagne's and Keras' defaults)
:func:`seed_localization`    Table I: max-pool 2 → conv 5×5 20 → max-pool 2 → conv 5×5 20 →
                             FC 50 → ReLU, then the identity-initialized FC 6 head of
                             :class:`~stnlib.localization.LocalizationNet`. Table I prints the
                             convolutions' activation as "Linear"; the Lasagne recipe the paper
                             transcribes builds them with Lasagne's default, ReLU. We use ReLU
                             (``activation="relu"``; ``"linear"`` is there to compare)
:func:`baseline`             the Table II network on the input
:func:`stn`                  Table I's transformer (output size = input size, or smaller:
                             ``out_size``) in front of the Table II network built for its output
:func:`tc_cnn`, :func:`tc_st_cnn`  the same two on 60×60 translated-cluttered digits; the
                             ST-CNN's transformer downsamples 60 → 30, as Jaderberg et al. and the
                             Lasagne recipe do, so its classifier costs a quarter
:func:`collapse_stn`         the collapse experiment's model (64×64 canvas → 32×32 output) with
                             each cause of a collapse as a switch
============================ ================================================================

All return a :class:`stnlib.models.Classifier`; its transformer's localization nets are the
parameters named ``transformer.loc.*``.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _validate
from ..grids import identity as _identity
from ..transformer import SpatialTransformer

__all__ = ["seed_body", "seed_localization", "baseline", "stn", "body_hidden_for", "tc_cnn", "tc_st_cnn",
           "Standardize", "BoundedHead", "bound_theta", "randomize_head", "collapse_stn",
           "ACTIVATIONS"]

ACTIVATIONS = ("relu", "linear")


def _conv_side(size: int, kernel: int) -> int:
    return size - kernel + 1


def seed_body(in_size: int = 40, n_classes: int = 10, *, in_channels: int = 1,
              channels: int = 32, hidden: int = 256) -> nn.Sequential:
    """Possatti & de Freitas, Table II: the cluttered-MNIST baseline's layers.

    conv 3×3 ``channels`` → ReLU → max-pool 2 → conv 3×3 ``channels`` → ReLU →
    max-pool 2 → flatten → FC ``hidden`` → ReLU → FC ``n_classes`` (logits; the
    softmax is in the loss). Shapes: N×C×in_size×in_size → N×n_classes; in_size ≥ 10.
    ``in_channels``: C.

    Returns the ``nn.Sequential``.
    """
    (in_size,) = _validate.size(in_size, "in_size", 1)
    if in_size < 10:
        raise ValueError(f"in_size must be at least 10 (two unpadded 3×3 convolutions and two "
                         f"2× poolings), got {in_size}")
    side = _conv_side(_conv_side(in_size, 3) // 2, 3) // 2
    return nn.Sequential(
        nn.Conv2d(in_channels, channels, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(channels, channels, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(channels * side * side, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))


def seed_localization(in_size: int = 40, *, in_channels: int = 1, activation: str = "relu",
                      channels: int = 20, hidden: int = 50) -> tuple[nn.Sequential, int]:
    """Possatti & de Freitas, Table I: the localization body (the FC 6 head is added by the transformer).

    max-pool 2 → conv 5×5 ``channels`` → act → max-pool 2 → conv 5×5 ``channels`` → act →
    flatten → FC ``hidden`` → ReLU, with act = ReLU (``"relu"``, the Lasagne recipe) or
    none (``"linear"``, as Table I prints it). ``in_channels``: the input's C; ``activation``:
    ``"relu"`` or ``"linear"``.

    Returns ``(body, hidden)``: N×C×in_size×in_size → N×hidden features; in_size ≥ 28.
    """
    (in_size,) = _validate.size(in_size, "in_size", 1)
    _validate.choice(activation, "activation", ACTIVATIONS)
    side = _conv_side(_conv_side(in_size // 2, 5) // 2, 5)
    if side < 1:
        raise ValueError(f"in_size must be at least 28 for Table I's localization net, got "
                         f"{in_size}")
    act = nn.ReLU if activation == "relu" else nn.Identity
    body = nn.Sequential(
        nn.MaxPool2d(2), nn.Conv2d(in_channels, channels, 5), act(), nn.MaxPool2d(2),
        nn.Conv2d(channels, channels, 5), act(), nn.Flatten(),
        nn.Linear(channels * side * side, hidden), nn.ReLU())
    return body, hidden


def _transformer(in_size: int, out_size: int | None, *, in_channels: int = 1,
                 activation: str = "relu", padding_mode: str = "zeros") -> SpatialTransformer:
    body, features = seed_localization(in_size, in_channels=in_channels, activation=activation)
    out = None if out_size is None else _validate.size(out_size, "out_size", 2)
    return SpatialTransformer(in_channels, align_corners=False, out_size=out,
                              padding_mode=padding_mode, loc_body=body, loc_features=features)


def baseline(in_size: int = 40, n_classes: int = 10, *, in_channels: int = 1,
             standardize: tuple[float, float] | None = None):
    """Possatti & de Freitas' baseline (Table II) as a :class:`~stnlib.models.Classifier`.

    ``standardize=(mean, std)``: the classifier standardizes its input first.

    Args:
        in_size: the input's side in pixels.
        n_classes: the number of logits.
        in_channels: the input's channels C.
    Returns:
        A :class:`~stnlib.models.Classifier`: N×C×in_size×in_size → N×n_classes logits.
    """
    from .classifier import Classifier

    return Classifier(seed_body(in_size, n_classes, in_channels=in_channels),
                      standardize=standardize)


def stn(in_size: int = 40, n_classes: int = 10, *, out_size: int | None = None,
        in_channels: int = 1, activation: str = "relu", padding_mode: str = "zeros"):
    """Possatti & de Freitas' STN: Table I's affine transformer in front of Table II.

    ``out_size`` (default ``in_size``) is the side of the transformer's output, for which
    the Table II network is built. The localization head starts at the identity.

    Args:
        in_size: the input's side in pixels.
        n_classes: the number of logits.
        in_channels: the input's channels C.
        activation: the localization net's, ``"relu"`` or ``"linear"`` (:func:`seed_localization`).
        padding_mode: the sampler's, ``"zeros"``, ``"border"`` or ``"reflection"``.
    Returns:
        A :class:`~stnlib.models.Classifier`: N×C×in_size×in_size → N×n_classes logits.
    """
    from .classifier import Classifier

    out_size = in_size if out_size is None else out_size
    st = _transformer(in_size, (out_size, out_size), in_channels=in_channels,
                      activation=activation, padding_mode=padding_mode)
    return Classifier(seed_body(out_size, n_classes, in_channels=in_channels), transformer=st)


def body_hidden_for(params: int, in_size: int, n_classes: int = 10, *, in_channels: int = 1,
                    channels: int = 32) -> int:
    """The FC width of :func:`seed_body` (``in_size``) whose parameter count is closest to ``params``.

    Table II's parameters are its two convolutions plus ``F·h + h`` (FC ``h``) and ``h·n + n``
    (the logits), with F = channels × side²; solving for h gives the width that matches
    another model's count (e.g. an ST-CNN's, so that a comparison is not one of sizes).

    Args:
        params: the parameter count to match.
        in_size: the input's side in pixels.
        n_classes: the number of logits.
        in_channels: the input's channels.
        channels: the two convolutions' width (Table II: 32).

    Returns:
        h, the FC width (at least 1).

    Example::

        >>> body_hidden_for(399_202, 60)
        72
    """
    (in_size,) = _validate.size(in_size, "in_size", 1)
    fixed = sum(p.numel() for p in seed_body(in_size, n_classes, in_channels=in_channels,
                                                 channels=channels, hidden=1).parameters())
    side = _conv_side(_conv_side(in_size, 3) // 2, 3) // 2
    per_unit = channels * side * side + 1 + n_classes
    fixed -= per_unit  # the count at h = 1 holds one unit
    if not isinstance(params, int) or isinstance(params, bool) or params < fixed + per_unit:
        raise ValueError(f"params must be an int of at least {fixed + per_unit:,} (Table II on "
                         f"{in_size}×{in_size} with one hidden unit), got {params!r}")
    return max(1, round((params - fixed) / per_unit))


def tc_cnn(in_size: int = 60, n_classes: int = 10, *, params: int | None = None):
    """The CNN of the translated-cluttered (TC) comparison: Table II on the 60×60 input.

    ``in_size``: the input's side (60); ``n_classes``: the number of logits. ``params``: fit
    Table II's FC width so the network has about this many parameters
    (:func:`body_hidden_for`; default: Table II's 256 units). Lesson 04 matches the CNN to
    the ST-CNN's count, so that the two differ in the transformer, not in size.
    """
    if params is None:
        return baseline(in_size, n_classes)
    from .classifier import Classifier

    hidden = body_hidden_for(params, in_size, n_classes)
    return Classifier(seed_body(in_size, n_classes, hidden=hidden))


def tc_st_cnn(in_size: int = 60, n_classes: int = 10, *, out_size: int | None = 30):
    """The ST-CNN of the TC comparison: Table I's transformer downsampling 60 → ``out_size``.

    Jaderberg et al. (2015, §4.1) and the Lasagne recipe let the transformer's output be
    smaller than its input; the classifier behind it then costs a fraction (with
    ``out_size=None`` the output keeps the input's size). ``in_size``: the input's side (60);
    ``n_classes``: the number of logits.
    """
    return stn(in_size, n_classes, out_size=in_size if out_size is None else out_size)


class Standardize(nn.Module):
    """``(x − mean) / std`` with fixed numbers: normalization as a layer (after the warp).

    Shapes: any → the same.
    """

    def __init__(self, mean: float, std: float):
        super().__init__()
        if not (isinstance(std, (int, float)) and std > 0):
            raise ValueError(f"std must be a positive number, got {std!r}")
        self.mean, self.std = float(mean), float(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean:.4g}, std={self.std:.4g}"


class BoundedHead(nn.Module):
    """An affine localization head with bounded output: θ = bound ⊙ tanh(W f + b).

    ``bound`` is (linear, translation): each entry of θ's 2×2 linear part lies in
    ±``bound[0]``, each translation in ±``bound[1]`` (1 keeps the grid's centre on the
    input). ``start="identity"`` sets b = atanh(identity / bound), so that with W = 0 the
    transformer starts exactly at the identity; this needs ``bound[0] > 1``. The common
    shortcut, b = the identity itself (``start="naive"``), starts at θ = tanh(1)·I, a zoom
    *in* to scale tanh(1) ≈ 0.76, not at the identity. The weight W keeps whatever
    ``linear`` has (zero after identity initialization, random otherwise).
    """

    def __init__(self, linear: nn.Linear, bound=(1.5, 1.0), *, start: str = "identity"):
        super().__init__()
        if not isinstance(linear, nn.Linear) or linear.out_features != 6:
            raise ValueError("linear must be the nn.Linear(F, 6) head of an affine localization net")
        _validate.choice(start, "start", ("identity", "naive"))
        lin, shift = (float(b) for b in bound)
        if min(lin, shift) <= 0:
            raise ValueError(f"bound must be two positive numbers (linear part, translation), "
                             f"got {bound!r}")
        if start == "identity" and lin <= 1:
            raise ValueError(f"start='identity' needs bound[0] > 1 (tanh never reaches 1), got "
                             f"{lin}")
        self.linear, self.start = linear, start
        self.register_buffer("bound", torch.tensor([lin, lin, shift, lin, lin, shift]))
        identity = _identity("affine")
        with torch.no_grad():
            linear.bias.copy_(torch.atanh(identity / self.bound) if start == "identity"
                              else identity)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.bound * torch.tanh(self.linear(features))


def randomize_head(transformer: SpatialTransformer) -> SpatialTransformer:
    """Re-initialize every localization head with PyTorch's default (random) ``nn.Linear`` init.

    What a model gets when identity initialization is forgotten: θ starts near 0 (the whole
    output reads a few input pixels) with random offsets.

    ``transformer``: the :class:`~stnlib.transformer.SpatialTransformer`, changed in place.
    Returns the same ``transformer``.
    """
    for loc in transformer.loc:
        head = loc.head.linear if isinstance(loc.head, BoundedHead) else loc.head
        head.reset_parameters()
    return transformer


def bound_theta(transformer: SpatialTransformer, bound=(1.5, 1.0), *,
                start: str = "identity") -> SpatialTransformer:
    """Replace the (affine) localization heads by :class:`BoundedHead` s; returns the transformer.

    ``transformer``: an affine :class:`~stnlib.transformer.SpatialTransformer`, changed in
    place; ``bound``: the bounds of θ's linear part and of its translation (θ = bound ⊙ tanh(...));
    ``start``: where θ starts, as :class:`BoundedHead`'s ``start``.

    Returns the same ``transformer``.
    """
    if transformer.transform != "affine":
        raise ValueError(f"bound_theta needs an affine transformer, got {transformer.transform!r}")
    for loc in transformer.loc:
        if not isinstance(loc.head, BoundedHead):
            loc.head = BoundedHead(loc.head, bound, start=start)
    return transformer


def collapse_stn(standardize: tuple[float, float], *, identity_init: bool = False,
                 padding_mode: str = "zeros", normalize_after: bool = False,
                 bounded: bool = False, bound=(1.5, 1.0), bound_start: str = "identity",
                 in_size: int = 64, out_size: int = 32, n_classes: int = 10,
                 in_channels: int = 1):
    """The collapse experiment's model: Table I's transformer (64 → 32) + Table II, with switches.

    Inputs are [0, 1] images on a black canvas; ``standardize=(mean, std)`` are the training
    set's statistics. The defaults are the conditions that make a transformer collapse in
    practice: inputs standardized *before* the transformer (so its zero padding reads
    ``-mean/std`` units above the background), the localization head initialized at random
    (``identity_init=False``), θ unbounded. Each switch is one fix:

    * ``identity_init=True``: zero weights and the identity as bias;
    * ``padding_mode="border"``: the sampler repeats the input's edge instead of 0;
    * ``normalize_after=True``: the transformer warps the [0, 1] image (zero padding is the
      black background) and its *output* is standardized (a :class:`Standardize` layer in
      front of the classifier);
    * ``bounded=True``: θ = bound ⊙ tanh(W f + b) (:class:`BoundedHead`, ``bound_start``).

    A lower learning rate for the localization net is a training option:
    ``train(..., lr_scale={"transformer.loc": 0.1})``.

    ``in_size`` (64) and ``out_size`` (32) are the transformer's input and output sides,
    ``n_classes`` the number of logits and ``in_channels`` the input's C. Returns a
    :class:`~stnlib.models.Classifier`.
    """
    from .classifier import Classifier

    st = _transformer(in_size, (out_size, out_size), in_channels=in_channels,
                      padding_mode=padding_mode)
    if not identity_init:
        randomize_head(st)
    if bounded:  # keeps W (zero or random) and sets the bias where bound_start says
        bound_theta(st, bound, start=bound_start)
    body = seed_body(out_size, n_classes, in_channels=in_channels)
    if normalize_after:
        return Classifier(nn.Sequential(Standardize(*standardize), *body), transformer=st)
    return Classifier(body, transformer=st, standardize=standardize)
