"""Schema discovery for assistants: tables per layer, their columns, and one line on each.

The descriptions follow docs/schema.md; tables a later migration adds without an entry here are
still listed (with an empty description), because discovery reads the live catalog.
"""

from __future__ import annotations

from typing import Any

from afc.db.catalog import LAYERS, PG_COLUMNS, PG_TABLES, SQLITE_COLUMNS, SQLITE_TABLES
from afc.errors import ConfigError
from afc.mcp.readonly import Limits, ReadOnlyDb, run_query

DESCRIPTIONS: dict[str, str] = {
    "raw.responses": "Every API response, whole: endpoint, params, status, headers (never the key), body, "
                     "errors, results, paging, fetched_at, job_run_id.",
    "core.countries": "Countries, keyed by name (the API repeats codes): code, flag.",
    "core.timezones": "IANA timezone names the API accepts.",
    "core.leagues": "Leagues and cups: name, type, logo, country_name.",
    "core.league_seasons": "A league's seasons: dates, current flag and the API's coverage flags (cov_*).",
    "core.venues": "Stadiums: name, address, city, country, capacity, surface.",
    "core.teams": "Clubs and national teams: name, code, country, founded, venue_id.",
    "core.team_seasons": "Which teams play in which league season.",
    "core.fixtures": "Matches: league, season, round, kickoff_at (UTC), status (short/long/group), teams, "
                     "goals and the score by period, venue, referee.",
    "core.fixture_details": "Per fixture, the API's JSON arrays: events, lineups, statistics, players "
                            "(NULL = never fetched, [] = fetched and empty); lineups_seen_at and "
                            "lineups_before_kickoff_min: when confirmed lineups were first seen.",
    "core.fixture_team_stats": "Per fixture and team, the statistics with numbers parsed (shots, "
                               "possession, passes, expected_goals, ...).",
    "core.standings": "League tables: rank, points, goals, form, home/away splits, per group.",
    "core.players": "Players: name, age, birth, nationality, height, weight, injured.",
    "core.player_season_stats": "A player's season for one team in one league: appearances, minutes, "
                                "goals, assists, cards, passes, duels, rating, ...",
    "core.squads": "Current squads: team, player, number, position.",
    "core.injuries": "Players missing a fixture: type and reason.",
    "core.top_players": "Top scorers, assists, yellow and red cards per league season.",
    "core.odds": "Pre-match odds: bookmaker x bet x value, odd.",
    "core.team_statistics": "A team's season statistics in one league: form, results, goals, clean sheets.",
    "core.predictions": "The API's prediction per fixture: winner, advice, percentages.",
    "core.odds_history": "Every price move of an odd (append-only; one row per change, not per fetch): fixture, "
                         "bookmaker (0 = in-play feed), bet, value, odd, the API's update time, fetched_at, in_play.",
    "core.odds_live": "In-play odds of fixtures being played, as /odds/live last gave them.",
    "core.standings_history": "Each distinct table a league season showed (append-only): per group, round and "
                              "team, rank, points, goals, form, description, fetched_at.",
    "mart.daily_fixtures": "One row per fixture for dashboards: UTC match_date, local_date in the collector's "
                           "display zone local_tz, league and team names, score, status, lineups_confirmed, "
                           "prediction_advice.",
    "mart.live_scores": "Fixtures in play now: score, elapsed minutes, last event, the latest statistics "
                        "(shots, shots on goal, possession, xG per side; statistics_at).",
    "mart.odds_movement": "Per fixture, bookmaker, bet and selection: opening and closing (last before kick-off) "
                          "price and time, min, max, moves, implied probability change.",
    "mart.table_by_round": "The table after each round: the newest kept version per league, season, group, round.",
    "mart.league_summary": "Per league season: teams, fixtures played/total, goals per game, the leader.",
    "mart.coverage_status": "Coverage per league, season and endpoint: held vs expected, freshness, score.",
    "mart.coverage_settings": "The coverage thresholds and weights the last full report used.",
    "mart.coverage_empty_details": "Per finished fixture: how many answers had each detail part empty, and the "
                                   "last one (coverage re-checks parts the flags promise, then stops).",
    "ops.schema_migrations": "Applied database migrations.",
    "ops.quota_days": "The quota ledger per account and UTC day: limit, used, what the API says remains, "
                      "exhausted_at (spent for the day) or parked_until (a spent answer just after 00:00 UTC).",
    "ops.quota_minutes": "The per-minute quota ledger.",
    "ops.job_runs": "Every job or command run: status, start/finish, calls spent, rows written, error.",
    "ops.quarantine": "API items that failed validation, next to their raw response.",
    "ops.breakers": "Circuit breaker state per endpoint.",
    "ops.backfill_plans": "Backfill plans per league season.",
    "ops.backfill_tasks": "The checkpointed requests of each backfill plan.",
    "ops.alerts_sent": "Alerts sent, for the repeat window.",
    "ops.heartbeats": "Liveness beats of long-running services (the live loop).",
    "ops.drift": "Fields the API added, dropped or retyped.",
    "ops.export_watermarks": "How far `afc export` went per table and destination (directory, format, "
                             "league/season scope): the newest updated_at exported.",
}

_CATALOG = Limits(rows=1000, bytes=4 * 1024 * 1024, seconds=10.0)


def sql_name(target: ReadOnlyDb, logical: str) -> str:
    """How a logical table (`core.fixtures`) is named in SQL on this backend."""
    return logical.replace(".", "_", 1) if target.backend == "sqlite" else logical


def list_tables(target: ReadOnlyDb, layer: str | None = None) -> list[dict[str, Any]]:
    """Every table and view of afc's layers, with its SQL name and a one-line description."""
    if layer is not None and layer not in LAYERS:
        raise ConfigError(f"layer {layer!r}: use one of {', '.join(LAYERS)}")
    sql = SQLITE_TABLES if target.backend == "sqlite" else PG_TABLES
    found = run_query(target, sql, None, _CATALOG).rows
    tables = []
    for row_layer, name, kind in found:
        if layer is not None and row_layer != layer:
            continue
        logical = f"{row_layer}.{name}"
        tables.append({"table": logical, "sql_name": sql_name(target, logical), "layer": row_layer,
                       "kind": kind, "description": DESCRIPTIONS.get(logical, "")})
    return tables


def describe_table(target: ReadOnlyDb, table: str) -> dict[str, Any]:
    """One table's columns (name, type, nullable, primary key) and its description."""
    logical = table.replace("_", ".", 1) if "." not in table else table
    known = {t["table"]: t for t in list_tables(target)}
    if logical not in known:
        raise ConfigError(f"no table {table!r}; list_tables shows the tables (e.g. core.fixtures)")
    if target.backend == "sqlite":
        columns = run_query(target, SQLITE_COLUMNS, (sql_name(target, logical),), _CATALOG)
    else:
        columns = run_query(target, PG_COLUMNS, {"table": logical}, _CATALOG)
    described = [{"name": name, "type": kind, "nullable": bool(nullable), "primary_key": bool(key)}
                 for name, kind, nullable, key in columns.rows]
    return known[logical] | {"columns": described}


def overview(target: ReadOnlyDb) -> str:
    """The schema as Markdown, for the `afc://schema` resource."""
    lines = [f"# afc database ({target.backend})", "",
             "Tables are named `layer.table` on PostgreSQL and `layer_table` on SQLite. "
             "Timestamps are UTC.", ""]
    for table in list_tables(target):
        lines.append(f"- `{table['sql_name']}` ({table['kind']}): {table['description']}".rstrip(": "))
    return "\n".join(lines) + "\n"
