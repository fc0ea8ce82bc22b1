"""Tables and columns from the live catalog; logical types read from the PostgreSQL migrations."""

from __future__ import annotations

from pathlib import Path

from afc.db import catalog, connect

LEDGER = "ops.schema_migrations"  # created by the migration runner itself, not by a migration file
DDL = """
CREATE TABLE core.things (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tags text[] NOT NULL DEFAULT '{}',
    price numeric(10, 2),
    seen_at timestamp with time zone DEFAULT now(),
    status text NOT NULL CHECK (status IN ('a',
        'b')),
    UNIQUE (status, id)
);
ALTER TABLE core.things ADD COLUMN note text, ADD COLUMN n int4 NOT NULL DEFAULT 0, DROP COLUMN price;
ALTER TABLE core.things ALTER COLUMN n TYPE bigint USING n::bigint;
ALTER TABLE core.things RENAME COLUMN note TO remark;
CREATE TABLE core.gone (id integer);
DROP TABLE core.gone;
"""


def test_later_migrations_add_retype_rename_and_drop(tmp_path: Path):
    (tmp_path / "0001_things.sql").write_text(DDL)
    assert catalog.logical_types(tmp_path) == {"core.things": {
        "id": "bigint", "tags": "text[]", "seen_at": "timestamptz", "status": "text", "n": "bigint", "remark": "text"}}


def test_types_read_from_the_migrations_match_postgresql_catalog(pg_url):
    db = connect(pg_url)
    declared = {(table, name): catalog.normalise_type(kind)
                for table, _ in catalog.tables(db) if table != LEDGER
                for name, kind, _, _ in db.fetchall(catalog.PG_COLUMNS, {"table": table})}
    db.close()
    parsed = {(table, name): kind for table, cols in catalog.logical_types().items() for name, kind in cols.items()}
    assert parsed == declared


def test_every_sqlite_column_has_a_logical_type(sqlite_url):
    db = connect(sqlite_url)
    known = catalog.logical_types()
    missing = [f"{table}.{c.name}" for table, _ in catalog.tables(db) if table != LEDGER
               for c in catalog.columns(db, table) if c.name not in known.get(table, {})]
    db.close()
    assert missing == []
