"""The spatial transformer module: localization net → grid generator → sampler.

``SpatialTransformer`` is the layer of Jaderberg et al. (2015, Fig. 2). Given
U (N×C×H×W) it regresses θ with its localization network, builds the
sampling grid T_θ(G) for the output size and samples U there:

    V, theta = st(U)

It returns θ as well, so training loops and lessons can log θ statistics
(:mod:`stnlib.diagnostics`). The two halves are public: ``st.theta(U)`` is the
localization net's θ and ``st.warp(U, theta)`` applies any θ with the layer's
options through :func:`stnlib.warping.warp`; ``forward`` is
``V = st.warp(U, st.theta(U))``. Options cover the paper's variants:

* ``transform``: ``"affine"``, ``"attention"``, ``"projective"``, ``"tps"``
  (images) or ``"timewarp"`` (N×C×L time series; optional amplitude scale
  and offset with ``amplitude=True``);
* ``n_transformers=K``: K parallel transformers, each with its own
  localization net that sees all channels; their outputs are concatenated
  along the channel axis (N×K·C×H'×W'), as in the paper's MNIST addition;
* ``shared_localization=True`` (with ``n_transformers=K``): the K transformers
  share one localization net that regresses all K θ at once (its head has
  K·6 outputs for affine θ), as the 12-parameter net of Wang (2018), §5.1,
  that finds two digits in one image;
* ``per_channel=True``: one θ per input channel, each channel warped by its own;
* ``kernel``, ``padding_mode``, ``align_corners`` (required), ``out_size``
  (default: the input size; smaller sizes downsample), and
  ``sampler="native"`` or ``"reference"``.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from . import _validate
from .grids import make_grid_generator
from .kernels import get_kernel
from .localization import LocalizationNet, default_localization
from .sampler import SAMPLERS
from .warping import warp, warp_1d


class SpatialTransformer(nn.Module):
    """A spatial transformer layer; ``forward(U)`` returns ``(V, theta)``.

    Args:
        in_channels: C of the input (used by the default localization net).
        align_corners: how normalized coordinates meet pixels; required.
        transform: ``"affine"`` | ``"attention"`` | ``"projective"`` | ``"tps"`` | ``"timewarp"``.
        out_size: (H', W') for images, L' for time series; ``None`` keeps the input size.
        kernel: ``"nearest"`` | ``"bilinear"`` | ``"bicubic"``.
        padding_mode: ``"zeros"`` | ``"border"`` | ``"reflection"``.
        sampler: ``"native"`` (``grid_sample``) or ``"reference"`` (eq. 3 gather).
        loc_body: optional body for the localization net (U → N×F); with it,
            give ``loc_features=F``. Default: :func:`stnlib.localization.conv_body`.
        n_transformers: K parallel transformers (outputs concatenated on channels).
        shared_localization: with K > 1, one localization net regresses all K θ
            (its identity head repeats the identity K times); default: one net each.
        per_channel: one θ per channel instead of one per image.
        tps_points: control points per side for ``"tps"`` (4 → 16 points).
        amplitude: for ``"timewarp"``, also learn an amplitude scale and offset.

    Shapes: U N×C×H×W (N×C×L for time warps) → V N×C'×H'×W' with C' = K·C,
    θ N×(K or C)×… (the extra axis only when K > 1 or ``per_channel``):
    affine 2×3, attention 3, projective 3×3, tps K_points×2, timewarp 2 (4
    with amplitude).

    Example:
        >>> import torch
        >>> st = SpatialTransformer(1, align_corners=False, transform="affine", out_size=(14, 14))
        >>> V, theta = st(torch.rand(4, 1, 28, 28))
        >>> V.shape, theta.shape       # identity θ at initialization: V is U, downsampled
        (torch.Size([4, 1, 14, 14]), torch.Size([4, 2, 3]))
    """

    def __init__(self, in_channels: int, *, align_corners: bool, transform: str = "affine",
                 out_size=None, kernel: str = "bilinear", padding_mode: str = "zeros",
                 sampler: str = "native", loc_body: nn.Module | None = None,
                 loc_features: int | None = None, n_transformers: int = 1,
                 per_channel: bool = False, tps_points: int = 4, amplitude: bool = False,
                 shared_localization: bool = False):
        super().__init__()
        _validate.size(in_channels, "in_channels", 1)
        _validate.flag(align_corners, "align_corners")
        _validate.choice(padding_mode, "padding_mode", _validate.PADDING_MODES)
        _validate.choice(sampler, "sampler", SAMPLERS)
        _validate.size(n_transformers, "n_transformers", 1)
        get_kernel(kernel)
        if n_transformers > 1 and per_channel:
            raise ValueError("choose either n_transformers > 1 or per_channel=True, not both")
        _validate.flag(shared_localization, "shared_localization")
        if shared_localization and n_transformers < 2:
            raise ValueError("shared_localization=True needs n_transformers >= 2 (the θ it "
                             f"shares one localization net for), got n_transformers={n_transformers}")
        self.generator = make_grid_generator(transform, tps_points=tps_points)
        self.transform = transform
        self.tps_points = tps_points
        self.in_channels = in_channels
        self.out_size = None if out_size is None else _validate.size(out_size, "out_size",
                                                                        self.generator.ndim)
        self.kernel, self.padding_mode, self.sampler = kernel, padding_mode, sampler
        self.align_corners = align_corners
        self.per_channel = per_channel
        self.n_transformers = n_transformers
        if amplitude and transform != "timewarp":
            raise ValueError("amplitude=True is only available for transform='timewarp'")
        self.amplitude = amplitude
        extra = torch.tensor([1.0, 0.0]) if amplitude else None
        self.shared_localization = shared_localization
        copies = in_channels if per_channel else (n_transformers if shared_localization else 1)
        if loc_body is not None and loc_features is None:
            raise ValueError("loc_features (the width F of loc_body's N×F output) is required "
                             "with loc_body")

        def make_loc():
            if loc_body is None:
                return default_localization(in_channels, self.generator, copies=copies,
                                            extra_identity=extra)
            return LocalizationNet(copy.deepcopy(loc_body), loc_features, self.generator,
                                   copies=copies, extra_identity=extra)

        self.loc = nn.ModuleList(make_loc() for _ in range(1 if shared_localization
                                                           else n_transformers))

    def localization_parameters(self):
        """Parameters of the localization nets (for a separate, often lower, learning rate)."""
        return self.loc.parameters()

    def _check_input(self, U: torch.Tensor) -> None:
        ndim = self.generator.ndim
        layout = "N×C×H×W" if ndim == 2 else "N×C×L"
        _validate.tensor(U, "U", ndim=ndim + 2, layout=layout)
        if U.shape[1] != self.in_channels:
            raise ValueError(f"U must have {self.in_channels} channels ({layout}), "
                             f"got shape {tuple(U.shape)}")

    def theta(self, U: torch.Tensor) -> torch.Tensor:
        """The localization net's θ for U, in the shape :meth:`forward` returns.

        Args:
            U: N×C×H×W (N×C×L for ``"timewarp"``).
        Returns:
            θ, N×… in the transform's own shape (affine 2×3, attention 3,
            projective 3×3, tps K_points×2, timewarp 2, or 4 with
            ``amplitude``: scale, shift, amplitude scale, offset), with an
            extra axis N×K×… for ``n_transformers=K > 1`` or N×C×… for
            ``per_channel``.

        Example:
            >>> import torch
            >>> st = SpatialTransformer(1, align_corners=False)
            >>> st.theta(torch.rand(2, 1, 28, 28))[0]      # identity at initialization
            tensor([[1., 0., 0.],
                    [0., 1., 0.]], grad_fn=<SelectBackward0>)
        """
        self._check_input(U)
        if self.shared_localization:  # one net, K θ: N×K×P
            flats = self.loc[0](U).unbind(1)
        else:
            flats = [loc(U) for loc in self.loc]  # each N×copies×P
        rows = U.shape[0] * (U.shape[1] if self.per_channel else 1)
        thetas = []
        for flat in flats:
            flat = flat.reshape(rows, -1)
            theta = flat if self.amplitude else self.generator.unflatten(flat)
            if self.per_channel:
                theta = theta.reshape(U.shape[0], U.shape[1], *theta.shape[1:])
            thetas.append(theta)
        return torch.stack(thetas, dim=1) if self.n_transformers > 1 else thetas[0]

    def warp(self, U: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Apply a given θ to U with this layer's options (transform, kernel, padding, out_size, ...).

        The grid generator and sampler of :meth:`forward`, without the
        localization net: ``forward(U)`` is ``V = warp(U, theta(U))``. Use it to
        apply a θ from elsewhere (an edited one, another model's, a known
        distortion) exactly as the layer would. U may have any number of
        channels (one θ warps them all), except with ``per_channel``, where θ
        has one entry per channel of U.

        Args:
            U: N×C×H×W (N×C×L for ``"timewarp"``).
            theta: in the shape :meth:`theta` returns (see there).
        Returns:
            V, N×C'×H'×W' (N×C'×L'), C' = K·C for ``n_transformers=K``.
            Calls :func:`stnlib.warping.warp` (:func:`stnlib.warping.warp_1d`
            for time warps) once per transformer, or once on the N·C
            single-channel images for ``per_channel``; with ``amplitude``,
            V = a · warp_1d(U, (s, t)) + b.

        Example:
            >>> import torch
            >>> st = SpatialTransformer(1, align_corners=False, out_size=(2, 2))
            >>> U = torch.arange(16.0).view(1, 1, 4, 4)
            >>> zoom = torch.tensor([[[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]])   # the central half
            >>> st.warp(U, zoom)
            tensor([[[[ 5.,  6.],
                      [ 9., 10.]]]])
        """
        ndim = self.generator.ndim
        _validate.tensor(U, "U", ndim=ndim + 2, layout="N×C×H×W" if ndim == 2 else "N×C×L")
        N, C = U.shape[:2]
        _validate.tensor(theta, "theta", layout="as SpatialTransformer.theta returns")
        if self.n_transformers > 1:
            lead, names = (N, self.n_transformers), "N×K"
        else:
            lead, names = ((N, C), "N×C") if self.per_channel else ((N,), "N")
        if tuple(theta.shape[:len(lead)]) != lead:
            raise ValueError(f"theta must start with the axes {names} = {lead}, as "
                             f"SpatialTransformer.theta returns; got shape {tuple(theta.shape)}")
        thetas = theta.unbind(1) if self.n_transformers > 1 else [theta]
        if self.per_channel:  # every channel is its own image with its own θ
            U = U.reshape(N * C, 1, *U.shape[2:])
            thetas = [t.reshape(N * C, *t.shape[2:]) for t in thetas]
        opts = dict(kernel=self.kernel, padding_mode=self.padding_mode,
                    align_corners=self.align_corners, sampler=self.sampler)
        outputs = []
        for t in thetas:
            if self.generator.ndim == 1:
                V = warp_1d(U, t[:, :2] if self.amplitude else t, self.out_size, **opts)
            else:
                V = warp(U, t, self.out_size, transform=self.transform, tps_points=self.tps_points,
                         **opts)
            if self.amplitude:
                V = V * t[:, 2, None, None] + t[:, 3, None, None]
            outputs.append(V.reshape(N, C, *V.shape[2:]) if self.per_channel else V)
        return torch.cat(outputs, dim=1)

    def forward(self, U: torch.Tensor):
        """Regress θ and warp: ``V = self.warp(U, self.theta(U))``; returns ``(V, theta)``."""
        theta = self.theta(U)
        return self.warp(U, theta), theta

    def extra_repr(self) -> str:
        return (f"transform={self.transform!r}, out_size={self.out_size}, kernel={self.kernel!r}, "
                f"padding_mode={self.padding_mode!r}, align_corners={self.align_corners}, "
                f"sampler={self.sampler!r}, n_transformers={self.n_transformers}, "
                f"per_channel={self.per_channel}, shared_localization={self.shared_localization}")
