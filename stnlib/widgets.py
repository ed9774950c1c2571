r"""Interactive explorers for θ and thin-plate splines, and their static figures.

Lesson 02 lets a student *move* θ and watch both the sampling grid T_θ(G)
drawn over the input U and the warped output V change:

* :class:`ThetaExplorer` (:func:`theta_explorer`): sliders for rotation,
  scale x / y, shear and translation x / y, and a second tab with the six raw
  entries of θ; a kernel and padding choice; the θ matrix printed; one PNG
  image with the grid on the input beside the output.
* :class:`TPSExplorer` (:func:`tps_explorer`): pick a control point of a
  thin-plate spline and move it; the grid bends around it.
* :func:`stnlib.plot.theta_figure`, :func:`stnlib.plot.tps_figure`: the same
  pictures as plain matplotlib figures, so a notebook rendered without a
  kernel (GitHub, nbviewer, a PDF) still shows what the explorer shows at its
  default values. The explorers draw through :mod:`stnlib.plot`.

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

import torch

try:
    import ipywidgets as w
except ImportError as err:  # the explorers need Jupyter's widgets; the rest of stnlib does not
    raise ImportError("stnlib.widgets needs ipywidgets, which `pip install stnlib` leaves out: "
                      "pip install \"stnlib[widgets]\" (or the whole course: "
                      "\"stnlib[course]\"); the same figures without widgets are "
                      "stnlib.plot.theta_figure and stnlib.plot.tps_figure") from err

from . import _validate, grids, sampler
from .kernels import KERNELS
from .plot import (
    EXPLORER_DEFAULTS,
    as_image,
    check_affine,
    default_image,
    draw_control_points,
    draw_grid,
    draw_image,
    explorer_theta,
    explorer_values,
    figure_png,
    format_theta,
    new_figure,
    tps_defaults,
)

#: the kernels the explorers offer
KERNEL_CHOICES = tuple(KERNELS)

#: the affine explorer's starting values (:data:`stnlib.plot.EXPLORER_DEFAULTS`)
THETA_DEFAULTS = EXPLORER_DEFAULTS

#: (label, min, max, step) of each affine slider; labels fit :data:`LABEL_WIDTH`
THETA_SLIDERS: dict[str, tuple[str, float, float, float]] = {
    "angle": ("rotation (°)", -180.0, 180.0, 1.0),
    "scale_x": ("scale x", 0.25, 3.0, 0.05),
    "scale_y": ("scale y", 0.25, 3.0, 0.05),
    "shear": ("shear x (°)", -60.0, 60.0, 1.0),
    "tx": ("shift x", -1.0, 1.0, 0.05),
    "ty": ("shift y", -1.0, 1.0, 0.05),
}
#: what each slider does, shown as its tooltip
THETA_TOOLTIPS: dict[str, str] = {
    "angle": "rotation of the picture in degrees, counter-clockwise on screen",
    "scale_x": "horizontal scale of the picture; > 1 zooms in",
    "scale_y": "vertical scale of the picture; > 1 zooms in",
    "shear": "x-shear angle of the picture in degrees",
    "tx": "shift of the picture to the right (normalized: 1 is half the width)",
    "ty": "shift of the picture down (normalized: 1 is half the height)",
}
#: the width of a slider's label: the longest label (12 characters) at about 0.6 em each
LABEL_WIDTH = "8em"
#: the tab titles (short: JupyterLab cuts a title at about 16 characters)
TAB_TITLES = ("parameters", "raw θ")

#: names of the six raw entries of θ, row by row
RAW_NAMES = ("θ11", "θ12", "θ13", "θ21", "θ22", "θ23")
RAW_RANGE = (-4.0, 4.0, 0.01)
#: what the explorer says when leaving the raw tab cannot keep the raw θ
RAW_DROPPED = ("this raw θ is no rotation · scale · shear · shift within the sliders' ranges "
               "(a mirror, or a value off a slider): back on the parameters tab, θ is the "
               "sliders' again and the raw edits are dropped")
RAW_KEPT = "the raw θ is kept: the sliders now show its rotation, scales, shear and shift"



# --------------------------------------------------------------------------- explorers


class _Explorer(w.VBox):
    """Shared parts of the explorers: the input, the options row, rendering to the image."""

    def _setup_common(self, image, out_size, align_corners, kernel, padding_mode, step, sampler,
                      dpi):
        self.input = default_image() if image is None else as_image(image)
        self.out_size = (tuple(self.input.shape[-2:]) if out_size is None
                         else _validate.size(out_size, "out_size", 2))
        self.step = step
        self.sampler = sampler
        self.dpi = dpi
        self.kernel = w.Dropdown(options=KERNEL_CHOICES, value=_validate.choice(
            kernel, "kernel", KERNEL_CHOICES), description="kernel",
            tooltip="the sampling kernel", style={"description_width": "5em"},
            layout=w.Layout(width="13em"))
        self.padding = w.Dropdown(options=_validate.PADDING_MODES, value=_validate.choice(
            padding_mode, "padding_mode", _validate.PADDING_MODES), description="padding",
            tooltip="what the sampler reads outside the input",
            style={"description_width": "5em"}, layout=w.Layout(width="14em"))
        self.align_corners = w.Checkbox(value=_validate.flag(align_corners, "align_corners"),
                                        description="align_corners", indent=False,
                                        tooltip="True: −1 and +1 are the centres of the corner "
                                        "pixels; False: their outer edges")
        # no tooltip on the Image and the Tab: JupyterLab's widget views for these two fail to
        # render with one ("Click to show javascript error"; tests/course/test_browser.py)
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
                                     sampler=self.sampler)
        return self.output

    def _render(self, title: str, extra=None) -> None:
        fig = new_figure((6.4, 3.4))
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


def _slider(description: str, lo: float, hi: float, step: float, value: float, name: str,
            tooltip: str | None = None, label_width: str = LABEL_WIDTH):
    s = w.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                      continuous_update=False, readout_format=".2f",
                      tooltip=tooltip or description,
                      style={"description_width": label_width}, layout=w.Layout(width="30em"))
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

    The constructor takes the arguments of :func:`theta_explorer` (``image``, ``out_size``,
    ``align_corners``, ``kernel``, ``padding_mode``, ``step``, ``sampler``, ``**params``) and
    ``dpi``, the figure's resolution in dots per inch.
    """

    def __init__(self, image=None, *, out_size=None, align_corners: bool = False,
                 kernel: str = "bilinear", padding_mode: str = "zeros", step: int = 8,
                 sampler: str = "native", dpi: int = 80, **params):
        super().__init__()
        unknown = set(params) - set(THETA_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown explorer parameter(s) {sorted(unknown)}; "
                            f"known: {', '.join(THETA_DEFAULTS)}")
        self._setup_common(image, out_size, align_corners, kernel, padding_mode, step, sampler,
                           dpi)
        start = {**THETA_DEFAULTS, **params}
        self.sliders = {name: _slider(label, lo, hi, st, float(start[name]), name,
                                      THETA_TOOLTIPS[name])
                        for name, (label, lo, hi, st) in THETA_SLIDERS.items()}
        lo, hi, st = RAW_RANGE
        self.raw = {name: _slider(name, lo, hi, st, 0.0, f"raw-{i}",
                                  f"entry {name[1]}, {name[2]} of θ (row {name[1]}, column "
                                  f"{name[2]})", label_width="3em")
                    for i, name in enumerate(RAW_NAMES)}
        for s in self.raw.values():
            s.layout = w.Layout(width="24em")
        self.tabs = w.Tab(children=[w.VBox(list(self.sliders.values())),
                                    w.VBox(list(self.raw.values()))])
        self.tabs.titles = TAB_TITLES
        #: what happened to the raw θ when the parameters tab was chosen again ("" before)
        self.notice = w.HTML()
        self.readout = w.HTML()
        self._syncing = False
        self.theta = explorer_theta(**{k: s.value for k, s in self.sliders.items()})
        for s in self.sliders.values():
            s.observe(self._on_params, names="value")
        for s in self.raw.values():
            s.observe(self._on_raw, names="value")
        self.tabs.observe(self._on_tab, names="selected_index")
        self.children = [self._options_row(), self.tabs, self.notice, self.readout, self.image]
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
        self.theta = explorer_theta(**{k: s.value for k, s in self.sliders.items()})
        self.update()

    def _on_raw(self, change=None):
        if self._syncing or self.source != "raw":
            return
        self.theta = torch.tensor([s.value for s in self.raw.values()]).view(2, 3)
        self.update()

    def _on_tab(self, change=None):
        if self._syncing:
            return
        if self.source == "params" and change is not None and change.get("old") == 1:
            self._leave_raw()
        elif self.source == "params":  # the named parameters define θ
            self.theta = explorer_theta(**{k: s.value for k, s in self.sliders.items()})
        self.update()

    def _leave_raw(self) -> None:
        """Back from the raw tab: keep the raw θ (sliders set from it) if the sliders can show it."""
        values = explorer_values(self.theta)
        ok = values is not None and all(
            THETA_SLIDERS[k][1] - 1e-9 <= v <= THETA_SLIDERS[k][2] + 1e-9 for k, v in values.items())
        if ok:
            with self._quiet():
                for k, v in values.items():
                    self.sliders[k].value = v
            back = explorer_theta(**{k: s.value for k, s in self.sliders.items()})
            ok = bool(torch.allclose(back, self.theta, atol=1e-4))
        if ok:
            self.notice.value = f"<i>{RAW_KEPT}</i>"
        else:
            self.notice.value = f"<b>{RAW_DROPPED}</b>"
        self.theta = explorer_theta(**{k: s.value for k, s in self.sliders.items()})

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
        th = check_affine(th)
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

    The constructor takes the arguments of :func:`tps_explorer` (``image``, ``n``, ``out_size``,
    ``align_corners``, ``kernel``, ``padding_mode``, ``step``, ``sampler``, ``displacements``)
    and ``dpi``, the figure's resolution in dots per inch.
    """

    def __init__(self, image=None, *, n: int = 3, out_size=None, align_corners: bool = False,
                 kernel: str = "bilinear", padding_mode: str = "zeros", step: int = 8,
                 sampler: str = "native", dpi: int = 80, displacements=None):
        super().__init__()
        self._setup_common(image, out_size, align_corners, kernel, padding_mode, step, sampler,
                           dpi)
        self._tps = grids.TPSGrid(n)  # caches the TPS basis per output size
        self.control_points = self._tps.control_points
        K = self.control_points.shape[0]
        self.displacements = (tps_defaults(n) if displacements is None else
                              torch.as_tensor(displacements, dtype=torch.float32)
                              .reshape(K, 2).clone())
        labels = [(f"{k}: ({x:+.2f}, {y:+.2f})", k)
                  for k, (x, y) in enumerate(self.control_points.tolist())]
        start = int(self.displacements.abs().sum(1).argmax())
        self.point = w.Dropdown(options=labels, value=start, description="point",
                                tooltip="the control point to move: its number and where it "
                                "sits (normalized x, y)", style={"description_width": "5em"},
                                layout=w.Layout(width="16em"))
        self.dx = _slider("move x", -0.75, 0.75, 0.05, float(self.displacements[start, 0]),
                          "tps-dx", "move the point's sampling position right (normalized)")
        self.dy = _slider("move y", -0.75, 0.75, 0.05, float(self.displacements[start, 1]),
                          "tps-dy", "move the point's sampling position down (normalized)")
        self.reset = w.Button(description="reset all points",
                              tooltip="put every control point back: the identity warp")
        self._syncing = False
        self.point.observe(self._on_point, names="value")
        self.dx.observe(self._on_move, names="value")
        self.dy.observe(self._on_move, names="value")
        self.reset.on_click(self._on_reset)
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
        grid = self._tps(self.displacements[None], self.out_size, align_corners=ac)
        self._sample(grid)
        k = self.point.value

        def extra(ax):
            draw_control_points(ax, self.control_points, self.displacements,
                                 self.input.shape[-2:], ac, selected=k)

        self._render(f"TPS: point {k} samples the input at p + Δ = "
                     f"({float(self.control_points[k, 0] + self.displacements[k, 0]):+.2f}, "
                     f"{float(self.control_points[k, 1] + self.displacements[k, 1]):+.2f})",
                     extra)



def theta_explorer(image=None, *, out_size=None, align_corners: bool = False,
                   kernel: str = "bilinear", padding_mode: str = "zeros", step: int = 8,
                   sampler: str = "native", **params):
    """The affine θ explorer (a ``ThetaExplorer``, itself an ``ipywidgets.VBox``).

    Args:
        image: the input picture (see :func:`as_image`); default: the camera man.
        out_size: (H', W') of the output; default the input size.
        align_corners, kernel, padding_mode: the sampler's starting options.
        step: draw every ``step``-th grid line.
        sampler: ``"native"`` (``grid_sample``) or ``"reference"`` sampler.
        **params: starting slider values (``angle``, ``scale_x``, ``scale_y``,
            ``shear`` in degrees, ``tx``, ``ty``); see :data:`THETA_DEFAULTS`.
    Returns:
        the explorer; show it by making it a cell's last expression.
    """
    return ThetaExplorer(image, out_size=out_size, align_corners=align_corners,
                                       kernel=kernel, padding_mode=padding_mode, step=step,
                                       sampler=sampler, **params)


def tps_explorer(image=None, *, n: int = 3, out_size=None, align_corners: bool = False,
                 kernel: str = "bilinear", padding_mode: str = "zeros", step: int = 8,
                 sampler: str = "native", displacements=None):
    """The thin-plate-spline explorer (a ``TPSExplorer``, an ``ipywidgets.VBox``).

    ``n``×``n`` control points on a regular grid; ``displacements`` (K×2)
    sets where they start (default: the centre point pulled right and down).

    Args:
        image: the input picture (see :func:`stnlib.plot.as_image`); default: the camera man.
        out_size: (H', W') of the output; default the input size.
        align_corners, kernel, padding_mode: the sampler's starting options.
        step: draw every ``step``-th grid line.
        sampler: ``"native"`` (``grid_sample``) or ``"reference"`` sampler.
    Returns:
        the explorer; show it by making it a cell's last expression.
    """
    return TPSExplorer(image, n=n, out_size=out_size, align_corners=align_corners,
                                     kernel=kernel, padding_mode=padding_mode, step=step,
                                     sampler=sampler, displacements=displacements)


__all__ = [
    "THETA_DEFAULTS", "THETA_SLIDERS", "RAW_NAMES", "KERNEL_CHOICES", "theta_explorer",
    "tps_explorer", "ThetaExplorer", "TPSExplorer",
]

