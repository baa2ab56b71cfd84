"""The exceptions molvae raises; every message names the file, row, key or SMILES at fault."""


class MolVAEError(Exception):
    """Base class for every error molvae raises on purpose."""


class InvalidSmilesError(MolVAEError, ValueError):
    """A SMILES string that RDKit cannot parse (or that is empty)."""


class VocabularyError(MolVAEError, ValueError):
    """A molecule the model cannot encode: unknown SELFIES symbol or too long."""


class DataError(MolVAEError, ValueError):
    """A data file that cannot be used: missing, empty, or without a SMILES column."""


class CheckpointError(MolVAEError, ValueError):
    """A model or checkpoint file that is corrupt, truncated, tampered with or incompatible."""
