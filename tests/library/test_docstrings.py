"""The runnable examples in the library's docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["stnlib.kernels", "stnlib.sampler", "stnlib.grids", "stnlib.theta", "stnlib.localization",
           "stnlib.transformer", "stnlib.decoder", "stnlib.metrics", "stnlib.device",
           "stnlib.models.classifier", "stnlib.models.mnist", "stnlib.models.addition", "stnlib.models.unet",
           "stnlib.course.budgets"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
    assert result.attempted > 0, f"{name} has no docstring example"
