"""What the database holds, read from its own catalog, and each column's logical type.

The catalog (pg_catalog, sqlite_master) says which tables and columns exist, so a table a later
migration adds is found without code changes. Column *types* come from the PostgreSQL migrations:
SQLite stores timestamps as text and booleans as integers, so its declared types cannot tell a
reader that `kickoff_at` is a UTC timestamp; the PostgreSQL DDL is the one description of the
logical model both backends share (tests/test_catalog.py checks it against PostgreSQL's catalog).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from afc.db import Database
from afc.resources import sql_dir

LAYERS = ("raw", "core", "mart", "ops")
PG_TABLES = """
SELECT n.nspname AS layer, c.relname AS name, CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'view'
       ELSE 'table' END AS kind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('raw', 'core', 'mart', 'ops') AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
ORDER BY 1, 2"""
PG_COLUMNS = """
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
       COALESCE(a.attnum = ANY(i.indkey), false) AS primary_key
FROM pg_attribute a
LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
WHERE a.attrelid = to_regclass(%(table)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum"""
SQLITE_TABLES = """
SELECT substr(name, 1, instr(name, '_') - 1) AS layer, substr(name, instr(name, '_') + 1) AS name, type AS kind
FROM sqlite_master
WHERE type IN ('table', 'view') AND substr(name, 1, instr(name, '_') - 1) IN ('raw', 'core', 'mart', 'ops')
ORDER BY 1, 2"""
SQLITE_COLUMNS = """
SELECT name, type, "notnull" = 0 AS nullable, pk > 0 AS primary_key FROM pragma_table_info(?) ORDER BY cid"""

_STATEMENT = re.compile(
    r"^(?:CREATE TABLE (?:IF NOT EXISTS )?(?P<created>[a-z]+\.[a-z0-9_]+) \((?P<body>.*?)^\)"
    r"|ALTER TABLE (?:IF EXISTS )?(?:ONLY )?(?P<altered>[a-z]+\.[a-z0-9_]+) (?P<actions>[^;]*);"
    r"|DROP TABLE (?:IF EXISTS )?(?P<dropped>[a-z]+\.[a-z0-9_]+))", re.S | re.M)
_COLUMN = re.compile(r"^\s*([a-z_][a-z0-9_]*) ([a-z][a-z0-9 ]*?(?:\(.*?\))?(?:\[\])?)(?: (?:NOT|NULL|PRIMARY|"
                     r"REFERENCES|DEFAULT|GENERATED|UNIQUE|CHECK|CONSTRAINT|COLLATE)\b.*)?,?\s*(?:--.*)?$", re.S)
_ALTER_TYPE = re.compile(r"^ALTER (?:COLUMN )?([a-z_][a-z0-9_]*) (?:SET DATA )?TYPE ([a-z][a-z0-9 ]*?(?:\(.*?\))?"
                         r"(?:\[\])?)(?: USING .*)?$", re.S)
_DROP_COLUMN = re.compile(r"^DROP (?:COLUMN )?(?:IF EXISTS )?([a-z_][a-z0-9_]*)", re.S)
_RENAME_COLUMN = re.compile(r"^RENAME (?:COLUMN )?([a-z_][a-z0-9_]*) TO ([a-z_][a-z0-9_]*)$", re.S)
_CONSTRAINT = ("primary", "unique", "foreign", "constraint", "check", "exclude")
_SYNONYMS = {"timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
             "int": "integer", "int4": "integer", "int8": "bigint", "int2": "smallint", "bool": "boolean",
             "decimal": "numeric", "float8": "double precision", "float4": "real", "character varying": "text",
             "varchar": "text", "serial": "integer", "bigserial": "bigint", "smallserial": "smallint"}


@dataclass(frozen=True)
class Column:
    """One column as the catalog shows it, with its logical (PostgreSQL) type."""

    name: str
    type: str
    nullable: bool
    primary_key: bool


def normalise_type(declared: str) -> str:
    """A declared type in one spelling: `timestamp with time zone` → `timestamptz`, `numeric(5,2)` → `numeric`."""
    base = " ".join(re.sub(r"\(.*?\)", "", declared.strip().lower()).split())
    array = base.endswith("[]")
    base = _SYNONYMS.get(base.removesuffix("[]").strip(), base.removesuffix("[]").strip())
    return f"{base}[]" if array else base


def tables(db: Database, layers: tuple[str, ...] = LAYERS) -> list[tuple[str, str]]:
    """Every (logical name, kind) in the given layers, from the live catalog: `("core.fixtures", "table")`."""
    found = db.fetchall(SQLITE_TABLES if db.backend == "sqlite" else PG_TABLES)
    return [(f"{layer}.{name}", kind) for layer, name, kind in found if layer in layers]


def columns(db: Database, table: str) -> list[Column]:
    """A table's columns in their order, each with the logical type both backends share."""
    if db.backend == "sqlite":
        found = db.fetchall(SQLITE_COLUMNS, (table.replace(".", "_", 1),))
    else:
        found = db.fetchall(PG_COLUMNS, {"table": table})
    logical = logical_types().get(table, {})
    # A key column is never NULL (SQLite would allow it in a non-integer key; afc never writes one).
    return [Column(name, logical.get(name) or normalise_type(declared or "text"), bool(nullable) and not key,
                   bool(key)) for name, declared, nullable, key in found]


def logical_types(directory: Path | None = None) -> dict[str, dict[str, str]]:
    """Every table's columns and their types as the PostgreSQL migrations declare them, in file order."""
    return _parse(directory or sql_dir("postgres"))


@functools.cache
def _parse(directory: Path) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.sql")):
        for statement in _STATEMENT.finditer(path.read_text(encoding="utf-8")):
            if statement["created"]:
                found[statement["created"]] = dict(filter(None, map(_column, statement["body"].splitlines())))
            elif statement["dropped"]:
                found.pop(statement["dropped"], None)
            else:
                table = found.setdefault(statement["altered"], {})
                for action in _actions(statement["actions"]):
                    _alter(table, action)
    return found


def _actions(text: str) -> list[str]:
    """An ALTER TABLE's actions, split at the commas outside parentheses."""
    actions, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            actions.append(current.strip())
            current = ""
        else:
            current += char
    return [*actions, current.strip()]


def _alter(table: dict[str, str], action: str) -> None:
    """Apply one ALTER TABLE action (add, retype, drop or rename a column) to a table's columns."""
    action = " ".join(action.split())
    if action.startswith("ADD "):
        added = _column(re.sub(r"^ADD (?:COLUMN )?(?:IF NOT EXISTS )?", "", action))
        table.update([added] if added else [])
    elif match := _ALTER_TYPE.match(action):
        table[match[1]] = normalise_type(match[2])
    elif match := _RENAME_COLUMN.match(action):
        table[match[2]] = table.pop(match[1], "text")
    elif match := _DROP_COLUMN.match(action):
        table.pop(match[1], None)


def _column(line: str) -> tuple[str, str] | None:
    """(name, type) of a column definition line; None for constraints, comments and continuations."""
    match = _COLUMN.match(line)
    if not match or match[1] in _CONSTRAINT:
        return None
    return match[1], normalise_type(match[2])
