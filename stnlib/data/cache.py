"""Fixed sets cached on disk under a content hash, verified on every load.

A cached set lives in ``<data root>/cache/<name>_<split>_<key>.<sha>.pt``:
``key`` hashes everything that defines the set (dataset, split, size, seed,
distortion parameters, :data:`FORMAT`), ``sha`` is the first 16 hex digits
of the sha256 of the file's own bytes. On load the bytes are hashed again; a
file whose hash differs (corrupt, truncated, edited) is deleted, logged, and
the set is generated afresh: it is never used. Writes are atomic
(:func:`stnlib._io.atomic_path`).

Images are stored as uint8 (the distortions quantize to 8-bit levels), so a
cached set equals a freshly generated one exactly.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import torch

from .._io import atomic_path
from .samples import Samples

#: bump when the stored layout or any generator changes, so old caches are not reused
FORMAT = 1
log = logging.getLogger("stnlib.data")


def key_of(config: dict) -> str:
    """A short, stable hash of a JSON-able description of a set.

    Args:
        config: what makes the set what it is (name, split, n, seed, spec...), JSON-able
            (other values are hashed through ``str``).
    Returns:
        12 hexadecimal characters of the SHA-256 of ``config`` (with the cache format's version).
    """
    text = json.dumps({"format": FORMAT, **config}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _encode(s: Samples) -> dict:
    images = s.images
    if images.is_floating_point() and s.info.get("quantized", True):
        images = images.mul(255).round().to(torch.uint8)
    return {"images": images, "labels": s.labels, "params": s.params, "name": s.name,
            "split": s.split, "classes": list(s.classes), "info": json.dumps(s.info)}


def _decode(d: dict) -> Samples:
    images = d["images"]
    if images.dtype == torch.uint8:
        images = images.float().div_(255)
    return Samples(images, d["labels"], d["params"], d["name"], d["split"], tuple(d["classes"]),
                   json.loads(d["info"]))


def cached(folder: Path, stem: str, config: dict, make: Callable[[], Samples]) -> Samples:
    """Load the set ``stem`` + hash of ``config`` from ``folder``, or make and store it.

    Args:
        folder: the cache directory (created when a set is stored).
        stem: the readable start of the file name, e.g. ``"mnist-rts_test"``.
        config: the set's description, hashed by :func:`key_of` into the file name.
        make: builds the set when no valid copy is on disk.
    Returns:
        The ``Samples``: read back if a file passes its checksum, else made by ``make()`` and
        stored atomically (a corrupt or unreadable file is deleted and regenerated).
    """
    prefix = f"{stem}_{key_of(config)}."
    for path in sorted(folder.glob(prefix + "*.pt")):
        want = path.name[len(prefix):-3]
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest()[:16] == want:
            try:
                return _decode(torch.load(io.BytesIO(data), weights_only=True))
            except Exception as e:  # noqa: BLE001 - a readable hash but a bad payload
                log.warning("cached set %s is unreadable (%s); regenerating", path, e)
        else:
            log.warning("cached set %s fails its checksum (corrupt or truncated); "
                        "deleting it and regenerating", path)
        path.unlink(missing_ok=True)
    s = make()
    buf = io.BytesIO()
    torch.save(_encode(s), buf)
    data = buf.getvalue()
    path = folder / f"{prefix}{hashlib.sha256(data).hexdigest()[:16]}.pt"
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return s
