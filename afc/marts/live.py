"""mart.live_scores: the fixtures in play now, with their score, the latest event and the latest statistics
(shots, possession, xG; `statistics_at` is when they last changed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from afc.db import Database, among, as_datetime, load_json
from afc.marts.common import chunks, delete, upsert

SELECT = """
SELECT f.id AS fixture_id, f.status_group, f.league_id, l.name AS league_name, f.kickoff_at,
       f.home_team_id, h.name AS home_team, f.away_team_id, a.name AS away_team,
       f.home_goals, f.away_goals, f.status_short, f.elapsed, f.extra, d.events,
       hs.total_shots AS home_shots, aw.total_shots AS away_shots, hs.shots_on_goal AS home_shots_on_goal,
       aw.shots_on_goal AS away_shots_on_goal, hs.ball_possession AS home_possession,
       aw.ball_possession AS away_possession, hs.expected_goals AS home_xg, aw.expected_goals AS away_xg,
       hs.updated_at AS statistics_at
FROM core.fixtures f
LEFT JOIN core.leagues l ON l.id = f.league_id
LEFT JOIN core.teams h ON h.id = f.home_team_id
LEFT JOIN core.teams a ON a.id = f.away_team_id
LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
LEFT JOIN core.fixture_team_stats hs ON hs.fixture_id = f.id AND hs.team_id = f.home_team_id
LEFT JOIN core.fixture_team_stats aw ON aw.fixture_id = f.id AND aw.team_id = f.away_team_id
WHERE f.id {keys}
  AND (f.status_group = 'live' OR EXISTS (SELECT 1 FROM mart.live_scores m WHERE m.fixture_id = f.id))"""
KEY = ("fixture_id",)
# Extra time, penalties and a long stoppage end well within 4 hours of kick-off: a fixture still
# "live" after that is a stale record (an old recording replayed, a fixture the API stopped
# reporting), never shown as in play, whatever its age.
SETTLE_AFTER = timedelta(hours=4)
SETTLE = "DELETE FROM mart.live_scores WHERE kickoff_at < %(before)s"


def describe(event: Any) -> str | None:
    """An event as a panel line: `45+1' Yellow Card: Amad Diallo (Manchester United)`."""
    if not isinstance(event, dict):
        return None
    time = _mapping(event.get("time"))
    minute = f"{time.get('elapsed')}'" if time.get("extra") is None else f"{time.get('elapsed')}+{time['extra']}'"
    kind = str(event.get("type") or "")
    label = {"card": event.get("detail"), "var": f"VAR {event.get('detail') or ''}".strip(),
             "subst": "Substitution"}.get(kind.lower()) or kind
    who = _mapping(event.get("player")).get("name")
    team = _mapping(event.get("team")).get("name")
    return f"{minute} {label}" + (f": {who}" if who else "") + (f" ({team})" if team else "")


def _mapping(value: Any) -> dict[str, Any]:
    """`value` if it is an object; the API's events are stored as sent, so anything may be there."""
    return value if isinstance(value, dict) else {}


PANEL = "SELECT fixture_id FROM mart.live_scores"


def refresh_live_scores(db: Database, keys: set[Any], now: datetime) -> int:
    """The fixtures a response showed in play: onto the panel, with their latest event."""
    return _rederive(db, keys, now)


def refresh_live_panel(db: Database, keys: set[Any], now: datetime) -> int:
    """Touched fixtures already on the (small) panel: re-derived, or removed once no longer in play.

    Checking the panel first keeps a season of finished fixtures from costing a query of its own.
    """
    panel = {row[0] for row in db.fetchall(PANEL)}
    return _rederive(db, set(keys) & panel, now) if panel else 0


def _rederive(db: Database, keys: set[Any], now: datetime) -> int:
    live: list[dict[str, Any]] = []
    gone: list[Any] = []
    for chunk in chunks(keys):
        test, params = among(db, chunk)
        for row in db.fetch_dicts(SELECT.format(keys=test), params):
            if row.pop("status_group") != "live" or _settled(row["kickoff_at"], now):
                gone.append(row["fixture_id"])
                continue
            events = load_json(row.pop("events")) or []
            row["last_event"] = describe(events[-1]) if events else None
            live.append(row)
    return upsert(db, "mart.live_scores", KEY, live, now) + _drop(db, gone)


def _settled(kickoff: Any, now: datetime) -> bool:
    """Whether a fixture kicked off so long ago that it cannot be in play any more."""
    kicked_off = as_datetime(kickoff)
    return kicked_off is not None and kicked_off < now - SETTLE_AFTER


def settle(db: Database, now: datetime) -> int:
    """Take every fixture SETTLE_AFTER past kick-off off the panel, however old; how many went."""
    return max(0, db.execute(SETTLE, {"before": now - SETTLE_AFTER}))


def _drop(db: Database, fixture_ids: list[Any]) -> int:
    """Delete the panel rows of fixtures no longer in play (only those that exist: cheap when none)."""
    return delete(db, "mart.live_scores", "fixture_id", fixture_ids) if fixture_ids else 0
