"""One model family: an optional spatial transformer in front of a classification body.

Jaderberg et al. (2015, §4) build every ST model the same way: a spatial
transformer warps the input, and an ordinary network classifies the warped
image. :class:`Classifier` is that composition; without a transformer it is
the plain baseline. The bodies the lessons use are :class:`CNN` and
:class:`FCN`; any ``nn.Module`` that maps images to logits will do::

    >>> import torch
    >>> from stnlib.models import CNN, Classifier
    >>> from stnlib.transformer import SpatialTransformer
    >>> st = SpatialTransformer(1, align_corners=False, transform="affine")
    >>> model = Classifier(CNN(1, 28, 10, channels=(8, 16)), transformer=st)
    >>> model(torch.rand(4, 1, 28, 28)).shape
    torch.Size([4, 10])

The presets of the lessons (lesson 00's CNN and ST-CNN, the eight models of
Table 1, the PyTorch tutorial's network) are functions in
:mod:`stnlib.models.mnist` that return a :class:`Classifier`.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _validate
from ..transformer import SpatialTransformer

__all__ = ["Classifier", "CNN", "FCN", "count_parameters", "LOC_PREFIX"]

#: name prefix of the localization nets' parameters in a :class:`Classifier`
#: (``train(..., lr_scale={LOC_PREFIX: 0.1})`` trains them 10× slower)
LOC_PREFIX = "transformer.loc"


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters of ``model`` (those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def check_images(x: torch.Tensor, channels: int, size: int, name: str = "x") -> None:
    """A clear error unless ``x`` is N×``channels``×``size``×``size``."""
    _validate.tensor(x, name, ndim=4, layout="N×C×H×W")
    if x.shape[1:] != (channels, size, size):
        raise ValueError(f"{name} must be N×{channels}×{size}×{size}, got shape {tuple(x.shape)}")


class CNN(nn.Module):
    """conv k×k c₁ → ReLU → max-pool 2 → conv k×k c₂ → ReLU → max-pool 2 → [linear h → ReLU] → linear.

    Args:
        in_channels: C of the input.
        in_size: H = W of the input (≥ 4: two 2× poolings).
        n_classes: number of logits.
        channels: (c₁, c₂), the two convolutions' output channels.
        hidden: width h of a hidden linear layer, or ``None`` for none (then
            the network has three weight layers, as Table 1's CNN).
        kernel_size: k (odd; "same" padding).

    Shapes: N×C×in_size×in_size → N×n_classes.
    """

    def __init__(self, in_channels: int = 1, in_size: int = 28, n_classes: int = 10, *,
                 channels: tuple[int, int] = (32, 64), hidden: int | None = 128,
                 kernel_size: int = 5):
        super().__init__()
        _validate.size(in_channels, "in_channels", 1)
        (self.in_size,) = _validate.size(in_size, "in_size", 1)
        if in_size < 4:
            raise ValueError(f"in_size must be at least 4 (two 2× poolings), got {in_size}")
        _validate.size(n_classes, "n_classes", 1)
        c1, c2 = _validate.size(channels, "channels", 2)
        if hidden is not None:
            _validate.size(hidden, "hidden", 1)
        self.in_channels, self.channels, self.hidden = in_channels, (c1, c2), hidden
        k = kernel_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, k, padding=k // 2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        flat = c2 * (in_size // 4) ** 2
        self.head = (nn.Linear(flat, n_classes) if hidden is None else
                     nn.Sequential(nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, self.in_size)
        return self.head(self.features(x))


class FCN(nn.Module):
    """flatten → linear h → ReLU → linear h → ReLU → linear (three weight layers).

    Shapes: N×C×in_size×in_size → N×n_classes. ``in_channels``: C; ``in_size``: the input's
    side in pixels; ``n_classes``: the number of logits; ``hidden``: h, the hidden layers' width.
    """

    def __init__(self, in_channels: int = 1, in_size: int = 28, n_classes: int = 10, *,
                 hidden: int = 64):
        super().__init__()
        _validate.size(in_channels, "in_channels", 1)
        (self.in_size,) = _validate.size(in_size, "in_size", 1)
        _validate.size(hidden, "hidden", 1)
        _validate.size(n_classes, "n_classes", 1)
        self.in_channels, self.hidden = in_channels, hidden
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(in_channels * in_size * in_size, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, self.in_size)
        return self.net(x)


class Classifier(nn.Module):
    """``[standardize →] [spatial transformer →] body``: the paper's ST-FCN / ST-CNN, or a baseline.

    Args:
        body: maps the (warped) images to logits.
        transformer: a :class:`~stnlib.transformer.SpatialTransformer`, or
            ``None`` for the plain baseline. Its localization nets are the
            parameters named ``transformer.loc.*`` (:data:`LOC_PREFIX`).
        standardize: ``(mean, std)``: subtract and divide *before* the
            transformer, as the PyTorch tutorial does. Its zero padding then
            reads ``-mean/std``, not the black background: the trap that makes
            transformers zoom out (pytorch/tutorials#1117; lesson 04).

    Attributes:
        last_theta, last_output: θ and V of the last forward pass (detached),
            for θ statistics during training (:func:`stnlib.train.theta_monitor`);
            ``None`` before the first pass or without a transformer.

    Forward: N×C×H×W → N×n_classes logits. :meth:`transformed` returns ``(V, θ)``.
    """

    def __init__(self, body: nn.Module, transformer: SpatialTransformer | None = None, *,
                 standardize: tuple[float, float] | None = None):
        super().__init__()
        if transformer is not None and not isinstance(transformer, SpatialTransformer):
            raise TypeError(f"transformer must be a SpatialTransformer or None, "
                            f"got {type(transformer).__name__}")
        if standardize is not None:
            mean, std = standardize
            if not std > 0:
                raise ValueError(f"standardize must be (mean, std) with std > 0, got {standardize!r}")
        self.body = body
        self.transformer = transformer
        self.standardize = None if standardize is None else (float(mean), float(std))
        self.last_theta: torch.Tensor | None = None
        self.last_output: torch.Tensor | None = None

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if self.standardize is None:
            return x
        mean, std = self.standardize
        return (x - mean) / std

    def transformed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What the transformer does to ``x``: ``(V, θ)``, the V and θ that :meth:`forward` uses.

        Args:
            x: the model's input, N×C×H×W (N×C×L for time series).
        Returns:
            V: the transformer's output (N×C'×H'×W'), shown on the scale of ``x``
            (with ``standardize``, the standardization is undone); θ: as
            :meth:`stnlib.transformer.SpatialTransformer.theta` returns it.
        """
        if self.transformer is None:
            raise ValueError("this Classifier has no spatial transformer (transformer=None)")
        V, theta = self.transformer(self._prepare(x))
        if self.standardize is not None:
            mean, std = self.standardize
            V = V * std + mean
        return V, theta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._prepare(x)
        if self.transformer is not None:
            x, theta = self.transformer(x)
            self.last_theta, self.last_output = theta.detach(), x.detach()
        return self.body(x)
