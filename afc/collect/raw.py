"""The raw archive: every response exactly as it came, with its request, status and headers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afc.api.body import has_nul
from afc.api.client import Response, count
from afc.db import Database, dump_json
from afc.db.ddl import bounded
from afc.db.upsert import Source

INSERT = """
INSERT INTO raw.responses (endpoint, params, status, headers, body, body_text, errors, results,
                           paging_current, paging_total, fetched_at, duration_ms, job_run_id)
VALUES (%(endpoint)s, %(params)s, %(status)s, %(headers)s, %(body)s, %(body_text)s, %(errors)s,
        %(results)s, %(paging_current)s, %(paging_total)s, %(fetched_at)s, %(duration_ms)s, %(run)s)
RETURNING id"""
ENSURE_PARTITION = "SELECT raw.ensure_partition(%s)"
PARTITIONED = ("raw.responses", "raw.responses_default")  # what creating a month's partition locks
_partitions: set[tuple[str, str]] = set()  # (database, month) already ensured by this process


def prepare(db: Database, at: datetime) -> None:
    """PostgreSQL: make sure the month of `at` has its partition, in a transaction of its own (once
    per process and month), so the response's transaction never creates one and rolls it back."""
    month = (db.url, at.strftime("%Y-%m"))
    if db.backend == "postgres" and month not in _partitions:
        bounded(db, f"the {month[1]} partition of raw.responses", PARTITIONED,
                lambda: db.fetchone(ENSURE_PARTITION, (at,)))
        _partitions.add(month)


def insert(db: Database, response: Response, run_id: int | None) -> int:
    """Archive `response` (inside the caller's transaction, after `prepare`); returns the raw id."""
    with archiving(db, response, run_id) as archived:
        pass
    return archived.id


@dataclass
class Archived:
    """A response being archived: its raw id, once the `archiving` block has ended, and where its items lie."""

    rows: list[tuple[Any, ...]]
    response: Response
    as_jsonb: bool  # PostgreSQL keeps the body as jsonb (not as text, for a \u0000 in it)

    @property
    def id(self) -> int:
        return int(self.rows[0][0])  # INSERT … RETURNING always returns the row

    @property
    def source(self) -> Source | None:
        """Where the items lie in the archive, for upserts to read JSON members from there (PostgreSQL, a body
        archived as jsonb whose `response` is a list); None otherwise."""
        return source_of(self.id, self.response, self.as_jsonb)


def source_of(raw_id: int, response: Response, as_jsonb: bool) -> Source | None:
    """Where the items of `response`, archived as `raw_id`, lie in the archive: for upserts to read JSON members
    from there (PostgreSQL, a body kept as jsonb whose `response` is a list); None otherwise. Collection and
    rebuild both pass it to `write_batch`."""
    body = response.body
    items = body.get("response") if as_jsonb and isinstance(body, dict) else None
    return Source(raw_id, response.fetched_at, items) if isinstance(items, list) else None


@contextmanager
def archiving(db: Database, response: Response, run_id: int | None) -> Iterator[Archived]:
    """Archive `response` while the block does Python work: PostgreSQL parses and compresses the body
    (the largest statement of a step) as the caller transforms the items. No statements inside the block."""
    values = _values(db, response, run_id)
    with db.fetchone_meanwhile(INSERT, values) as rows:
        yield Archived(rows, response, db.backend == "postgres" and values["body"] is not None)


def _values(db: Database, response: Response, run_id: int | None) -> dict[str, Any]:
    body = response.body
    text = response.raw_text if body is not None else None
    # PostgreSQL's jsonb cannot hold \\u0000: keep such a body verbatim as text instead.
    # The client's parse has looked for one already (`Response.nul`): a search of a large body costs a millisecond.
    nul = response.nul if response.nul is not None else text is not None and has_nul(text)
    as_text = db.backend == "postgres" and text is not None and nul
    current, total = response.paging
    body_text = text if as_text else response.text
    if db.backend == "postgres" and body_text is not None:
        body_text = body_text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL characters
    return {
        "endpoint": response.request.endpoint,
        "params": dump_json(response.request.query),
        "status": response.status,
        "headers": dump_json(response.headers),
        "body": None if as_text else text,
        "body_text": body_text,
        "errors": _errors(response),
        "results": _results(body),
        "paging_current": current if body is not None else None,
        "paging_total": total if body is not None else None,
        "fetched_at": response.fetched_at,
        "duration_ms": response.duration_ms,
        "run": run_id,
    }


def _errors(response: Response) -> str | None:
    """The envelope's errors; for a body afc could not read, why (flagged under the key `afc`)."""
    if response.unreadable is not None:
        return dump_json({"afc": f"unreadable body: {response.unreadable}"})
    return dump_json(response.errors) if response.errors else None


def _results(body: dict[str, Any] | None) -> int | None:
    return count(body.get("results")) if body is not None else None
