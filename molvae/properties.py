"""The chemist's property table: drug-likeness descriptors and structural alerts, one row per
molecule, in the columns of every CSV/SDF that molvae writes.

>>> row = describe("CC(=O)Oc1ccccc1C(=O)O")  # aspirin
>>> row["mw"], row["hbd"], row["hba"], row["lipinski_violations"], row["pains"]
(180.159, 1, 4, 0, '')
>>> annotate(["CCO", "not a molecule"])[["mw", "hbd", "pains"]].to_dict("list")
{'mw': [46.069, nan], 'hbd': [1, None], 'pains': ['', None]}

Every value is the one the matching verb of :mod:`molvae.chem` gives, floats rounded to
``DECIMALS`` places, but several times faster: the structural alerts (PAINS, Brenk and QED's own)
come from the batch screen of :mod:`molvae.alerts`, QED reuses the descriptors and alert count
already computed, and SA counts stereocentres in C++. ``annotate(..., decimals=None)``
gives the same values unrounded: the scoring components read them (one engine a run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import QED, rdMolDescriptors

from molvae import chem
from molvae.alerts import AlertScreen, alert_screen
from molvae.workers import map_chunks, worker_count

#: The table's columns, in order (the documented CSV schema).
COLUMNS: tuple[str, ...] = (
    "qed", "sa", "logp", "mw", "tpsa", "hbd", "hba", "rotatable_bonds", "rings",
    "aromatic_rings", "fraction_sp3", "formal_charge", "lipinski_violations", "pains", "brenk",
)  # fmt: skip
#: Columns holding floats (NaN when missing), rounded to ``DECIMALS`` places to keep CSVs readable.
FLOAT_COLUMNS: tuple[str, ...] = ("qed", "sa", "logp", "mw", "tpsa", "fraction_sp3")
#: Columns holding alert names joined by ";" ("" for none, None when missing).
ALERT_COLUMNS: tuple[str, ...] = ("pains", "brenk")
#: Columns holding counts (pandas "Int64", so a missing row stays <NA> rather than turning floats).
INT_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in FLOAT_COLUMNS + ALERT_COLUMNS)
DECIMALS = 4
#: Below this many molecules :func:`annotate` stays in-process: starting workers costs more.
MIN_PARALLEL = 5000
_CHUNK = 1000  # molecules per worker task: small enough to balance, large enough for the screen

_Row = tuple  # the values of one row, in COLUMNS order
_MISSING: _Row = tuple(None if c in ALERT_COLUMNS else math.nan for c in COLUMNS)


def describe(mol: chem.MolLike) -> dict[str, Any]:
    """The table's row for one molecule (SMILES or Mol): floats, ints and alert strings; NaN for
    every number and None for the alerts if RDKit cannot read it. A Mol has its explicit
    hydrogens removed first, as QED does.

    >>> describe("not a molecule")["pains"] is None
    True
    """
    row = dict(zip(COLUMNS, _describe_batch([mol])[0], strict=True))
    return {k: round(v, DECIMALS) if k in FLOAT_COLUMNS else v for k, v in row.items()}


def annotate(
    smiles: Sequence[str | None],
    *,
    workers: int | None = None,
    min_parallel: int = MIN_PARALLEL,
    decimals: int | None = DECIMALS,
) -> pd.DataFrame:
    """The property table of many molecules: columns ``COLUMNS``, one row per input in input order
    (index 0..n-1), empty rows for unreadable input. Never raises on a bad molecule.

    Args:
        smiles: SMILES strings or RDKit Mols; ``None`` and unparsable strings give an empty row.
        workers: processes to use (default: all cores); 1 stays in this process.
        min_parallel: inputs shorter than this stay in this process whatever ``workers`` says.
        decimals: places the float columns are rounded to (None: unrounded, as scoring reads
            them; :func:`round_floats` rounds such a table later).

    >>> int(annotate(["c1ccccc1O"]).loc[0, "aromatic_rings"])
    1
    """
    table = _frame(_in_chunks(_describe_batch, list(smiles), workers, min_parallel))
    return round_floats(table, decimals) if decimals is not None else table


def round_floats(table: pd.DataFrame, decimals: int = DECIMALS) -> pd.DataFrame:
    """The property table with its float columns rounded, as CSVs show them."""
    out = table.copy()
    for name in FLOAT_COLUMNS:
        if name in out:
            out[name] = out[name].round(decimals)
    return out


def _in_chunks(fn: Any, items: list, workers: int | None, min_parallel: int) -> list:
    """``fn`` over batches of ``items``, in worker processes when there are enough of them."""
    workers = worker_count(workers)
    alert_screen()  # built once, before forking, so every worker inherits it
    if workers == 1 or len(items) < max(min_parallel, 2):
        return fn(items)
    size = min(_CHUNK, -(-len(items) // workers))
    return list(map_chunks(fn, items, workers=workers, chunk_size=size))


def _frame(rows: list[_Row]) -> pd.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    data: dict[str, Any] = {}
    for name, column in zip(COLUMNS, columns, strict=True):
        if name in FLOAT_COLUMNS:
            data[name] = np.asarray(column, dtype=np.float64)
        elif name in INT_COLUMNS:  # NaN marks a missing count
            numbers = np.asarray(column, dtype=np.float64)
            missing = np.isnan(numbers)
            ints = np.where(missing, 0, numbers).astype(np.int64)
            data[name] = pd.arrays.IntegerArray(ints, missing)
        else:
            data[name] = pd.Series(column, dtype=object)
    return pd.DataFrame(data, columns=list(COLUMNS))


def _describe_batch(items: Sequence[chem.MolLike]) -> list[_Row]:
    """Rows for a batch: each molecule parsed once, the alert screen run on the whole batch."""
    with chem.without_rdkit_log():
        mols = [_readable(item) for item in items]
        screen = alert_screen()
        found = iter(screen.matches([m for m in mols if m is not None]))
        return [_MISSING if m is None else _row(m, next(found), screen) for m in mols]


def _readable(mol: chem.MolLike) -> Chem.Mol | None:
    if isinstance(mol, Chem.Mol):
        try:
            mol = Chem.RemoveHs(mol)  # also sanitizes, which a Mol built by hand may need
        except ValueError:  # RDKit's sanitization errors
            return None
    m = chem.to_mol(mol)
    return m if m is not None and m.GetNumAtoms() else None


def _row(m: Chem.Mol, matched: set[int], screen: AlertScreen) -> _Row:
    try:
        mw, logp, tpsa = chem.mol_weight(m), chem.logp(m), chem.tpsa(m)
        donors, acceptors, rotatable = chem.hbd(m), chem.hba(m), chem.rotatable_bonds(m)
        qed = _qed(m, mw, logp, tpsa, rotatable, screen.qed_alerts(matched))
        return (
            qed, _sa_score(m), logp, mw, tpsa, donors, acceptors, rotatable,
            chem.ring_count(m), chem.aromatic_ring_count(m),
            chem.fraction_sp3(m), chem.formal_charge(m),
            chem.rule_of_five_violations(mw, logp, donors, acceptors),
            ";".join(screen.names("pains", m, matched)),
            ";".join(screen.names("brenk", m, matched)),
        )  # fmt: skip
    except (RuntimeError, ValueError, ArithmeticError):  # an RDKit corner case: an empty row
        return _MISSING


def _qed(m: Chem.Mol, mw: float, logp: float, tpsa: float, rotatable: int, alerts: int) -> float:
    """``QED.qed(m)`` from descriptors already computed and the screened alert count: the same
    value (tests check), without matching QED's 116 alert patterns one by one."""
    acceptors = sum(
        len(m.GetSubstructMatches(p)) for p in QED.Acceptors if m.HasSubstructMatch(p)
    )
    aromatic = len(Chem.GetSSSR(Chem.DeleteSubstructs(Chem.Mol(m), QED.AliphaticRings)))
    props = QED.QEDproperties(
        MW=mw, ALOGP=logp, HBA=acceptors, HBD=rdMolDescriptors.CalcNumHBD(m), PSA=tpsa,
        ROTB=rotatable, AROM=aromatic, ALERTS=alerts,
    )  # fmt: skip
    return float(QED.qed(m, qedProperties=props))


def _sa_score(m: Chem.Mol) -> float:
    """``chem.sa_score(m)``, RDKit Contrib's ``sascorer.calculateScore`` (Ertl 2009) step for step
    in the same floating-point order, so the same value (tests check), but ~3x faster: the
    stereocentres are counted by RDKit's C++ ``CalcNumAtomStereoCenters`` instead of
    ``FindMolChiralCenters``, whose Python loops over the atoms cost most of the time."""
    sascorer = chem._sascorer()
    if not hasattr(sascorer, "mfpgen"):  # an older RDKit's sascorer: use it as it is
        return chem.sa_score(m)
    if sascorer._fscores is None:
        sascorer.readFragmentScores()
    fragments = sascorer.mfpgen.GetSparseCountFingerprint(m).GetNonzeroElements()
    score1 = sum(sascorer._fscores.get(bit, -4) * n for bit, n in fragments.items())
    score1 /= sum(fragments.values())
    n_atoms = m.GetNumAtoms()
    macrocycle = any(len(ring) > 8 for ring in m.GetRingInfo().AtomRings())
    score2 = (
        0.0
        - (n_atoms**1.005 - n_atoms)
        - math.log10(rdMolDescriptors.CalcNumAtomStereoCenters(m) + 1)
        - math.log10(rdMolDescriptors.CalcNumSpiroAtoms(m) + 1)
        - math.log10(rdMolDescriptors.CalcNumBridgeheadAtoms(m) + 1)
        - (math.log10(2) if macrocycle else 0.0)
    )
    score3 = math.log(n_atoms / len(fragments)) * 0.5 if n_atoms > len(fragments) else 0.0
    score = 11.0 - (score1 + score2 + score3 - -4.0 + 1) / (2.5 - -4.0) * 9.0  # onto 10..1
    if score > 8.0:
        score = 8.0 + math.log(score + 1.0 - 9.0)  # smooth the hard end
    return min(10.0, max(1.0, score))


__all__ = [
    "ALERT_COLUMNS",
    "COLUMNS",
    "DECIMALS",
    "FLOAT_COLUMNS",
    "INT_COLUMNS",
    "MIN_PARALLEL",
    "annotate",
    "describe",
    "round_floats",
]
