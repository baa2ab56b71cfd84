"""Packaging: only ``molvae`` is importable from the project; data folders never shadow packages."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import molvae

ROOT = Path(__file__).resolve().parents[1]


def _spec_origin(name: str, cwd: Path) -> str:
    """Where ``import name`` resolves for a program run in ``cwd`` ("None" if nowhere)."""
    code = (
        "import importlib.util as u\n"
        f"s = u.find_spec({name!r})\n"
        "print('None' if s is None else (s.origin or list(s.submodule_search_locations or [])))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60,
        check=True,
    )
    return proc.stdout.strip()


@pytest.mark.integration
@pytest.mark.parametrize("name", ["datasets", "optimize"])
def test_installed_molvae_provides_no_datasets_or_optimize_module(name: str, tmp_path) -> None:
    """With molvae installed, user code (run anywhere but inside this checkout, where Python makes
    every folder a namespace package) never imports the repository's data folders."""
    assert _spec_origin("molvae", tmp_path) != "None"  # the installation is visible from there
    origin = _spec_origin(name, tmp_path)
    assert origin == "None" or str(ROOT) not in origin, (
        f"`import {name}` resolves into the repository ({origin})"
    )


def test_package_discovery_includes_only_molvae() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    find = config["tool"]["setuptools"]["packages"]["find"]
    assert find["include"] == ["molvae*"]
    from setuptools import find_namespace_packages, find_packages

    found = find_packages(str(ROOT), include=find["include"])
    assert found and all(p == "molvae" or p.startswith("molvae.") for p in found)
    assert "molvae.cli" in found
    namespaces = find_namespace_packages(str(ROOT), include=find["include"])
    assert all(p == "molvae" or p.startswith("molvae.") for p in namespaces)


def test_shipped_model_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["molvae"]
    assert "models/default/*.safetensors" in patterns
    assert (Path(molvae.__file__).parent / "models" / "default" / "model.safetensors").is_file()


def test_shipped_model_stays_within_25_mb_and_loads() -> None:
    """The wheel carries the model: it stays small, and its sampling distribution and domain
    calibration are the ones its header describes."""
    from molvae.checkpoint import load_model

    path = Path(molvae.__file__).parent / "models" / "default" / "model.safetensors"
    assert path.stat().st_size <= 25 * 1024 * 1024
    network, meta = load_model(path)
    prior = meta.info.get("prior", {})
    assert network.prior_means.shape[0] == network.cfg.prior_components
    if prior.get("kind") == "posteriors":
        assert network.cfg.prior_components == prior["components"]


def test_test_tools_are_not_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"]).lower()
    for tool in ("pytest", "hypothesis", "ruff"):
        assert tool not in runtime
    assert any(d.startswith("pytest") for d in project["optional-dependencies"]["test"])


@pytest.mark.integration
def test_console_script_and_module_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["molvae"] == "molvae.cli:run"
    proc = subprocess.run(
        [sys.executable, "-m", "molvae", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    assert "train" in proc.stdout and "sample" in proc.stdout


ERRORS = ("MolVAEError", "CheckpointError", "DataError", "InvalidSmilesError", "VocabularyError")


def test_public_api() -> None:
    """Each name of ``__all__`` is the object it stands for, and the list holds no other."""
    import molvae.errors
    import molvae.trained

    assert set(molvae.__all__) == {"__version__", "load_model", "TrainedModel", "optimize",
                                   *ERRORS}
    assert len(molvae.__all__) == len(set(molvae.__all__))
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert isinstance(molvae.__version__, str) and molvae.__version__ == version

    assert molvae.load_model is molvae.trained.load_model
    assert inspect.isfunction(molvae.load_model)
    assert molvae.TrainedModel is molvae.trained.TrainedModel
    assert inspect.isclass(molvae.TrainedModel)
    for name in ERRORS:
        error = getattr(molvae, name)
        assert error is getattr(molvae.errors, name), name
        assert inspect.isclass(error) and issubclass(error, molvae.MolVAEError), name
    assert issubclass(molvae.MolVAEError, Exception)

    with pytest.raises(AttributeError):
        molvae.no_such_name  # noqa: B018


def test_public_functions_are_not_shadowed_by_modules() -> None:
    """``molvae.optimize`` is the function, however often it is read and whatever submodules
    are imported (a submodule of the same name, once imported, would replace the attribute)."""
    for name in ("load_model", "optimize"):
        if importlib.util.find_spec(f"molvae.{name}") is not None:
            importlib.import_module(f"molvae.{name}")
        for _ in range(2):  # the first read may go through the lazy __getattr__, later ones not
            obj = getattr(molvae, name)
            assert not inspect.ismodule(obj), f"molvae.{name} is the module {obj.__name__}"
            assert callable(obj) and inspect.isfunction(obj), name
            assert obj.__name__ == name and obj.__module__.startswith("molvae."), obj.__module__


@pytest.mark.integration
def test_import_is_light() -> None:
    """``import molvae`` must not pull in torch or RDKit (the CLI's --help stays fast)."""
    code = "import sys, molvae; print(sorted({'torch', 'rdkit'} & set(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "[]"
