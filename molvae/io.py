"""Atomic file writes: an interrupted command never leaves half a file behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from molvae.errors import MolVAEError


@contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for streaming; it replaces ``path`` only when the
    block finishes without error, and is deleted otherwise (``path`` keeps its old content).

    Raises:
        MolVAEError: the file cannot be written (a full disk, a parent that is not a directory,
            no permission), in one line naming it.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_open(p) as fh:
    ...     _ = fh.write("hi")
    >>> p.read_text()
    'hi'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only ('w' or 'wb'), got {mode!r}")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise MolVAEError(f"cannot write {path}: {_reason(err, path)}") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs are for sharing
        kwargs = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:  # a full disk, a quota, an I/O error: one line, the old file kept
        Path(tmp).unlink(missing_ok=True)
        raise MolVAEError(f"cannot write {path}: {_reason(err, path)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _reason(err: OSError, path: Path) -> str:
    """What an OSError means for writing ``path``, in words."""
    if isinstance(err, FileExistsError | NotADirectoryError):
        return f"{path.parent} is not a directory"
    return err.strerror or str(err)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    with atomic_open(path, "w") as fh:
        fh.write(text)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_cache_dir() -> Path:
    """Where prepared data is cached: ``$MOLVAE_CACHE``, else ``$XDG_CACHE_HOME/molvae``, else
    ``~/.cache/molvae``."""
    if os.environ.get("MOLVAE_CACHE"):
        return Path(os.environ["MOLVAE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "molvae"
