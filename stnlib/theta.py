r"""θ algebra: build, invert and compose transformation matrices, read them back; pixel ↔ normalized.

Build θ from parameters (:func:`affine_theta`) or from point pairs
(:func:`homography_from_points`), read the parameters back
(:func:`decompose_affine`, the inverse of :func:`affine_theta`), invert and compose
(:func:`invert`, :func:`compose`), and convert pixel matrices
(:func:`theta_from_pixel_matrix`, :func:`pixel_matrix_from_theta`).

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
    """The 3×3 matrix of θ: the row (0, 0, 1) appended, (…)×2×3 → (…)×3×3.

    ``theta``: (…)×2×3 affine or (…)×3×3 projective (returned unchanged).
    """
    if theta.shape[-2:] == (3, 3):
        return theta
    if theta.shape[-2:] != (2, 3):
        raise ValueError(f"theta must end in 2×3 or 3×3, got shape {tuple(theta.shape)}")
    row = torch.zeros(theta.shape[:-2] + (1, 3), dtype=theta.dtype, device=theta.device)
    row[..., 0, 2] = 1
    return torch.cat([theta, row], dim=-2)


def identity(n: int | None = None, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """The identity θ: 2×3, or N×2×3 when ``n`` is given (``dtype`` and ``device``: the tensor's)."""
    eye = torch.eye(2, 3, dtype=dtype, device=device)
    return eye if n is None else eye.expand(n, 2, 3).clone()


def affine_theta(angle=0.0, scale=1.0, shear=0.0, translation=(0.0, 0.0), *,
                 degrees: bool = True, dtype=torch.float32, device=None) -> torch.Tensor:
    """The θ that rotates, scales, shears and translates the *picture* (normalized units).

    The picture is first scaled, then sheared, then rotated about the centre,
    then translated: forward map A = T · R · Sh · S, and θ = A⁻¹ (2×3).

    Args:
        angle: counter-clockwise rotation (degrees unless ``degrees=False``).
        scale: s or (sx, sy); > 1 zooms in (the picture gets bigger).
        shear: x-shear angle, or (shear_x, shear_y) angles.
        translation: (tx, ty) in normalized units; +x moves the picture
            right, +y moves it down; 1.0 is half the image width / height.
        degrees: True if the angles are in degrees, False for radians.
        dtype: θ's dtype.
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
    """The inverse transform: 2×3 → 2×3 (affine), 3×3 → 3×3 (projective, normalized so [2,2] = 1).

    ``theta``: (…)×2×3 or (…)×3×3, output → input in normalized coordinates.

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
    """The one θ equal to warping with ``thetas[0]``, then with ``thetas[1]``, and so on.

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
    """The 3×3 matrix P with pixel = P · normalized for an image of ``size`` = (H, W).

    ``align_corners=True``: x_pix = (x + 1)(W − 1)/2; ``False``: x_pix = ((x + 1)W − 1)/2.
    ``dtype`` and ``device``: P's.
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
    """The source-to-destination pixel matrix of θ: the inverse of :func:`theta_from_pixel_matrix`.

    Args:
        theta: (…)×2×3 or (…)×3×3, output → input in normalized coordinates.
        in_size: the input's (H, W) in pixels.
        out_size: the output's (H', W') (default ``in_size``).
        align_corners: as the warp that uses θ.
    Returns:
        (…)×2×3 (affine θ) or (…)×3×3 (projective, scaled so that [2, 2] = 1): pixel
        coordinates in the input → pixel coordinates in the output.
    """
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
    """Read the picture's rotation, scales, x-shear and translation off an affine θ.

    The inverse of :func:`affine_theta`: θ's forward map A = θ⁻¹ has the linear part
    R · Sh · S (a rotation, an x-shear, the scales), and R · (Sh · S) is its QR
    decomposition (an orthogonal factor times an upper-triangular one with a positive
    diagonal), which this reads.

    Args:
        theta: affine θ, N×2×3 or 2×3 (float).
    Returns:
        a dict of tensors with θ's batch shape (N, or none for 2×3):

        * ``angle``: degrees, counter-clockwise, in (−180, 180] (as :func:`affine_theta`);
          atan2 of A's first column, so it is defined for any θ;
        * ``scale``: …×2, (sx, sy) of the picture;
        * ``shear``: the x-shear angle in degrees (``affine_theta``'s ``shear``; a y-shear
          cannot be told apart from an x-shear with other scales and angle, so it is read
          as one);
        * ``translation``: …×2, the picture's shift (tx, ty), normalized units;
        * ``det``: the determinant of θ's linear part; ≤ 0 means a mirror or a singular θ,
          which no ``affine_theta`` builds (``angle`` and ``scale`` are then of A's first
          column and ``shear`` of the rest, not parameters that rebuild θ).

        For θ = ``affine_theta(angle, (sx, sy), shear, (tx, ty))`` with sx, sy > 0 and
        |shear| < 90° the round trip is exact: for a batch N×2×3, ``affine_theta(d["angle"],
        d["scale"], d["shear"], d["translation"])`` is θ (for a single 2×3 θ pass ``scale``
        and ``translation`` as tuples: a tensor of shape (2,) is a batch of two values).

    Example:
        >>> th = affine_theta(30.0, scale=(2.0, 0.5), shear=10.0, translation=(0.1, -0.2))
        >>> d = decompose_affine(th)
        >>> [round(v, 4) for v in (d["angle"].item(), *d["scale"].tolist(), d["shear"].item())]
        [30.0, 2.0, 0.5, 10.0]
        >>> [round(v, 4) for v in d["translation"].tolist()]
        [0.1, -0.2]
    """
    _validate.tensor(theta, "theta", ndim=(2, 3), layout="(N×)2×3")
    if theta.shape[-2:] != (2, 3):
        raise ValueError(f"theta must be affine, (N×)2×3, got shape {tuple(theta.shape)}")
    det = torch.linalg.det(theta[..., :2, :2])
    if bool((det == 0).any()):
        raise ValueError(f"theta must be invertible, but {int((det == 0).sum())} of its matrices are "
                         "singular (det 0: the picture is squashed onto a line)")
    A = invert(theta)
    lin = A[..., :2, :2]
    Q, U = torch.linalg.qr(lin)
    signs = torch.where(torch.diagonal(U, dim1=-2, dim2=-1) < 0, -1.0, 1.0).to(U)  # U's diagonal >= 0
    U = signs[..., :, None] * U
    angle = torch.rad2deg(torch.atan2(-lin[..., 1, 0], lin[..., 0, 0]))
    sy = U[..., 1, 1]
    shear = torch.rad2deg(torch.atan2(U[..., 0, 1], sy))
    return {
        "angle": angle,
        "scale": torch.stack([U[..., 0, 0], sy], -1),
        "shear": shear,
        "translation": A[..., :2, 2],
        "det": det,
    }


def homography_from_points(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """The projective matrix H (H[2, 2] = 1) that maps 4 points onto 4 others: H · src_i ∝ dst_i.

    OpenCV's ``getPerspectiveTransform`` (and kornia's ``get_perspective_transform``): the
    8 unknowns of H from the 4 point pairs, one linear solve per batch entry.

    Args:
        src, dst: N×4×2 (or 4×2) points (x, y), in any units (both in the same); no three
            of the ``src`` points (nor of the ``dst`` points) on one line.
    Returns:
        H, N×3×3 (or 3×3), dtype of ``src``. With ``src`` the output's points and ``dst``
        where they read the input, both normalized, H is a projective θ
        (:func:`stnlib.grids.projective_grid`): the corners of an output frame given as the
        input points they should show.

    Example:
        >>> import torch
        >>> square = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
        >>> H = homography_from_points(square, 0.5 * square + torch.tensor([0.25, 0.0]))  # shrink, shift
        >>> (H.round(decimals=4) + 0.0).tolist()   # + 0.0 turns -0.0 into 0.0
        [[0.5, 0.0, 0.25], [0.0, 0.5, 0.0], [0.0, 0.0, 1.0]]
    """
    _validate.tensor(src, "src", ndim=(2, 3), layout="(N×)4×2 points")
    _validate.tensor(dst, "dst", ndim=(2, 3), layout="(N×)4×2 points")
    if src.shape[-2:] != (4, 2) or dst.shape != src.shape:
        raise ValueError(f"src and dst must be (N×)4×2 points of the same shape, got {tuple(src.shape)} "
                         f"and {tuple(dst.shape)}")
    single = src.dim() == 2
    if single:
        src, dst = src[None], dst[None]
    dst = dst.to(src)
    x, y = src[..., 0], src[..., 1]
    u, v = dst[..., 0], dst[..., 1]
    zero, one = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, one, zero, zero, zero, -u * x, -u * y], -1)
    rows_v = torch.stack([zero, zero, zero, x, y, one, -v * x, -v * y], -1)
    A = torch.cat([rows_u, rows_v], 1)  # N×8×8
    b = torch.cat([u, v], 1)
    h = torch.linalg.solve(A, b)
    H = torch.cat([h, torch.ones_like(h[:, :1])], 1).view(-1, 3, 3)
    return H[0] if single else H
