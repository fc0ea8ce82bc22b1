"""What the benchmarks share: a fresh, migrated throwaway database on either backend."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable

from afc.db import connect
from afc.db.migrate import migrate
from tests.conftest import PG_ADMIN


def fresh_database(backend: str, *, migrated: bool = True) -> tuple[str, Callable[[], None]]:
    """A new database URL (migrated unless asked not to) and a function that drops it."""
    if backend == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        url, drop = f"sqlite:///{tmp.name}/bench-{uuid.uuid4().hex[:6]}.db", tmp.cleanup
    else:
        import psycopg

        name = f"afc_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name

        def drop() -> None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if migrated:
        db = connect(url)
        migrate(db)
        db.close()
    return url, drop
