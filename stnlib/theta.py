r"""θ algebra: build, invert and compose transformation matrices; pixel ↔ normalized.

Conventions (the same as the paper and PyTorch):

* θ maps **output** coordinates to **input** coordinates, in normalized
  [-1, 1] space: the output pixel at (x, y) shows the input at θ · (x, y, 1)ᵀ.
  So θ is the *inverse* of what happens to the picture: to move the digit
  right by 0.5 the grid must look 0.5 to the left, tx = −0.5.
* x points right, y points **down** (image rows), so a positive angle in
  :func:`affine_theta` turns the picture counter-clockwise on screen, as
  ``torchvision.transforms.v2.functional.rotate`` and OpenCV do.
* Affine θ is N×2×3, projective θ is N×3×3; every function also accepts a
  single 2×3 / 3×3 matrix and returns the same rank it was given.

Pixel matrices follow OpenCV: pixel centres at integer coordinates 0 … W−1,
and a matrix M maps *source* pixels to *destination* pixels (``warpAffine``
without ``WARP_INVERSE_MAP``). :func:`theta_from_pixel_matrix` and
:func:`pixel_matrix_from_theta` convert for either ``align_corners``;
:func:`torchvision_affine_matrix` writes the matrix that
``torchvision.transforms.v2.functional.affine`` applies.
"""

from __future__ import annotations

import math

import torch

from . import _validate


def _as_tensor(x, dtype=None, device=None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(dtype=dtype or (x.dtype if x.is_floating_point() else torch.float32),
                    device=device or x.device)
    return torch.as_tensor(x, dtype=dtype or torch.float32, device=device)


def to_homogeneous(theta: torch.Tensor) -> torch.Tensor:
    """Append the row (0, 0, 1): (…)×2×3 → (…)×3×3; 3×3 input is returned unchanged."""
    if theta.shape[-2:] == (3, 3):
        return theta
    if theta.shape[-2:] != (2, 3):
        raise ValueError(f"theta must end in 2×3 or 3×3, got shape {tuple(theta.shape)}")
    row = torch.zeros(theta.shape[:-2] + (1, 3), dtype=theta.dtype, device=theta.device)
    row[..., 0, 2] = 1
    return torch.cat([theta, row], dim=-2)


def identity(n: int | None = None, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """The identity θ: 2×3, or N×2×3 when ``n`` is given."""
    eye = torch.eye(2, 3, dtype=dtype, device=device)
    return eye if n is None else eye.expand(n, 2, 3).clone()


def affine_theta(angle=0.0, scale=1.0, shear=0.0, translation=(0.0, 0.0), *,
                 degrees: bool = True, dtype=torch.float32, device=None) -> torch.Tensor:
    """θ that rotates, scales, shears and translates the *picture* (normalized units).

    The picture is first scaled, then sheared, then rotated about the centre,
    then translated: forward map A = T · R · Sh · S, and θ = A⁻¹ (2×3).

    Args:
        angle: counter-clockwise rotation (degrees unless ``degrees=False``).
        scale: s or (sx, sy); > 1 zooms in (the picture gets bigger).
        shear: x-shear angle, or (shear_x, shear_y) angles.
        translation: (tx, ty) in normalized units; +x moves the picture
            right, +y moves it down; 1.0 is half the image width / height.
        device: where θ is built; by default the device of the first tensor
            argument (so a batch of angles on the GPU gives θ on the GPU), else the CPU.
    Batches: a tensor of shape (N,) is N values of a scalar argument (angle,
    isotropic scale, x-shear); a tensor of shape N×2 is N pairs; a Python
    tuple or list of two numbers is one pair (sx, sy). So
    ``scale=torch.tensor([0.5, 2.0])`` is a batch of two isotropic scales, while
    ``scale=(0.5, 2.0)`` is one anisotropic scale. The result is 2×3, or
    N×2×3 when any argument is batched. Differentiable w.r.t. tensor inputs.

    Example:
        >>> th = affine_theta(scale=2.0)     # the picture gets 2× bigger:
        >>> th.tolist()                      # each output pixel reads half as far from the centre
        [[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]
        >>> affine_theta(translation=(0.5, 0.0))[0, 2].item()  # picture moves right: θ reads left
        -0.5
    """
    if device is None:  # a tensor argument on another device (a GPU) carries the others there
        device = next((v.device for v in (angle, scale, shear, translation) if isinstance(v, torch.Tensor)),
                      None)

    def to(v):
        return _as_tensor(v, dtype, device)

    def pair(v, name, second):
        """(…, 2) pairs from a scalar, a batch of scalars, a Python pair or a batch of pairs."""
        if isinstance(v, (tuple, list)):
            v = to(v)
            if v.shape != (2,):
                raise ValueError(f"{name} must be a number, a pair (x, y), or a tensor of shape (N,) "
                                 f"or N×2, got a sequence of shape {tuple(v.shape)}")
            return v
        v = to(v)
        if v.dim() <= 1:
            return torch.stack([v, second(v)], -1)
        if v.dim() == 2 and v.shape[1] == 2:
            return v
        raise ValueError(f"{name} must be a number, a pair (x, y), or a tensor of shape (N,) or N×2, "
                         f"got shape {tuple(v.shape)}")

    a = to(angle)
    if a.dim() > 1:
        raise ValueError(f"angle must be a number or a tensor of shape (N,), got shape {tuple(a.shape)}")
    s = pair(scale, "scale", lambda v: v)
    sh = pair(shear, "shear", torch.zeros_like)
    t = to(translation)
    if t.shape[-1:] != (2,) or t.dim() > 2:
        raise ValueError(f"translation must be (tx, ty) or N×2, got shape {tuple(t.shape)}")
    if degrees:
        a = a * (math.pi / 180)
        sh = sh * (math.pi / 180)
    a, s0, s1, h0, h1, t0, t1 = torch.broadcast_tensors(
        a, s[..., 0], s[..., 1], sh[..., 0], sh[..., 1], t[..., 0], t[..., 1])
    one, zero = torch.ones_like(a), torch.zeros_like(a)
    c, si = torch.cos(a), torch.sin(a)

    def mat(rows):
        return torch.stack([torch.stack(r, -1) for r in rows], -2)

    S = mat([[s0, zero, zero], [zero, s1, zero], [zero, zero, one]])
    Sh = mat([[one, torch.tan(h0), zero], [torch.tan(h1), one, zero], [zero, zero, one]])
    # y points down, so counter-clockwise on screen is [[c, s], [-s, c]].
    R = mat([[c, si, zero], [-si, c, zero], [zero, zero, one]])
    T = mat([[one, zero, t0], [zero, one, t1], [zero, zero, one]])
    return invert(T @ R @ Sh @ S)[..., :2, :]


def invert(theta: torch.Tensor) -> torch.Tensor:
    """Inverse transform: 2×3 → 2×3 (affine), 3×3 → 3×3 (projective, normalized so [2,2] = 1).

    Example:
        >>> import torch
        >>> th = affine_theta(angle=30.0, scale=2.0)[None]
        >>> torch.allclose(compose(th, invert(th)), torch.eye(2, 3)[None], atol=1e-6)
        True
    """
    _validate.tensor(theta, "theta", layout="(N×)2×3 or (N×)3×3")
    inv = torch.linalg.inv(to_homogeneous(theta))
    if theta.shape[-2:] == (2, 3):
        return inv[..., :2, :]
    return inv / inv[..., 2:, 2:]


def compose(*thetas: torch.Tensor) -> torch.Tensor:
    """One θ equal to warping with ``thetas[0]``, then with ``thetas[1]``, and so on.

    Warping U with θ₁ gives V₁(x) = U(θ₁x); warping V₁ with θ₂ gives
    V₂(x) = U(θ₁θ₂x), so the composition is the matrix product θ₁θ₂⋯ (in the
    order the warps are applied). Returns 2×3 if all inputs are affine, else
    3×3 scaled so that its [2, 2] entry is 1 (projective matrices are only
    defined up to scale).

    Example:
        >>> import torch
        >>> turn, zoom = affine_theta(angle=90.0), affine_theta(scale=2.0)
        >>> torch.allclose(compose(turn, zoom), affine_theta(angle=90.0, scale=2.0), atol=1e-6)
        True
    """
    if not thetas:
        raise ValueError("compose needs at least one theta")
    out = to_homogeneous(thetas[0])
    for th in thetas[1:]:
        out = out @ to_homogeneous(th)
    if all(th.shape[-2:] == (2, 3) for th in thetas):
        return out[..., :2, :]
    return out / out[..., 2:, 2:]


def normalized_to_pixel(size, *, align_corners: bool, dtype=torch.float64,
                        device=None) -> torch.Tensor:
    """3×3 matrix P with pixel = P · normalized for an image of ``size`` = (H, W).

    ``align_corners=True``: x_pix = (x + 1)(W − 1)/2; ``False``: x_pix = ((x + 1)W − 1)/2.
    """
    H, W = _validate.size(size, "size", 2)
    _validate.flag(align_corners, "align_corners")
    ax, ay = ((W - 1) / 2, (H - 1) / 2) if align_corners else (W / 2, H / 2)
    return torch.tensor([[ax, 0, (W - 1) / 2], [0, ay, (H - 1) / 2], [0, 0, 1]],
                        dtype=dtype, device=device)


def theta_from_pixel_matrix(M, in_size, out_size=None, *, align_corners: bool,
                            inverse_map: bool = False) -> torch.Tensor:
    """Convert an OpenCV-style pixel matrix into a normalized θ.

    Args:
        M: 2×3 or 3×3 (or N×…) pixel matrix mapping source → destination
            pixels, as ``cv2.warpAffine`` / ``cv2.warpPerspective`` take it; with
            ``inverse_map=True`` it maps destination → source
            (``WARP_INVERSE_MAP``).
        in_size: (H, W) of the source image; ``out_size`` of the destination
            (defaults to ``in_size``).
    Returns:
        θ with the rank of ``M`` (2×3 stays 2×3): θ = P_in⁻¹ · M⁻¹ · P_out.

    Example:
        >>> import torch
        >>> M = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])  # cv2: shift the picture 2 px right
        >>> theta_from_pixel_matrix(M, (4, 8), align_corners=False)[0, 2].item()  # θ reads 0.5 left
        -0.5
    """
    M = _as_tensor(M)
    _validate.tensor(M, "M", ndim=(2, 3), layout="2×3 or 3×3 (optionally batched)")
    out_size = in_size if out_size is None else out_size
    Min = to_homogeneous(M)
    if not inverse_map:
        Min = torch.linalg.inv(Min)
    P_in = normalized_to_pixel(in_size, align_corners=align_corners, dtype=M.dtype, device=M.device)
    P_out = normalized_to_pixel(out_size, align_corners=align_corners, dtype=M.dtype,
                                device=M.device)
    theta = torch.linalg.inv(P_in) @ Min @ P_out
    if M.shape[-2:] == (2, 3):
        return theta[..., :2, :]
    return theta / theta[..., 2:, 2:]


def pixel_matrix_from_theta(theta, in_size, out_size=None, *, align_corners: bool) -> torch.Tensor:
    """Inverse of :func:`theta_from_pixel_matrix`: θ → source-to-destination pixel matrix."""
    theta = _as_tensor(theta)
    out_size = in_size if out_size is None else out_size
    P_in = normalized_to_pixel(in_size, align_corners=align_corners, dtype=theta.dtype,
                               device=theta.device)
    P_out = normalized_to_pixel(out_size, align_corners=align_corners, dtype=theta.dtype,
                                device=theta.device)
    M = P_out @ torch.linalg.inv(to_homogeneous(theta)) @ torch.linalg.inv(P_in)
    if theta.shape[-2:] == (2, 3):
        return M[..., :2, :]
    return M / M[..., 2:, 2:]


def torchvision_affine_matrix(size, angle: float, translate=(0.0, 0.0), scale: float = 1.0,
                              shear=(0.0, 0.0), center=None) -> torch.Tensor:
    """The source → destination pixel matrix that ``torchvision`` ``affine`` applies.

    ``torchvision.transforms.v2.functional.affine(img, angle, translate, scale,
    shear)`` on a tensor image of ``size`` = (H, W) builds
    M = T · C · R · S · SHy · SHx · C⁻¹ about the image centre; note that its
    ``angle`` turns the picture **clockwise** (opposite to :func:`affine_theta`).
    ``center`` is in torchvision's convention (pixel edges, default W/2, H/2).
    Feed the result to :func:`theta_from_pixel_matrix` with
    ``align_corners=False`` to reproduce torchvision with :mod:`stnlib`.
    """
    H, W = _validate.size(size, "size", 2)
    if isinstance(shear, (int, float)):
        shear = (shear, 0.0)
    cx, cy = (W / 2, H / 2) if center is None else center
    cx, cy = cx - 0.5, cy - 0.5  # torchvision centres are on pixel edges; ours on pixel centres
    rot, sx, sy = (math.radians(v) for v in (angle, shear[0], shear[1]))
    a = math.cos(rot - sy) / math.cos(sy)
    b = -(a * math.tan(sx) + math.sin(rot))
    c = math.sin(rot - sy) / math.cos(sy)
    d = math.cos(rot) - c * math.tan(sx)
    tx, ty = translate
    m = [[a * scale, b * scale, 0.0], [c * scale, d * scale, 0.0]]
    m[0][2] = cx + tx - m[0][0] * cx - m[0][1] * cy
    m[1][2] = cy + ty - m[1][0] * cx - m[1][1] * cy
    return torch.tensor(m, dtype=torch.float64)


def decompose_affine(theta: torch.Tensor) -> dict[str, torch.Tensor]:
    """Read rotation, scales and translation off an affine θ (N×2×3 or 2×3).

    Uses the forward map A = θ⁻¹ and the polar decomposition of its linear
    part: ``angle`` (degrees, counter-clockwise, as :func:`affine_theta`),
    ``scale`` (sx, sy of the picture), ``det`` (of θ's linear part; < 0 means
    a mirror) and ``translation`` (the picture's shift, normalized units).
    Exact for θ built by :func:`affine_theta` without shear.
    """
    A = invert(theta)
    lin = A[..., :2, :2]
    angle = torch.rad2deg(torch.atan2(-lin[..., 1, 0], lin[..., 0, 0]))
    scale = torch.linalg.norm(lin, dim=-2)
    return {
        "angle": angle,
        "scale": scale,
        "det": torch.linalg.det(theta[..., :2, :2]),
        "translation": A[..., :2, 2],
    }
