from __future__ import annotations

import pandas as pd

from molvae.properties import COLUMNS
from molvae.proposals import BASE_COLUMNS, TRAILING_COLUMNS, proposal_table, states
from molvae.trained import TrainedModel


def test_states_mark_rejected_and_duplicates_with_reasons() -> None:
    state, reason = states(["CCO", None, "CCO", ""], reasons=[None, "bad latent", None, None])
    assert state == ["valid", "rejected", "duplicate", "rejected"]
    assert reason == ["", "bad latent", "same molecule as row 0", "decodes to no molecule"]


def test_states_remember_earlier_batches() -> None:
    seen: dict[str, int] = {}
    states(["CCO"], seen=seen, offset=0)
    state, reason = states(["CCN", "CCO"], seen=seen, offset=1)
    assert state == ["valid", "duplicate"]
    assert reason[1] == "same molecule as row 0"


def test_table_schema_order(tiny_model: TrainedModel, small_smiles: list[str]) -> None:
    table = proposal_table([small_smiles[0], None, "CCO"], ["[C]", "", "[C][C][O]"],
                           columns={"step": [0, 1, 2]}, model=tiny_model)
    assert list(table.columns) == [*BASE_COLUMNS, "step", *TRAILING_COLUMNS]
    assert TRAILING_COLUMNS[:-1] == COLUMNS
    # novelty comes from the model's training set; rejected rows have none
    assert table["novel"].tolist()[0] is False
    assert table["novel"].tolist()[2] is True
    assert pd.isna(table["novel"].iloc[1])
    assert pd.isna(table["qed"].iloc[1])


def test_novel_is_missing_without_a_training_set(small_smiles: list[str]) -> None:
    table = proposal_table([small_smiles[0]], ["[C]"], properties=True, model=None)
    assert pd.isna(table["novel"].iloc[0])


def test_without_properties_only_base_and_own_columns() -> None:
    table = proposal_table(["CCO"], ["[C][C][O]"], columns={"t": [0.5]}, properties=False)
    assert list(table.columns) == [*BASE_COLUMNS, "t"]
