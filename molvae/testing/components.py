"""The conformance suite of scoring component kinds (:mod:`molvae.optimization.components`).

Every kind, shipped or a plugin's, must keep the contract of
:mod:`molvae.optimization.components._base`. Subclass :class:`ComponentConformance` in your
tests and give the component (and, if it needs them, the molecules or the batch)::

    from molvae.testing.components import ComponentConformance

    class TestDocking(ComponentConformance):
        @pytest.fixture
        def component(self):
            return DockingScore(receptor="1abc.pdbqt")

What it checks: a molecule RDKit cannot read gives NaN; a batch gives what each molecule gives
alone; the same batch gives the same values twice; the parameters survive pickling (a component
is sent to other processes and written to manifests) and give the same values after; values and
their reasons and details have one entry per molecule; a kind that says it is in [0, 1] is; an
empty batch gives no values.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from molvae.optimization.components import Batch, ComponentKind, Raw

__all__ = ["MOLECULES", "ComponentConformance"]

#: Molecules of several kinds (aromatic, charged, stereo, salts, a large one), and one that
#: RDKit cannot read (the last).
MOLECULES: tuple[str, ...] = (
    "CCO",
    "c1ccccc1O",
    "CC(=O)Oc1ccccc1C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "C[NH+](C)CCc1ccccc1",
    "C[C@H](N)C(=O)O",
    "O=C([O-])c1ccccc1.[Na+]",
    "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F",
    "C1CC1",
    "not a molecule",
)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True) or np.allclose(a, b, equal_nan=True,
                                                                    rtol=1e-9, atol=1e-12))


class ComponentConformance:
    """The contract of a component kind, as pytest tests. Override ``component``; override
    ``smiles`` for molecules your kind is meant for (keep an unreadable one last), and
    ``batch_of`` if your kind needs latents (``z``, ``predict``) in the batch."""

    @pytest.fixture
    def component(self) -> ComponentKind:
        raise NotImplementedError("give the component under test as a fixture")

    @pytest.fixture
    def smiles(self) -> Sequence[str]:
        return MOLECULES

    @pytest.fixture
    def batch_of(self) -> Callable[[Sequence[str]], Batch]:
        return lambda smiles: Batch.of(smiles)

    def _raw(self, component: ComponentKind, batch: Batch) -> Raw:
        raw = component(batch)
        assert isinstance(raw, Raw), f"{component.kind}: returned {type(raw).__name__}, not Raw"
        return raw

    def test_is_a_component_kind(self, component):
        assert isinstance(component, ComponentKind)
        assert isinstance(component.kind, str) and component.kind
        assert component.unit_range in (True, False, None)

    def test_one_value_per_molecule(self, component, smiles, batch_of):
        raw = self._raw(component, batch_of(smiles))
        values = np.asarray(raw.values)
        assert values.shape == (len(smiles),) and values.dtype.kind == "f"
        for name in ("reasons", "details"):
            extra = getattr(raw, name)
            assert extra is None or len(extra) == len(smiles), f"{name}: one per molecule"
        if component.has_details:
            assert raw.details is not None, "has_details is set but no details were given"

    def test_an_unreadable_molecule_gives_nan(self, component, smiles, batch_of):
        batch = batch_of(smiles)
        unreadable = [i for i, m in enumerate(batch.mols) if m is None]
        assert unreadable, "give at least one SMILES that RDKit cannot read"
        values = self._raw(component, batch).values
        assert all(math.isnan(values[i]) for i in unreadable)

    def test_a_batch_gives_what_each_molecule_gives_alone(self, component, smiles, batch_of):
        together = self._raw(component, batch_of(smiles)).values
        alone = np.array([self._raw(component, batch_of([s])).values[0] for s in smiles])
        assert _same(together, alone), f"{component.kind}: {together} != {alone}"

    def test_deterministic(self, component, smiles, batch_of):
        first = self._raw(component, batch_of(smiles)).values
        second = self._raw(component, batch_of(smiles)).values
        assert _same(first, second)

    def test_parameters_survive_pickling(self, component, smiles, batch_of):
        copy = pickle.loads(pickle.dumps(component))
        assert copy == component
        assert _same(self._raw(copy, batch_of(smiles)).values,
                     self._raw(component, batch_of(smiles)).values)

    def test_unit_range_is_kept(self, component, smiles, batch_of):
        if component.unit_range is not True:
            pytest.skip("the kind does not claim values in [0, 1]")
        values = self._raw(component, batch_of(smiles)).values
        finite = values[np.isfinite(values)]
        assert ((finite >= 0) & (finite <= 1)).all()

    def test_an_empty_batch_gives_no_values(self, component, batch_of):
        assert len(self._raw(component, batch_of([])).values) == 0
