"""Walks in the latent space that propose molecules: fresh samples, analogs around a lead, paths
between two leads, molecular analogies and moves along a property direction.

Every verb takes a loaded model and returns the proposal table (``molvae.proposals``). Distances
are in *whitened* units, the latent divided by the model's sampling standard deviation, so a
radius of 1 means one standard deviation of the molecules the model knows, in every dimension.

>>> from molvae import load_model
>>> model = load_model()
>>> path = interpolate(model, "CCOc1ccccc1C(N)=O", "Cc1ccc(S(N)(=O)=O)cc1", steps=6)
>>> int(path["step"].iloc[0]), float(path["similarity_a"].iloc[0])   # starts at A
(0, 1.0)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from molvae.chem import canonical_smiles
from molvae.errors import MolVAEError
from molvae.prior import MAX_SAMPLED_RING
from molvae.proposals import proposal_table
from molvae.similarity import tanimoto_to

if TYPE_CHECKING:
    from molvae.sampler import SampleTally

#: How many latents a verb may decode per molecule asked for before it gives up.
log = logging.getLogger(__name__)

ATTEMPTS_PER_MOLECULE = 20
#: Analogs stop when this many batches in a row decode to nothing new: the neighbourhood is
#: exhausted at this radius, and more draws only cost time.
BARREN_BATCHES = 4
#: Molecules annotated together when sampling with properties (enough to use every core).
PROPERTY_CHUNK = 8192
#: Properties whose direction the heads give; any property column can be fitted from data.
HEAD_PROPERTIES = ("qed", "logp", "sa")


def encode_one(model, smiles: str) -> np.ndarray:  # noqa: ANN001 - TrainedModel
    """The latent (Z,) of one molecule (a lead), as :meth:`~molvae.trained.TrainedModel.
    encode_exact` gives it: a point that decodes back to the molecule where one is found. Warns
    when standardization changed it, when the model does not give it back, or when it lies
    outside the model's domain.

    Raises:
        MolVAEError: the SMILES is invalid or the model cannot encode it (names both).
    """
    enc = model.encode_exact([smiles])
    if not enc.ok[0]:
        raise MolVAEError(f"cannot use {smiles!r}: {enc.errors[0]}")
    model.warn_unfamiliar([smiles], enc.mean, what="lead")
    if not enc.reconstructs[0]:
        (_, decoded), = model.decode_latents(enc.z)
        log.warning("lead %s: the model decodes it to %s, not to itself; what is built on it "
                    "starts from the molecule the model makes of it", smiles, decoded)
    return enc.z[0]


def _decode(model, z: np.ndarray, temperature: float = 0.0,  # noqa: ANN001
            seed: int | None = None) -> tuple[list[str | None], list[str]]:
    decoded = model.decode_latents(np.asarray(z, dtype=np.float32), temperature=temperature,
                                   seed=seed)
    return [smi for _, smi in decoded], [sel for sel, _ in decoded]


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise MolVAEError(f"{name} must be a positive finite number, got {value}")


# --- sampling ------------------------------------------------------------------------------------
def iter_sample_tables(model, n: int, *, unique: bool = False,  # noqa: ANN001
                       temperature: float = 0.0, seed: int | None = None,
                       batch_size: int = 2048, workers: int | None = None,
                       properties: bool = True,
                       max_attempts: int | None = None,
                       max_ring: int | None = MAX_SAMPLED_RING,
                       round_trip: bool = True,
                       tally: SampleTally | None = None) -> Iterator[pd.DataFrame]:
    """Stream the table of ``n`` valid molecules from the prior, batch by batch; molecules
    with a ring of more than ``max_ring`` atoms (None or 0: kept) and, with ``round_trip``,
    molecules the model does not read back are drawn again (``TrainedModel.iter_samples``,
    which keeps ``tally`` up to date).

    Without ``unique``, repeats are kept and marked ``duplicate``; with it, sampling continues
    until ``n`` distinct molecules exist (repeats are counted, not written). When
    ``max_attempts`` latents (default ``20 n + 1000``) give fewer distinct molecules, those are
    the last table and a warning says how many were found.

    Raises:
        MolVAEError: without ``unique``, ``max_attempts`` latents did not give ``n`` molecules.
    """
    if n <= 0:
        raise MolVAEError(f"number of molecules must be positive, got {n}")
    max_attempts = max_attempts or ATTEMPTS_PER_MOLECULE * n + 1000
    seen: dict[str, int] = {}
    taken: set[str] = set()  # with ``unique``: molecules written or waiting to be
    pending: list[tuple[str, str]] = []
    # The property table pays off on all cores only for large chunks (see properties.annotate).
    chunk = max(batch_size, PROPERTY_CHUNK) if properties else batch_size
    written, repeats = 0, 0
    batches = model.iter_samples(n if not unique else 10 ** 12, temperature=temperature,
                                 seed=seed, batch_size=batch_size, workers=workers,
                                 max_attempts=max_attempts, max_ring=max_ring,
                                 round_trip=round_trip, tally=tally)
    try:
        for batch in batches:
            if unique:  # leave out molecules already taken or repeated within the batch
                fresh = [(sel, smi) for sel, smi in batch if not (smi in taken or taken.add(smi))]
                repeats += len(batch) - len(fresh)
                batch = fresh[: n - written - len(pending)]
            pending += batch
            if pending and (len(pending) >= chunk or written + len(pending) >= n):
                table = proposal_table([smi for _, smi in pending], [sel for sel, _ in pending],
                                       model=model, properties=properties, workers=workers,
                                       seen=seen, offset=written)
                written += len(table)
                pending = []
                yield table
                if written >= n:
                    return
    except MolVAEError:
        if not unique:
            raise
    if pending:  # the attempts ran out: what was found is written, and counted
        yield proposal_table([smi for _, smi in pending], [sel for sel, _ in pending],
                             model=model, properties=properties, workers=workers, seen=seen,
                             offset=written)
        written += len(pending)
    log.warning("only %d distinct molecules of %d after %d attempts (%d repeats); ask for "
                "fewer, raise the temperature or the attempt limit", written, n, max_attempts,
                repeats)


def sample(model, n: int, **kwargs) -> pd.DataFrame:  # noqa: ANN001
    """The proposal table of ``n`` prior samples (see :func:`iter_sample_tables`)."""
    return pd.concat(list(iter_sample_tables(model, n, **kwargs)), ignore_index=True)


# --- around one molecule -------------------------------------------------------------------------
def analogs(model, smiles: str, n: int = 20, *, radius: float = 0.5,  # noqa: ANN001
            seed: int | None = 0, batch_size: int = 512, max_attempts: int | None = None,
            workers: int | None = 1, properties: bool = True) -> pd.DataFrame:
    """Up to ``n`` distinct analogs of a lead, decoded from points around its latent, most
    similar first (``similarity``: Tanimoto on Morgan radius 2 to the lead).

    Points are the lead's latent plus Gaussian noise of ``radius`` whitened units; the lead
    itself and repeats are left out. Fewer than ``n`` come back only when ``max_attempts``
    (default ``20 n``) points hold fewer distinct molecules; the table's ``attrs`` say so.

    Raises:
        MolVAEError: the lead is invalid or cannot be encoded, or ``n`` or ``radius`` <= 0.
    """
    if n <= 0:
        raise MolVAEError(f"number of analogs must be positive, got {n}")
    _positive("radius", radius)
    from molvae.chem import why_unreadable

    if canonical_smiles(smiles) is None:
        raise MolVAEError(f"cannot use {smiles!r}: not a valid SMILES ({why_unreadable(smiles)})")
    w0 = model.whiten(encode_one(model, smiles))
    lead = canonical_smiles(model.standardized(smiles).smiles)  # what was encoded
    rng = np.random.default_rng(seed)
    max_attempts = max_attempts or ATTEMPTS_PER_MOLECULE * n
    found: dict[str, tuple[str, float]] = {}  # smiles -> (selfies, latent distance)
    drawn, barren = 0, 0  # barren: batches in a row that found nothing new
    while len(found) < n and drawn < max_attempts:
        size = min(batch_size, max_attempts - drawn)
        noise = rng.standard_normal((size, len(w0))) * radius
        drawn += size
        smis, sels = _decode(model, model.unwhiten(w0 + noise))
        before = len(found)
        for smi, sel, dist in zip(smis, sels, np.linalg.norm(noise, axis=1), strict=True):
            if smi and smi != lead and smi not in found:
                found[smi] = (sel, float(dist))
        barren = barren + 1 if len(found) == before else 0
        if barren >= BARREN_BATCHES and len(found) < n:
            log.warning("analogs of %s: the last %d latents around it gave nothing new (%d "
                        "distinct found of %d asked); stopped early: raise --radius to look "
                        "further", lead, barren * size, len(found), n)
            break
    sims = tanimoto_to(lead, list(found))
    order = sorted(range(len(found)), key=lambda i: -sims[i])[:n]
    keys = list(found)
    table = proposal_table(
        [keys[i] for i in order], [found[keys[i]][0] for i in order],
        columns={"similarity": [round(float(sims[i]), 4) for i in order],
                 "latent_distance": [round(found[keys[i]][1], 3) for i in order]},
        model=model, properties=properties, workers=workers)
    table.attrs.update(lead=lead, latents_decoded=drawn, distinct=len(found), asked=n)
    return table


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (rows for each ``t`` in [0, 1]); linear when a and b are parallel.

    Keeps the norm typical of Gaussian latents, where the straight line passes through the
    low-norm centre that no molecule encodes to.
    """
    t = np.asarray(t, dtype=np.float64)[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = float(np.dot(a, b) / (na * nb)) if na and nb else 1.0
    omega = math.acos(min(1.0, max(-1.0, cos)))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / math.sin(omega)


def interpolate(model, a: str, b: str, steps: int = 10, *,  # noqa: ANN001
                method: str = "slerp", workers: int | None = 1,
                properties: bool = True) -> pd.DataFrame:
    """The molecules on the latent path from ``a`` to ``b`` in ``steps`` points, each distinct
    molecule once, in order of first appearance, with its ``step``, the path fraction ``t`` and
    ``similarity_a`` / ``similarity_b`` (Tanimoto, Morgan radius 2).

    Slerp runs in whitened coordinates, where the sampling distribution is round.

    Raises:
        MolVAEError: an end is invalid or cannot be encoded, ``steps`` < 2, unknown method.
    """
    if steps < 2:
        raise MolVAEError(f"--steps must be at least 2 (the two ends), got {steps}")
    if method not in ("slerp", "linear"):
        raise MolVAEError(f"unknown interpolation {method!r}; choose slerp or linear")
    wa, wb = (model.whiten(encode_one(model, s)) for s in (a, b))
    t = np.linspace(0.0, 1.0, steps)
    w = slerp(wa, wb, t) if method == "slerp" else (1 - t)[:, None] * wa + t[:, None] * wb
    smis, sels = _decode(model, model.unwhiten(w))
    first: dict[str, int] = {}
    for i, smi in enumerate(smis):
        if smi and smi not in first:
            first[smi] = i
    keep = sorted(set(first.values()) | {i for i, smi in enumerate(smis) if not smi})
    kept = [smis[i] for i in keep]
    return proposal_table(
        kept, [sels[i] for i in keep],
        columns={"step": keep, "t": [round(float(t[i]), 4) for i in keep],
                 "similarity_a": np.round(tanimoto_to(a, kept), 4),
                 "similarity_b": np.round(tanimoto_to(b, kept), 4)},
        model=model, properties=properties, workers=workers)


def analogy(model, a: str, b: str, c: str, *, n: int = 10,  # noqa: ANN001
            radius: float = 0.3, seed: int | None = 0, workers: int | None = 1,
            properties: bool = True) -> pd.DataFrame:
    """Latent arithmetic ``z(a) - z(b) + z(c)``: "a is to b as ? is to c". The first row is the
    decoded point itself (``source`` = ``analogy``), then up to ``n`` distinct molecules from
    its neighbourhood (``source`` = ``neighbour``, ``radius`` whitened units), each with its
    similarity to a, b and c.

    Raises:
        MolVAEError: one of the molecules is invalid or cannot be encoded.
    """
    _positive("radius", radius)
    if n < 0:
        raise MolVAEError(f"number of neighbours must be >= 0, got {n}")
    za, zb, zc = (encode_one(model, s) for s in (a, b, c))
    w = model.whiten(za - zb + zc)
    rng = np.random.default_rng(seed)
    points = np.vstack([w, w + radius * rng.standard_normal((ATTEMPTS_PER_MOLECULE * n, len(w)))])
    smis, sels = _decode(model, model.unwhiten(points))
    rows = [0]
    seen = {smis[0]}
    for i in range(1, len(smis)):
        if len(rows) > n:
            break
        if smis[i] and smis[i] not in seen:
            seen.add(smis[i])
            rows.append(i)
    kept = [smis[i] for i in rows]
    return proposal_table(
        kept, [sels[i] for i in rows],
        columns={"source": ["analogy"] + ["neighbour"] * (len(rows) - 1),
                 "similarity_a": np.round(tanimoto_to(a, kept), 4),
                 "similarity_b": np.round(tanimoto_to(b, kept), 4),
                 "similarity_c": np.round(tanimoto_to(c, kept), 4)},
        model=model, properties=properties, workers=workers)


# --- along a property ----------------------------------------------------------------------------
def head_direction(model, z: np.ndarray, prop: str) -> np.ndarray:  # noqa: ANN001
    """The unit direction (whitened) in which the property head's prediction rises fastest at z."""
    import torch

    index = HEAD_PROPERTIES.index(prop)
    net = model.network
    w = torch.tensor(model.whiten(z), dtype=torch.float32, requires_grad=True)
    with torch.enable_grad():
        zt = w * net.latent_std.cpu() + net.latent_mean.cpu()
        net.predict_properties(zt[None])[0, index].backward()
    g = w.grad.numpy().astype(np.float64)
    return g / (np.linalg.norm(g) or 1.0)


def fitted_direction(model, prop: str, *, n: int = 2000,  # noqa: ANN001
                     seed: int = 0) -> np.ndarray:
    """The unit direction (whitened) of a ridge regression of a property of ``n`` prior samples
    on their latents: works for any property column, not only the heads'."""
    from molvae.properties import COLUMNS, annotate

    if prop not in COLUMNS or prop in ("pains", "brenk"):
        numeric = [c for c in COLUMNS if c not in ("pains", "brenk")]
        raise MolVAEError(f"unknown property {prop!r}; choose one of {', '.join(numeric)}")
    w = np.random.default_rng(seed).standard_normal((n, model.latent_dim))
    smis, _ = _decode(model, model.unwhiten(w))
    y = annotate(smis, workers=1)[prop].to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(y)
    x, y = w[ok], y[ok]
    x = x - x.mean(0)
    y = y - y.mean()
    coef = np.linalg.solve(x.T @ x + 1.0 * np.eye(x.shape[1]), x.T @ y)
    return coef / (np.linalg.norm(coef) or 1.0)


def walk(model, smiles: str, prop: str, *, steps: int = 10,  # noqa: ANN001
         step_size: float = 0.25, decrease: bool = False, direction: str = "heads",
         seed: int = 0, workers: int | None = 1, properties: bool = True) -> pd.DataFrame:
    """Move a molecule along the latent direction that raises (or lowers) a property, in
    ``steps`` steps of ``step_size`` whitened units, and decode every step.

    ``direction="heads"`` follows the gradient of the property head (qed, logp or sa),
    recomputed at every step; ``"fitted"`` uses one straight line fitted to prior samples (any
    numeric property). Each row is a step (``step`` 0 is the start), with ``pred_<prop>`` (the
    head's prediction, for head properties) and the decoded molecule's measured properties;
    a step that decodes to an earlier molecule is marked ``duplicate``.

    Raises:
        MolVAEError: invalid or unencodable molecule, unknown property or direction.
    """
    if steps < 1:
        raise MolVAEError(f"--steps must be at least 1, got {steps}")
    _positive("step size", step_size)
    if direction not in ("heads", "fitted"):
        raise MolVAEError(f"unknown direction {direction!r}; choose heads or fitted")
    if direction == "heads" and prop not in HEAD_PROPERTIES:
        raise MolVAEError(f"the property heads predict {', '.join(HEAD_PROPERTIES)}, not "
                          f"{prop!r}; use --direction fitted for other properties")
    sign = -1.0 if decrease else 1.0
    w = model.whiten(encode_one(model, smiles)).astype(np.float64)
    fixed = fitted_direction(model, prop, seed=seed) if direction == "fitted" else None
    path = [w]
    for _ in range(steps):
        u = fixed if fixed is not None else head_direction(model, model.unwhiten(w), prop)
        w = w + sign * step_size * u
        path.append(w)
    z = model.unwhiten(np.array(path))
    smis, sels = _decode(model, z)
    columns: dict[str, Sequence] = {"step": list(range(steps + 1)),
                                    "distance": [round(step_size * k, 4)
                                                 for k in range(steps + 1)]}
    if prop in HEAD_PROPERTIES:
        pred = model.predict_properties(z)[:, HEAD_PROPERTIES.index(prop)]
        columns[f"pred_{prop}"] = np.round(pred, 4)
    columns["similarity"] = np.round(tanimoto_to(smis[0], smis), 4)
    return proposal_table(smis, sels, columns=columns, model=model, properties=properties,
                          workers=workers)
