"""Tried, not shipped: the refinement search started again, from draws of the posterior, for the
molecules it misses (``RefineConfig.restarts``, at the commit that adds this script).

    python benchmarks/refine_restarts.py > benchmarks/results/refine_restarts/log.txt

The 93 marketed drugs and 1,000 held-out ZINC250k molecules (``refine.py``'s draws), one thread.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from refine import SETS, held_out, measure  # noqa: E402

from molvae import load_model  # noqa: E402
from molvae.refine import RefineConfig  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    model = load_model()
    sets = {name: held_out(SETS[name], 1000) for name in ("marketed_drugs", "zinc250k_test")}
    for restarts in (0, 2, 4, 8):
        model.refine_config = replace(RefineConfig(), restarts=restarts)
        for name, smiles in sets.items():
            row = {k: round(v, 4) if isinstance(v, float) else v
                   for k, v in measure(model, smiles).items()}
            print(restarts, name, json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
