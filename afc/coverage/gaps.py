"""Gaps: what a league season is missing, as the cheapest calls that would fill it (for backfill).

The whole season's fixtures in one call; details for up to 20 finished fixtures per `ids=` call;
standings, teams, injuries and top scorers one call each; /players and /odds paged (pages estimated
from the last paging seen). Nothing for what is held and fresh, nothing the flags rule out.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from afc.api.client import Request
from afc.config.coverage import DETAIL_PARTS, coverage_config
from afc.config.jobs import JobConfig
from afc.db import Database, as_datetime
from afc.marts.coverage.calculate import compute, select
from afc.marts.coverage.measure import recheck_due
from afc.marts.coverage.model import Coverage, Gap
from afc.marts.coverage.raw import SEASON_CALLS

if TYPE_CHECKING:
    from afc.collect.collector import Collector

IDS_PER_CALL = 20
# Per part: never fetched, answered empty, and how many empty answers were counted (empty.py).
MISSING_DETAILS = """
SELECT f.id, d.events IS NULL, d.events = '[]', e.events,
       d.lineups IS NULL, d.lineups = '[]', e.lineups,
       d.statistics IS NULL, d.statistics = '[]', e.statistics,
       d.players IS NULL, d.players = '[]', e.players,
       e.last_empty_at
FROM core.fixtures f LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
LEFT JOIN mart.coverage_empty_details e ON e.fixture_id = f.id
WHERE f.league_id = %(league)s AND f.season = %(season)s AND f.status_group = 'finished'
  AND (d.fixture_id IS NULL OR d.events IS NULL OR d.lineups IS NULL OR d.statistics IS NULL OR d.players IS NULL
       OR d.events = '[]' OR d.lineups = '[]' OR d.statistics = '[]' OR d.players = '[]')
ORDER BY f.id"""


def gaps(source: Collector | Database, config: JobConfig, now: datetime, league: int | None = None,
         season: int | None = None) -> list[Gap]:
    """The gaps of the tracked league seasons (or just `league`/`season`), cheapest calls first per season.

    `source` is a `Collector` or a `Database`.
    """
    db = cast("Database", getattr(source, "db", source))  # a Collector carries its database
    settings = coverage_config(config)
    found: list[Gap] = []
    for ls in select(config, db, now, league, season):
        rows = compute(db, settings, [ls], now)
        found += season_gaps(db, ls.league, ls.season, rows)
    return found


def season_gaps(db: Database, league: int, season: int, rows: list[Coverage]) -> list[Gap]:
    """The gaps of one league season, from its computed coverage rows."""
    wanting = {r.endpoint: r for r in rows if _wanting(r)}
    calls = {e: _season_gap(league, season, wanting[e]) for e in SEASON_CALLS if e in wanting}
    parts = [wanting[e] for e in DETAIL_PARTS if e in wanting]
    # Details come right after the fixture list, which says which fixtures have finished.
    found = [calls.pop("fixtures")] if "fixtures" in calls else []
    found += _details_gap(db, league, season, parts, listing=bool(found)) if parts else []
    return found + list(calls.values())


def _wanting(row: Coverage) -> bool:
    if row.status == "not_applicable":
        return False
    stale = row.freshness_pct is not None and row.freshness_pct < 100
    unpaged = row.endpoint == "players" and not row.detail.get("pages_estimated", True) and \
        row.detail["pages_fetched"] < row.detail["pages"]
    return (row.count_pct or 0) < 100 or stale or unpaged


def _season_gap(league: int, season: int, row: Coverage) -> Gap:
    request = Request.of(SEASON_CALLS[row.endpoint], {"league": league, "season": season})
    calls = int(row.detail.get("pages", 1)) if row.endpoint in ("players", "odds") else 1
    if row.detail.get("empty_answers"):
        return _empty_gap(league, season, row, request, max(calls, 1))
    return Gap(league, season, row.endpoint, [request], max(calls, 1), _reason(row))


def _empty_gap(league: int, season: int, row: Coverage, request: Request, calls: int) -> Gap:
    """An empty answer the flags contradict: asked again only once its re-check is due (see measure.py)."""
    detail = row.detail
    said = (f"the API answered an empty list {detail['empty_answers']} time(s), the last on "
            f"{str(detail['last_empty_at'])[:10]}, although {detail['flag']} is true")
    due = as_datetime(detail["recheck_at"])
    if due is not None and due > row.computed_at:
        return Gap(league, season, row.endpoint, [], 0, f"{said}; re-check due {due:%Y-%m-%d %H:%M} UTC "
                                                        f"({detail['rechecks_left']} left)")
    return Gap(league, season, row.endpoint, [request], calls, f"{said}; re-check now "
                                                                f"({detail['rechecks_left']} left)")


def _reason(row: Coverage) -> str:
    if row.expected is None:
        return "never fetched: the API has not said how many to expect"
    if (row.count_pct or 0) < 100:
        return f"{row.held} of {row.expected} held"
    if row.freshness_pct is not None and row.freshness_pct < 100 and row.detail.get("source_changed_at"):
        return (f"stale: a match changed it {minutes(row.lag_minutes)} ago, after the last fetch "
                f"(allowed {minutes(row.detail['max_lag_minutes'])})")
    if row.freshness_pct is not None and row.freshness_pct < 100:
        return f"stale: last fetched {minutes(row.lag_minutes)} ago (allowed {minutes(row.detail['max_lag_minutes'])})"
    return f"the last run stopped at page {row.detail['pages_fetched']} of {row.detail['pages']}"


def _details_gap(db: Database, league: int, season: int, parts: list[Coverage], *, listing: bool) -> list[Gap]:
    """Finished fixtures lacking any wanted part, or whose promised part's empty answer is due a re-check,
    in `ids=` batches of 20.

    While the fixture list is itself a gap, the fixtures it will name may be missing too: the gap
    then also stands for them, to be planned from the fresh list (backfill does so).
    """
    names = [DETAIL_PARTS[row.endpoint] for row in parts]
    missing, rechecks, next_due = _fixtures_wanting(db, league, season, parts)
    wanted = sorted(set(missing) | set(rechecks))
    if not wanted:
        reason = f"{', '.join(names)} of the finished fixtures the fixture list names (20 per call)"
        if next_due is not None:
            reason = f"empty {', '.join(names)} although the flags promise them: re-check due " \
                     f"{next_due:%Y-%m-%d %H:%M} UTC" + ("; " + reason if listing else "")
            return [Gap(league, season, "details", [], 0, reason)]
        return [Gap(league, season, "details", [], 0, reason)] if listing else []
    batches = [wanted[i:i + IDS_PER_CALL] for i in range(0, len(wanted), IDS_PER_CALL)]
    requests = [Request.of("fixtures", {"ids": batch}) for batch in batches]
    reason = f"{len(missing)} finished fixtures lack {', '.join(names)}" if missing else ""
    if rechecks:
        reason += ("; " if reason else "") + f"{len(rechecks)} answered an empty part the flags promise: re-check now"
    return [Gap(league, season, "details", requests, len(requests), reason, tuple(rechecks))]


def _fixtures_wanting(db: Database, league: int, season: int,
                      parts: list[Coverage]) -> tuple[list[int], list[int], datetime | None]:
    """Fixtures lacking a part; those whose promised empty part is due a re-check now; the next re-check
    not yet due (the schedule is measure.recheck_due's, as for season-wide lists)."""
    columns = {"events": 1, "lineups": 4, "statistics": 7, "players": 10}
    missing: list[int] = []
    rechecks: list[int] = []
    upcoming: list[datetime] = []
    for r in db.fetchall(MISSING_DETAILS, {"league": league, "season": season}):
        last, due_now, lacking = as_datetime(r[-1]), False, False
        for row in parts:
            at = columns[DETAIL_PARTS[row.endpoint]]
            if r[at]:
                lacking = True
            elif r[at + 1] and row.detail.get("promised"):
                due = recheck_due(int(r[at + 2] or 0), last, bool(row.detail.get("current")))
                if due is not None and due <= row.computed_at:
                    due_now = True
                elif due is not None:
                    upcoming.append(due)
        if lacking:
            missing.append(int(r[0]))
        elif due_now:
            rechecks.append(int(r[0]))
    return missing, rechecks, min(upcoming, default=None)


def minutes(value: float | None) -> str:
    """A lag as the largest whole unit: `95` → `1h35m`, `4320` → `3d`."""
    if value is None:
        return "never"
    total = int(round(value))
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return text or "0m"
