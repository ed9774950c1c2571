"""Classifiers for the lessons: a plain CNN and the same CNN behind a spatial transformer.

* :class:`CNN`: two conv-ReLU-max-pool blocks and two linear layers; on
  1×42×42 inputs (RTS MNIST) it has 0.87M parameters, the calibration model of
  ``COURSE.md``.
* :class:`STCNN`: a :class:`~stnlib.transformer.SpatialTransformer` (identity-
  initialized localization net) in front of that CNN, the ST-CNN of
  Jaderberg et al. (2015), §4.1.

Both map N×C×H×W images to N×``n_classes`` logits. :class:`STCNN` also keeps
the θ of its last forward pass in ``last_theta`` (for θ statistics during
training) and has :meth:`STCNN.transform` to show what it learned.

The distorted-MNIST models of lesson 03 (Table 1 of Jaderberg et al.: FCN,
CNN, ST-FCN and ST-CNN with affine, projective and TPS transformers, all
sized to one parameter budget, and the PyTorch tutorial's network) live in
:mod:`stnlib.models.mnist` and are re-exported here.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _validate
from ..localization import conv_body
from ..transformer import SpatialTransformer
from .mnist import (
    CNN3,
    FCN3,
    PAPER_TABLE1,
    STClassifier,
    TutorialNet,
    build_model,
    count_parameters,
    model_names,
    parameter_table,
)

__all__ = ["CNN", "STCNN", "count_parameters", "FCN3", "CNN3", "STClassifier", "TutorialNet",
           "build_model", "model_names", "parameter_table", "PAPER_TABLE1"]


class CNN(nn.Module):
    """conv 5×5 → ReLU → max-pool 2 → conv 5×5 → ReLU → max-pool 2 → linear → ReLU → linear.

    Args:
        in_channels: C of the input.
        in_size: H = W of the input (42 for RTS MNIST, 28 for MNIST).
        n_classes: number of logits.
        channels: output channels of the two convolutions.
        hidden: width of the hidden linear layer.

    Shapes: N×C×in_size×in_size → N×n_classes.
    """

    def __init__(self, in_channels: int = 1, in_size: int = 42, n_classes: int = 10, *,
                 channels: tuple[int, int] = (32, 64), hidden: int = 128):
        super().__init__()
        _validate.size(in_channels, "in_channels", 1)
        (self.in_size,) = _validate.size(in_size, "in_size", 1)
        if in_size < 4:
            raise ValueError(f"in_size must be at least 4 (two 2× poolings), got {in_size}")
        _validate.size(n_classes, "n_classes", 1)
        c1, c2 = _validate.size(channels, "channels", 2)
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        side = in_size // 2 // 2
        self.classifier = nn.Sequential(nn.Linear(c2 * side * side, hidden), nn.ReLU(),
                                        nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", ndim=4, layout="N×C×H×W")
        if x.shape[1:] != (self.in_channels, self.in_size, self.in_size):
            raise ValueError(f"x must be N×{self.in_channels}×{self.in_size}×{self.in_size}, "
                             f"got shape {tuple(x.shape)}")
        return self.classifier(self.features(x))


class STCNN(nn.Module):
    """A spatial transformer followed by :class:`CNN` (the paper's ST-CNN).

    Args:
        in_channels, in_size, n_classes: as :class:`CNN`.
        transform: the transformer's transform (``"affine"``, ``"attention"``,
            ``"projective"``, ``"tps"``).
        out_size: the transformer's output side (default ``in_size``); the CNN
            is built for it.
        align_corners: passed to the transformer (required there; ``False``
            here, the convention of every lesson).
        padding_mode: ``"zeros"`` is the background of [0, 1] MNIST images;
            use ``"border"`` for normalized inputs (see COURSE.md, known traps).
        loc_channels: channels of the localization net's two convolutions
            (:func:`stnlib.localization.conv_body`, 32 hidden units). 16 keeps
            the transformer at a fraction of the CNN's cost on a CPU.
        **cnn_kwargs: ``channels``, ``hidden`` of the CNN.

    Attributes:
        stn: the :class:`~stnlib.transformer.SpatialTransformer`.
        cnn: the :class:`CNN` that classifies its output.
        last_theta: θ of the last forward pass (detached), or ``None``.
    """

    def __init__(self, in_channels: int = 1, in_size: int = 42, n_classes: int = 10, *,
                 transform: str = "affine", out_size: int | None = None,
                 align_corners: bool = False, padding_mode: str = "zeros",
                 loc_channels: int = 16, **cnn_kwargs):
        super().__init__()
        out_size = in_size if out_size is None else out_size
        self.stn = SpatialTransformer(
            in_channels, align_corners=align_corners, transform=transform, out_size=out_size,
            padding_mode=padding_mode, loc_features=32,
            loc_body=conv_body(in_channels, channels=loc_channels, hidden=32))
        self.cnn = CNN(in_channels, out_size, n_classes, **cnn_kwargs)
        self.last_theta: torch.Tensor | None = None

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What the transformer does to ``x``: ``(V, theta)``."""
        return self.stn(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        V, theta = self.stn(x)
        self.last_theta = theta.detach()
        return self.cnn(V)
