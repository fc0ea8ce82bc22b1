"""Backups and restores: SQLite's online backup API, PostgreSQL's pg_dump / pg_restore.

Backups are timestamped files in one directory (`afc-YYYYMMDDTHHMMSSZ.db` or `.dump`), written
under a temporary name and renamed when complete; the newest `keep` are kept. The PostgreSQL
password never reaches a command line: it goes to pg_dump through PGPASSWORD.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from afc.db import Database, ddl, redact_url
from afc.db.sqlite import read_only_uri
from afc.errors import AfcError, ConfigError
from afc.ops.whole import temporary_beside
from afc.redact import sanitize

SUFFIX = {"sqlite": ".db", "postgres": ".dump"}
DROP_SCHEMAS = "DROP SCHEMA IF EXISTS raw, core, mart, ops CASCADE"
# What `pg_restore --list` shows for an afc database: its four schemas and its migrations table.
AFC_DUMP_ENTRIES = ("SCHEMA - raw", "SCHEMA - core", "SCHEMA - mart", "SCHEMA - ops",
                    "TABLE ops schema_migrations", "TABLE DATA ops schema_migrations")


class BackupError(AfcError):
    """A backup or restore could not be made."""


@dataclass(frozen=True)
class BackupResult:
    """One backup written, and the old ones removed to keep `keep`."""

    path: Path
    size: int
    removed: list[Path]


def backup(db: Database, directory: Path, now: datetime, keep: int) -> BackupResult:
    """Write a backup of `db` into `directory` and prune older ones beyond `keep`."""
    target = directory / f"afc-{now:%Y%m%dT%H%M%SZ}{SUFFIX[db.backend]}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with temporary_beside(directory, f".{target.name}.", ".partial") as partial:
            try:
                if db.backend == "sqlite":
                    _sqlite_backup(db.path, partial)  # type: ignore[attr-defined]
                else:
                    _pg_dump(db._raw_url, partial)  # type: ignore[attr-defined]
                os.replace(partial, target)
            finally:
                with contextlib.suppress(OSError):  # SQLite's journal of a copy that failed mid-way (a full disk)
                    Path(f"{partial}-journal").unlink(missing_ok=True)
        return BackupResult(target, target.stat().st_size, _rotate(directory, SUFFIX[db.backend], keep))
    except OSError as exc:  # a file where the directory belongs, no permission, a full disk
        raise BackupError(f"backup into {directory}: {exc.strerror or exc}"
                          + (f" ({exc.filename})" if exc.filename else "")) from None


def _sqlite_backup(source: str, target: Path) -> None:
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
    except sqlite3.Error as exc:
        src.close()
        raise BackupError(f"sqlite backup of {source} failed: cannot create {target}: {exc}") from None
    try:
        src.backup(dst, pages=1024)  # in steps, so writers are not held off for the whole copy
        if dst.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise BackupError(f"{target}: the backup failed its integrity check; nothing kept")
    except sqlite3.Error as exc:
        raise BackupError(f"sqlite backup of {source} into {target.parent} failed: {exc}") from None
    finally:
        dst.close()
        src.close()


def _rotate(directory: Path, suffix: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups: only files named as `backup` names them (`afc-*.db` alone would
    take a database called afc-2024.db kept in the same directory)."""
    named = re.compile(r"afc-\d{8}T\d{6}Z" + re.escape(suffix))
    found = sorted(p for p in directory.glob(f"afc-*{suffix}") if named.fullmatch(p.name) and p.is_file())
    old = found[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return old


def pg_command(tool: str, url: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """`tool` with the connection as --dbname (without password) and the password in the env."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    binary = shutil.which(tool)
    if binary is None:
        raise ConfigError(f"{tool} not found on PATH; install the PostgreSQL client (apt install postgresql-client)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password:
        env["PGPASSWORD"] = str(password)
    return [binary, f"--dbname={make_conninfo('', **params)}", *args], env


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        reason = (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1]
        raise BackupError(f"{what} failed: {sanitize(reason)}")
    return out.stdout


def _pg_dump(url: str, target: Path) -> None:
    command, env = pg_command("pg_dump", url, "--format=custom", "--no-owner", f"--file={target}")
    _run(command, env, f"pg_dump of {redact_url(url)}")


def restore(db: Database, source: Path) -> None:
    """Replace everything in `db` with the backup at `source`."""
    if not source.is_file():
        raise ConfigError(f"{source}: no such backup file")
    if db.backend == "sqlite":
        _sqlite_restore(source, db)
    else:
        _pg_restore(db._raw_url, source, db.url)  # type: ignore[attr-defined]


def check_pg_dump(source: Path) -> None:
    """Raise BackupError unless `source` is a pg_dump archive of an afc database (read offline)."""
    listing, env = pg_command("pg_restore", "", "--list", str(source))
    del listing[1]  # reading the archive's table of contents needs no connection
    out = _run(listing, env, f"restore of {source}")
    # A TOC line reads "<id>; <oid> <oid> <TYPE> <schema> <name> <owner>"; comments start with ";".
    entries = [" ".join(line.split(";", 1)[1].split()[2:]) + " " for line in out.splitlines()
               if ";" in line and not line.startswith(";")]
    missing = [name for name in AFC_DUMP_ENTRIES if not any(e.startswith(name + " ") for e in entries)]
    if missing:
        raise BackupError(f"{source}: not a dump of an afc database (it has no {missing[0]}); nothing touched")


def _pg_restore(url: str, source: Path, shown: str) -> None:
    # pg_restore --clean cannot drop partitioned indexes. Instead the archive is checked to be an
    # afc database and turned into an SQL script first (a broken or foreign archive fails here,
    # before anything is touched), then one transaction drops afc's schemas and replays it, so a
    # failed restore leaves the database as it was.
    check_pg_dump(source)
    with tempfile.TemporaryDirectory(prefix="afc-restore-") as tmp:
        script = Path(tmp) / "restore.sql"
        replay, env = pg_command("pg_restore", url, "--no-owner", f"--file={script}", str(source))
        del replay[1]  # writing the script needs no connection
        _run(replay, env, f"restore of {source}")
        # Its DROP waits a bounded time for the schemas' locks (a reader's open transaction), as afc's other DDL
        # does (afc.db.ddl), rather than queue every statement behind it; then it fails whole.
        apply, env = pg_command("psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                                "-c", f"SET lock_timeout = '{ddl.LOCK_TIMEOUT_MS}ms'", "-c", DROP_SCHEMAS,
                                "-f", str(script))
        _run(apply, env, f"restore of {source} into {shown}")


def _sqlite_restore(source: Path, db: Database) -> None:
    try:
        src = sqlite3.connect(read_only_uri(source), uri=True)
        try:
            src.execute("SELECT version FROM ops_schema_migrations LIMIT 1")
            if src.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError(f"{source}: the backup failed its integrity check; nothing restored")
            src.backup(db.conn)  # type: ignore[attr-defined]
        finally:
            src.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source}: not an afc SQLite backup ({exc})") from None
