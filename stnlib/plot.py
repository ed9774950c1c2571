"""Every figure helper of the course: images, rows of images, the sampling grid over an input, warps.

The lessons, the explorers (:mod:`stnlib.widgets`) and the command-line demo
draw through this module, so a sampling grid, a row of digits or a θ
statistic looks the same everywhere::

    from stnlib import grids, plot, theta
    U = plot.default_image(size=96)
    grid = grids.affine_grid(theta.affine_theta(angle=30)[None], (64, 64), align_corners=False)
    fig = plot.plot_warp(U, grid, align_corners=False)   # grid over U | the output V

* :func:`show_images`: rows of images (``torchvision.utils.make_grid``), one row per tensor;
* :func:`draw_image`, :func:`draw_grid`, :func:`draw_outline`: on a matplotlib axis;
* :func:`plot_warp`, :func:`theta_figure`, :func:`tps_figure`: grid over the input beside the output;
* :func:`plot_transformer_windows`: where each of a model's transformers looks, and its output;
* :func:`plot_theta_history`: θ statistics logged during training (:func:`stnlib.train.theta_monitor`);
* :func:`figure_png`, :func:`new_figure`: figures outside pyplot (for widgets and files).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import torch

from . import _validate, grids
from . import theta as theta_lib
from .sampler import sample, unnormalize

#: the θ explorer's starting values (and :func:`theta_figure`'s defaults): visibly
#: non-trivial, so the static figure and the first picture already show a turned, zoomed grid
EXPLORER_DEFAULTS: dict[str, float] = {
    "angle": 30.0, "scale_x": 1.25, "scale_y": 1.25, "shear": 0.0, "tx": 0.1, "ty": 0.0,
}


# --------------------------------------------------------------------------- images


def default_image(name: str = "camera", size: int = 128) -> torch.Tensor:
    """A real photograph bundled with scikit-image, 1×C×size×size float32 in [0, 1].

    ``name``: ``"camera"`` (grey, C = 1) or ``"astronaut"`` (colour, C = 3).
    Resized with antialiasing, so the picture itself carries no aliasing.
    """
    _validate.choice(name, "name", ("camera", "astronaut"))
    (size,) = _validate.size(size, "size", 1)
    from skimage import data

    arr = getattr(data, name)()
    return as_image(arr, size=size)


def as_image(image, *, size: int | None = None) -> torch.Tensor:
    """The 1×C×H×W float32 tensor (C = 1 or 3) of an image in any common format.

    Accepts a tensor H×W, C×H×W or 1×C×H×W, or a NumPy array H×W or H×W×C
    (``uint8`` is scaled to [0, 1]). ``size`` resizes to size×size with antialiasing.
    """
    if isinstance(image, np.ndarray):
        scale = 255.0 if image.dtype == np.uint8 else 1.0
        t = torch.from_numpy(np.ascontiguousarray(image)).float() / scale
        if t.dim() == 3:
            t = t.permute(2, 0, 1)
    elif isinstance(image, torch.Tensor):
        t = image.detach().float().cpu()
    else:
        raise TypeError(f"image must be a torch.Tensor or a NumPy array, got {type(image).__name__}")
    if t.dim() == 2:
        t = t[None]
    if t.dim() == 3:
        t = t[None]
    if t.dim() != 4 or t.shape[0] != 1 or t.shape[1] not in (1, 3, 4):
        raise ValueError("image must be H×W, C×H×W or 1×C×H×W with C in (1, 3), "
                         f"or H×W×C as a NumPy array; got shape {tuple(t.shape)}")
    t = t[:, :3]
    if size is not None:
        t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear",
                                            align_corners=False, antialias=True)
    return t.clamp(0, 1).contiguous()


def to_numpy_image(V: torch.Tensor) -> np.ndarray:
    """The NumPy image of ``V``, 1×C×H×W (or C×H×W): H×W (grey) or H×W×3, clamped to [0, 1]."""
    V = V.detach().float().cpu()
    if V.dim() == 4:
        V = V[0]
    V = V.clamp(0, 1)
    return V[0].numpy() if V.shape[0] == 1 else V.permute(1, 2, 0).numpy()


# --------------------------------------------------------------------------- drawing


def draw_image(ax, V: torch.Tensor, title: str | None = None) -> None:
    """Show an image tensor (1×C×H×W or C×H×W) on a matplotlib axis, pixel centres at integers.

    ``ax``: the axis; ``V``: the image, values in [0, 1] (clamped); ``title``: above it, if given.
    """
    arr = to_numpy_image(V)
    ax.imshow(arr, cmap="gray" if arr.ndim == 2 else None, vmin=0, vmax=1,
              interpolation="nearest")
    if title:
        ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_grid(ax, grid: torch.Tensor, in_size, *, align_corners: bool, step: int = 8,
              color: str = "yellow", frame_color: str = "red", lw: float = 0.7) -> None:
    """Draw a sampling grid (1×H'×W'×2 or H'×W'×2, normalized) over an input image on ``ax``.

    Every ``step``-th row and column of the grid is drawn as a line through the
    input pixels it samples; the outline of the output (its first and last
    rows and columns) is drawn in ``frame_color``. The axis keeps the input's
    extent, so a grid that leaves the image is clipped at its border.
    ``in_size``: the input's (H, W) in pixels; ``align_corners``: the warp's; ``color`` and
    ``lw``: the grid lines' colour and width in points.
    """
    H, W = _validate.size(in_size, "in_size", 2)
    g = grid.detach().float().cpu()
    if g.dim() == 4:
        g = g[0]
    px = unnormalize(g[..., 0], W, align_corners=align_corners).numpy()
    py = unnormalize(g[..., 1], H, align_corners=align_corners).numpy()
    Ho, Wo = px.shape
    rows = sorted(set(range(0, Ho, step)) | {Ho - 1})
    cols = sorted(set(range(0, Wo, step)) | {Wo - 1})
    for r in rows:
        edge = r in (0, Ho - 1)
        ax.plot(px[r], py[r], "-", color=frame_color if edge else color, lw=lw * (2 if edge else 1))
    for c in cols:
        edge = c in (0, Wo - 1)
        ax.plot(px[:, c], py[:, c], "-", color=frame_color if edge else color,
                lw=lw * (2 if edge else 1))
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    # where the output's top-left pixel reads: drawn last, on top of every line, with a dark
    # edge; not clipped when it lies on the image or within a pixel of its border, so it stays
    # visible on the frame; clipped beyond (far away it would stretch the figure's layout)
    near = -1.5 <= px[0, 0] <= W + 0.5 and -1.5 <= py[0, 0] <= H + 0.5
    ms, mew = 7.0, 1.2
    ax.plot(px[0, 0], py[0, 0], "o", color=frame_color, ms=ms, mec="black", mew=mew,
            zorder=10, clip_on=not near)
    if near and ax.get_title():
        # the marker may sit up to a pixel above the frame and reaches ms / 2 + mew points above
        # its centre: lift the title clear of it (it was drawn over the title)
        fig = ax.get_figure()
        pixel_pt = ax.get_position().height * fig.get_figheight() * 72 / H
        above = max(0.0, -0.5 - py[0, 0]) * pixel_pt
        ax.set_title(ax.get_title(), fontsize=ax.title.get_fontsize(), pad=above + ms / 2 + mew + 3)


def plot_warp(U: torch.Tensor, grid: torch.Tensor, *, align_corners: bool, kernel: str = "bilinear",
              padding_mode: str = "zeros", title: str = "", step: int = 8, axes=None,
              sampler: str = "native"):
    """The grid drawn over the input beside the output it produces.

    Args:
        U: 1×C×H×W input.
        grid: 1×H'×W'×2 sampling grid (normalized).
        align_corners, kernel, padding_mode, sampler: the sampler's options (:func:`stnlib.sampler.sample`).
        title: the output's title.
        step: draw every ``step``-th grid line.
        axes: two matplotlib axes to draw on; ``None`` makes a new figure.
    Returns:
        the matplotlib ``Figure`` (``axes[0].figure`` when axes are given).
    """
    V = sample(U, grid.to(U.dtype), align_corners=align_corners, kernel=kernel,
                       padding_mode=padding_mode, sampler=sampler)
    if axes is None:
        fig = new_figure((6.4, 3.4))
        axes = fig.subplots(1, 2)
    fig = axes[0].figure
    draw_image(axes[0], U, "input U with the sampling grid T_θ(G)")
    draw_grid(axes[0], grid, U.shape[-2:], align_corners=align_corners, step=step)
    draw_image(axes[1], V, f"output V ({kernel})")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def new_figure(figsize):
    """A matplotlib Figure that does not go through pyplot (no global state, no double display).

    ``figsize``: (width, height) in inches.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def figure_png(fig, dpi: int = 80) -> bytes:
    """The PNG bytes of a matplotlib figure ``fig``, rendered at ``dpi`` dots per inch."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def format_theta(th: torch.Tensor) -> str:
    """The text of θ as two aligned rows, e.g. ``[ 0.866  0.500  0.000]``.

    ``th``: a 2×3 θ (any tensor of six entries).
    """
    rows = th.detach().cpu().double().reshape(2, 3).tolist()
    return "\n".join("[" + "  ".join(f"{v:7.3f}" for v in row) + " ]" for row in rows)


# --------------------------------------------------------------------------- static figures


def explorer_theta(angle: float = 0.0, scale_x: float = 1.0, scale_y: float = 1.0, shear: float = 0.0,
                   tx: float = 0.0, ty: float = 0.0) -> torch.Tensor:
    """The θ (2×3 float32) of the θ explorer's slider values (names as :data:`EXPLORER_DEFAULTS`).

    :func:`stnlib.theta.affine_theta` with the sliders' flat names: ``angle`` (degrees,
    counter-clockwise), ``scale_x`` / ``scale_y`` (its ``scale`` pair), ``shear`` (x-shear,
    degrees) and ``tx`` / ``ty`` (its ``translation``, normalized units);
    :func:`explorer_values` reads them back.

    Example:
        >>> explorer_theta(scale_x=2.0, scale_y=2.0).tolist()
        [[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]
    """
    return theta_lib.affine_theta(angle=angle, scale=(scale_x, scale_y), shear=shear,
                                  translation=(tx, ty))


def explorer_values(th: torch.Tensor) -> dict[str, float] | None:
    """The slider values of ``th`` (a 2×3 θ), the inverse of :func:`explorer_theta`.

    :func:`stnlib.theta.decompose_affine` with the sliders' flat names.

    Returns:
        ``{"angle", "scale_x", "scale_y", "shear", "tx", "ty"}`` (floats), or ``None`` when no
        slider setting gives θ (a mirror or a singular θ: det ≤ 0).

    Example:
        >>> values = explorer_values(explorer_theta(angle=30.0, shear=10.0, tx=0.5))
        >>> {k: round(v, 4) + 0.0 for k, v in values.items()}   # + 0.0: no -0.0
        {'angle': 30.0, 'scale_x': 1.0, 'scale_y': 1.0, 'shear': 10.0, 'tx': 0.5, 'ty': 0.0}
    """
    th = check_affine(th).double()
    if float(torch.linalg.det(th[:, :2])) < 1e-9:
        return None
    parts = theta_lib.decompose_affine(th)
    (sx, sy), (tx, ty) = parts["scale"].tolist(), parts["translation"].tolist()
    return {"angle": float(parts["angle"]), "scale_x": sx, "scale_y": sy, "shear": float(parts["shear"]),
            "tx": tx, "ty": ty}


def theta_figure(image=None, th: torch.Tensor | None = None, *, out_size=None,
                 align_corners: bool = False, kernel: str = "bilinear", padding_mode: str = "zeros",
                 step: int = 8, **params):
    """The θ explorer's picture as a static figure (default: the explorer's start values).

    Args:
        image: input image (see :func:`as_image`); default :func:`default_image`.
        th: a 2×3 θ; if ``None``, built from ``params`` (names as
            :data:`EXPLORER_DEFAULTS`, missing ones take the defaults).
        out_size: (H', W') of the output; default the input size.
        align_corners, kernel, padding_mode: the sampler's options.
        step: draw every ``step``-th grid line.
    Returns:
        a matplotlib ``Figure``: the grid over the input, the output, θ in the title.
    """
    U = default_image() if image is None else as_image(image)
    if th is None:
        unknown = set(params) - set(EXPLORER_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown explorer parameter(s) {sorted(unknown)}; "
                            f"known: {', '.join(EXPLORER_DEFAULTS)}")
        th = explorer_theta(**{**EXPLORER_DEFAULTS, **params})
    th = check_affine(th)
    out_size = tuple(U.shape[-2:]) if out_size is None else _validate.size(out_size, "out_size", 2)
    grid = grids.affine_grid(th[None].to(U.dtype), out_size, align_corners=align_corners)
    title = "θ = " + "  ".join("[" + ", ".join(f"{v:.2f}" for v in row) + "]"
                               for row in th.tolist())
    return plot_warp(U, grid, align_corners=align_corners, kernel=kernel,
                     padding_mode=padding_mode, title=title, step=step)


def tps_figure(image=None, displacements: torch.Tensor | None = None, *, n: int = 3,
               out_size=None, align_corners: bool = False, kernel: str = "bilinear",
               padding_mode: str = "zeros", step: int = 8):
    """The TPS explorer's picture as a static figure (default: its start displacements).

    Args:
        image: input image (see :func:`as_image`); default :func:`default_image`.
        displacements: K×2 (K = n²) normalized moves of the control points.
        n: control points per side.
        out_size: (H', W') of the output; default the input size.
        align_corners, kernel, padding_mode: the sampler's options.
        step: draw every ``step``-th grid line.
    Returns:
        a matplotlib ``Figure``: the bent grid and control points over the input, and the output.
    """
    U = default_image() if image is None else as_image(image)
    cps = grids.regular_control_points(n)
    if displacements is None:
        displacements = tps_defaults(n)
    displacements = torch.as_tensor(displacements, dtype=torch.float32).reshape(-1, 2)
    if displacements.shape[0] != cps.shape[0]:
        raise ValueError(f"displacements must be K×2 with K = n² = {cps.shape[0]}, "
                         f"got {tuple(displacements.shape)}")
    out_size = tuple(U.shape[-2:]) if out_size is None else _validate.size(out_size, "out_size", 2)
    grid = grids.tps_grid(displacements[None], cps, out_size, align_corners=align_corners)
    fig = plot_warp(U, grid, align_corners=align_corners, kernel=kernel, padding_mode=padding_mode,
                    title=f"thin-plate spline, {cps.shape[0]} control points", step=step)
    draw_control_points(fig.axes[0], cps, displacements, U.shape[-2:], align_corners)
    return fig


def tps_defaults(n: int) -> torch.Tensor:
    """The TPS explorer's start displacements, K×2 (K = ``n``²): the centre point pulled right and down."""
    d = torch.zeros(n * n, 2)
    centre = (n * n) // 2
    d[centre] = torch.tensor([0.3, 0.2])  # pull the middle control point
    return d


def draw_control_points(ax, cps, displacements, in_size, align_corners, selected=None):
    """Draw TPS control points p_k (white rings) and where they sample, p_k + Δ_k (red dots).

    Args:
        ax: the matplotlib axis showing the input.
        cps: p, K×2 normalized (x, y).
        displacements: Δ, K×2 normalized.
        in_size: the input's (H, W) in pixels; the axis is set to its extent.
        align_corners: as the warp's, to place the points in pixels.
        selected: k, the point to mark with a cyan square (None: none).
    """
    H, W = in_size
    src = cps + displacements
    for pts, style in ((cps, dict(marker="o", mfc="none", mec="white", ms=6)),
                       (src, dict(marker="o", color="red", ms=4))):
        x = unnormalize(pts[:, 0], W, align_corners=align_corners).numpy()
        y = unnormalize(pts[:, 1], H, align_corners=align_corners).numpy()
        ax.plot(x, y, ls="none", **style)
    if selected is not None:
        x = unnormalize(src[selected, 0], W, align_corners=align_corners).item()
        y = unnormalize(src[selected, 1], H, align_corners=align_corners).item()
        ax.plot([x], [y], marker="s", mfc="none", mec="cyan", ms=10, mew=1.5)
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)


def check_affine(th) -> torch.Tensor:
    """The finite 2×3 float32 θ of ``th`` (2×3 or 1×2×3, tensor or nested lists); else a ValueError."""
    th = torch.as_tensor(th, dtype=torch.float32)
    if th.dim() == 3 and th.shape[0] == 1:
        th = th[0]
    if th.shape != (2, 3):
        raise ValueError(f"θ must be a 2×3 affine matrix, got shape {tuple(th.shape)}")
    _validate.finite(th, "θ")
    return th




# --------------------------------------------------------------------------- rows of images


def show_images(rows: Sequence[torch.Tensor] | torch.Tensor, titles: Sequence[str] | None = None, *,
                size: float = 0.9, pad: int = 2, ax=None):
    """Rows of images, one row per N×C×H×W tensor in [0, 1] (``torchvision.utils.make_grid``).

    Args:
        rows: one tensor (one row) or a list of them (images of a row share a size).
        titles: a title per row, written above it.
        size: inches per image.
        pad: pixels between images.
        ax: draw on these axes (one per row); ``None`` makes a new figure.

    Returns the matplotlib ``Figure``.
    """
    from torchvision.utils import make_grid

    rows = [rows] if isinstance(rows, torch.Tensor) else list(rows)
    if not rows:
        raise ValueError("rows must hold at least one N×C×H×W tensor")
    for i, r in enumerate(rows):
        _validate.tensor(r, f"rows[{i}]", ndim=4, layout="N×C×H×W")
    if titles is not None and len(titles) != len(rows):
        raise ValueError(f"titles has {len(titles)} entries for {len(rows)} rows")
    n = max(len(r) for r in rows)
    if ax is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(len(rows), 1, figsize=(size * n, 1.25 * size * len(rows)),
                                 squeeze=False)
        axes = axes[:, 0]
    else:
        axes = np.atleast_1d(ax)
        fig = axes[0].figure
    for i, (a, images) in enumerate(zip(axes, rows)):
        images = images.detach().float().cpu().clamp(0, 1)
        if len(images) < n:  # blank slots keep every row the same width
            images = torch.cat([images, images.new_ones(n - len(images), *images.shape[1:])])
        grid = make_grid(images, nrow=n, padding=pad, pad_value=1.0)
        draw_image(a, grid, titles[i] if titles is not None else None)
        a.set_axis_off()
    return fig


def draw_outline(ax, grid: torch.Tensor, in_size, *, align_corners: bool, color: str = "yellow",
                 lw: float = 1.0) -> None:
    """Draw only the outline of a sampling grid (its border rows and columns) over an input.

    ``grid``: 1×H'×W'×2 or H'×W'×2, normalized; ``in_size``: (H, W) of the input; ``ax``: the
    axis showing the input; ``align_corners``: the warp's; ``color`` and ``lw``: the outline's
    colour and width in points.
    """
    H, W = _validate.size(in_size, "in_size", 2)
    g = grid.detach().float().cpu()
    if g.dim() == 4:
        g = g[0]
    border = torch.cat([g[0, :], g[:, -1], g[-1, :].flip(0), g[:, 0].flip(0)])
    x = unnormalize(border[:, 0], W, align_corners=align_corners)
    y = unnormalize(border[:, 1], H, align_corners=align_corners)
    ax.plot(x.numpy(), y.numpy(), "-", color=color, lw=lw)


#: the outline colours of the windows of :func:`plot_transformer_windows`, transformer 1, 2, …
WINDOW_COLORS = ("yellow", "cyan", "magenta", "lime", "orange", "white")


@torch.no_grad()
def plot_transformer_windows(models, images: torch.Tensor, *, size: float = 0.8, margin: float = 8.0):
    """Where each of a model's parallel transformers looks, and what it outputs (Wang 2018, Figure 8).

    For every model one block of 1 + K rows, one column per image: the input with the outline
    of each transformer's sampling grid (its *window*; transformer 1 yellow, 2 cyan, …,
    :data:`WINDOW_COLORS`), then transformer 1's output, …, transformer K's.

    Args:
        models: title → a model with ``transformed(x) -> (V, θ)`` and a ``transformer``
            (:class:`~stnlib.transformer.SpatialTransformer`) with K = ``n_transformers``
            parallel transformers (K = 1 too; not ``per_channel``), e.g.
            :func:`stnlib.models.addition.two_digit_model` (K = 2).
        images: N×C×H×W inputs in [0, 1], the same for every model (C = 1 or 3).
        size: inches per image.
        margin: input pixels shown around each input, so that a window reaching outside it
            stays visible.
    Returns:
        the matplotlib ``Figure`` (pyplot's, so a notebook shows it): (1 + K)·len(models) × N
        axes, each model's title over its first row, rows of outputs labelled ``ST k``.

    Example:
        >>> import torch
        >>> from stnlib.models.addition import two_digit_model
        >>> fig = plot_transformer_windows({"left-right": two_digit_model("left-right")},
        ...                                torch.rand(3, 1, 28, 56))
        >>> len(fig.axes), fig.axes[0].get_title(loc="left")     # 3 rows (input, ST 1, ST 2) × 3
        (9, 'left-right')
    """
    import matplotlib.pyplot as plt

    _validate.tensor(images, "images", ndim=4, layout="N×C×H×W")
    if not models:
        raise ValueError("models must map at least one title to a model")
    N, C, H, W = images.shape
    blocks = []
    for title, model in models.items():
        st = getattr(model, "transformer", None)
        if not hasattr(model, "transformed") or st is None:
            raise TypeError(f"models[{title!r}] must have transformed(x) -> (V, θ) and a transformer, "
                            f"got {type(model).__name__}")
        if st.per_channel:
            raise ValueError(f"models[{title!r}] has one θ per channel (per_channel=True): its windows "
                             "are per channel, not per transformer; draw them with draw_outline")
        V, theta = model.transformed(images)
        K = st.n_transformers
        thetas = theta if K > 1 else theta[:, None]
        blocks.append((title, st, K, V, thetas))
    rows = sum(1 + K for _, _, K, _, _ in blocks)
    fig, axes = plt.subplots(rows, N, squeeze=False, figsize=(size * W / H * N, size * 1.15 * rows))
    r = 0
    for title, st, K, V, thetas in blocks:
        out_size = tuple(V.shape[-2:])
        for j in range(N):
            ax = axes[r, j]
            draw_image(ax, images[j:j + 1])
            for k in range(K):
                grid = st.generator(thetas[j:j + 1, k].to(images), out_size, align_corners=st.align_corners)
                draw_outline(ax, grid, (H, W), align_corners=st.align_corners,
                             color=WINDOW_COLORS[k % len(WINDOW_COLORS)])
            ax.set_xlim(-margin, W - 1 + margin)
            ax.set_ylim(H - 1 + margin, -margin)
            for k in range(K):
                draw_image(axes[r + 1 + k, j], V[j:j + 1, k * C:(k + 1) * C].clamp(0, 1))
        axes[r, 0].set_title(title, fontsize=10, loc="left")
        for k in range(K):
            axes[r + 1 + k, 0].set_ylabel(f"ST {k + 1}", fontsize=10)
        r += 1 + K
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout(pad=0.2)
    return fig


# --------------------------------------------------------------------------- θ statistics


def plot_theta_history(history: Sequence[dict], keys: Sequence[str] = ("scale_mean",), *, ax=None,
                       label: str | None = None):
    """The θ statistics over training steps, as logged by :func:`stnlib.train.theta_monitor`.

    ``history``: the monitor's rows (each with ``step``); ``keys``: the statistics to draw
    (see :func:`stnlib.diagnostics.theta_stats`); ``ax``: the axis to draw on (``None``: a new
    figure); ``label``: the legend entry (with several ``keys``, ``"label: key"``; ``None``: the
    key).

    Returns the axis drawn on.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(4, 2.6))
    steps = [r["step"] for r in history]
    for key in keys:
        missing = [r for r in history if key not in r]
        if missing:
            raise KeyError(f"the θ history has no {key!r}; it has {', '.join(history[0])}")
        ax.plot(steps, [r[key] for r in history],
                label=key if label is None else (label if len(keys) == 1 else f"{label}: {key}"))
    ax.set_xlabel("training step")
    return ax
