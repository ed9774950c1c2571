"""Test helpers shared by several test modules."""

from __future__ import annotations

import torch

from stnlib.sampler import normalize


def off_integer_grid(N, Ho, Wo, H, W, *, align_corners, dtype=torch.float64, margin=2, g=None):
    """A random sampling grid whose pixel positions keep away from every kink.

    Integer part anywhere in [-margin, size + margin); fractional part in
    [0.2, 0.4] ∪ [0.6, 0.8], away from integers (bilinear kinks, clamping and
    mirror points with align_corners=True) and from halves (nearest's jumps,
    mirror points with align_corners=False).
    """
    def axis(size):
        whole = torch.randint(-margin, size + margin, (N, Ho, Wo), generator=g).to(dtype)
        frac = 0.2 + 0.2 * torch.rand(N, Ho, Wo, generator=g, dtype=dtype)
        frac = frac + 0.4 * torch.randint(0, 2, (N, Ho, Wo), generator=g).to(dtype)
        return normalize(whole + frac, size, align_corners=align_corners)

    return torch.stack([axis(W), axis(H)], dim=-1)
