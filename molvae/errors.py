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


class ObjectiveError(MolVAEError, ValueError):
    """An objective that cannot be built: an unknown kind or transform, a bad parameter, an
    invalid SMARTS or reference SMILES, a Python function that cannot be imported.

    ``key`` names the parameter at fault (e.g. ``"smarts"``) when there is one, so a campaign
    file can point at the exact key.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class CampaignError(MolVAEError, ValueError):
    """A campaign file that cannot be used; the message names the file and the key at fault."""


class StorageError(MolVAEError, ValueError):
    """A study storage that cannot be used: an unsupported URL scheme, a missing driver, a
    database that cannot be reached."""


class OptimizeError(MolVAEError, ValueError):
    """An optimization that cannot run: bad settings, seeds the model cannot encode, a study made
    for another campaign, an output directory that cannot be written."""


class ScoringStopped(OptimizeError):
    """A scoring function asked to stop (it called ``sys.exit``): the run stopped with its
    outputs written, and the same command resumes it."""
