"""Re-derive core and marts from the raw archive, without the API: `afc rebuild`.

Successful archived responses are replayed in id (fetch) order through the same transform and
write path as collection, with `updated_at` and `raw_id` taken from the response, so a full rebuild
gives the core and marts that collecting gave. Responses are read a page at a time (keyset on id),
never all at once, and each body is parsed only as its response is replayed; each batch of
responses is one transaction. Quarantined items that now pass land and their quarantine rows are
marked resolved.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any

from afc import transform
from afc.api.body import Unparsable, collector_paused, parse
from afc.api.client import Request, Response, classify
from afc.clock import Clock
from afc.collect import drift, runs
from afc.collect.raw import source_of
from afc.collect.step import write_batch
from afc.db import Database, among, as_datetime, dump_json, load_json
from afc.db.upsert import Counts
from afc.errors import AfcError, ConfigError
from afc.redact import describe
from afc.transform.fields import opt_int, path
from afc.transform.model import Quarantined

HEADS = """
SELECT id, endpoint, params FROM raw.responses
WHERE id > %(after)s AND status = 200 AND errors IS NULL AND (body IS NOT NULL OR body_text IS NOT NULL)
  {filters}
ORDER BY id LIMIT %(limit)s"""
# The body as its UTF-8 bytes (jsonb's text form on PostgreSQL, read in the binary format: no hex, and no
# decoding into a str only to encode it again for the parser): parsed by afc's one parser, one response at a
# time as it is replayed, rather than by the driver for the whole batch at once. The last column says whether
# the body was read slim (`SLIM_TEXT`).
BODIES = {
    "postgres": "SELECT r.id, convert_to(CASE WHEN x.envelope IS NOT NULL THEN {slim_text} ELSE COALESCE("
                "CAST(r.body AS text), r.body_text) END, 'UTF8'), r.fetched_at, r.body IS NOT NULL,"
                " x.envelope IS NOT NULL FROM raw.responses AS r LEFT JOIN LATERAL ({slim_parts}) AS x ON true"
                " WHERE r.id {keys} ORDER BY r.id",
    "sqlite": "SELECT id, CAST(COALESCE(body, body_text) AS BLOB), fetched_at, body IS NOT NULL, 0 FROM raw.responses"
              " WHERE id {keys} ORDER BY id",
}
# PostgreSQL: the detail parts the client never reads. For a /fixtures item the transform only asks whether each
# is a list and whether it is empty, and the upsert takes it from the archive (`source_of`: collection does the
# same), so a detailed answer's bulk (players and events: 13 of a season's 16 MB) need not be turned into text by
# the server and parsed by the client (lineups are read as a skeleton: `_LINEUPS`). A transform that reads their
# content must drop them from here.
SLIM_PARTS = ("players", "events")
# Which archived bodies are read slim: /fixtures answers by fixture id (the ones with details), kept as jsonb whose
# `response` is a list; not with --check-drift (the observer walks every member). The body is read and decompressed
# once (`#> '{}'` hands back the value itself, decompressed; OFFSET 0: not inlined), as each use of `r.body` would
# read it again; its items and the rest of it (`envelope`) are taken from that.
SLIM_WHEN = "r.endpoint = 'fixtures' AND (r.params ? 'ids' OR r.params ? 'id')"
SLIM_ROWS = ("SELECT y.items, CASE WHEN jsonb_typeof(y.items) = 'array' THEN y.body - 'response' END AS envelope"
             " FROM (SELECT b.body -> 'response' AS items, b.body FROM (SELECT r.body #> '{{}}' AS body WHERE {when}"
             " OFFSET 0) AS b OFFSET 0) AS y OFFSET 0")
# Lineups, when a list of two sides (as the API answers them), are read as the one thing the transform asks of each
# side (`afc.transform.fixtures.confirmed`): whether it is an object whose `startXI` is true — `{"startXI":1}`, `{}`,
# or `0` for a side that is not an object; the upsert takes them from the archive too. Lineups of any other shape are
# read whole. Each side is reached with `->` (a copy of its bytes, never unpacked): a subquery over the sides cost
# more than writing their text. Values Python reads as false: null, false, 0, "", [] and {}.
_SIDE = ("CASE WHEN jsonb_typeof(v -> {n}) <> 'object' THEN '0' WHEN COALESCE(v -> {n} -> 'startXI' NOT IN"
         " ('null', 'false', '0', '\"\"', '[]', '{{{{}}}}'), false) THEN '{{{{\"startXI\":1}}}}' ELSE '{{{{}}}}' END")
_LINEUPS = ("CASE WHEN jsonb_array_length(v) = 2 THEN '[' || " + _SIDE.format(n=0) + " || ',' || "
            + _SIDE.format(n=1) + " || ']' ELSE CAST(v AS text) END")
# A slim body as text, built by the server from jsonb's own text of every member except the SLIM_PARTS, which
# become markers of the same kind: `[]` for an empty list, `[0]` for another (values that are not lists stay), and
# the lineups (above). String concatenation: a jsonb operator building a new jsonb would unpack every nested value.
_MARKER = ("CASE WHEN k IN ({parts}) AND jsonb_typeof(v) = 'array' THEN CASE WHEN v = '[]' THEN '[]' ELSE '[0]'"
           " END WHEN k = 'lineups' AND jsonb_typeof(v) = 'array' THEN " + _LINEUPS + " ELSE CAST(v AS text) END")
_ITEM = ("CASE WHEN jsonb_typeof(i) = 'object' THEN COALESCE((SELECT '{{' || string_agg(CAST(to_jsonb(k) AS text)"
         " || ':' || " + _MARKER + ", ',') || '}}' FROM jsonb_each(i) AS m (k, v)), '{{}}') ELSE CAST(i AS text) END")
SLIM_TEXT = ("""'{{"response":' || COALESCE((SELECT '[' || string_agg(""" + _ITEM + """, ',' ORDER BY n) || ']'"""
             " FROM jsonb_array_elements(x.items) WITH ORDINALITY AS e (i, n)), '[]')"
             " || CASE WHEN x.envelope = '{{}}' THEN '}}' ELSE ',' || substr(CAST(x.envelope AS text), 2) END").format(
    parts=", ".join(f"'{part}'" for part in SLIM_PARTS))
SEASON_FIXTURES = "SELECT id FROM core.fixtures WHERE {where}"
OPEN_QUARANTINE = "SELECT raw_id, item_index FROM ops.quarantine WHERE resolved_at IS NULL AND raw_id {keys}"
RESOLVE = """
UPDATE ops.quarantine SET resolved_at = %(now)s
WHERE raw_id = %(raw_id)s AND item_index = %(index)s AND resolved_at IS NULL"""
QUARANTINE = """
INSERT INTO ops.quarantine AS q (raw_id, endpoint, item_index, item, reason, created_at)
VALUES (%(raw_id)s, %(endpoint)s, %(index)s, %(item)s, %(reason)s, %(now)s)
ON CONFLICT (raw_id, item_index) DO UPDATE SET reason = excluded.reason, resolved_at = NULL
WHERE q.reason IS DISTINCT FROM excluded.reason OR q.resolved_at IS NOT NULL"""
FIXTURE_PARAMS = ("id", "ids", "fixture")
PROGRESS_EVERY = 10.0  # seconds between progress log lines
log = logging.getLogger("afc.rebuild")


@dataclass(frozen=True)
class Scope:
    """Which archived responses to replay (every filter optional)."""

    endpoint: str | None = None
    league: int | None = None
    season: int | None = None
    since: date | None = None  # fetched on or after this UTC day

    @property
    def by_league(self) -> bool:
        return self.league is not None or self.season is not None


@dataclass
class RebuildReport:
    """What a rebuild did (or, dry, would do)."""

    dry_run: bool = False
    check_drift: bool = False
    responses: int = 0
    items: int = 0
    counts: Counts = field(default_factory=Counts)
    quarantined: int = 0  # items that fail now
    resolved: int = 0  # quarantined items that pass now
    drift: int = 0  # schema differences seen (per response, summed), with check_drift
    batches: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        """Rows the upserts looked at: inserted, updated, unchanged and deleted."""
        c = self.counts
        return c.inserted + c.updated + c.unchanged + c.deleted

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for --json)."""
        return {"dry_run": self.dry_run, "check_drift": self.check_drift, "responses": self.responses,
                "items": self.items, "inserted": self.counts.inserted, "updated": self.counts.updated,
                "unchanged": self.counts.unchanged, "deleted": self.counts.deleted,
                "quarantined": self.quarantined, "resolved": self.resolved, "drift": self.drift,
                "batches": self.batches, "seconds": round(self.seconds, 3),
                "rows_per_second": round(self.rows_per_second, 1)}


@dataclass
class Archived:
    """One successful archived response as stored; its body is parsed when it is replayed (or when its fixtures
    are listed for a league season's scope: then that parse is kept for the replay, not done twice)."""

    raw_id: int
    request: Request
    text: str | bytes  # UTF-8 bytes as read
    fetched_at: datetime
    as_json: bool = False  # kept in the JSON column (PostgreSQL: jsonb, whose members upserts can pick)
    slim: bool = False  # read without the content of its items' SLIM_PARTS and lineups (markers in their place)
    parsed: Response | None = field(default=None, repr=False)  # parsed ahead of its replay, held until then

    def response(self) -> Response | None:
        """The answer as the pipeline saw it; None unless the pipeline would have transformed it."""
        if self.parsed is not None:
            response, self.parsed = self.parsed, None  # the replay takes it: not held past its turn
            return response
        try:
            parsed = parse(self.text)
        except Unparsable:
            return None  # a body the pipeline could not read: it did not transform it either
        if not isinstance(parsed, dict):
            return None
        response = Response(self.request, 200, {}, parsed, None, self.fetched_at, 0)
        return response if classify(response, self.fetched_at) is None else None


class _DryRun(Exception):
    """Raised at the end of a dry batch so its transaction rolls back."""


def rebuild(db: Database, clock: Clock, scope: Scope = Scope(), *, batch_size: int = 20, dry_run: bool = False,
            check_drift: bool = False) -> RebuildReport:
    """Replay the archive in `scope` through the transforms, one transaction per batch of responses.

    `check_drift` compares the replayed items with the known shapes again (useful after an upgrade
    brought new shapes); collection already compared each response once, so it is off by default.
    """
    if batch_size < 1:
        raise ConfigError(f"rebuild: --batch-size must be at least 1, got {batch_size}")
    report = RebuildReport(dry_run=dry_run, check_drift=check_drift)
    run_id = None if dry_run else runs.start(db, "rebuild", "rebuild", clock.now())
    try:
        _replay_all(db, clock, scope, batch_size, report, run_id)
    except BaseException as exc:
        if run_id is not None:
            with suppress(AfcError):  # a lost database must not hide the error that stopped the rebuild
                runs.finish(db, run_id, "failed", clock.now(), describe(exc))
        raise
    if run_id is not None:
        runs.finish(db, run_id, "ok", clock.now())
    return report


def _replay_all(db: Database, clock: Clock, scope: Scope, batch_size: int, report: RebuildReport,
                run_id: int | None) -> None:
    started, logged = time.perf_counter(), 0.0
    with db.prepared_early():  # the same statements, response after response
        for batch in archived(db, scope, batch_size, slim=not report.check_drift):
            _replay(db, clock, batch, report, run_id)
            report.seconds = time.perf_counter() - started
            if report.seconds - logged >= PROGRESS_EVERY:
                logged = report.seconds
                log.info("rebuild: %d responses, %d rows so far (%.0f rows/s)", report.responses, report.rows,
                         report.rows_per_second)
    report.seconds = time.perf_counter() - started


def archived(db: Database, scope: Scope, batch_size: int, *, slim: bool = False) -> Iterator[list[Archived]]:
    """Successful responses in scope, in id order, `batch_size` at a time (bodies read per batch; with `slim`,
    detailed /fixtures answers without their SLIM_PARTS on PostgreSQL)."""
    after = 0
    filters, params = _filters(scope)
    fixtures = _season_fixtures(db, scope) if scope.by_league else set()
    while True:
        heads = db.fetchall(HEADS.format(filters=filters), {**params, "after": after, "limit": batch_size})
        if not heads:
            return
        after = heads[-1][0]
        loaded = _select(db, scope, {row[0]: row for row in heads}, fixtures, slim)
        batch = [entry for _, entry in sorted(loaded.items()) if entry is not None]
        if batch:
            yield batch


def _select(db: Database, scope: Scope, heads: dict[int, tuple[Any, ...]], fixtures: set[int],
            slim: bool) -> dict[int, Archived | None]:
    """Load the responses in scope: by their league/season parameters first, then by the fixtures
    they name (which the first may have just listed, so `fixtures` grows as the archive is read)."""
    if not scope.by_league:
        return _load(db, heads, slim)
    decided = {raw_id: _by_params(load_json(row[2]), scope) for raw_id, row in heads.items()}
    loaded = _load(db, {raw_id: heads[raw_id] for raw_id, match in decided.items() if match}, slim)
    fixtures.update(_listed_fixtures(loaded.values()))
    named = {raw_id: heads[raw_id] for raw_id, match in decided.items()
             if match is None and _names(load_json(heads[raw_id][2]), fixtures)}
    return loaded | _load(db, named, slim)


def _filters(scope: Scope) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if scope.endpoint:
        clauses.append("AND endpoint = %(endpoint)s")
        params["endpoint"] = scope.endpoint.strip("/")
    if scope.since:
        clauses.append("AND fetched_at >= %(since)s")
        params["since"] = datetime.combine(scope.since, clock_time(0), UTC)
    return " ".join(clauses), params


def _season_fixtures(db: Database, scope: Scope) -> set[int]:
    """The fixtures core knows in the scope's league season (to match `ids=`/`fixture=` requests)."""
    where = {"league_id = %(league)s": scope.league, "season = %(season)s": scope.season}
    clause = " AND ".join(c for c, v in where.items() if v is not None)
    rows = db.fetchall(SEASON_FIXTURES.format(where=clause), {"league": scope.league, "season": scope.season})
    return {int(r[0]) for r in rows}


def _by_params(params: dict[str, str], scope: Scope) -> bool | None:
    """Whether a request's own league/season parameters put it in scope; None when it has none."""
    league, season = params.get("league"), params.get("season")
    if league is None and (season is None or scope.league is not None):
        return None
    return (scope.league is None or league == str(scope.league)) and (
        scope.season is None or season == str(scope.season))


def _names(params: dict[str, str], fixtures: set[int]) -> bool:
    """Whether an `ids=`/`id=`/`fixture=` request names one of `fixtures`."""
    named = [part for name in FIXTURE_PARAMS for part in str(params.get(name) or "").split("-") if part]
    return any(part.isdigit() and int(part) in fixtures for part in named)


def _listed_fixtures(responses: Iterable[Archived | None]) -> set[int]:
    """The fixture ids that /fixtures answers in scope list. Each parsed answer is kept for its replay in this
    batch rather than parsed twice: memory holds a batch's /fixtures answers in scope (usually one season list)
    until each is replayed."""
    found: set[int] = set()
    for entry in responses:
        response = entry.response() if entry is not None and entry.request.endpoint == "fixtures" else None
        if entry is not None and response is not None:
            entry.parsed = response
            ids = (opt_int(path(item, "fixture", "id")) for item in response.items)
            found.update(i for i in ids if i is not None)
    return found


def _load(db: Database, heads: dict[int, tuple[Any, ...]], slim: bool = False) -> dict[int, Archived | None]:
    if not heads:
        return {}
    test, params = among(db, list(heads))
    loaded = {}
    for raw_id, text, fetched_at, as_json, slimmed in db.fetchall_binary(bodies_sql(db, test, slim), params):
        _, endpoint, params = heads[raw_id]
        loaded[raw_id] = _archived(raw_id, endpoint, load_json(params), text, as_datetime(fetched_at), bool(as_json),
                                   bool(slimmed))
    return loaded


def bodies_sql(db: Database, keys: str, slim: bool) -> str:
    """The statement reading the bodies of the raw ids `keys` tests, slim where `slim` allows (PostgreSQL)."""
    rows = SLIM_ROWS.format(when=SLIM_WHEN if slim else "false")
    return BODIES[db.backend].format(keys=keys, slim_parts=rows, slim_text=SLIM_TEXT)


def _archived(raw_id: int, endpoint: str, params: dict[str, str], text: str | bytes | None,
              fetched_at: datetime | None, as_json: bool, slim: bool) -> Archived | None:
    if text is None or fetched_at is None:
        return None
    request = Request(endpoint, tuple(sorted((str(k), str(v)) for k, v in params.items())))
    return Archived(raw_id, request, text, fetched_at, as_json, slim)


def _whole(db: Database, entry: Archived) -> Archived:
    """`entry` read again with its whole body (a slim one cannot be quarantined: the item kept must be whole)."""
    heads = {entry.raw_id: (entry.raw_id, entry.request.endpoint, dict(entry.request.query))}
    whole = _load(db, heads).get(entry.raw_id)
    if whole is None:  # gone since (pruned mid-rebuild): nothing of it can be written
        raise AfcError(f"rebuild: raw response {entry.raw_id} is no longer in the archive")
    return whole


def _replay(db: Database, clock: Clock, batch: list[Archived], report: RebuildReport, run_id: int | None) -> None:
    try:
        with db.transaction():
            open_items = _open_quarantine(db, [a.raw_id for a in batch])
            counts, quarantined = Counts(), 0
            for entry in batch:
                with collector_paused():
                    response = entry.response()  # parsed one at a time: a batch's bodies are never all in memory
                    if response is None:
                        continue
                    done, bad = _replay_one(db, clock, entry, response, open_items.get(entry.raw_id, set()), report)
                    del response  # freed before the next is parsed
                counts += done
                quarantined += bad
            if run_id is not None:
                runs.add(db, run_id, counts, calls=0, quarantined=quarantined)
            if report.dry_run:
                raise _DryRun
    except _DryRun:
        pass
    report.batches += 1


def _replay_one(db: Database, clock: Clock, entry: Archived, response: Response, open_items: set[int],
                report: RebuildReport) -> tuple[Counts, int]:
    """Transform and write one archived response; settle its quarantine rows. Returns counts, bad items."""
    endpoint, items, raw_id = response.request.endpoint, response.items, entry.raw_id
    batch = transform.run(endpoint, response.request.query, items)
    if batch.quarantined and entry.slim:  # the quarantine keeps whole items: replay it from its whole body
        whole = _whole(db, entry)
        again = whole.response()
        if again is None:  # the whole body does not read: as if read whole from the start, it is not replayed
            return Counts(), 0
        return _replay_one(db, clock, whole, again, open_items, report)
    if report.check_drift:
        report.drift += drift.observe(db, endpoint, items, raw_id, response.fetched_at)
    source = source_of(raw_id, response, db.backend == "postgres" and entry.as_json)
    counts = write_batch(db, replace(batch, quarantined=[]), raw_id, response.fetched_at, endpoint, source)
    report.resolved += _settle_quarantine(db, raw_id, endpoint, batch.quarantined, open_items, clock.now())
    report.responses += 1
    report.items += batch.items + len(batch.quarantined)
    report.quarantined += len(batch.quarantined)
    report.counts += counts
    return counts, len(batch.quarantined)


def _open_quarantine(db: Database, raw_ids: list[int]) -> dict[int, set[int]]:
    test, params = among(db, raw_ids)
    rows = db.fetchall(OPEN_QUARANTINE.format(keys=test), params)
    found: dict[int, set[int]] = {}
    for raw_id, index in rows:
        found.setdefault(int(raw_id), set()).add(int(index))
    return found


def _settle_quarantine(db: Database, raw_id: int, endpoint: str, bad: list[Quarantined], open_items: set[int],
                       now: datetime) -> int:
    """Resolve the open quarantine rows whose item passes now; (re)open those that fail. Returns resolved."""
    failing = {q.index for q in bad}
    for q in bad:
        db.execute(QUARANTINE, {"raw_id": raw_id, "endpoint": endpoint, "index": q.index,
                                "item": dump_json(q.item), "reason": q.reason, "now": now})
    resolved = sorted(open_items - failing)
    for index in resolved:
        db.execute(RESOLVE, {"raw_id": raw_id, "index": index, "now": now})
    return len(resolved)
