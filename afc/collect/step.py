"""One collection step: reserve → fetch → one transaction (raw, core, mart, run log, quota settled).

Either all of a response is in the database or none of it. Transient failures are retried by
tenacity, each attempt reserving quota again; the daily quota running out parks the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from afc import transform
from afc.api.client import PAGED, ApiClient, Request, Response
from afc.clock import Clock
from afc.collect import drift, firstseen, outbox, raw, runs
from afc.collect.ledger import Ledger, MinuteFull, Reservation
from afc.config.settings import Priority
from afc.db import Database, dump_json
from afc.db.upsert import Counts, Source, apply_all
from afc.errors import NetworkError, QuotaExhausted, RateLimited, RetryableApiError
from afc.marts import refresh as mart

log = logging.getLogger("afc.pipeline")

QUARANTINE = """
INSERT INTO ops.quarantine (raw_id, endpoint, item_index, item, reason, created_at)
VALUES (%(raw_id)s, %(endpoint)s, %(index)s, %(item)s, %(reason)s, %(now)s)"""


class Breaker(Protocol):
    """What the pipeline needs from a circuit breaker (see afc.collect.breaker)."""

    def check(self, endpoint: str) -> None: ...

    def record(self, endpoint: str, ok: bool) -> None: ...


@dataclass
class Context:
    """Everything one command's steps share."""

    db: Database
    client: ApiClient
    ledger: Ledger
    clock: Clock
    run_id: int
    priority: Priority = "MEDIUM"
    attempts: int = 5
    breaker: Breaker | None = None
    # Runs inside each good response's transaction, after it is stored: a caller's checkpoint
    # (e.g. a backfill task marked done) commits with the response or not at all.
    after_store: Callable[[Database, Response, int], None] | None = None
    # Whether fixture changes append match events to the outbox: near-real-time collection does,
    # history (backfill) does not. `afc rebuild` writes through `write_batch` and never notifies.
    notify: bool = True


@dataclass
class StepResult:
    """What storing one response did."""

    raw_id: int
    items: int
    counts: Counts
    quarantined: int
    paging: tuple[int, int]
    touched: dict[str, set[Any]] = field(default_factory=dict)
    response: Response | None = field(default=None, repr=False)


def step(ctx: Context, request: Request) -> StepResult:
    """Fetch one request (retrying transient failures) and store it in one transaction."""
    response, reservation = fetch(ctx, request)
    return store(ctx, response, reservation)


def collect(ctx: Context, request: Request) -> Iterator[StepResult]:
    """Every page of `request`: one step per page, to the last page the answers name (never capped), or to the
    first empty one (the API answers a page past the end with none: a bogus total must not spend the day's quota)."""
    first = step(ctx, request.page(1))
    yield first
    if request.endpoint not in PAGED:
        return
    page, total = 2, first.paging[1]
    while page <= total:
        result = step(ctx, request.page(page))
        total = max(total, result.paging[1])
        yield result
        if result.response is not None and not result.response.items:
            if page < total:
                log.warning("%s: page %d of %d is empty; not asking for the rest", request, page, total)
            return
        page += 1


def fetch(ctx: Context, request: Request) -> tuple[Response, Reservation]:
    """Reserve and call until a good answer; failed answers are archived before retrying."""
    retrying = Retrying(
        retry=retry_if_exception_type(RetryableApiError),
        stop=stop_after_attempt(ctx.attempts),
        wait=_wait_for(ctx.clock),
        sleep=ctx.clock.sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
    return retrying(_attempt, ctx, request)


def _attempt(ctx: Context, request: Request) -> tuple[Response, Reservation]:
    if ctx.breaker is not None:
        ctx.breaker.check(request.endpoint)
    # The month's raw partition before the call (store ensures it again for an answer fetched past midnight):
    # DDL that gives up waiting for its lock fails here with no quota spent, not after the API counted the call
    # and with its answer lost.
    raw.prepare(ctx.db, ctx.clock.now())
    reservation = reserve(ctx)
    try:
        response = ctx.client.get(request)
    except NetworkError as exc:
        if exc.sent:  # a timeout after sending may have been counted by the API: keep it counted
            _count_call(ctx)
        else:  # the request never left (connection refused): not a call, give the quota back
            ctx.ledger.release(reservation)
        _record_breaker(ctx, request.endpoint, ok=False)
        raise
    error = response.error
    _record_breaker(ctx, request.endpoint, ok=error is None or not isinstance(error, RetryableApiError))
    if error is None:
        return response, reservation
    store(ctx, response, reservation)  # an error answer is a response too: archive it
    if isinstance(error, QuotaExhausted):  # the ledger decides how long: the day, or minutes after 00:00 UTC
        raise ctx.ledger.exhaust(reservation, str(request), status=error.status)
    raise error


def _record_breaker(ctx: Context, endpoint: str, *, ok: bool) -> None:
    if ctx.breaker is not None:
        ctx.breaker.record(endpoint, ok)


def reserve(ctx: Context) -> Reservation:
    """One call from the ledger, waiting out a full minute if need be."""
    while True:
        granted = ctx.ledger.reserve(ctx.priority)
        if not isinstance(granted, MinuteFull):
            return granted
        wait = (granted.retry_at - ctx.clock.now()).total_seconds()
        log.info("per-minute budget spent; waiting %.0fs", max(wait, 0))
        ctx.clock.sleep(max(wait, 0.5))


def _wait_for(clock: Clock) -> Any:
    backoff = wait_exponential_jitter(max=30, jitter=1)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited):
            now = clock.now()
            next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            return (next_minute - now).total_seconds() + 1
        return backoff(state)

    return wait


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("retrying after attempt %d: %s", state.attempt_number, error)


def _count_call(ctx: Context) -> None:
    with ctx.db.transaction():
        runs.add(ctx.db, ctx.run_id, Counts())


def store(ctx: Context, response: Response, reservation: Reservation) -> StepResult:
    """Archive, transform, upsert, refresh marts, log the run and settle quota — one transaction."""
    request = response.request
    ok = response.error is None
    counts = Counts()
    raw.prepare(ctx.db, response.fetched_at)
    with ctx.db.transaction():
        with raw.archiving(ctx.db, response, ctx.run_id) as archived:  # PostgreSQL archives while Python works
            batch = transform.run(request.endpoint, request.query, response.items) if ok else None
            drifted = drift.found_in(request.endpoint, response.items) if ok else set()
        raw_id = archived.id
        if batch is not None:
            if drifted:
                drift.record(ctx.db, request.endpoint, drifted, raw_id, response.fetched_at)
            counts = write_core(ctx.db, batch, raw_id, response.fetched_at, request.endpoint, archived.source)
            observed = outbox.observe(ctx.db, batch.touched, response.fetched_at) if ctx.notify else None
            mart.refresh(ctx.db, batch.touched, response.fetched_at, counted=False)  # its last write not waited for
            if observed is not None:  # Python work, while PostgreSQL writes the daily mart
                outbox.record(ctx.db, batch.touched, response.fetched_at, raw_id, outbox.written_parts(batch),
                              observed)
        quarantined = len(batch.quarantined) if batch else 0
        runs.add(ctx.db, ctx.run_id, counts, quarantined=quarantined)
        ctx.ledger.settle(reservation, response.headers)
        if ok and ctx.after_store is not None:
            ctx.after_store(ctx.db, response, raw_id)
    touched = batch.touched if batch else {}
    items = batch.items + quarantined if batch else 0
    return StepResult(raw_id, items, counts, quarantined, response.paging, touched, response)


def write_batch(db: Database, batch: transform.Batch, raw_id: int, at: datetime, endpoint: str,
                source: Source | None = None) -> Counts:
    """Upsert a transformed batch, quarantine its bad items and refresh the marts it touched; `source`: where
    its items are archived (PostgreSQL then reads JSON parts from there rather than parse them again)."""
    counts = write_core(db, batch, raw_id, at, endpoint, source)
    mart.refresh(db, batch.touched, at, counted=False)
    return counts


def write_core(db: Database, batch: transform.Batch, raw_id: int, at: datetime, endpoint: str,
               source: Source | None = None) -> Counts:
    """`write_batch` but for the marts: the upserts and the quarantine."""
    counts = Counts()
    meta = {"updated_at": at, "raw_id": raw_id}
    counts += apply_all(db, firstseen.marked(list(batch.tables()), batch.touched.get("lineups", ()), at), meta, source)
    for table, scope, touch, value in batch.empty_scopes():  # scopes the answer showed empty: their rows go
        returned = ", ".join(touch[1]) if touch else "true"
        gone = db.fetchall(f"DELETE FROM {table} WHERE {' AND '.join(f'{c} = %s' for c in scope)} "
                           f"RETURNING {returned}", value)
        counts.deleted += len(gone)
        if touch:
            kind, columns = touch
            batch.touched.setdefault(kind, set()).update(
                row[0] if len(columns) == 1 else tuple(row) for row in gone if None not in row)
    firstseen.send_lineup_marks(db, batch.touched.get("lineups", ()), at)
    for bad in batch.quarantined:
        db.send(QUARANTINE, {"raw_id": raw_id, "endpoint": endpoint, "index": bad.index,
                                "item": dump_json(bad.item), "reason": bad.reason, "now": at})
    return counts
