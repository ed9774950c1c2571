"""Localization networks: U → θ, initialized so that a new transformer is the identity.

The localization network f_loc can be any network "as long as there is a
regression layer at the end" (Jaderberg et al. 2015, §3.1). Here it is a
*body* (features, N×F) followed by a linear *head* (F → number of
parameters). The head starts with zero weights and the identity parameters
as its bias, so at initialization θ is the identity for every input and the
transformer passes its input through unchanged; training then moves θ away
from the identity only as far as the loss asks for. Without this, a random
θ often zooms out or flips the input and training stalls (lesson 04 shows
such a collapse).

The bodies: :func:`conv_body` (the default, for images and time series),
:func:`tutorial_conv_body` (the PyTorch STN tutorial's, also Wang (2018),
§4.1.2), :func:`fc_body` (fully connected) and :func:`blind_body` (sees
nothing: one learned θ for every input, the control that tells a learned
alignment from a learned fixed crop).
"""

from __future__ import annotations

import torch
from torch import nn

from . import _validate
from .grids import GridGenerator, make_grid_generator


def init_identity(head: nn.Linear, identity: torch.Tensor | str) -> nn.Linear:
    """Zero the head's weight and set its bias to ``identity`` (repeated if the head is wider).

    ``identity``: the flat identity parameters, or a transform name
    (``"affine"`` → :func:`stnlib.grids.identity`). A head with
    ``k × len(identity)`` outputs (k parallel or per-channel transforms) gets
    the identity k times. ``head``: the ``nn.Linear`` that outputs θ.

    Returns the same ``head``, changed in place.

    Example:
        >>> from torch import nn
        >>> init_identity(nn.Linear(20, 6), "affine").bias
        Parameter containing:
        tensor([1., 0., 0., 0., 1., 0.], requires_grad=True)
    """
    if isinstance(identity, str):
        identity = make_grid_generator(identity).identity()
    if not isinstance(head, nn.Linear):
        raise TypeError(f"head must be an nn.Linear, got {type(head).__name__}")
    if head.out_features % identity.numel() != 0:
        raise ValueError(
            f"head has {head.out_features} outputs, not a multiple of the "
            f"{identity.numel()} identity parameters"
        )
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(identity.repeat(head.out_features // identity.numel()))
    return head


def conv_body(in_channels: int, *, channels: int = 20, hidden: int = 50, ndim: int = 2,
              downsample: int = 1, norm: str | None = None) -> nn.Sequential:
    """A small convolutional body for images (``ndim=2``) or time series (``ndim=1``).

    [max-pool ``downsample`` →] conv 5 → max-pool 2 → ReLU → conv 5 → max-pool 2 →
    ReLU → adaptive average pool to 4 (×4) → flatten → linear → ReLU. Works for
    any input size ≥ 4 (≥ 4·``downsample`` with a first pool); outputs
    N×``hidden`` features. Size and shape follow the localization nets of the
    paper's MNIST experiments and the PyTorch tutorial.

    Args:
        in_channels: channels of the input.
        channels: channels of both convolutions.
        hidden: width of the output features.
        ndim: 2 for images (N×C×H×W), 1 for time series (N×C×T).
        downsample: ``k > 1`` max-pools the input by ``k`` before the first
            convolution, so both convolutions run at 1/k of the input's
            resolution (the localization net of the Lasagne cluttered-MNIST
            recipe and of Possatti & de Freitas, Table I, pools by 2 first): a
            localization net needs only the coarse pose, and at full resolution
            its 5×5 convolutions cost about as much as the classifier behind it.
            ``1`` (default): no first pool.
        norm: ``"batch"`` puts a batch norm after each convolution and after the linear layer
            (before their ReLU), for a body that reads feature maps rather than images: their
            scale and sign are whatever the network's block makes them, and without it the
            units can settle where θ hardly depends on the input (lesson 08's U-Net). ``None``
            (default): the plain body.
    """
    _validate.size(in_channels, "in_channels", 1)
    if norm not in (None, "batch"):
        raise ValueError(f"norm must be None or 'batch', got {norm!r}")
    _validate.size(channels, "channels", 1)
    _validate.size(hidden, "hidden", 1)
    _validate.size(downsample, "downsample", 1)
    if ndim not in (1, 2):
        raise ValueError(f"ndim must be 1 (time series) or 2 (images), got {ndim!r}")
    Conv, Pool, Adaptive = (
        (nn.Conv2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d) if ndim == 2
        else (nn.Conv1d, nn.MaxPool1d, nn.AdaptiveAvgPool1d)
    )
    first = [Pool(downsample, ceil_mode=True)] if downsample > 1 else []
    ConvNorm = nn.BatchNorm2d if ndim == 2 else nn.BatchNorm1d

    def normalized(Norm, width: int) -> list[nn.Module]:  # a batch norm after a layer, when asked for
        return [Norm(width)] if norm == "batch" else []

    return nn.Sequential(
        *first,
        Conv(in_channels, channels, 5, padding=2), *normalized(ConvNorm, channels), Pool(2, ceil_mode=True),
        nn.ReLU(),
        Conv(channels, channels, 5, padding=2), *normalized(ConvNorm, channels), Pool(2, ceil_mode=True),
        nn.ReLU(),
        Adaptive(4), nn.Flatten(),
        nn.Linear(channels * 4 ** ndim, hidden), *normalized(nn.BatchNorm1d, hidden), nn.ReLU(),
    )


#: the normalizations a localization body can put between a layer and its ReLU
LOC_NORMS = (None, "batch", "layer")


def fc_body(in_features: int, *, hidden: int = 32, pool_to: int | None = None, layers: int = 2,
            norm: str | None = None) -> nn.Sequential:
    """A fully connected body: [pool to a thumbnail →] flatten → (linear → [norm] → ReLU) × ``layers``.

    Args:
        in_features: the width of the flattened input (C·H·W, or C·t² with ``pool_to=t``).
        hidden: the width of every linear layer, and of the output (N×``hidden``).
        pool_to: average-pool the image to ``pool_to``×``pool_to`` first, so the
            body has the same size for every input size (ST-FCN of lesson 03).
        layers: the number of linear layers (≥ 1).
        norm: one of :data:`LOC_NORMS`: ``"batch"`` or ``"layer"`` puts that normalization
            between each linear layer and its ReLU, for a body that reads a feature map (see
            :func:`stnlib.models.placement.localization_body`); ``None``: plain layers.
    """
    _validate.size(in_features, "in_features", 1)
    _validate.size(hidden, "hidden", 1)
    _validate.size(layers, "layers", 1)
    if norm not in LOC_NORMS:
        raise ValueError(f"norm must be one of {LOC_NORMS}, got {norm!r}")
    Norm = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}.get(norm)
    pool = [] if pool_to is None else [nn.AdaptiveAvgPool2d(_validate.size(pool_to, "pool_to", 1)[0])]
    mods, width = [*pool, nn.Flatten()], in_features
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), *([Norm(hidden)] if Norm else []), nn.ReLU()]
        width = hidden
    return nn.Sequential(*mods)


def tutorial_conv_body(in_size: int, *, in_channels: int = 1, channels=(8, 10), hidden: int = 32,
                       adaptive: bool = True) -> tuple[nn.Sequential, int]:
    """The PyTorch STN tutorial's localization body (also Wang (2018), §4.1.2).

    conv 7×7 ``channels[0]`` → max-pool 2 → ReLU → conv 5×5 ``channels[1]`` →
    max-pool 2 → ReLU → flatten → linear ``hidden`` → ReLU. On 28×28 inputs
    the last feature map is 3×3 (the tutorial's 10·3·3 = 90 features); with
    ``adaptive=True`` larger inputs are max-pooled to 3×3 too, so the body
    keeps its ≈ 5k parameters on a 42×42 canvas (``adaptive=False``: the
    tutorial's plain flatten, whose linear layer grows with the input).
    Returns ``(body, n_features)``; the tutorial's ``fc_loc`` is this last
    linear layer plus the identity head.

    Args:
        in_size: the input's side in pixels (≥ 18).
        in_channels: the input's channels C.
        channels: the two convolutions' widths.
        hidden: the width of the last linear layer, ``n_features``.
        adaptive: max-pool larger inputs to 3×3 before the linear layer.
    """
    _validate.size(in_size, "in_size", 1)
    c1, c2 = channels
    side = ((in_size - 6) // 2 - 4) // 2
    if side < 1:
        raise ValueError(f"in_size must be at least 18 for the tutorial's localization body, "
                         f"got {in_size}")
    pool = [nn.AdaptiveMaxPool2d(3)] if adaptive and side > 3 else []
    side = 3 if pool else side
    body = nn.Sequential(
        nn.Conv2d(in_channels, c1, 7), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(c1, c2, 5), nn.MaxPool2d(2), nn.ReLU(), *pool,
        nn.Flatten(), nn.Linear(c2 * side * side, hidden), nn.ReLU())
    return body, hidden


class BlindBody(nn.Module):
    """A localization body that ignores its input: N×… → N×1 zeros.

    Behind it the identity-initialized head outputs its bias for every input, so θ is
    still learned (through the bias) but is **one warp for all inputs**: a learned fixed
    crop, zoom or gain instead of an alignment per input. Comparing a transformer with the
    same transformer on a blind body separates what input-dependent alignment adds from
    what any fixed warp would (:func:`blind_body`).

    Example:
        >>> import torch
        >>> BlindBody()(torch.rand(3, 1, 40)).shape
        torch.Size([3, 1])
    """

    def forward(self, U: torch.Tensor) -> torch.Tensor:
        return U.new_zeros(U.shape[0], 1)


def blind_body() -> tuple[BlindBody, int]:
    """``(BlindBody(), 1)``: the body of a transformer whose θ is learned but the same for
    every input. The head's weight gets no gradient (its input is 0), its bias does.

    Example:
        >>> import torch
        >>> from stnlib.transformer import SpatialTransformer
        >>> body, n = blind_body()
        >>> st = SpatialTransformer(1, align_corners=False, loc_body=body, loc_features=n)
        >>> _, theta = st(torch.rand(4, 1, 28, 28))
        >>> bool((theta == theta[:1]).all())
        True
    """
    return BlindBody(), 1


class LocalizationNet(nn.Module):
    """``body`` (U → N×F features) + identity-initialized linear head (F → P·k parameters).

    Args:
        body: any module mapping the input to N×``n_features``.
        n_features: F, the width of the body's output.
        grid_generator: the transform θ is for (gives P and the identity).
        copies: k, the number of θ to regress (parallel or per-channel transforms).
        extra_identity: identity values of extra parameters appended to each θ
            (the 1-D transformer's amplitude scale and offset, for example).
    Forward: U → flat parameters, N×k×(P + extra).
    """

    def __init__(self, body: nn.Module, n_features: int, grid_generator: GridGenerator, *,
                 copies: int = 1, extra_identity: torch.Tensor | None = None):
        super().__init__()
        identity = grid_generator.identity()
        if extra_identity is not None:
            identity = torch.cat([identity, extra_identity.to(identity)])
        self.n_params = identity.numel()
        self.copies = copies
        self.body = body
        self.head = init_identity(nn.Linear(n_features, self.n_params * copies), identity)

    def forward(self, U: torch.Tensor) -> torch.Tensor:
        features = self.body(U)
        if features.dim() != 2:
            raise ValueError(
                f"the localization body must return N×F features, got shape {tuple(features.shape)}"
            )
        return self.head(features).view(U.shape[0], self.copies, self.n_params)


def default_localization(in_channels: int, grid_generator: GridGenerator, *, copies: int = 1,
                         extra_identity: torch.Tensor | None = None) -> LocalizationNet:
    """The default localization net: :func:`conv_body` + identity head.

    Args:
        in_channels: the input's channels C.
        grid_generator: the transform θ is for (its ``ndim`` chooses a 2-D or 1-D body).
        copies: k, the number of θ to regress.
        extra_identity: identity values of extra parameters appended to each θ.
    Returns:
        A :class:`LocalizationNet`: N×C×H×W (or N×C×L) → N×k×(P + extra) parameters.
    """
    _validate.size(in_channels, "in_channels", 1)
    body = conv_body(in_channels, ndim=grid_generator.ndim)
    return LocalizationNet(body, body[-2].out_features, grid_generator, copies=copies,
                           extra_identity=extra_identity)
