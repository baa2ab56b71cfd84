"""The budget's ledger: reservations written before scoring keep several workers to the budget
exactly; a restart, a dead process or a long silence releases what a worker held."""

from __future__ import annotations

import socket
import time

import optuna
from optuna.trial import TrialState, create_trial

from molvae.optimization.budget import STALE_SECONDS, amend, gone, ledger, reserve, void
from molvae.optimization.records import ATTR

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _told(study, smiles, session, seq, worker="a"):
    study.add_trial(create_trial(value=1.0, user_attrs={
        "smiles": smiles, ATTR: {"oracle": True, "session": session, "seq": seq,
                                 "worker": worker, "time": time.time()}}))


def _book(study, budget):
    return ledger(study.get_trials(deepcopy=False), budget)


def test_two_reservations_at_once_keep_to_the_budget():
    """Two workers see 10 free and reserve 8 each: the study orders them; the first keeps 8,
    the second may keep only 2 -- never 16 scored for a budget of 10."""
    study = optuna.create_study()
    reserve(study, session="A", seq=1, worker="a", molecules=8)
    reserve(study, session="B", seq=1, worker="b", molecules=8)
    book = _book(study, 10)
    assert book.allowed(("A", 1)) == 8 and book.allowed(("B", 1)) == 2
    amend(study, session="B", seq=1, worker="b", granted=2)
    book = _book(study, 10)
    assert book.free() == 0 and book.pending() == 10 and book.pending("A") == 2
    for i in range(8):
        _told(study, f"C{'C' * i}", "A", 1)
    for i in range(2):
        _told(study, f"N{'C' * i}", "B", 1, "b")
    book = _book(study, 10)
    assert len(book.told) == 10 and book.pending() == 0 and book.free() == 0


def test_records_settle_their_reservation_wherever_they_stand():
    """An Optuna sampler's trials are numbered when asked, before their reservation."""
    study = optuna.create_study()
    _told(study, "CCO", "A", 1)
    reserve(study, session="A", seq=1, worker="a", molecules=1)
    book = _book(study, 5)
    assert book.pending() == 0 and book.free() == 4


def test_a_restart_and_a_void_release_what_a_session_held():
    study = optuna.create_study()
    reserve(study, session="old", seq=1, worker="a", molecules=4)
    reserve(study, session="B", seq=1, worker="b", molecules=3)
    assert _book(study, 10).free() == 3
    reserve(study, session="new", seq=1, worker="a", molecules=2)  # worker a, restarted
    book = _book(study, 10)
    assert book.holders("new") == {"b": 3} and book.allowed(("new", 1)) == 2
    void(study, ["B"], "a")
    reserve(study, session="B", seq=2, worker="b", molecules=1)  # B was alive after all
    book = _book(study, 10)
    assert book.holders("new") == {"b": 1}  # what B reserved after the void still holds


def test_gone_sessions():
    study = optuna.create_study()
    host = socket.gethostname()
    reserve(study, session="dead", seq=1, worker=f"{host}:999999999", molecules=1)
    reserve(study, session="alive", seq=1, worker="elsewhere", molecules=1)
    reserve(study, session="mine-before", seq=1, worker="me", molecules=1)
    book = _book(study, 10)
    assert gone(book, "mine-now", "me") == ["dead", "mine-before"]
    later = time.time() + STALE_SECONDS + 1
    assert gone(book, "mine-now", "me", now=later) == ["alive", "dead", "mine-before"]


def test_reservations_are_failed_trials_outside_the_results():
    from molvae.optimization import study_results

    study = optuna.create_study(direction="maximize")
    reserve(study, session="A", seq=1, worker="a", molecules=1)
    _told(study, "CCO", "A", 1)
    assert [t.state for t in study.get_trials()] == [TrialState.FAIL, TrialState.COMPLETE]
    assert study_results(study)["smiles"].tolist() == ["CCO"]


def test_a_trial_left_running_by_a_killed_worker_is_not_told():
    """``kill -9`` between setting a trial's attributes and telling it leaves a running trial
    whose molecule was scored but never told: the ledger and the results leave it out, so a
    resumed run still ends with exactly the budget of told molecules."""
    from molvae.optimization import study_results

    study = optuna.create_study(direction="maximize")
    running = study.ask()
    running.set_user_attr(ATTR, {"oracle": True, "session": "A", "seq": 1, "worker": "a",
                                 "time": time.time()})
    running.set_user_attr("smiles", "CCN")
    _told(study, "CCO", "A", 1)
    book = ledger(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,
                                                           TrialState.FAIL)), 3)
    assert book.told == {"CCO"} and book.free() == 2
    assert study_results(study)["smiles"].tolist() == ["CCO"]
