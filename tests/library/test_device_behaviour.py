"""stnlib.device: the automatic choice and the errors, with torch's CUDA and MPS checks faked."""

import re

import pytest
import torch

from stnlib import device as D


@pytest.fixture
def gpu(monkeypatch):
    """Set whether torch sees a CUDA GPU / MPS; STN_DEVICE unset."""
    monkeypatch.delenv("STN_DEVICE", raising=False)
    state = {"cuda": False, "mps": False}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: state["cuda"])
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: state["mps"])
    return state


def test_default_device_follows_the_gpu_and_the_environment(gpu, monkeypatch):
    assert D.DEVICE_ENV == "STN_DEVICE"
    assert D.default_device() == "cpu"
    gpu["cuda"] = True
    assert D.default_device() == "cuda"
    monkeypatch.setenv("STN_DEVICE", "  cpu \n")
    assert D.default_device() == "cpu"
    monkeypatch.setenv("STN_DEVICE", "cuda:1")
    gpu["cuda"] = False
    assert D.default_device() == "cuda:1"
    monkeypatch.setenv("STN_DEVICE", "   ")  # blank: automatic
    assert D.default_device() == "cpu"
    gpu["cuda"] = True
    assert D.default_device() == "cuda"


def test_resolve_device_automatic_choices(gpu, monkeypatch):
    for auto in (None, "", "auto"):
        assert D.resolve_device(auto) == torch.device("cpu")
    assert D.resolve_device() == torch.device("cpu")
    gpu["cuda"] = True
    for auto in (None, "", "auto"):
        assert D.resolve_device(auto) == torch.device("cuda")
    assert D.resolve_device("cuda:1") == torch.device("cuda", 1)
    monkeypatch.setenv("STN_DEVICE", "cpu")
    assert D.resolve_device("auto") == torch.device("cpu")
    assert isinstance(D.resolve_device("cpu"), torch.device)
    assert D.resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_resolve_device_unknown_names(gpu):
    with pytest.raises(ValueError, match=re.escape(
            "device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto', got 'gpu'")) as e:
        D.resolve_device("gpu")
    assert isinstance(e.value.__cause__, RuntimeError)
    with pytest.raises(ValueError, match=re.escape(
            "device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto', got [0]")) as e:
        D.resolve_device([0])
    assert isinstance(e.value.__cause__, TypeError)


def test_resolve_device_missing_cuda_and_mps(gpu, monkeypatch):
    with pytest.raises(ValueError, match=re.escape(
            "device 'cuda:0' was asked for, but PyTorch sees no CUDA GPU here; use device='cpu' "
            "(or leave DEVICE empty to choose automatically)")):
        D.resolve_device("cuda:0")
    monkeypatch.setenv("STN_DEVICE", "cuda")
    with pytest.raises(ValueError, match=re.escape("device 'cuda' was asked for, but PyTorch sees no CUDA")):
        D.resolve_device("auto")
    with pytest.raises(ValueError, match=re.escape(
            "device 'mps' was asked for, but MPS is not available here")):
        D.resolve_device("mps")
    gpu["mps"] = True
    assert D.resolve_device("mps") == torch.device("mps")
    gpu["cuda"] = True  # CUDA present does not make MPS available, nor the reverse
    gpu["mps"] = False
    with pytest.raises(ValueError, match="MPS is not available"):
        D.resolve_device("mps")
    assert D.resolve_device("cuda") == torch.device("cuda")
