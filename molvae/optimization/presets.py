"""Ready-made objectives: GuacaMol's benchmark tasks (Brown et al. 2019) and penalized logP.

These are the objectives of ``benchmarks/pmo.py`` and of the shipped campaign files of the same
names (``optimize/*.toml``), built from ordinary components, so a chemist can start from one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from molvae import chem
from molvae.optimization.components import Descriptor, Similarity, parse
from molvae.optimization.objective import Component, Objective
from molvae.optimization.transforms import Clamp, Gaussian

__all__ = [
    "CELECOXIB",
    "OSIMERTINIB",
    "celecoxib_rediscovery",
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


#: Osimertinib and celecoxib as GuacaMol gives them (``guacamol/standard_benchmarks.py``).
OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"


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
