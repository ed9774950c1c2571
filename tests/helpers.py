"""Test helpers shared by several test modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
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


def requires(what: str, install: str, *, found: bool, detail: str = "") -> None:
    """Skip the calling test unless ``found``, with the one line that installs ``what``.

    For what a test needs that the README's set-up (``pip install -e ".[dev]"`` and the
    first ``stn-course run``) cannot bring, e.g. a Debian package. The skip reason is
    exactly ``needs <what>: <install>``. Under CI (``$CI`` set and not empty) ``.ci/run``
    installs it, so there a missing one fails the test instead (``detail`` says why).
    """
    if found:
        return
    line = f"needs {what}: {install}"
    if os.environ.get("CI"):
        pytest.fail(f"{line} (missing although $CI is set: .ci/run must install it)"
                    + (f"\n{detail}" if detail else ""), pytrace=False)
    # reported at the test that needs it, not at this line (pytest's own skipif does the same)
    raise pytest.skip.Exception(line, _use_item_location=True)


_fashion: dict[tuple, object] = {}


def fashion_mnist() -> Path:
    """The verified Fashion-MNIST folder (Debian's package, or torchvision's mirrors when they
    answer); else :func:`requires` skips the test (fails it under CI) with the install line."""
    from stnlib.data import fetch as F

    key = (str(F.data_root()), str(F.DEBIAN_FASHION_DIR), os.environ.get("STN_OFFLINE"))
    if key not in _fashion:  # one attempt per session: a failed fetch probes the mirrors
        try:
            _fashion[key] = F.fetch_fashion_mnist()
        except F.FetchError as e:
            _fashion[key] = e
    got = _fashion[key]
    requires("Fashion-MNIST", F.OPTIONAL["fashion-mnist"], found=isinstance(got, Path),
             detail=str(got))
    return got


#: lessons whose solution sources changed after their stored outputs were made, and whose
#: `standard` re-run had not finished when this was committed: their stored outputs are the
#: previous run's. The tests that compare stored outputs with a fresh run or with
#: results/standard.json expect them to disagree (strict: once re-stored, remove the lesson here).
STALE_STORED_OUTPUTS: dict[str, str] = {}
