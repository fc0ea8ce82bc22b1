"""The transactional outbox: match events appended in the transaction of the response that changed a fixture.

`record` runs inside `store`'s transaction, after core is written: it compares each touched fixture
with the state kept from its last observation (`ops.notify_fixtures`), appends the events between them
to `ops.events_outbox` (a repeated key is dropped by the unique index) and keeps the new state. Only
collecting jobs call it; backfill opts out and `afc rebuild` never stores through `store`, so history
replays notify nothing. This module owns every query of both tables; `afc notify` reads through it.
"""

from __future__ import annotations

from datetime import datetime
from hashlib import blake2b
from typing import Any

from afc.collect.changes import HISTORY_AFTER, Notice, Observation, diff, reads_alike
from afc.db import Database, among, as_datetime, dump_json, load_json, rows_of
from afc.transform import fixture_status as status
from afc.transform.model import Batch

FIXTURE_KINDS = ("fixture", "fixture_details")  # what a transform touches when a fixture or its details change
CHUNK = 500
DETAILS = "core.fixture_details"
Parts = dict[int, tuple[Any, Any]]  # fixture → its events and lineups, as a batch wrote them
# The names a notification shows are read only for the fixtures that have one (NAMES): most observations
# notify nothing, and three joins per fixture were a third of the look-up. A row has the same places either
# way: the names are NULL until `_named` fills them. The detail parts are not read here: the signature is made
# of the details row's raw id and time (a part that changes writes both), and the parts of a fixture whose
# signature changed come from the response's own batch, else from PARTS.
OBSERVE = """
SELECT f.id, f.league_id, f.season, NULL, f.kickoff_at, f.status_short, f.elapsed,
       f.home_team_id, NULL, f.away_team_id, NULL, f.home_goals, f.away_goals,
       d.raw_id, d.updated_at, CAST(s.state AS text), s.sig
FROM core.fixtures f
LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
LEFT JOIN ops.notify_fixtures s ON s.fixture_id = f.id
WHERE f.id {ids} AND (f.kickoff_at IS NULL OR f.kickoff_at >= %s)"""
PARTS = """
SELECT fixture_id, CAST(events AS text), CAST(lineups AS text) FROM core.fixture_details WHERE fixture_id {ids}"""
NAMES = """
SELECT f.id, l.name, th.name, ta.name
FROM core.fixtures f
LEFT JOIN core.leagues l ON l.id = f.league_id
LEFT JOIN core.teams th ON th.id = f.home_team_id
LEFT JOIN core.teams ta ON ta.id = f.away_team_id
WHERE f.id {ids}"""
APPEND = """
INSERT INTO ops.events_outbox (event_key, kind, fixture_id, league_id, home_team_id, away_team_id, payload,
                               raw_id, created_at)
VALUES (%(key)s, %(kind)s, %(fixture)s, %(league)s, %(home)s, %(away)s, %(payload)s, %(raw_id)s, %(at)s)
ON CONFLICT (event_key) DO NOTHING"""
KNOWN = "SELECT event_key FROM ops.events_outbox WHERE event_key {keys}"
KEEP = """
INSERT INTO ops.notify_fixtures (fixture_id, state, sig, updated_at) {rows}
ON CONFLICT (fixture_id) DO UPDATE SET state = excluded.state, sig = excluded.sig, updated_at = excluded.updated_at"""
KEPT_TYPES = ("integer", "jsonb", "text", "timestamptz")
COLUMNS = "id, event_key, kind, fixture_id, league_id, home_team_id, away_team_id, payload, created_at"
AFTER = f"SELECT {COLUMNS} FROM ops.events_outbox WHERE id > %(after)s ORDER BY id LIMIT %(limit)s"
# Events whose deliveries are all settled (delivered, dead: their rows go with them) and the kept
# state of fixtures long past kickoff (a change to them is history, see changes.HISTORY_AFTER).
PRUNE_EVENTS = """
DELETE FROM ops.events_outbox WHERE created_at < %(before)s AND id <= %(upto)s AND NOT EXISTS (
    SELECT 1 FROM ops.notify_deliveries d WHERE d.event_id = ops.events_outbox.id AND d.state = 'pending')"""
PRUNE_STATES = """
DELETE FROM ops.notify_fixtures WHERE fixture_id IN (SELECT id FROM core.fixtures WHERE kickoff_at < %(before)s)"""
LAST_BEFORE = "SELECT MAX(id) FROM ops.events_outbox WHERE created_at < %(since)s"


Observed = list[list[tuple[Any, ...]]]  # per CHUNK fixtures, their OBSERVE rows


def record(db: Database, touched: dict[str, set[Any]], at: datetime, raw_id: int | None,
           written: Parts | None = None, observed: Observed | None = None) -> int:
    """Append the events of every touched fixture; returns how many were new (call inside the transaction).
    `written`: the detail parts the response's batch wrote (`written_parts`), read from there, not the database;
    `observed`: what `observe` read of the touched fixtures, when the caller read it already.
    Set-based: one look-up per CHUNK fixtures, one multi-row statement per CHUNK states, one pipelined
    executemany for the events (a statement per fixture took a third of a plain response's step on PostgreSQL)."""
    events: list[dict[str, Any]] = []
    for rows in observe(db, touched, at) if observed is None else observed:
        # most ticks: nothing a notification looks at moved
        changed = [(row, sig) for row in rows if (sig := signature(row)) != row[16]]
        keeps: list[tuple[Any, ...]] = []
        notifying: list[tuple[tuple[Any, ...], Any]] = []
        for row, sig in _with_parts(db, changed, written or {}):
            _observe(row, sig, at, keeps, notifying)
        if keeps:  # one multi-row statement for the chunk's new states, sent with the next that waits
            source, params = rows_of(db, keeps, KEPT_TYPES)
            db.send(KEEP.format(rows=source), params)
        for row, before in _named(db, notifying):  # the same events again, now with the names they show
            now = observation(row)
            events.extend(_values(now, n, at, raw_id) for n in diff(now, before, at)[0])
    return _append(db, events)


def observe(db: Database, touched: dict[str, set[Any]], at: datetime) -> Observed:
    """What `record` compares of the touched fixtures seen at `at` (their OBSERVE rows): one look-up per CHUNK. A
    fixture that kicked off more than HISTORY_AFTER before `at` is history: nothing it shows is news, so it is not
    read, compared or kept (its kept state, if any, stays as the last news left it until `prune`) — a season's
    results fetched by `afc daily` cost the outbox one look-up. It reads core and ops alone, which no mart refresh
    writes, so a caller may refresh the marts between this and `record` (the step does: the server writes the
    daily mart while `record` works in Python, signatures first)."""
    ids = sorted({i for kind in FIXTURE_KINDS for i in touched.get(kind, ()) if isinstance(i, int)})
    found: Observed = []
    for start in range(0, len(ids), CHUNK):
        test, params = among(db, ids[start:start + CHUNK])
        found.append(db.fetchall(OBSERVE.format(ids=test), [*params, at - HISTORY_AFTER]))
    return found


def written_parts(batch: Batch) -> Parts:
    """Each fixture's events and lineups as `batch` writes them (its rows in write order: the last written part
    wins), for the fixtures whose rows carry both."""
    found: dict[int, dict[str, Any]] = {}
    for rows in batch.tables():
        if rows.table == DETAILS:
            for row in rows.rows:
                kept = found.setdefault(row["fixture_id"], {})
                kept.update((part, row[part].value) for part in ("events", "lineups") if part in row)
    return {fixture: (kept["events"], kept["lineups"]) for fixture, kept in found.items() if len(kept) == 2}


def _with_parts(db: Database, changed: list[tuple[tuple[Any, ...], str]], written: Parts
                ) -> list[tuple[tuple[Any, ...], str]]:
    """The changed OBSERVE rows as observation rows (events and lineups parsed, then the kept state), with their
    signatures. Parts the batch wrote are taken from it when they read as the database gives them back
    (`reads_alike`); the others are read in one look-up."""
    parts: dict[int, tuple[Any, Any]] = {}
    missing = []
    for row, _ in changed:
        found = written.get(row[0])
        if row[14] is None:  # no details row
            parts[row[0]] = (None, None)
        elif found is not None and reads_alike(*found, status.group(row[5]) == "scheduled"):
            parts[row[0]] = found
        else:
            missing.append(row[0])
    if missing:
        test, params = among(db, missing)
        parts.update((fixture, (_parsed_part(events), _parsed_part(lineups)))
                     for fixture, events, lineups in db.fetchall(PARTS.format(ids=test), params))
    return [((*row[:13], *parts.get(row[0], (None, None)), row[15]), sig) for row, sig in changed]


def _parsed_part(text: Any) -> Any:
    return load_json(text) if text is not None else None


def _observe(row: tuple[Any, ...], sig: str, at: datetime, keeps: list[tuple[Any, ...]],
             notifying: list[tuple[tuple[Any, ...], Any]]) -> None:
    """Add the fixture's new state to `keeps`, and the row to `notifying` when it has events."""
    now = observation(row)
    before = load_json(row[15]) if row[15] is not None else None
    notices, after = diff(now, before, at)  # what it keeps and whether it notifies depend on no name
    if notices:
        notifying.append((row, before))
    keeps.append((now.fixture_id, after, sig, at))


def _named(db: Database, rows: list[tuple[tuple[Any, ...], Any]]) -> list[tuple[tuple[Any, ...], Any]]:
    """The rows with their league's and teams' names filled in (one look-up), in the same order."""
    if not rows:
        return []
    test, params = among(db, [row[0] for row, _ in rows])
    names = {fixture: rest for fixture, *rest in db.fetchall(NAMES.format(ids=test), params)}
    named = []
    for row, before in rows:
        league, home, away = names.get(row[0], (None, None, None))
        named.append(((*row[:3], league, *row[4:8], home, row[9], away, *row[11:]), before))
    return named


def signature(row: tuple[Any, ...]) -> str:
    """A digest of what the events derive from, of an OBSERVE row: status, score, and the details row's raw id and
    time, which every write of a part changes (a signature kept in the earlier form, of the parts' text, differs
    once: the fixture is compared with its kept state, which finds nothing new)."""
    updated = as_datetime(row[14])
    text = f"{row[5]}\x1f{row[11]}\x1f{row[12]}\x1f{row[13]}\x1f{updated.isoformat() if updated else None}"
    return blake2b(text.encode(), digest_size=16).hexdigest()


def _append(db: Database, events: list[dict[str, Any]]) -> int:
    """Insert the events whose key is new, in order; returns how many."""
    # Keys looked up first (and repeats in `events` dropped): an INSERT that conflicts still takes an id from
    # a PostgreSQL sequence, and every gap makes `afc notify` wait to see whether a transaction will fill it.
    seen: set[str] = set()
    for start in range(0, len(events), CHUNK):
        keys = [e["key"] for e in events[start:start + CHUNK]]
        test, params = among(db, keys)
        seen.update(k for (k,) in db.fetchall(KNOWN.format(keys=test), params))
    fresh = []
    for event in events:
        if event["key"] not in seen:
            seen.add(event["key"])
            fresh.append(event)
    return max(db.executemany(APPEND, fresh), 0) if fresh else 0


def observation(row: tuple[Any, ...]) -> Observation:
    """An observation row (an OBSERVE row with its events and lineups parsed in places 13 and 14) as an Observation."""
    events, lineups = row[13], row[14]
    return Observation(
        fixture_id=row[0], league={"id": row[1], "season": row[2], "name": row[3]},
        kickoff_at=as_datetime(row[4]), status=row[5], elapsed=row[6],
        home={"id": row[7], "name": row[8]}, away={"id": row[9], "name": row[10]}, score=(row[11], row[12]),
        events=events if isinstance(events, list) else None, lineups=lineups if isinstance(lineups, list) else None)


def _values(now: Observation, notice: Notice, at: datetime, raw_id: int | None) -> dict[str, Any]:
    body = notice.body | {"occurred_at": at.isoformat()}
    return {"key": notice.key, "kind": notice.kind, "fixture": now.fixture_id, "league": now.league["id"],
            "home": now.home["id"], "away": now.away["id"], "payload": dump_json(body), "raw_id": raw_id, "at": at}


def after(db: Database, last_id: int, limit: int) -> list[dict[str, Any]]:
    """Outbox events with an id above `last_id`, oldest first, payload parsed."""
    return [_parsed(row) for row in db.fetch_dicts(AFTER, {"after": last_id, "limit": limit})]


def start_before(db: Database, since: datetime) -> int:
    """The id after which events created at or after `since` begin (0 for all)."""
    row = db.fetchone(LAST_BEFORE, {"since": since})
    return int(row[0]) if row and row[0] is not None else 0


def _parsed(row: dict[str, Any]) -> dict[str, Any]:
    return row | {"payload": load_json(row["payload"]), "created_at": as_datetime(row["created_at"])}



def prune(db: Database, before: datetime, upto: int) -> int:
    """Delete settled events created before `before` up to id `upto` (what every target has fanned out),
    with their deliveries, and the state of fixtures that kicked off before `before`; returns events deleted."""
    with db.transaction():
        deleted = db.execute(PRUNE_EVENTS, {"before": before, "upto": upto})
        db.execute(PRUNE_STATES, {"before": before})
    return max(deleted, 0)
