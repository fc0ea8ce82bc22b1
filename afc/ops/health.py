"""`afc health`: what needs a person, each problem with a one-line reason.

Checks: the alerts section readable, migrations pending, stale jobs (no successful run within
`stale_factor` x their timer's period), open breakers, quota nearly gone, coverage critical (when
`mart.coverage_status` exists), live loop stalled or failing while fixtures are in play (when it has
ever beaten), drift unacknowledged (when `ops.drift` exists), notify backlog and dead letters (when
notify has targets).
Each check runs on its own: one that cannot run is itself reported, the others still run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from afc.collect import breaker
from afc.collect import runs as job_runs
from afc.collect.ledger import QuotaStatus
from afc.config.jobs import JobConfig
from afc.config.live import followed
from afc.config.ops import OpsConfig, alerts_config, describe, ops_config
from afc.config.schedule import parse
from afc.db import Database, as_datetime
from afc.errors import AfcError, ConfigError
from afc.ops import heartbeat
from afc.ops.groups import timers

INSTALLED = "SELECT MIN(applied_at) FROM ops.schema_migrations"


@dataclass(frozen=True)
class Problem:
    """Something that needs a person: which check, a stable key (alerts dedup on it), why."""

    check: str
    key: str
    reason: str


@dataclass
class HealthReport:
    """Every problem found, the checks that ran and those skipped (with why)."""

    problems: list[Problem] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """Plain values for `--json`."""
        return {"ok": self.ok, "problems": [vars(p) for p in self.problems], "checks": self.ran,
                "skipped": self.skipped}


class Skip(Exception):
    """A check that does not apply to this install (its table or data is absent)."""


@dataclass(frozen=True)
class Probe:
    """What the checks look at."""

    db: Database
    now: datetime
    config: JobConfig
    ops: OpsConfig
    quota: Callable[[], QuotaStatus]


def columns(db: Database, qualified: str) -> list[str]:
    """A table's column names, or [] when the table does not exist."""
    schema, _, name = qualified.partition(".")
    if db.backend == "postgres":
        rows = db.fetchall("SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                           "AND table_name = %s ORDER BY ordinal_position", (schema, name))
    else:
        rows = db.fetchall("SELECT name FROM pragma_table_info(%s)", (f"{schema}_{name}",))
    return [r[0] for r in rows]


def check_migrations(probe: Probe) -> list[Problem]:
    from afc.db.migrate import newer_schema, pending

    if (why := newer_schema(probe.db)) is not None:
        return [Problem("schema_newer", "migrations", why)]
    waiting = pending(probe.db)
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in waiting)
    return [Problem("migrations_pending", "migrations", f"migrations pending: {names}; run `afc db migrate`")] \
        if waiting else []


def check_stale_jobs(probe: Probe) -> list[Problem]:
    runs = {r[0]: (as_datetime(r[1]), as_datetime(r[2])) for r in job_runs.last_per_job(probe.db)}
    row = probe.db.fetchone(INSTALLED)
    installed = as_datetime(row[0]) if row else None
    problems = []
    for timer in timers(probe.config):
        for job_id in timer.job_ids:
            own = probe.config.jobs.get(job_id)
            period = _period(timer.schedule.period, own.schedule if own else None)
            allowed = timedelta(seconds=period * probe.ops.health.stale_factor)
            last_ok = runs.get(job_id, (None, None))[0]
            since = last_ok or installed
            if since is not None and probe.now - since > allowed:
                seen = f"last success {last_ok:%Y-%m-%d %H:%M} UTC" if last_ok else "never succeeded"
                problems.append(Problem("stale_job", f"stale:{job_id}",
                                        f"job {job_id} is stale: {seen}, expected every {describe(period)} "
                                        f"(afc-{timer.name}.timer)"))
    return problems


def _period(timer_period: int, own: str | None) -> int:
    return max(timer_period, parse(own).period) if own else timer_period


def check_breakers(probe: Probe) -> list[Problem]:
    cooldown = probe.ops.breaker.cooldown_seconds
    return [Problem("breaker_open", f"breaker:{s.endpoint}",
                    f"circuit {s.state} for /{s.endpoint} after {s.failures} consecutive failures")
            for s in breaker.open_breakers(probe.db, cooldown)]


def check_quota(probe: Probe) -> list[Problem]:
    status = probe.quota()
    if status.exhausted:
        return [Problem("quota_low", "quota", f"quota exhausted for {status.day} (account {status.account}); "
                        f"resets at {status.resets_at:%H:%M} UTC")]
    percent = 100 * status.remaining_today / status.daily_limit if status.daily_limit else 0
    if percent < probe.ops.health.quota_below_percent:
        return [Problem("quota_low", "quota", f"quota nearly gone: {status.remaining_today} of "
                        f"{status.daily_limit} calls left today ({percent:.1f}% < "
                        f"{probe.ops.health.quota_below_percent:g}%)")]
    return []


def check_coverage(probe: Probe) -> list[Problem]:
    cols = columns(probe.db, "mart.coverage_status")
    if not cols:
        raise Skip("mart.coverage_status does not exist yet")
    if "status" in cols:
        where, params = "status = 'critical'", {}
    elif "overall" in cols:
        where, params = "overall < %(limit)s", {"limit": probe.ops.health.coverage_critical_percent}
    else:
        raise Skip("mart.coverage_status has neither a status nor an overall column")
    rows = probe.db.fetchall(f"SELECT league_id, season, endpoint FROM mart.coverage_status WHERE {where} "
                             "ORDER BY league_id, season, endpoint", params)
    return [Problem("coverage_critical", f"coverage:{lg}:{season}:{ep}",
                    f"coverage critical for league {lg} season {season} /{ep}") for lg, season, ep in rows]


def check_live(probe: Probe) -> list[Problem]:
    """While fixtures are in play: the loop beats (its process is alive) and stores ticks (matches are followed),
    each within `live_stall_minutes` (or two of its intervals, when the quota has stretched them). Idle with no
    match on is healthy however old the beat."""
    beat = heartbeat.last(probe.db, heartbeat.LIVE)
    if beat is None:
        raise Skip("the live loop has never run here")
    if not columns(probe.db, "core.fixtures"):
        return []
    playing = heartbeat.in_play(probe.db, probe.now, live_leagues(probe))
    if not playing.fixtures:
        return []
    limit = timedelta(minutes=probe.ops.health.live_stall_minutes)
    if probe.now - beat > limit:
        return [Problem("live_stalled", "live", f"live loop stalled: last heartbeat {beat:%H:%M:%S} UTC, "
                        f"{playing.fixtures} fixtures in play; check `journalctl -u afc-live`")]
    tick = heartbeat.last_tick(probe.db)
    kickoff = playing.since or probe.now  # no tick is due before the first kickoff in play
    since = max(tick.at, kickoff) if tick else kickoff
    allowed = max(limit, timedelta(seconds=2 * tick.interval)) if tick else limit
    if probe.now - since <= allowed:
        return []
    last = f"last tick {tick.at:%H:%M:%S} UTC" if tick else "no tick yet"
    return [Problem("live_stalled", "live", f"live loop failing: {last}, {playing.fixtures} fixtures in play, the "
                    f"loop is {heartbeat.state(probe.db, heartbeat.LIVE)}; check `journalctl -u afc-live`")]


def live_leagues(probe: Probe) -> list[int] | None:
    """The leagues the loop follows (None: all): those it recorded when it started, which `--leagues` may have set;
    the jobs files' only for a loop that recorded none (an afc before this)."""
    recorded = heartbeat.followed(probe.db)
    if recorded is None:
        return followed(probe.config)
    return None if recorded == "all" else recorded


def check_drift(probe: Probe) -> list[Problem]:
    if "acknowledged_at" not in columns(probe.db, "ops.drift"):
        raise Skip("ops.drift does not exist yet")
    from afc.collect.drift import unacknowledged

    count = unacknowledged(probe.db)
    return [Problem("drift", "drift", f"{count} API drift findings unacknowledged; see `afc drift`")] \
        if count else []


def check_notify(probe: Probe) -> list[Problem]:
    if not columns(probe.db, "ops.notify_deliveries"):
        raise Skip("ops.notify_deliveries does not exist yet")
    from afc.config.notify import notify_config
    from afc.notify import queue

    conf = notify_config(probe.config)
    if not conf.targets:
        raise Skip("no notify targets (jobs/notify.yaml)")
    limit = timedelta(minutes=conf.backlog_minutes)
    problems = []
    for c in queue.counts(probe.db):
        if c.oldest_pending is not None and probe.now - c.oldest_pending > limit:
            age = int((probe.now - c.oldest_pending).total_seconds() // 60)
            problems.append(Problem("notify_backlog", f"notify:{c.target}",
                                    f"{c.pending} events waiting for {c.target}, the oldest for {age} min; "
                                    "is `afc notify` running? see `afc notify status`"))
        if c.dead:
            problems.append(Problem("notify_dead", f"notify_dead:{c.target}",
                                    f"{c.dead} events dead-lettered for {c.target}; fix the receiver, then "
                                    "`afc notify replay --since ...`"))
    return problems


def check_config(probe: Probe) -> list[Problem]:
    try:
        alerts_config(probe.config)
    except ConfigError as exc:  # otherwise it would only show as a warning after each run
        return [Problem("config", "config:alerts", str(exc))]
    return []


CHECKS: dict[str, Callable[[Probe], list[Problem]]] = {
    "config": check_config,
    "migrations": check_migrations,
    "stale_jobs": check_stale_jobs,
    "breakers": check_breakers,
    "quota": check_quota,
    "coverage": check_coverage,
    "live": check_live,
    "drift": check_drift,
    "notify": check_notify,
}


def unreachable(exc: AfcError) -> HealthReport:
    """The report when the database cannot be opened or read: one problem, no check ran."""
    report = HealthReport()
    report.problems.append(Problem("database", "database", str(exc)))
    return report


def check(db: Database, now: datetime, config: JobConfig, quota: Callable[[], QuotaStatus],
          only: tuple[str, ...] | None = None) -> HealthReport:
    """Run every check (or `only` those) and collect the problems."""
    probe = Probe(db, now, config, ops_config(config), quota)
    report = HealthReport()
    for name, fn in CHECKS.items():
        if only is not None and name not in only:
            continue
        try:
            report.problems.extend(fn(probe))
            report.ran.append(name)
        except Skip as why:
            report.skipped[name] = str(why)
        except AfcError as exc:  # e.g. a table from a pending migration: report, keep checking
            report.problems.append(Problem("check_failed", f"check:{name}", f"health check {name} failed: {exc}"))
    return report
