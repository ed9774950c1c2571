"""stnlib._validate, the argument checks every public function shares (issue 25, mutation run of
2026-12-05): what each check lets through and returns, and every message word for word (the name, the
expectation, the layout, what came), including the finiteness check under one and two levels of
``torch.vmap``."""

import re

import pytest
import torch

from stnlib import _validate as V


def _raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def test_padding_modes():
    assert V.PADDING_MODES == ("zeros", "border", "reflection")


# ---------------------------------------------------------------- tensor


def test_tensor_returns_what_passes():
    x = torch.rand(2, 3)
    assert V.tensor(x, "x") is x
    assert V.tensor(x, "x", ndim=2) is x
    assert V.tensor(x, "x", ndim=(1, 2), layout="N×F") is x
    i = torch.ones(2, 3, dtype=torch.int64)
    assert V.tensor(i, "i", ndim=2, floating=False) is i
    assert V.tensor(torch.rand(1, 1, 1, 1, 1), "any") is not None  # no rank asked for
    assert V.tensor(torch.rand(3, dtype=torch.float64), "d", ndim=1) is not None


def test_tensor_messages():
    with _raises(TypeError, "U must be a torch.Tensor N×C×H×W, got list"):
        V.tensor([1.0], "U", ndim=4, layout="N×C×H×W")
    with _raises(TypeError, "U must be a torch.Tensor, got float"):
        V.tensor(1.0, "U")
    with _raises(ValueError, "U must be a 4-D tensor N×C×H×W, got shape (3, 28, 28)"):
        V.tensor(torch.rand(3, 28, 28), "U", ndim=4, layout="N×C×H×W")
    with _raises(ValueError, "theta must be a 2-D or 3-D tensor, got shape (1, 1, 3, 3)"):
        V.tensor(torch.rand(1, 1, 3, 3), "theta", ndim=(2, 3))
    with _raises(ValueError, "g must be a 1-D or 3-D or 5-D tensor (x), got shape (2, 2)"):
        V.tensor(torch.rand(2, 2), "g", ndim=(1, 3, 5), layout="(x)")
    with _raises(TypeError, "U must have a floating dtype (float32 or float64), got torch.uint8; "
                            "convert it with U.float()"):
        V.tensor(torch.ones(2, 2, dtype=torch.uint8), "U", ndim=2)
    with _raises(TypeError, "b must have a floating dtype (float32 or float64), got torch.bool; "
                            "convert it with b.float()"):
        V.tensor(torch.ones(2, dtype=torch.bool), "b")


# ---------------------------------------------------------------- finite


def test_finite_returns_what_passes_and_counts_what_does_not():
    x = torch.rand(2, 3)
    assert V.finite(x, "x") is x
    bad = torch.zeros(2, 3)
    bad[0, 1], bad[1, 2] = float("nan"), -float("inf")
    with _raises(ValueError, "theta must be finite, but 2 of its 6 entries are NaN or inf"):
        V.finite(bad, "theta")
    with _raises(ValueError, "p must be finite, but 1 of its 1 entries are NaN or inf"):
        V.finite(torch.tensor(float("inf")), "p")


def test_finite_under_vmap_reads_every_seeds_values():
    x = torch.rand(4, 2, 3)
    out = torch.vmap(lambda t: V.finite(t, "theta") * 2)(x)
    torch.testing.assert_close(out, x * 2)
    x[2, 1, 0] = float("nan")
    with _raises(ValueError, "theta must be finite, but 1 of its 24 entries are NaN or inf"):
        torch.vmap(lambda t: V.finite(t, "theta"))(x)
    # two levels of vmap: unwrapped twice
    y = torch.rand(3, 4, 2)
    torch.testing.assert_close(torch.vmap(torch.vmap(lambda t: V.finite(t, "y") + 1))(y), y + 1)
    y[1, 2, 0] = float("inf")
    y[0, 0, 1] = float("nan")
    with _raises(ValueError, "y must be finite, but 2 of its 24 entries are NaN or inf"):
        torch.vmap(torch.vmap(lambda t: V.finite(t, "y")))(y)


# ---------------------------------------------------------------- same_batch


def test_same_batch():
    assert V.same_batch(torch.rand(3, 1), "a", torch.rand(3, 5, 5), "b") is None
    with _raises(ValueError, "batch size mismatch: U has 2 items (shape (2, 1, 4, 4)) but theta has 3 "
                             "(shape (3, 2, 3))"):
        V.same_batch(torch.rand(2, 1, 4, 4), "U", torch.rand(3, 2, 3), "theta")


# ---------------------------------------------------------------- choice and flag


def test_choice():
    assert V.choice("border", "padding_mode", V.PADDING_MODES) == "border"
    assert V.choice("b", "x", ["a", "b"]) == "b"
    with _raises(ValueError, "unknown padding_mode 'wrap'; expected one of 'zeros', 'border', 'reflection'"):
        V.choice("wrap", "padding_mode", V.PADDING_MODES)
    with _raises(ValueError, "unknown kernel None; expected one of 'a'"):
        V.choice(None, "kernel", ("a",))


@pytest.mark.parametrize("value", [True, False])
def test_flag_passes_bools(value):
    assert V.flag(value, "align_corners") is value


@pytest.mark.parametrize("value", [None, 1, 0, "yes", 1.0])
def test_flag_rejects_everything_else(value):
    with _raises(TypeError, f"align_corners must be True or False (pass it explicitly), got {value!r}"):
        V.flag(value, "align_corners")


# ---------------------------------------------------------------- size


def test_size_forms():
    assert V.size(5, "out_size", 2) == (5, 5)
    assert V.size(1, "out_size", 3) == (1, 1, 1)
    assert V.size([3, 4], "out_size", 2) == (3, 4)
    out = V.size(torch.Size([6, 2]), "out_size", 2)
    assert out == (6, 2) and type(out) is tuple
    out = V.size([7], "length", 1)
    assert out == (7,) and type(out) is tuple


@pytest.mark.parametrize("value,n", [((3,), 2), ((3, 4, 5), 2), (True, 1), ((True, 2), 2), ((2.0, 3), 2),
                                     ("ab", 2), (None, 1), (2.5, 1), ({1, 2}, 2), ((1, 2), 1)])
def test_size_type_errors(value, n):
    with _raises(TypeError, f"out_size must be an int or a sequence of {n} ints, got {value!r}"):
        V.size(value, "out_size", n)


@pytest.mark.parametrize("value,n,shown", [(0, 2, (0, 0)), ((3, 0), 2, (3, 0)), ([-1, 4], 2, (-1, 4)),
                                           (-2, 1, (-2,))])
def test_size_must_be_positive(value, n, shown):
    with _raises(ValueError, f"out_size must be positive, got {shown}"):
        V.size(value, "out_size", n)


def test_layout_suffix():
    assert V._layout("") == ""
    assert V._layout("N×C") == " N×C"
