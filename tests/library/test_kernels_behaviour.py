"""Kernel taps on batched positions, and the error for an unknown kernel."""

import pytest
import torch

from stnlib.kernels import KERNELS, get_kernel


@pytest.mark.parametrize("name,offsets", [("nearest", [0]), ("bilinear", [0, 1]), ("bicubic", [-1, 0, 1, 2])])
def test_taps_of_a_batch_of_positions(name, offsets):
    x = torch.tensor([[0.2, 3.7, -1.5], [2.0, 5.5, 0.6]], dtype=torch.float64)  # N×P positions
    taps = KERNELS[name].taps(x)
    assert taps.shape == (2, 3, len(offsets)) and taps.dtype == torch.float64
    base = torch.round(x) if name == "nearest" else torch.floor(x)
    assert torch.equal(taps, base[..., None] + torch.tensor(offsets, dtype=torch.float64))


def test_taps_keep_a_half_precision_dtype():
    x = torch.tensor([1.25, 2.75], dtype=torch.bfloat16)
    assert KERNELS["bicubic"].taps(x).dtype == torch.bfloat16
    assert KERNELS["bicubic"].taps(x).tolist() == [[0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]]


def test_unknown_kernel_is_named_in_the_error():
    with pytest.raises(ValueError) as err:
        get_kernel("lanczos")
    assert str(err.value) == "unknown kernel 'lanczos'; expected one of 'nearest', 'bilinear', 'bicubic'"
