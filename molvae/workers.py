"""Worker processes for CPU-bound batches (RDKit, SELFIES): the one process pool of the package.

Built on :class:`concurrent.futures.ProcessPoolExecutor` rather than ``multiprocessing.Pool``:
when a worker dies (a segfault in RDKit, ``os._exit``, the kernel's out-of-memory killer) a
``Pool`` waits forever for the task it held, while an executor marks itself broken and fails every
pending result; here that failure becomes a :class:`~molvae.errors.MolVAEError` saying so.

Workers are forked where the OS can (they inherit what the parent built, e.g. the alert screen)
and spawned on Windows. Functions and arguments sent to them must be picklable (module-level).

>>> list(map_chunks(_lengths, ["a", "bb", "ccc"], workers=1, chunk_size=2))
[1, 2, 3]
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from multiprocessing import get_context
from typing import Any, TypeVar

from molvae.errors import MolVAEError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def start_method() -> str:
    """``"fork"`` (workers inherit the parent's memory, start in milliseconds) except on Windows,
    which can only ``"spawn"``."""
    return "spawn" if os.name == "nt" else "fork"


def worker_count(workers: int | None) -> int:
    """The processes to use: ``workers``, or all cores when it is None; at least 1.

    >>> worker_count(3)
    3
    """
    return max(1, workers if workers is not None else (os.cpu_count() or 1))


def _broken(fn: Callable[..., Any], exc: BaseException) -> MolVAEError:
    name = getattr(fn, "__qualname__", None) or getattr(getattr(fn, "func", None), "__qualname__",
                                                        repr(fn))
    return MolVAEError(f"a worker process died while running {name} (killed, out of memory, or "
                       f"crashed in RDKit/SELFIES), so the call failed: {exc}")


class WorkerPool:
    """A pool of worker processes, for code that submits work over a while (the decoder).

    Use as a context manager. :meth:`submit` returns a future at once; :meth:`result` waits for
    it and turns a dead worker into a :class:`MolVAEError`. Leaving the block cancels work not
    yet started and stops the workers without waiting for work in progress.

    Args:
        workers: processes to start.
        initializer: run once in each worker (never in this process), e.g. to set per-process
            state such as SELFIES constraints.
        initargs: its arguments.
    """

    def __init__(self, workers: int, *, initializer: Callable[..., None] | None = None,
                 initargs: Sequence[Any] = ()) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(workers, mp_context=get_context(start_method()),
                                             initializer=initializer, initargs=tuple(initargs))
        self._names: dict[Future, Callable[..., Any]] = {}

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Start ``fn(*args)`` in a worker."""
        try:
            future = self._executor.submit(fn, *args)
        except BrokenProcessPool as exc:
            raise _broken(fn, exc) from exc
        self._names[future] = fn
        return future

    def result(self, future: Future[R]) -> R:
        """The value of a submitted call (its own exception if it raised).

        Raises:
            MolVAEError: a worker died, so the pool cannot finish the call.
        """
        fn = self._names.pop(future, None)
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise _broken(fn, exc) from exc

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` of each item, in order, with at most two calls per worker in flight: a streamed
        input is read as the workers need it, not all at once."""
        pending: deque[Future[R]] = deque()
        items = iter(items)
        try:
            for item in items:
                pending.append(self.submit(fn, item))
                if len(pending) >= 2 * self.workers:
                    yield self.result(pending.popleft())
            while pending:
                yield self.result(pending.popleft())
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Cancel work not started, stop the workers (those still busy are terminated)."""
        executor, busy = self._executor, any(not f.done() for f in self._names)
        self._names.clear()
        if busy and hasattr(executor, "terminate_workers"):  # Python >= 3.14
            executor.terminate_workers()
            return
        # A worker still running a call nobody will read is stopped now rather than waited for;
        # before Python 3.14 the processes are only reachable through ``_processes``.
        stop = list((getattr(executor, "_processes", None) or {}).values()) if busy else []
        for process in stop:
            process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        for process in stop:
            process.join()


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def map_chunks(fn: Callable[[list[T]], Sequence[R]], items: Iterable[T], *, workers: int | None,
               chunk_size: int, initializer: Callable[..., None] | None = None,
               initargs: Sequence[Any] = ()) -> Iterator[R]:
    """Results of ``fn`` over chunks of ``items``, flattened in input order; in ``workers``
    processes, or in this one when ``workers`` is 1 or there is a single chunk.

    ``fn`` takes a list of up to ``chunk_size`` items and returns one result per item: a chunk per
    call keeps the cost of sending work to a process small next to the work itself.

    Args:
        fn: a picklable (module-level) function of a chunk.
        items: any iterable; it is read as the workers need it.
        workers: processes (None: all cores).
        chunk_size: items per call.
        initializer: run once in each worker process, never in this one (in-process callers set
            up the same state themselves).
        initargs: its arguments.

    Raises:
        MolVAEError: a worker process died; whatever ``fn`` raises otherwise.

    >>> list(map_chunks(_lengths, ["a", "bb"], workers=2, chunk_size=1))
    [1, 2]
    """
    workers = worker_count(workers)
    if isinstance(items, Sequence):  # no more processes than chunks
        workers = min(workers, max(1, -(-len(items) // chunk_size)))
    chunks = _chunks(items, chunk_size)
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None) if workers > 1 else None
    if second is None:  # one chunk (or one worker): no processes to start
        yield from fn(first)
        for chunk in chunks:
            yield from fn(chunk)
        return

    def all_chunks() -> Iterator[list[T]]:
        yield first
        yield second
        yield from chunks

    with WorkerPool(workers, initializer=initializer, initargs=initargs) as pool:
        for part in pool.map(fn, all_chunks()):
            yield from part


def _lengths(items: list[str]) -> list[int]:
    """An example chunk function (doctests)."""
    return [len(s) for s in items]


__all__ = ["WorkerPool", "map_chunks", "start_method", "worker_count"]
