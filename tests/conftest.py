"""Shared fixtures: a real photograph, seeds, and helpers to build sampling grids."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def camera() -> torch.Tensor:
    """scikit-image's bundled 'camera' photograph, 1×1×128×128, float64 in [0, 1]."""
    from skimage import data

    img = torch.from_numpy(data.camera()[::4, ::4].copy()).double() / 255
    return img[None, None]
