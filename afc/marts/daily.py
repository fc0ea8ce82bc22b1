"""mart.daily_fixtures: one row per fixture for day-by-day dashboards: the UTC match date and, next to
it, the date where a person reads it (the connection's display zone, AFC_DISPLAY_TZ); whether its lineups
are confirmed and the prediction's advice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from afc.db import Database, among
from afc.marts.common import chunks

COLUMNS = ("fixture_id", "match_date", "kickoff_at", "league_id", "league_name", "season", "round",
           "home_team_id", "home_team", "away_team_id", "away_team", "home_goals", "away_goals",
           "status_short", "status_group", "local_date", "local_tz", "lineups_confirmed", "prediction_advice")
# The dates PostgreSQL derives in the statement (the zone travels as a parameter); SQLite's are made in Python, see
# _sqlite_refresh.
DAY = {"postgres": "CAST(f.kickoff_at AT TIME ZONE 'UTC' AS date)"}
LOCAL_DAY = {"postgres": "CAST(f.kickoff_at AT TIME ZONE %s AS date)"}

SOURCE = """
SELECT f.id, {day}, f.kickoff_at, f.league_id, l.name, f.season, f.round, f.home_team_id, h.name,
       f.away_team_id, a.name, f.home_goals, f.away_goals, f.status_short, f.status_group, {local_day}, %s,
       d.lineups_seen_at IS NOT NULL, p.advice, %s
FROM core.fixtures f
LEFT JOIN core.leagues l ON l.id = f.league_id
LEFT JOIN core.teams h ON h.id = f.home_team_id
LEFT JOIN core.teams a ON a.id = f.away_team_id
LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
LEFT JOIN core.predictions p ON p.fixture_id = f.id
WHERE f.kickoff_at IS NOT NULL AND f.id {keys}"""
REFRESH = """
INSERT INTO mart.daily_fixtures AS t ({columns}, updated_at)
{rows}
ON CONFLICT (fixture_id) DO UPDATE SET {sets}, updated_at = excluded.updated_at
WHERE ({old}) IS DISTINCT FROM ({new})"""


def _sql(rows: str) -> str:
    """The upsert of the dashboard rows the SELECT `rows` gives."""
    values = COLUMNS[1:]
    return REFRESH.format(
        columns=", ".join(COLUMNS), rows=rows, sets=", ".join(f"{c} = excluded.{c}" for c in values),
        old=", ".join(f"t.{c}" for c in values), new=", ".join(f"excluded.{c}" for c in values))


def _source(backend: str, keys: str) -> str:
    return SOURCE.format(day=DAY[backend], local_day=LOCAL_DAY[backend], keys=keys)


def refresh_daily_fixtures(db: Database, keys: set[Any], now: datetime) -> int:
    """Re-derive the dashboard rows of the touched fixtures; unchanged rows are not written."""
    if db.backend == "sqlite":
        return _sqlite_refresh(db, keys, now)
    return sum(max(0, db.execute(sql, params)) for sql, params in _statements(db, keys, now))


def send_daily_fixtures(db: Database, keys: set[Any], now: datetime) -> None:
    """`refresh_daily_fixtures` without waiting for its count (`Database.send`, at once): PostgreSQL writes the rows
    while the caller goes on."""
    if db.backend == "sqlite":
        _sqlite_refresh(db, keys, now)  # in-process: nothing to overlap
        return
    for sql, params in _statements(db, keys, now):
        db.send(sql, params, at_once=True)


def _statements(db: Database, keys: set[Any], now: datetime) -> Iterator[tuple[str, list[Any]]]:
    for chunk in chunks(keys):
        test, params = among(db, chunk)
        yield _sql(_source(db.backend, test)), [db.display_tz, db.display_tz, now, *params]


# SQLite: per chunk of keys, one UPDATE of the rows that exist and changed and one INSERT of those that do not, each
# a statement of many rows with nothing in it that may fail half-way: then SQLite keeps no statement journal (a copy
# of every page the statement changes, for undoing it alone; past 64 kB a temporary file). An upsert writing the
# NOT NULL updated_at, or any SQL function called, may fail: each fixture's two dates are made in Python from its
# kickoff (read first, with whether its row exists) and joined in as VALUES, and OR IGNORE makes the NOT NULL check
# one that skips (updated_at is never null). Such a journal, hundreds of pages per answer (the rows' index leaves
# are scattered over the two date indexes), is why the rows used to go through Python one VALUES row per statement.
KICKOFFS = """
SELECT f.id, f.kickoff_at, d.fixture_id IS NOT NULL FROM core.fixtures f
LEFT JOIN mart.daily_fixtures d ON d.fixture_id = f.id
WHERE f.kickoff_at IS NOT NULL AND f.id {keys}"""
# k: each fixture's id, match date and local date
ROWS = ("f.id", "k.column2", "f.kickoff_at", "f.league_id", "l.name", "f.season", "f.round", "f.home_team_id",
        "h.name", "f.away_team_id", "a.name", "f.home_goals", "f.away_goals", "f.status_short", "f.status_group",
        "k.column3", "%s", "d.lineups_seen_at IS NOT NULL", "p.advice", "%s")
SQLITE_SOURCE = f"""
SELECT {", ".join(f"{value} AS {name}" for value, name in zip(ROWS, (*COLUMNS, "updated_at"), strict=True))}
FROM (VALUES {{days}}) AS k CROSS JOIN core.fixtures f ON f.id = k.column1
LEFT JOIN core.leagues l ON l.id = f.league_id
LEFT JOIN core.teams h ON h.id = f.home_team_id
LEFT JOIN core.teams a ON a.id = f.away_team_id
LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
LEFT JOIN core.predictions p ON p.fixture_id = f.id"""
INSERT_NEW = f"INSERT OR IGNORE INTO mart.daily_fixtures ({', '.join(COLUMNS)}, updated_at) {SQLITE_SOURCE}"
UPDATE_CHANGED = f"""
UPDATE OR IGNORE mart.daily_fixtures AS t SET {", ".join(f"{c} = s.{c}" for c in (*COLUMNS[1:], "updated_at"))}
FROM ({SQLITE_SOURCE}) AS s
WHERE t.fixture_id = s.fixture_id
  AND ({", ".join(f"t.{c}" for c in COLUMNS[1:])}) IS DISTINCT FROM ({", ".join(f"s.{c}" for c in COLUMNS[1:])})"""
# Keys per statement: a statement of 500 rows of VALUES took a 1,300-fixture answer's peak RSS 0.5 MB higher (its
# parse), 200 leaves it where it was.
KEYS_HELD = 200


def _sqlite_refresh(db: Database, keys: set[Any], now: datetime) -> int:
    """`refresh_daily_fixtures` on SQLite: per chunk, the kickoffs read, then the changed rows updated and the new
    ones inserted."""
    from afc.db.sqlite import local_date  # here: a PostgreSQL process need not load sqlite3

    written, zone = 0, db.display_tz
    for chunk in chunks(keys, KEYS_HELD):
        test, params = among(db, chunk)
        found: dict[bool, list[Any]] = {True: [], False: []}  # whether the row exists → its VALUES
        for fixture, kickoff, held in db.fetchall(KICKOFFS.format(keys=test), params):
            found[bool(held)] += (fixture, kickoff[:10], local_date(kickoff, zone))
        for held, sql in ((True, UPDATE_CHANGED), (False, INSERT_NEW)):
            if days := found[held]:
                written += max(0, db.execute(sql.format(days=", ".join(["(%s, %s, %s)"] * (len(days) // 3))),
                                             [zone, now, *days]))
    return written
