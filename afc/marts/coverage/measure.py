"""The figures behind each endpoint's coverage for one league season, read with indexed lookups.

Every query is keyed by league and season (or by fixture id within it), so measuring one league
season costs the same however large the database grows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from afc.config.coverage import DETAIL_PARTS, FLAGS, CoverageConfig
from afc.config.seasons import guess_season
from afc.db import Database, as_datetime
from afc.marts.coverage.model import Measure, RawRun
from afc.marts.coverage.raw import empty_answers, latest_date_call, latest_run

FLAG_COLUMNS = sorted(set(FLAGS.values()))
# Current only if no newer season of the league is flagged current too (the API moves the flag late).
SEASON = """SELECT CASE WHEN s.current IS NULL THEN NULL WHEN s.current = %(yes)s AND NOT EXISTS (
    SELECT 1 FROM core.league_seasons n WHERE n.league_id = s.league_id AND n.season > s.season
      AND n.current = %(yes)s) THEN %(yes)s ELSE %(no)s END, """ + ", ".join(FLAG_COLUMNS) + """
FROM core.league_seasons s WHERE s.league_id = %(league)s AND s.season = %(season)s"""
ANY_FIXTURE = "SELECT 1 FROM core.fixtures WHERE league_id = %(league)s AND season = %(season)s LIMIT 1"
FIXTURES = """
SELECT count(*), max(updated_at) FROM core.fixtures WHERE league_id = %(league)s AND season = %(season)s"""
# Per detail part: held (not NULL; `[]` only when the flag does not promise the part), empty at
# source (`[]` the flag promises, re-checks spent), empty awaiting a re-check, and the oldest
# kick-off still waiting (NULL, or a promised `[]` still to be re-checked). Counts come from
# mart.coverage_empty_details (empty.py).
_PART = """
       sum(CASE WHEN d.{p} IS NULL OR (d.{p} = '[]' AND %(promised_{p})s) THEN 0 ELSE 1 END),
       sum(CASE WHEN d.{p} = '[]' AND %(promised_{p})s AND COALESCE(e.{p}, 0) > %(rechecks)s THEN 1 ELSE 0 END),
       sum(CASE WHEN d.{p} = '[]' AND %(promised_{p})s AND COALESCE(e.{p}, 0) <= %(rechecks)s THEN 1 ELSE 0 END),
       min(CASE WHEN d.{p} IS NULL OR (d.{p} = '[]' AND %(promised_{p})s AND COALESCE(e.{p}, 0) <= %(rechecks)s)
           THEN f.kickoff_at END)"""
DETAILS = "SELECT count(*)," + ",".join(_PART.format(p=p) for p in DETAIL_PARTS.values()) + """
FROM core.fixtures f LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
LEFT JOIN mart.coverage_empty_details e ON e.fixture_id = f.id
WHERE f.league_id = %(league)s AND f.season = %(season)s AND f.status_group = 'finished'"""
SEASON_TEAMS = """
SELECT count(*) FROM (
    SELECT home_team_id AS team_id FROM core.fixtures WHERE league_id = %(league)s AND season = %(season)s
    UNION
    SELECT away_team_id FROM core.fixtures WHERE league_id = %(league)s AND season = %(season)s
) sides WHERE team_id IS NOT NULL"""
TEAM_SEASONS = """
SELECT count(*), max(updated_at) FROM core.team_seasons WHERE league_id = %(league)s AND season = %(season)s"""
PLAYERS = """
SELECT count(DISTINCT team_id), count(*), max(updated_at)
FROM core.player_season_stats WHERE league_id = %(league)s AND season = %(season)s"""
STANDINGS = """
SELECT count(*), count(DISTINCT group_name), max(updated_at)
FROM core.standings WHERE league_id = %(league)s AND season = %(season)s"""
INJURIES = """
SELECT count(*), max(updated_at) FROM core.injuries WHERE league_id = %(league)s AND season = %(season)s"""
TOP_SCORERS = """
SELECT count(*), max(updated_at) FROM core.top_players
WHERE league_id = %(league)s AND season = %(season)s AND kind = 'scorers'"""
# The first change after `since` to a played fixture of the season: what moves a table or a scorer list.
PLAYED_SINCE = """
SELECT min(updated_at) FROM core.fixtures WHERE league_id = %(league)s AND season = %(season)s
  AND status_group IN ('live', 'finished') AND updated_at > %(since)s"""
UPCOMING_ODDS = """
SELECT f.id, (SELECT max(o.updated_at) FROM core.odds o WHERE o.fixture_id = f.id)
FROM core.fixtures f
WHERE f.league_id = %(league)s AND f.season = %(season)s AND f.status_group = 'scheduled'
  AND f.kickoff_at > %(now)s AND f.kickoff_at <= %(until)s"""
# Players held per team; with no paging seen yet, a squad of about 30 at 20 per page.
PLAYERS_PER_TEAM = 30
# An empty answer where the coverage flag promises data is asked again this many days after each
# empty answer (a current season, then a finished one); once they are spent it is "empty at source".
RECHECK_DAYS = {True: (1, 3, 7), False: (7,)}
EMPTY_CHECKED = ("standings", "injuries", "top_scorers", "players")  # one season-wide list each
# Lists that change only when the league plays: fresh until a played fixture changes after the fetch.
FOLLOW_MATCHES = ("standings", "top_scorers")
# Lists the daily all-league `date=` calls keep current (the fixtures and injuries that can still change).
DATE_CHECKED = ("fixtures", "injuries")


@dataclass(frozen=True)
class Season:
    """One league season being measured, with what every endpoint's measure shares."""

    db: Database
    league: int
    season: int
    now: datetime
    config: CoverageConfig
    flags: dict[str, bool | None]
    current: bool
    fixtures_known: bool  # some fixture of the season is held, or its fixture list was fetched
    # Lookups several endpoints share (a run, the season's teams), read once per measurement.
    memo: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def keys(self) -> dict[str, Any]:
        """The query parameters naming this league season."""
        return {"league": self.league, "season": self.season}

    def lag(self, *moments: object) -> float | None:
        """Minutes since the newest of `moments` (None when there is none)."""
        times = [t for t in (as_datetime(m) for m in moments) if t is not None]
        if not times:
            return None
        return max(0.0, (self.now - max(times)).total_seconds() / 60)

    def run(self, endpoint: str) -> RawRun | None:
        """The latest whole-season fetch of `endpoint` for this league season (read once per measurement)."""
        key = ("run", endpoint)
        if key not in self.memo:
            self.memo[key] = latest_run(self.db, endpoint, self.league, self.season)
        return cast(RawRun | None, self.memo[key])


def open_season(db: Database, league: int, season: int, now: datetime, config: CoverageConfig) -> Season:
    """The league season with its coverage flags (unknown flags are None) and whether it is current."""
    row = db.fetchone(SEASON, {"league": league, "season": season, "yes": True, "no": False})
    flags = dict(zip(FLAG_COLUMNS, row[1:], strict=True)) if row else dict.fromkeys(FLAG_COLUMNS)
    current = bool(row[0]) if row and row[0] is not None else season >= guess_season(now)
    keys = {"league": league, "season": season}
    run = latest_run(db, "fixtures", league, season)
    known = run is not None or db.fetchone(ANY_FIXTURE, keys) is not None
    opened = Season(db, league, season, now, config, {k: _bool(v) for k, v in flags.items()}, current, known)
    opened.memo[("run", "fixtures")] = run
    return opened


def _bool(value: object) -> bool | None:
    return None if value is None else bool(value)


def fixtures(s: Season) -> Measure:
    """Fixtures held vs the size of the season's fixture list as the API last reported it."""
    held, updated = s.db.fetchone(FIXTURES, s.keys) or (0, None)
    run = s.run("fixtures")
    expected = max(run.items, int(held)) if run else None
    last = run.fetched_at if run else None
    newest = max((t for t in (last, as_datetime(updated)) if t is not None), default=None)
    checked = latest_date_call(s.db, "fixtures", s.league, newest) if held else None
    return Measure("fixtures", int(held), expected, s.lag(last, updated, checked), s.current, run,
                   detail={"listed": run.items if run else None, "list_fetched_at": _iso(last),
                           "date_checked_at": _iso(checked)})


def details(s: Season) -> list[Measure]:
    """Each detail part held for the season's finished fixtures (lag: the oldest one still waiting).

    A part the flags promise but the API answered `[]` is not held: it is re-checked on RECHECK_DAYS
    (counted per fixture), and once those are spent it is empty at source and no longer expected.
    """
    promised = {f"promised_{part}": s.flags.get(FLAGS[name]) is True for name, part in DETAIL_PARTS.items()}
    row = s.db.fetchone(DETAILS, s.keys | promised | {"rechecks": len(RECHECK_DAYS[s.current])})
    row = row or (0,) + (None,) * 16
    finished = int(row[0] or 0)
    found = []
    for i, (endpoint, part) in enumerate(DETAIL_PARTS.items()):
        held, source, empty = (int(value or 0) for value in row[1 + 4 * i:4 + 4 * i])
        oldest = as_datetime(row[4 + 4 * i])
        expected = finished - source
        waiting = None if not s.fixtures_known else 0.0 if held >= expected else s.lag(oldest)
        detail = {"finished": finished, "oldest_missing_kickoff": _iso(oldest), "flag": FLAGS[endpoint],
                  "promised": promised[f"promised_{part}"], "current": s.current,
                  "empty": empty, "empty_at_source": source}
        m = Measure(endpoint, held, expected if s.fixtures_known else None, waiting, s.current, detail=detail)
        if source and not expected and s.fixtures_known:
            m = replace(m, not_applicable=f"empty at source: {source} finished fixtures answered {part} empty "
                        f"{len(RECHECK_DAYS[s.current]) + 1} times although {FLAGS[endpoint]} is true; "
                        f"not asked again")
        found.append(m)
    return found


def season_teams(s: Season) -> int | None:
    """Teams in the season's fixtures; before any fixture, what /teams last listed; else unknown."""
    if "teams" not in s.memo:
        (count,) = s.db.fetchone(SEASON_TEAMS, s.keys) or (0,)
        run = None if count else s.run("teams")
        s.memo["teams"] = int(count) if count else run.items if run else None
    return cast(int | None, s.memo["teams"])


def teams(s: Season) -> Measure:
    """Team memberships of the season held vs the teams its fixtures name."""
    held, updated = s.db.fetchone(TEAM_SEASONS, s.keys) or (0, None)
    run = s.run("teams")
    return Measure("teams", int(held), season_teams(s), s.lag(run and run.fetched_at, updated), s.current, run)


def players(s: Season) -> Measure:
    """Teams with player season statistics vs the season's teams; paging of the last /players run."""
    teams_held, rows, updated = s.db.fetchone(PLAYERS, s.keys) or (0, 0, None)
    run = s.run("players")
    expected = season_teams(s)
    pages = run.total_pages if run else -(-(expected or 20) * PLAYERS_PER_TEAM // 20)
    detail = {"rows": int(rows), "pages_fetched": run.pages if run else 0, "pages": pages,
              "pages_estimated": run is None}
    # The whole list is as old as its last league-wide run: top scorers rewrite a few players' rows
    # every match day, and their newest row made a list weeks old look fresh, so it was never refetched.
    lag = s.lag(run.fetched_at if run else updated)
    return Measure("players", int(teams_held), expected, lag, s.current, run, detail=detail)


def _listing(s: Season, endpoint: str, sql: str) -> Measure:
    """A season-wide list (one call): held once fetched, even when the API had nothing to list."""
    row = s.db.fetchone(sql, s.keys) or (0, None)
    rows, updated = int(row[0]), row[-1]
    run = s.run(endpoint)
    detail: dict[str, Any] = {"rows": rows} | ({"groups": int(row[1])} if len(row) == 3 else {})
    held = 1 if rows or run else 0
    newest = max((t for t in (run.fetched_at if run else None, as_datetime(updated)) if t is not None), default=None)
    if endpoint in DATE_CHECKED and held:
        checked = latest_date_call(s.db, endpoint, s.league, newest)
        detail["date_checked_at"] = _iso(checked)
        newest = checked or newest
    lag = s.lag(newest)
    if endpoint in FOLLOW_MATCHES and newest is not None:
        lag, detail["source_changed_at"] = _unseen_change(s, newest)
    return Measure(endpoint, held, 1, lag, s.current, run, detail=detail)


def _unseen_change(s: Season, fetched: datetime) -> tuple[float, str | None]:
    """The lag of a list that follows the league's matches: 0 while no played fixture changed after
    `fetched`, else the minutes since the first such change (when the list went out of date)."""
    row = s.db.fetchone(PLAYED_SINCE, s.keys | {"since": fetched})
    changed = as_datetime(row[0]) if row else None
    return (0.0, None) if changed is None else (s.lag(changed) or 0.0, _iso(changed))


def odds(s: Season) -> Measure:
    """Upcoming fixtures within the odds window that have pre-match odds."""
    until = s.now + timedelta(days=s.config.odds_window_days)
    rows = s.db.fetchall(UPCOMING_ODDS, s.keys | {"now": s.now, "until": until})
    held = [r[1] for r in rows if r[1] is not None]
    run = s.run("odds")
    pages = run.total_pages if run else max(1, -(-len(rows) // 10))
    detail = {"window_days": s.config.odds_window_days, "pages": pages}
    return Measure("odds", len(held), len(rows) if s.fixtures_known else None, s.lag(run and run.fetched_at, *held),
                   s.current and bool(rows), run, detail=detail)


MEASURES: dict[str, Callable[[Season], Measure]] = {
    "fixtures": fixtures,
    "standings": lambda s: _listing(s, "standings", STANDINGS),
    "teams": teams,
    "players": players,
    "injuries": lambda s: _listing(s, "injuries", INJURIES),
    "odds": odds,
    "top_scorers": lambda s: _listing(s, "top_scorers", TOP_SCORERS),
}


def measure(s: Season, only: Collection[str] | None = None) -> list[Measure]:
    """Every configured endpoint of the league season (or those of them in `only`); those the flags or
    config rule out are marked."""
    wanted = [name for name in s.config.endpoints if only is None or name in only]
    found = [m for m in details(s) if m.endpoint in wanted] if any(p in wanted for p in DETAIL_PARTS) else []
    found += [MEASURES[name](s) for name in wanted if name in MEASURES]
    return [_applicable(s, _empty_answer(s, m)) for m in found]


def recheck_due(count: int, last: datetime | None, current: bool) -> datetime | None:
    """When an empty answer the flags contradict is asked again, after `count` such answers (the last at
    `last`): RECHECK_DAYS after the last one; None once they are spent (empty at source); with no
    answer on record, at once."""
    delays = RECHECK_DAYS[current]
    if count > len(delays):
        return None
    if count <= 0 or last is None:
        return datetime.min.replace(tzinfo=UTC)
    return last + timedelta(days=delays[count - 1])


def rechecks_left(count: int, current: bool) -> int:
    """Re-checks still to come after `count` empty answers."""
    return max(0, len(RECHECK_DAYS[current]) - count + 1)


def _empty_answer(s: Season, m: Measure) -> Measure:
    """A season-wide list the flags promise but the API answered empty: a gap, re-checked on RECHECK_DAYS,
    then `empty at source` (reported, no more calls). Held rows or unknown flags change nothing."""
    flag = FLAGS.get(m.endpoint)
    if m.endpoint not in EMPTY_CHECKED or not m.run or m.run.items or m.detail.get("rows") or \
            not flag or s.flags.get(flag) is not True:
        return m
    count, last = empty_answers(s.db, m.endpoint, s.league, s.season)
    if not count or last is None:
        return m
    due = recheck_due(count, last, s.current)
    detail = m.detail | {"empty_answers": count, "last_empty_at": _iso(last), "recheck_at": _iso(due),
                         "rechecks_left": rechecks_left(count, s.current), "flag": flag}
    if due is None:
        return replace(m, held=0, detail=detail, not_applicable=f"empty at source: {count} empty answers, the last "
                       f"on {last:%Y-%m-%d}, although {flag} is true; not asked again")
    return replace(m, held=0, detail=detail)


def _applicable(s: Season, m: Measure) -> Measure:
    target = s.config.target(s.league, s.season, m.endpoint)
    if target is not None and not target.enabled:
        return replace(m, not_applicable="disabled in the coverage config")
    flag = FLAGS.get(m.endpoint)
    if flag and s.flags.get(flag) is False:
        return replace(m, not_applicable=f"no API coverage: {flag} false")
    return m


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
