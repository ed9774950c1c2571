"""Lesson 07's models: where a spatial transformer sits in a CNN (Finnveden, Jansson & Lindeberg 2020).

Finnveden, Jansson & Lindeberg (2020), §2, compare four ways of putting one affine spatial
transformer into the same classification network:

========== ========================================================================================
name       what it does
========== ========================================================================================
CNN        the classifier alone
STN-C0     the transformer warps the *input*; its localization net reads the input
STN-CX     the transformer warps the *feature map* after block X; its localization net reads that
           feature map (the placement of Jaderberg et al. 2015, who allow an ST at any depth)
STN-SLX    the localization net reads the features of the classifier's first X blocks (*shared*
           layers, the same parameters), but θ warps the *input*, which then goes through those
           X blocks again. X = 0 is STN-C0.
========== ========================================================================================

:class:`PlacementNet` is all four, for any X. Its classifier is the MNIST network of the
authors' code (luuf/stn-placement; the CNN of Jaderberg et al. 2015's MNIST experiments):
block 1 = conv 9×9 (64) → max-pool 2 → ReLU, block 2 = conv 7×7 (64) → max-pool 2 → ReLU, then
one linear layer to the 10 logits; no padding in the convolutions. The localization net is three
fully connected layers of 32 units (the authors' ``FCN_localization``) on the flattened map it
reads, by default each followed by a batch normalization before its ReLU (``loc_norm``; see
:func:`localization_body` for why: without it the ReLUs of a localization net that reads a
feature map die under Adam), and then the library's identity-initialized affine head
(:class:`~stnlib.localization.LocalizationNet`), so every placement starts as the plain CNN.
Sampling is bilinear with ``border`` padding (the authors' choice for MNIST) and
``align_corners=False``.

Example:
    >>> import torch
    >>> net = PlacementNet("SL", 1)            # STN-SL1 on 28×28 MNIST
    >>> net(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> V, theta = net.transformed(torch.rand(2, 1, 28, 28))
    >>> V.shape, theta.shape                  # SL warps the input
    (torch.Size([2, 1, 28, 28]), torch.Size([2, 2, 3]))
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _validate
from ..localization import LOC_NORMS, fc_body
from ..transformer import SpatialTransformer
from .classifier import check_images

__all__ = ["PlacementNet", "paper_blocks", "feature_shapes", "localization_body", "LOC_NORMS",
           "PLACEMENTS", "placement_name", "build"]

#: the placements: no transformer, the transformer after block X, the shared-layer localization
PLACEMENTS = ("CNN", "C", "SL")


def paper_blocks(in_channels: int = 1, channels=(64, 64), kernels=(9, 7)) -> nn.ModuleList:
    """The classifier's blocks of Finnveden et al.'s MNIST network: conv k×k → max-pool 2 → ReLU each.

    Defaults: conv 9×9 64 → max-pool 2 → ReLU, conv 7×7 64 → max-pool 2 → ReLU (no padding).
    ``in_channels``: the input's C; ``channels``: each block's width; ``kernels``: each block's
    convolution side k.
    """
    _validate.size(in_channels, "in_channels", 1)
    if len(channels) != len(kernels):
        raise ValueError(f"channels and kernels must have the same length, got {len(channels)} "
                         f"and {len(kernels)}")
    blocks, c_in = [], in_channels
    for c, k in zip(channels, kernels):
        blocks.append(nn.Sequential(nn.Conv2d(c_in, c, k), nn.MaxPool2d(2), nn.ReLU()))
        c_in = c
    return nn.ModuleList(blocks)


def localization_body(in_features: int, *, hidden: int = 32, layers: int = 3,
                      norm: str | None = "batch") -> nn.Sequential:
    """The localization net's body: flatten → (linear → [norm] → ReLU) × ``layers``; N×… → N×``hidden``
    (:func:`stnlib.localization.fc_body` with the authors' three layers and a normalization).

    ``norm=None`` is the authors' ``FCN_localization`` (three fully connected layers of 32).
    ``"batch"`` (the default) puts a batch normalization between each linear layer and its ReLU,
    ``"layer"`` a layer normalization. Why: a feature map after block X has thousands of
    non-negative entries (block 1 of a 28×28 digit: 64×10×10 = 6 400, mean ≈ 0.12, against the
    input's 784 pixels), and Adam moves every weight of the first linear layer by about the same
    step, so a few steps shift a unit's pre-activation by ≈ lr × (sum of its inputs), far past
    zero: with the lesson-07 recipe (Adam 2e-3) about 90 % of STN-C1's first-layer units were
    negative for every input after 80 steps, and θ stayed constant. Batch normalization re-centres
    each unit over the batch, so no unit can be negative for every input.

    Args:
        in_features: the flattened map's width (C·H·W).
        hidden: the width of every layer, and of the output.
        layers: the number of linear layers (≥ 1).
        norm: one of :data:`LOC_NORMS`.
    """
    return fc_body(in_features, hidden=hidden, layers=layers, norm=norm)


def feature_shapes(blocks: nn.ModuleList, in_channels: int, in_size: int) -> list[tuple[int, int, int]]:
    """The (C, H, W) of the input and of every block's output, for an ``in_size``×``in_size`` input.

    ``blocks``: the classifier's blocks, applied in order; ``in_channels``: the input's C.
    """
    shapes = [(in_channels, in_size, in_size)]
    with torch.no_grad():
        x = torch.zeros(1, in_channels, in_size, in_size)
        for block in blocks:
            x = block(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes


def placement_name(placement: str, depth: int) -> str:
    """``"CNN"``, ``"STN-C<X>"`` or ``"STN-SL<X>"`` (SL0 is C0: both warp the input).

    ``placement``: ``"CNN"``, ``"C"`` (warp the feature map after block ``depth``) or ``"SL"``
    (the localization net reads the first ``depth`` blocks' features, θ warps the input), as
    :class:`PlacementNet`; ``depth``: X, from 0 (the input) to the number of blocks.
    """
    if placement == "CNN":
        return "CNN"
    if placement == "SL" and depth == 0:
        return "STN-C0"
    return f"STN-{placement}{depth}"


class PlacementNet(nn.Module):
    """The paper's MNIST classifier with one affine transformer placed as CNN, STN-CX or STN-SLX.

    Args:
        placement: ``"CNN"`` (no transformer), ``"C"`` (warp the feature map after block
            ``depth``) or ``"SL"`` (the localization net reads the shared first ``depth``
            blocks' features; θ warps the input).
        depth: X, from 0 (the input) to the number of blocks (2 for the paper's network).
        in_channels, in_size: the input, N×C×in_size×in_size (28 for rotated MNIST).
        n_classes: number of logits.
        channels, kernels: the blocks' widths and kernel sizes (default the paper's (64, 64),
            (9, 7)).
        loc_hidden: width of the localization net's three fully connected layers (32).
        loc_norm: the normalization between each of those layers and its ReLU, one of
            :data:`LOC_NORMS` (``"batch"``; ``None``: the authors' plain layers); see
            :func:`localization_body`.
        padding_mode: the sampler's padding (``"border"``, the authors' choice for MNIST).
        align_corners: the sampler's convention (``False``).

    Attributes:
        blocks: the classifier's blocks (an ``nn.ModuleList``); ``head``: flatten → linear.
        transformer: the :class:`~stnlib.transformer.SpatialTransformer` (``None`` for the CNN);
            its localization net reads the map after ``depth`` blocks; parameters
            ``transformer.loc.*`` (``lr_scale={"transformer.loc": 0.1}``).
        last_theta, last_output: θ (N×2×3) and the warped map of the last forward pass
            (detached; ``None`` before it or without a transformer).

    Forward: N×C×in_size×in_size → N×n_classes. :meth:`transformed` returns ``(V, θ)``: V is
    the warped input (C0, SLX) or the warped feature map (CX).
    """

    def __init__(self, placement: str = "CNN", depth: int = 0, *, in_channels: int = 1,
                 in_size: int = 28, n_classes: int = 10, channels=(64, 64), kernels=(9, 7),
                 loc_hidden: int = 32, loc_norm: str | None = "batch", padding_mode: str = "border",
                 align_corners: bool = False):
        super().__init__()
        _validate.choice(placement, "placement", PLACEMENTS)
        (self.in_size,) = _validate.size(in_size, "in_size", 1)
        _validate.size(n_classes, "n_classes", 1)
        _validate.size(loc_hidden, "loc_hidden", 1)
        if loc_norm not in LOC_NORMS:
            raise ValueError(f"loc_norm must be one of {LOC_NORMS}, got {loc_norm!r}")
        self.in_channels = _validate.size(in_channels, "in_channels", 1)[0]
        self.blocks = paper_blocks(in_channels, channels, kernels)
        n_blocks = len(self.blocks)
        if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= n_blocks:
            raise ValueError(f"depth must be an int from 0 to {n_blocks} (the number of blocks), "
                             f"got {depth!r}")
        if placement == "CNN" and depth != 0:
            raise ValueError(f"depth must be 0 for placement='CNN' (no transformer), got {depth}")
        try:
            self.shapes = feature_shapes(self.blocks, in_channels, in_size)
        except RuntimeError as err:
            raise ValueError(f"in_size={in_size} is too small for the blocks' kernels {tuple(kernels)} "
                             f"and poolings") from err
        if min(h for _, h, _ in self.shapes) < 1:
            raise ValueError(f"in_size={in_size} is too small for kernels {tuple(kernels)}")
        self.placement, self.depth = placement, depth
        self.name = placement_name(placement, depth)
        c, h, w = self.shapes[-1]
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, n_classes))
        self.transformer = None
        if placement != "CNN":
            c_loc, h_loc, w_loc = self.shapes[depth]
            flat = c_loc * h_loc * w_loc
            body = localization_body(flat, hidden=loc_hidden, norm=loc_norm)
            self.transformer = SpatialTransformer(
                c_loc, align_corners=align_corners, transform="affine", padding_mode=padding_mode,
                loc_body=body, loc_features=loc_hidden)
        self.last_theta: torch.Tensor | None = None
        self.last_output: torch.Tensor | None = None

    def features(self, x: torch.Tensor, upto: int) -> torch.Tensor:
        """The map after the first ``upto`` blocks (the input for 0), without any transformer."""
        for block in self.blocks[:upto]:
            x = block(x)
        return x

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Γ_k x for k = 1 … number of blocks (no transformer): the plain CNN's feature maps."""
        check_images(x, self.in_channels, self.in_size)
        maps = []
        for block in self.blocks:
            x = block(x)
            maps.append(x)
        return maps

    def transformed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(V, θ)``, the V and θ that :meth:`forward` uses: what the transformer warps (the input
        for C0 / SLX, the feature map after block X for CX) after warping, and θ (N×2×3,
        output → input, normalized coordinates)."""
        if self.transformer is None:
            raise ValueError("this PlacementNet has no spatial transformer (placement='CNN')")
        check_images(x, self.in_channels, self.in_size)
        st = self.transformer
        if self.placement == "C":
            return st(self.features(x, self.depth))
        theta = st.theta(self.features(x, self.depth))  # the shared blocks, first pass
        return st.warp(x, theta), theta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, self.in_size)
        start = 0
        if self.transformer is not None:
            V, theta = self.transformed(x)
            self.last_theta, self.last_output = theta.detach(), V.detach()
            x, start = V, (self.depth if self.placement == "C" else 0)
        for block in self.blocks[start:]:  # SLX: the shared blocks again, on the warped input
            x = block(x)
        return self.head(x)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, in_size={self.in_size}"


def build(name: str, *, in_size: int = 28, **kw) -> PlacementNet:
    """A :class:`PlacementNet` from its name: ``"CNN"``, ``"STN-C0"``, ``"STN-C1"``, ``"STN-SL1"`` …

    ``in_size``: the input's side in pixels; ``**kw``: further arguments of :class:`PlacementNet`.
    """
    if name == "CNN":
        return PlacementNet("CNN", 0, in_size=in_size, **kw)
    for placement in ("SL", "C"):
        prefix = f"STN-{placement}"
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return PlacementNet(placement, int(name[len(prefix):]), in_size=in_size, **kw)
    raise ValueError(f"name must be 'CNN', 'STN-C<X>' or 'STN-SL<X>' (X a block index), got {name!r}")
