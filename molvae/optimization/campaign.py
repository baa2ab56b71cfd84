"""Campaign files: what to optimize (components, filters, aggregation, Pareto objectives) and how
(budget, sampler, seeds, search region), in TOML, read into frozen dataclasses.

>>> campaign = loads_campaign('''
... [campaign]
... name = "qed"
... budget = 500
...
... [[component]]
... kind = "qed"
... ''')
>>> campaign.budget, campaign.sampler, campaign.objective()(["CCO"]).round(3).tolist()
(500, 'cmaes', [0.407])

Every problem is a :class:`CampaignError` naming the file, the key path and, where there is a
choice, the valid choices: ``qed.toml: component[2].transform.type: unknown transform
'sigmoidal'; expected one of: clamp, double_sigmoid, ...``. Tables of an array
(``[[component]]``, ``[[filter]]``, ``[[objective]]``) and entries of a list are counted from 1,
in file order. Nothing is evaluated or unpickled: values are TOML data, and a ``python``
component names an importable function.

The schema (every key) is in ``optimize/README.md``; :meth:`Campaign.to_dict` gives the campaign
as resolved (defaults filled in, seeds read), in the same shape, for a run's manifest.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from molvae import chem
from molvae.errors import CampaignError
from molvae.optimization.components import kinds
from molvae.optimization.objective import (
    Component,
    Filter,
    Objective,
    ParetoTarget,
)
from molvae.optimization.objective_tables import AGGREGATE_KEYS, OBJECTIVE_KEYS, ObjectiveReader
from molvae.optimization.operators import DEFAULT_OPERATORS, OPERATORS
from molvae.optimization.samplers import (
    DEFAULT_PARETO_SAMPLER,
    DEFAULT_SAMPLER,
    SAMPLERS,
    SINGLE_OBJECTIVE_SAMPLERS,
)
from molvae.optimization.seeds import SeedError, campaign_seeds

__all__ = [
    "DEFAULT_SAMPLER",
    "SAMPLERS",
    "Campaign",
    "CampaignError",
    "Diversity",
    "load_campaign",
    "loads_campaign",
    "parse_campaign",
]


_TABLES = ("campaign", "component", "filter", "aggregate", "objective")
#: A campaign name: a single path component that cannot climb out of ``runs/``.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")



@dataclass(frozen=True)
class Diversity:
    """How diverse the reported top-K must be: ``min_distance`` is the smallest Tanimoto
    distance (1 - similarity, Morgan radius 2) allowed between two of them (0: no limit);
    ``max_per_scaffold`` the most molecules sharing a Bemis-Murcko scaffold (0: no limit)."""

    min_distance: float = 0.0
    max_per_scaffold: int = 0


@dataclass(frozen=True)
class Campaign:
    """A campaign as resolved from its file: the objective's parts and the search settings.

    Attributes:
        name: what the run directory and the study are called.
        components, filters, aggregate, objectives: the parts of the
            :class:`~molvae.optimization.objective.Objective` (:meth:`objective` assembles them).
        description: free text for people.
        seed: seeds the sampler and everything random in the run.
        budget: unique molecules to score (the oracle calls, as in the PMO benchmark).
        batch_size: latent points asked for, decoded and scored together.
        sampler: one of :data:`SAMPLERS`.
        top_k: how many of the best molecules to report.
        diversity: how diverse the reported top-K must be.
        seeds: starting SMILES (inline ones, then those of ``seeds_file``, duplicates dropped);
            encoded, enqueued as first trials, and the centres of the trust region.
        seeds_file: the file the extra seeds came from (absolute), for the record.
        seeds_sample: how many seeds were drawn at random (by ``seed``) from ``seeds_file``, a
            library to screen before the search (``None``: all of them).
        trust_region: search within this radius (in prior standard deviations) of the encoded
            seeds; ``None``: the prior box.
        operators: the search operators that propose beside the sampler from the best molecules
            found (:data:`~molvae.optimization.operators.OPERATORS`; single objective only).
        start: oracle calls spent first on the model's training molecules when the campaign has
            no seeds and has operators (:mod:`molvae.optimization.start`); ``None``: a tenth of
            the budget, at most 1,000; 0: none.
        max_ring: a candidate with a ring of more than this many atoms is not scored (no oracle
            call; its trial fails with the reason): the decoder writes such rings at the wrong
            place far more often than chemistry has them. 0 (the default): any ring is scored;
            the benchmark did not show that leaving them out helps the search (README, "The
            search").
        source: the file this came from (messages only; not compared).
    """

    name: str
    components: tuple[Component, ...]
    filters: tuple[Filter, ...] = ()
    aggregate: Literal["geometric", "arithmetic"] = "geometric"
    objectives: tuple[ParetoTarget, ...] = ()
    description: str = ""
    seed: int = 0
    budget: int = 1000
    batch_size: int = 32
    sampler: str = DEFAULT_SAMPLER
    top_k: int = 100
    diversity: Diversity = field(default_factory=Diversity)
    seeds: tuple[str, ...] = ()
    seeds_file: str | None = None
    seeds_sample: int | None = None
    trust_region: float | None = None
    operators: tuple[str, ...] = DEFAULT_OPERATORS
    start: int | None = None
    max_ring: int = 0
    source: str = field(default="<campaign>", compare=False)

    def objective(self) -> Objective:
        """The campaign's objective (components, filters, aggregation, Pareto targets)."""
        return Objective(self.components, self.filters, self.aggregate, self.objectives)

    @property
    def multi_objective(self) -> bool:
        """Whether the campaign lists Pareto objectives."""
        return bool(self.objectives)

    def to_dict(self) -> dict[str, Any]:
        """The campaign as resolved, in the file's shape (plain data: JSON- and TOML-ready).
        :func:`parse_campaign` reads it back into an equal campaign."""
        settings: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "budget": self.budget,
            "batch_size": self.batch_size,
            "sampler": self.sampler,
            "top_k": self.top_k,
            "seeds": list(self.seeds),
            "diversity": dataclasses.asdict(self.diversity),
        }
        if self.seeds_file is not None:
            settings["seeds_file"] = self.seeds_file
        if self.seeds_sample is not None:
            settings["seeds_sample"] = self.seeds_sample
        if self.trust_region is not None:
            settings["trust_region"] = self.trust_region
        settings["operators"] = list(self.operators)
        if self.start is not None:
            settings["start"] = self.start
        settings["max_ring"] = self.max_ring
        return {"campaign": settings, **self.objective().to_dict()}

    def with_overrides(
        self,
        *,
        budget: int | None = None,
        seed: int | None = None,
        sampler: str | None = None,
        batch_size: int | None = None,
        operators: Sequence[str] | None = None,
        max_ring: int | None = None,
    ) -> Campaign:
        """A copy with the values given on the command line in place of the file's (``None``:
        keep the file's).

        >>> loads_campaign('[campaign]\\nname = "x"\\n[[component]]\\nkind = "qed"').with_overrides(
        ...     budget=10, sampler="tpe").budget
        10

        Raises:
            CampaignError: a value the file could not hold either.
        """
        changes = {
            k: v
            for k, v in {
                "budget": budget,
                "seed": seed,
                "sampler": sampler,
                "batch_size": batch_size,
                "operators": tuple(operators) if operators is not None else None,
                "max_ring": max_ring,
            }.items()
            if v is not None
        }
        reader = _Reader(self.source)
        for key, value in changes.items():
            path = f"{key} (overridden)"
            hint, _ = _CAMPAIGN_KEYS[key]
            reader.check_setting(key, reader.coerce(value, hint, path), path)
        new = dataclasses.replace(self, **changes)
        reader.check_sampler(new.sampler, new.objectives, "sampler (overridden)")
        reader.check_operators(new.operators, new.objectives, "operators (overridden)")
        return new


# --- Reading ------------------------------------------------------------------------------------


def load_campaign(path: str | Path, *, allow_python: bool = False) -> Campaign:
    """Read a campaign file (TOML). A ``seeds_file`` is found relative to the campaign file.

    A ``python`` component imports and runs the module it names when the campaign is read:
    only molvae's own functions are allowed unless ``allow_python`` (``--allow-python``) says
    the file is trusted, as one trusts a script before running it.

    Raises:
        CampaignError: the file cannot be read, is not TOML, or breaks the schema (the message
            names the file, the key and the valid choices).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CampaignError(f"{path}: cannot read the campaign file: {err}") from err
    return loads_campaign(text, source=str(path), base_dir=path.parent, allow_python=allow_python)


def loads_campaign(
    text: str, *, source: str = "<campaign>", base_dir: str | Path | None = None,
    allow_python: bool = False,
) -> Campaign:
    """Read a campaign from TOML text; ``source`` names it in messages, ``base_dir`` (default:
    the working directory) is where a relative ``seeds_file`` is looked for.

    Raises:
        CampaignError: not TOML, or the schema is broken.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CampaignError(f"{source}: not valid TOML: {err}") from err
    return parse_campaign(data, source=source, base_dir=base_dir, allow_python=allow_python)


def parse_campaign(
    data: Mapping[str, Any], *, source: str = "<campaign>", base_dir: str | Path | None = None,
    allow_python: bool = False,
) -> Campaign:
    """A campaign from the data of a TOML file (or from :meth:`Campaign.to_dict`).

    Raises:
        CampaignError: the schema is broken; the message names ``source`` and the key.
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    return _Reader(source, base, allow_python).campaign(data)


_CAMPAIGN_KEYS: dict[str, tuple[Any, bool]] = {
    "name": (str, True),
    "description": (str, False),
    "seed": (int, False),
    "budget": (int, False),
    "batch_size": (int, False),
    "sampler": (Literal[SAMPLERS], False),
    "top_k": (int, False),
    "seeds": (tuple[str, ...], False),
    "seeds_file": (str, False),
    "seeds_sample": (int, False),
    "trust_region": (float, False),
    "operators": (tuple[Literal[OPERATORS], ...], False),
    "start": (int, False),
    "max_ring": (int, False),
    "diversity": (dict, False),
}
_DIVERSITY_KEYS: dict[str, tuple[Any, bool]] = {
    "min_distance": (float, False),
    "max_per_scaffold": (int, False),
}
class _Reader(ObjectiveReader):
    """Checks one campaign's data against the schema; every message starts with the source."""

    def __init__(self, source: str, base_dir: Path | None = None,
                 allow_python: bool = False) -> None:
        super().__init__(source, allow_python)
        self.base_dir = base_dir or Path.cwd()

    def check_setting(self, key: str, value: Any, path: str) -> None:
        limits = {"budget": 1, "batch_size": 1, "top_k": 1, "seed": 0, "max_per_scaffold": 0,
                  "seeds_sample": 1, "start": 0, "max_ring": 0}
        if key in limits and value < limits[key]:
            raise self.error(path, f"must be at least {limits[key]} (got {value})")
        if key == "trust_region" and not value > 0:
            raise self.error(path, f"must be above 0 (got {value})")
        if key == "min_distance" and not 0 <= value < 1:
            raise self.error(path, f"must be in [0, 1) (got {value})")

    def check_sampler(self, sampler: str, objectives: tuple, path: str) -> None:
        if objectives and sampler in SINGLE_OBJECTIVE_SAMPLERS:
            multi = [s for s in SAMPLERS if s not in SINGLE_OBJECTIVE_SAMPLERS]
            raise self.error(
                path,
                f"sampler {sampler!r} handles one objective only, and this "
                f"campaign lists {len(objectives)} [[objective]] tables; expected "
                f"one of: {', '.join(multi)}",
            )

    def check_operators(self, operators: tuple[str, ...], objectives: tuple, path: str) -> None:
        if operators and objectives:
            raise self.error(path, "search operators work on a single objective; this campaign "
                             f"lists {len(objectives)} [[objective]] tables: give operators = []")

    def seeds(self, settings: dict[str, Any]) -> tuple[tuple[str, ...], str | None]:
        try:
            return campaign_seeds(settings, self.base_dir)
        except SeedError as err:
            raise self.error(err.key, str(err)) from err

    def campaign(self, data: Mapping[str, Any]) -> Campaign:
        if not isinstance(data, Mapping):
            raise CampaignError(f"{self.source}: expected a table of tables")
        for key in data:
            if key not in _TABLES:
                raise self.error(
                    key,
                    f"unknown table [{key}]; expected one of: "
                    "[campaign], [[component]], [[filter]], [aggregate], "
                    "[[objective]]",
                )
        if "campaign" not in data:
            raise self.error(
                "campaign", 'missing required table [campaign] (with at least name = "...")'
            )
        with chem.without_rdkit_log():
            return self._campaign(data)

    def _campaign(self, data: Mapping[str, Any]) -> Campaign:
        settings = self.table(data["campaign"], "campaign", _CAMPAIGN_KEYS)
        diversity = Diversity(
            **self.table(settings.pop("diversity", {}), "campaign.diversity", _DIVERSITY_KEYS)
        )
        for key, value in {**settings, **dataclasses.asdict(diversity)}.items():
            prefix = "campaign.diversity" if key in _DIVERSITY_KEYS else "campaign"
            self.check_setting(key, value, f"{prefix}.{key}")
        if not _NAME.fullmatch(settings["name"]):
            raise self.error(
                "campaign.name",
                f"{settings['name']!r} is not a plain name: it names the run directory (runs/NAME) "
                "and the study, so it takes letters, digits, '_', '-' and '.', starting with a "
                "letter or digit",
            )
        seeds, seeds_file = self.seeds(settings)
        components = tuple(
            self.component(c, f"component[{i}]")
            for i, c in enumerate(self.array(data, "component"), 1)
        )
        if not components:
            raise self.error(
                "component",
                "missing: a campaign needs at least one [[component]] "
                f"table; kinds: {', '.join(sorted(kinds()))}",
            )
        filters = tuple(
            self.filter(f, f"filter[{i}]") for i, f in enumerate(self.array(data, "filter"), 1)
        )
        objectives = tuple(
            self.build(
                f"objective[{i}]", ParetoTarget, **self.table(o, f"objective[{i}]", OBJECTIVE_KEYS)
            )
            for i, o in enumerate(self.array(data, "objective"), 1)
        )
        aggregate = self.table(data.get("aggregate", {}), "aggregate", AGGREGATE_KEYS).get(
            "method", "geometric"
        )
        sampler = settings.get("sampler", DEFAULT_PARETO_SAMPLER if objectives else DEFAULT_SAMPLER)
        self.check_sampler(sampler, objectives, "campaign.sampler")
        operators = settings.get("operators", () if objectives else DEFAULT_OPERATORS)
        self.check_operators(operators, objectives, "campaign.operators")
        if "trust_region" in settings and not seeds:
            raise self.error(
                "campaign.trust_region",
                "a trust region surrounds the seed molecules: give seeds = [...] or seeds_file",
            )
        if settings.get("start") and seeds:
            raise self.error(
                "campaign.start",
                "a campaign with seeds starts from them: give start = 0, or drop the seeds",
            )
        self.build_objective(components, filters, aggregate, objectives)  # names, weights...
        plain = {
            k: settings[k]
            for k in ("description", "seed", "budget", "batch_size", "top_k", "trust_region",
                      "seeds_sample", "start", "max_ring")
            if k in settings
        }
        return Campaign(
            name=settings["name"],
            components=components,
            filters=filters,
            aggregate=aggregate,
            objectives=objectives,
            sampler=sampler,
            operators=tuple(dict.fromkeys(operators)),
            diversity=diversity,
            seeds=seeds,
            seeds_file=seeds_file,
            source=self.source,
            **plain,
        )
