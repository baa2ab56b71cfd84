"""molvae.latent_map: projections, colour values, pictures and the whole map on the tiny model."""

from __future__ import annotations

import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from molvae.errors import MolVAEError
from molvae.latent_map import (
    Highlight,
    check_property,
    colour_values,
    figure_format,
    fit_projection,
    latent_map,
    parse_highlight,
    plot_map,
    project,
    read_header,
    resolve_method,
    subsample,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _latents(n: int = 200, dim: int = 8, seed: int = 0) -> np.ndarray:
    scale = np.linspace(3.0, 0.1, dim)
    return (np.random.default_rng(seed).normal(size=(n, dim)) * scale + 5.0).astype(np.float32)


@pytest.fixture
def no_umap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap -> ImportError


@pytest.fixture
def fake_umap(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A stand-in for umap-learn: 'embeds' by keeping the first two coordinates."""

    class UMAP:
        def __init__(self, n_components: int = 2, n_neighbors: int = 15, random_state=None,
                     n_jobs: int = -1):
            self.kwargs = {"n_neighbors": n_neighbors, "random_state": random_state}

        def fit_transform(self, z):
            return np.asarray(z)[:, :2] * 10.0

        def transform(self, z):
            return np.asarray(z)[:, :2] * 10.0 + 1.0  # deliberately unlike the fitted embedding

    module = types.ModuleType("umap")
    module.UMAP = UMAP
    module.__version__ = "0.0-test"
    monkeypatch.setitem(sys.modules, "umap", module)
    return module


# --- projections ---------------------------------------------------------------------------------
def test_pca_shapes_and_variance_ratios() -> None:
    z = _latents()
    coords, info = project(z)
    assert coords.shape == (200, 2)
    ratio = info["explained_variance_ratio"]
    assert len(ratio) == 2 and ratio[0] >= ratio[1] > 0
    assert sum(ratio) <= 1.0 + 1e-12
    assert np.allclose(coords.mean(axis=0), 0.0, atol=1e-9)  # centred
    assert coords[:, 0].var() >= coords[:, 1].var()
    centred = z.astype(np.float64) - z.mean(axis=0, dtype=np.float64)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)  # the textbook PCA agrees
    assert np.allclose(ratio, (s**2 / (s**2).sum())[:2])
    assert np.allclose(np.abs(coords), np.abs(centred @ vt[:2].T))


def test_pca_matches_the_largest_variance_directions() -> None:
    z = np.zeros((100, 3))
    z[:, 2] = np.linspace(-10, 10, 100)  # all variance along the third axis
    z[:, 0] = np.sin(np.arange(100))  # a little along the first
    proj = fit_projection(z)
    assert abs(proj.components_[0, 2]) == pytest.approx(1.0, abs=1e-3)
    assert proj.explained_variance_ratio_[0] > 0.9


def test_pca_is_deterministic_and_sign_stable() -> None:
    z = _latents()
    a, _ = project(z)
    b, _ = project(z.copy())
    assert np.array_equal(a, b)
    proj = fit_projection(z)
    for c in proj.components_:
        assert c[np.argmax(np.abs(c))] > 0


def test_pca_axis_labels_report_variance() -> None:
    proj = fit_projection(_latents())
    x, y = proj.axis_labels()
    r = proj.explained_variance_ratio_
    assert x == f"PC1 ({100 * r[0]:.1f}% var.)" and y.startswith("PC2 (")


def test_highlight_identical_to_a_point_lands_on_it() -> None:
    z = _latents()
    proj = fit_projection(z)
    assert np.allclose(proj.transform(z[[7, 42]]), proj.coords_[[7, 42]])


def test_pca_degenerate_inputs() -> None:
    coords, info = project(np.ones((5, 4)))  # no variance at all
    assert np.all(coords == 0) and info["explained_variance_ratio"] == [0.0, 0.0]
    coords, _ = project(np.arange(6.0).reshape(3, 2))
    assert coords.shape == (3, 2)
    with pytest.raises(MolVAEError, match="at least 2"):
        project(np.ones((1, 4)))
    with pytest.raises(MolVAEError, match="shape"):
        fit_projection(_latents()).transform(np.ones((2, 3)))


def test_unknown_method_lists_choices() -> None:
    with pytest.raises(MolVAEError, match="pca, umap, auto"):
        project(_latents(), method="tsne")


def test_umap_without_umap_learn_says_how_to_install(no_umap: None) -> None:
    with pytest.raises(MolVAEError, match="pip install umap-learn"):
        project(_latents(), method="umap")
    assert resolve_method("auto") == "pca"
    _, info = project(_latents(), method="auto")
    assert info["method"] == "pca"


def test_umap_projection_places_fitted_latents_on_their_embedding(fake_umap) -> None:
    z = _latents(50)
    assert resolve_method("auto") == "umap"
    proj = fit_projection(z, "umap", seed=3)
    assert proj.method == "umap" and proj.axis_labels() == ("UMAP 1", "UMAP 2")
    assert proj.reducer.kwargs["random_state"] == 3
    twin = z[[4]] + np.float32(1e-6)  # the same molecule encoded in another batch
    new = z[[0]] + 1.0
    got = proj.transform(np.concatenate([twin, new]))
    assert np.allclose(got[0], proj.coords_[4])
    assert np.allclose(got[1], new[0, :2] * 10.0 + 1.0)  # others go through UMAP.transform


# --- colour values -------------------------------------------------------------------------------
def test_chemistry_properties() -> None:
    from molvae.chem import logp, qed, sa_score

    smiles = ["CCO", "c1ccccc1O"]
    assert colour_values(smiles, "qed").tolist() == [qed(s) for s in smiles]
    assert colour_values(smiles, "logp").tolist() == [logp(s) for s in smiles]
    assert colour_values(smiles, "sa").tolist() == [sa_score(s) for s in smiles]
    assert np.isnan(colour_values(["not a molecule"], "qed")[0])


def test_table_column_and_empty_cells() -> None:
    values = colour_values(["CCO", "CCN", "CCC"], "pIC50", table={"pIC50": ["6.5", "", 7]})
    assert values[0] == 6.5 and np.isnan(values[1]) and values[2] == 7.0
    with pytest.raises(MolVAEError, match="not numeric.*'high'.*row 2"):
        colour_values(["CCO", "CCN"], "activity", table={"activity": ["1", "high"]})


def test_unknown_property_lists_choices_and_columns() -> None:
    with pytest.raises(MolVAEError) as err:
        colour_values(["CCO"], "weight", table={"pIC50": [1.0]})
    msg = str(err.value)
    for name in ("qed", "logp", "sa", "pred_qed", "pred_logp", "pred_sa", "pIC50", "'weight'"):
        assert name in msg
    check_property("pIC50", ["pIC50"])


def test_predicted_properties_need_a_model(tiny_model) -> None:
    with pytest.raises(MolVAEError, match="needs a model"):
        colour_values(["CCO"], "pred_qed")
    smiles = ["CCO", "c1ccccc1", "not a molecule"]
    values = colour_values(smiles, "pred_logp", model=tiny_model)
    z = tiny_model.encode_latents(smiles[:2]).z
    assert np.allclose(values[:2], tiny_model.predict_properties(z)[:, 1])
    assert np.isnan(values[2])


# --- pictures ------------------------------------------------------------------------------------
def test_png_is_written_atomically_with_highlights(tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    coords = np.random.default_rng(0).normal(size=(50, 2))
    values = np.linspace(0, 1, 50)
    values[3] = np.nan
    hl = [Highlight("aspirin", 0.0, 0.0, 0.5), Highlight("no value", 1.0, 1.0)]
    assert plot_map(coords, values, property_name="qed", path=out, highlights=hl,
                    axis_labels=("PC1 (10.0% var.)", "PC2 (5.0% var.)")) == out
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]  # no temporary left behind


def test_svg_has_labels_and_no_date(tmp_path: Path) -> None:
    out = tmp_path / "map.svg"
    plot_map(np.arange(20.0).reshape(10, 2), np.arange(10.0), property_name="pred_sa", path=out,
             highlights=[Highlight("star molecule", 2.0, 3.0, 4.0)], title="A title")
    text = out.read_text()
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")
    assert "<dc:date>" not in text  # reproducible output
    for words in ("star molecule", "A title", "SA score (predicted)"):
        assert words.split()[0] in text


def test_plot_leaves_the_matplotlib_backend_alone(tmp_path: Path) -> None:
    import matplotlib

    before = matplotlib.rcParams["backend"]
    plot_map(np.zeros((2, 2)), np.zeros(2), property_name="qed", path=tmp_path / "m.png")
    assert matplotlib.rcParams["backend"] == before


def test_all_nan_values_are_drawn_grey(tmp_path: Path) -> None:
    plot_map(np.zeros((3, 2)), np.full(3, np.nan), property_name="x", path=tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes()[:8] == PNG_MAGIC


def test_bad_picture_paths(tmp_path: Path) -> None:
    assert figure_format("a/b.PNG") == "png"
    with pytest.raises(MolVAEError, match=r"\.png or \.svg.*'\.jpg'"):
        plot_map(np.zeros((2, 2)), np.zeros(2), property_name="qed", path=tmp_path / "m.jpg")
    with pytest.raises(MolVAEError, match="no suffix"):
        figure_format(tmp_path / "map")
    with pytest.raises(MolVAEError, match="does not exist"):
        plot_map(np.zeros((2, 2)), np.zeros(2), property_name="qed",
                 path=tmp_path / "missing" / "m.png")
    assert list(tmp_path.iterdir()) == []


# --- helpers -------------------------------------------------------------------------------------
def test_parse_highlight() -> None:
    assert parse_highlight("  CCO  ethanol  ") == ("CCO", "ethanol")
    long = "C" * 40
    assert parse_highlight(long) == (long, "C" * 30 + "...")
    with pytest.raises(MolVAEError, match="empty highlight"):
        parse_highlight("  ")


def test_subsample_is_seeded() -> None:
    a = subsample(1000, 100, seed=1)
    assert len(a) == 100 and np.array_equal(a, np.sort(a)) and len(set(a.tolist())) == 100
    assert np.array_equal(a, subsample(1000, 100, seed=1))
    assert not np.array_equal(a, subsample(1000, 100, seed=2))
    with pytest.raises(MolVAEError):
        subsample(10, 0)


def test_read_header(tmp_path: Path, data_dir: Path) -> None:
    tsv = tmp_path / "d.tsv"
    tsv.write_text("id\tsmiles\tpIC50\n1\tCCO\t5\n")
    assert read_header(tsv) == ["id", "smiles", "pIC50"]
    assert read_header(data_dir / "small.smi.gz") == []
    assert read_header(data_dir / "small.csv") == ["SMILES"]


# --- the whole map -------------------------------------------------------------------------------
def test_latent_map_table_and_picture(tiny_model, small_smiles: list[str], tmp_path: Path) -> None:
    smiles = small_smiles[:60] + ["not a molecule", "C[Xe]C"]
    out = tmp_path / "map.png"
    result = latent_map(tiny_model, smiles, highlight=[f"{smiles[5]} twin", "CCO"],
                        path=out, colour_by="pred_qed")
    t = result.table
    assert list(t.columns) == ["smiles", "x", "y", "value", "highlighted", "label"]
    assert sorted(result.skipped) == [60, 61] and "not a molecule" in result.skipped[60]
    assert len(t) == 62 and t["highlighted"].sum() == 2
    hl = t[t["highlighted"]]
    assert hl["label"].tolist() == ["twin", "CCO"]
    twin, point = hl.iloc[0], t.iloc[5]
    assert point["smiles"] == smiles[5]
    assert np.allclose([twin.x, twin.y], [point.x, point.y], atol=1e-5)
    assert twin.value == pytest.approx(point.value, abs=1e-5)
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert result.projection.method == "pca" and result.n_input == 62


def test_latent_map_bad_highlight_names_it(tiny_model, small_smiles: list[str]) -> None:
    with pytest.raises(MolVAEError, match=r"highlight 'C1CC' cannot be encoded"):
        latent_map(tiny_model, small_smiles[:10], highlight=["CCO", "C1CC"])


def test_latent_map_subsamples_deterministically(tiny_model, small_smiles: list[str]) -> None:
    a = latent_map(tiny_model, small_smiles, max_points=30, seed=4, colour_by="logp")
    b = latent_map(tiny_model, small_smiles, max_points=30, seed=4, colour_by="logp")
    assert len(a.table) == 30 and a.table.equals(b.table)
    chosen = set(a.table["smiles"])
    assert chosen <= set(small_smiles) and a.n_input == len(small_smiles)


def test_latent_map_needs_two_molecules(tiny_model) -> None:
    with pytest.raises(MolVAEError, match="at least 2 molecules"):
        latent_map(tiny_model, ["CCO", "not a molecule"])


def test_latent_map_colours_by_a_column(tiny_model, small_smiles: list[str]) -> None:
    smiles = small_smiles[:20]
    table = {"score": [str(i) for i in range(20)]}
    result = latent_map(tiny_model, smiles, colour_by="score", table=table, highlight=["CCO"])
    values = result.table["value"].tolist()
    assert values[:20] == [float(i) for i in range(20)] and np.isnan(values[20])
