"""benchmarks/model_quality.py: the MOSES filters on hand-picked molecules, and the holes and
diversity metrics on tiny hand-made inputs (the script is loaded from its path: benchmarks/ is not
a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "model_quality.py"


@pytest.fixture(scope="module")
def mq():
    spec = importlib.util.spec_from_file_location("model_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["model_quality"] = module  # dataclasses look their module up by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("model_quality", None)


@pytest.fixture(scope="module")
def filters(mq):
    return mq.MosesFilters.load()


def test_the_committed_filters_are_moses_22_mcf_and_480_pains(filters) -> None:
    assert (len(filters.mcf), len(filters.pains)) == (22, 480)


@pytest.mark.parametrize(("smiles", "failed"), [
    ("c1ccccc1", ()),
    ("CC(=O)Nc1ccc(O)cc1", ()),                # paracetamol
    ("C1CCCCCC1", ()),                         # a 7-ring is allowed
    ("C1CCCCCCC1", ("ring",)),                 # 8 atoms: MOSES's limit
    ("C1CCCCCCCC1", ("ring",)),
    ("C[N+](C)(C)C", ("charge",)),
    ("CP(C)C", ("atoms",)),
    ("ClCc1ccccc1", ("mcf",)),                 # benzylic halide
    ("O=C1C(=Cc2ccccc2)SC(=S)N1", ("pains",)),  # ene-rhodanine
    ("not a molecule", ("unreadable",)),
])
def test_moses_filters(filters, smiles: str, failed: tuple[str, ...]) -> None:
    assert filters.failures(smiles) == failed
    assert filters.passes(smiles) is (not failed)


def test_filter_summary_counts_every_failure_and_the_first(mq) -> None:
    masks = [0, mq.failure_mask(("charge",)), mq.failure_mask(("ring", "pains")), 0]
    got = mq.filter_summary(np.array(masks))
    assert got["pass"] == 0.5
    assert got["failing"]["pains"] == got["failing"]["ring"] == got["failing"]["charge"] == 0.25
    assert got["first_failed"]["ring"] == 0.25 and got["first_failed"]["pains"] == 0.0
    assert got["pass"] + sum(got["first_failed"].values()) == 1.0


def test_holes_on_a_hand_made_path(mq) -> None:
    # phenol -> aniline (both ringed, QED about 0.5): toluene keeps both; butanol keeps QED but
    # loses the ring; one point decodes to nothing
    ringed = mq.SlerpPath("c1ccccc1O", "c1ccccc1N", ("c1ccccc1C", "CCCCO", None))
    # no ring at an end: rings are not asked for; a long alkane falls below the QED floor
    open_chain = mq.SlerpPath("CCCCCCO", "c1ccccc1N", ("CCCCCO", "C" * 30))
    got = mq.holes([ringed, open_chain])
    assert got["interior_points"] == 5
    assert got["interior_validity"] == 0.8
    assert got["ringed_paths"] == 1
    assert got["ring_kept"] == 0.5              # of the 2 valid points on the ringed path
    assert got["qed_kept"] == 0.75              # all but triacontane (QED 0.12)
    assert got["smooth"] == 0.5                 # toluene and pentanol
    assert got["smooth_strict"] == 2 / 5
    assert got["paths_smooth"] == 0.0


def test_internal_diversity_follows_moses(mq) -> None:
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    from molvae.chem import to_mol

    assert mq.internal_diversity(["CCO", "CCO"]) == 0.0
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    a, b = (gen.GetFingerprint(to_mol(s)) for s in ("CCO", "c1ccccc1O"))
    t = DataStructs.TanimotoSimilarity(a, b)
    assert mq.internal_diversity(["CCO", "c1ccccc1O"]) == pytest.approx(1 - (2 + 2 * t) / 4)
    assert mq.internal_diversity(["CCO", "c1ccccc1O"], p=2) == pytest.approx(
        1 - np.sqrt((1 + t * t) / 2))
