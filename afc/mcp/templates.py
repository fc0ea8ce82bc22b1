"""Named, parameterised queries for common questions, run through the read-only executor.

SQL is written once in afc's dialect (PostgreSQL syntax, `core.x` names, `%(name)s` placeholders);
on SQLite it is translated like every other afc query. Values only ever travel as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from afc.clock import utc_day
from afc.collect import runs
from afc.config.settings import zone
from afc.errors import ConfigError
from afc.marts.live import SETTLE_AFTER
from afc.mcp.readonly import DEFAULT_LIMITS, Limits, QueryResult, ReadOnlyDb, run_afc_sql

ParamType = Literal["int", "text", "date", "zone"]


@dataclass(frozen=True)
class Param:
    """One template parameter."""

    name: str
    type: ParamType
    description: str
    default: Any = None
    required: bool = False
    low: Any = None  # inclusive bounds: an int, or a date for date parameters
    high: Any = None


@dataclass(frozen=True)
class Template:
    """A named query: what it answers, its parameters, its SQL."""

    name: str
    description: str
    sql: str
    params: tuple[Param, ...] = ()
    # Parameters computed from the given ones and the clock (e.g. a day's bounds).
    derive: Callable[[dict[str, Any], datetime], dict[str, Any]] = field(default=lambda p, now: {})


def _today(params: dict[str, Any], now: datetime) -> dict[str, Any]:
    day = params.get("day") or utc_day(now)
    start = datetime.combine(day, time(), UTC)
    return {"day": day, "start": start, "end": start + timedelta(days=1), "now": now}


def _local_day(params: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A day in `tz` (default: today there) as UTC bounds: 23 or 25 hours long on a DST change, and
    starting at 01:00 where midnight does not exist. The UTC match dates it spans narrow the index scan."""
    tz = zone(params["tz"])
    day = params.get("day") or now.astimezone(tz).date()
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    return {"day": day, "start": start, "end": end, "first_utc_day": utc_day(start), "last_utc_day": utc_day(end)}


def _since_hours(params: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"since": now - timedelta(hours=params["hours"])}


def _stale(params: dict[str, Any], now: datetime) -> dict[str, Any]:
    # The live panel's bound: a fixture still "live" this long after kick-off is unsettled, not in play.
    return {"stale_before": now - timedelta(minutes=params["stale_minutes"]), "settled_before": now - SETTLE_AFTER}


ID_MAX = 2**31 - 1  # API ids are PostgreSQL integers
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)
MAX_TEXT = 200


def _id(name: str, description: str, required: bool = False) -> Param:
    return Param(name, "int", description, required=required, low=1, high=ID_MAX)


def _season(description: str, required: bool = False) -> Param:
    return Param("season", "int", description, required=required, low=1900, high=2199)


LEAGUE = _id("league_id", "API league id, e.g. 39 (Premier League); omit for all")
SEASON = _season("season year, e.g. 2024; omit for all")
# Default: the server's AFC_DISPLAY_TZ. Timestamps (columns ending in _at) come back in this zone, with
# its offset: the same instant, read where the person is.
TZ = Param("tz", "zone", "IANA time zone for days and times, e.g. Europe/London; default the server's "
           "display zone (AFC_DISPLAY_TZ, else UTC)")

TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template("raw_vs_core_fixtures",
             "Per league season: fixtures the API listed (largest /fixtures?league&season answer in raw) "
             "vs fixtures held in core, and when each side last changed.",
             """
WITH api AS (
    SELECT CAST(params ->> 'league' AS integer) AS league_id, CAST(params ->> 'season' AS integer) AS season,
           count(*) AS responses, max(results) AS api_fixtures, max(fetched_at) AS last_fetched
    FROM raw.responses
    WHERE endpoint = 'fixtures' AND status = 200
      AND params ->> 'league' IS NOT NULL AND params ->> 'season' IS NOT NULL
    GROUP BY 1, 2
), held AS (
    SELECT league_id, season, count(*) AS core_fixtures, max(updated_at) AS last_updated
    FROM core.fixtures GROUP BY league_id, season
), seasons AS (
    SELECT league_id, season FROM api UNION SELECT league_id, season FROM held
)
SELECT s.league_id, l.name AS league_name, s.season, a.responses, a.api_fixtures,
       COALESCE(h.core_fixtures, 0) AS core_fixtures,
       a.api_fixtures - COALESCE(h.core_fixtures, 0) AS missing_in_core, a.last_fetched, h.last_updated
FROM seasons s
LEFT JOIN api a ON a.league_id = s.league_id AND a.season = s.season
LEFT JOIN held h ON h.league_id = s.league_id AND h.season = s.season
LEFT JOIN core.leagues l ON l.id = s.league_id
WHERE (CAST(%(league_id)s AS integer) IS NULL OR s.league_id = %(league_id)s)
  AND (CAST(%(season)s AS integer) IS NULL OR s.season = %(season)s)
ORDER BY s.league_id, s.season""", (LEAGUE, SEASON)),
    Template("coverage_by_league",
             "Per league season held in core: fixtures, finished ones, how many have events, lineups, "
             "statistics and player stats (with the API's coverage flags), and standings rows. A part the "
             "API answered empty ([]) is not counted as held (see mart.coverage_status).",
             """
SELECT f.league_id, l.name AS league_name, f.season, count(*) AS fixtures,
       sum(CASE WHEN f.status_group = 'finished' THEN 1 ELSE 0 END) AS finished,
       sum(CASE WHEN f.status_group = 'finished' AND d.events <> '[]' THEN 1 ELSE 0 END) AS with_events,
       sum(CASE WHEN f.status_group = 'finished' AND d.lineups <> '[]' THEN 1 ELSE 0 END) AS with_lineups,
       sum(CASE WHEN f.status_group = 'finished' AND d.statistics <> '[]' THEN 1 ELSE 0 END) AS with_statistics,
       sum(CASE WHEN f.status_group = 'finished' AND d.players <> '[]' THEN 1 ELSE 0 END) AS with_players,
       ls.cov_events, ls.cov_lineups, ls.cov_statistics_fixtures, ls.cov_statistics_players,
       (SELECT count(*) FROM core.standings s WHERE s.league_id = f.league_id AND s.season = f.season)
           AS standings_rows,
       max(f.updated_at) AS last_updated
FROM core.fixtures f
LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
LEFT JOIN core.leagues l ON l.id = f.league_id
LEFT JOIN core.league_seasons ls ON ls.league_id = f.league_id AND ls.season = f.season
WHERE (CAST(%(league_id)s AS integer) IS NULL OR f.league_id = %(league_id)s)
  AND (CAST(%(season)s AS integer) IS NULL OR f.season = %(season)s)
GROUP BY f.league_id, l.name, f.season, ls.cov_events, ls.cov_lineups, ls.cov_statistics_fixtures,
         ls.cov_statistics_players
ORDER BY f.league_id, f.season""", (LEAGUE, SEASON)),
    Template("live_fixtures_status",
             "Fixtures in play according to core, with score, minute, last event, and whether afc has "
             "not updated them for `stale_minutes` (the live loop may be behind). A fixture still in a live "
             "status 4 hours after kick-off is not in play: it is listed last as state 'unsettled' (stale 1).",
             """
SELECT f.id AS fixture_id, l.name AS league_name, ht.name AS home_team, at.name AS away_team,
       f.home_goals, f.away_goals, f.status_short, f.elapsed, f.extra,
       CASE WHEN f.kickoff_at < %(settled_before)s THEN NULL ELSE m.last_event END AS last_event, f.kickoff_at,
       f.updated_at,
       CASE WHEN f.updated_at < %(stale_before)s OR f.kickoff_at < %(settled_before)s THEN 1 ELSE 0 END AS stale,
       CASE WHEN f.kickoff_at < %(settled_before)s THEN 'unsettled' ELSE 'in_play' END AS state
FROM core.fixtures f
LEFT JOIN mart.live_scores m ON m.fixture_id = f.id
LEFT JOIN core.leagues l ON l.id = f.league_id
LEFT JOIN core.teams ht ON ht.id = f.home_team_id
LEFT JOIN core.teams at ON at.id = f.away_team_id
WHERE f.status_group = 'live'
ORDER BY CASE WHEN f.kickoff_at < %(settled_before)s THEN 1 ELSE 0 END, f.kickoff_at, f.id""",
             (Param("stale_minutes", "int", "minutes without an update after which a live fixture is stale", 5,
                    low=1, high=7 * 24 * 60), TZ),
             _stale),
    Template("team_form",
             "A team's last finished fixtures, newest first: opponent, venue, score and W/D/L "
             "(penalty shoot-outs count for the winner).",
             """
SELECT f.id AS fixture_id, f.kickoff_at, l.name AS league_name,
       CASE WHEN f.home_team_id = %(team_id)s THEN 'home' ELSE 'away' END AS venue,
       CASE WHEN f.home_team_id = %(team_id)s THEN at.name ELSE ht.name END AS opponent,
       f.home_goals, f.away_goals,
       CASE WHEN f.home_winner IS NULL AND f.away_winner IS NULL THEN 'D'
            WHEN (f.home_team_id = %(team_id)s AND f.home_winner = true)
              OR (f.away_team_id = %(team_id)s AND f.away_winner = true) THEN 'W'
            ELSE 'L' END AS result
FROM core.fixtures f
LEFT JOIN core.leagues l ON l.id = f.league_id
LEFT JOIN core.teams ht ON ht.id = f.home_team_id
LEFT JOIN core.teams at ON at.id = f.away_team_id
WHERE (f.home_team_id = %(team_id)s OR f.away_team_id = %(team_id)s) AND f.status_group = 'finished'
ORDER BY f.kickoff_at DESC, f.id DESC
LIMIT %(last)s""",
             (_id("team_id", "API team id, e.g. 33 (Manchester United)", required=True),
              Param("last", "int", "how many fixtures", 5, low=1, high=500), TZ)),
    Template("league_table",
             "The standings of a league season, per group, by rank.",
             """
SELECT s.group_name, s.rank, s.team_id, t.name AS team, s.points, s.played, s.win, s.draw, s.lose,
       s.goals_for, s.goals_against, s.goals_diff, s.form, s.description
FROM core.standings s LEFT JOIN core.teams t ON t.id = s.team_id
WHERE s.league_id = %(league_id)s AND s.season = %(season)s
ORDER BY s.group_name, s.rank""",
             (_id("league_id", "API league id, e.g. 39", required=True),
              _season("season year, e.g. 2024", required=True))),
    Template("todays_fixtures",
             "Fixtures on one day in time zone `tz` (default: today there) from the dashboard mart, by kickoff, "
             "with whether their lineups are confirmed and the prediction's advice; a fixture at 23:30 UTC is on "
             "the next day in Europe/London in summer.",
             """
SELECT fixture_id, kickoff_at, match_date AS utc_date, league_id, league_name, round, home_team, away_team,
       home_goals, away_goals, status_short, status_group, lineups_confirmed, prediction_advice
FROM mart.daily_fixtures
WHERE match_date BETWEEN %(first_utc_day)s AND %(last_utc_day)s
  AND kickoff_at >= %(start)s AND kickoff_at < %(end)s
  AND (CAST(%(league_id)s AS integer) IS NULL OR league_id = %(league_id)s)
ORDER BY kickoff_at, fixture_id""",
             (Param("day", "date", "the day in `tz` as YYYY-MM-DD; default today there", low=FIRST_DAY,
                    high=LAST_DAY), LEAGUE, TZ), _local_day),
    Template("todays_lineups",
             "Lineups of the fixtures on one day in time zone `tz` (default: today there): whether they are "
             "confirmed, when afc first saw them (minutes before kickoff), each side's formation and the lineups "
             "as the API sent them.",
             """
SELECT m.fixture_id, m.kickoff_at, m.league_name, m.home_team, m.away_team, m.status_short, m.lineups_confirmed,
       d.lineups_seen_at, d.lineups_before_kickoff_min, d.lineups -> 0 ->> 'formation' AS home_formation,
       d.lineups -> 1 ->> 'formation' AS away_formation, d.lineups
FROM mart.daily_fixtures m
LEFT JOIN core.fixture_details d ON d.fixture_id = m.fixture_id
WHERE m.match_date BETWEEN %(first_utc_day)s AND %(last_utc_day)s
  AND m.kickoff_at >= %(start)s AND m.kickoff_at < %(end)s
  AND (CAST(%(league_id)s AS integer) IS NULL OR m.league_id = %(league_id)s)
ORDER BY m.kickoff_at, m.fixture_id""",
             (Param("day", "date", "the day in `tz` as YYYY-MM-DD; default today there", low=FIRST_DAY,
                    high=LAST_DAY), LEAGUE, TZ), _local_day),
    Template("live_statistics",
             "Fixtures in play now with their latest statistics from the live panel: shots, shots on goal, "
             "possession (%) and expected goals per side, and when the statistics last changed.",
             """
SELECT fixture_id, league_name, home_team, away_team, home_goals, away_goals, status_short, elapsed,
       home_shots, away_shots, home_shots_on_goal, away_shots_on_goal, home_possession, away_possession,
       home_xg, away_xg, statistics_at
FROM mart.live_scores
WHERE (CAST(%(league_id)s AS integer) IS NULL OR league_id = %(league_id)s)
ORDER BY kickoff_at, fixture_id""", (LEAGUE,)),
    Template("recent_failures",
             "Job runs that did not end ok in the last `hours`, newest first, with their error.",
             runs.FAILED_SINCE,
             (Param("hours", "int", "how far back to look", 24, low=1, high=366 * 24), TZ), _since_hours),
    Template("quota_today",
             "Today's quota ledger per account (UTC day): limit, used, left, what the API last said.",
             """
SELECT account, day, daily_limit, used, daily_limit - used AS left_today, api_remaining, exhausted_at,
       parked_until, updated_at
FROM ops.quota_days WHERE day = %(day)s ORDER BY account""", (), _today),
    Template("top_scorers",
             "Top scorers of a league season as the API ranks them.",
             """
SELECT tp.rank, tp.player_id, p.name AS player, t.name AS team, tp.value AS goals
FROM core.top_players tp
LEFT JOIN core.players p ON p.id = tp.player_id
LEFT JOIN core.teams t ON t.id = tp.team_id
WHERE tp.league_id = %(league_id)s AND tp.season = %(season)s AND tp.kind = 'scorers'
ORDER BY tp.rank, tp.player_id""",
             (_id("league_id", "API league id", required=True), _season("season year", required=True))),
    Template("head_to_head",
             "Finished fixtures between two teams, newest first.",
             """
SELECT f.id AS fixture_id, f.kickoff_at, l.name AS league_name, ht.name AS home_team, at.name AS away_team,
       f.home_goals, f.away_goals, f.status_short
FROM core.fixtures f
LEFT JOIN core.leagues l ON l.id = f.league_id
LEFT JOIN core.teams ht ON ht.id = f.home_team_id
LEFT JOIN core.teams at ON at.id = f.away_team_id
WHERE f.status_group = 'finished'
  AND ((f.home_team_id = %(team_a)s AND f.away_team_id = %(team_b)s)
    OR (f.home_team_id = %(team_b)s AND f.away_team_id = %(team_a)s))
ORDER BY f.kickoff_at DESC, f.id DESC""",
             (_id("team_a", "API team id", required=True), _id("team_b", "API team id", required=True), TZ)),
    Template("odds_movement",
             "A fixture's pre-match odds from opening to closing (the last price before kick-off) per bookmaker, "
             "bet and selection: min, max, number of moves and the implied probability change (afc's history; "
             "the API keeps none).",
             """
SELECT fixture_id, bookmaker_id, bookmaker_name, bet_id, bet_name, value_label AS selection, opening_odd,
       opening_at, closing_odd, closing_at, min_odd, max_odd, moves, implied_change, kickoff_at
FROM mart.odds_movement
WHERE fixture_id = %(fixture_id)s
  AND (CAST(%(bookmaker_id)s AS integer) IS NULL OR bookmaker_id = %(bookmaker_id)s)
  AND (CAST(%(bet_id)s AS integer) IS NULL OR bet_id = %(bet_id)s)
ORDER BY bookmaker_id, bet_id, value""",
             (_id("fixture_id", "API fixture id", required=True), _id("bookmaker_id", "API bookmaker id, e.g. 8; "
                                                                       "omit for all"),
              _id("bet_id", "API bet id, e.g. 1 (Match Winner); omit for all"))),
    Template("table_at_round",
             "A league season's table (every group) as it stood after a round, as afc kept it; omit the round "
             "for the newest one held.",
             """
SELECT m.round, m.group_name, m.rank, m.team_id, m.team_name, m.played, m.win, m.draw, m.lose, m.goals_for,
       m.goals_against, m.goals_diff, m.points, m.form, m.description, m.as_of
FROM mart.table_by_round m
WHERE m.league_id = %(league_id)s AND m.season = %(season)s
  AND m.round = COALESCE(CAST(%(round)s AS integer), (SELECT max(x.round) FROM mart.table_by_round x
                                                      WHERE x.league_id = %(league_id)s AND x.season = %(season)s))
ORDER BY m.group_name, m.rank, m.team_id""",
             (_id("league_id", "API league id", required=True), _season("season year", required=True),
              Param("round", "int", "the matchday; omit for the newest kept", low=0, high=999))),
)}


def describe() -> list[dict[str, Any]]:
    """Every template with its description and parameters."""
    return [{"name": t.name, "description": t.description,
             "params": [{"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                         "description": p.description, **_bounds(p)} for p in t.params]}
            for t in TEMPLATES.values()]


def _bounds(param: Param) -> dict[str, Any]:
    if param.low is None:
        return {}
    return {"min": str(param.low) if param.type == "date" else param.low,
            "max": str(param.high) if param.type == "date" else param.high}


def bind(template: Template, given: Mapping[str, Any] | None, now: datetime,
         display_tz: str = "UTC") -> dict[str, Any]:
    """The template's parameters from `given` (checked and typed), defaults and derived values; a time
    zone parameter defaults to `display_tz`."""
    given = dict(given or {})
    unknown = sorted(set(given) - {p.name for p in template.params})
    if unknown:
        known = ", ".join(p.name for p in template.params) or "none"
        raise ConfigError(f"template {template.name}: unknown parameter {unknown[0]!r}; it takes {known}")
    values: dict[str, Any] = {}
    for param in template.params:
        value = given.get(param.name)
        if value is None and param.required:
            raise ConfigError(f"template {template.name}: parameter {param.name!r} is required ({param.description})")
        default = display_tz if param.type == "zone" else param.default
        values[param.name] = default if value is None else _in_range(template.name, param,
                                                                   _typed(template.name, param, value))
    try:
        return values | template.derive(values, now)
    except (OverflowError, ValueError) as exc:  # a last line behind the bounds: never a traceback
        raise ConfigError(f"template {template.name}: parameters out of range ({exc})") from None


def _in_range(name: str, param: Param, value: Any) -> Any:
    """`value` if it lies within the parameter's bounds, else a one-line error naming them."""
    if param.type == "text" and len(value) > MAX_TEXT:
        raise ConfigError(f"template {name}: parameter {param.name!r} is {len(value)} characters long; "
                          f"at most {MAX_TEXT}")
    if (param.low is not None and value < param.low) or (param.high is not None and value > param.high):
        shown = str(value) if len(str(value)) <= 40 else str(value)[:40] + "…"
        raise ConfigError(f"template {name}: parameter {param.name!r} must be between {param.low} and "
                          f"{param.high}, got {shown}")
    return value


def _typed(name: str, param: Param, value: Any) -> Any:
    try:
        if param.type == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            if isinstance(value, str) and len(value) > 40:  # int('9' * 10**6) is slow and pointless
                raise ValueError(value)
            return int(value)
        if param.type == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if param.type == "zone":
            return zone(str(value)[:MAX_TEXT]).key
        return str(value)
    except (TypeError, ValueError, OverflowError):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
        raise ConfigError(f"template {name}: parameter {param.name!r} must be {_TYPE_WORDS[param.type]}, "
                          f"got {shown}") from None


_TYPE_WORDS = {"int": "an integer", "date": "a date YYYY-MM-DD", "text": "text",
               "zone": "an IANA time zone such as UTC, Europe/London or America/Sao_Paulo"}


def run_template(target: ReadOnlyDb, name: str, params: Mapping[str, Any] | None, now: datetime,
                 limits: Limits = DEFAULT_LIMITS, display_tz: str = "UTC") -> QueryResult:
    """Run the named template with `params` through the read-only executor; timestamps in its `tz`."""
    if name not in TEMPLATES:
        raise ConfigError(f"no template {name!r}; known: {', '.join(TEMPLATES)}")
    template = TEMPLATES[name]
    values = bind(template, params, now, display_tz)
    result = run_afc_sql(target, template.sql, values, limits)
    return local_times(result, values["tz"]) if values.get("tz", "UTC") != "UTC" else result


def local_times(result: QueryResult, tz: str) -> QueryResult:
    """Timestamp columns (named *_at) as ISO 8601 in `tz` with its offset: the same instant and the same
    length as the UTC text, so the answer's byte cap still holds. Clipped or non-timestamp values stay."""
    where = zone(tz)
    stamps = [i for i, column in enumerate(result.columns) if column.endswith("_at")]
    for row in result.rows:
        for i in stamps:
            row[i] = _in_zone(row[i], where)
    return result


def _in_zone(value: Any, where: ZoneInfo) -> Any:
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone(where).isoformat() if moment.tzinfo else value
