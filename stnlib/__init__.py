"""stnlib: the Spatial Transformer Network library of the stn-course.

The package follows the STN's own anatomy (Jaderberg et al. 2015):

* :mod:`stnlib.kernels`      sampling kernels k(d) and their subgradients
* :mod:`stnlib.sampler`      the sampler (reference eq. 3 and native ``grid_sample``)
* :mod:`stnlib.grids`        grid generators (affine, attention, projective, TPS, 1-D)
* :mod:`stnlib.theta`        θ algebra and pixel ↔ normalized conversions
* :mod:`stnlib.localization` localization networks and identity initialization
* :mod:`stnlib.transformer`  ``SpatialTransformer`` (and the 1-D variant)
* :mod:`stnlib.decoder`      ``SpatialDecoder`` (Dense Transformer Networks)
* :mod:`stnlib.diagnostics`  θ statistics and collapse detection
"""

__version__ = "0.1.0"
