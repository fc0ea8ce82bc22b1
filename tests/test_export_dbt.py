"""The shipped dbt sources.yml is what the schema generates, on both backends; column types match the catalog."""

from __future__ import annotations

import yaml

from afc.db import catalog
from afc.export import dbt
from tests.conftest import ROOT

SOURCES = ROOT / "contrib" / "dbt" / "sources.yml"
LEDGER = "ops.schema_migrations"  # created by the migration runner itself, not by a migration file


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


def test_types_read_from_the_migrations_match_postgresql_catalog(pg_url):
    from afc.db import connect

    db = connect(pg_url)
    declared = {(table, name): catalog.normalise_type(kind)
                for table, _ in catalog.tables(db) if table != LEDGER
                for name, kind, _, _ in db.fetchall(catalog.PG_COLUMNS, {"table": table})}
    db.close()
    parsed = {(table, name): kind for table, cols in catalog.logical_types().items() for name, kind in cols.items()}
    assert parsed == declared


def test_every_sqlite_column_has_a_logical_type(sqlite_url):
    from afc.db import connect

    db = connect(sqlite_url)
    known = catalog.logical_types()
    missing = [f"{table}.{c.name}" for table, _ in catalog.tables(db) if table != LEDGER
               for c in catalog.columns(db, table) if c.name not in known.get(table, {})]
    db.close()
    assert missing == []
