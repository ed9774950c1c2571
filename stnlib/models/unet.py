"""Lesson 08's model: a U-Net with a spatial transformer and its decoder at one depth.

Abou Chacra & Zelek (Table 1, Fig. 3) put one transformer / spatial-decoder pair of Dense
Transformer Networks (Li et al. 2017) into a U-Net (Ronneberger et al. 2015) and move it along
the depth. :class:`UNet` is that network for any depth ``D`` and position ``p``:

============ ==================================================================================
part         operations (every conv is 3×3, 'same' padding, then batch norm and ReLU)
============ ==================================================================================
Down k       c1, [spatial transformer if k = p − 1], c2 (→ skip k), max-pool 2;  k = 0 … D − 2,
             width ``base · 2^k``
Bottom       c1, c2, at the deepest down block's width (the paper's 8×8×1024 for D = 6)
Up k         transposed conv 2×2 stride 2, concatenate skip k, tc2, [spatial decoder if
             k = p − 1], tc3;  k = D − 2 … 0, width ``base · 2^k``
head         1×1 conv to the 2 classes (logits, no batch norm)
============ ==================================================================================

The paper numbers the U-Net's levels from 1: depth 6 has Down 0 … Down 4 and the bottom, and
"an STN at depth 4" sits in Down 3 and Up 3, so position ``p`` is Down / Up ``p − 1``, at
``1 / 2^(p−1)`` of the input's resolution. The paper trains positions 2 … D − 1 (position 1
did not fit its GPU's memory); this class allows 1 … D − 1.

Transformer and decoder share θ: the transformer warps Down (p−1)'s c1 features onto their own
grid (output pixel i reads at T_θ(G_i)), so everything after it at that depth and deeper, and
the skip of Down (p−1), lives in the *transformed* frame; the decoder
(:class:`~stnlib.decoder.SpatialDecoder`, the DTN decoder: scatter with the sampler's weights,
normalized by the weights that landed) puts Up (p−1)'s features back onto the input's pixel
grid before its last convolution, where the shallower skips (in the input's frame) join them.
Pixels that no output landed on are filled with ``hole_fill``: ``"encoder"`` (default) the
features the transformer warped, Down (p−1)'s c1 output, which are in the input's frame; or
``"dtn"``, the decoder's own input, as divelab/dtn's ``network.py`` calls it
(``Decoder(conv2, conv2)``). With ``decoder=False`` nothing puts the features back: the
transformed features go on, and are concatenated with the input-frame skips, as they are
(the lesson's experiment on why the decoder is needed).

**Identity initialization.** The localization net's last layer starts with zero weights and
the identity as its bias (:class:`~stnlib.localization.LocalizationNet`), for affine and TPS.
Then the transformer and the decoder are exactly transparent at the start: the network *is*
the plain U-Net with the same weights (a test checks it), so what the transformer changes is
what training moved θ to, and a run with the transformer starts where the baseline starts.
divelab/dtn instead starts its TPS control points at ``tanh`` of a ``linspace(-5, 5)`` bias,
a warp that is not the identity (the points crowd towards the border), and Abou Chacra & Zelek
(§5.2) suspect their worse shallow placements of "an STN [that] has not converged to an
identity transformation"; starting at the identity removes that cause.

The sampler is bilinear with ``align_corners=False`` and ``"border"`` padding by default
(divelab/dtn's encoder clips its sample indices to the map, which is border padding). TPS uses
a regular ``n × n`` control grid; by default ``n`` = the transformed map's side / 8 (at least 2),
divelab/dtn's ``control_points_ratio = 8``.

Example:
    >>> import torch
    >>> net = UNet(4, base=8, in_size=64, position=2)      # transformer + decoder in Down 1 / Up 1
    >>> net(torch.rand(2, 3, 64, 64)).shape
    torch.Size([2, 2, 64, 64])
    >>> V, theta = net.transformed(torch.rand(2, 3, 64, 64))
    >>> V.shape, theta.shape                               # Down 1's c1 features (32×32), warped
    (torch.Size([2, 16, 32, 32]), torch.Size([2, 2, 3]))
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _validate
from ..decoder import SpatialDecoder
from ..localization import conv_body
from ..transformer import SpatialTransformer

__all__ = ["UNet", "HOLE_FILLS", "TRANSFORMS", "conv_bn_relu"]

#: the transforms a :class:`UNet`'s transformer can use
TRANSFORMS = ("affine", "tps")
#: what fills the decoder's holes: the transformer's input (input frame) or the decoder's input
HOLE_FILLS = ("encoder", "dtn")


def conv_bn_relu(c_in: int, c_out: int) -> nn.Sequential:
    """A conv 3×3 ('same' padding, no bias) → batch norm → ReLU block.

    ``c_in``, ``c_out``: input and output channels; N×c_in×H×W → N×c_out×H×W.
    """
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class _Down(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.c1, self.c2 = conv_bn_relu(c_in, c_out), conv_bn_relu(c_out, c_out)


class _Up(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.tc1 = nn.ConvTranspose2d(c_in, c_out, 2, stride=2)
        self.tc2, self.tc3 = conv_bn_relu(2 * c_out, c_out), conv_bn_relu(c_out, c_out)


def _int(value, name: str, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value


class UNet(nn.Module):
    """A U-Net of depth ``depth`` with an optional transformer / decoder pair at ``position``.

    Args:
        depth: D, the number of levels including the bottom (Abou Chacra & Zelek: 4, 5, 6);
            D − 1 down blocks, each halving the resolution.
        in_channels: C of the input (3, RGB).
        n_classes: logits per pixel (2: not road, road).
        base: the first level's width (the paper: 64); level k has ``base · 2^k`` channels.
        in_size: H = W of the input, a multiple of 2^(D−1) (the paper: 256).
        position: p in 1 … D − 1 (the transformer in Down p−1, the decoder in Up p−1), or
            ``None`` for the plain U-Net.
        transform: ``"affine"`` (default, Abou Chacra & Zelek's) or ``"tps"`` (Li et al.'s).
        decoder: ``False`` leaves the transformed features as they are (no spatial decoder).
        hole_fill: ``"encoder"`` or ``"dtn"``, what fills pixels the decoder left empty (see
            the module docstring).
        tps_points: control points per side for ``"tps"`` (default: the map's side / 8, ≥ 2).
        padding_mode, align_corners: the transformer's sampler (``"border"``, ``False``).
        loc_channels, loc_hidden: the localization net (:func:`stnlib.localization.conv_body`:
            two 5×5 convolutions of ``loc_channels``, a linear layer of ``loc_hidden``); it
            max-pools its input to at most 16×16 first, so its cost hardly depends on ``p``.
        loc_norm: ``"batch"`` (default): batch norm after each layer of the localization body
            (``conv_body(norm="batch")``); without it, in lesson 08's standard run, θ hardly
            varied between scenes in 4 of 10 runs and blew up in one. ``None``: the plain body.

    Attributes:
        transformer: the :class:`~stnlib.transformer.SpatialTransformer` (``None`` without
            one); its localization net's parameters are ``transformer.loc.*``.
        decoder: the :class:`~stnlib.decoder.SpatialDecoder` (``None`` without one).
        last_theta: θ of the last forward pass (detached; ``None`` before it or without a
            transformer).
        level: the index k = p − 1 of the down / up block holding the pair (``None``).

    Forward: N×C×in_size×in_size → N×n_classes×in_size×in_size logits.
    """

    def __init__(self, depth: int = 4, *, in_channels: int = 3, n_classes: int = 2, base: int = 64,
                 in_size: int = 256, position: int | None = None, transform: str = "affine",
                 decoder: bool = True, hole_fill: str = "encoder", tps_points: int | None = None,
                 padding_mode: str = "border", align_corners: bool = False,
                 loc_channels: int = 20, loc_hidden: int = 50, loc_norm: str | None = "batch"):
        super().__init__()
        self.depth = _int(depth, "depth", 2)
        self.in_channels = _int(in_channels, "in_channels", 1)
        self.n_classes = _int(n_classes, "n_classes", 1)
        self.base = _int(base, "base", 1)
        self.in_size = _int(in_size, "in_size", 1)
        factor = 2 ** (depth - 1)
        if in_size % factor:
            raise ValueError(f"in_size must be a multiple of 2^(depth-1) = {factor} (depth {depth} "
                             f"pools {depth - 1} times), got {in_size}")
        if position is not None and (not isinstance(position, int) or isinstance(position, bool)
                                     or not 1 <= position <= depth - 1):
            raise ValueError(f"position must be None (no transformer) or an int from 1 to "
                             f"depth - 1 = {depth - 1}, got {position!r}")
        _validate.choice(transform, "transform", TRANSFORMS)
        _validate.choice(hole_fill, "hole_fill", HOLE_FILLS)
        _validate.flag(decoder, "decoder")
        self.position, self.transform_name = position, transform
        self.hole_fill = hole_fill
        widths = [base * 2 ** k for k in range(depth - 1)]
        self.widths = tuple(widths)
        self.down = nn.ModuleList(_Down(c_in, c) for c_in, c in zip([in_channels] + widths[:-1],
                                                                   widths))
        self.pool = nn.MaxPool2d(2)
        self.bottom = nn.Sequential(conv_bn_relu(widths[-1], widths[-1]),
                                    conv_bn_relu(widths[-1], widths[-1]))
        ups = {}
        for k in range(depth - 2, -1, -1):
            c_in = widths[-1] if k == depth - 2 else widths[k + 1]
            ups[k] = _Up(c_in, widths[k])
        self.up = nn.ModuleList(ups[k] for k in range(depth - 1))  # self.up[k] is Up k
        self.head = nn.Conv2d(widths[0], n_classes, 1)
        self.transformer, self.decoder, self.level, self.tps_points = None, None, None, None
        if position is not None:
            self.level = k = position - 1
            side = in_size // 2 ** k
            if transform == "tps":
                self.tps_points = (max(2, side // 8) if tps_points is None
                                   else _int(tps_points, "tps_points", 2))
            _int(loc_channels, "loc_channels", 1)
            _int(loc_hidden, "loc_hidden", 1)
            body = conv_body(widths[k], channels=loc_channels, hidden=loc_hidden, norm=loc_norm,
                             downsample=max(1, -(-side // 16)))  # its convolutions at <= 16×16
            self.transformer = SpatialTransformer(
                widths[k], align_corners=align_corners, transform=transform,
                padding_mode=padding_mode, loc_body=body, loc_features=loc_hidden,
                tps_points=self.tps_points or 4)
            if decoder:
                self.decoder = SpatialDecoder(align_corners=align_corners, transform=transform,
                                              tps_points=self.tps_points or 4)
        self.last_theta: torch.Tensor | None = None

    @property
    def name(self) -> str:
        """``"U-Net D=4"``, ``"U-Net D=4, ST at 2"``, ``"… (no decoder)"``, ``"… TPS"``."""
        text = f"U-Net D={self.depth}"
        if self.position is not None:
            text += f", ST at {self.position}" + (" TPS" if self.transform_name == "tps" else "")
            if self.decoder is None:
                text += " (no decoder)"
        return text

    def _check(self, x: torch.Tensor) -> None:
        _validate.tensor(x, "x", ndim=4, layout="N×C×H×W")
        s = self.in_size
        if x.shape[1:] != (self.in_channels, s, s):
            raise ValueError(f"x must be N×{self.in_channels}×{s}×{s}, got shape {tuple(x.shape)}")

    def _encode(self, x: torch.Tensor, stop_at_transformer: bool = False):
        """The down path; returns (x after the bottom, skips, U, V, θ) or, with
        ``stop_at_transformer``, (U, V, θ) as soon as the transformer has run."""
        skips, U, V, theta = [], None, None, None
        for k, block in enumerate(self.down):
            h = block.c1(x)
            if k == self.level:
                U = h
                h, theta = self.transformer(h)
                V = h
                if stop_at_transformer:
                    return U, V, theta
            h = block.c2(h)
            skips.append(h)
            x = self.pool(h)
        return self.bottom(x), skips, U, V, theta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        x, skips, U, _, theta = self._encode(x)
        for k in range(self.depth - 2, -1, -1):
            up = self.up[k]
            x = up.tc2(torch.cat([up.tc1(x), skips[k]], dim=1))
            if k == self.level and self.decoder is not None:
                x = self.decoder(x, theta, skip=U if self.hole_fill == "encoder" else x)
            x = up.tc3(x)
        if theta is not None:
            self.last_theta = theta.detach()
        return self.head(x)

    def transformed(self, x: torch.Tensor, *, with_input: bool = False):
        """``(V, θ)``, the V and θ that :meth:`forward` uses: Down (p−1)'s c1 features after the
        warp, and θ (affine N×2×3, TPS N×K×2). With ``with_input=True``, ``(U, V, θ)``: also the
        feature map the transformer warps (Down (p−1)'s c1 output)."""
        if self.transformer is None:
            raise ValueError("this UNet has no spatial transformer (position=None)")
        _validate.flag(with_input, "with_input")
        self._check(x)
        U, V, theta = self._encode(x, stop_at_transformer=True)
        return (U, V, theta) if with_input else (V, theta)

    def sampling_grid(self, theta: torch.Tensor) -> torch.Tensor:
        """The transformer's sampling grid T_θ(G) for θ, on its map (N×h×w×2, normalized)."""
        if self.transformer is None:
            raise ValueError("this UNet has no spatial transformer (position=None)")
        side = self.in_size // 2 ** self.level
        st = self.transformer
        return st.generator(theta, (side, side), align_corners=st.align_corners)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, in_size={self.in_size}, widths={self.widths}"
