"""Numbered .sql files per backend, each applied once and recorded in the same transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from afc.db import Database
from afc.db.ddl import bounded, tables_of
from afc.errors import ConfigError
from afc.resources import sql_dir

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS ops.schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamp with time zone NOT NULL
)"""
APPLIED = "SELECT version FROM ops.schema_migrations ORDER BY version"
APPLIED_NAMES = "SELECT version, name FROM ops.schema_migrations ORDER BY version"
RECORD = "INSERT INTO ops.schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)"
MIGRATING = "afc:migrate"  # two hosts migrating at once: the second waits, then skips what the first applied


@dataclass(frozen=True)
class Migration:
    """One numbered DDL file."""

    version: int
    name: str
    path: Path


def available(backend: str) -> list[Migration]:
    """The migrations shipped for `backend`, in order."""
    found = []
    for path in sorted(sql_dir(backend).glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ConfigError(f"{path}: migration files must be named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path))
    return found


def _prepare(db: Database) -> None:
    def create() -> None:
        if db.backend == "postgres":
            db.execute("CREATE SCHEMA IF NOT EXISTS ops")
        db.execute(CREATE_LEDGER)

    bounded(db, "ops.schema_migrations", ["ops.schema_migrations"], create)


def applied(db: Database) -> set[int]:
    """Versions already applied (an empty set on a new database)."""
    _prepare(db)
    return {row[0] for row in db.fetchall(APPLIED)}


def pending(db: Database) -> list[Migration]:
    """Migrations not yet applied."""
    done = applied(db)
    return [m for m in available(db.backend) if m.version not in done]


def unknown(db: Database) -> list[str]:
    """Migrations the database has that this afc does not ship (a newer afc migrated it), as NNNN_name."""
    _prepare(db)
    known = {m.version for m in available(db.backend)}
    return [f"{version:04d}_{name}" for version, name in db.fetchall(APPLIED_NAMES) if version not in known]


def newer_schema(db: Database) -> str | None:
    """Why this afc must not write to the database, when a newer afc has migrated it."""
    extra = unknown(db)
    if not extra:
        return None
    latest = available(db.backend)[-1]
    return (f"{db.url}: the schema is newer than this afc (applied: {', '.join(extra)}; this afc knows up to "
            f"{latest.version:04d}_{latest.name}); upgrade afc on this host, or restore a backup from before the "
            f"upgrade")


def migrate(db: Database) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied. Refuses a database a
    newer afc has migrated: older code would write rows without what the newer schema expects of them."""
    if (why := newer_schema(db)) is not None:
        raise ConfigError(why)
    done: list[Migration] = []
    for migration in pending(db):
        script = migration.path.read_text()
        name = f"migration {migration.version:04d}_{migration.name}"
        if bounded(db, name, tables_of(script), partial(_apply, db, migration, script), serialised=MIGRATING):
            done.append(migration)
    return done


def _apply(db: Database, migration: Migration, script: str) -> bool:
    """Apply one migration inside the caller's transaction; False when another process applied it first."""
    if migration.version in {row[0] for row in db.fetchall(APPLIED)}:
        return False
    db.run_script(script)
    db.execute(RECORD, (migration.version, migration.name, datetime.now(UTC)))
    return True
