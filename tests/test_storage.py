"""Study storage: batched journal and database writes read back as Optuna's, waiting trials
are found in order, passwords stay out of logs. (The engine's use of them, with kill -9 and
several workers, is in test_optimize.py.)"""

from __future__ import annotations

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from molvae.storage import (
    IndexedJournalStorage,
    JournalFile,
    StorageError,
    hide_password,
    open_storage,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_journal_asks_pop_enqueued_trials_in_order_across_processes(tmp_path):
    """molvae's journal storage tracks waiting trials instead of scanning the study on each ask:
    enqueued trials still come out first, in order, whichever process enqueued them."""
    path = str(tmp_path / "study.log")
    one = optuna.create_study(study_name="s", storage=IndexedJournalStorage(JournalFile(path)))
    two = optuna.load_study(study_name="s", storage=IndexedJournalStorage(JournalFile(path)))
    dist = {"x": optuna.distributions.FloatDistribution(0, 10)}
    one.enqueue_trial({"x": 1.0})
    one.enqueue_trial({"x": 2.0})
    assert one.ask(dist).params["x"] == 1.0
    one.tell(one.ask(dist), 0.0)  # x = 2: all enqueued trials asked
    assert two.ask(dist).params["x"] not in (1.0, 2.0)
    two.enqueue_trial({"x": 3.0})  # enqueued by the other process
    assert one.ask(dist).params["x"] == 3.0
    assert one.ask(dist).params["x"] not in (1.0, 2.0, 3.0)
    fresh = optuna.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(path)))
    assert [t.params["x"] for t in fresh.get_trials()[:2]] == [1.0, 2.0]
    assert not fresh.get_trials(states=(TrialState.WAITING,))


def test_a_batch_is_one_append_that_other_readers_see_when_it_ends(tmp_path):
    path = str(tmp_path / "study.log")
    backend = JournalFile(path)
    study = optuna.create_study(study_name="s", storage=IndexedJournalStorage(backend))
    dist = {f"w{i}": optuna.distributions.FloatDistribution(-1, 1) for i in range(8)}
    other = JournalStorage(JournalFileBackend(path))
    with backend.batch():
        trials = [study.ask(dist) for _ in range(3)]
        assert all(len(t.params) == 8 for t in trials)  # read back from memory
        assert len(other.get_all_trials(study._study_id)) == 0  # nothing written yet
    seen = other.get_all_trials(study._study_id)
    assert [len(t.params) for t in seen] == [8, 8, 8]
    study.tell(trials[0], 1.0)  # after the batch, writes go straight to the file
    assert other.get_trial(seen[0]._trial_id).state == TrialState.COMPLETE


def test_open_storage_kinds(tmp_path):
    storage, url, batcher = open_storage(None, tmp_path)
    assert isinstance(storage, IndexedJournalStorage) and url == f"journal:{tmp_path / 'study.log'}"
    assert batcher is not None
    storage, url, batcher = open_storage(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    assert url.startswith("sqlite:///") and batcher is not None
    storage, url, batcher = open_storage(None, None)
    assert url == "memory" and batcher is None
    with pytest.raises(StorageError, match="storage 'nowhere'"):
        open_storage("nowhere", tmp_path)


def test_passwords_stay_out_of_what_is_printed():
    assert hide_password("postgresql://ann:s3cret@db:5432/x") == "postgresql://ann:***@db:5432/x"
    assert hide_password("sqlite:///a.db") == "sqlite:///a.db"
