"""θ statistics and collapse detection, for logging during training.

A spatial transformer can fail silently: the localization net drifts to a θ
that zooms far out (the digit becomes a dot), far in, flips the image, or
points the sampling grid outside the input so the output is blank (the
"completely black" outputs of Possatti & de Freitas, §V-B). :func:`theta_stats` summarizes a
batch of θ in numbers a student can read, and :class:`CollapseDetector`
turns them into a clear stop message for a training loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from . import _validate
from .grids import attention_theta, make_grid_generator, projective_matrix


class ThetaCollapseError(RuntimeError):
    """Raised by :class:`CollapseDetector` when θ has degenerated for too many steps."""


def linear_part(theta: torch.Tensor, transform: str) -> torch.Tensor | None:
    """The 2×2 linear part of θ (N×2×2) for affine / attention / projective; ``None`` otherwise.

    Args:
        theta: θ as the transformer returns it (affine N×2×3, attention N×3, projective N×8 or
            N×3×3; parallel copies are flattened into N).
        transform: ``"affine"``, ``"attention"``, ``"projective"`` (others give ``None``).
    """
    if transform == "affine":
        return theta[..., :2, :2]
    if transform == "attention":
        return attention_theta(theta.reshape(-1, 3))[..., :2, :2]
    if transform == "projective":
        M = projective_matrix(theta.reshape(-1, 3, 3) if theta.dim() > 2 else theta)
        return M[..., :2, :2] / M[..., 2:, 2:]
    return None


def outside_fraction(theta: torch.Tensor, out_size, *, align_corners: bool,
                     transform: str = "affine") -> torch.Tensor:
    """The fraction of each output's pixels that the sampler reads from outside the input.

    The collapse statistic of lesson 04: a spatial transformer whose sampling
    grid has left the input hands its classifier nothing but padding (a
    black or constant image), and since padding has no gradient, θ cannot
    find its way back.

    Convention: θ maps output coordinates to input coordinates in normalized
    [-1, 1] space; the input covers [-1, 1] × [-1, 1] (to its pixels' outer
    edges with ``align_corners=False``, to their centres with ``True``). An
    output pixel is *outside* when its sampling position has |x| > 1 **or**
    |y| > 1 (a position on the edge, |x| = 1, is inside); each pixel counts
    once.

    Args:
        theta: N×2×3 affine θ (or the parameters of ``transform``: attention N×3,
            projective N×3×3, tps N×K×2).
        out_size: (H', W') of the output grid (or one int for a square).
        align_corners: the transformer's convention (required).
        transform: the transform θ is for.
    Returns:
        N fractions in [0, 1].

    Example::

        >>> th = torch.tensor([[[2.0, 0, 0], [0, 2.0, 0]]])   # zoom out 2×: reads twice the input's extent
        >>> outside_fraction(th, (8, 8), align_corners=False)
        tensor([0.7500])
    """
    _validate.tensor(theta, "theta")
    _validate.flag(align_corners, "align_corners")
    size = _validate.size(out_size, "out_size", 2)
    generator = make_grid_generator(transform)
    grid = generator(theta.detach(), size, align_corners=align_corners)
    return (grid.abs() > 1).any(dim=-1).flatten(1).float().mean(dim=1)


def theta_stats(theta: torch.Tensor, transform: str = "affine", *, grid: torch.Tensor | None = None,
                output: torch.Tensor | None = None, blank_tol: float = 1e-3,
                out_size=None, align_corners: bool = False) -> dict[str, float]:
    """Summary statistics of a batch of θ (and optionally its grid and output).

    Args:
        theta: as :class:`~stnlib.transformer.SpatialTransformer` returns it.
        transform: its transform name.
        grid: the sampling grid (N×H'×W'×2 or N×L'); adds ``outside``, the
            fraction of output pixels whose sampling position lies outside
            [-1, 1] (a pixel counts once, whether x, y or both are outside).
        out_size: instead of ``grid``, the output size (H', W'): ``outside``
            is then computed from θ (:func:`outside_fraction`, with
            ``align_corners``).
        output: the transformer's output V; adds ``blank``, the fraction of
            outputs whose values span less than ``blank_tol`` (near-constant images).
    Returns a dict of floats: for affine-like transforms ``det_mean``,
    ``det_min``, ``det_max`` (determinant of θ's linear part; ≤ 0 is a flip or
    collapse), ``scale_mean`` (√|det|: > 1 means the transformer zooms *out*),
    ``translation_mean`` (|t|); for TPS ``displacement_mean``; for time warps
    ``scale_mean`` and ``shift_mean``; then ``outside`` (with ``grid`` or
    ``out_size``) and ``blank`` (with ``output``) if asked.
    """
    _validate.tensor(theta, "theta")
    theta = theta.detach()
    stats: dict[str, float] = {}
    A = linear_part(theta, transform)
    if A is not None:
        det = torch.linalg.det(A.reshape(-1, 2, 2).double())
        stats.update(det_mean=det.mean().item(), det_min=det.min().item(), det_max=det.max().item(),
                     scale_mean=det.abs().sqrt().mean().item())
        if transform == "affine":
            t = theta[..., :2, 2]
        elif transform == "attention":
            t = theta.reshape(-1, 3)[:, 1:]
        else:
            t = projective_matrix(theta.reshape(-1, 3, 3) if theta.dim() > 2 else theta)[..., :2, 2]
        stats["translation_mean"] = t.reshape(-1, 2).norm(dim=-1).mean().item()
    elif transform == "tps":
        stats["displacement_mean"] = theta.reshape(-1, 2).norm(dim=-1).mean().item()
    elif transform == "timewarp":
        flat = theta.reshape(-1, theta.shape[-1])
        stats.update(scale_mean=flat[:, 0].abs().mean().item(), shift_mean=flat[:, 1].abs().mean().item())
    else:
        _validate.choice(transform, "transform", ("affine", "attention", "projective", "tps", "timewarp"))
    if grid is not None:
        out = grid.detach().abs() > 1
        if out.dim() == 4:  # N×H'×W'×2: a pixel is outside when x or y is
            out = out.any(dim=-1)
        stats["outside"] = out.float().mean().item()
    elif out_size is not None and transform in ("affine", "attention", "projective", "tps"):
        stats["outside"] = outside_fraction(theta, out_size, align_corners=align_corners,
                                            transform=transform).mean().item()
    if output is not None:
        flat = output.detach().reshape(output.shape[0], -1)
        span = flat.max(dim=1).values - flat.min(dim=1).values
        stats["blank"] = (span < blank_tol).float().mean().item()
    return stats


@dataclass
class CollapseDetector:
    """Flag θ that has degenerated for ``patience`` consecutive checks.

    A batch is *degenerate* when any limit is crossed: ``scale_mean`` (√|det|
    of θ's linear part) above ``max_scale`` (the transformer zooms out so far
    the object vanishes) or below ``min_scale`` (it zooms into a few pixels),
    ``det_min`` ≤ 0 when ``allow_flip`` is False, ``outside`` above
    ``max_outside``, ``blank`` above ``max_blank``, or any non-finite value.

    The limits, ``patience`` and ``allow_flip`` are the constructor's arguments;
    ``bad_steps`` counts the consecutive degenerate checks so far and ``history`` keeps every
    checked ``stats`` dict (both start empty). Use::

        detector = CollapseDetector()
        stats = theta_stats(theta, "affine", grid=grid, output=V)
        detector.update(stats)        # raises ThetaCollapseError after `patience` bad steps
    """

    max_scale: float = 4.0
    min_scale: float = 0.05
    max_outside: float = 0.9
    max_blank: float = 0.9
    allow_flip: bool = True
    patience: int = 20
    bad_steps: int = 0
    history: list = field(default_factory=list)

    def problems(self, stats: dict[str, float]) -> list[str]:
        """The limits this batch's statistics cross, as readable sentences (empty if healthy)."""
        out = []
        for key, value in stats.items():
            if not math.isfinite(value):
                out.append(f"{key} is {value} (θ diverged)")
        s = stats.get("scale_mean")
        if s is not None and s > self.max_scale:
            out.append(f"mean scale √|det θ| = {s:.3g} > {self.max_scale}: the transformer zooms out "
                       "so far that the object shrinks to a few pixels")
        if s is not None and s < self.min_scale:
            out.append(f"mean scale √|det θ| = {s:.3g} < {self.min_scale}: the transformer zooms "
                       "into a tiny patch")
        if not self.allow_flip and stats.get("det_min", 1.0) <= 0:
            out.append(f"det θ reaches {stats['det_min']:.3g} ≤ 0: some θ flip or squash the image")
        if stats.get("outside", 0.0) > self.max_outside:
            out.append(f"{100 * stats['outside']:.0f}% of the sampling grid lies outside the input")
        if stats.get("blank", 0.0) > self.max_blank:
            out.append(f"{100 * stats['blank']:.0f}% of the transformer's outputs are blank")
        return out

    def update(self, stats: dict[str, float]) -> list[str]:
        """Record one batch; raise :class:`ThetaCollapseError` after ``patience`` bad batches in a row.

        Returns this batch's problems (empty when healthy).
        """
        problems = self.problems(stats)
        self.history.append(stats)
        self.bad_steps = self.bad_steps + 1 if problems else 0
        if problems and self.bad_steps >= self.patience:
            raise ThetaCollapseError(
                f"the spatial transformer collapsed ({self.bad_steps} bad batches in a row): "
                + "; ".join(problems)
                + ". Try identity initialization of the localization head (zero weights, the "
                "identity as bias), a bounded θ, or a lower learning rate for the localization "
                "net; pad with the background value or normalize after the warp (see lesson 04)."
            )
        return problems
