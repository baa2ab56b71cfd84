"""Property-guided optimization: an Optuna sampler walks the model's latent space toward a
campaign's objective.

Each trial is a latent point in whitened coordinates (:mod:`molvae.optimization.space`), inside
the prior box ``[-3, 3]`` or a trust region around encoded seed molecules. Points are asked for
in batches, decoded together, their distinct new molecules scored together (one oracle call
each), and told together (:mod:`molvae.optimization.loop`).

>>> import tempfile, molvae
>>> table = molvae.optimize("optimize/qed.toml", budget=16, batch_size=8,
...                         out=tempfile.mkdtemp())           # doctest: +SKIP
>>> table[["rank", "smiles", "score"]].head(3)                 # doctest: +SKIP

**Storage.** By default the study lives in the run directory, ``study.log`` (Optuna's
``JournalStorage``: append-only, safe for several processes on one machine, and nothing told is
lost to Ctrl-C or ``kill -9``). Any storage Optuna supports may be given instead, with a study
name, so workers on several machines share one study (:mod:`molvae.optimization.storage`).
Every scored molecule is stored in its trial (:mod:`molvae.optimization.records`), so the
results can be rebuilt from the storage alone (:func:`~molvae.optimization.outputs.study_results`).

**Resume.** Rerunning the same command loads the study, rebuilds the score cache from its trials,
counts the molecules already scored toward the budget, and goes on.

**Several workers** on one study (``--worker NAME`` each, same ``--storage``/``--study``) share
what they find through the study; give each a distinct name: the name seeds its sampler.

**Outputs** (run directory, written atomically, refreshed every ``refresh_seconds`` and at the
end): ``results.csv``, ``top.csv``, ``top.sdf``, ``top.png``, ``progress.csv``,
``progress.png``, ``pareto.csv`` (multi-objective campaigns), ``manifest.json`` (at the start)
and ``timing.json`` (at the end: seconds spent asking, decoding, scoring, telling, writing, the
sampler's own share, and what each source of proposals gave).
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
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from molvae.checkpoint import tensors_sha256, versions
from molvae.errors import CheckpointError, OptimizeError
from molvae.optimization.campaign import Campaign, load_campaign
from molvae.optimization.components import Batch, PythonFunction
from molvae.optimization.loop import REFRESH_SECONDS, Run
from molvae.optimization.objective import Component, Objective
from molvae.optimization.operators import make_operators
from molvae.optimization.operators.encoding import campaign_screen
from molvae.optimization.outputs import remove_stale_temporaries, write_manifest, write_timing
from molvae.optimization.portfolio import Portfolio
from molvae.optimization.samplers import LatentCmaEs, make_sampler
from molvae.optimization.space import PRIOR_BOX, SearchSpace, model_space
from molvae.optimization.start import StartPopulation, start_size
from molvae.optimization.storage import open_storage, open_study
from molvae.optimization.trials import OptunaTrials, SeedQueue, WholeTrials

__all__ = ["check_run_dir", "model_checksum", "optimize"]

log = logging.getLogger(__name__)


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


def check_run_dir_holds(out: Path, campaign: str, study: str) -> None:
    """A run directory holds one campaign's study: starting another there would replace that
    run's outputs (its study survives in the journal, its results.csv would not)."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        held = manifest["campaign"]["campaign"]["name"], manifest["study"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # a new run directory (or one without a readable manifest)
    if held != (campaign, study):
        raise OptimizeError(
            f"{out} holds the run of campaign {held[0]!r} (study {held[1]!r}); give campaign "
            f"{campaign!r} another --out, or resume that one there"
        )


def sampler_seed(seed: int, worker: str | None, done: int) -> int:
    """The campaign seed for a fresh single-worker run; else one derived from the worker's name and
    the trials already in the study, so workers and resumed runs propose new points."""
    if worker is None and done == 0:
        return seed
    digest = hashlib.sha256(f"{seed}:{worker}:{done}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


@dataclass(frozen=True)
class _CallableObjective(Objective):
    """One ``python`` component whose raw value is the score itself (any real number; NaN or an
    exception fails the molecule)."""

    def score_batch(self, batch: Batch) -> pd.DataFrame:
        component = self.components[0]
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


def model_checksum(model: Any) -> str:
    """The model file's ``tensors_sha256`` (from its header), else a SHA-256 of its weights."""
    path = getattr(model, "path", None)
    if path is not None and Path(path).is_file():
        digest = None
        with contextlib.suppress(CheckpointError):
            digest = tensors_sha256(path)
        if digest:
            return digest
    h = hashlib.sha256()
    for name, tensor in sorted(model.network.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every finished trial at INFO: keep it to warnings during a run."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(level, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def _resolve(
    campaign_or_objective: Any, allow_python: bool = False
) -> tuple[Campaign, Objective]:
    """The campaign (settings) and the objective (scoring) of what the user passed."""
    if isinstance(campaign_or_objective, str | os.PathLike):
        campaign = load_campaign(campaign_or_objective, allow_python=allow_python)
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
    operators: Sequence[str] | None = None,
    progress: bool = False,
    worker: str | None = None,
    refresh_seconds: float = REFRESH_SECONDS,
    box: float = PRIOR_BOX,
    allow_python: bool = False,
    standardize: bool | None = None,
    refine: bool | None = None,
    max_ring: int | None = None,
) -> pd.DataFrame:
    """Search the model's latent space for molecules that score well; the results table.

    Args:
        campaign_or_objective: a campaign file (TOML), a :class:`~molvae.optimization.Campaign`, an
            :class:`~molvae.optimization.Objective`, or a callable taking a list of SMILES and
            returning one float per SMILES (higher is better; NaN or an exception: failed).
        budget: unique molecules to score in all (default: the campaign's); molecules already in
            the study count toward it.
        model: a ``TrainedModel``, a model file, or None for the shipped model.
        seed: seeds the sampler (default: the campaign's).
        sampler: a sampler name (:data:`molvae.optimization.SAMPLERS`) or any Optuna sampler.
        out: the run directory (outputs, ``manifest.json``, and the default storage
            ``study.log``); None: no files, and an in-memory study unless ``storage`` is given.
        storage: an Optuna storage URL, a journal file (``*.log``) or a storage object.
        study: the study name (default: the campaign's name).
        batch_size: latent points asked for, decoded and scored together.
        operators: the search operators beside the sampler
            (:data:`~molvae.optimization.operators.OPERATORS`; ``()`` for the sampler alone;
            default: the campaign's, all of them for a single objective).
        progress: show a progress bar on stderr.
        worker: this worker's name (results' ``worker`` column; seeds its sampler); default
            ``host:pid``.
        refresh_seconds: how often the output files are rewritten during the run.
        box: half-width of the prior search box, in prior standard deviations.
        allow_python: let a campaign file's ``python`` components import and run the modules
            they name (molvae's own are always allowed).
        standardize: standardize seed molecules before encoding (``molvae.standardize``);
            default: what the model was loaded with (on for a file or the shipped model).
        refine: give a seed the model does not reconstruct from its posterior mean a refined
            latent that decodes back to it (``molvae.refine``); default: what the model was
            loaded with (on for a file or the shipped model).
        max_ring: leave unscored (no oracle call) a candidate with a ring of more than this many
            atoms; 0 scores every ring (default: the campaign's, 0).

    Returns:
        Every molecule scored in the study, once, best first: ``rank``, ``smiles``, ``score``,
        ``state``, ``failure``, the objective's columns, ``trial``, ``worker``, ``time``, then
        the chemist's properties and ``novel``.

    Raises:
        OptimizeError: bad settings, seeds that cannot be encoded, a study started for another
            campaign or model, an unwritable output directory.
        CampaignError: a campaign file that cannot be used, or a bad override.
    """
    campaign, objective = _resolve(campaign_or_objective, allow_python)
    sampler_name = sampler if isinstance(sampler, str) or sampler is None else None
    campaign = campaign.with_overrides(
        budget=budget, seed=seed, sampler=sampler_name, batch_size=batch_size, operators=operators,
        max_ring=max_ring,
    )
    if sampler is not None and not isinstance(sampler, str | optuna.samplers.BaseSampler):
        raise OptimizeError(f"sampler must be a name or an Optuna sampler, not {sampler!r}")
    out_dir = check_run_dir(out) if out is not None else None
    if out_dir is not None:
        check_run_dir_holds(out_dir, campaign.name, study or campaign.name)
        for tmp in remove_stale_temporaries(out_dir):
            log.info("removed %s, left by an interrupted write", tmp.name)
    storage_obj, storage_url, journal = open_storage(storage, out_dir)
    if model is None or isinstance(model, str | os.PathLike):
        from molvae.trained import load_model

        model = load_model(model, standardize=standardize is not False, refine=refine is not False)
    else:
        if standardize is not None:
            model.standardize = standardize
        if refine is not None:
            model.refine = refine
    timer_start = time.perf_counter()

    space = model_space(model, box)
    if campaign.seeds:
        enc = model.encode_exact(list(campaign.seeds))
        for i, reason in sorted(enc.errors.items()):
            log.warning("seed %r cannot be encoded, left out: %s", campaign.seeds[i], reason)
        if not enc.ok.any():
            raise OptimizeError(
                f"{campaign.source}: none of the seed molecules can be encoded by this model: "
                + "; ".join(enc.errors.values())
            )
        encoded = [s for s, ok in zip(campaign.seeds, enc.ok, strict=True) if ok]
        _warn_unreconstructed(model, encoded, enc.z, enc.reconstructs)
        model.warn_unfamiliar(encoded, enc.mean, what="seed")
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
            seed_of_sampler = sampler_seed(campaign.seed, worker, done)
            x0 = None
            if space.seeds_w is not None:
                x0 = space.params(space.seeds_w.mean(axis=0))
            st.sampler = make_sampler(
                campaign.sampler,
                seed=seed_of_sampler,
                batch_size=campaign.batch_size,
                space=space.distributions(),
                x0=x0,
            )
            sampler_record = {"name": campaign.sampler, "seed": seed_of_sampler}
        if isinstance(st.sampler, LatentCmaEs):
            proposer: Any = WholeTrials(st, st.sampler, space, source=sampler_record["name"])
        else:
            proposer = OptunaTrials(st, space)
        seeds = SeedQueue(space.seeds_w, worker) if space.seeds_w is not None else None
        run = Run(campaign, objective, model, st, space, proposer, seeds, worker_name, out_dir,
                  journal, refresh_seconds)
        if campaign.operators and not objective.multi_objective:
            start = None
            size = start_size(campaign.budget) if campaign.start is None else campaign.start
            if space.seeds_w is None and size:  # a campaign's seeds are its start
                start = StartPopulation.of(model, space, size,
                                           sampler_seed(campaign.seed + 2, worker, done),
                                           lambda: run.calls)
            run.proposer = proposer = Portfolio(
                proposer, make_operators(campaign.operators, model, space,
                                         campaign_screen(objective)), run.elites,
                seed=sampler_seed(campaign.seed + 1, worker, done), start=start)
        run.sync()
        start_calls = run.calls
        if out_dir is not None:
            write_manifest(
                out_dir, campaign, model, checksum, sampler_record, storage_url, study_name,
                worker_name, space, start_calls, versions(("optuna", "numpy", "pandas")),
            )
        if start_calls:
            log.info("resuming study %r: %d molecules already scored", study_name, start_calls)
        table = run.until(campaign.budget, campaign.batch_size, progress)
    for name, seconds in getattr(proposer, "seconds_by", {}).items():  # operators' own time
        stats = run.by_source.setdefault(name, {"asked": 0, "scored": 0, "seconds": 0.0})
        stats["seconds"] = stats.get("seconds", 0.0) + seconds
    if out_dir is not None:
        write_timing(
            out_dir, worker=worker_name, total=time.perf_counter() - timer_start,
            seconds=run.timer.seconds, sampler_s=proposer.seconds, by_source=run.by_source,
            scored_here=run.calls_here, in_study=run.calls, before=start_calls,
            trials_here=run.trials_asked,
        )
    return table


def _warn_unreconstructed(model: Any, seeds: list[str], z: np.ndarray,
                          reconstructs: np.ndarray) -> None:
    """Warn about seeds the model decodes to another molecule (even from a refined latent): the
    search starts from what the model makes of them, and a similarity filter to the seed may
    reject that whole region."""
    from molvae.similarity import tanimoto_to

    lost = np.flatnonzero(~np.asarray(reconstructs, dtype=bool))
    decoded = model.decode_latents(z[lost]) if len(lost) else []
    missed = [(seeds[i], smi) for i, (_, smi) in zip(lost, decoded, strict=True)]
    for seed, decoded in missed[:3]:
        similarity = tanimoto_to(seed, [decoded])[0] if decoded else float("nan")
        log.warning(
            "seed %s decodes to %s (Tanimoto %.2f): the model does not reconstruct it, so the "
            "search starts from the molecule it decodes to", seed, decoded, similarity,
        )
    if len(missed) > 3:
        log.warning("%d of %d seeds are not reconstructed (the first 3 shown)", len(missed),
                    len(seeds))


