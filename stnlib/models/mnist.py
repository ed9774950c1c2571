"""The distorted-MNIST models of Jaderberg et al. (2015, §4.1, Table 1), sized to one parameter budget.

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
:class:`FCN3`             flatten → linear h → ReLU → linear h → ReLU → linear 10
:class:`CNN3`             conv 5×5 c → ReLU → max-pool 2 → conv 5×5 2c → ReLU →
                          max-pool 2 → linear 10 (5×5 kernels as seeds/004 §4.1.2
                          and the PyTorch STN tutorial)
FCN localization          average-pool to 14×14 → flatten → linear 32 → ReLU → linear
                          32 → ReLU → linear P (three weight layers like the FCN; the
                          thumbnail keeps it small on 42×42 inputs: our choice)
CNN localization          conv 7×7 8 → max-pool 2 → ReLU → conv 5×5 10 → max-pool 2
                          → ReLU → linear 32 → ReLU → linear P: the localization net
                          of seeds/004 §4.1.2, which is also the PyTorch tutorial's
                          (on 42×42 inputs its last map is max-pooled to the 3×3 it
                          has on 28×28 digits: our choice)
========================= =========================================================

P is 6 (affine), 8 (projective) or 32 (TPS: 16 control points × 2). Every
localization head starts at the identity (:mod:`stnlib.localization`).
:func:`build_model` then widens or narrows the *classifier* (h for the FCN,
c for the CNN) until the whole model has about ``params`` parameters (default
:data:`DEFAULT_PARAMS` = 30k), so an ST model pays for its localization net
with a slightly smaller classifier, as in the paper. ``print(parameter_table(28))``
shows the counts. 30k is our choice: small enough that a laptop CPU trains a
CNN in seconds per thousand digits (the budget that decides what lesson 03
can run in ``standard``), large enough for sub-1 % MNIST errors.

:class:`TutorialNet` is the network of the PyTorch STN tutorial (which is also
seeds/004 §4.1.2's ST model), adapted to any input size, for the lesson's
side-by-side with the tutorial's recipe.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .. import _validate
from ..transformer import SpatialTransformer

__all__ = [
    "FCN3", "CNN3", "STClassifier", "TutorialNet", "fc_localization_body",
    "conv_localization_body", "build_model", "model_names", "parameter_table",
    "PAPER_TABLE1", "TRANSFORMS", "DISTORTIONS", "DEFAULT_PARAMS", "LOC_PREFIX",
]

#: the short names of Table 1 → ``stnlib`` transform names
TRANSFORMS = {"Aff": "affine", "Proj": "projective", "TPS": "tps"}

#: Table 1 (left) of Jaderberg et al. 2015: test error in %, per distortion and model
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
#: the distortions of Table 1 → ``stnlib.data`` dataset names
DISTORTIONS = {"R": "mnist-r", "RTS": "mnist-rts", "P": "mnist-p", "E": "mnist-e"}

#: the parameter budget every Table-1 model is sized to (see :func:`build_model`)
DEFAULT_PARAMS = 30_000
#: name prefix of the localization nets' parameters in an :class:`STClassifier`
#: (``train(..., lr_scale={LOC_PREFIX: 0.1})`` trains them 10× slower)
LOC_PREFIX = "stn.loc"


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _check_input(x: torch.Tensor, channels: int, size: int) -> None:
    _validate.tensor(x, "x", ndim=4, layout="N×C×H×W")
    if x.shape[1:] != (channels, size, size):
        raise ValueError(f"x must be N×{channels}×{size}×{size}, got shape {tuple(x.shape)}")


class FCN3(nn.Module):
    """Fully connected classifier with three weight layers.

    flatten → linear ``hidden`` → ReLU → linear ``hidden`` → ReLU → linear ``n_classes``.

    Shapes: N×C×in_size×in_size → N×n_classes.
    """

    def __init__(self, in_size: int = 28, n_classes: int = 10, *, hidden: int = 64,
                 in_channels: int = 1):
        super().__init__()
        (self.in_size,) = _validate.size(in_size, "in_size", 1)
        _validate.size(hidden, "hidden", 1)
        _validate.size(n_classes, "n_classes", 1)
        self.in_channels = in_channels
        self.hidden = hidden
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(in_channels * in_size * in_size, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_channels, self.in_size)
        return self.net(x)


class CNN3(nn.Module):
    """Convolutional classifier with three weight layers and two max-pooling layers.

    conv 5×5 ``c`` (padding 2) → ReLU → max-pool 2 → conv 5×5 ``2c`` → ReLU →
    max-pool 2 → linear ``n_classes``.

    Shapes: N×C×in_size×in_size → N×n_classes (in_size ≥ 4).
    """

    def __init__(self, in_size: int = 28, n_classes: int = 10, *, channels: int = 24,
                 in_channels: int = 1):
        super().__init__()
        (self.in_size,) = _validate.size(in_size, "in_size", 1)
        if in_size < 4:
            raise ValueError(f"in_size must be at least 4 (two 2× poolings), got {in_size}")
        _validate.size(channels, "channels", 1)
        _validate.size(n_classes, "n_classes", 1)
        self.in_channels = in_channels
        self.channels = channels
        side = in_size // 2 // 2
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, channels, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * channels * side * side, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_channels, self.in_size)
        return self.net(x)


def fc_localization_body(in_size: int, *, hidden: int = 32, in_channels: int = 1,
                         thumbnail: int = 14) -> tuple[nn.Sequential, int]:
    """The ST-FCN's localization body: thumbnail → flatten → linear → ReLU → linear → ReLU.

    The input is first average-pooled to a ``thumbnail``×``thumbnail`` image
    (14×14: half of a 28×28 digit; a third of a 42×42 canvas), so the body
    has the same size for every input size. Returns ``(body, n_features)``;
    with the identity head of :class:`~stnlib.localization.LocalizationNet`
    the net has three weight layers.
    """
    _validate.size(in_size, "in_size", 1)
    body = nn.Sequential(nn.AdaptiveAvgPool2d(thumbnail), nn.Flatten(),
                         nn.Linear(in_channels * thumbnail * thumbnail, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU())
    return body, hidden


def conv_localization_body(in_size: int, *, in_channels: int = 1, channels=(8, 10),
                           hidden: int = 32, adaptive: bool = True) -> tuple[nn.Sequential, int]:
    """The ST-CNN's localization body (seeds/004 §4.1.2, the PyTorch STN tutorial's ``localization``).

    conv 7×7 ``channels[0]`` → max-pool 2 → ReLU → conv 5×5 ``channels[1]`` →
    max-pool 2 → ReLU → flatten → linear ``hidden`` → ReLU. On 28×28 inputs
    the last feature map is 3×3 (the tutorial's 10·3·3 = 90 features); with
    ``adaptive=True`` larger inputs are max-pooled to 3×3 too, so the body
    keeps its ≈ 5k parameters on a 42×42 canvas (``adaptive=False``: the
    tutorial's plain flatten, whose linear layer grows with the input).
    Returns ``(body, n_features)``; the tutorial's ``fc_loc`` is this last
    linear layer plus the identity head.
    """
    c1, c2 = channels
    side = ((in_size - 6) // 2 - 4) // 2
    if side < 1:
        raise ValueError(f"in_size must be at least 18 for the convolutional localization net, "
                         f"got {in_size}")
    pool = [nn.AdaptiveMaxPool2d(3)] if adaptive and side > 3 else []
    side = 3 if pool else side
    body = nn.Sequential(
        nn.Conv2d(in_channels, c1, 7), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(c1, c2, 5), nn.MaxPool2d(2), nn.ReLU(), *pool,
        nn.Flatten(), nn.Linear(c2 * side * side, hidden), nn.ReLU())
    return body, hidden


class STClassifier(nn.Module):
    """A spatial transformer in front of a classifier: the paper's ST-FCN and ST-CNN.

    Args:
        classifier: maps the transformer's output (N×C×out×out) to logits.
        loc_body, loc_features: the localization body and the width of its
            output (an identity-initialized linear head is added).
        in_channels: C.
        transform: ``"affine"``, ``"projective"``, ``"tps"`` (or ``"attention"``).
        out_size: side of the transformer's output (default: the input's).
        padding_mode: ``"zeros"``, the background of [0, 1] MNIST digits.
        tps_points: TPS control points per side (4 → the paper's 16 points).

    Attributes:
        stn: the :class:`~stnlib.transformer.SpatialTransformer`; its
            localization nets are the parameters named ``stn.loc.*``
            (:data:`LOC_PREFIX`).
        classifier: the classification network.
        last_theta, last_output: θ and V of the last forward pass (detached),
            for θ statistics during training (:func:`stnlib.train.theta_monitor`).

    Forward: N×C×H×W → N×n_classes logits. :meth:`transform` returns ``(V, θ)``.
    """

    def __init__(self, classifier: nn.Module, loc_body: nn.Module, loc_features: int, *,
                 in_channels: int = 1, transform: str = "affine", out_size: int | None = None,
                 padding_mode: str = "zeros", tps_points: int = 4):
        super().__init__()
        self.stn = SpatialTransformer(in_channels, align_corners=False, transform=transform,
                                      out_size=out_size, padding_mode=padding_mode,
                                      loc_body=loc_body, loc_features=loc_features,
                                      tps_points=tps_points)
        self.classifier = classifier
        self.transform_name = transform
        self.last_theta: torch.Tensor | None = None
        self.last_output: torch.Tensor | None = None

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What the transformer does to ``x``: ``(V, theta)``."""
        return self.stn(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        V, theta = self.stn(x)
        self.last_theta, self.last_output = theta.detach(), V.detach()
        return self.classifier(V)


def model_names() -> tuple[str, ...]:
    """The eight models of Table 1: FCN, CNN, ST-FCN Aff/Proj/TPS, ST-CNN Aff/Proj/TPS."""
    return ("FCN", "CNN", *(f"ST-{base} {t}" for base in ("FCN", "CNN") for t in TRANSFORMS))


def _parse(name: str) -> tuple[str, str | None]:
    if name in ("FCN", "CNN"):
        return name, None
    parts = name.split()
    if (len(parts) == 2 and parts[0] in ("ST-FCN", "ST-CNN") and parts[1] in TRANSFORMS):
        return parts[0][3:], TRANSFORMS[parts[1]]
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(model_names())}")


def _make(base: str, transform: str | None, width: int, in_size: int, n_classes: int
          ) -> nn.Module:
    if base == "FCN":
        classifier = FCN3(in_size, n_classes, hidden=width)
    else:
        classifier = CNN3(in_size, n_classes, channels=width)
    if transform is None:
        return classifier
    body, features = (fc_localization_body(in_size) if base == "FCN"
                      else conv_localization_body(in_size))
    return STClassifier(classifier, body, features, transform=transform)


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
                params: int = DEFAULT_PARAMS, width: int | None = None) -> nn.Module:
    """One of the Table-1 models, its classifier sized so the whole model has ≈ ``params`` parameters.

    Args:
        name: ``"FCN"``, ``"CNN"``, ``"ST-FCN Aff"``, … (see :func:`model_names`).
        in_size: side of the (square, one-channel) input: 28 for R, P, E; 42 for RTS.
        n_classes: logits.
        params: the parameter budget; the classifier's width (FCN hidden units
            h, CNN channels c) is chosen so the count is as close as possible.
        width: use this classifier width instead of fitting one.

    Returns an ``nn.Module`` mapping N×1×in_size×in_size to N×n_classes logits
    (an :class:`STClassifier` for the ST models).
    """
    base, transform = _parse(name)
    if width is None:
        widths = range(4, 1025) if base == "FCN" else range(2, 257)
        width = _fit_width(lambda w: _make(base, transform, w, in_size, n_classes), params,
                           widths)
    return _make(base, transform, width, in_size, n_classes)


def parameter_table(in_size: int = 28, *, params: int = DEFAULT_PARAMS) -> str:
    """A text table of every Table-1 model: classifier width, localization and total parameters."""
    lines = [f"{'model':13s} {'classifier':>16s} {'loc. net':>9s} {'total':>8s}   "
             f"(input {in_size}×{in_size})"]
    for name in model_names():
        m = build_model(name, in_size=in_size, params=params)
        clf = m.classifier if isinstance(m, STClassifier) else m
        loc = count_parameters(m.stn) if isinstance(m, STClassifier) else 0
        width = f"h={clf.hidden}" if isinstance(clf, FCN3) else f"c={clf.channels}"
        lines.append(f"{name:13s} {width:>7s} {count_parameters(clf):8,d} {loc:9,d} "
                     f"{count_parameters(m):8,d}")
    return "\n".join(lines)


class TutorialNet(nn.Module):
    """The PyTorch STN tutorial's network (``intermediate_source/spatial_transformer_tutorial.py``).

    Classifier: conv 5×5 10 → max-pool 2 → ReLU → conv 5×5 20 → dropout2d →
    max-pool 2 → ReLU → linear 50 → ReLU → dropout → linear 10. Localization:
    conv 7×7 8 → max-pool 2 → ReLU → conv 5×5 10 → max-pool 2 → ReLU → linear
    32 → ReLU → linear 6 (identity-initialized, as in the tutorial). The
    flattened sizes are computed for ``in_size`` (the tutorial hard-codes 28).

    Args:
        in_size: input side (28 in the tutorial).
        normalize: as the tutorial, standardize the input with MNIST's mean
            0.1307 and std 0.3081 *before* the transformer, whose zero padding
            then reads a grey, not a black, background (COURSE.md, known traps;
            pytorch/tutorials#1117). ``False`` feeds the [0, 1] images as they are.
        stn: ``False`` drops the transformer (the tutorial's classifier alone).
    """

    MEAN, STD = 0.1307, 0.3081

    def __init__(self, in_size: int = 28, n_classes: int = 10, *, normalize: bool = True,
                 stn: bool = True):
        super().__init__()
        (self.in_size,) = _validate.size(in_size, "in_size", 1)
        self.normalize = normalize
        side = ((in_size - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"in_size must be at least 16, got {in_size}")
        self.features = nn.Sequential(
            nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(10, 20, 5), nn.Dropout2d(), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(20 * side * side, 50), nn.ReLU(), nn.Dropout(),
                                  nn.Linear(50, n_classes))
        self.stn = None
        if stn:
            body, features = conv_localization_body(in_size, adaptive=False)
            self.stn = SpatialTransformer(1, align_corners=False, transform="affine",
                                          loc_body=body, loc_features=features)
        self.transform_name = "affine"
        self.last_theta: torch.Tensor | None = None
        self.last_output: torch.Tensor | None = None

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, 1, self.in_size)
        return (x - self.MEAN) / self.STD if self.normalize else x

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(V, θ)`` with V mapped back to the [0, 1] scale of the input for display."""
        if self.stn is None:
            raise ValueError("this TutorialNet was built with stn=False")
        V, theta = self.stn(self._prepare(x))
        return (V * self.STD + self.MEAN if self.normalize else V), theta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._prepare(x)
        if self.stn is not None:
            x, theta = self.stn(x)
            self.last_theta, self.last_output = theta.detach(), x.detach()
        return self.head(self.features(x))
