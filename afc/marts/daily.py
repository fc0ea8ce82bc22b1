"""mart.daily_fixtures: one row per fixture for day-by-day dashboards: the UTC match date and, next to
it, the date where a person reads it (the connection's display zone, AFC_DISPLAY_TZ); whether its lineups
are confirmed and the prediction's advice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from afc.db import Database, among, marks
from afc.marts.common import chunks

COLUMNS = ("fixture_id", "match_date", "kickoff_at", "league_id", "league_name", "season", "round",
           "home_team_id", "home_team", "away_team_id", "away_team", "home_goals", "away_goals",
           "status_short", "status_group", "local_date", "local_tz", "lineups_confirmed", "prediction_advice")
DAY = {"postgres": "CAST(f.kickoff_at AT TIME ZONE 'UTC' AS date)", "sqlite": "substr(f.kickoff_at, 1, 10)"}
# The zone travels as a parameter; SQLite's afc_local_date is registered on every afc connection.
LOCAL_DAY = {"postgres": "CAST(f.kickoff_at AT TIME ZONE %s AS date)", "sqlite": "afc_local_date(f.kickoff_at, %s)"}

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
    """The upsert of the dashboard rows `rows` gives (a SELECT of them, or one row of VALUES)."""
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


# SQLite: the rows read first, then written one per statement (`executemany`). One INSERT … SELECT of a response's
# rows keeps the pages it changes in a journal of its own until it ends (it writes several rows to a table with a NOT
# NULL column, and may have to undo them), hundreds of them (the rows' index leaves are scattered over the two date
# indexes), and past 64 kB SQLite writes that journal to a temporary file: a third of the mart's time. A statement
# writing one row of VALUES needs none.
ROWS_HELD = 100  # read and written at a time: a 1,300-fixture answer's rows are not all held at once
ONE_ROW = _sql(f"VALUES ({marks(len(COLUMNS) + 1)})")


def _sqlite_refresh(db: Database, keys: set[Any], now: datetime) -> int:
    """`refresh_daily_fixtures` on SQLite: each chunk's rows read, then written by `ONE_ROW`."""
    written = 0
    for chunk in chunks(keys, ROWS_HELD):
        test, params = among(db, chunk)
        rows = db.fetchall(_source("sqlite", test), [db.display_tz, db.display_tz, now, *params])
        written += max(0, db.executemany(ONE_ROW, rows))
    return written
