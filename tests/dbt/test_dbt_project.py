"""The dbt project's static shape: it follows the raw contract and the house layout (no build)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reelops import schema
from reelops.config import PROJECT_ROOT
from reelops.content.genome import TAGS
from reelops.schema import LAKE_TABLES
from reelops.warehouse import MARTS, lake_columns

DBT_DIR = PROJECT_ROOT / "dbt"
MODELS_DIR = DBT_DIR / "models"


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _model_yamls() -> dict[str, dict]:
    found = {}
    for path in MODELS_DIR.rglob("*.yml"):
        for model in _yaml(path).get("models", []):
            found[model["name"]] = model
    return found


def _accepted_values(column: str) -> list[list]:
    """Every accepted_values list declared for a column of this name, in any model."""
    lists = []
    for model in _model_yamls().values():
        for col in model.get("columns", []):
            for test in col.get("data_tests", []):
                if col["name"] == column and isinstance(test, dict) and "accepted_values" in test:
                    lists.append(test["accepted_values"]["arguments"]["values"])
    return lists


def test_genres_var_is_the_contracts_genre_list():
    assert tuple(_yaml(DBT_DIR / "dbt_project.yml")["vars"]["genres"]) == schema.GENRES


def test_genome_tags_var_is_the_genomes_tag_list():
    assert _yaml(DBT_DIR / "dbt_project.yml")["vars"]["genome_tags"] == TAGS


def test_lake_sources_match_the_raw_contract_with_member_key():
    sources = _yaml(MODELS_DIR / "staging" / "_lake__sources.yml")["sources"]
    (lake,) = [s for s in sources if s["name"] == "lake"]
    declared = {
        table["name"]: [(c["name"], c["data_type"]) for c in table["columns"]]
        for table in lake["tables"]
    }
    assert declared == {name: lake_columns(name) for name in LAKE_TABLES}
    assert all("member_id" not in dict(columns) for columns in declared.values())


@pytest.mark.parametrize(
    ("column", "allowed"),
    [
        ("country", schema.COUNTRIES),
        ("connection_type", schema.CONNECTIONS),
        ("age_band", schema.AGE_BANDS),
        ("plan", schema.PLANS),
        ("device", schema.DEVICES),
    ],
)
def test_accepted_values_follow_the_contract(column, allowed):
    lists = _accepted_values(column)
    assert lists, f"no accepted_values test on any {column} column"
    assert all(values == list(allowed) for values in lists)


def test_every_model_has_one_sql_and_one_yaml_that_states_its_grain():
    sql = {path.stem for path in MODELS_DIR.rglob("*.sql")}
    yamls = _model_yamls()
    assert sql == set(yamls)
    for path in MODELS_DIR.rglob("*.sql"):
        assert (path.with_suffix(".yml")).exists(), f"{path} has no YAML of its own"
        assert path.read_text().rstrip().endswith("select * from final"), path
    for name, model in yamls.items():
        assert "one row per" in model["description"].lower(), f"{name} does not state its grain"


def test_marts_folder_holds_exactly_the_named_marts():
    assert {path.stem for path in (MODELS_DIR / "marts").glob("*.sql")} == set(MARTS)
    staging = {path.stem for path in (MODELS_DIR / "staging").glob("*.sql")}
    assert staging == {f"stg_lake__{table}" for table in LAKE_TABLES}


def test_graded_label_has_a_unit_test():
    path = MODELS_DIR / "marts" / "fct_ranking_interactions.yml"
    (unit_test,) = _yaml(path)["unit_tests"]
    labels = {row["label"] for row in unit_test["expect"]["rows"]}
    assert labels == {0, 1, 2}
