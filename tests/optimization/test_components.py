"""Every shipped component kind passes the conformance suite; plugins come in through the
``molvae.components`` entry points and pass it too."""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from molvae.errors import ObjectiveError
from molvae.optimization import components
from molvae.optimization.campaign import loads_campaign
from molvae.optimization.components import (
    DESCRIPTORS,
    Alerts,
    Batch,
    ComponentKind,
    Descriptor,
    Head,
    Isomer,
    PythonFunction,
    Similarity,
    Substructure,
    per_molecule,
)
from molvae.testing.components import ComponentConformance


@pytest.fixture(params=sorted(DESCRIPTORS))
def descriptor(request):
    return Descriptor(request.param)


class TestDescriptor(ComponentConformance):
    @pytest.fixture
    def component(self, descriptor):
        return descriptor


@pytest.fixture(params=[{}, {"radius": 3, "bits": 0, "counts": True},
                        {"features": True, "bits": 0, "counts": True}, {"combine": "mean"},
                        *({"fingerprint": name} for name in ("ecfp4", "ecfp6", "fcfp4",
                                                             "fcfp6", "ap", "phco"))])
def similarity(request):
    return Similarity(("c1ccccc1O", "CCO"), **request.param)


class TestSimilarity(ComponentConformance):
    @pytest.fixture
    def component(self, similarity):
        return similarity


class TestSubstructure(ComponentConformance):
    @pytest.fixture(params=["required", "forbidden"])
    def component(self, request):
        return Substructure(("c1ccccc1", "[OX2H]"), mode=request.param)


class TestAlerts(ComponentConformance):
    @pytest.fixture
    def component(self):
        return Alerts()


class TestIsomer(ComponentConformance):
    @pytest.fixture
    def component(self):
        return Isomer("C9H8O4")


def _predict(z):
    return np.column_stack([np.tanh(z[:, 0]) / 2 + 0.5, z[:, 0], z[:, 1] ** 2])


class TestHead(ComponentConformance):
    @pytest.fixture(params=["qed", "logp", "sa"])
    def component(self, request):
        return Head(request.param)

    @pytest.fixture
    def batch_of(self):
        def make(smiles):
            z = np.array([[len(s) / 10, (len(s) % 3) - 1.0] for s in smiles]).reshape(-1, 2)
            return Batch.of(smiles, z=z, predict=_predict)
        return make


def heavy_atoms_halved(smiles: list[str]) -> list[float]:
    from rdkit import Chem

    return [Chem.MolFromSmiles(s).GetNumHeavyAtoms() / 2 for s in smiles]


class TestPythonFunction(ComponentConformance):
    @pytest.fixture
    def component(self):
        return PythonFunction(f"{__name__}:heavy_atoms_halved")


# --- a broken kind fails the suite -----------------------------------------------------------


@dataclass(frozen=True)
class _Moody(ComponentKind):
    """Gives a different value for a molecule depending on its batch: not a component."""

    kind: ClassVar[str] = "moody"
    unit_range: ClassVar[bool] = False

    def __call__(self, batch):
        return per_molecule(batch, lambda m: m.GetNumAtoms() + len(batch), self.kind)


def test_the_suite_catches_a_kind_whose_values_depend_on_the_batch():
    suite = ComponentConformance()
    with pytest.raises(AssertionError):
        suite.test_a_batch_gives_what_each_molecule_gives_alone(
            _Moody(), ["CCO", "CCCO"], lambda s: Batch.of(s))


# --- plugins ----------------------------------------------------------------------------------

PLUGIN = '''
from dataclasses import dataclass
from typing import ClassVar

from molvae.optimization.components import ComponentKind, per_molecule


@dataclass(frozen=True)
class RingAtoms(ComponentKind):
    """Share of a molecule's heavy atoms that are in a ring, at least ``minimum``."""

    minimum: float = 0.0
    kind: ClassVar[str] = "ring_atoms"
    unit_range: ClassVar[bool] = True

    def __call__(self, batch):
        def share(mol):
            ring = sum(a.IsInRing() for a in mol.GetAtoms())
            return max(ring / mol.GetNumAtoms(), self.minimum)
        return per_molecule(batch, share, self.kind)
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """An installed package that registers ``ring_atoms`` in the entry-point group."""
    (tmp_path / "ringplugin.py").write_text(textwrap.dedent(PLUGIN))
    dist = tmp_path / "ringplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ringplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[molvae.components]\nring_atoms = ringplugin:RingAtoms\n"
        "qed = ringplugin:RingAtoms\nbroken = ringplugin:Missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("ringplugin", None)


def test_a_plugin_kind_is_usable_in_a_campaign(plugin, caplog):
    campaign = loads_campaign(textwrap.dedent("""
        [campaign]
        name = "rings"
        [[component]]
        kind = "ring_atoms"
        minimum = 0.1
    """))
    assert campaign.objective()(["c1ccccc1C", "CCO"]).round(3).tolist() == [0.857, 0.1]
    assert campaign.to_dict()["component"][0]["kind"] == "ring_atoms"
    kinds = components.kinds()
    assert kinds["qed"][0] is Descriptor  # a plugin cannot take a shipped kind's name
    assert "broken" not in kinds and "cannot be imported" in caplog.text


class TestPluginConformance(ComponentConformance):
    @pytest.fixture
    def component(self, plugin):
        return components.build_scorer("ring_atoms", minimum=0.2)


def test_unknown_kinds_name_the_choices():
    with pytest.raises(ObjectiveError, match="unknown component kind 'qedd'; expected one of:"):
        components.build_scorer("qedd")
