"""The MNIST presets of the model family: lesson 00's CNN / ST-CNN, Table 1's models, the tutorial's net.

Every preset returns a :class:`~stnlib.models.classifier.Classifier`.

**Lesson 00** (:func:`cnn`, :func:`st_cnn`): a CNN of two 5×5 conv-ReLU-max-pool
blocks and two linear layers (0.87M parameters on 1×42×42 inputs), and the
same CNN behind an identity-initialized spatial transformer, the ST-CNN of
Jaderberg et al. (2015), §4.1.

**Table 1** (:func:`build_model`): the distorted-MNIST models of Jaderberg et
al. (2015, §4.1), sized to one parameter budget.

The paper compares, on each distortion (R, RTS, P, E), a fully connected
network (**FCN**), a convolutional network (**CNN**) and the same two behind a
spatial transformer (**ST-FCN**, **ST-CNN**) with an affine (**Aff**), a
projective (**Proj**) or a 16-point thin-plate-spline (**TPS**) transform. What
the paper fixes (§4.1): every classification network has **three weight
layers**, the CNN has **two max-pooling layers**, the localization nets are
an FCN (ST-FCN) or a CNN (ST-CNN), and all models have **roughly the same
number of parameters**. It does not print the layer widths, so this module
chooses them and says where each choice comes from:

========================= =========================================================
piece                     here
========================= =========================================================
:class:`FCN`              flatten → linear h → ReLU → linear h → ReLU → linear 10
:class:`CNN`              conv 5×5 c → ReLU → max-pool 2 → conv 5×5 2c → ReLU →
                          max-pool 2 → linear 10 (``hidden=None``; 5×5 kernels as
                          Wang (2018), §4.1.2, and the PyTorch STN tutorial)
FCN localization          average-pool to 14×14 → flatten → linear 32 → ReLU → linear
                          32 → ReLU → linear P (three weight layers like the FCN; the
                          thumbnail keeps it small on 42×42 inputs: our choice)
CNN localization          conv 7×7 8 → max-pool 2 → ReLU → conv 5×5 10 → max-pool 2
                          → ReLU → linear 32 → ReLU → linear P: the localization net
                          of Wang (2018), §4.1.2, which is also the PyTorch tutorial's
                          (on 42×42 inputs its last map is max-pooled to the 3×3 it
                          has on 28×28 digits: our choice)
========================= =========================================================

P is 6 (affine), 8 (projective) or 32 (TPS: 16 control points × 2). Every
localization head starts at the identity (:mod:`stnlib.localization`); the
bodies are :func:`stnlib.localization.fc_body` and
:func:`stnlib.localization.tutorial_conv_body`.
:func:`build_model` then widens or narrows the *classifier* (h for the FCN,
c for the CNN) until the whole model has about ``params`` parameters (default
:data:`DEFAULT_PARAMS` = 30k), so an ST model pays for its localization net
with a slightly smaller classifier, as in the paper. ``print(parameter_table(28))``
shows the counts. 30k is our choice: small enough that a laptop CPU trains a
CNN in seconds per thousand digits (the budget that decides what lesson 03
can run in ``standard``), large enough for sub-1 % MNIST errors.

**The PyTorch tutorial** (:func:`tutorial_net`): the network of the PyTorch
STN tutorial (which is also Wang (2018), §4.1.2's ST model), adapted to any
input size, for lesson 03's side-by-side with the tutorial's recipe.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .. import _validate
from ..localization import conv_body, fc_body, tutorial_conv_body
from ..transformer import SpatialTransformer
from .classifier import CNN, FCN, Classifier, check_images, count_parameters

__all__ = ["cnn", "st_cnn", "build_model", "model_names", "parameter_table", "tutorial_net",
           "TABLE1_TRANSFORMS", "DEFAULT_PARAMS"]

# --------------------------------------------------------------------------- lesson 00


def cnn(in_channels: int = 1, in_size: int = 42, n_classes: int = 10, *,
        channels: tuple[int, int] = (32, 64), hidden: int = 128) -> Classifier:
    """Lesson 00's CNN: conv 5×5 → ReLU → max-pool 2 → conv 5×5 → ReLU → max-pool 2 → linear → ReLU → linear.

    0.87M parameters on 1×42×42 inputs (RTS MNIST). Shapes: N×C×in_size×in_size → N×n_classes.

    Args:
        in_channels: the input's channels C.
        in_size: the input's side in pixels.
        n_classes: the number of logits.
        channels: the two convolutions' widths.
        hidden: the width of the hidden linear layer.
    Returns:
        A :class:`~stnlib.models.classifier.Classifier` without a transformer.
    """
    return Classifier(CNN(in_channels, in_size, n_classes, channels=channels, hidden=hidden))


def st_cnn(in_channels: int = 1, in_size: int = 42, n_classes: int = 10, *,
           transform: str = "affine", out_size: int | None = None, align_corners: bool = False,
           padding_mode: str = "zeros", loc_channels: int = 12, loc_downsample: int = 2,
           channels: tuple[int, int] = (32, 64), hidden: int = 128) -> Classifier:
    """Lesson 00's ST-CNN: an identity-initialized spatial transformer, then :func:`cnn`'s network.

    Args:
        in_channels, in_size, n_classes: as :func:`cnn`.
        transform: the transformer's transform (``"affine"``, ``"attention"``,
            ``"projective"``, ``"tps"``).
        out_size: the transformer's output side (default ``in_size``); the CNN
            is built for it.
        align_corners: passed to the transformer (``False``: the convention of every lesson).
        padding_mode: ``"zeros"`` is the background of [0, 1] MNIST images;
            use ``"border"`` for standardized inputs (lesson 04).
        loc_channels: channels of the localization net's two convolutions
            (:func:`stnlib.localization.conv_body`, 32 hidden units).
        loc_downsample: the localization net max-pools its input by this factor
            first (``conv_body(downsample=)``; default 2, as the Lasagne
            cluttered-MNIST recipe and Possatti & de Freitas, Table I): it needs
            only the digit's coarse pose, and so costs a fraction of the CNN's
            training step. 12 channels (default): among 8, 12 and 16 channels
            after the first pool, 12 kept the step ratio to the CNN near 1.2× and
            reached low validation error as soon as the full-resolution net
            (``stn-course bench``; the README's benchmark section).
            ``loc_downsample=1, loc_channels=16`` is the full-resolution
            localization net of earlier versions.
        channels, hidden: the CNN's.
    Returns:
        A :class:`~stnlib.models.classifier.Classifier`: N×C×in_size×in_size → N×n_classes
        logits, its transformer's last θ in ``last_theta``.
    """
    out_size = in_size if out_size is None else out_size
    transformer = SpatialTransformer(
        in_channels, align_corners=align_corners, transform=transform, out_size=out_size,
        padding_mode=padding_mode, loc_features=32,
        loc_body=conv_body(in_channels, channels=loc_channels, hidden=32,
                           downsample=loc_downsample))
    return Classifier(CNN(in_channels, out_size, n_classes, channels=channels, hidden=hidden),
                      transformer)


# --------------------------------------------------------------------------- Table 1

#: Table 1's short names of the transforms → ``stnlib`` transform names
TABLE1_TRANSFORMS = {"Aff": "affine", "Proj": "projective", "TPS": "tps"}

#: the parameter budget every Table-1 model is sized to (see :func:`build_model`)
DEFAULT_PARAMS = 30_000


def model_names() -> tuple[str, ...]:
    """The eight models of Table 1: FCN, CNN, ST-FCN Aff/Proj/TPS, ST-CNN Aff/Proj/TPS."""
    return ("FCN", "CNN", *(f"ST-{base} {t}" for base in ("FCN", "CNN") for t in TABLE1_TRANSFORMS))


def _parse(name: str) -> tuple[str, str | None]:
    if name in ("FCN", "CNN"):
        return name, None
    parts = name.split()
    if (len(parts) == 2 and parts[0] in ("ST-FCN", "ST-CNN") and parts[1] in TABLE1_TRANSFORMS):
        return parts[0][3:], TABLE1_TRANSFORMS[parts[1]]
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(model_names())}")


def _make(base: str, transform: str | None, width: int, in_size: int, n_classes: int
          ) -> Classifier:
    if base == "FCN":
        body = FCN(1, in_size, n_classes, hidden=width)
    else:
        body = CNN(1, in_size, n_classes, channels=(width, 2 * width), hidden=None)
    if transform is None:
        return Classifier(body)
    if base == "FCN":  # a 14×14 thumbnail keeps the FCN localization net small on 42×42
        loc_body, features = fc_body(14 * 14, hidden=32, pool_to=14), 32
    else:
        loc_body, features = tutorial_conv_body(in_size)
    return Classifier(body, SpatialTransformer(1, align_corners=False, transform=transform,
                                               loc_body=loc_body, loc_features=features))


def _fit_width(make: Callable[[int], nn.Module], target: int, widths: range) -> int:
    """The width in ``widths`` whose model's parameter count is closest to ``target``."""
    best, best_gap = None, None
    for w in widths:
        gap = abs(count_parameters(make(w)) - target)
        if best_gap is None or gap < best_gap:
            best, best_gap = w, gap
        elif gap > best_gap:  # counts grow with the width: past the optimum
            break
    return best


def build_model(name: str, *, in_size: int = 28, n_classes: int = 10,
                params: int = DEFAULT_PARAMS, width: int | None = None) -> Classifier:
    """One of the Table-1 models, its body sized so the whole model has ≈ ``params`` parameters.

    Args:
        name: ``"FCN"``, ``"CNN"``, ``"ST-FCN Aff"``, … (see :func:`model_names`).
        in_size: side of the (square, one-channel) input: 28 for R, P, E; 42 for RTS.
        n_classes: logits.
        params: the parameter budget; the body's width (FCN hidden units
            h, CNN channels c) is chosen so the count is as close as possible.
        width: use this body width instead of fitting one.

    Returns a :class:`~stnlib.models.classifier.Classifier` mapping
    N×1×in_size×in_size to N×n_classes logits.

    Example:
        >>> from stnlib.models import build_model, count_parameters
        >>> model = build_model("ST-CNN Aff", in_size=28)
        >>> abs(count_parameters(model) - 30_000) < 2_000
        True
    """
    base, transform = _parse(name)
    if width is None:
        widths = range(4, 1025) if base == "FCN" else range(2, 257)
        width = _fit_width(lambda w: _make(base, transform, w, in_size, n_classes), params,
                           widths)
    return _make(base, transform, width, in_size, n_classes)


def body_width(model: Classifier) -> str:
    """``"h=64"`` (FCN) or ``"c=24"`` (CNN): the width :func:`build_model` chose."""
    body = model.body
    return f"h={body.hidden}" if isinstance(body, FCN) else f"c={body.channels[0]}"


def parameter_table(in_size: int = 28, *, params: int = DEFAULT_PARAMS) -> str:
    """A text table of every Table-1 model: body width, localization and total parameters.

    ``in_size``: the input side the models are built for; ``params``: the parameter budget
    each body's width is fitted to (:func:`build_model`).
    """
    lines = [f"{'model':13s} {'classifier':>16s} {'loc. net':>9s} {'total':>8s}   "
             f"(input {in_size}×{in_size})"]
    for name in model_names():
        m = build_model(name, in_size=in_size, params=params)
        loc = count_parameters(m.transformer) if m.transformer is not None else 0
        lines.append(f"{name:13s} {body_width(m):>7s} {count_parameters(m.body):8,d} {loc:9,d} "
                     f"{count_parameters(m):8,d}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the PyTorch tutorial

#: MNIST's mean and standard deviation, with which the tutorial standardizes its input
MNIST_MEAN_STD = (0.1307, 0.3081)


class TutorialBody(nn.Module):
    """The PyTorch STN tutorial's classifier, its flattened size computed for ``in_size``.

    conv 5×5 10 → max-pool 2 → ReLU → conv 5×5 20 → dropout2d → max-pool 2 →
    ReLU → linear 50 → ReLU → dropout → linear ``n_classes``.
    """

    def __init__(self, in_size: int = 28, n_classes: int = 10):
        super().__init__()
        (self.in_size,) = _validate.size(in_size, "in_size", 1)
        side = ((in_size - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"in_size must be at least 16, got {in_size}")
        self.features = nn.Sequential(
            nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(10, 20, 5), nn.Dropout2d(), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(20 * side * side, 50), nn.ReLU(), nn.Dropout(),
                                  nn.Linear(50, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, 1, self.in_size)
        return self.head(self.features(x))


def tutorial_net(in_size: int = 28, n_classes: int = 10, *, standardize: bool = True,
                 transformer: bool = True) -> Classifier:
    """The PyTorch STN tutorial's network (``intermediate_source/spatial_transformer_tutorial.py``).

    Classifier: :class:`TutorialBody`. Localization:
    :func:`stnlib.localization.tutorial_conv_body` without its adaptive
    pooling (conv 7×7 8 → max-pool 2 → ReLU → conv 5×5 10 → max-pool 2 → ReLU
    → linear 32 → ReLU) and an identity-initialized linear 6, as in the tutorial.

    Args:
        in_size: input side (28 in the tutorial, which hard-codes it).
        n_classes: the number of logits.
        standardize: as the tutorial, standardize the input with MNIST's mean
            0.1307 and std 0.3081 *before* the transformer, whose zero padding
            then reads a grey, not a black, background (pytorch/tutorials#1117).
            ``False`` feeds the [0, 1] images as they are.
        transformer: ``False`` drops the transformer (the tutorial's classifier alone).
    """
    body = TutorialBody(in_size, n_classes)
    st = None
    if transformer:
        loc_body, features = tutorial_conv_body(in_size, adaptive=False)
        st = SpatialTransformer(1, align_corners=False, transform="affine",
                                loc_body=loc_body, loc_features=features)
    return Classifier(body, st, standardize=MNIST_MEAN_STD if standardize else None)
