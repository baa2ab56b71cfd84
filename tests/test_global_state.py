"""No global state at import: the environment stays as it was, RDKit's log is silenced only inside
``without_rdkit_log`` blocks and comes back as the caller had it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from rdkit import RDLogger, rdBase

from molvae.chem import without_rdkit_log
from molvae.cli import tune_openmp

_LEVELS = ("rdApp.debug", "rdApp.info", "rdApp.warning", "rdApp.error")


def _clean_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")
    return {k: os.environ[k] for k in keep if k in os.environ}


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=_clean_env(), capture_output=True,
                          text=True, timeout=300, check=True)
    return done.stdout.strip()


@pytest.mark.integration
def test_import_molvae_leaves_the_environment_unchanged() -> None:
    code = ("import os; before = dict(os.environ); import molvae, molvae.cli; "
            "print(dict(os.environ) == before, 'GOMP_SPINCOUNT' in os.environ)")
    assert _python(code) == "True False"


@pytest.mark.integration
def test_the_cli_imports_torch_only_after_it_tuned_openmp() -> None:
    """``run()`` sets GOMP_SPINCOUNT before ``main``; nothing imported on the way loads torch."""
    code = ("import sys; import molvae.cli; molvae.cli._register(); "
            "print('torch' in sys.modules)")
    assert _python(code) == "False"


def test_tune_openmp_keeps_a_value_already_set() -> None:
    env: dict[str, str] = {}
    tune_openmp(env)
    assert env == {"GOMP_SPINCOUNT": "10000"}
    env = {"GOMP_SPINCOUNT": "0"}
    tune_openmp(env)
    assert env == {"GOMP_SPINCOUNT": "0"}


def _status() -> dict[str, bool]:
    lines = [line.split(":") for line in rdBase.LogStatus().splitlines()]
    return {name: state == "enabled" for name, state in lines if name in _LEVELS}


@pytest.fixture
def restore_rdkit_log():
    before = _status()
    yield
    for name, on in before.items():
        (RDLogger.EnableLog if on else RDLogger.DisableLog)(name)


@pytest.mark.parametrize("caller", ["on", "off", "mixed"])
def test_without_rdkit_log_nests_and_restores_the_callers_state(restore_rdkit_log,
                                                                caller: str) -> None:
    for name in _LEVELS:
        on = caller == "on" or (caller == "mixed" and name in ("rdApp.warning", "rdApp.error"))
        (RDLogger.EnableLog if on else RDLogger.DisableLog)(name)
    before = _status()
    silent = dict.fromkeys(_LEVELS, False)
    with without_rdkit_log():
        assert _status() == silent
        with without_rdkit_log():
            assert _status() == silent
        assert _status() == silent  # the inner block did not end the outer one's silence
    assert _status() == before


def test_without_rdkit_log_restores_after_an_exception(restore_rdkit_log) -> None:
    before = _status()
    with pytest.raises(ValueError), without_rdkit_log():
        raise ValueError("inside")
    assert _status() == before
