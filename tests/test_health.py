"""`afc health` checks: each problem with its reason; checks for absent features are skipped."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from afc.collect.breaker import DbBreaker
from afc.collect.ledger import Ledger
from afc.config.jobs import JobConfig, load
from afc.config.settings import Floors
from afc.errors import ConfigError
from afc.ops import heartbeat
from afc.ops.health import check, columns
from tests.conftest import ROOT

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RUN = """
INSERT INTO ops.job_runs (job_id, command, status, started_at, finished_at)
VALUES (%s, 'test', %s, %s, %s)"""


@pytest.fixture
def ledger(db, clock) -> Ledger:
    return Ledger(db, clock, account="default", daily_limit=7500, minute_limit=300, floors=Floors())


def installed(db, at: datetime) -> None:
    with db.transaction():
        db.execute("UPDATE ops.schema_migrations SET applied_at = %s", (at,))


def run(db, job_id: str, status: str, finished: datetime) -> None:
    with db.transaction():
        db.execute(RUN, (job_id, status, finished - timedelta(minutes=1), finished))


@pytest.fixture
def config(tmp_path: Path) -> JobConfig:
    """The shipped bootstrap and ops files alone, so other groups' jobs do not change the expectations."""
    directory = tmp_path / "jobs"
    directory.mkdir()
    for name in ("bootstrap.yaml", "leagues.yaml", "ops.yaml"):
        shutil.copy(ROOT / "jobs" / name, directory / name)
    return load(directory)


def problems(db, ledger, config: JobConfig, only=None) -> list[tuple[str, str, str]]:
    report = check(db, NOW, config, ledger.status, only=only)
    return [(p.check, p.key, p.reason) for p in report.problems]


def test_a_fresh_install_is_healthy(db, ledger, config):
    installed(db, NOW - timedelta(hours=1))
    report = check(db, NOW, config, ledger.status)
    assert report.ok and report.problems == []
    assert report.ran == ["config", "migrations", "stale_jobs", "breakers", "quota", "coverage", "drift"]
    assert report.skipped == {"live": "the live loop has never run here",
                              "notify": "no notify targets (jobs/notify.yaml)"}


def test_stale_jobs_are_named_with_their_last_success(db, ledger, config):
    installed(db, NOW - timedelta(days=60))
    for job in ("bootstrap_timezone", "bootstrap_countries", "bootstrap_venues"):
        run(db, job, "ok", NOW - timedelta(days=40))  # monthly: stale after 2 x 31 days
    run(db, "bootstrap_leagues", "ok", NOW - timedelta(days=20))  # weekly: stale after 14 days
    run(db, "bootstrap_leagues", "failed", NOW - timedelta(days=1))
    run(db, "bootstrap_teams", "ok", NOW - timedelta(days=2))
    run(db, "maintenance_prune", "ok", NOW - timedelta(hours=5))
    run(db, "maintenance_backup", "ok", NOW - timedelta(days=3))
    assert problems(db, ledger, config, only=("stale_jobs",)) == [
        ("stale_job", "stale:bootstrap_leagues", "job bootstrap_leagues is stale: last success 2026-11-08 12:00 UTC, "
                                                 "expected every 7d (afc-bootstrap-weekly.timer)"),
        ("stale_job", "stale:maintenance_backup", "job maintenance_backup is stale: never succeeded"[:0]
         + "job maintenance_backup is stale: last success 2026-11-25 12:00 UTC, expected every 1d "
           "(afc-maintenance.timer)"),
    ]


def test_a_job_that_never_ran_is_stale_only_once_overdue_since_install(db, ledger, config):
    installed(db, NOW - timedelta(days=3))
    stale = [key for _, key, _ in problems(db, ledger, config, only=("stale_jobs",))]
    assert stale == ["stale:maintenance_prune", "stale:maintenance_backup"]  # daily timer, 2 days allowed
    reason = problems(db, ledger, config, only=("stale_jobs",))[0][2]
    assert reason == "job maintenance_prune is stale: never succeeded, expected every 1d (afc-maintenance.timer)"


def test_open_breakers_and_low_quota(db, ledger, clock, config):
    installed(db, NOW)
    DbBreaker(db, clock, threshold=1).record("fixtures", ok=False)
    with db.transaction():
        db.execute("INSERT INTO ops.quota_days (account, day, daily_limit, used, updated_at) "
                   "VALUES ('default', %s, 7500, 7200, %s)", (NOW.date(), NOW))
    assert problems(db, ledger, config, only=("breakers", "quota")) == [
        ("breaker_open", "breaker:fixtures", "circuit open for /fixtures after 1 consecutive failures"),
        ("quota_low", "quota", "quota nearly gone: 300 of 7500 calls left today (4.0% < 5%)"),
    ]
    ledger.exhaust(NOW.date())
    assert problems(db, ledger, config, only=("quota",))[0][2] == (
        "quota exhausted for 2026-11-28 (account default); resets at 00:00 UTC")


def test_coverage_critical_from_the_mart(db, ledger, config):
    with db.transaction():
        db.execute("INSERT INTO mart.coverage_status (league_id, season, endpoint, held, overall_pct, status, "
                   "computed_at, updated_at) VALUES (39, 2026, 'fixtures', 10, 20, 'critical', %(now)s, %(now)s), "
                   "(39, 2026, 'standings', 20, 90, 'ok', %(now)s, %(now)s)", {"now": NOW})
    assert problems(db, ledger, config, only=("coverage",)) == [
        ("coverage_critical", "coverage:39:2026:fixtures", "coverage critical for league 39 season 2026 /fixtures")]


def test_coverage_is_skipped_without_the_mart(db, ledger, config):
    with db.transaction():
        db.execute("DROP TABLE mart.coverage_status")
    assert check(db, NOW, config, ledger.status, only=("coverage",)).skipped == {
        "coverage": "mart.coverage_status does not exist yet"}


def test_live_loop_stalled_only_while_fixtures_are_in_play(db, ledger, config):
    heartbeat.beat(db, "live", NOW - timedelta(minutes=10))
    assert problems(db, ledger, config, only=("live",)) == []  # nothing in play
    with db.transaction():
        db.execute("INSERT INTO core.fixtures (id, league_id, status_group, kickoff_at, updated_at) "
                   "VALUES (1, 39, 'live', %s, %s)",
                   (NOW - timedelta(minutes=30), NOW))
    assert problems(db, ledger, config, only=("live",)) == [
        ("live_stalled", "live", "live loop stalled: last heartbeat 11:50:00 UTC, 1 fixtures in play; "
                                 "check `journalctl -u afc-live`")]
    heartbeat.beat(db, "live", NOW - timedelta(minutes=4))
    heartbeat.ticked(db, NOW - timedelta(minutes=1), 15)
    assert problems(db, ledger, config, only=("live",)) == []


def test_a_live_loop_that_beats_but_stores_no_tick_is_failing(db, ledger, config):
    """Alive (its back-off wakes it, it beats) but every tick fails: health says so while fixtures are in play."""
    with db.transaction():
        db.execute("INSERT INTO core.fixtures (id, league_id, status_group, kickoff_at, updated_at) "
                   "VALUES (1, 39, 'live', %s, %s)",
                   (NOW - timedelta(minutes=30), NOW))
    heartbeat.ticked(db, NOW - timedelta(minutes=7), 15)
    heartbeat.beat(db, "live", NOW - timedelta(seconds=20), "api-error")
    assert problems(db, ledger, config, only=("live",)) == [
        ("live_stalled", "live", "live loop failing: last tick 11:53:00 UTC, 1 fixtures in play, the loop is "
                                 "api-error; check `journalctl -u afc-live`")]
    heartbeat.ticked(db, NOW - timedelta(minutes=7), 240)  # the quota stretched the interval: two are allowed
    assert problems(db, ledger, config, only=("live",)) == []
    with db.transaction():
        db.execute("DELETE FROM ops.heartbeats WHERE name = 'live_tick'")
    assert problems(db, ledger, config, only=("live",))[0][2].startswith("live loop failing: no tick yet, ")
    with db.transaction():  # a league the loop does not follow is not its business
        db.execute("UPDATE core.fixtures SET league_id = 88")
    assert problems(db, ledger, config, only=("live",)) == []
    with db.transaction():  # the match ended: idle with nothing in play is healthy
        db.execute("UPDATE core.fixtures SET status_group = 'finished'")
    assert problems(db, ledger, config, only=("live",)) == []


def test_a_fixture_stuck_live_for_days_is_not_in_play(db, ledger, config):
    """A stale "live" record (kick-off + 4 h and more ago) must not keep the stall alert firing."""
    heartbeat.beat(db, "live", NOW - timedelta(minutes=10))
    with db.transaction():
        for fixture_id, ago in ((1, timedelta(days=400)), (2, timedelta(hours=5))):
            db.execute("INSERT INTO core.fixtures (id, league_id, status_group, kickoff_at, updated_at) "
                       "VALUES (%s, 39, 'live', %s, %s)", (fixture_id, NOW - ago, NOW - ago))
    assert problems(db, ledger, config, only=("live",)) == []


def test_drift_unacknowledged(db, ledger, config):
    drift = ("INSERT INTO ops.drift (endpoint, path, kind, seen_type, first_seen_at, last_seen_at, acknowledged_at) "
             "VALUES ('fixtures', %s, 'added', 'string', %s, %s, %s)")
    with db.transaction():
        db.execute(drift, ("response[].x", NOW, NOW, None))
        db.execute(drift, ("response[].y", NOW, NOW, NOW))
    assert problems(db, ledger, config, only=("drift",)) == [
        ("drift", "drift", "1 API drift findings unacknowledged; see `afc drift`")]


def test_pending_migrations_and_a_failing_check_are_reported(db, ledger, config):
    with db.transaction():
        db.execute("DELETE FROM ops.schema_migrations WHERE version = 5")
        db.execute("DROP TABLE ops.heartbeats")
    found = problems(db, ledger, config, only=("migrations", "live", "breakers"))
    assert found[0] == ("migrations_pending", "migrations", "migrations pending: 0005_ops; run `afc db migrate`")
    assert found[1][:2] == ("check_failed", "check:live")
    assert found[1][2].startswith("health check live failed: ")
    assert len(found) == 2  # breakers still ran, and found nothing


def test_columns_of_a_table(db):
    assert columns(db, "ops.heartbeats") == ["name", "beat_at", "status", "host", "pid"]
    assert columns(db, "mart.nothing_here") == []


def test_thresholds_come_from_the_ops_section(db, ledger, tmp_path: Path):
    tmp_path = tmp_path / "own"
    tmp_path.mkdir()
    (tmp_path / "ops.yaml").write_text("ops:\n  health: {quota_below_percent: 50}\n")
    assert problems(db, ledger, load(tmp_path), only=("quota",)) == []  # nothing used: 100% left
    with db.transaction():
        db.execute("INSERT INTO ops.quota_days (account, day, daily_limit, used, updated_at) "
                   "VALUES ('default', %s, 7500, 4000, %s)", (NOW.date(), NOW))
    assert problems(db, ledger, load(tmp_path), only=("quota",))[0][2] == (
        "quota nearly gone: 3500 of 7500 calls left today (46.7% < 50%)")


def test_a_broken_alerts_section_is_a_problem(db, ledger, config):
    (config.directory / "alerts.yaml").write_text("alerts:\n  webhook_url: hooks.example\n")
    assert problems(db, ledger, load(config.directory), only=("config",)) == [
        ("config", "config:alerts", f"{config.directory}/alerts.yaml: alerts.webhook_url: must be an http:// or "
                                    "https:// URL (the value is not shown: it is a secret)")]


def test_a_database_migrated_by_a_newer_afc_is_reported_and_refused(db, ledger, config):
    """Older code wrote to a database a newer afc had migrated (rows without what 0014 or 0016 expect), silently."""
    from afc.db.migrate import available, migrate

    latest = available(db.backend)[-1]
    with db.transaction():
        db.execute("INSERT INTO ops.schema_migrations (version, name, applied_at) VALUES (9999, 'from_the_future', %s)",
                   (NOW,))
    found = problems(db, ledger, config, only=("migrations",))
    why = (f"{db.url}: the schema is newer than this afc (applied: 9999_from_the_future; this afc knows up to "
           f"{latest.version:04d}_{latest.name}); upgrade afc on this host, or restore a backup from before "
           "the upgrade")
    assert found == [("schema_newer", "migrations", why)]
    with pytest.raises(ConfigError) as caught:
        migrate(db)
    assert str(caught.value) == why
