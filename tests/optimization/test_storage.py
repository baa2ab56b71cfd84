"""Study storage: molvae's journal file reads back as Optuna's own, from several processes;
every supported scheme opens or gives a molvae error naming the supported ones; passwords stay
out of what is printed. (The run loop's use of them, with kill -9 and several workers, is in
test_processes.py.)"""

from __future__ import annotations

import multiprocessing

import optuna
import pytest
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState, create_trial

from molvae.errors import StorageError
from molvae.optimization.storage import JournalFile, hide_password, open_storage, open_study

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _add(path: str, start: int, n: int) -> None:
    study = optuna.load_study(study_name="s", storage=JournalStorage(JournalFile(path)))
    study.add_trials([create_trial(value=float(i), user_attrs={"i": i})
                      for i in range(start, start + n)])


@pytest.mark.integration
def test_journal_file_is_optuna_s_format_and_loses_nothing_across_processes(tmp_path):
    """Two processes append to one journal at once: Optuna's own backend reads back every trial,
    once each."""
    path = str(tmp_path / "study.log")
    optuna.create_study(study_name="s", storage=JournalStorage(JournalFile(path)))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_add, args=(path, start, 50)) for start in (0, 1000)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    fresh = optuna.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(path)))
    values = sorted(t.user_attrs["i"] for t in fresh.get_trials())
    assert values == list(range(50)) + list(range(1000, 1050))
    assert len({t.number for t in fresh.get_trials()}) == 100


def test_sync_keeps_the_file_readable(tmp_path):
    backend = JournalFile(str(tmp_path / "study.log"))
    study = optuna.create_study(storage=JournalStorage(backend), direction="maximize")
    study.add_trial(create_trial(value=1.0))
    backend.sync()
    assert (tmp_path / "study.log").read_text().endswith("\n")
    plain = JournalStorage(JournalFileBackend(str(tmp_path / "study.log")))
    reread = optuna.load_study(study_name=study.study_name, storage=plain)
    assert [t.value for t in reread.get_trials()] == [1.0]


def test_open_storage_kinds(tmp_path):
    storage, url, journal = open_storage(None, tmp_path)
    assert isinstance(storage, JournalStorage) and url == f"journal:{tmp_path / 'study.log'}"
    assert isinstance(journal, JournalFile)
    storage, url, journal = open_storage(tmp_path / "other.log", tmp_path)
    assert url == f"journal:{tmp_path / 'other.log'}" and journal is not None
    storage, url, journal = open_storage(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    assert isinstance(storage, RDBStorage) and url.startswith("sqlite:///") and journal is None
    storage, url, journal = open_storage(None, None)
    assert url == "memory" and journal is None
    with pytest.raises(StorageError, match="storage 'nowhere'.*sqlite://"):
        open_storage("nowhere", tmp_path)


@pytest.mark.parametrize("url, message", [
    ("ftp://host/x", "unsupported scheme 'ftp'.*sqlite://, postgresql://, mysql://"),
    ("grpc://nohost", "grpc://HOST:PORT"),
    ("sqlite:////no/such/dir/x.db", "cannot connect"),
])
def test_unusable_urls_are_molvae_errors(url, message):
    with pytest.raises(StorageError, match=message):
        open_storage(url, None)


def test_a_missing_driver_says_what_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_redis(name, *args, **kwargs):
        if name.startswith(("redis", "pymysql")):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_redis)
    with pytest.raises(StorageError, match="mysql driver is not installed: pip install pymysql"):
        open_storage("mysql://root:pw@127.0.0.1/test", None)


def test_workers_racing_to_create_a_study_join_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    storage, _, _ = open_storage(url, None)
    first = open_study(storage, "s", ["maximize"])
    second = open_study(open_storage(url, None)[0], "s", ["maximize"])
    assert first.study_name == second.study_name
    second.add_trial(create_trial(value=1.0))
    assert [t.state for t in first.get_trials()] == [TrialState.COMPLETE]


def test_passwords_stay_out_of_what_is_printed():
    assert hide_password("postgresql://ann:s3cret@db:5432/x") == "postgresql://ann:***@db:5432/x"
    assert hide_password("sqlite:///a.db") == "sqlite:///a.db"
    with pytest.raises(StorageError) as err:
        open_storage("postgresql://ann:s3cret@127.0.0.1:1/nodb", None)
    assert "s3cret" not in str(err.value) and "ann:***@" in str(err.value)


def test_a_lock_left_by_a_killed_process_is_removed_with_a_word(tmp_path, caplog):
    """kill -9 while appending leaves Optuna's symlink lock behind: the next run removes it
    (saying so) instead of waiting in silence for Optuna's 30 s grace period."""
    import logging
    import os

    path = tmp_path / "study.log"
    optuna.create_study(study_name="s", storage=JournalStorage(JournalFile(str(path))))
    lock = tmp_path / "study.log.lock"
    os.symlink(path, lock)  # what Optuna's lock is: a symlink beside the journal
    old = os.stat(path).st_mtime - 60
    os.utime(path, (old, old))
    os.utime(lock, (old, old), follow_symlinks=False)
    with caplog.at_level(logging.WARNING, logger="molvae.optimization.storage"):
        study = optuna.load_study(study_name="s", storage=JournalStorage(JournalFile(str(path))))
    assert not lock.is_symlink() and "removed the journal lock" in caplog.text
    study.add_trial(create_trial(value=1.0))
    assert len(study.get_trials()) == 1


def test_a_fresh_lock_is_kept_and_waited_for(tmp_path):
    import os

    path = tmp_path / "study.log"
    optuna.create_study(study_name="s", storage=JournalStorage(JournalFile(str(path))))
    lock = tmp_path / "study.log.lock"
    os.symlink(path, lock)  # another worker writing right now
    JournalFile(str(path))
    assert lock.is_symlink()  # not taken from a live writer
    lock.unlink()


def test_a_database_that_does_not_exist_is_named(tmp_path):
    """On the local PostgreSQL (skipped without one): one line naming the URL and the reason."""
    import os

    server = os.environ.get("MOLVAE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        psycopg.connect(server, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any reason the server cannot be used
        if os.environ.get("MOLVAE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"no PostgreSQL server at {server}: {exc}")
        pytest.skip(f"no PostgreSQL server at {server}")
    url = server.rsplit("/", 1)[0] + "/molvae_no_such_database"
    with pytest.raises(StorageError) as err:
        open_storage(url, None)
    message = str(err.value)
    assert message.startswith(f"storage {url}: cannot connect") and "does not exist" in message
    assert "\n" not in message
