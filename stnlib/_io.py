"""Atomic file writing: nothing half-written is ever left behind.

Every file stnlib writes (figures, datasets, results, checkpoints) goes
through :func:`atomic_path`: the caller writes to a temporary file in the
destination folder, which is renamed over the target only when writing
succeeded; on any error the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    ``suffix`` ends the temporary file's name, for writers that insist on an
    extension (papermill wants ``.ipynb``).

    Example::

        with atomic_path("figure.png") as tmp:
            fig.savefig(tmp, format="png")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_file(path.parent, f".{path.name}.", suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _new_file(folder: Path, prefix: str, suffix: str) -> Path:
    """Create an empty file ``folder/<prefix><16 hex digits><suffix>`` that did not exist before.

    ``O_EXCL`` makes the creation fail when the name is taken (another name is
    then drawn). Mode 0o666 lets the operating system apply the umask, so the
    file gets the usual mode (0644 under umask 022), not ``tempfile.mkstemp``'s
    0600, without reading the umask: ``os.umask`` can only read it by changing
    it, for every thread of the process.
    """
    while True:
        tmp = folder / f"{prefix}{secrets.token_hex(8)}{suffix}"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 90) -> Path:
    """Save a matplotlib figure as PNG atomically, close it, and return the path."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically, as UTF-8 whatever the locale, newlines as given."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(text.encode())  # str.encode's codec is always UTF-8
    return Path(path)
