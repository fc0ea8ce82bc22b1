"""Shared pieces of the MCP tests: a restricted PostgreSQL role, seeded data, database snapshots."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp.types import CallToolResult, TextContent

from afc.db import Database, connect, dump_json
from afc.mcp.readonly import ReadOnlyDb
from afc.mcp.role import apply_setup, resolve
from tests.conftest import scalar

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
AT = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    """The MCP SDK runs on anyio; the tests use asyncio."""
    return "asyncio"


@pytest.fixture(scope="module")
def module_pg_url(pg_admin: str) -> Iterator[str]:
    """A migrated PostgreSQL database shared by one test module (for tests that change nothing)."""
    import psycopg

    from tests.conftest import PG_ADMIN

    name = f"afc_mcp_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_admin}"')
    yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def module_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file shared by one test module."""
    from afc.db.migrate import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('mcp') / 'afc.db'}"
    db = connect(url)
    migrate(db)
    db.close()
    return url


@pytest.fixture(scope="session")
def ai_role() -> Iterator[str]:
    """A restricted role for this test session (roles are cluster-wide, so the name is unique)."""
    import psycopg

    from tests.conftest import PG_ADMIN, postgres_reachable

    # Only the PostgreSQL cases create the role; the SQLite ones just pass its name, so this fixture does not
    # ask for the server (a test that uses it stays a SQLite test when no server runs).
    name = f"afc_ai_t{os.getpid()}"
    yield name
    if postgres_reachable():
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def text_of(result: CallToolResult) -> str:
    """The text parts of a tool's answer, joined (empty when it has none)."""
    return "".join(part.text for part in result.content if isinstance(part, TextContent))


def restricted_target(url: str, role: str) -> ReadOnlyDb:
    """Set up the restricted role in the database at `url` and resolve the server's target."""
    assert apply_setup(url, role) == []
    resolved = resolve(url, role)
    assert resolved.mode == "switch" and resolved.target.role == role
    return resolved.target


def login_url(url: str, role: str) -> str:
    """`url` with the user replaced by `role` (trust authentication on the test server)."""
    import psycopg

    from tests.conftest import PG_ADMIN

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'ALTER ROLE "{role}" LOGIN')
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"


def sqlite_target(url: str) -> ReadOnlyDb:
    """The read-only target of a SQLite URL."""
    from afc.config.settings import load_settings
    from afc.mcp.server import open_target

    return open_target(load_settings({}, database_url=url))


def seed(db: Database) -> None:
    """A small league: teams, fixtures (finished, live, today), details, standings, marts, ops rows."""
    with db.transaction():
        raw_id = scalar(
            db, "INSERT INTO raw.responses (endpoint, params, status, headers, body, results, fetched_at) "
            "VALUES ('fixtures', %(params)s, 200, '{}', '{}', 5, %(at)s) RETURNING id",
            {"params": dump_json({"league": "39", "season": "2024"}), "at": AT})
        db.execute("INSERT INTO core.leagues (id, name, type, updated_at) "
                   "VALUES (39, 'Premier League', 'League', %s)", (AT,))
        db.execute("INSERT INTO core.league_seasons (league_id, season, current, cov_events, cov_lineups, "
                   "cov_statistics_fixtures, cov_statistics_players, updated_at) "
                   "VALUES (39, 2024, true, true, true, true, false, %s)", (AT,))
        for team_id, name in ((33, "Manchester United"), (34, "Newcastle"), (40, "Liverpool")):
            db.execute("INSERT INTO core.teams (id, name, updated_at) VALUES (%s, %s, %s)", (team_id, name, AT))
        fixtures = [  # id, home, away, kickoff, status, group, home goals, away goals, home winner, away winner
            (1001, 33, 34, datetime(2026, 11, 1, 15, tzinfo=UTC), "FT", "finished", 2, 0, True, False),
            (1002, 40, 33, datetime(2026, 11, 8, 15, tzinfo=UTC), "FT", "finished", 1, 1, None, None),
            (1003, 34, 33, datetime(2026, 11, 15, 15, tzinfo=UTC), "PEN", "finished", 1, 1, True, False),
            (1004, 33, 40, datetime(2026, 11, 28, 11, tzinfo=UTC), "2H", "live", 1, 0, None, None),
            (1005, 34, 40, datetime(2026, 11, 28, 17, 30, tzinfo=UTC), "NS", "scheduled", None, None, None, None),
        ]
        for fid, home, away, kickoff, short, group, hg, ag, hw, aw in fixtures:
            db.execute(
                "INSERT INTO core.fixtures (id, league_id, season, round, kickoff_at, status_short, status_group, "
                "elapsed, home_team_id, away_team_id, home_goals, away_goals, home_winner, away_winner, "
                "updated_at, raw_id) VALUES (%(id)s, 39, 2024, 'Regular Season - 1', %(k)s, %(s)s, %(g)s, "
                "%(el)s, %(h)s, %(a)s, %(hg)s, %(ag)s, %(hw)s, %(aw)s, %(u)s, %(raw)s)",
                {"id": fid, "k": kickoff, "s": short, "g": group, "el": 67 if group == "live" else None,
                 "h": home, "a": away, "hg": hg, "ag": ag, "hw": hw, "aw": aw,
                 "u": datetime(2026, 11, 28, 11, 50, tzinfo=UTC) if group == "live" else AT, "raw": raw_id})
            db.execute("INSERT INTO mart.daily_fixtures (fixture_id, match_date, kickoff_at, league_id, league_name, "
                       "season, home_team_id, away_team_id, home_goals, away_goals, status_short, status_group, "
                       "updated_at) VALUES (%s, %s, %s, 39, 'Premier League', 2024, %s, %s, %s, %s, %s, %s, %s)",
                       (fid, kickoff.date(), kickoff, home, away, hg, ag, short, group, AT))
        db.execute("UPDATE mart.daily_fixtures SET home_team = 'Manchester United' WHERE home_team_id = 33")
        db.execute("UPDATE mart.daily_fixtures SET away_team = 'Liverpool' WHERE away_team_id = 40")
        db.execute("INSERT INTO core.fixture_details (fixture_id, events, lineups, updated_at) "
                   "VALUES (1001, %s, '[]', %s)", (dump_json([{"type": "Goal", "time": {"elapsed": 10}}]), AT))
        db.execute("INSERT INTO mart.live_scores (fixture_id, league_id, home_team, away_team, home_goals, away_goals, "
                   "status_short, elapsed, last_event, updated_at) VALUES (1004, 39, 'Manchester United', "
                   "'Liverpool', 1, 0, '2H', 67, '52'' Goal: B. Fernandes (Manchester United)', %s)", (AT,))
        # The match day (#18): the live fixture's statistics on the panel, its lineups first seen 31 min before
        # kickoff, the evening fixture's prediction.
        db.execute("UPDATE mart.live_scores SET home_shots = 11, away_shots = 4, home_shots_on_goal = 5, "
                   "away_shots_on_goal = 1, home_possession = 58, away_possession = 42, home_xg = 1.5, "
                   "away_xg = 0.25, statistics_at = %s WHERE fixture_id = 1004", (AT,))
        lineups = [{"team": {"id": team}, "formation": shape, "startXI": [{"player": {"id": 500}}]}
                   for team, shape in ((33, "4-2-3-1"), (40, "4-3-3"))]
        db.execute("INSERT INTO core.fixture_details (fixture_id, lineups, lineups_seen_at, "
                   "lineups_before_kickoff_min, updated_at) VALUES (1004, %s, %s, 31, %s)",
                   (dump_json(lineups), datetime(2026, 11, 28, 10, 29, tzinfo=UTC), AT))
        db.execute("UPDATE mart.daily_fixtures SET lineups_confirmed = (fixture_id = 1004), "
                   "prediction_advice = CASE WHEN fixture_id = 1005 THEN 'Double chance : draw or Liverpool' END "
                   "WHERE match_date = %s", (date(2026, 11, 28),))
        for rank, team_id, points in ((1, 33, 4), (2, 40, 2), (3, 34, 1)):
            db.execute("INSERT INTO core.standings (league_id, season, group_name, team_id, rank, points, played, "
                       "updated_at) VALUES (39, 2024, 'Premier League', %s, %s, %s, 3, %s)",
                       (team_id, rank, points, AT))
        db.execute("INSERT INTO core.players (id, name, updated_at) VALUES (500, 'B. Fernandes', %s)", (AT,))
        db.execute("INSERT INTO core.top_players (league_id, season, kind, player_id, rank, team_id, value, "
                   "updated_at) VALUES (39, 2024, 'scorers', 500, 1, 33, 7, %s)", (AT,))
        coverage = (("fixtures", 5, 5, 100, "ok"), ("standings", 3, 20, 15, "critical"))
        for endpoint, held, expected, pct, state in coverage:
            db.execute("INSERT INTO mart.coverage_status (league_id, season, endpoint, held, expected, count_pct, "
                       "overall_pct, status, computed_at, updated_at) "
                       "VALUES (39, 2024, %s, %s, %s, %s, %s, %s, %s, %s)",
                       (endpoint, held, expected, pct, pct, state, AT, AT))
        db.execute("INSERT INTO ops.quota_days (account, day, daily_limit, used, api_remaining, updated_at) "
                   "VALUES ('default', %s, 7500, 120, 7380, %s)", (date(2026, 11, 28), AT))
        db.execute("INSERT INTO ops.quota_minutes (account, minute, minute_limit, used) "
                   "VALUES ('default', %s, 300, 7)", (NOW,))
        for job, status, calls, error in (("bootstrap_countries", "ok", 1, None),
                                          ("bootstrap_leagues", "failed", 2, "api: bad gateway"),
                                          ("bootstrap_leagues", "ok", 1, None)):
            db.execute("INSERT INTO ops.job_runs (job_id, command, status, started_at, finished_at, calls, error) "
                       "VALUES (%s, 'bootstrap', %s, %s, %s, %s, %s)", (job, status, AT, AT, calls, error))
        db.execute("INSERT INTO ops.job_runs (job_id, command, status, started_at, finished_at, calls, error) "
                   "VALUES ('daily_fixtures', 'daily', 'failed', %s, %s, 3, 'quota: floor')",
                   (datetime(2026, 11, 27, 9, tzinfo=UTC), datetime(2026, 11, 27, 9, 1, tzinfo=UTC)))
        for path, kind, seen, acked in (("fixture.status.extra", "type_changed", "str", None),
                                        ("league.flag", "missing", "absent", AT)):
            db.execute("INSERT INTO ops.drift (endpoint, path, kind, expected_type, seen_type, first_seen_at, "
                       "last_seen_at, example_raw_id, count, acknowledged_at) "
                       "VALUES ('fixtures', %s, %s, 'int', %s, %s, %s, 1, 2, %s)",
                       (path, kind, seen, AT, NOW if acked is None else AT, acked))
        for endpoint, state, failures in (("fixtures", "open", 5), ("teams", "closed", 2)):
            db.execute("INSERT INTO ops.breakers (endpoint, state, failures, opened_at, last_error_at, updated_at) "
                       "VALUES (%s, %s, %s, %s, %s, %s)", (endpoint, state, failures, AT, AT, AT))


_SEEDED: set[str] = set()


def seeded(url: str) -> None:
    """Seed the database at `url`, once. A module's databases outlive the parametrised fixture that seeds them:
    when a worker's tests switch backend and back (pytest-xdist hands them out in any order), pytest sets that
    fixture up again over the same database, which must not be seeded twice."""
    if url in _SEEDED:
        return
    db = connect(url)
    try:
        seed(db)
    finally:
        db.close()
    _SEEDED.add(url)


# --- snapshots: the database before and after must be identical --------------------------------

PG_RELATIONS = """
SELECT n.nspname, c.relname, c.relkind, coalesce(c.relacl::text, '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1, 2"""
PG_TABLES = """
SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('raw', 'core', 'mart', 'ops') AND c.relkind IN ('r', 'p') ORDER BY 1"""
PG_STATE = {
    "roles": "SELECT rolname, rolsuper, rolcanlogin, rolinherit, rolcreaterole, rolcreatedb, rolconfig::text "
             "FROM pg_roles WHERE rolname IN ('postgres', %(role)s) ORDER BY 1",
    "members": "SELECT roleid::regrole::text, member::regrole::text FROM pg_auth_members "
               "WHERE member = to_regrole(%(role)s) OR roleid = to_regrole(%(role)s) ORDER BY 1, 2",
    "role_settings": "SELECT setrole, setconfig::text FROM pg_db_role_setting "
                     "WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1",
    "file_settings": "SELECT name, setting, applied FROM pg_file_settings ORDER BY 1, 2",
    "function_acls": "SELECT oid::regprocedure::text, proacl::text FROM pg_proc WHERE proacl IS NOT NULL ORDER BY 1",
    "sequences": "SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2",
    "large_objects": "SELECT count(*) FROM pg_largeobject_metadata",
    "prepared": "SELECT count(*) FROM pg_prepared_xacts",
    "advisory_locks": "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                      "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    "extensions": "SELECT extname FROM pg_extension ORDER BY 1",
}


def snapshot(url: str, role: str | None = None) -> dict[str, Any]:
    """Everything that must not change: every row, relation, ACL, role, setting and lock."""
    if url.startswith("sqlite:"):
        return _sqlite_snapshot(Path(url.split(":///", 1)[1]))
    import psycopg

    from tests.conftest import PG_ADMIN

    admin = PG_ADMIN.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        state: dict[str, Any] = {"relations": conn.execute(PG_RELATIONS).fetchall()}
        for table in [r[0] for r in conn.execute(PG_TABLES)]:
            state[table] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
            ).fetchone()
        for name, sql in PG_STATE.items():
            state[name] = conn.execute(sql, {"role": role or ""}).fetchall()
    return state


def _sqlite_snapshot(path: Path) -> dict[str, Any]:
    def digest(p: Path) -> str:
        return hashlib.sha256(p.read_bytes() if p.exists() else b"").hexdigest()

    files = sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(("-wal", "-shm")))
    return {"db": digest(path), "wal": digest(Path(f"{path}-wal")), "files": files}
