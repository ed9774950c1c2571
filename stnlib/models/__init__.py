"""The models: one family, :class:`Classifier` (an optional spatial transformer, then a body).

* :mod:`stnlib.models.classifier`: :class:`Classifier`, the bodies :class:`CNN`
  and :class:`FCN`, :func:`count_parameters`.
* :mod:`stnlib.models.mnist`: the MNIST presets: lesson 00's :func:`cnn` /
  :func:`st_cnn`, Table 1's :func:`build_model` (Jaderberg et al. 2015,
  §4.1), the PyTorch tutorial's :func:`tutorial_net`.
"""

from .classifier import CNN, FCN, LOC_PREFIX, Classifier, count_parameters
from .mnist import build_model, cnn, model_names, parameter_table, st_cnn, tutorial_net

__all__ = ["Classifier", "CNN", "FCN", "LOC_PREFIX", "count_parameters", "cnn", "st_cnn",
           "build_model", "model_names", "parameter_table", "tutorial_net"]
