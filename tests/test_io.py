"""molvae.io: atomic writes never leave half a file or a temporary file behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from molvae.io import atomic_open, atomic_write_bytes, atomic_write_text


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_text_and_bytes(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "a.txt", "héllo\n")
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def test_creates_parent_directories(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "x" / "y" / "z.txt", "ok")
    assert (tmp_path / "x" / "y" / "z.txt").read_text() == "ok"


def test_replaces_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"


@pytest.mark.parametrize("mode", ["w", "wb"])
def test_exception_mid_write_keeps_previous_content(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "f.csv"
    target.write_text("previous content\n")
    with pytest.raises(RuntimeError, match="mid-write"), atomic_open(target, mode) as fh:
        fh.write("half a " if mode == "w" else b"half a ")
        fh.flush()
        assert len(_leftovers(tmp_path)) == 1  # the data goes to a temporary file beside it
        raise RuntimeError("mid-write")
    assert target.read_text() == "previous content\n"
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csv"]


def test_interrupt_mid_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "new.csv"
    with pytest.raises(KeyboardInterrupt), atomic_open(target) as fh:
        fh.write("partial")
        raise KeyboardInterrupt
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_rejects_read_and_append_modes(tmp_path: Path) -> None:
    for mode in ("r", "a", "rb"):
        with pytest.raises(ValueError, match="writes only"), atomic_open(tmp_path / "f", mode):
            pass
    assert list(tmp_path.iterdir()) == []


def test_files_get_umask_permissions_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644


def test_text_mode_keeps_newlines_verbatim(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "f.csv", "a\r\nb\n")
    assert (tmp_path / "f.csv").read_bytes() == b"a\r\nb\n"
