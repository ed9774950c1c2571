import pytest
import torch

from stnlib import grids
from stnlib.course import checking as checks
from stnlib.lessons import l00_stn_in_ten_minutes as L00


def test_compare_tensors_names_shape_dtype_and_the_worst_index():
    e = torch.zeros(2, 4, 6)
    checks.compare_tensors(e + 1e-9, e)
    with pytest.raises(checks.CheckError, match=r"has shape \(4, 6\), expected \(2, 4, 6\) "
                                                r"\(the batch axis N is missing\)"):
        checks.compare_tensors(e[0], e)
    with pytest.raises(checks.CheckError, match="a reshape or transpose"):
        checks.compare_tensors(e.reshape(2, 6, 4), e)
    with pytest.raises(checks.CheckError, match="dtype torch.int64"):
        checks.compare_tensors(e.long(), e)
    with pytest.raises(checks.CheckError, match="must be a torch.Tensor, got list"):
        checks.compare_tensors([0.0], e)
    a = e.clone()
    a[0, 3, 5] = 0.25
    a[1, 0, 0] = 0.1
    with pytest.raises(checks.CheckError) as err:
        checks.compare_tensors(a, e, name="output")
    assert str(err.value) == ("output value at index (0, 3, 5) is 0.25, expected 0 "
                              "(2 of 48 entries differ; largest difference 0.25)")
    a[1, 1, 1] = float("nan")
    with pytest.raises(checks.CheckError, match=r"index \(1, 1, 1\) is nan"):
        checks.compare_tensors(a, e)


def right_theta(params):
    s, tx, ty = params.unbind(-1)
    z = torch.zeros_like(s)
    return torch.stack([torch.stack([s, z, tx], -1), torch.stack([z, s, ty], -1)], -2)


def test_check_attention_theta_accepts_right_and_explains_wrong(capsys):
    assert L00.check_attention_theta(right_theta)
    assert "✓ attention_theta is correct" in capsys.readouterr().out

    def swapped(params):
        return right_theta(params[:, [0, 2, 1]])

    with pytest.raises(checks.CheckError, match=r"case 'zoom in and shift'.*value at index "
                                                r"\(0, 0, 2\) is -0.5, expected 0.25"):
        L00.check_attention_theta(swapped)

    def detached(params):
        return right_theta(params.detach())

    with pytest.raises(checks.CheckError, match="no gradient flows"):
        L00.check_attention_theta(detached)

    def unbatched(params):
        return right_theta(params)[0]

    with pytest.raises(checks.CheckError, match="batch axis N is missing"):
        L00.check_attention_theta(unbatched)


def test_not_implemented_is_reported_without_raising(capsys):
    def todo(params):
        raise NotImplementedError("Exercise")

    assert L00.check_attention_theta(todo) is False
    assert "not implemented yet" in capsys.readouterr().out


def test_other_errors_are_wrapped_with_the_case():
    def crash(params):
        return params @ torch.zeros(5, 5)

    with pytest.raises(checks.CheckError, match="case 'identity'.*your function raised "
                                                "RuntimeError"):
        L00.check_attention_theta(crash)


def test_check_warp_catches_a_gradient_mismatch(capsys):
    def right(U, theta, out_size):
        return L00.warp_reference(U, theta, out_size)

    assert L00.check_warp(right)

    def detached_input(U, theta, out_size):
        return L00.warp_reference(U.detach(), theta, out_size)

    with pytest.raises(checks.CheckError, match="no gradient reaches 'U'"):
        L00.check_warp(detached_input)

    def nearest(U, theta, out_size):
        from stnlib import sampler

        grid = grids.affine_grid(theta, out_size, align_corners=False)
        return sampler.sample(U, grid, kernel="nearest", padding_mode="zeros",
                              align_corners=False)

    with pytest.raises(checks.CheckError, match=r"case 'zoom in, 6×8 output'.*output value at "
                                                r"index \(1, 0, 3, 0\) is 0.895259, expected"):
        L00.check_warp(nearest)

    def wrong_gradient(U, theta, out_size):  # right values, θ's gradient 1.5×
        theta = theta + (0.5 * theta - 0.5 * theta.detach())
        return L00.warp_reference(U, theta, out_size)

    with pytest.raises(checks.CheckError, match=r"case 'identity, same size'.*gradient of the "
                                                r"output w.r.t. 'theta' value at index \(1, 1, 0\) "
                                                r"is -107.109, expected -71.4063"):
        L00.check_warp(wrong_gradient)
