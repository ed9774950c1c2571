"""stnlib: the Spatial Transformer Network library of the stn-course.

The package follows the STN's own anatomy (Jaderberg et al. 2015, §3):

* :mod:`stnlib.kernels`      sampling kernels k(d) and their subgradients
* :mod:`stnlib.sampler`      the sampler (reference eq. 3 and native ``grid_sample``)
* :mod:`stnlib.grids`        grid generators (affine, attention, projective, TPS, 1-D)
* :mod:`stnlib.theta`        θ algebra: build, read back, invert, compose; pixel ↔ normalized
* :mod:`stnlib.localization` localization networks and identity initialization
* :mod:`stnlib.warping`      ``warp`` / ``warp_1d``: θ → grid → sampler, in one public call
* :mod:`stnlib.transformer`  ``SpatialTransformer`` (and the 1-D variant)
* :mod:`stnlib.decoder`      ``SpatialDecoder`` (Dense Transformer Networks)
* :mod:`stnlib.diagnostics`  θ statistics and collapse detection
* :mod:`stnlib.equivariance` does a feature map move with its input? (Finnveden et al.'s eq. 1 measured)

and around it what a model needs: :mod:`stnlib.models` (one classifier
family), :mod:`stnlib.data`, :mod:`stnlib.train` (one loop), :mod:`stnlib.recipe`
(how a model is trained), :mod:`stnlib.seeds` (several seeds at once),
:mod:`stnlib.metrics` (scores, and the 1-NN baselines of time series),
:mod:`stnlib.stats` (intervals and comparisons over seeds), :mod:`stnlib.timing`,
:mod:`stnlib.device`, :mod:`stnlib.plot` (every figure helper) and
:mod:`stnlib.widgets` (the interactive explorers). The course machinery (budgets, results, the
notebook runner, exercise checks) is :mod:`stnlib.course`; the lessons'
companion modules are :mod:`stnlib.lessons`. ``import stnlib`` loads neither.
"""

__version__ = "0.1.0"

from . import decoder, diagnostics, grids, kernels, localization, sampler, theta, transformer, warping
from .decoder import SpatialDecoder, scatter_decode
from .diagnostics import CollapseDetector, ThetaCollapseError, theta_stats
from .grids import (
    affine_grid,
    attention_grid,
    make_grid_generator,
    projective_grid,
    regular_control_points,
    timewarp_grid,
    tps_grid,
)
from .kernels import KERNELS, get_kernel
from .localization import LocalizationNet, init_identity
from .sampler import grid_sample_native, grid_sample_reference, sample, sample_1d
from .theta import affine_theta, compose, invert, theta_from_pixel_matrix
from .transformer import SpatialTransformer
from .warping import warp, warp_1d

__all__ = [
    "decoder", "diagnostics", "grids", "kernels", "localization", "sampler", "theta", "transformer",
    "warping", "warp", "warp_1d",
    "SpatialDecoder", "scatter_decode", "CollapseDetector", "ThetaCollapseError", "theta_stats",
    "affine_grid", "attention_grid", "make_grid_generator", "projective_grid",
    "regular_control_points", "timewarp_grid", "tps_grid", "KERNELS", "get_kernel",
    "LocalizationNet", "init_identity", "grid_sample_native",
    "grid_sample_reference", "sample", "sample_1d", "affine_theta", "compose", "invert",
    "theta_from_pixel_matrix", "SpatialTransformer",
]
