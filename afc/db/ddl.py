"""DDL afc runs while others work (migrations, raw partitions, pruned partitions): bounded lock waits.

On PostgreSQL a CREATE, ALTER or DROP waiting for a lock that a long transaction holds (an MCP query, a `psql`
session left open) queues every later statement on that table behind it: collectors, the live loop, readers. Each
DDL transaction here runs under a `lock_timeout` of a few seconds, is rolled back whole when the lock does not
come, and is tried again a bounded number of times, with a log line each; then it fails with one line naming
the table and the sessions holding it. SQLite's writers are bounded by its busy timeout already.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from afc.db import Database
from afc.errors import DatabaseError, LockTimeout

T = TypeVar("T")
LOCK_TIMEOUT_MS = 5000  # how long one DDL statement waits for its lock
ATTEMPTS = 3
PAUSE = 2.0  # seconds between attempts: a short transaction in the way has ended by then
SET_TIMEOUT = "SELECT set_config('lock_timeout', %s, true)"
SERIALISE = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"
# Who holds a lock on the tables, oldest transaction first: what a person needs to end it.
HOLDERS = """
SELECT l.relation::regclass::text, a.pid, COALESCE(NULLIF(a.application_name, ''), a.usename), a.state,
       CAST(EXTRACT(EPOCH FROM now() - COALESCE(a.xact_start, a.query_start)) AS integer)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.relation IN (SELECT to_regclass(t) FROM unnest(CAST(%s AS text[])) AS t)
ORDER BY 5 DESC NULLS LAST, 2"""
# The tables a migration's statements lock (created, altered, dropped, indexed, attached to, referenced).
_TABLE = re.compile(r"\b(?:TABLE|ON|OF|REFERENCES|INDEX)\s+(?:IF (?:NOT )?EXISTS\s+)?(?:ONLY\s+)?"
                    r"([a-z_]+\.[a-z0-9_]+)", re.I)
log = logging.getLogger("afc.db")


class DdlBlocked(DatabaseError):
    """DDL gave up waiting for a lock another session holds; nothing of it was applied."""


def bounded(db: Database, what: str, tables: Sequence[str], work: Callable[[], T], *,
            serialised: str | None = None) -> T:
    """`work()` in a transaction of its own whose lock waits are bounded (PostgreSQL), tried ATTEMPTS times; then
    DdlBlocked naming `tables`' holders. `serialised`: an advisory lock taken first, unbounded, so that afc processes
    doing the same DDL wait for each other (each of them bounded) rather than give up."""
    if db.backend != "postgres":
        with db.transaction():
            return work()
    attempt = 1
    while True:
        try:
            with db.transaction():
                if serialised is not None:
                    db.fetchone(SERIALISE, (serialised,))
                db.fetchone(SET_TIMEOUT, (f"{LOCK_TIMEOUT_MS}ms",))
                return work()
        except LockTimeout:
            held = holders(db, tables)
            if attempt == ATTEMPTS:
                raise DdlBlocked(f"postgresql: {what}: gave up after {ATTEMPTS} waits of {LOCK_TIMEOUT_MS / 1000:g} s "
                                 f"for a lock on {held}; nothing of it was applied; end that session "
                                 f"(SELECT pg_terminate_backend(pid)) or run again when it is done") from None
            attempt += 1
            log.warning("%s: waited %g s for a lock on %s; trying again in %g s (attempt %d of %d)", what,
                        LOCK_TIMEOUT_MS / 1000, held, PAUSE, attempt, ATTEMPTS)
            time.sleep(PAUSE)


def holders(db: Database, tables: Sequence[str]) -> str:
    """`tables` and who holds a lock on them, one entry per session naming its tables: `raw.responses, held by
    pid 4242 (psql, idle in transaction for 312 s) on raw.responses, raw.responses_2026_12`; the tables alone when
    no holder is seen any more."""
    sessions: dict[int, tuple[str, list[str]]] = {}  # pid → who, its tables (rows come oldest session first)
    for table, pid, name, state, seconds in db.fetchall(HOLDERS, (list(tables),)):
        who = f"pid {pid} ({name}, {state or 'unknown state'}" + (f" for {seconds} s)" if seconds is not None else ")")
        held = sessions.setdefault(pid, (who, []))[1]
        if table not in held:  # one row per lock mode: a session may hold a table twice
            held.append(table)
    shown = [f"{who} on {', '.join(held)}" for who, held in list(sessions.values())[:5]]
    named = ", ".join(tables)
    return f"{named}, held by {'; '.join(shown)}" if shown else named


def tables_of(script: str) -> list[str]:
    """The schema-qualified tables a DDL script names, in order, each once."""
    return list(dict.fromkeys(match.lower() for match in _TABLE.findall(script)))
