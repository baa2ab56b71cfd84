"""Similarity kind: Tanimoto similarity to reference molecules on a fingerprint chemists name.

The fingerprint is Morgan's by default, shaped by ``radius``, ``bits``, ``counts`` and
``features``; or one of GuacaMol's named fingerprints (:data:`FINGERPRINTS`), the ``fp_type``
of its ``TanimotoScoringFunction`` (Brown et al. 2019, ``guacamol/utils/fingerprints.py``):

- ``ecfp4`` / ``ecfp6``: RDKit's ``GetMorganFingerprint(mol, 2)`` / ``(mol, 3)``, which is an
  *unfolded count* vector (a ``UIntSparseIntVect`` of Morgan environment ids, not a bit
  vector), so Tanimoto is taken on counts: ``sum(min) / sum(max)`` over the ids;
- ``fcfp4`` / ``fcfp6``: the same with ``useFeatures=True`` (atoms by pharmacophoric role:
  donor, acceptor, aromatic, halogen, basic, acidic);
- ``ap``: ``GetAtomPairFingerprint(mol, maxLength=10)``, atom pairs (Carhart et al. 1985) at
  topological distances 1 to 10, unfolded counts;
- ``phco``: ``Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory)``, Gobbi and Poppinger's 2-
  and 3-point 2-D pharmacophore fingerprint, a bit vector.

The Morgan and atom-pair ones are computed with RDKit's fingerprint generators
(``rdFingerprintGenerator``), whose sparse count fingerprints hold exactly the ids and counts of
those legacy functions (checked on the GuacaMol reference molecules,
``tests/optimization/test_fingerprints.py``), so the similarities are GuacaMol's.

>>> menthol = Similarity(("CC(C)C1CCC(C)CC1O",), fingerprint="ecfp4")
>>> menthol(Batch.of(["CC(C)C1CCC(C)CC1O", "CC1CCCCC1O"])).values.round(3)
array([1.   , 0.308])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from molvae.optimization.components._base import Batch, ComponentKind, Raw, parse
from molvae.optimization.parameters import require

__all__ = ["FINGERPRINTS", "Similarity"]

#: The fingerprints a similarity can be taken on: name -> what it is.
FINGERPRINTS: dict[str, str] = {
    "morgan": "Morgan, shaped by radius, bits, counts and features (the default)",
    "ecfp4": "GuacaMol's ECFP4: Morgan radius 2, unfolded counts",
    "ecfp6": "GuacaMol's ECFP6: Morgan radius 3, unfolded counts",
    "fcfp4": "GuacaMol's FCFP4: Morgan radius 2 on pharmacophoric atom features, unfolded counts",
    "fcfp6": "GuacaMol's FCFP6: Morgan radius 3 on pharmacophoric atom features, unfolded counts",
    "ap": "GuacaMol's AP: atom pairs at topological distances 1-10, unfolded counts",
    "phco": "GuacaMol's PHCO: Gobbi-Poppinger 2-D pharmacophore (2- and 3-point), bits",
}
#: The named Morgan fingerprints: name -> (radius, pharmacophoric features).
_NAMED_MORGAN = {"ecfp4": (2, False), "ecfp6": (3, False), "fcfp4": (2, True), "fcfp6": (3, True)}
#: GuacaMol's atom pairs: ``GetAtomPairFingerprint(mol, maxLength=10)``.
_AP_MAX_DISTANCE = 10
#: Morgan's parameters when ``fingerprint`` is ``morgan``: name -> default.
_MORGAN_DEFAULTS = {"radius": 2, "bits": 2048, "counts": False, "features": False}


def _morgan(radius: int, bits: int, counts: bool, features: bool) -> Callable[[Chem.Mol], Any]:
    kwargs: dict[str, Any] = {"radius": radius, "fpSize": bits or 2048}
    if features:
        kwargs["atomInvariantsGenerator"] = rdFingerprintGenerator.GetMorganFeatureAtomInvGen()
    gen = rdFingerprintGenerator.GetMorganGenerator(**kwargs)
    if bits == 0:
        return gen.GetSparseCountFingerprint if counts else gen.GetSparseFingerprint
    return gen.GetCountFingerprint if counts else gen.GetFingerprint


def _pharmacophore(mol: Chem.Mol) -> Any:
    from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

    return Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory)


def _named(name: str) -> Callable[[Chem.Mol], Any]:
    """The function computing the named fingerprint ``name`` (not ``morgan``)."""
    if name in _NAMED_MORGAN:
        radius, features = _NAMED_MORGAN[name]
        return _morgan(radius, 0, True, features)
    if name == "ap":
        gen = rdFingerprintGenerator.GetAtomPairGenerator(minDistance=1,
                                                          maxDistance=_AP_MAX_DISTANCE)
        return gen.GetSparseCountFingerprint
    return _pharmacophore


@dataclass(frozen=True)
class Similarity(ComponentKind):
    """Tanimoto similarity to one or more reference molecules (combined by ``combine``: the
    ``"max"`` over references by default).

    ``fingerprint`` names the fingerprint (:data:`FINGERPRINTS`, any case): ``"morgan"`` (the
    default, kept as None) is Morgan's, ``radius`` 2 (ECFP4-like) by default, ``bits`` long (0:
    not folded, RDKit's sparse fingerprint), of ``counts`` instead of bits (Tanimoto on counts),
    with ``features`` (pharmacophoric atom invariants: FCFP) instead of atom identities. The
    others are GuacaMol's (see the module docstring) and fix their own shape, so ``radius``,
    ``bits``, ``counts`` and ``features`` may not be given with them. GuacaMol's ECFP4 is
    ``fingerprint="ecfp4"``, or equally ``radius=2, bits=0, counts=True``.

    >>> Similarity(("c1ccccc1O",))(Batch.of(["c1ccccc1O", "c1ccccc1N", "?"])).values.round(2)
    array([1.  , 0.38,  nan])
    >>> Similarity(("c1ccccc1O",), fingerprint="AP").fingerprint
    'ap'

    Raises:
        ObjectiveError: no or an invalid reference, an unknown fingerprint (the valid ones
            named), Morgan parameters given with a named fingerprint, a bad parameter value.
    """

    references: tuple[str, ...]
    fingerprint: str | None = None
    radius: int | None = None
    bits: int | None = None
    counts: bool | None = None
    features: bool | None = None
    combine: Literal["max", "mean", "min"] = "max"
    kind: ClassVar[str] = "similarity"
    cheap: ClassVar[bool] = True
    unit_range: ClassVar[bool] = True
    _fps: tuple = field(init=False, repr=False, compare=False)
    _compute: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.references, str):
            object.__setattr__(self, "references", (self.references,))
        object.__setattr__(self, "references", tuple(self.references))
        require(
            len(self.references) > 0, "similarity: give at least one reference SMILES", "references"
        )
        name = self.fingerprint
        require(
            name is None or (isinstance(name, str) and name.lower() in FINGERPRINTS),
            f"similarity: unknown fingerprint {name!r}; expected one of: "
            f"{', '.join(FINGERPRINTS)}",
            "fingerprint",
        )
        name = None if name is None or name.lower() == "morgan" else name.lower()
        object.__setattr__(self, "fingerprint", name)  # "morgan" is kept as None
        if name is None:
            for key, default in _MORGAN_DEFAULTS.items():
                if getattr(self, key) is None:
                    object.__setattr__(self, key, default)
        else:
            given = [key for key in _MORGAN_DEFAULTS if getattr(self, key) is not None]
            require(
                not given,
                f"similarity: fingerprint {name!r} fixes its own shape; the Morgan parameters "
                f"(radius, bits, counts, features) apply only to fingerprint 'morgan' (the "
                f"default): remove {', '.join(given)}",
                given[0] if given else None,
            )
        require(
            name is not None or (isinstance(self.radius, int) and self.radius >= 0),
            f"similarity: radius must be a non-negative integer (got {self.radius})",
            "radius",
        )
        require(
            name is not None or (isinstance(self.bits, int) and self.bits >= 0),
            f"similarity: bits must be a non-negative integer, 0 for unfolded (got {self.bits})",
            "bits",
        )
        require(
            self.combine in ("max", "mean", "min"),
            f"similarity: combine must be 'max', 'mean' or 'min' (got {self.combine!r})",
            "combine",
        )
        compute = (
            _named(name) if name is not None
            else _morgan(self.radius, self.bits, self.counts, self.features)
        )
        object.__setattr__(self, "_compute", compute)
        fps = []
        for smiles in self.references:
            mol = parse(smiles) if isinstance(smiles, str) else None
            require(
                mol is not None, f"similarity: invalid reference SMILES {smiles!r}", "references"
            )
            fps.append(self.fingerprint_of(mol))
        object.__setattr__(self, "_fps", tuple(fps))

    def fingerprint_of(self, mol: Chem.Mol) -> Any:
        """The fingerprint these parameters describe, of one molecule (an RDKit vector)."""
        return self._compute(mol)

    def __call__(self, batch: Batch) -> Raw:
        values = np.full(len(batch), np.nan)
        reasons = [""] * len(batch)
        present, fps = [], []
        for i, mol in enumerate(batch.mols):
            if mol is None:
                continue
            try:
                fps.append(self.fingerprint_of(mol))
            except (RuntimeError, ValueError) as err:
                reasons[i] = f"similarity: RDKit error: {err}"
                continue
            present.append(i)
        if present:
            sims = np.array([DataStructs.BulkTanimotoSimilarity(ref, fps) for ref in self._fps])
            combine = {"max": np.max, "mean": np.mean, "min": np.min}[self.combine]
            values[present] = combine(sims, axis=0)  # (references, present) -> (present,)
        return Raw(values, tuple(reasons))
