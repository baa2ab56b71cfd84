"""Ready-made objectives: GuacaMol's benchmark tasks (Brown et al. 2019) and penalized logP.

These are the objectives of ``benchmarks/pmo.py`` and of the shipped campaign files of the same
names (``optimize/*.toml``), built from ordinary components, so a chemist can start from one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from molvae import chem
from molvae.optimization.components import Descriptor, Similarity, Substructure, parse
from molvae.optimization.objective import Component, Objective
from molvae.optimization.transforms import Clamp, Gaussian

__all__ = [
    "CAMPHOR",
    "CELECOXIB",
    "DECO_HOP",
    "DECO_HOP_SMARTS",
    "FEXOFENADINE",
    "MENTHOL",
    "OSIMERTINIB",
    "celecoxib_rediscovery",
    "deco_hop",
    "fexofenadine_mpo",
    "median1",
    "osimertinib_mpo",
    "penalized_logp",
    "qed_objective",
]


# JT-VAE's normalization of penalized logP (Jin et al. 2018): means and standard deviations of
# logP, -SA and -cycle over the 250k ZINC molecules of Gomez-Bombarelli et al.
_PLOGP_NORM = {
    "logp": (2.4570953396190123, 1.434324401111988),
    "sa": (-3.0525811293166134, 0.8335207024513095),
    "cycle": (-0.0485696876403053, 0.2860212110245455),
}


def penalized_logp(smiles: Sequence[str]) -> list[float]:
    """Penalized logP as JT-VAE's constrained optimization scores it: standardized logP minus
    standardized SA minus a standardized penalty for rings larger than six atoms (largest ring
    size - 6, from RDKit's ring perception); NaN for unreadable SMILES.

    A plain function of the shape the ``python`` component takes (list of SMILES -> list of
    floats); ``optimize/custom_python.toml`` uses it as the example.

    >>> [round(v, 2) for v in penalized_logp(["c1ccccc1CCCC", "not a molecule"])]
    [2.91, nan]
    """
    out = []
    for s in smiles:
        with chem.without_rdkit_log():
            mol = parse(s)
        if mol is None:
            out.append(math.nan)
            continue
        rings = [len(r) for r in mol.GetRingInfo().AtomRings()]
        cycle = max(0, max(rings, default=0) - 6)
        terms = {"logp": chem.logp(mol), "sa": -chem.sa_score(mol), "cycle": -cycle}
        out.append(sum((v - _PLOGP_NORM[k][0]) / _PLOGP_NORM[k][1] for k, v in terms.items()))
    return out


#: The molecules of GuacaMol's tasks as it gives them (``guacamol/standard_benchmarks.py``).
OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
CAMPHOR = "CC1(C)C2CCC1(C)C(=O)C2"
MENTHOL = "CC(C)C1CCC(C)CC1O"
FEXOFENADINE = "CC(C)(C(=O)O)c1ccc(cc1)C(O)CCCN2CCC(CC2)C(O)(c3ccccc3)c4ccccc4"
#: Deco hop's reference: a quinazoline kinase inhibitor whose decorations are to be changed.
DECO_HOP = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
#: Deco hop's SMARTS, as GuacaMol states them: two decorations to lose (a sulfone on carbon,
#: the benzothiazol-6-yl amine) and the scaffold to keep (the 4-amino-7-oxyquinazoline).
DECO_HOP_SMARTS = {
    "sulfone": "CS([#6])(=O)=O",
    "benzothiazole": "[#7]-c1ccc2ncsc2c1",
    "scaffold": "[#7]-c1n[c;h1]nc2[c;h1]c(-[#8])[c;h0][c;h1]c12",
}


def qed_objective() -> Objective:
    """GuacaMol's QED task: maximize RDKit's QED (its ceiling is about 0.948)."""
    return Objective(components=(Component("qed", Descriptor("qed")),))


def osimertinib_mpo() -> Objective:
    """GuacaMol's Osimertinib MPO: near osimertinib (FCFP4 counts Tanimoto, linear up to 0.8)
    but not too near (ECFP6 counts Tanimoto, 1 up to 0.85 then a Gaussian, sigma 0.1), TPSA of
    at least 100 (Gaussian below, sigma 10) and logP of at most 1 (Gaussian above, sigma 1),
    geometric mean. Osimertinib itself scores only about 0.13: its ECFP6 similarity to itself
    (1.0) is "too similar", its TPSA (87.6) below 100 and its logP (4.5) far above 1.

    >>> round(float(osimertinib_mpo()([OSIMERTINIB])[0]), 3)
    0.133
    """
    fcfp4 = Similarity((OSIMERTINIB,), radius=2, bits=0, counts=True, features=True)
    ecfp6 = Similarity((OSIMERTINIB,), radius=3, bits=0, counts=True)
    return Objective(
        components=(
            Component("similarity_fcfp4", fcfp4, Clamp(low=0.0, high=0.8)),
            Component("similarity_ecfp6", ecfp6, Gaussian(mu=0.85, sigma=0.1, plateau="below")),
            Component("tpsa", Descriptor("tpsa"), Gaussian(mu=100.0, sigma=10.0, plateau="above")),
            Component("logp", Descriptor("logp"), Gaussian(mu=1.0, sigma=1.0, plateau="below")),
        ),
        aggregate="geometric",
    )


def celecoxib_rediscovery() -> Objective:
    """GuacaMol's Celecoxib rediscovery: Tanimoto similarity to celecoxib on ECFP4 (Morgan
    radius 2, unfolded counts); 1.0 only for celecoxib itself.

    >>> float(celecoxib_rediscovery()([CELECOXIB])[0])
    1.0
    """
    ecfp4 = Similarity((CELECOXIB,), radius=2, bits=0, counts=True)
    return Objective(components=(Component("similarity", ecfp4, Clamp(low=0.0, high=1.0)),))


def median1() -> Objective:
    """GuacaMol's Median molecules 1: a molecule between camphor and menthol, the geometric
    mean of its Tanimoto similarities to the two on ECFP4 (GuacaMol's ``ECFP4`` is RDKit's
    ``GetMorganFingerprint(mol, 2)``: Morgan radius 2, unfolded counts, Tanimoto on counts; see
    :mod:`molvae.optimization.components.similarity`). Neither scores 1: their similarity
    to each other is 0.16, so each scores sqrt(1 * 0.16) = 0.4.

    >>> median1()([CAMPHOR, MENTHOL]).round(6).tolist()
    [0.4, 0.4]
    """
    return Objective(
        components=(
            Component("similarity_camphor", Similarity((CAMPHOR,), fingerprint="ecfp4")),
            Component("similarity_menthol", Similarity((MENTHOL,), fingerprint="ecfp4")),
        ),
        aggregate="geometric",
    )


def fexofenadine_mpo() -> Objective:
    """GuacaMol's Fexofenadine MPO ("make fexofenadine less greasy"): near fexofenadine on atom
    pairs (GuacaMol's ``AP``: unfolded counts, distances 1-10; linear up to 0.8, then 1: its
    ``ClippedScoreModifier(upper_x=0.8)``), TPSA of at least 90 (``MaxGaussianModifier(mu=90,
    sigma=10)``: 1 from 90 up) and logP of at most 4 (``MinGaussianModifier(mu=4, sigma=1)``: 1
    up to 4), geometric mean. Fexofenadine itself scores about 0.60: its similarity is 1, but
    its TPSA (81.0) is below 90 (0.67) and its logP (5.51) above 4 (0.32).

    The sigmas are those of GuacaMol's code (and of TDC's oracle, which PMO scores with); the
    paper's table lists other widths.

    >>> round(float(fexofenadine_mpo()([FEXOFENADINE])[0]), 3)
    0.597
    """
    ap = Similarity((FEXOFENADINE,), fingerprint="ap")
    return Objective(
        components=(
            Component("similarity_ap", ap, Clamp(low=0.0, high=0.8)),
            Component("tpsa", Descriptor("tpsa"), Gaussian(mu=90.0, sigma=10.0, plateau="above")),
            Component("logp", Descriptor("logp"), Gaussian(mu=4.0, sigma=1.0, plateau="below")),
        ),
        aggregate="geometric",
    )


def deco_hop() -> Objective:
    """GuacaMol's Deco hop: keep the scaffold of :data:`DECO_HOP` and its pharmacophores but
    change its decorations. The arithmetic mean of four terms: Tanimoto similarity to it on the
    2-D pharmacophore fingerprint (GuacaMol's ``PHCO``, RDKit's Gobbi_Pharm2D; linear up to
    0.85, then 1), the absence of each decoration and the presence of the scaffold
    (:data:`DECO_HOP_SMARTS`, 1 or 0 each). The reference scores 0.5: pharmacophores and
    scaffold (1 + 1), but both decorations (0 + 0).

    >>> float(deco_hop()([DECO_HOP])[0])
    0.5
    """
    phco = Similarity((DECO_HOP,), fingerprint="phco")
    smarts = DECO_HOP_SMARTS
    return Objective(
        components=(
            Component("similarity_phco", phco, Clamp(low=0.0, high=0.85)),
            Component("no_sulfone", Substructure((smarts["sulfone"],), mode="forbidden")),
            Component("no_benzothiazole", Substructure((smarts["benzothiazole"],),
                                                       mode="forbidden")),
            Component("scaffold", Substructure((smarts["scaffold"],), mode="required")),
        ),
        aggregate="arithmetic",
    )
