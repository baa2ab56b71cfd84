"""A campaign's seed molecules: inline SMILES, a file of them, or a reproducible sample of a
library to screen first.

A seeds file is a CSV/TSV (by its SMILES column), a gzipped file (as ``molvae train`` reads it),
or plain text: the first word of each line, blank lines and ``#`` comments skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from molvae import chem
from molvae.errors import DataError

__all__ = ["SeedError", "campaign_seeds", "seed_rows"]


class SeedError(ValueError):
    """A seed that cannot be used; ``key`` is the campaign key at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def campaign_seeds(settings: dict[str, Any], base_dir: Path) -> tuple[tuple[str, ...], str | None]:
    """The seeds of a campaign's ``[campaign]`` settings (inline ones, then those of
    ``seeds_file``, or a ``seeds_sample`` of them drawn by ``seed``; duplicates dropped) and the
    seeds file as an absolute path. A relative ``seeds_file`` is found in ``base_dir``.

    Raises:
        SeedError: an invalid SMILES (its line), an unreadable file, a sample without a file.
    """
    seeds = list(settings.get("seeds", ()))
    for i, smiles in enumerate(seeds, 1):
        if chem.canonical_smiles(smiles) is None:
            raise SeedError(f"campaign.seeds[{i}]", f"invalid SMILES {smiles!r}")
    if "seeds_sample" in settings and "seeds_file" not in settings:
        raise SeedError("campaign.seeds_sample", "draws from seeds_file: give seeds_file too")
    seeds_file = None
    if "seeds_file" in settings:
        file = Path(settings["seeds_file"]).expanduser()
        file = (file if file.is_absolute() else base_dir / file).resolve()
        try:
            rows = seed_rows(file)
        except (OSError, UnicodeDecodeError, DataError) as err:
            raise SeedError("campaign.seeds_file", f"cannot read {str(file)!r}: {err}") from err
        if "seeds_sample" in settings and settings["seeds_sample"] < len(rows):
            rng = np.random.default_rng(settings.get("seed", 0))
            picked = rng.choice(len(rows), settings["seeds_sample"], replace=False)
            rows = [rows[i] for i in sorted(picked)]
        for number, smiles in rows:
            if chem.canonical_smiles(smiles) is None:
                raise SeedError("campaign.seeds_file",
                                f"{file} line {number}: invalid SMILES {smiles!r}")
            seeds.append(smiles)
        seeds_file = str(file)
    return tuple(dict.fromkeys(seeds)), seeds_file


def seed_rows(file: Path) -> list[tuple[int, str]]:
    """``(line, SMILES)`` of a seeds file.

    Raises:
        OSError, UnicodeDecodeError, DataError: the file cannot be read.
    """
    from molvae.smiles_file import iter_smiles

    suffixes = [x.lower() for x in file.suffixes]
    if {".csv", ".tsv", ".gz"} & set(suffixes):
        return [(n, smi) for n, smi in iter_smiles(file) if smi]
    rows = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split()
        if words and not words[0].startswith("#"):  # blank or a comment ("C#N" is not)
            rows.append((number, words[0]))
    return rows
