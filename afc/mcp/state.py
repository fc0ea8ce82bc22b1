"""Operational questions an assistant asks: coverage, the quota ledger, the jobs and their runs.

Every read goes through a read-only connection; nothing here writes.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict
from datetime import UTC, datetime, time
from typing import Any

from afc.clock import utc_day
from afc.collect import runs
from afc.collect.ledger import Ledger
from afc.config.jobs import JobConfig
from afc.config.settings import PRIORITIES, Settings
from afc.db import connect
from afc.db.sqlite import table_name
from afc.mcp.readonly import Limits, ReadOnlyDb, as_dicts, query_slot, run_afc_sql

COVERAGE_TABLE = "mart.coverage_status"
TABLE_EXISTS_PG = """
SELECT count(*) > 0 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(table)s"""  # to_regclass says NULL without USAGE
TABLE_EXISTS_SQLITE = "SELECT count(*) > 0 FROM sqlite_master WHERE type IN ('table', 'view') AND name = %(name)s"
COVERAGE = """
SELECT * FROM mart.coverage_status
WHERE league_id = %(league)s AND season = %(season)s
  AND (CAST(%(endpoint)s AS text) IS NULL OR endpoint = %(endpoint)s)
ORDER BY endpoint"""
DRIFT = """
SELECT id, endpoint, path, kind, expected_type, seen_type, first_seen_at, last_seen_at, example_raw_id, count,
       acknowledged_at
FROM ops.drift WHERE (%(all)s = 1 OR acknowledged_at IS NULL) ORDER BY last_seen_at DESC, id LIMIT 500"""
BREAKERS = "SELECT endpoint, state, failures, opened_at, last_error_at FROM ops.breakers ORDER BY endpoint"
_INTERNAL = Limits(rows=5000, bytes=8 * 1024 * 1024, seconds=10.0)


def table_exists(target: ReadOnlyDb, logical: str) -> bool:
    """Whether a logical table (`mart.coverage_status`) exists in this database."""
    if target.backend == "sqlite":
        result = run_afc_sql(target, TABLE_EXISTS_SQLITE, {"name": table_name(logical)}, _INTERNAL)
    else:
        schema, _, table = logical.partition(".")
        result = run_afc_sql(target, TABLE_EXISTS_PG, {"schema": schema, "table": table}, _INTERNAL)
    return bool(result.rows[0][0])


def coverage_status(target: ReadOnlyDb, league_id: int, season: int, endpoint: str | None = None) -> dict[str, Any]:
    """Coverage rows of one league season (optionally one endpoint), as `afc coverage` computed them."""
    if not table_exists(target, COVERAGE_TABLE):
        return {"computed": False, "rows": [],
                "message": "coverage has not been computed: this database has no mart.coverage_status yet "
                           "(run `afc coverage report` once coverage is installed)"}
    params = {"league": league_id, "season": season, "endpoint": endpoint.strip("/") if endpoint else None}
    rows = as_dicts(run_afc_sql(target, COVERAGE, params, _INTERNAL))
    message = None if rows else (f"no coverage rows for league {league_id} season {season}"
                                 + (f" endpoint {endpoint}" if endpoint else "")
                                 + "; run `afc coverage report` or check the league is tracked")
    return {"computed": True, "rows": rows, "message": message}


def rate_limit_status(settings: Settings, db_url: str, now_clock: Any) -> dict[str, Any]:
    """The quota ledger: used and left today and this minute, the floors, the reset time."""
    with query_slot():  # the ledger's connection counts against the session's few backends too
        db = connect(db_url, read_only=True)
        try:
            daily, minute = settings.limits
            ledger = Ledger(db, now_clock, account=settings.account, daily_limit=daily, minute_limit=minute,
                            floors=settings.priority_floors)
            # psycopg applies read_only only inside a transaction (the backend runs in autocommit).
            with db.transaction() if db.backend == "postgres" else nullcontext():
                status = asdict(ledger.status())
        finally:
            db.close()
    left = status["daily_limit"] - status["used_today"]
    status["available_by_priority"] = {p: max(0, left - status["floors"][p]) for p in PRIORITIES}
    status["minute_remaining"] = max(0, status["minute_limit"] - status["used_this_minute"])
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in status.items()}


def job_registry(target: ReadOnlyDb, config: JobConfig, now: datetime) -> dict[str, Any]:
    """Jobs from config with schedule and priority, their last run, its outcome, and calls spent today."""
    last = {r["job_id"]: r for r in as_dicts(run_afc_sql(target, runs.LAST_RUN_PER_JOB, None, _INTERNAL))}
    midnight = datetime.combine(utc_day(now), time(), UTC)
    today = {r["job_id"]: r for r in as_dicts(run_afc_sql(target, runs.RUNS_SINCE, {"since": midnight}, _INTERNAL))}
    jobs = []
    for job in config.ordered():
        spent = today.get(job.job_id, {})
        run = last.get(job.job_id)
        jobs.append({"job_id": job.job_id, "type": job.type, "enabled": job.enabled, "endpoint": "/" + job.endpoint,
                     "priority": job.priority, "schedule": job.schedule, "for_each": job.for_each,
                     "description": job.description, "last_run": _without(run, "job_id"),
                     "runs_today": spent.get("runs") or 0, "calls_today": spent.get("calls") or 0})
    others = sorted(set(last) - set(config.jobs))
    return {"jobs_dir": str(config.directory), "jobs": jobs,
            "other_runs": [last[j] for j in others], "day": utc_day(now).isoformat()}


def recent_runs(target: ReadOnlyDb, limit: int = 20, failed_only: bool = False) -> list[dict[str, Any]]:
    """The latest job runs, newest first; `failed_only` keeps runs that did not end ok."""
    params = {"failed": int(failed_only), "limit": limit}
    return as_dicts(run_afc_sql(target, runs.RECENT, params, _INTERNAL))


def _without(row: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    return None if row is None else {k: v for k, v in row.items() if k != key}


def schema_drift(target: ReadOnlyDb, include_acknowledged: bool = False) -> dict[str, Any]:
    """Fields the API added, dropped or retyped, as `afc drift` lists them (newest first)."""
    if not table_exists(target, "ops.drift"):
        return {"drift": [], "message": "no drift table in this database (run `afc db migrate`)"}
    rows = as_dicts(run_afc_sql(target, DRIFT, {"all": int(include_acknowledged)}, _INTERNAL))
    return {"drift": rows, "unacknowledged": sum(1 for r in rows if r["acknowledged_at"] is None)}


def circuit_breakers(target: ReadOnlyDb) -> dict[str, Any]:
    """Every endpoint's circuit breaker (open ones stop calls until their cool-down ends)."""
    rows = as_dicts(run_afc_sql(target, BREAKERS, {}, _INTERNAL))
    return {"breakers": rows, "open": [r["endpoint"] for r in rows if r["state"] != "closed"]}
