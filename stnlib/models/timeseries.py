"""Lesson 06's models: a 1-D CNN and the same CNN behind a 1-D spatial transformer (a time warp).

Wang (2018), §5.2, carries the spatial transformer over to time series by restricting the affine
θ to ``[1, 0, 0, 0, θ22, θ23]`` (a time scale and a phase shift; a flip when θ22 < 0), by letting
the localization net output two more numbers, the slope and bias of a linear change of amplitude,
and by using 1-D convolutions with the filter sizes of his §4.1.2. In ``stnlib`` that transformer
is ``SpatialTransformer(C, transform="timewarp", amplitude=True, align_corners=False)``
(:func:`stnlib.grids.timewarp_grid`, :func:`stnlib.sampler.sample_1d`); this module builds the
lesson's classifiers from it:

=========================== =====================================================================
piece                       here
=========================== =====================================================================
:class:`SeriesCNN`          the classification body: three strided 1-D convolutions (kernel 5, 3,
                            3; stride 2; ``channels`` each) → ReLU → a linear layer: the CNN
                            Greydanus (2020) reports 94 % test accuracy with on MNIST-1D (25
                            channels, ≈ 5 k parameters on 40 samples)
:func:`wang_localization`   Wang (2018), §4.1.2's localization body in 1-D: conv 7 (8) → max-pool
                            2 → ReLU → conv 5 (10) → max-pool 2 → ReLU → adaptive max-pool 6 → FC
                            32 → ReLU; the identity-initialized head (2 or 4 outputs) is added by
                            :class:`~stnlib.localization.LocalizationNet`
:func:`cnn`                 the baseline: :class:`SeriesCNN` alone
:func:`st_cnn`              the time-warp transformer (± amplitude) in front of the same body;
                            ``per_series=False``: one learned warp for every series (the control
                            for a fixed crop and gain, :func:`stnlib.localization.blind_body`)
:func:`parameter_matched_cnn` the baseline widened to at least a given number of parameters
                            (the control for a transformer's extra parameters)
:func:`warp_parameters`     θ (N×2 or N×4) → named scale, shift, amplitude, offset
=========================== =====================================================================

All return a :class:`stnlib.models.Classifier` (N×C×L → N×classes logits); its transformer's
localization net is ``transformer.loc.*``. At initialization the transformer is the identity:
``V == U``.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _validate
from ..localization import blind_body
from ..transformer import SpatialTransformer
from .classifier import Classifier, count_parameters

__all__ = ["SeriesCNN", "wang_localization", "cnn", "parameter_matched_cnn", "st_cnn", "warp_parameters",
           "WARP_NAMES"]

#: the names of a time-warp θ's entries, in the order the transformer regresses them
WARP_NAMES = ("scale", "shift", "amplitude", "offset")


def _conv_length(length: int, kernel: int, stride: int, padding: int) -> int:
    return (length + 2 * padding - kernel) // stride + 1


def check_series(x: torch.Tensor, channels: int, length: int, name: str = "x") -> None:
    """A clear error unless ``x`` is N×``channels``×``length``."""
    _validate.tensor(x, name, ndim=3, layout="N×C×L")
    if tuple(x.shape[1:]) != (channels, length):
        raise ValueError(f"{name} must be N×{channels}×{length} (series), got shape {tuple(x.shape)}")


class SeriesCNN(nn.Module):
    """conv 5 /2 → ReLU → conv 3 /2 → ReLU → conv 3 /2 → ReLU → flatten → linear (Greydanus 2020).

    Args:
        in_channels: C of the series.
        length: L, the number of samples (≥ 8).
        n_classes: number of logits.
        channels: channels of all three convolutions (Greydanus' CNN: 25).

    Shapes: N×C×L → N×n_classes.

    Example:
        >>> import torch
        >>> SeriesCNN(1, 40, 10)(torch.rand(3, 1, 40)).shape
        torch.Size([3, 10])
    """

    def __init__(self, in_channels: int = 1, length: int = 40, n_classes: int = 10, *,
                 channels: int = 25):
        super().__init__()
        _validate.size(in_channels, "in_channels", 1)
        (self.length,) = _validate.size(length, "length", 1)
        if length < 8:
            raise ValueError(f"length must be at least 8 (three stride-2 convolutions), got {length}")
        _validate.size(n_classes, "n_classes", 1)
        _validate.size(channels, "channels", 1)
        self.in_channels, self.channels = in_channels, channels
        out = length
        layers: list[nn.Module] = []
        for i, k in enumerate((5, 3, 3)):
            layers += [nn.Conv1d(in_channels if i == 0 else channels, channels, k, stride=2,
                                 padding=1), nn.ReLU()]
            out = _conv_length(out, k, 2, 1)
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(channels * out, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_series(x, self.in_channels, self.length)
        return self.head(self.features(x))


def wang_localization(in_channels: int = 1) -> tuple[nn.Sequential, int]:
    """Wang (2018), §4.1.2's localization body with 1-D convolutions (§5.2): ``(body, 32)``.

    conv 7 (8 channels) → max-pool 2 → ReLU → conv 5 (10) → max-pool 2 → ReLU → adaptive
    max-pool to 6 → flatten → FC 32 → ReLU. Works for series of length ≥ 36 (MNIST-1D: 40).

    ``in_channels``: the series' channels C.
    Returns ``(body, 32)``: the body maps N×C×L to N×32 features.
    """
    _validate.size(in_channels, "in_channels", 1)
    body = nn.Sequential(
        nn.Conv1d(in_channels, 8, 7), nn.MaxPool1d(2), nn.ReLU(),
        nn.Conv1d(8, 10, 5), nn.MaxPool1d(2), nn.ReLU(),
        nn.AdaptiveMaxPool1d(6), nn.Flatten(), nn.Linear(60, 32), nn.ReLU())
    return body, 32


def cnn(length: int = 40, n_classes: int = 10, *, in_channels: int = 1,
        channels: int = 25) -> Classifier:
    """The baseline: :class:`SeriesCNN` without a transformer.

    Args:
        length: L, the series' length (MNIST-1D: 40).
        n_classes: the number of logits.
        in_channels: the series' channels C.
        channels: the convolutions' width.
    Returns:
        A :class:`~stnlib.models.classifier.Classifier`: N×C×L → N×n_classes logits.
    """
    return Classifier(SeriesCNN(in_channels, length, n_classes, channels=channels))


def parameter_matched_cnn(params: int, length: int = 40, n_classes: int = 10, *,
                          in_channels: int = 1) -> Classifier:
    """:func:`cnn` at the smallest width with at least ``params`` parameters.

    The control for a transformer's extra parameters: an ST-CNN has its localization net's
    parameters on top of the CNN's, so a gain over the plain CNN could come from size alone;
    the CNN widened to at least as many parameters cannot have that excuse.

    Args:
        params: the parameter count to reach (e.g. ``count_parameters(st_cnn(...))``), ≥ 1.
        length, n_classes, in_channels: as :func:`cnn`.
    Returns:
        the :class:`~stnlib.models.classifier.Classifier`; its width is ``model.body.channels``.

    Example:
        >>> from stnlib.models import count_parameters
        >>> target = count_parameters(st_cnn(40, 10))
        >>> model = parameter_matched_cnn(target, 40, 10)
        >>> narrower = cnn(40, 10, channels=model.body.channels - 1)
        >>> count_parameters(model) >= target > count_parameters(narrower)
        True
    """
    (params,) = _validate.size(params, "params", 1)
    channels = 1
    while count_parameters(cnn(length, n_classes, in_channels=in_channels, channels=channels)) < params:
        channels += 1
    return cnn(length, n_classes, in_channels=in_channels, channels=channels)


def st_cnn(length: int = 40, n_classes: int = 10, *, in_channels: int = 1, channels: int = 25,
           amplitude: bool = True, kernel: str = "bilinear", padding_mode: str = "border",
           per_series: bool = True) -> Classifier:
    """Wang (2018), §5.2: a time-warp transformer (± amplitude) in front of :class:`SeriesCNN`.

    The transformer regresses (s, t) (and, with ``amplitude=True``, a slope a and a bias b) per
    series with :func:`wang_localization` and an identity-initialized head (bias
    ``[1, 0, 1, 0]``, zero weights) and hands the body ``V(x) = a · U(s·x + t) + b`` (all
    channels warped alike), ``align_corners=False``. ``padding_mode="border"`` (our choice):
    a zoom out repeats the end values instead of inventing a drop to 0.

    Args:
        length: L, the series' length (MNIST-1D: 40).
        n_classes: the number of logits.
        in_channels: the series' channels C.
        channels: the body's convolution width.
        amplitude: also regress the amplitude's slope a and bias b.
        kernel: the sampling kernel, ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        padding_mode: what samples read outside the series, ``"zeros"``, ``"border"`` or
            ``"reflection"``.
        per_series: ``True``: θ is regressed from each series (Wang's transformer).
            ``False``: the localization body is :func:`~stnlib.localization.blind_body`, so θ
            is learned but is one warp for every series (a learned fixed crop and gain).
    Returns:
        A :class:`~stnlib.models.classifier.Classifier`: N×C×L → N×n_classes logits, its last
        θ (N×2 or N×4) in ``last_theta``.
    """
    body, features = wang_localization(in_channels) if per_series else blind_body()
    st = SpatialTransformer(in_channels, align_corners=False, transform="timewarp", kernel=kernel,
                            padding_mode=padding_mode, loc_body=body, loc_features=features,
                            amplitude=amplitude)
    return Classifier(SeriesCNN(in_channels, length, n_classes, channels=channels), transformer=st)


def warp_parameters(theta: torch.Tensor) -> dict[str, torch.Tensor]:
    """A time-warp θ, N×2 (s, t) or N×4 (s, t, a, b), as ``{"scale": …, "shift": …, …}`` (each N).

    ``theta``: N×2 (scale, shift) or N×4 (scale, shift, amplitude, offset).
    """
    _validate.tensor(theta, "theta", ndim=2, layout="N×2 (scale, shift) or N×4 (+ amplitude, offset)")
    if theta.shape[1] not in (2, 4):
        raise ValueError(f"theta must be N×2 or N×4, got shape {tuple(theta.shape)}")
    return {name: theta[:, i] for i, name in enumerate(WARP_NAMES[: theta.shape[1]])}
