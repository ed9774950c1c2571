"""The warp contract: every warp operation of the library meets the same checks.

One contract (:class:`WarpContract`) checks a warp operation ``op(U, θ, out_size, ...)``:

* parity with ``torch.nn.functional.affine_grid`` + ``grid_sample`` for a non-identity θ,
  every kernel, padding mode, ``align_corners`` and sampler, with an output size unlike the
  input's;
* padding shows in the output (a zoom out by 2 reads zeros / the edge / the mirror image,
  values predicted by hand);
* the identity θ returns U exactly, and a shift by whole pixels undone by its inverse returns U
  where no padding came in;
* ``torch.autograd.gradcheck`` in float64 with respect to U and θ;
* a batch gives what its samples give one at a time;
* float32 / float64 and the device are kept (CUDA: ``-m gpu``, skipped without a GPU);
* bad shapes give errors that name the argument.

It runs for :func:`stnlib.warp`, :func:`stnlib.warp_1d` and
:meth:`stnlib.transformer.SpatialTransformer.warp` (images and time series). The last tests
check that every model's accessor ``transformed(x)`` returns the V and θ its forward uses.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from stnlib import warp, warp_1d
from stnlib.grids import regular_control_points
from stnlib.theta import invert
from stnlib.transformer import SpatialTransformer

KERNELS = ("nearest", "bilinear", "bicubic")
PADDINGS = ("zeros", "border", "reflection")
SAMPLERS = ("native", "reference")
IMAGE_TRANSFORMS = ("affine", "attention", "projective", "tps")
TPS_POINTS = 3

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


# --------------------------------------------------------------------------------------
# θ in each transform's own shape, with the affine map it equals (the reference's input)
# --------------------------------------------------------------------------------------

def _affine_from(a, b, c, d, e, f) -> torch.Tensor:
    return torch.stack([torch.stack([a, b, c], -1), torch.stack([d, e, f], -1)], -2)


def as_transform(transform: str, affine: torch.Tensor) -> torch.Tensor:
    """The θ of ``transform`` that maps like ``affine`` (N×2×3); for ``"timewarp"``, ``affine``'s
    x row [s, 0, t]. Attention needs an isotropic scale without rotation; TPS reproduces any
    affine map exactly (displacements A p + b − p of its control points p)."""
    if transform == "affine":
        return affine
    if transform == "attention":
        return affine[:, :, [0, 2]].reshape(-1, 4)[:, [0, 1, 3]]  # s, tx, ty
    if transform == "projective":
        last = torch.tensor([0.0, 0.0, 1.0], dtype=affine.dtype, device=affine.device)
        return torch.cat([affine, last.expand(len(affine), 1, 3)], 1)
    if transform == "tps":
        p = regular_control_points(TPS_POINTS, dtype=affine.dtype, device=affine.device)
        return p @ affine[:, :, :2].transpose(1, 2) + affine[:, None, :, 2] - p
    if transform == "timewarp":
        return affine[:, 0, [0, 2]]
    raise ValueError(transform)


def moved_affine(transform: str, N: int, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """A non-identity affine map per sample that ``transform`` can express (N×2×3); generic
    numbers, so no sample position lands on a pixel or a tie."""
    k = torch.arange(N, dtype=dtype, device=device)
    zero, one = torch.zeros_like(k), torch.ones_like(k)
    if transform in ("attention", "timewarp"):
        s, tx, ty = 1.23 - 0.0713 * k, 0.113 - 0.0437 * k, -0.071 + 0.0331 * k
        if transform == "timewarp":
            return _affine_from(s, zero, tx, zero, one, zero)
        return _affine_from(s, zero, tx, zero, s, ty)
    a, sx, sy = 0.31 + 0.0517 * k, 1.17 - 0.0311 * k, 0.93 + 0.0213 * k
    tx, ty = 0.113 - 0.0437 * k, -0.071 + 0.0331 * k
    return _affine_from(sx * torch.cos(a), -sy * torch.sin(a), tx, sx * torch.sin(a), sy * torch.cos(a), ty)


def scaled_shifted(N: int, scale: float, tx: float, ty: float, dtype=torch.float64, device="cpu"):
    """[[scale, 0, tx], [0, scale, ty]] for every sample (N×2×3); 1-D: the x row."""
    th = torch.tensor([[scale, 0.0, tx], [0.0, scale, ty]], dtype=dtype, device=device)
    return th.expand(N, 2, 3).clone()


def reference(U: torch.Tensor, affine: torch.Tensor, out_size, *, kernel, padding_mode,
              align_corners) -> torch.Tensor:
    """PyTorch's own warp: ``grid_sample(U, affine_grid(θ))``. N×C×L series are N×C×1×L images
    read along the row y = 0 at s·x + t (x as affine_grid spaces it; θ's x row is [s, 0, t])."""
    if U.dim() == 4:
        grid = F.affine_grid(affine, (U.shape[0], U.shape[1], *out_size), align_corners=align_corners)
        return F.grid_sample(U, grid, mode=kernel, padding_mode=padding_mode, align_corners=align_corners)
    (L,) = out_size
    x = torch.linspace(-1, 1, L, dtype=U.dtype, device=U.device) * (1 if align_corners else (L - 1) / L)
    pos = affine[:, 0, :1] * x + affine[:, 0, 2:]  # N×L'
    grid = torch.stack([pos, torch.zeros_like(pos)], -1)[:, None]  # N×1×L'×2
    V = F.grid_sample(U[:, :, None], grid, mode=kernel, padding_mode=padding_mode,
                      align_corners=align_corners)
    return V[:, :, 0]


# --------------------------------------------------------------------------------------
# The contract
# --------------------------------------------------------------------------------------

class WarpContract:
    """The checks every warp operation must pass. A subclass sets ``ndim`` (2: images, 1: series)
    and ``transforms``, and implements ``op(U, theta, out_size, *, transform, kernel,
    padding_mode, align_corners, sampler)``."""

    ndim = 2
    transforms: tuple[str, ...] = IMAGE_TRANSFORMS

    def op(self, U, theta, out_size, *, transform, kernel="bilinear", padding_mode="zeros",
           align_corners, sampler="native"):
        raise NotImplementedError  # abstract

    # sizes: in and out differ, odd and even
    def in_size(self):
        return (6, 9) if self.ndim == 2 else (9,)

    def out_size(self):
        return (7, 5) if self.ndim == 2 else (7,)

    def data(self, N=3, C=2, size=None, dtype=torch.float64, device="cpu"):
        g = torch.Generator().manual_seed(0)
        return torch.rand(N, C, *(size or self.in_size()), generator=g, dtype=dtype).to(device)

    @pytest.mark.parametrize("sampler", SAMPLERS)
    @pytest.mark.parametrize("align_corners", [False, True])
    @pytest.mark.parametrize("padding_mode", PADDINGS)
    @pytest.mark.parametrize("kernel", KERNELS)
    def test_parity_with_grid_sample(self, kernel, padding_mode, align_corners, sampler):
        U = self.data()
        for transform in self.transforms:
            affine = moved_affine(transform, len(U))
            V = self.op(U, as_transform(transform, affine), self.out_size(), transform=transform,
                        kernel=kernel, padding_mode=padding_mode, align_corners=align_corners,
                        sampler=sampler)
            expected = reference(U, affine, self.out_size(), kernel=kernel, padding_mode=padding_mode,
                                 align_corners=align_corners)
            assert V.shape == expected.shape
            torch.testing.assert_close(V, expected, rtol=0, atol=1e-10, msg=transform)

    @pytest.mark.parametrize("sampler", SAMPLERS)
    def test_padding_shows_in_the_output(self, sampler):
        # U = 1 + x + 10 y (pixel units): bilinear reproduces it exactly inside. A zoom out by 2
        # (align_corners=False, 8 pixels a side) sends the first output pixel (normalized
        # −0.875) to −1.75, pixel −3.5: zeros reads 0, border the edge pixel (value 1),
        # reflection mirrors about the outer edge −0.5 to pixel 2.5 (value 1 + 2.5 + 25 = 28.5).
        n = 8
        i = torch.arange(n, dtype=torch.float64)
        U = (1 + i + 10 * i[:, None])[None, None] if self.ndim == 2 else (1 + i)[None, None]
        expected = {"zeros": 0.0, "border": 1.0, "reflection": 28.5 if self.ndim == 2 else 3.5}
        for transform in self.transforms:
            theta = as_transform(transform, scaled_shifted(1, 2.0, 0.0, 0.0))
            corners = {}
            for padding_mode in PADDINGS:
                V = self.op(U, theta, U.shape[2:], transform=transform, padding_mode=padding_mode,
                            align_corners=False, sampler=sampler)
                corners[padding_mode] = V[(0, 0) + (0,) * self.ndim].item()
                # the centre reads inside the input, whatever the padding: U at the middle
                centre = V[0, 0, 3:5, 3:5].mean() if self.ndim == 2 else V[0, 0, 3:5].mean()
                assert centre.item() == pytest.approx(U.mean().item(), abs=1e-12)
            assert corners == pytest.approx(expected, abs=1e-12), transform

    @pytest.mark.parametrize("align_corners", [False, True])
    @pytest.mark.parametrize("padding_mode", PADDINGS)
    @pytest.mark.parametrize("kernel", KERNELS)
    def test_identity_returns_the_input(self, kernel, padding_mode, align_corners):
        U = self.data()
        for transform in self.transforms:
            theta = as_transform(transform, scaled_shifted(len(U), 1.0, 0.0, 0.0))
            V = self.op(U, theta, None, transform=transform, kernel=kernel,
                        padding_mode=padding_mode, align_corners=align_corners)
            torch.testing.assert_close(V, U, rtol=0, atol=1e-12, msg=transform)

    @pytest.mark.parametrize("kernel", KERNELS)
    def test_whole_pixel_shift_and_its_inverse_round_trip(self, kernel):
        # 8 pixels a side, align_corners=False: one pixel is 0.25 normalized units. Reading 2
        # pixels to the right (and 1 down, 4 rows: 0.5) then shifting back returns U except
        # the first 2 columns (and the first row), where zeros came in.
        size = (4, 8) if self.ndim == 2 else (8,)
        U = self.data(size=size) + 1
        for transform in self.transforms:
            there = scaled_shifted(len(U), 1.0, 0.5, 0.5)
            back = invert(there)
            V = self.op(U, as_transform(transform, there), None, transform=transform, kernel=kernel,
                        align_corners=False)
            W = self.op(V, as_transform(transform, back), None, transform=transform, kernel=kernel,
                        align_corners=False)
            kept = (..., slice(1, None), slice(2, None)) if self.ndim == 2 else (..., slice(2, None))
            torch.testing.assert_close(W[kept], U[kept], rtol=0, atol=1e-12, msg=transform)
            assert W[..., :2].abs().max() < 1e-12

    @pytest.mark.parametrize("sampler", SAMPLERS)
    @pytest.mark.parametrize("padding_mode", PADDINGS)
    @pytest.mark.parametrize("kernel", KERNELS)
    def test_gradcheck_in_U_and_theta(self, kernel, padding_mode, sampler):
        size, out = ((4, 5), (3, 4)) if self.ndim == 2 else ((6,), (5,))
        U = self.data(N=2, C=2, size=size).requires_grad_()
        for transform in self.transforms:
            theta = as_transform(transform, moved_affine(transform, 2)).detach().requires_grad_()

            def fn(U, theta, transform=transform):
                return self.op(U, theta, out, transform=transform, kernel=kernel,
                               padding_mode=padding_mode, align_corners=False, sampler=sampler)

            assert torch.autograd.gradcheck(fn, (U, theta), eps=1e-6, atol=1e-6), transform

    @pytest.mark.parametrize("sampler", SAMPLERS)
    def test_batched_equals_one_at_a_time(self, sampler):
        U = self.data(N=4)
        for transform in self.transforms:
            theta = as_transform(transform, moved_affine(transform, 4))
            opts = dict(transform=transform, kernel="bicubic", padding_mode="reflection",
                        align_corners=True, sampler=sampler)
            V = self.op(U, theta, self.out_size(), **opts)
            singles = torch.cat([self.op(U[i:i + 1], theta[i:i + 1], self.out_size(), **opts)
                                 for i in range(4)])
            torch.testing.assert_close(V, singles, rtol=0, atol=1e-12, msg=transform)
            assert not torch.allclose(V[0], V[1])  # the samples' θ differ, so do their outputs

    @pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
    def test_dtype_is_kept(self, dtype):
        U = self.data(dtype=dtype)
        for transform in self.transforms:
            affine = moved_affine(transform, len(U), dtype=dtype)
            V = self.op(U, as_transform(transform, affine), self.out_size(), transform=transform,
                        align_corners=False)
            assert V.dtype == dtype
            expected = reference(U.double(), affine.double(), self.out_size(), kernel="bilinear",
                                 padding_mode="zeros", align_corners=False)
            tol = 1e-5 if dtype == torch.float32 else 1e-10
            torch.testing.assert_close(V.double(), expected, rtol=0, atol=tol)

    @pytest.mark.gpu
    @cuda
    @pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
    def test_device_is_kept(self, dtype):
        U = self.data(dtype=dtype)
        for transform in self.transforms:
            theta = as_transform(transform, moved_affine(transform, len(U), dtype=dtype))
            V_cpu = self.op(U, theta, self.out_size(), transform=transform, kernel="bicubic",
                            align_corners=False)
            V = self.op(U.cuda(), theta.cuda(), self.out_size(), transform=transform, kernel="bicubic",
                        align_corners=False)
            assert V.device.type == "cuda" and V.dtype == dtype
            torch.testing.assert_close(V.cpu(), V_cpu, rtol=0, atol=1e-5 if dtype == torch.float32 else 1e-10)

    def test_bad_shapes_give_clear_errors(self):
        U = self.data()
        for transform in self.transforms:
            theta = as_transform(transform, moved_affine(transform, len(U)))
            with pytest.raises(ValueError, match="U must be a"):
                self.op(U[0], theta, None, transform=transform, align_corners=False)  # no batch axis
            with pytest.raises(ValueError, match="theta"):
                self.op(U, theta[..., :-1], None, transform=transform, align_corners=False)  # one column short
            with pytest.raises(ValueError, match="theta"):
                self.op(U, theta[:2], None, transform=transform, align_corners=False)  # 2 θ for 3 inputs
            with pytest.raises(TypeError, match="theta"):
                self.op(U, theta.float(), None, transform=transform, align_corners=False)  # float32 θ, float64 U
            with pytest.raises(ValueError, match="theta must be finite"):
                self.op(U, theta * float("nan"), None, transform=transform, align_corners=False)
            with pytest.raises(TypeError, match="theta must be a torch.Tensor"):
                self.op(U, theta.tolist(), None, transform=transform, align_corners=False)


# --------------------------------------------------------------------------------------
# stnlib.warp and stnlib.warp_1d
# --------------------------------------------------------------------------------------

class TestWarp(WarpContract):
    def op(self, U, theta, out_size, *, transform, **kw):
        return warp(U, theta, out_size, transform=transform, tps_points=TPS_POINTS, **kw)

    def test_projective_with_perspective_matches_the_dehomogenized_grid(self):
        U = self.data()
        M = as_transform("projective", moved_affine("projective", 3)).clone()
        M[:, 2, :2] = torch.tensor([0.13, -0.21], dtype=torch.float64)  # g, h: a real homography
        V = warp(U, M, (7, 5), transform="projective", align_corners=True, padding_mode="border")
        base = F.affine_grid(torch.eye(2, 3, dtype=torch.float64).expand(3, 2, 3), (3, 2, 7, 5),
                             align_corners=True)
        h = torch.cat([base, torch.ones_like(base[..., :1])], -1) @ M[:, None].transpose(-1, -2)
        grid = h[..., :2] / h[..., 2:]
        expected = F.grid_sample(U, grid, padding_mode="border", align_corners=True)
        torch.testing.assert_close(V, expected, rtol=0, atol=1e-12)
        flat8 = M.reshape(3, 9)[:, :8]  # the N×8 form gives the same
        torch.testing.assert_close(warp(U, flat8, (7, 5), transform="projective", align_corners=True,
                                        padding_mode="border"), V, rtol=0, atol=0)

    def test_out_size_int_is_square(self):
        U = self.data()
        theta = moved_affine("affine", 3)
        torch.testing.assert_close(warp(U, theta, 4, align_corners=False),
                                   warp(U, theta, (4, 4), align_corners=False), rtol=0, atol=0)

    def test_tps_points_set_the_control_grid(self):
        U = self.data()
        zero16 = torch.zeros(3, 16, 2, dtype=torch.float64)
        torch.testing.assert_close(warp(U, zero16, transform="tps", align_corners=False), U,
                                   rtol=0, atol=1e-12)  # the default: 4 × 4
        with pytest.raises(ValueError, match=r"N×9×2"):
            warp(U, zero16, transform="tps", tps_points=3, align_corners=False)

    def test_option_errors(self):
        U, theta = self.data(), moved_affine("affine", 3)
        with pytest.raises(TypeError, match="align_corners"):
            warp(U, theta)
        with pytest.raises(TypeError, match="align_corners must be True or False"):
            warp(U, theta, align_corners=None)
        with pytest.raises(ValueError, match="unknown kernel"):
            warp(U, theta, align_corners=False, kernel="lanczos")
        with pytest.raises(ValueError, match="unknown padding_mode"):
            warp(U, theta, align_corners=False, padding_mode="constant")
        with pytest.raises(ValueError, match="unknown sampler"):
            warp(U, theta, align_corners=False, sampler="fast")
        with pytest.raises(ValueError, match="unknown transform"):
            warp(U, theta, align_corners=False, transform="similarity")
        with pytest.raises(ValueError, match="warp_1d"):
            warp(U, theta[:, 0, :2], align_corners=False, transform="timewarp")
        with pytest.raises(ValueError, match="out_size must be positive"):
            warp(U, theta, (0, 4), align_corners=False)
        with pytest.raises(ValueError, match=r"theta must be a 2-D tensor N×3 \(s, tx, ty\)"):
            warp(U, theta, align_corners=False, transform="attention")

    def test_theta_maps_output_to_input(self):
        # the Convention note: tx = +0.5 reads to the right, so the picture moves left
        U = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
        U[..., 2] = 1.0  # a vertical line in column 2
        V = warp(U, scaled_shifted(1, 1.0, 0.5, 0.0), align_corners=False)  # 0.5 = one pixel
        assert V[0, 0, :, 1].eq(1).all() and V.sum() == 4


class TestWarp1d(WarpContract):
    ndim = 1
    transforms = ("timewarp",)

    def op(self, U, theta, out_size, *, transform, **kw):
        assert transform == "timewarp"
        return warp_1d(U, theta, out_size, **kw)

    def test_option_errors(self):
        U = self.data()
        theta = as_transform("timewarp", moved_affine("timewarp", 3))
        with pytest.raises(TypeError, match="align_corners"):
            warp_1d(U, theta)
        with pytest.raises(ValueError, match="U must be a 3-D tensor N×C×L"):
            warp_1d(U[:, :, None], theta, align_corners=False)
        with pytest.raises(ValueError, match=r"N×2 \(scale, shift\)"):
            warp_1d(U, theta[:, :1], align_corners=False)
        with pytest.raises(TypeError, match="out_size must be an int or a sequence of 1"):
            warp_1d(U, theta, (4, 4), align_corners=False)

    def test_reversal_and_shift(self):
        U = torch.arange(6.0, dtype=torch.float64)[None, None]
        rev = warp_1d(U, torch.tensor([[-1.0, 0.0]], dtype=torch.float64), align_corners=True)
        torch.testing.assert_close(rev, U.flip(-1), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------
# SpatialTransformer.warp: the same contract, and forward = warp(U, theta(U))
# --------------------------------------------------------------------------------------

class TransformerOp(WarpContract):
    """The contract for ``SpatialTransformer(C, <options>).warp(U, θ)``."""

    def layer(self, C, *, transform, out_size=None, **kw):
        if transform != "timewarp":
            kw["tps_points"] = TPS_POINTS
        return SpatialTransformer(C, transform=transform, out_size=out_size, **kw)

    def op(self, U, theta, out_size, *, transform, kernel="bilinear", padding_mode="zeros",
           align_corners, sampler="native"):
        C = U.shape[1] if isinstance(U, torch.Tensor) and U.dim() > 1 else 1
        st = self.layer(C, transform=transform, out_size=out_size, kernel=kernel,
                        padding_mode=padding_mode, align_corners=align_corners, sampler=sampler)
        return st.warp(U, theta)


def move(st: SpatialTransformer, scale: float = 0.02) -> SpatialTransformer:
    """Perturb the localization nets, so θ is off the identity and differs per sample."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in st.loc.parameters():
            p.add_(torch.randn_like(p) * scale)
    return st


class TestTransformerWarp(TransformerOp):

    @pytest.mark.parametrize("variant", [
        dict(), dict(per_channel=True), dict(n_transformers=3), dict(n_transformers=2, shared_localization=True),
        dict(kernel="bicubic", padding_mode="reflection", out_size=(5, 7)), dict(transform="tps"),
        dict(transform="projective"), dict(transform="attention"),
    ])
    def test_forward_is_warp_of_theta(self, variant):
        variant = dict(variant)
        transform = variant.pop("transform", "affine")
        st = move(self.layer(2, transform=transform, align_corners=False, **variant))
        U = torch.rand(4, 2, 12, 10)
        V, theta = st(U)
        torch.testing.assert_close(st.theta(U), theta, rtol=0, atol=0)
        torch.testing.assert_close(st.warp(U, theta), V, rtol=0, atol=0)
        assert not torch.allclose(V, U if V.shape == U.shape else V * 0, atol=1e-3)  # θ moved
        assert not torch.allclose(V, st.warp(U, st.theta(U.flip(0))))  # θ depends on the sample

    def test_per_channel_warps_each_channel_by_its_own_theta(self):
        st = move(self.layer(3, transform="affine", align_corners=False, per_channel=True))
        U = torch.rand(2, 3, 9, 8, dtype=torch.float64)
        theta = as_transform("affine", moved_affine("affine", 6)).view(2, 3, 2, 3)
        V = st.warp(U, theta)
        for c in range(3):
            torch.testing.assert_close(V[:, c:c + 1], warp(U[:, c:c + 1], theta[:, c], align_corners=False))

    def test_parallel_transformers_concatenate_their_warps(self):
        st = self.layer(2, transform="affine", align_corners=True, n_transformers=2, out_size=(5, 5))
        U = torch.rand(3, 2, 9, 8, dtype=torch.float64)
        theta = moved_affine("affine", 6).view(3, 2, 2, 3)
        V = st.warp(U, theta)
        expected = torch.cat([warp(U, theta[:, k], (5, 5), align_corners=True) for k in range(2)], 1)
        torch.testing.assert_close(V, expected, rtol=0, atol=0)

    def test_warp_takes_any_channel_count_for_one_theta(self):
        # PlacementNet's STN-SLX: the localization net reads features, θ warps the input
        st = self.layer(4, transform="affine", align_corners=False)
        U = torch.rand(2, 1, 8, 8, dtype=torch.float64)
        theta = moved_affine("affine", 2)
        torch.testing.assert_close(st.warp(U, theta), warp(U, theta, align_corners=False))

    def test_theta_axes_are_checked(self):
        st = self.layer(2, transform="affine", align_corners=False, n_transformers=2)
        with pytest.raises(ValueError, match="theta must start with the axes N×K"):
            st.warp(torch.rand(3, 2, 8, 8), torch.rand(3, 3, 2, 3))  # 3 θ for 2 transformers
        st = self.layer(2, transform="affine", align_corners=False, per_channel=True)
        with pytest.raises(ValueError, match="theta must start with the axes N×C"):
            st.warp(torch.rand(3, 2, 8, 8), torch.rand(3, 3, 2, 3))


class TestTransformerWarp1d(TransformerOp):
    ndim = 1
    transforms = ("timewarp",)

    @pytest.mark.parametrize("variant", [dict(), dict(amplitude=True), dict(per_channel=True),
                                         dict(per_channel=True, amplitude=True), dict(n_transformers=2)])
    def test_forward_is_warp_of_theta(self, variant):
        st = move(self.layer(2, transform="timewarp", align_corners=False, **variant))
        U = torch.rand(4, 2, 30)
        V, theta = st(U)
        torch.testing.assert_close(st.theta(U), theta, rtol=0, atol=0)
        torch.testing.assert_close(st.warp(U, theta), V, rtol=0, atol=0)

    def test_amplitude_scales_and_offsets_the_warp(self):
        st = self.layer(1, transform="timewarp", align_corners=False, amplitude=True)
        U = torch.rand(3, 1, 20, dtype=torch.float64)
        st_theta = torch.tensor([[0.8, 0.1, 2.0, -0.5]], dtype=torch.float64).expand(3, 4)
        expected = 2.0 * warp_1d(U, st_theta[:, :2], align_corners=False) - 0.5
        torch.testing.assert_close(st.warp(U, st_theta), expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------
# Every model family: transformed(x) is what forward uses
# --------------------------------------------------------------------------------------

def _models():
    from stnlib.models import cluttered, mnist, timeseries
    from stnlib.models.addition import addition_model, two_digit_model
    from stnlib.models.placement import PlacementNet
    from stnlib.models.unet import UNet

    return {
        "ST-CNN Aff": (lambda: mnist.build_model("ST-CNN Aff"), (3, 1, 28, 28)),
        "ST-FCN TPS": (lambda: mnist.build_model("ST-FCN TPS"), (3, 1, 28, 28)),
        "tutorial (standardized)": (lambda: mnist.tutorial_net(), (3, 1, 28, 28)),
        "2×ST-FCN": (lambda: addition_model("2×ST-FCN"), (3, 2, 42, 42)),
        "ST-FCN per channel": (lambda: addition_model("ST-FCN per channel"), (3, 2, 42, 42)),
        "two digits": (lambda: two_digit_model("left-right"), (3, 1, 28, 56)),
        "time series": (lambda: timeseries.st_cnn(40, 10), (3, 1, 40)),
        "cluttered": (lambda: cluttered.stn(), (3, 1, 40, 40)),
        "collapse (standardized)": (lambda: cluttered.collapse_stn((0.2, 0.3)), (3, 1, 64, 64)),
        "STN-C0": (lambda: PlacementNet("SL", 0), (3, 1, 28, 28)),
        "STN-C1": (lambda: PlacementNet("C", 1), (3, 1, 28, 28)),
        "STN-SL1": (lambda: PlacementNet("SL", 1), (3, 1, 28, 28)),
        "U-Net affine": (lambda: UNet(3, base=4, in_size=32, position=2), (3, 3, 32, 32)),
        "U-Net TPS": (lambda: UNet(3, base=4, in_size=32, position=1, transform="tps"), (3, 3, 32, 32)),
    }


MODELS = _models()


def _forward_V_theta(model, x):
    """The transformer's output and θ as forward uses them: a hook on the transformer where
    forward calls it, else the model's ``last_output`` (back on the input's scale)."""
    seen = {}
    hook = model.transformer.register_forward_hook(lambda m, i, o: seen.update(V=o[0], theta=o[1]))
    try:
        model(x)
    finally:
        hook.remove()
    if "V" in seen and not hasattr(model, "last_output"):
        return seen["V"], seen["theta"]
    V = model.last_output
    if getattr(model, "standardize", None) is not None:
        mean, std = model.standardize
        V = V * std + mean
    return V, model.last_theta


def _moved(name):
    """Model ``name`` (seeded, eval mode) with its θ head moved off the identity, and an input."""
    make, shape = MODELS[name]
    torch.manual_seed(0)
    model = make().eval()
    move(model.transformer, scale=0.05)
    return model, torch.rand(*shape)


@pytest.mark.parametrize("name", list(MODELS))
def test_transformed_is_what_forward_uses(name):
    model, x = _moved(name)
    with torch.no_grad():
        V, theta = model.transformed(x)
        V_fwd, theta_fwd = _forward_V_theta(model, x)
    torch.testing.assert_close(theta, theta_fwd, rtol=0, atol=0)
    torch.testing.assert_close(V, V_fwd, rtol=1e-6, atol=1e-6)
    identity = model.transformer.generator.identity()
    flat = theta.reshape(-1, theta.shape[-1] if theta.dim() == 2 else math.prod(theta.shape[-2:]))
    assert not torch.allclose(flat[:, :len(identity)], identity.expand(len(flat), -1), atol=1e-3)


@pytest.mark.parametrize("name", ["U-Net affine", "U-Net TPS"])
def test_unet_transformed_with_input(name):
    model, x = _moved(name)
    seen = {}
    hook = model.transformer.register_forward_hook(lambda m, i, o: seen.update(U=i[0]))
    with torch.no_grad():
        U, V, theta = model.transformed(x, with_input=True)
    hook.remove()
    torch.testing.assert_close(U, seen["U"], rtol=0, atol=0)
    torch.testing.assert_close(V, model.transformer.warp(U, theta), rtol=0, atol=0)


@pytest.mark.parametrize("name,old", [("ST-CNN Aff", "warp"), ("STN-SL1", "transform"),
                                      ("U-Net affine", "transform"), ("U-Net affine", "transformer_io")])
def test_one_accessor_name_the_old_ones_are_gone(name, old):
    make, _ = MODELS[name]
    model = make()
    assert hasattr(model, "transformed") and not hasattr(model, old)
