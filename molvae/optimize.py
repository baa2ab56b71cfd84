"""Property-guided optimization: an Optuna sampler walks the model's latent space toward a
campaign's objective.

Each trial is a latent point in whitened coordinates ``w0..w{Z-1}`` (``z = latent_mean +
latent_std * w``, the model's sampling distribution), inside the prior box ``[-3, 3]`` or a trust
region around encoded seed molecules. Trials are asked for in batches, decoded together, their
distinct new molecules scored together (one oracle call each), and told together.

>>> import tempfile
>>> from molvae.trained import load_model
>>> table = optimize("optimize/qed.toml", budget=16, batch_size=8, model=load_model(),
...                  out=tempfile.mkdtemp())           # doctest: +SKIP
>>> table[["rank", "smiles", "score"]].head(3)          # doctest: +SKIP

**The budget** counts unique molecules scored (oracle calls), as in the PMO benchmark (Gao et al.
2022): a latent point that decodes to a molecule already scored reuses the stored score, costs
nothing, and is still told to the sampler. A molecule whose scoring fails (``state`` failed) is
an oracle call too: its trial is told as failed (``TrialState.FAIL``) with the reason in the
trial's ``failure`` user attribute; a filtered molecule is told 0.

**Storage.** By default the study lives in the run directory, ``study.log`` (Optuna's
``JournalStorage`` with a ``JournalFileBackend``: append-only, safe for several processes on one
machine, and nothing told is lost to Ctrl-C or ``kill -9``). Any Optuna storage URL
(``sqlite:///...``, ``postgresql://...``) may be given instead, with a study name, so workers on
several machines share one study. Every scored molecule is stored in its trial's user attributes
(``smiles``, and ``molvae``: score, state, failure, component values, worker, time), so the
results can be rebuilt from the storage alone (:func:`study_results`).

**Resume.** Rerunning the same command loads the study, rebuilds the score cache from its trials,
counts the molecules already scored toward the budget, and goes on.

**Several workers** on one study (``--worker NAME`` each, same ``--storage``/``--study``): each
worker reads the storage just before scoring and skips molecules another worker has stored. Two
workers that score the same new molecule within the same few moments (between one's read and
the other's write) both call the oracle for it: the results keep one row per SMILES (the lower
trial number), and the budget, counted in unique SMILES, may be passed by up to a batch per
worker. Give each worker a distinct name: the name seeds its sampler.

**Outputs** (run directory, written atomically, refreshed every ``refresh_seconds`` and at the
end): ``results.csv``, ``top.csv``, ``top.sdf``, ``top.png``, ``progress.csv``,
``progress.png``, ``pareto.csv`` (multi-objective campaigns), ``manifest.json`` (at the start)
and ``timing.json`` (at the end: seconds spent asking, decoding, scoring, telling, writing, and
the sampler's own share of asking and telling).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import socket
import sys
import time
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from molvae.campaign import SAMPLERS, Campaign, load_campaign
from molvae.errors import MolVAEError
from molvae.io import atomic_write_text
from molvae.objectives import Batch, Component, Objective, PythonFunction
from molvae.results import (
    ATTR,
    FINISHED,
    Record,
    iso_time,
    pareto_front,
    plain,
    plot_progress,
    progress_table,
    record_of,
    results_table,
    select_top,
    study_results,
)
from molvae.samplers import LatentCmaEs
from molvae.storage import open_storage, open_study, tell

__all__ = [
    "PRIOR_BOX",
    "OptimizeError",
    "SearchSpace",
    "check_run_dir",
    "make_sampler",
    "optimize",
    "pareto_front",
    "select_top",
    "study_results",
]

log = logging.getLogger(__name__)

#: Half-width of the default search box, in prior standard deviations.
PRIOR_BOX = 3.0
#: Trials one call may ask for, per molecule of budget, before it gives up on a sampler that only
#: proposes molecules already scored.
MAX_TRIALS_PER_MOLECULE = 20
#: Seconds between refreshes of the output files during a run.
REFRESH_SECONDS = 10.0


class OptimizeError(MolVAEError, ValueError):
    """An optimization that cannot run: bad settings, seeds the model cannot encode, a study made
    for another campaign, an output directory that cannot be written."""


# --- The search space ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchSpace:
    """A box in whitened latent coordinates: ``z = mean + std * w`` with ``lower <= w <= upper``.

    >>> space = SearchSpace.box(np.zeros(2), np.ones(2), 3.0)
    >>> space.names, space.latents(np.array([[1.0, -1.0]])).tolist()
    (('w0', 'w1'), [[1.0, -1.0]])
    """

    lower: np.ndarray  # (Z,)
    upper: np.ndarray  # (Z,)
    mean: np.ndarray  # (Z,)
    std: np.ndarray  # (Z,)
    kind: str = "prior"
    seeds_w: np.ndarray | None = None  # (S, Z) whitened latents of the encoded seeds

    @classmethod
    def box(cls, mean: np.ndarray, std: np.ndarray, bound: float = PRIOR_BOX) -> SearchSpace:
        """The prior box ``[-bound, bound]`` in every dimension."""
        mean, std = _vectors(mean, std)
        return cls(np.full(len(mean), -bound), np.full(len(mean), bound), mean, std)

    @classmethod
    def trust_region(
        cls,
        mean: np.ndarray,
        std: np.ndarray,
        seeds_z: np.ndarray,
        radius: float,
        bound: float = PRIOR_BOX,
    ) -> SearchSpace:
        """The union box of ``radius`` around each seed's whitened latent, clipped to the prior box
        ``[-bound, bound]`` (but always holding the seeds themselves)."""
        mean, std = _vectors(mean, std)
        w = (np.atleast_2d(np.asarray(seeds_z, dtype=np.float64)) - mean) / std
        lo, hi = w.min(axis=0), w.max(axis=0)
        lower = np.minimum(np.maximum(lo - radius, -bound), lo)
        upper = np.maximum(np.minimum(hi + radius, bound), hi)
        return cls(lower, upper, mean, std, kind="trust_region", seeds_w=w)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"w{i}" for i in range(len(self.mean)))

    def distributions(self) -> dict[str, FloatDistribution]:
        """Optuna's distribution of each dimension."""
        return {
            n: FloatDistribution(float(lo), float(hi))
            for n, lo, hi in zip(self.names, self.lower, self.upper, strict=True)
        }

    def latents(self, w: np.ndarray) -> np.ndarray:
        """(N, Z) latents of whitened points."""
        return (self.mean + self.std * np.asarray(w, dtype=np.float64)).astype(np.float32)

    def whiten(self, z: np.ndarray) -> np.ndarray:
        """(N, Z) whitened coordinates of latents."""
        return (np.asarray(z, dtype=np.float64) - self.mean) / self.std

    def params(self, w: np.ndarray) -> dict[str, float]:
        """A trial's parameters for one whitened point (clipped into the box)."""
        w = np.clip(w, self.lower, self.upper)
        return {n: float(v) for n, v in zip(self.names, w, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dims": len(self.mean),
            "lower": [round(float(v), 6) for v in self.lower],
            "upper": [round(float(v), 6) for v in self.upper],
        }


def _vectors(mean: Any, std: Any) -> tuple[np.ndarray, np.ndarray]:
    mean = np.asarray(mean, dtype=np.float64).reshape(-1)
    std = np.asarray(std, dtype=np.float64).reshape(-1)
    return mean, np.where(std > 0, std, 1.0)


def _model_space(model: Any, box: float) -> SearchSpace:
    net = model.network
    return SearchSpace.box(
        net.latent_mean.detach().cpu().numpy(), net.latent_std.detach().cpu().numpy(), box
    )


# --- Samplers -----------------------------------------------------------------------------------


def make_sampler(
    name: str,
    *,
    seed: int | None,
    batch_size: int = 32,
    space: dict[str, FloatDistribution] | None = None,
    x0: dict[str, float] | None = None,
) -> optuna.samplers.BaseSampler:
    """An Optuna sampler by campaign name (:data:`molvae.campaign.SAMPLERS`), seeded.

    ``cmaes`` is :class:`~molvae.samplers.LatentCmaEs` over ``space``: its population is the
    batch (at least its default ``4 + 3 ln Z``) and it starts from ``x0`` (default: the box
    centre); ``tpe`` is multivariate with the constant liar, so the trials of one batch differ.

    >>> type(make_sampler("tpe", seed=0)).__name__
    'TPESampler'

    Raises:
        OptimizeError: an unknown name, or ``cmaes`` without the ``cmaes`` package.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "cmaes":
            try:
                import cmaes  # noqa: F401 - the CMA-ES implementation
            except ImportError as err:
                raise OptimizeError(
                    "sampler 'cmaes' needs the cmaes package: pip install cmaes "
                    "(or choose another sampler: " + ", ".join(SAMPLERS) + ")"
                ) from err
            if space is None:
                raise OptimizeError("sampler 'cmaes' needs the search space")
            dims = len(space)
            popsize = max(batch_size, 4 + int(3 * math.log(dims)))
            return LatentCmaEs(space, x0=x0, seed=seed, popsize=popsize)
        if name == "tpe":
            return optuna.samplers.TPESampler(
                multivariate=True, constant_liar=True, seed=seed
            )
        if name == "gp":
            return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "qmc":
            return optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False)
        if name == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed)
    raise OptimizeError(f"unknown sampler {name!r}; expected one of: {', '.join(SAMPLERS)}")


def _sampler_seed(seed: int, worker: str | None, done: int) -> int:
    """The campaign seed for a fresh single-worker run; else one derived from the worker's name and
    the trials already in the study, so workers and resumed runs propose new points."""
    if worker is None and done == 0:
        return seed
    digest = hashlib.sha256(f"{seed}:{worker}:{done}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


# --- Objectives from plain callables -------------------------------------------------------------


@dataclass(frozen=True)
class _CallableObjective(Objective):
    """One ``python`` component whose raw value is the score itself (any real number; NaN or an
    exception fails the molecule)."""

    def score(
        self,
        smiles: Sequence[str],
        z: np.ndarray | None = None,
        predict: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> pd.DataFrame:
        component = self.components[0]
        batch = Batch.of(smiles)
        raw = component.scorer(batch)
        values = np.asarray(raw.values, dtype=np.float64)
        failure = [
            ""
            if not math.isnan(v)
            else (
                (raw.reasons[i] if raw.reasons and raw.reasons[i] else "")
                or ("invalid SMILES" if batch.mols[i] is None else f"{component.name}: no value")
            )
            for i, v in enumerate(values)
        ]
        failed = np.isnan(values)
        return pd.DataFrame(
            {
                "smiles": list(batch.smiles),
                "score": values,
                "state": np.where(failed, "failed", "ok").astype(object),
                "failure": failure,
                "passed_filters": ~failed,
                component.name: values,
                f"{component.name}_score": values,
            },
            columns=list(self.columns),
        )


def _callable_campaign(fn: Callable[[list[str]], Sequence[float]]) -> Campaign:
    name = re.sub(r"\W", "_", getattr(fn, "__name__", "objective")).strip("_") or "objective"
    name = name if re.match(r"[A-Za-z_]", name) else f"f_{name}"
    return Campaign(name=name, components=(Component("value", PythonFunction(fn)),))


# --- Manifest -------------------------------------------------------------------------------------


def model_checksum(model: Any) -> str:
    """The model file's ``tensors_sha256`` (from its header), else a SHA-256 of its weights."""
    path = getattr(model, "path", None)
    if path is not None and Path(path).is_file():
        from molvae.checkpoint import _metadata

        with open(path, "rb") as fh:
            head = fh.read(8)
            size = int.from_bytes(head, "little") if len(head) == 8 else 0
            head += fh.read(min(size, 100_000_000))
        with contextlib.suppress(KeyError, ValueError, UnicodeDecodeError):
            digest = json.loads(_metadata(head)["molvae"]).get("tensors_sha256")
            if digest:
                return str(digest)
    h = hashlib.sha256()
    for name, tensor in sorted(model.network.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from molvae.checkpoint import versions

    found = versions()
    for name in ("optuna", "numpy", "pandas"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "unknown"
    return found


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every finished trial at INFO: keep it to warnings during a run."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(level, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def check_run_dir(out: str | os.PathLike) -> Path:
    """Create the run directory if needed; an error unless it is a writable directory."""
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise OptimizeError(f"output directory {out} is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OptimizeError(f"cannot create output directory {out}: {err.strerror}") from err
    if not os.access(out, os.W_OK | os.X_OK):
        raise OptimizeError(f"output directory {out} is not writable")
    return out


# --- The engine -----------------------------------------------------------------------------------


@dataclass
class _Timer:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


class _Run:
    """One worker's session on a study: the loop, the cache of scored molecules, the outputs."""

    def __init__(
        self,
        campaign: Campaign,
        objective: Objective,
        model: Any,
        study: optuna.Study,
        space: SearchSpace,
        worker: str,
        out: Path | None,
        refresh_seconds: float,
    ) -> None:
        self.campaign, self.objective, self.model = campaign, objective, model
        self.study, self.space, self.worker, self.out = study, space, worker, out
        self.refresh_seconds = refresh_seconds
        self.columns = list(objective.columns)
        self.records: dict[str, Record] = {}
        self.seen_trials: set[int] = set()
        self.properties: dict[str, dict[str, Any]] = {}
        self.timer = _Timer()
        self.trials_asked = 0
        self.calls_here = 0
        self.last_write = time.monotonic()
        self.distributions = space.distributions()
        self.backend: Any = None  # groups a batch's writes (journal file, database), syncs them

    # -- the cache --

    def sync(self) -> None:
        """Add the molecules told to the storage since the last sync (any worker's)."""
        with self.timer("storage_read"):
            trials = self.study.get_trials(deepcopy=False, states=FINISHED)
        for trial in trials:
            if trial.number in self.seen_trials:
                continue
            self.seen_trials.add(trial.number)
            rec = record_of(trial)
            if rec is None:
                continue
            known = self.records.get(rec.smiles)
            if known is None or rec.trial < known.trial:
                self.records[rec.smiles] = rec

    @property
    def calls(self) -> int:
        return len(self.records)

    def scores(self) -> np.ndarray:
        s = np.array([r.row.get("score", math.nan) for r in self.records.values()], dtype=float)
        return s[np.isfinite(s)]

    def best_and_top10(self) -> tuple[float, float]:
        s = self.scores()
        if not len(s):
            return math.nan, math.nan
        top = np.sort(s)[-10:]
        return float(top[-1]), float(top.sum() / 10)

    # -- telling --

    def values(self, row: dict[str, Any]) -> float | list[float] | None:
        """What the sampler is told for a scored molecule; None: the trial failed."""
        if self.objective.multi_objective:
            table = pd.DataFrame([{**row, "smiles": ""}])
            values = self.objective.pareto_values(table)[0]
            return None if np.isnan(values).any() else [float(v) for v in values]
        score = row.get("score", math.nan)
        return None if score is None or not math.isfinite(score) else float(score)

    def tell(self, trial: optuna.Trial, smiles: str | None, oracle: bool, failure: str) -> None:
        with self.timer("tell"):
            if smiles is None:
                trial.set_user_attr("failure", failure)
                tell(self.study, trial, state=TrialState.FAIL)
                return
            rec = self.records[smiles]
            info = {"smiles": smiles, "oracle": oracle, "worker": self.worker, "time": time.time()}
            if oracle:
                info = {**info, "row": {k: plain(v) for k, v in rec.row.items()}}
            trial.set_user_attr("smiles", smiles)
            trial.set_user_attr(ATTR, info)
            values = self.values(rec.row)
            if values is None:
                trial.set_user_attr("failure", str(rec.row.get("failure") or "no score"))
                tell(self.study, trial, state=TrialState.FAIL)
            else:
                tell(self.study, trial, values)

    # -- one batch --

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """One write to the journal for a batch of operations (nothing to group elsewhere)."""
        return self.backend.batch() if self.backend is not None else contextlib.nullcontext()

    def step(self, n: int) -> int:
        """Ask ``n`` trials, decode, score the new molecules, tell; the oracle calls made."""
        with self.timer("ask"), self.batch():
            trials = [self.study.ask(self.distributions) for _ in range(n)]
            params = [t.params for t in trials]  # each access copies the trial's parameters
        self.trials_asked += n
        told: set[int] = set()
        smiles: list[str | None] = [None] * n
        first: dict[str, int] = {}
        try:
            w = np.array([[p[name] for name in self.space.names] for p in params])
            z = self.space.latents(w)
            with self.timer("decode"):
                decoded = self.model.decode_latents(z)
            smiles = [smi for _, smi in decoded]
            self.sync()  # another worker may have scored some of them meanwhile
            for i, smi in enumerate(smiles):
                if smi is not None and smi not in self.records and smi not in first:
                    first[smi] = i
            if first:
                rows = list(first.values())
                self.score(list(first), z[rows], [trials[i] for i in rows])
            with self.batch():
                for i, (trial, smi) in enumerate(zip(trials, smiles, strict=True)):
                    oracle = smi is not None and first.get(smi) == i
                    self.tell(trial, smi, oracle, "" if smi else "decodes to no molecule")
                    told.add(i)
            if self.backend is not None:
                with self.timer("tell"):
                    self.backend.sync()
            return len(first)
        finally:  # interrupted: store what was scored, and leave no trial running
            for i, trial in enumerate(trials):
                if i in told:
                    continue
                smi = smiles[i]
                with contextlib.suppress(Exception):
                    if smi is not None and smi in self.records:
                        self.tell(trial, smi, first.get(smi) == i, "")
                    else:
                        trial.set_user_attr("failure", "interrupted")
                        self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)

    def score(self, smiles: list[str], z: np.ndarray, trials: list[optuna.Trial]) -> None:
        predict = self.model.predict_properties if self.objective.needs_latents else None
        with self.timer("score"):
            table = self.objective.score(smiles, z=z, predict=predict)
        now = time.time()
        body = [c for c in self.columns if c != "smiles"]
        for smi, trial, row in zip(smiles, trials, table[body].to_dict("records"), strict=True):
            self.records[smi] = Record(smi, row, trial.number, self.worker, now)
        self.calls_here += len(smiles)

    # -- outputs --

    def results(self) -> pd.DataFrame:
        """The results table with the chemist's properties (cached per molecule)."""
        table = results_table(list(self.records.values()), self.columns)
        with self.timer("properties"):
            new = [s for s in table["smiles"] if s not in self.properties]
            if new:
                from molvae.proposals import with_properties

                props = with_properties(pd.DataFrame({"smiles": new}), model=self.model, workers=1)
                for smi, row in zip(new, props.drop(columns="smiles").to_dict("records"),
                                    strict=True):
                    self.properties[smi] = row
        if not len(table):
            return table
        props = pd.DataFrame([self.properties[s] for s in table["smiles"]], index=table.index)
        rename, drop = {}, []
        kinds = {c.name: c.kind for c in self.objective.components}
        for col in props.columns:
            if col in table.columns:
                if kinds.get(col) == col:  # the same descriptor: keep the component's column
                    drop.append(col)
                else:
                    rename[col] = f"property_{col}"
        props = props.drop(columns=drop).rename(columns=rename)
        return pd.concat([table, props], axis=1)

    def write(self, final: bool = False) -> pd.DataFrame | None:
        """Refresh the output files (when due, or ``final``); the results table if built."""
        if self.out is None and not final:
            return None
        if not final and time.monotonic() - self.last_write < self.refresh_seconds:
            return None
        self.sync()
        table = self.results()
        if self.out is not None:
            with self.timer("write"):
                self._write_files(table)
        self.last_write = time.monotonic()
        return table

    def _write_files(self, table: pd.DataFrame) -> None:
        from molvae.export import write_image, write_table

        out = self.out
        assert out is not None
        write_table(table, out / "results.csv")
        diversity = self.campaign.diversity
        top = select_top(
            table,
            self.campaign.top_k,
            min_distance=diversity.min_distance,
            max_per_scaffold=diversity.max_per_scaffold,
        ) if len(table) else table
        write_table(top, out / "top.csv")
        write_table(top, out / "top.sdf", "sdf")
        write_image(top.head(48), out / "top.png", legend=["score"] if "score" in top else None)
        progress = progress_table(list(self.records.values()))
        write_table(progress, out / "progress.csv")
        plot_progress(progress, out / "progress.png", self.campaign.name)
        if self.objective.multi_objective and len(table):
            write_table(pareto_front(table, self.objective), out / "pareto.csv")


def _resolve(
    campaign_or_objective: Any,
) -> tuple[Campaign, Objective]:
    """The campaign (settings) and the objective (scoring) of what the user passed."""
    if isinstance(campaign_or_objective, str | os.PathLike):
        campaign = load_campaign(campaign_or_objective)
        return campaign, campaign.objective()
    if isinstance(campaign_or_objective, Campaign):
        return campaign_or_objective, campaign_or_objective.objective()
    if isinstance(campaign_or_objective, Objective):
        obj = campaign_or_objective
        campaign = Campaign(
            name="objective",
            components=obj.components,
            filters=obj.filters,
            aggregate=obj.aggregate,
            objectives=obj.objectives,
            sampler="nsga2" if obj.objectives else "cmaes",
        )
        return campaign, obj
    if callable(campaign_or_objective):
        campaign = _callable_campaign(campaign_or_objective)
        objective = _CallableObjective(campaign.components)
        return campaign, objective
    raise OptimizeError(
        "optimize() takes a campaign file, a Campaign, an Objective or a callable "
        f"(list of SMILES -> list of floats), not {type(campaign_or_objective).__name__}"
    )


def _study_fingerprint(campaign: Campaign, checksum: str, space: SearchSpace) -> dict[str, Any]:
    """What must match for a study to be resumed or shared: objective, model, search space."""
    objective = {k: v for k, v in campaign.to_dict().items() if k != "campaign"}
    for table, component in zip(objective["component"], campaign.components, strict=True):
        fn = getattr(component.scorer, "function", None)
        if callable(fn):  # a callable object's repr holds its address: name its class instead
            name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
            table["function"] = f"{getattr(fn, '__module__', None) or type(fn).__module__}:{name}"
    return {"objective": objective, "model": checksum, "space": space.to_dict()}


def _check_study(study: optuna.Study, expected: dict[str, Any], where: str) -> None:
    stored = study.user_attrs.get("molvae_study")
    if stored is None:
        study.set_user_attr("molvae_study", expected)
        return
    stored = json.loads(json.dumps(stored))
    expected = json.loads(json.dumps(expected))
    for key, what in (("objective", "objective"), ("model", "model"), ("space", "search space")):
        if stored.get(key) != expected.get(key):
            raise OptimizeError(
                f"study {study.study_name!r} in {where} was started with a different {what}; "
                "resume it with the same campaign and model, or start a new study "
                "(another --out or --study)"
            )


def optimize(
    campaign_or_objective: Any,
    *,
    budget: int | None = None,
    model: Any = None,
    seed: int | None = None,
    sampler: str | optuna.samplers.BaseSampler | None = None,
    out: str | os.PathLike | None = None,
    storage: Any = None,
    study: str | None = None,
    batch_size: int | None = None,
    progress: bool = False,
    worker: str | None = None,
    refresh_seconds: float = REFRESH_SECONDS,
    box: float = PRIOR_BOX,
) -> pd.DataFrame:
    """Search the model's latent space for molecules that score well; the results table.

    Args:
        campaign_or_objective: a campaign file (TOML), a :class:`~molvae.campaign.Campaign`, an
            :class:`~molvae.objectives.Objective`, or a callable taking a list of SMILES and
            returning one float per SMILES (higher is better; NaN or an exception: failed).
        budget: unique molecules to score in all (default: the campaign's); molecules already in
            the study count toward it.
        model: a ``TrainedModel``, a model file, or None for the shipped model.
        seed: seeds the sampler (default: the campaign's).
        sampler: a sampler name (:data:`molvae.campaign.SAMPLERS`) or any Optuna sampler.
        out: the run directory (outputs, ``manifest.json``, and the default storage
            ``study.log``); None: no files, and an in-memory study unless ``storage`` is given.
        storage: an Optuna storage URL, a journal file (``*.log``) or a storage object.
        study: the study name (default: the campaign's name).
        batch_size: latent points asked for, decoded and scored together.
        progress: show a progress bar on stderr.
        worker: this worker's name (results' ``worker`` column; seeds its sampler); default
            ``host:pid``.
        refresh_seconds: how often the output files are rewritten during the run.
        box: half-width of the prior search box, in prior standard deviations.

    Returns:
        Every molecule scored in the study, once, best first: ``rank``, ``smiles``, ``score``,
        ``state``, ``failure``, the objective's columns, ``trial``, ``worker``, ``time``, then
        the chemist's properties and ``novel``.

    Raises:
        OptimizeError: bad settings, seeds that cannot be encoded, a study started for another
            campaign or model, an unwritable output directory.
        CampaignError: a campaign file that cannot be used, or a bad override.
    """
    campaign, objective = _resolve(campaign_or_objective)
    sampler_name = sampler if isinstance(sampler, str) or sampler is None else None
    campaign = campaign.with_overrides(
        budget=budget, seed=seed, sampler=sampler_name, batch_size=batch_size
    )
    if sampler is not None and not isinstance(sampler, str | optuna.samplers.BaseSampler):
        raise OptimizeError(f"sampler must be a name or an Optuna sampler, not {sampler!r}")
    out_dir = check_run_dir(out) if out is not None else None
    storage_obj, storage_url, backend = open_storage(storage, out_dir)
    if model is None or isinstance(model, str | os.PathLike):
        from molvae.trained import load_model

        model = load_model(model)
    timer_start = time.perf_counter()

    space = _model_space(model, box)
    if campaign.seeds:
        enc = model.encode_latents(list(campaign.seeds))
        for i, reason in sorted(enc.errors.items()):
            log.warning("seed %r cannot be encoded, left out: %s", campaign.seeds[i], reason)
        if not enc.ok.any():
            raise OptimizeError(
                f"{campaign.source}: none of the seed molecules can be encoded by this model: "
                + "; ".join(enc.errors.values())
            )
        _warn_unreconstructed(model, [s for s, ok in zip(campaign.seeds, enc.ok, strict=True)
                                      if ok], enc.z)
        if campaign.trust_region is not None:
            space = SearchSpace.trust_region(
                space.mean, space.std, enc.z, campaign.trust_region, box
            )
        else:
            space = SearchSpace(
                space.lower, space.upper, space.mean, space.std, seeds_w=space.whiten(enc.z)
            )
    checksum = model_checksum(model)
    worker_name = worker or f"{socket.gethostname()}:{os.getpid()}"
    study_name = study or campaign.name
    directions = list(objective.directions) if objective.multi_objective else ["maximize"]

    with _quiet_optuna():
        st = open_study(storage_obj, study_name, directions)
        if [d.name.lower() for d in st.directions] != directions:
            raise OptimizeError(
                f"study {study_name!r} in {storage_url} optimizes {len(st.directions)} "
                f"objective(s), this campaign {len(directions)}; use another --study"
            )
        _check_study(st, _study_fingerprint(campaign, checksum, space), storage_url)
        done = len(st.get_trials(deepcopy=False))
        if isinstance(sampler, optuna.samplers.BaseSampler):
            st.sampler = sampler
            sampler_record = {"name": type(sampler).__name__, "seed": None}
        else:
            sampler_seed = _sampler_seed(campaign.seed, worker, done)
            x0 = None
            if space.seeds_w is not None:
                x0 = space.params(space.seeds_w.mean(axis=0))
            st.sampler = make_sampler(
                campaign.sampler,
                seed=sampler_seed,
                batch_size=campaign.batch_size,
                space=space.distributions(),
                x0=x0,
            )
            sampler_record = {"name": campaign.sampler, "seed": sampler_seed}
        if space.seeds_w is not None:
            _enqueue_seeds(st, space, backend)

        run = _Run(campaign, objective, model, st, space, worker_name, out_dir, refresh_seconds)
        run.backend = backend
        run.sync()
        start_calls = run.calls
        if out_dir is not None:
            _write_manifest(
                out_dir, campaign, model, checksum, sampler_record, storage_url, study_name,
                worker_name, space, start_calls,
            )
        if start_calls:
            log.info("resuming study %r: %d molecules already scored", study_name, start_calls)
        table = _loop(run, campaign.budget, campaign.batch_size, progress)
    if out_dir is not None:
        _write_timing(out_dir, run, time.perf_counter() - timer_start, start_calls)
    return table


def _enqueue_seeds(study: optuna.Study, space: SearchSpace, backend: Any) -> None:
    """Enqueue each seed's latent point unless the study already holds it (a resumed run,
    another worker), in one batch of writes. Optuna's ``skip_if_exists`` compares every
    parameter of every trial one by one: minutes for a thousand seeds."""
    names = space.names

    def key(params: dict[str, float]) -> tuple[float, ...]:
        return tuple(round(params[n], 9) for n in names)

    known = set()
    for trial in study.get_trials(deepcopy=False):
        params = trial.params or trial.system_attrs.get("fixed_params", {})
        if all(n in params for n in names):
            known.add(key(params))
    with backend.batch() if backend is not None else contextlib.nullcontext():
        for w in space.seeds_w:
            params = space.params(w)
            if key(params) not in known:
                study.enqueue_trial(params)
                known.add(key(params))


def _warn_unreconstructed(model: Any, seeds: list[str], z: np.ndarray) -> None:
    """Warn about seeds the model decodes to another molecule: the search starts from what the
    model makes of them, and a similarity filter to the seed may reject that whole region."""
    from molvae.chem import canonical_smiles
    from molvae.similarity import tanimoto_to

    missed = [
        (seed, decoded)
        for seed, (_, decoded) in zip(seeds, model.decode_latents(z), strict=True)
        if decoded is None or decoded != canonical_smiles(seed)
    ]
    for seed, decoded in missed[:3]:
        similarity = tanimoto_to(seed, [decoded])[0] if decoded else float("nan")
        log.warning(
            "seed %s decodes to %s (Tanimoto %.2f): the model does not reconstruct it, so the "
            "search starts from the molecule it decodes to", seed, decoded, similarity,
        )
    if len(missed) > 3:
        log.warning("%d of %d seeds are not reconstructed (the first 3 shown)", len(missed),
                    len(seeds))


def _loop(run: _Run, budget: int, batch_size: int, progress: bool) -> pd.DataFrame:
    from tqdm.auto import tqdm

    max_trials = MAX_TRIALS_PER_MOLECULE * budget
    started = time.monotonic()
    table = None
    with tqdm(
        total=budget, initial=min(run.calls, budget), unit="mol", disable=not progress,
        desc="optimizing", file=sys.stderr,
    ) as bar:
        try:
            while True:
                run.sync()
                remaining = budget - run.calls
                if remaining <= 0:
                    break
                if run.trials_asked >= max_trials:
                    log.warning(
                        "stopped after %d trials with %d of %d molecules scored: the sampler keeps "
                        "proposing molecules already scored (a collapsed search; try another "
                        "sampler, a larger box or trust region)",
                        run.trials_asked, run.calls, budget,
                    )
                    break
                before = run.calls
                run.step(min(batch_size, remaining))
                bar.update(max(0, min(run.calls, budget) - min(before, budget)))
                best, top10 = run.best_and_top10()
                rate = run.calls_here / max(time.monotonic() - started, 1e-9)
                bar.set_postfix(best=f"{best:.3f}", top10=f"{top10:.3f}", rate=f"{rate:.1f}/s",
                                refresh=False)
                run.write()
        finally:
            table = run.write(final=True)
    assert table is not None
    best, top10 = run.best_and_top10()
    log.info("%d molecules scored (%d in this run); best %.4f, top-10 mean %.4f", run.calls,
             run.calls_here, best, top10)
    return table


def _write_manifest(
    out: Path, campaign: Campaign, model: Any, checksum: str, sampler: dict[str, Any],
    storage_url: str, study_name: str, worker: str, space: SearchSpace, start_calls: int,
) -> None:
    path = out / "manifest.json"
    sessions: list[Any] = []
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sessions = list(json.loads(path.read_text(encoding="utf-8")).get("sessions", []))
    sessions.append(
        {
            "started": iso_time(time.time()),
            "worker": worker,
            "molecules_already_scored": start_calls,
            "budget": campaign.budget,
            "sampler": sampler,
        }
    )
    path_text = str(Path(model.path).resolve()) if getattr(model, "path", None) else None
    manifest = {
        "campaign": campaign.to_dict(),
        "campaign_file": campaign.source,
        "model": {"path": path_text, "tensors_sha256": checksum},
        "seed": campaign.seed,
        "sampler": sampler,
        "storage": storage_url,
        "study": study_name,
        "search_space": space.to_dict(),
        "versions": _versions(),
        "sessions": sessions,
    }
    atomic_write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")


def _write_timing(out: Path, run: _Run, total: float, start_calls: int) -> None:
    seconds = {k: round(v, 4) for k, v in sorted(run.timer.seconds.items())}
    sampler_s = getattr(run.study.sampler, "seconds", None)
    accounted = sum(run.timer.seconds.values())
    timing = {
        "worker": run.worker,
        "total_s": round(total, 4),
        "seconds": seconds,
        "other_s": round(max(total - accounted, 0.0), 4),
        "share": {k: round(v / total, 4) for k, v in seconds.items()} if total > 0 else {},
        # the sampler's own computing, inside "ask" and "tell" (the rest there is Optuna's
        # bookkeeping of trials and parameters); null for samplers that do not report it
        "sampler_s": round(sampler_s, 4) if sampler_s is not None else None,
        "molecules_scored_here": run.calls_here,
        "molecules_in_study": run.calls,
        "molecules_before": start_calls,
        "trials_asked_here": run.trials_asked,
    }
    atomic_write_text(out / "timing.json", json.dumps(timing, indent=2) + "\n")


class _CallableModule(types.ModuleType):
    """``molvae.optimize`` is both this module and, lazily exported, the function: importing the
    module binds the module to the package's attribute, so the module calls the function."""

    def __call__(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        return optimize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
