"""The chemist's property table: drug-likeness descriptors and structural alerts, one row per
molecule, in the columns of every CSV/SDF that molvae writes.

>>> row = describe("CC(=O)Oc1ccccc1C(=O)O")  # aspirin
>>> row["mw"], row["hbd"], row["hba"], row["lipinski_violations"], row["pains"]
(180.159, 1, 4, 0, '')
>>> annotate(["CCO", "not a molecule"])[["mw", "hbd", "pains"]].to_dict("list")
{'mw': [46.069, nan], 'hbd': [1, None], 'pains': ['', None]}

Every value is the one the matching verb of :mod:`molvae.chem` gives, floats rounded to
``DECIMALS`` places. Most of the time goes to structural alerts: PAINS, Brenk and QED's own list
are ~600 distinct SMARTS patterns, and matching all of them costs ~4 ms a molecule. So each pattern
first gets a necessary condition -- enough atoms and bonds of the kinds its atoms and bonds can
match -- checked for a whole batch with a few array operations, and RDKit matches only the ~15
patterns a molecule passes. The condition never rejects a pattern that matches (tests compare the
result with RDKit's FilterCatalog), so the alerts are exactly RDKit's.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from functools import cache
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import QED, rdMolDescriptors
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogEntry

from molvae import chem

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
    return dict(zip(COLUMNS, _describe_batch([mol])[0], strict=True))


def annotate(
    smiles: Sequence[str | None],
    *,
    workers: int | None = None,
    min_parallel: int = MIN_PARALLEL,
) -> pd.DataFrame:
    """The property table of many molecules: columns ``COLUMNS``, one row per input in input order
    (index 0..n-1), empty rows for unreadable input. Never raises on a bad molecule.

    Args:
        smiles: SMILES strings; ``None`` and unparsable strings give an empty row.
        workers: processes to use (default: all cores); 1 stays in this process.
        min_parallel: inputs shorter than this stay in this process whatever ``workers`` says.

    >>> int(annotate(["c1ccccc1O"]).loc[0, "aromatic_rings"])
    1
    """
    smiles = list(smiles)
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    _screen()  # build the alert patterns once, before forking, so every worker inherits them
    if workers > 1 and len(smiles) >= max(min_parallel, 2):
        size = min(_CHUNK, -(-len(smiles) // workers))
        chunks = [smiles[i : i + size] for i in range(0, len(smiles), size)]
        ctx = get_context("spawn" if os.name == "nt" else "fork")
        with ctx.Pool(min(workers, len(chunks))) as pool:
            rows = [row for part in pool.imap(_describe_batch, chunks) for row in part]
    else:
        rows = _describe_batch(smiles)
    return _frame(rows)


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
        screen = _screen()
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


def _row(m: Chem.Mol, matched: set[int], screen: _AlertScreen) -> _Row:
    try:
        mw, logp, tpsa = chem.mol_weight(m), chem.logp(m), chem.tpsa(m)
        donors, acceptors, rotatable = chem.hbd(m), chem.hba(m), chem.rotatable_bonds(m)
        qed = _qed(m, mw, logp, tpsa, rotatable, screen.qed_alerts(matched))
        return (
            round(qed, DECIMALS), round(_sa_score(m), DECIMALS), round(logp, DECIMALS),
            round(mw, DECIMALS), round(tpsa, DECIMALS), donors, acceptors, rotatable,
            chem.ring_count(m), chem.aromatic_ring_count(m),
            round(chem.fraction_sp3(m), DECIMALS), chem.formal_charge(m),
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


# --- The alert screen ----------------------------------------------------------------------------
#
# A query atom or bond is RDKit's tree of tests, read from its DescribeQuery() text. For a molecule
# atom described by a signature (below), a tree says True, False or None (cannot tell, e.g. a
# recursive SMARTS); only False rules a pairing out. A pattern can match only if, for each of its
# atom trees, the molecule has at least as many atoms that it does not rule out as the pattern has
# atoms with that tree, and likewise for its bonds (with the trees of both end atoms).

# Atom signature: (atomic number, aromatic, formal charge, total H count, isotope, total degree,
# degree, number of SSSR rings); bond signature: (Chem.BondType as int: 1, 2, 3, 12 for aromatic...,
# in a ring).
_ATOM_TESTS = {
    "AtomAtomicNum": lambda s, v: s[0] == v,
    "AtomType": lambda s, v: s[0] + 1000 * s[1] == v,  # RDKit: atomic number + 1000 if aromatic
    "AtomIsAromatic": lambda s, v: bool(s[1]),
    "AtomIsAliphatic": lambda s, v: not s[1],
    "AtomFormalCharge": lambda s, v: s[2] == v,
    "AtomHCount": lambda s, v: s[3] == v,
    "AtomIsotope": lambda s, v: s[4] == v,
    "AtomTotalDegree": lambda s, v: s[5] == v,
    "AtomExplicitDegree": lambda s, v: s[6] == v,
    "AtomInNRings": lambda s, v: s[7] > 0 if v == -1 else s[7] == v,  # -1: SMARTS "R"
}
_BOND_TESTS = {
    "BondOrder": lambda s, v: s[0] == v,
    "SingleOrAromaticBond": lambda s, v: s[0] in (1, 12),
    "BondInRing": lambda s, v: s[1] == bool(v),
}
_CACHE_LIMIT = 100_000  # signatures whose verdicts an _AlertScreen keeps
_COMPOSITE = {"AtomAnd": "and", "BondAnd": "and", "AtomOr": "or", "BondOr": "or"}
_UNKNOWN = ("unknown",)


def _parse_query(description: str) -> tuple:
    """RDKit's ``DescribeQuery()`` text (a node a line, children indented two spaces) as a tree:
    ("and"|"or", children), ("any",), ("test", name, value, negated) or ("unknown",)."""
    lines = [line for line in description.splitlines() if line.strip()]
    pos = 0

    def node() -> tuple:
        nonlocal pos
        line = lines[pos]
        pos += 1
        depth = len(line) - len(line.lstrip())
        children = []
        while pos < len(lines) and len(lines[pos]) - len(lines[pos].lstrip()) > depth:
            children.append(node())
        words = line.split()
        if len(words) == 1 and words[0] in _COMPOSITE:
            return (_COMPOSITE[words[0]], tuple(children))
        if len(words) == 1 and words[0] in ("AtomNull", "BondNull"):
            return ("any",)
        if (
            len(words) == 4
            and (words[0] in _ATOM_TESTS or words[0] in _BOND_TESTS)
            and words[2] in ("=", "!=")
            and words[3] == "val"
            and words[1].lstrip("-").isdigit()
        ):
            return ("test", words[0], int(words[1]), words[2] == "!=")
        return _UNKNOWN

    tree = node() if lines else _UNKNOWN
    return tree if pos == len(lines) else _UNKNOWN


def _verdict(tree: tuple, sig: tuple) -> bool | None:
    """Does an atom (bond) with signature ``sig`` pass the query tree? None: cannot tell."""
    kind = tree[0]
    if kind == "test":
        _, name, value, negated = tree
        passed = (_ATOM_TESTS.get(name) or _BOND_TESTS[name])(sig, value)
        return passed != negated
    if kind == "any":
        return True
    if kind == "unknown":
        return None
    verdicts = [_verdict(child, sig) for child in tree[1]]
    decisive = kind == "or"  # True decides an "or", False decides an "and"
    if decisive in verdicts:
        return decisive
    return None if None in verdicts else not decisive


_PICKLE_MAGIC = b"\xef\xbe\xad\xde"  # the first bytes of every RDKit molecule pickle


def _entry_pattern(entry: FilterCatalogEntry) -> Chem.Mol | None:
    """The SMARTS pattern of a catalog entry whose matcher is a single SmartsMatcher that needs
    one match, read from the entry's serialization (RDKit does not expose it); None for any other
    layout, and the entry is then matched by RDKit on every molecule."""
    data = entry.Serialize()
    start = data.find(_PICKLE_MAGIC)
    try:
        size = int(data[:start].split(b" ")[-2])
    except (ValueError, IndexError):
        return None
    name = entry.GetDescription().encode()
    end = start + size
    if not (
        start > 0
        and data[:start].endswith(b" %d %s %d " % (len(name), name, size))
        and data[end:].startswith(b" 1 4294967295 ")  # min count 1, max count unbounded
        and _PICKLE_MAGIC not in data[end:]  # no second matcher
    ):
        return None
    try:
        pattern = Chem.Mol(data[start:end])
    except RuntimeError:
        return None
    return pattern if pattern.GetNumAtoms() else None


class _AlertScreen:
    """The distinct SMARTS patterns of the alert catalogs and of QED, each with its necessary
    condition; ``matches`` says which patterns each molecule of a batch matches."""

    def __init__(self, catalogs: dict[str, FilterCatalog], qed_alerts: Sequence[Chem.Mol]) -> None:
        self.patterns: list[Chem.Mol] = []
        index: dict[str, int] = {}

        def add(pattern: Chem.Mol) -> int:
            return index.setdefault(Chem.MolToSmarts(pattern), len(index))

        # per catalog: entry names in catalog order; pattern -> positions; entries RDKit matches
        self._names: dict[str, list[str]] = {}
        self._positions: dict[str, dict[int, list[int]]] = {}
        self._unscreened: dict[str, list[tuple[int, FilterCatalogEntry]]] = {}
        patterns: dict[int, Chem.Mol] = {}
        for name, catalog in catalogs.items():
            self._names[name], self._positions[name], self._unscreened[name] = [], {}, []
            for pos in range(catalog.GetNumEntries()):
                entry = catalog.GetEntryWithIdx(pos)
                self._names[name].append(entry.GetDescription())
                pattern = _entry_pattern(entry)
                if pattern is None:
                    self._unscreened[name].append((pos, entry))
                    continue
                uid = add(pattern)
                patterns.setdefault(uid, pattern)
                self._positions[name].setdefault(uid, []).append(pos)
        self._qed: Counter[int] = Counter()  # pattern -> times in QED's list
        for pattern in qed_alerts:
            uid = add(pattern)
            patterns.setdefault(uid, pattern)
            self._qed[uid] += 1
        self.patterns = [patterns[uid] for uid in range(len(index))]
        self._build_conditions()

    def _build_conditions(self) -> None:
        atom_trees: dict[tuple, int] = {}
        bond_trees: dict[tuple, int] = {}
        bond_keys: dict[tuple[int, int, int], int] = {}  # (atom tree, atom tree, bond tree)
        needs = []  # per pattern: ({atom tree: atoms}, {bond key: bonds})
        for pattern in self.patterns:
            atoms = [
                atom_trees.setdefault(_parse_query(a.DescribeQuery()), len(atom_trees))
                for a in pattern.GetAtoms()
            ]
            keys = []
            for b in pattern.GetBonds():
                tree = bond_trees.setdefault(_parse_query(b.DescribeQuery()), len(bond_trees))
                i, j = atoms[b.GetBeginAtomIdx()], atoms[b.GetEndAtomIdx()]
                keys.append(bond_keys.setdefault((min(i, j), max(i, j), tree), len(bond_keys)))
            needs.append((Counter(atoms), Counter(keys)))
        self._atom_trees, self._bond_trees = list(atom_trees), list(bond_trees)
        self._atom_cache: dict[tuple, np.ndarray] = {}  # atom signature -> may pass each tree
        self._bond_cache: dict[tuple, np.ndarray] = {}
        keys = np.array(list(bond_keys), dtype=np.intp).reshape(-1, 3)
        self._key_a, self._key_b, self._key_tree = keys.T
        # Distinct requirements (column, minimum) over the count columns [atom trees | bond keys |
        # zeros], and pattern after pattern the requirements it has; the zero column gives every
        # pattern at least one, always met.
        zero = len(atom_trees) + len(bond_keys)
        distinct: dict[tuple[int, int], int] = {}
        of_pattern, starts = [], []
        for atoms, keys in needs:
            starts.append(len(of_pattern))
            need = [*atoms.items(), *((len(atom_trees) + k, n) for k, n in keys.items()), (zero, 0)]
            of_pattern += [distinct.setdefault(req, len(distinct)) for req in need]
        cols, mins = zip(*distinct, strict=True)
        self._cols = np.array(cols, dtype=np.intp)
        self._mins = np.array(mins, dtype=np.float32)
        self._of_pattern = np.array(of_pattern, dtype=np.intp)
        self._starts = np.array(starts, dtype=np.intp)

    def matches(self, mols: Sequence[Chem.Mol]) -> list[set[int]]:
        """For each molecule, the indices of the patterns it matches."""
        if not mols:
            return []
        atom_sigs: dict[tuple, int] = {}
        bond_sigs: dict[tuple, int] = {}
        atom_rows: list[int] = []
        atom_cols: list[int] = []
        bond_rows: list[int] = []
        bond_cols: list[int] = []
        for row, m in enumerate(mols):
            # (GetAtomWithIdx over a range is ~30% faster than RDKit's Python GetAtoms iterator)
            atom, in_rings, ids = m.GetAtomWithIdx, m.GetRingInfo().NumAtomRings, []
            for i in range(m.GetNumAtoms()):
                a = atom(i)
                sig = (a.GetAtomicNum(), a.GetIsAromatic(), a.GetFormalCharge(),
                       a.GetTotalNumHs(True), a.GetIsotope(), a.GetTotalDegree(), a.GetDegree(),
                       in_rings(i))  # fmt: skip
                ids.append(atom_sigs.setdefault(sig, len(atom_sigs)))
            atom_cols += ids
            atom_rows += [row] * len(ids)
            for b in map(m.GetBondWithIdx, range(m.GetNumBonds())):
                i, j = ids[b.GetBeginAtomIdx()], ids[b.GetEndAtomIdx()]
                i, j = (i, j) if i < j else (j, i)
                sig = (i, j, b.GetBondType(), b.IsInRing())
                bond_cols.append(bond_sigs.setdefault(sig, len(bond_sigs)))
            bond_rows += [row] * m.GetNumBonds()
        # which trees each distinct atom / bond may pass: (trees, distinct signatures)
        atom_ok = self._may_pass(self._atom_trees, self._atom_cache, list(atom_sigs))
        ends = np.array([s[:2] for s in bond_sigs], dtype=np.intp).reshape(-1, 2)
        end1, end2 = ends[:, 0], ends[:, 1]
        bond_types = [(int(s[2]), s[3]) for s in bond_sigs]
        bond_ok = self._may_pass(self._bond_trees, self._bond_cache, bond_types)
        a_ok, b_ok = atom_ok[self._key_a], atom_ok[self._key_b]
        key_ok = bond_ok[self._key_tree] & (
            (a_ok[:, end1] & b_ok[:, end2]) | (a_ok[:, end2] & b_ok[:, end1])
        )  # (bond keys, distinct bonds)
        n = len(mols)
        atom_counts = _count(atom_cols, atom_rows, len(atom_sigs), n)  # (distinct atoms, n)
        bond_counts = _count(bond_cols, bond_rows, len(bond_sigs), n)
        counts = np.concatenate(
            [atom_ok.astype(np.float32) @ atom_counts, key_ok.astype(np.float32) @ bond_counts,
             np.zeros((1, n), np.float32)],
        )  # (atom trees + bond keys + 1, n)
        met = counts[self._cols] >= self._mins[:, None]  # (distinct requirements, n)
        may_match = np.logical_and.reduceat(met[self._of_pattern], self._starts).T  # (n, patterns)
        patterns = self.patterns
        return [
            {int(p) for p in np.flatnonzero(row) if m.HasSubstructMatch(patterns[p])}
            for m, row in zip(mols, may_match, strict=True)
        ]

    @staticmethod
    def _may_pass(trees: list[tuple], cache: dict, sigs: list[tuple]) -> np.ndarray:
        """(trees, signatures): whether each tree may pass each signature. The verdicts are kept
        by signature across batches (a few hundred signatures cover most molecules)."""
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        columns = []
        for sig in sigs:
            column = cache.get(sig)
            if column is None:
                column = np.array([_verdict(tree, sig) is not False for tree in trees], dtype=bool)
                cache[sig] = column
            columns.append(column)
        return np.stack(columns, axis=1) if columns else np.ones((len(trees), 0), dtype=bool)

    def names(self, catalog: str, mol: Chem.Mol, matched: set[int]) -> list[str]:
        """Names of the ``catalog`` entries the molecule matches, in catalog order."""
        positions = self._positions[catalog]
        hits = [pos for uid in matched for pos in positions.get(uid, ())]
        hits += [pos for pos, entry in self._unscreened[catalog] if entry.HasFilterMatch(mol)]
        return [self._names[catalog][pos] for pos in sorted(hits)]

    def qed_alerts(self, matched: set[int]) -> int:
        """How many of QED's structural alerts the molecule matches."""
        return sum(self._qed[uid] for uid in matched)


def _count(rows: list[int], cols: list[int], height: int, width: int) -> np.ndarray:
    """A (height, width) table of how often each (row, col) pair occurs."""
    flat = np.asarray(rows, dtype=np.intp) * width + np.asarray(cols, dtype=np.intp)
    return np.bincount(flat, minlength=height * width).reshape(height, width).astype(np.float32)


@cache
def _screen() -> _AlertScreen:
    return _AlertScreen(
        {name: chem.filter_catalog(name) for name in ALERT_COLUMNS}, QED.StructuralAlerts
    )
