"""The shipped dbt sources.yml is what the schema generates, on both backends; column types match the catalog."""

from __future__ import annotations

import yaml

from afc.export import dbt
from tests.conftest import ROOT

SOURCES = ROOT / "contrib" / "dbt" / "sources.yml"


def test_the_shipped_sources_yml_is_what_the_schema_generates(db):
    assert dbt.render(db) == SOURCES.read_text(encoding="utf-8"), (
        "contrib/dbt/sources.yml drifted from the schema: regenerate it with "
        "`python -m afc.export.dbt > contrib/dbt/sources.yml`")


def test_sources_yml_describes_every_core_and_mart_table_with_types_and_keys():
    document = yaml.safe_load(SOURCES.read_text(encoding="utf-8"))
    core, mart = document["sources"]
    assert (core["name"], core["schema"], mart["name"], mart["schema"]) == ("afc_core", "core", "afc_mart", "mart")
    assert core["meta"]["external_location"] == "{{ env_var('AFC_EXPORT_DIR', 'export') }}/core_{name}/*.parquet"
    fixtures = next(t for t in core["tables"] if t["name"] == "fixtures")
    columns = {c["name"]: c for c in fixtures["columns"]}
    assert columns["id"] == {"name": "id", "data_type": "integer", "data_tests": ["not_null", "unique"]}
    assert columns["kickoff_at"]["data_type"] == "timestamptz" and fixtures["loaded_at_field"] == "updated_at"
    assert fixtures["description"].startswith("Matches: league, season, round, kickoff_at (UTC)")
    standings = next(t for t in core["tables"] if t["name"] == "standings")
    assert [c["name"] for c in standings["columns"] if "data_tests" in c] == ["league_id", "season", "group_name",
                                                                              "team_id"]
    assert "daily_fixtures" in {t["name"] for t in mart["tables"]}
