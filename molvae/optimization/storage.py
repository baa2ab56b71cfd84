"""Where a study lives: a journal file by default, or any storage Optuna supports.

molvae keeps Optuna's storages and their formats, through Optuna's public API only, so Optuna's
tools (the dashboard, ``optuna.load_study``) read every study. Two choices are molvae's own:

- :class:`JournalFile` appends without Optuna's ``fsync`` after every operation and syncs once a
  batch (:meth:`JournalFile.sync`): the lines reach the file at once, so other processes see
  them and ``kill -9`` loses nothing told; a power cut loses at most the batch being told.
- Trials of molvae's own samplers are written whole, once, with their record
  (:mod:`molvae.optimization.records`), rather than as 64 parameter writes.

Supported: a journal file (``*.log``, ``*.journal``), ``sqlite:///FILE``, ``postgresql://...``
and ``mysql://...`` (with their drivers), ``redis://...`` (Optuna's journal on Redis, with the
``redis`` package) and ``grpc://HOST:PORT`` (Optuna's gRPC storage proxy, with ``grpcio``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, InMemoryStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

from molvae.errors import StorageError

__all__ = ["SCHEMES", "JournalFile", "hide_password", "open_storage", "open_study"]

log = logging.getLogger(__name__)

#: The storage URL schemes molvae opens (a journal file needs none).
SCHEMES: tuple[str, ...] = ("sqlite", "postgresql", "mysql", "redis", "grpc")
_DRIVERS = {  # scheme -> (module to import, what to install)
    "postgresql": ("psycopg", 'pip install -e ".[postgres]" (psycopg 3)'),
    "mysql": ("pymysql", "pip install pymysql (and give mysql+pymysql://...)"),
}


@contextlib.contextmanager
def _held(lock: _Lock) -> Iterator[None]:
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


#: A journal lock older than this, with the journal itself untouched as long, was left by a
#: process that was killed while holding it (a hold lasts milliseconds): it is removed.
STALE_LOCK_SECONDS = 10.0


class _Lock(JournalFileSymlinkLock):
    """Optuna's symlink lock (``FILE.lock``) that says what it waits for, once, rather than
    waiting in silence until Optuna's 30 s grace period takes over a lock left by a killed
    process."""

    def __init__(self, file_path: str) -> None:
        super().__init__(file_path)
        self.path = Path(file_path + ".lock")
        self.target = Path(file_path)

    def acquire(self) -> bool:
        if self.path.is_symlink() and not self.clear_if_stale():
            log.info("waiting for the journal lock %s (another worker is writing; a lock left "
                     "by a killed process is taken over after 30 s)", self.path)
        return super().acquire()

    def clear_if_stale(self) -> bool:
        """Remove the lock if its holder is evidently gone; whether it was removed."""
        try:
            held = time.time() - self.path.lstat().st_mtime
            idle = time.time() - self.target.stat().st_mtime if self.target.exists() else held
        except OSError:
            return False
        if min(held, idle) < STALE_LOCK_SECONDS:
            return False
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
            log.warning("removed the journal lock %s, left %.0f s ago by a process that was "
                        "killed while writing", self.path, held)
        return True


class JournalFile(JournalFileBackend):
    """Optuna's journal file, appended without an ``fsync`` per operation (Optuna's backend syncs
    each one, about 1 ms) and synced to disk once a batch by :meth:`sync`. It takes the lock
    Optuna's own backend takes (a symlink beside the file), so plain Optuna processes writing
    the same file stay consistent with it."""

    def __init__(self, file_path: str) -> None:
        self.lock = _Lock(file_path)
        self.lock.clear_if_stale()
        super().__init__(file_path, lock_obj=self.lock)
        self.path = Path(file_path)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        import json

        text = "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in logs)
        with _held(self.lock), open(self.path, "ab") as fh:
            fh.write(text.encode("utf-8"))

    def sync(self) -> None:
        """Flush the file to disk."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def hide_password(url: str) -> str:
    """A storage URL fit to print.

    >>> hide_password("postgresql://user:secret@host/db")
    'postgresql://user:***@host/db'
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url.split("@", 1)[-1] if "@" in url else url


def open_storage(storage: Any, out: Path | None) -> tuple[BaseStorage, str, JournalFile | None]:
    """An Optuna storage, its printable URL (no password), and the journal file to sync once a
    batch (None for other storages).

    Args:
        storage: None (the run directory's ``study.log``, or memory without a run directory),
            a storage object, a URL, or a journal file path ending in ``.log`` / ``.journal``.
        out: the run directory.

    Raises:
        StorageError: an unsupported scheme (the supported ones named), a missing driver, a
            database that cannot be reached or created.
    """
    if isinstance(storage, BaseStorage):
        return storage, type(storage).__name__, None
    if storage is None and out is None:
        return InMemoryStorage(), "memory", None
    text = str(storage) if storage is not None else ""
    if "://" in text:
        return _open_url(text), hide_password(text), None
    if storage is None or text.endswith((".log", ".journal")):
        path = out / "study.log" if storage is None else Path(text).expanduser().resolve()
        backend = JournalFile(str(path))
        return JournalStorage(backend), f"journal:{path}", backend
    raise StorageError(
        f"storage {text!r}: give a journal file ending in .log, or a URL of one of the schemes "
        f"{', '.join(s + '://' for s in SCHEMES)}"
    )


def _open_url(url: str) -> BaseStorage:
    scheme = url.split("://", 1)[0].lower()
    base = scheme.split("+", 1)[0]
    shown = hide_password(url)
    if base == "redis":
        try:
            from optuna.storages.journal import JournalRedisBackend

            return JournalStorage(JournalRedisBackend(url))
        except ImportError as err:
            raise StorageError(f"storage {shown}: needs the redis package (pip install redis)"
                               ) from err
    if base == "grpc":
        host, _, port = url.split("://", 1)[1].rstrip("/").rpartition(":")
        if not host or not port.isdigit():
            raise StorageError(f"storage {shown}: give grpc://HOST:PORT of an Optuna gRPC proxy")
        try:
            from optuna.storages import GrpcStorageProxy

            return GrpcStorageProxy(host=host, port=int(port))
        except ImportError as err:
            raise StorageError(f"storage {shown}: needs grpcio (pip install grpcio protobuf)"
                               ) from err
    if base not in SCHEMES:
        raise StorageError(
            f"storage {shown}: unsupported scheme {scheme!r}; expected a journal file (*.log) or "
            f"one of {', '.join(s + '://' for s in SCHEMES)}"
        )
    if base in _DRIVERS and "+" not in scheme:
        module, install = _DRIVERS[base]
        try:
            __import__(module)
        except ImportError as err:
            raise StorageError(f"storage {shown}: the {base} driver is not installed: {install}"
                               ) from err
    return _rdb(url, shown)


def _rdb(url: str, shown: str) -> RDBStorage:
    """Optuna's database storage. Workers started together on a new database race to create its
    tables, and the losers' ``CREATE TABLE`` fails: they retry and find the tables made."""
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    for attempt in range(5):
        try:
            return RDBStorage(url)
        except ImportError as err:
            raise StorageError(f"storage {shown}: the database driver is not installed: {err}"
                               ) from err
        except (IntegrityError, ProgrammingError) as err:  # a concurrent CREATE TABLE won
            if attempt == 4:
                raise StorageError(f"storage {shown}: cannot create Optuna's tables: "
                                   f"{err.orig}") from err
        except OperationalError as err:
            reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
            raise StorageError(f"storage {shown}: cannot connect: {reason} (check that the "
                               "server runs and the database exists)") from err
        time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


def open_study(storage: BaseStorage, name: str, directions: list[str]) -> optuna.Study:
    """Create the study or join it. Workers started together race to create it in a database:
    the loser's insert fails, and it joins the winner's study instead."""
    for attempt in range(3):
        try:
            return optuna.create_study(storage=storage, study_name=name, directions=directions,
                                       load_if_exists=True)
        except (optuna.exceptions.DuplicatedStudyError, optuna.exceptions.StorageInternalError):
            time.sleep(0.2 * (attempt + 1))
    return optuna.load_study(study_name=name, storage=storage)
