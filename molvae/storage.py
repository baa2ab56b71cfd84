"""Where a study lives, and writing to it in batches.

molvae keeps Optuna's storages and their formats (a journal file by default, any database Optuna
supports), so Optuna's tools read every study. What Optuna spends per trial is another matter: a
trial of a 64-dimension latent is 64 parameter writes, and each one is an ``fsync`` in Optuna's
journal file or a transaction in a database. The classes here group the writes of a batch of
trials into one append or one transaction, and skip two scans and copies Optuna makes on every
ask and tell. They rely on a few Optuna internals (``optuna<6`` is pinned;
``tests/test_optimize.py`` covers each); the files and tables they write are Optuna's own.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages._cached_storage import _CachedStorage  # what Optuna wraps a URL's RDB in
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._file import get_lock_file  # the backend's own lock
from optuna.study._tell import _tell_with_warning  # Study.tell minus a deep copy
from optuna.trial import TrialState

from molvae.errors import MolVAEError

__all__ = [
    "BatchedRDBStorage",
    "IndexedJournalStorage",
    "JournalFile",
    "StorageError",
    "hide_password",
    "open_storage",
    "open_study",
    "tell",
]


class StorageError(MolVAEError, ValueError):
    """A storage that cannot be used: neither a URL nor a journal file."""


class JournalFile(JournalFileBackend):
    """Optuna's journal file, appended without an ``fsync`` per operation (Optuna's backend syncs
    each of the ~100 operations of a 64-dimension trial, about 1 ms each: most of a run's time)
    and synced to disk once a batch by :meth:`sync`. Written lines reach the file at once, so
    other processes see them and ``kill -9`` loses nothing told; a power cut loses at most the
    batch being told.

    :meth:`batch` groups the operations of a batch of asks (64 parameter writes a trial) or tells
    into one write under one hold of the file's lock."""

    def __init__(self, file_path: str) -> None:
        super().__init__(file_path)
        self._pending: list[str] | None = None  # a batch's operations, JSON
        self._file_logs = 0  # complete lines in the file while a batch holds the lock

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        lines = [json.dumps(x, separators=(",", ":")) for x in logs]
        if self._pending is not None:
            self._pending.extend(lines)
            return
        with get_lock_file(self._lock), open(self._file_path, "ab") as fh:
            fh.write(("\n".join(lines) + "\n").encode("utf-8"))

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        if self._pending is None:
            yield from super().read_logs(log_number_from)
            return
        if log_number_from < self._file_logs:  # no other process writes while the lock is held
            yield from super().read_logs(log_number_from)
        for line in self._pending[max(log_number_from - self._file_logs, 0):]:
            yield json.loads(line)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold the lock, keep the operations in memory (read back from there), and append them
        in one write at the end, even when interrupted. Other processes' writes wait meanwhile;
        their reads see the batch once it is written."""
        if self._pending is not None:  # already in a batch
            yield
            return
        with get_lock_file(self._lock):
            known = max(self._log_number_offset)
            self._file_logs = known + sum(1 for _ in super().read_logs(known))
            self._pending = []
            try:
                yield
            finally:
                lines, self._pending = self._pending, None
                if lines:
                    encoded = [(line + "\n").encode("utf-8") for line in lines]
                    with open(self._file_path, "ab") as fh:
                        fh.write(b"".join(encoded))
                    offset = self._log_number_offset  # where each line starts, for later reads
                    for number, line in enumerate(encoded, self._file_logs):
                        offset[number + 1] = offset[number] + len(line)

    def sync(self) -> None:
        """Flush the file to disk."""
        fd = os.open(self._file_path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class BatchedRDBStorage(RDBStorage):
    """Optuna's database storage, whose parameter writes :meth:`batch` groups into one
    transaction. Optuna commits each parameter on its own: 64 transactions a trial, about 140 ms
    on a local PostgreSQL (``benchmarks/storage.py``). The trial rows themselves, values and
    attributes are written as Optuna writes them."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._pending: list[tuple[Any, ...]] | None = None

    def _set_trial_param(self, *args: Any) -> None:
        if self._pending is not None:
            self._pending.append(args)
        else:
            super()._set_trial_param(*args)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold parameter writes in memory (a trial reads its own parameters from memory) and
        commit them together at the end, even when interrupted."""
        if self._pending is not None:
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            if pending:
                self._write_params(pending)

    def _write_params(self, pending: list[tuple[Any, ...]]) -> None:
        """Insert the parameters in one transaction, after Optuna's checks: each trial exists
        and is running, and each distribution agrees with the study's."""
        from optuna.distributions import check_distribution_compatibility, distribution_to_json
        from optuna.storages._rdb import models

        with _create_scoped_session(self.scoped_session, True) as session:
            for trial_id in dict.fromkeys(args[0] for args in pending):
                trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
                self.check_trial_is_updatable(trial_id, trial.state)
            rows = []
            for trial_id, name, value, distribution, previous in pending:
                if previous is not None:
                    check_distribution_compatibility(previous, distribution)
                rows.append(models.TrialParamModel(
                    trial_id=trial_id, param_name=name, param_value=value,
                    distribution_json=distribution_to_json(distribution),
                ))
            session.add_all(rows)

    def sync(self) -> None:
        """Nothing to do: every write is committed."""


def tell(study: optuna.Study, trial: optuna.Trial, values: Any = None,
          state: TrialState | None = None) -> None:
    """``study.tell`` without the deep copy of the told trial it returns (3 ms a trial with 64
    parameters, and nothing here uses it)."""
    _tell_with_warning(study, trial, values, state)


class IndexedJournalStorage(JournalStorage):
    """Optuna's journal storage, whose asks find the study's waiting (enqueued) trials without
    scanning every trial of the study, as Optuna's do on every ask: at 10,000 trials that scan
    was most of the time spent asking. A trial is waiting only from its creation until it is
    asked, so trials once seen not waiting are never looked at again."""

    def __init__(self, backend: Any) -> None:
        super().__init__(backend)
        self._scanned: dict[int, int] = {}  # study -> how many of its trials were looked at
        self._waiting: dict[int, list[int]] = {}  # study -> its trials that were waiting

    def get_all_trials(
        self, study_id: int, deepcopy: bool = True, states: Any = None
    ) -> list[optuna.trial.FrozenTrial]:
        if states is None or tuple(states) != (TrialState.WAITING,):
            return super().get_all_trials(study_id, deepcopy, states)
        with self._thread_lock:
            self._sync_with_backend()
            replay = self._replay_result
            ids = replay._study_id_to_trial_ids.get(study_id)
            if ids is None:
                return super().get_all_trials(study_id, deepcopy, states)  # raises KeyError
            waiting = self._waiting.get(study_id, []) + ids[self._scanned.get(study_id, 0):]
            waiting = [i for i in waiting if replay._trials[i].state == TrialState.WAITING]
            self._waiting[study_id], self._scanned[study_id] = waiting, len(ids)
            trials = [replay._trials[i] for i in waiting]
        return copy.deepcopy(trials) if deepcopy else trials


def open_storage(storage: Any, out: Path | None) -> tuple[Any, str, Any]:
    """An Optuna storage, its printable URL (no password), and what groups a batch's writes and
    syncs them once a batch (None: nothing to group)."""
    from optuna.storages import BaseStorage, InMemoryStorage

    if isinstance(storage, BaseStorage):
        return storage, type(storage).__name__, None
    if storage is None and out is None:
        return InMemoryStorage(), "memory", None
    text = str(storage) if storage is not None else ""
    if storage is not None and "://" in text:
        if text.startswith(("redis", "grpc")):
            return text, hide_password(text), None
        rdb = BatchedRDBStorage(text)
        return _CachedStorage(rdb), hide_password(text), rdb
    if storage is None or text.endswith((".log", ".journal")):
        path = out / "study.log" if storage is None else Path(text).expanduser().resolve()
        backend = JournalFile(str(path))
        return IndexedJournalStorage(backend), f"journal:{path}", backend
    raise StorageError(
        f"storage {text!r}: give an Optuna storage URL (sqlite:///FILE, postgresql://USER@HOST/DB) "
        "or a journal file ending in .log"
    )


def hide_password(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user:***@host/db``."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)




def open_study(storage: Any, name: str, directions: list[str]) -> optuna.Study:
    """Create the study or join it. Workers started together race to create it in a database:
    the loser's insert fails, and it joins the winner's study instead."""
    for attempt in range(3):
        try:
            return optuna.create_study(storage=storage, study_name=name, directions=directions,
                                       load_if_exists=True)
        except (optuna.exceptions.DuplicatedStudyError, optuna.exceptions.StorageInternalError):
            time.sleep(0.2 * (attempt + 1))
    return optuna.load_study(study_name=name, storage=storage)
