"""Where the decoder goes wrong: the first wrong symbol of each molecule it misreads.

For held-out molecules whose greedy decode of the posterior mean is another molecule, compares
the decoded SELFIES symbols with the molecule's own and reports the role of the first symbol
that differs in the molecule's string: an atom (or only its stereo mark), a branch or ring
symbol, or one of the index symbols that follow a branch (its length) or a ring (how far back
it closes). Also the share
of misread molecules whose decode has a ring of more than 7 atoms, by that role: a large ring
written after an earlier wrong symbol is a closure counted from the wrong place.

    python benchmarks/decoder_errors.py --n 1000 --out benchmarks/results/decoder_errors.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import selfies as sf
import torch

sys.path.insert(0, str(Path(__file__).parent))
from model_quality import environment, pick, read_smiles  # noqa: E402

from molvae import load_model  # noqa: E402
from molvae.chem import canonical_smiles, largest_ring  # noqa: E402
from molvae.vocab import selfies_constraints  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SETS = {"zinc250k_test": ROOT / "datasets/zinc250k/test.smi.gz",
        "moses_test": ROOT / "datasets/moses/test.csv.gz"}
_CONTROL = re.compile(r"^\[(?:[=#]?|[-/\\]{2})(Branch|Ring)([123])\]$")


def roles(symbols: list[str]) -> list[str]:
    """The role of each symbol of a SELFIES string: atom, branch, ring, branch index or ring
    index (the symbols a branch or ring reads as its number)."""
    out: list[str] = []
    i = 0
    while i < len(symbols):
        control = _CONTROL.match(symbols[i])
        if control is None:
            out.append("atom")
            i += 1
            continue
        what, n = control.group(1).lower(), int(control.group(2))
        out.append(what)
        out += [f"{what} index"] * min(n, len(symbols) - i - 1)
        i += 1 + n
    return out


def first_difference(truth: list[str], decoded: list[str]) -> str:
    """The role (in ``truth``) of the first symbol where the two strings part; ``end`` when
    one is the other's beginning."""
    for pos, (a, b) in enumerate(zip(truth, decoded, strict=False)):
        if a != b:
            role = roles(truth)[pos]
            if role == "atom" and _unmarked(a) == _unmarked(b):
                return "atom, stereo mark only"
            return role
    return "end"


def _unmarked(symbol: str) -> str:
    """An atom symbol without its stereo marks (tetrahedral @, double-bond / and \\)."""
    return re.sub(r"@+|[/\\]", "", symbol)


def measure(model, smiles: list[str]) -> dict:  # noqa: ANN001
    tokens, ok, _ = model.tokenize(smiles)
    z = model.encode_latents([s for s, good in zip(smiles, ok, strict=True) if good]).z
    by_role, large = Counter(), Counter()
    misread = 0
    for row, (selfies, out) in zip(tokens, model.decode_latents(z), strict=True):
        own = model.vocab.decode_ids(row)  # the symbols the encoder read
        if out == canonical_smiles(sf.decoder(own)):
            continue
        misread += 1
        role = first_difference(list(sf.split_selfies(own)), list(sf.split_selfies(selfies)))
        by_role[role] += 1
        large[role] += bool(out) and (largest_ring(out) or 0) > 7
    return {"molecules": int(ok.sum()), "misread": misread,
            "first_wrong_symbol": dict(by_role.most_common()),
            "with_ring_over_7": dict(large.most_common()),
            "with_ring_over_7_total": sum(large.values())}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/decoder_errors.json")
    args = p.parse_args()
    torch.set_num_threads(1)
    model = load_model(refine=False)
    result = {"benchmark": "decoder_errors", "command": " ".join(["python", *sys.argv]),
              **environment(), "sets": {}}
    for name, path in SETS.items():
        smiles = pick(read_smiles(path), args.n, args.seed)
        with selfies_constraints(model.vocab.constraints):
            result["sets"][name] = measure(model, smiles)
        print(name, json.dumps(result["sets"][name]), flush=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
