r"""Interactive explorers for θ and thin-plate splines, and their static figures.

Lesson 02 lets a student *move* θ and watch both the sampling grid T_θ(G)
drawn over the input U and the warped output V change:

* :class:`ThetaExplorer` (:func:`theta_explorer`): sliders for rotation,
  scale x / y, shear and translation x / y, and a second tab with the six raw
  entries of θ; a kernel and padding choice; the θ matrix printed; one PNG
  image with the grid on the input beside the output.
* :class:`TPSExplorer` (:func:`tps_explorer`): pick a control point of a
  thin-plate spline and move it; the grid bends around it.
* :func:`theta_figure`, :func:`tps_figure`, :func:`plot_warp`: the same
  pictures as plain matplotlib figures, so a notebook rendered without a
  kernel (GitHub, nbviewer, a PDF) still shows what the explorer shows at its
  default values.

Each explorer **is** its widget (an ``ipywidgets.VBox``): display it as the
last expression of a cell. Everything a test needs is an attribute, so the
explorers are driven without a browser::

    ex = theta_explorer()
    ex.sliders["angle"].value = 30      # what dragging the slider does
    ex.theta                            # 2×3 tensor, the θ now in effect
    ex.output                           # 1×C×H'×W' tensor, the warped image
    ex.image.value                      # the PNG bytes the browser shows

All sliders use ``continuous_update=False``: the picture is redrawn when a
slider is released (or moved with the arrow keys), not on every pixel of a
drag, which keeps the kernel responsive on a laptop.
"""

from __future__ import annotations

import contextlib
import io

import ipywidgets as w
import numpy as np
import torch

from . import _validate, grids, sampler
from . import theta as theta_lib

#: the affine explorer's starting values: visibly non-trivial, so the static
#: figure and the first picture already show a turned, zoomed grid
THETA_DEFAULTS: dict[str, float] = {
    "angle": 30.0, "scale_x": 1.25, "scale_y": 1.25, "shear": 0.0, "tx": 0.1, "ty": 0.0,
}

#: (label, min, max, step) of each affine slider
THETA_SLIDERS: dict[str, tuple[str, float, float, float]] = {
    "angle": ("rotation (°, counter-clockwise)", -180.0, 180.0, 1.0),
    "scale_x": ("scale x (> 1 zooms in)", 0.25, 3.0, 0.05),
    "scale_y": ("scale y (> 1 zooms in)", 0.25, 3.0, 0.05),
    "shear": ("shear x (°)", -60.0, 60.0, 1.0),
    "tx": ("translation x (+ right)", -1.0, 1.0, 0.05),
    "ty": ("translation y (+ down)", -1.0, 1.0, 0.05),
}

#: names of the six raw entries of θ, row by row
RAW_NAMES = ("θ11", "θ12", "θ13", "θ21", "θ22", "θ23")
RAW_RANGE = (-4.0, 4.0, 0.01)

KERNEL_NAMES = ("nearest", "bilinear", "bicubic")


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
    """Any common image format → a 1×C×H×W float32 tensor (C = 1 or 3).

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


def _to_numpy_image(V: torch.Tensor) -> np.ndarray:
    """1×C×H×W (or C×H×W) → H×W (grey) or H×W×3, clamped to [0, 1]."""
    V = V.detach().float().cpu()
    if V.dim() == 4:
        V = V[0]
    V = V.clamp(0, 1)
    return V[0].numpy() if V.shape[0] == 1 else V.permute(1, 2, 0).numpy()


# --------------------------------------------------------------------------- drawing


def draw_image(ax, V: torch.Tensor, title: str | None = None) -> None:
    """Show an image tensor (1×C×H×W or C×H×W) on a matplotlib axis, pixel centres at integers."""
    arr = _to_numpy_image(V)
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
    """
    H, W = _validate.size(in_size, "in_size", 2)
    g = grid.detach().float().cpu()
    if g.dim() == 4:
        g = g[0]
    px = sampler.unnormalize(g[..., 0], W, align_corners=align_corners).numpy()
    py = sampler.unnormalize(g[..., 1], H, align_corners=align_corners).numpy()
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
    ax.plot(px[0, 0], py[0, 0], "o", color=frame_color, ms=4)  # where the output's top-left comes from
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)


def plot_warp(U: torch.Tensor, grid: torch.Tensor, *, align_corners: bool, kernel: str = "bilinear",
              padding_mode: str = "zeros", title: str = "", step: int = 8, axes=None,
              method: str = "native"):
    """The grid drawn over the input beside the output it produces.

    Args:
        U: 1×C×H×W input.
        grid: 1×H'×W'×2 sampling grid (normalized).
        axes: two matplotlib axes to draw on; ``None`` makes a new figure.
    Returns:
        the matplotlib ``Figure`` (``axes[0].figure`` when axes are given).
    """
    V = sampler.sample(U, grid.to(U.dtype), align_corners=align_corners, kernel=kernel,
                       padding_mode=padding_mode, method=method)
    if axes is None:
        fig = _new_figure((6.4, 3.4))
        axes = fig.subplots(1, 2)
    fig = axes[0].figure
    draw_image(axes[0], U, "input U with the sampling grid T_θ(G)")
    draw_grid(axes[0], grid, U.shape[-2:], align_corners=align_corners, step=step)
    draw_image(axes[1], V, f"output V ({kernel})")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _new_figure(figsize):
    """A matplotlib Figure that does not go through pyplot (no global state, no double display)."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def figure_png(fig, dpi: int = 80) -> bytes:
    """Render a matplotlib figure to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def format_theta(th: torch.Tensor) -> str:
    """θ (2×3) as two aligned text rows, e.g. ``[ 0.866  0.500  0.000]``."""
    rows = th.detach().cpu().double().reshape(2, 3).tolist()
    return "\n".join("[" + "  ".join(f"{v:7.3f}" for v in row) + " ]" for row in rows)


# --------------------------------------------------------------------------- static figures


def params_theta(angle: float = 0.0, scale_x: float = 1.0, scale_y: float = 1.0, shear: float = 0.0,
                 tx: float = 0.0, ty: float = 0.0) -> torch.Tensor:
    """The explorer's slider values → θ (2×3), via :func:`stnlib.theta.affine_theta`."""
    return theta_lib.affine_theta(angle=angle, scale=(scale_x, scale_y), shear=shear,
                                  translation=(tx, ty))


def theta_figure(image=None, th: torch.Tensor | None = None, *, out_size=None,
                 align_corners: bool = False, kernel: str = "bilinear", padding_mode: str = "zeros",
                 step: int = 8, **params):
    """The θ explorer's picture as a static figure (default: the explorer's start values).

    Args:
        image: input image (see :func:`as_image`); default :func:`default_image`.
        th: a 2×3 θ; if ``None``, built from ``params`` (names as
            :data:`THETA_DEFAULTS`, missing ones take the defaults).
        out_size: (H', W') of the output; default the input size.
    Returns:
        a matplotlib ``Figure``: the grid over the input, the output, θ in the title.
    """
    U = default_image() if image is None else as_image(image)
    if th is None:
        unknown = set(params) - set(THETA_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown explorer parameter(s) {sorted(unknown)}; "
                            f"known: {', '.join(THETA_DEFAULTS)}")
        th = params_theta(**{**THETA_DEFAULTS, **params})
    th = _check_affine(th)
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

    ``displacements``: K×2 (K = n²) normalized moves of the control points.
    """
    U = default_image() if image is None else as_image(image)
    cps = grids.regular_control_points(n)
    if displacements is None:
        displacements = _tps_defaults(n)
    displacements = torch.as_tensor(displacements, dtype=torch.float32).reshape(-1, 2)
    if displacements.shape[0] != cps.shape[0]:
        raise ValueError(f"displacements must be K×2 with K = n² = {cps.shape[0]}, "
                         f"got {tuple(displacements.shape)}")
    out_size = tuple(U.shape[-2:]) if out_size is None else _validate.size(out_size, "out_size", 2)
    grid = grids.tps_grid(displacements[None], cps, out_size, align_corners=align_corners)
    fig = plot_warp(U, grid, align_corners=align_corners, kernel=kernel, padding_mode=padding_mode,
                    title=f"thin-plate spline, {cps.shape[0]} control points", step=step)
    _draw_control_points(fig.axes[0], cps, displacements, U.shape[-2:], align_corners)
    return fig


def _tps_defaults(n: int) -> torch.Tensor:
    d = torch.zeros(n * n, 2)
    centre = (n * n) // 2
    d[centre] = torch.tensor([0.3, 0.2])  # pull the middle control point
    return d


def _draw_control_points(ax, cps, displacements, in_size, align_corners, selected=None):
    H, W = in_size
    src = cps + displacements
    for pts, style in ((cps, dict(marker="o", mfc="none", mec="white", ms=6)),
                       (src, dict(marker="o", color="red", ms=4))):
        x = sampler.unnormalize(pts[:, 0], W, align_corners=align_corners).numpy()
        y = sampler.unnormalize(pts[:, 1], H, align_corners=align_corners).numpy()
        ax.plot(x, y, ls="none", **style)
    if selected is not None:
        x = sampler.unnormalize(src[selected, 0], W, align_corners=align_corners).item()
        y = sampler.unnormalize(src[selected, 1], H, align_corners=align_corners).item()
        ax.plot([x], [y], marker="s", mfc="none", mec="cyan", ms=10, mew=1.5)
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)


def _check_affine(th) -> torch.Tensor:
    th = torch.as_tensor(th, dtype=torch.float32)
    if th.dim() == 3 and th.shape[0] == 1:
        th = th[0]
    if th.shape != (2, 3):
        raise ValueError(f"θ must be a 2×3 affine matrix, got shape {tuple(th.shape)}")
    _validate.finite(th, "θ")
    return th


# --------------------------------------------------------------------------- explorers


class _Explorer(w.VBox):
    """Shared parts of the explorers: the input, the options row, rendering to the image."""

    def _setup_common(self, image, out_size, align_corners, kernel, padding_mode, step, method,
                      dpi):
        self.input = default_image() if image is None else as_image(image)
        self.out_size = (tuple(self.input.shape[-2:]) if out_size is None
                         else _validate.size(out_size, "out_size", 2))
        self.step = step
        self.method = method
        self.dpi = dpi
        self.kernel = w.Dropdown(options=KERNEL_NAMES, value=_validate.choice(
            kernel, "kernel", KERNEL_NAMES), description="kernel")
        self.padding = w.Dropdown(options=_validate.PADDING_MODES, value=_validate.choice(
            padding_mode, "padding_mode", _validate.PADDING_MODES), description="padding")
        self.align_corners = w.Checkbox(value=_validate.flag(align_corners, "align_corners"),
                                        description="align_corners", indent=False)
        self.image = w.Image(format="png")
        self.image.add_class("stn-explorer-image")
        for control in (self.kernel, self.padding, self.align_corners):
            control.observe(self._on_change, names="value")
        #: number of times the picture was redrawn (tests and the browser test read it)
        self.renders = 0
        self.grid: torch.Tensor | None = None
        self.output: torch.Tensor | None = None

    def __repr__(self) -> str:  # the text a notebook shows where no widget can be drawn
        return f"{type(self).__name__}: live in JupyterLab with a running kernel"

    @contextlib.contextmanager
    def _quiet(self):
        """Change widget values without triggering redraws (restores the previous state)."""
        before = getattr(self, "_syncing", False)
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = before

    def _options_row(self):
        return w.HBox([self.kernel, self.padding, self.align_corners])

    def _on_change(self, change=None):
        self.update()

    def _sample(self, grid: torch.Tensor) -> torch.Tensor:
        self.grid = grid
        self.output = sampler.sample(self.input, grid, align_corners=self.align_corners.value,
                                     kernel=self.kernel.value, padding_mode=self.padding.value,
                                     method=self.method)
        return self.output

    def _render(self, title: str, extra=None) -> None:
        fig = _new_figure((6.4, 3.4))
        axes = fig.subplots(1, 2)
        draw_image(axes[0], self.input, "input U with the sampling grid T_θ(G)")
        draw_grid(axes[0], self.grid, self.input.shape[-2:], align_corners=self.align_corners.value,
                  step=self.step)
        if extra is not None:
            extra(axes[0])
        draw_image(axes[1], self.output, f"output V ({self.kernel.value}, {self.padding.value})")
        fig.suptitle(title, fontsize=10)
        self.image.value = figure_png(fig, dpi=self.dpi)
        self.renders += 1


def _slider(description: str, lo: float, hi: float, step: float, value: float, name: str):
    s = w.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                      continuous_update=False, readout_format=".2f",
                      style={"description_width": "14em"}, layout=w.Layout(width="32em"))
    s.add_class(f"stn-slider-{name}")
    return s


class ThetaExplorer(_Explorer):
    """The affine θ explorer (lesson 02): sliders → θ → grid over the input, and the output.

    Attributes (all public, for use from code and tests):
        sliders: dict ``angle, scale_x, scale_y, shear, tx, ty`` → ``FloatSlider``.
        raw: dict ``θ11 … θ23`` → ``FloatSlider``, the six entries of θ.
        tabs: ``Tab`` (0: the named parameters, 1: raw θ); the selected tab
            decides where θ comes from. The raw sliders always show the θ in effect.
        kernel, padding, align_corners: the sampler's options.
        theta: the 2×3 θ in effect (a tensor; read-only view of the state).
        grid: 1×H'×W'×2 sampling grid; output: 1×C×H'×W' warped image.
        image: the ``ipywidgets.Image`` with the picture (PNG); renders: redraw count.
    """

    def __init__(self, image=None, *, out_size=None, align_corners: bool = False,
                 kernel: str = "bilinear", padding_mode: str = "zeros", step: int = 8,
                 method: str = "native", dpi: int = 80, **params):
        super().__init__()
        unknown = set(params) - set(THETA_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown explorer parameter(s) {sorted(unknown)}; "
                            f"known: {', '.join(THETA_DEFAULTS)}")
        self._setup_common(image, out_size, align_corners, kernel, padding_mode, step, method,
                           dpi)
        start = {**THETA_DEFAULTS, **params}
        self.sliders = {name: _slider(label, lo, hi, st, float(start[name]), name)
                        for name, (label, lo, hi, st) in THETA_SLIDERS.items()}
        lo, hi, st = RAW_RANGE
        self.raw = {name: _slider(name, lo, hi, st, 0.0, f"raw-{i}")
                    for i, name in enumerate(RAW_NAMES)}
        for s in self.raw.values():
            s.style = {"description_width": "3em"}
            s.layout = w.Layout(width="24em")
        self.tabs = w.Tab(children=[w.VBox(list(self.sliders.values())),
                                    w.VBox(list(self.raw.values()))])
        self.tabs.set_title(0, "rotation · scale · shear · shift")
        self.tabs.set_title(1, "raw θ (6 entries)")
        self.readout = w.HTML()
        self._syncing = False
        self.theta = params_theta(**{k: s.value for k, s in self.sliders.items()})
        for s in self.sliders.values():
            s.observe(self._on_params, names="value")
        for s in self.raw.values():
            s.observe(self._on_raw, names="value")
        self.tabs.observe(self._on_tab, names="selected_index")
        self.children = [self._options_row(), self.tabs, self.readout, self.image]
        self.add_class("stn-theta-explorer")
        self.update()

    # -- state changes ------------------------------------------------------------
    @property
    def source(self) -> str:
        """``"params"`` or ``"raw"``: which tab θ currently comes from."""
        return "raw" if self.tabs.selected_index == 1 else "params"

    def _on_params(self, change=None):
        if self._syncing or self.source != "params":
            return
        self.theta = params_theta(**{k: s.value for k, s in self.sliders.items()})
        self.update()

    def _on_raw(self, change=None):
        if self._syncing or self.source != "raw":
            return
        self.theta = torch.tensor([s.value for s in self.raw.values()]).view(2, 3)
        self.update()

    def _on_tab(self, change=None):
        if self._syncing:
            return
        if self.source == "params":  # back to the named parameters: they define θ again
            self.theta = params_theta(**{k: s.value for k, s in self.sliders.items()})
        self.update()

    def set_params(self, **values) -> None:
        """Set several named sliders at once and redraw once (names as :data:`THETA_DEFAULTS`)."""
        unknown = set(values) - set(self.sliders)
        if unknown:
            raise TypeError(f"unknown slider(s) {sorted(unknown)}; known: {', '.join(self.sliders)}")
        with self._quiet():
            for k, v in values.items():
                self.sliders[k].value = float(v)
            self.tabs.selected_index = 0
        self._on_tab()

    def set_theta(self, th) -> None:
        """Switch to the raw tab and set all six entries of θ (a 2×3 matrix)."""
        th = _check_affine(th)
        with self._quiet():
            self.tabs.selected_index = 1
            for s, v in zip(self.raw.values(), th.reshape(-1).tolist()):
                s.value = v
        self._on_raw()

    def update(self) -> None:
        """Recompute grid and output from the current θ and redraw the picture."""
        with self._quiet():
            if self.source == "params":
                for s, v in zip(self.raw.values(), self.theta.reshape(-1).tolist()):
                    s.value = v
        grid = grids.affine_grid(self.theta[None].to(self.input.dtype), self.out_size,
                                 align_corners=self.align_corners.value)
        self._sample(grid)
        self.readout.value = ("<pre style='margin:0'>θ = " +
                              format_theta(self.theta).replace("\n", "\n    ") + "</pre>")
        self._render(f"θ from {'the sliders' if self.source == 'params' else 'raw entries'}")

class TPSExplorer(_Explorer):
    """Move the control points of a thin-plate spline and watch the grid bend (lesson 02).

    Attributes:
        control_points: K×2 normalized positions p_k (an n×n regular grid).
        displacements: K×2 tensor Δ; output point p_k samples the input at p_k + Δ_k.
        point: ``Dropdown`` choosing k; dx, dy: ``FloatSlider`` moving point k.
        reset: ``Button`` putting every point back (the identity warp).
        kernel, padding, align_corners, grid, output, image, renders: as :class:`ThetaExplorer`.
    """

    def __init__(self, image=None, *, n: int = 3, out_size=None, align_corners: bool = False,
                 kernel: str = "bilinear", padding_mode: str = "zeros", step: int = 8,
                 method: str = "native", dpi: int = 80, displacements=None):
        super().__init__()
        self._setup_common(image, out_size, align_corners, kernel, padding_mode, step, method,
                           dpi)
        self.control_points = grids.regular_control_points(n)
        K = self.control_points.shape[0]
        self.displacements = (_tps_defaults(n) if displacements is None else
                              torch.as_tensor(displacements, dtype=torch.float32)
                              .reshape(K, 2).clone())
        labels = [(f"{k}: ({x:+.2f}, {y:+.2f})", k)
                  for k, (x, y) in enumerate(self.control_points.tolist())]
        start = int(self.displacements.abs().sum(1).argmax())
        self.point = w.Dropdown(options=labels, value=start, description="control point")
        self.dx = _slider("move x (normalized)", -0.75, 0.75, 0.05,
                          float(self.displacements[start, 0]), "tps-dx")
        self.dy = _slider("move y (normalized)", -0.75, 0.75, 0.05,
                          float(self.displacements[start, 1]), "tps-dy")
        self.reset = w.Button(description="reset all points")
        self._syncing = False
        self.point.observe(self._on_point, names="value")
        self.dx.observe(self._on_move, names="value")
        self.dy.observe(self._on_move, names="value")
        self.reset.on_click(self._on_reset)
        self._cache = {}
        self.children = [self._options_row(), w.HBox([self.point, self.reset]), self.dx,
                         self.dy, self.image]
        self.add_class("stn-tps-explorer")
        self.update()

    def _on_point(self, change=None):
        if self._syncing:
            return
        k = self.point.value
        with self._quiet():
            self.dx.value = float(self.displacements[k, 0])
            self.dy.value = float(self.displacements[k, 1])
        self.update()

    def _on_move(self, change=None):
        if self._syncing:
            return
        self.displacements[self.point.value] = torch.tensor([self.dx.value, self.dy.value])
        self.update()

    def _on_reset(self, button=None):
        self.displacements.zero_()
        self._on_point()

    def move(self, k: int, dx: float, dy: float) -> None:
        """Give control point ``k`` the displacement (dx, dy) (normalized), as the widgets would."""
        with self._quiet():
            self.point.value = int(k)
            self.dx.value, self.dy.value = float(dx), float(dy)
        self._on_move()

    def update(self) -> None:
        """Recompute the TPS grid and the output, redraw the picture."""
        ac = self.align_corners.value
        if ac not in self._cache:
            G = grids.base_grid(self.out_size, align_corners=ac)
            self._cache[ac] = (G, grids.tps_weights(self.control_points, G.reshape(-1, 2)))
        G, M = self._cache[ac]
        grid = (G + (M @ self.displacements).view(*self.out_size, 2))[None]
        self._sample(grid)
        k = self.point.value

        def extra(ax):
            _draw_control_points(ax, self.control_points, self.displacements,
                                 self.input.shape[-2:], ac, selected=k)

        self._render(f"TPS: point {k} samples the input at p + Δ = "
                     f"({float(self.control_points[k, 0] + self.displacements[k, 0]):+.2f}, "
                     f"{float(self.control_points[k, 1] + self.displacements[k, 1]):+.2f})",
                     extra)



def theta_explorer(image=None, *, out_size=None, align_corners: bool = False,
                   kernel: str = "bilinear", padding_mode: str = "zeros", step: int = 8,
                   method: str = "native", **params):
    """The affine θ explorer (a ``ThetaExplorer``, itself an ``ipywidgets.VBox``).

    Args:
        image: the input picture (see :func:`as_image`); default: the camera man.
        out_size: (H', W') of the output; default the input size.
        align_corners, kernel, padding_mode: the sampler's starting options.
        step: draw every ``step``-th grid line.
        method: ``"native"`` (``grid_sample``) or ``"reference"`` sampler.
        **params: starting slider values (``angle``, ``scale_x``, ``scale_y``,
            ``shear`` in degrees, ``tx``, ``ty``); see :data:`THETA_DEFAULTS`.
    Returns:
        the explorer; show it by making it a cell's last expression.
    """
    return ThetaExplorer(image, out_size=out_size, align_corners=align_corners,
                                       kernel=kernel, padding_mode=padding_mode, step=step,
                                       method=method, **params)


def tps_explorer(image=None, *, n: int = 3, out_size=None, align_corners: bool = False,
                 kernel: str = "bilinear", padding_mode: str = "zeros", step: int = 8,
                 method: str = "native", displacements=None):
    """The thin-plate-spline explorer (a ``TPSExplorer``, an ``ipywidgets.VBox``).

    ``n``×``n`` control points on a regular grid; ``displacements`` (K×2)
    sets where they start (default: the centre point pulled right and down).
    """
    return TPSExplorer(image, n=n, out_size=out_size, align_corners=align_corners,
                                     kernel=kernel, padding_mode=padding_mode, step=step,
                                     method=method, displacements=displacements)


__all__ = [
    "THETA_DEFAULTS", "THETA_SLIDERS", "RAW_NAMES", "default_image", "as_image", "draw_image",
    "draw_grid", "plot_warp", "figure_png", "format_theta", "params_theta", "theta_figure",
    "tps_figure", "theta_explorer", "tps_explorer", "ThetaExplorer", "TPSExplorer",
]

