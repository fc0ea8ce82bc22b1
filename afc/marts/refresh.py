"""Marts: dashboard tables kept current in the same transaction as the core rows they summarise.

A transform notes what it touched (`batch.touch("fixture", id)`); each refresher rebuilds only the
mart rows for those keys, so the cost grows with what changed, not with the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from afc.db import Database
from afc.marts import coverage, daily, history, live, names, summary
from afc.marts.coverage.empty import record_empty_details

Refresher = Callable[[Database, set[Any], datetime], int]
JointRefresher = Callable[[Database, dict[str, set[Any]], datetime], int]
# Kind of entity a transform touched → `fn(db, keys, now) -> rows changed`, run in this order
# (empty detail parts are counted before coverage measures the fixtures they belong to).
REFRESHERS: dict[str, list[Refresher]] = {
    "detail_empty": [record_empty_details],
    "fixture": [live.refresh_live_panel],
    "fixture_live": [live.refresh_live_scores],
    "odds_history": [history.refresh_odds_movement],
    "standings_history": [history.refresh_table_by_round],
    "team": [names.refresh_team_names],
    "league": [names.refresh_league_names],
}
# Run first, while mart.daily_fixtures still holds the touched fixtures' previous state: the league summary
# compares against it to recount only the seasons whose counts a touched fixture can have changed.
FIRST: list[tuple[tuple[str, ...], JointRefresher]] = [
    (("league_season", "fixture"), summary.refresh_touched),
]
# Refreshers of one mart fed by several kinds, run after those above: called once per response with every
# kind's keys, so a row reached through two kinds (a fixture and its league season) is rebuilt once, not twice.
JOINT: list[tuple[tuple[str, ...], JointRefresher]] = [
    (("league_season", "fixture", "fixture_live"), coverage.refresh_touched),
]


def refresh(db: Database, touched: dict[str, set[Any]], now: datetime, *, counted: bool = True) -> int:
    """Bring the marts up to date for everything touched; returns mart rows written. The touched fixtures'
    dashboard rows come last (no refresher after the league summary reads them): with `counted` False they are
    sent without waiting (`Database.send`) and left out of the count, and PostgreSQL writes them while the caller
    goes on (the step's outbox works in Python meanwhile)."""
    written = _joint(db, FIRST, touched, now)
    for kind, refreshers in REFRESHERS.items():
        keys = touched.get(kind)
        if not keys:
            continue
        for fn in refreshers:
            written += fn(db, keys, now)
    written += _joint(db, JOINT, touched, now)
    fixtures = touched.get("fixture")
    if fixtures and counted:
        written += daily.refresh_daily_fixtures(db, fixtures, now)
    elif fixtures:
        daily.send_daily_fixtures(db, fixtures, now)
    return written


def _joint(db: Database, joints: list[tuple[tuple[str, ...], JointRefresher]], touched: dict[str, set[Any]],
           now: datetime) -> int:
    written = 0
    for kinds, joint in joints:
        found = {kind: touched[kind] for kind in kinds if touched.get(kind)}
        if found:
            written += joint(db, found, now)
    return written
