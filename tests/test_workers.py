"""molvae.workers: the process pool; a dead worker is an error, never a hang."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from molvae.decoding import MoleculeDecoder
from molvae.errors import MolVAEError
from molvae.vocab import Vocabulary
from molvae.workers import WorkerPool, map_chunks

GUARD_S = 120  # a hang guard only: each call below takes well under a second

pytestmark = pytest.mark.integration  # every test starts worker processes


def _square(chunk: list[int]) -> list[int]:
    return [x * x for x in chunk]


def _die(chunk: list[int]) -> list[int]:
    os._exit(1)


def _fail(chunk: list[int]) -> list[int]:
    raise ValueError(f"bad chunk {chunk}")


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


_STATE: list[int] = []


def _remember(value: int) -> None:
    _STATE.append(value)


def _state(chunk: list[int]) -> list[list[int]]:
    return [list(_STATE) for _ in chunk]


def _within_guard(fn: Callable[[], Any]) -> Any:
    """``fn()`` in a thread; fails the test instead of hanging the run if it never returns."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(GUARD_S)
    assert not thread.is_alive(), f"still running after {GUARD_S} s: a dead worker hung the pool"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_map_chunks_keeps_order_in_workers_and_in_process() -> None:
    items = list(range(1000))
    want = [x * x for x in items]
    assert list(map_chunks(_square, items, workers=2, chunk_size=7)) == want
    assert list(map_chunks(_square, iter(items), workers=2, chunk_size=100)) == want
    assert list(map_chunks(_square, items, workers=1, chunk_size=7)) == want
    assert list(map_chunks(_square, [], workers=2, chunk_size=7)) == []


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    with pytest.raises(MolVAEError, match="worker process died while running _die"):
        _within_guard(lambda: list(map_chunks(_die, range(10), workers=2, chunk_size=1)))


def test_a_dead_worker_in_a_long_lived_pool_is_an_error() -> None:
    def run() -> None:
        with WorkerPool(2) as pool:
            assert pool.result(pool.submit(_square, [3])) == [9]
            pool.result(pool.submit(_die, [1]))

    with pytest.raises(MolVAEError, match="worker process died"):
        _within_guard(run)


def test_a_dead_decoder_worker_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import molvae.decoding

    monkeypatch.setattr(molvae.decoding, "_decode_chunk", _die)  # forked workers see it
    vocab = Vocabulary.build(["[C]", "[O]"], max_len=4)

    def run() -> None:
        with MoleculeDecoder(vocab, workers=2) as dec:
            dec.decode(np.array([[3, 4, 2, 0]] * 8))

    with pytest.raises(MolVAEError, match="worker process died"):
        _within_guard(run)


def test_an_exception_in_a_worker_is_raised_as_itself() -> None:
    with pytest.raises(ValueError, match="bad chunk"):
        _within_guard(lambda: list(map_chunks(_fail, range(4), workers=2, chunk_size=2)))


def test_initializer_runs_in_the_workers_only() -> None:
    got = list(map_chunks(_state, range(4), workers=2, chunk_size=1, initializer=_remember,
                          initargs=(7,)))
    assert got == [[7]] * 4
    assert _STATE == []


def test_leaving_a_pool_does_not_wait_for_work_in_progress() -> None:
    start = time.monotonic()
    with WorkerPool(1) as pool:
        pool.submit(_sleep, 30.0)
        time.sleep(0.2)
    assert time.monotonic() - start < 20  # the 30 s call was stopped, not awaited
