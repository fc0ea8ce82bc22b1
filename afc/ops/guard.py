"""Run a job group the way an unattended host needs: locked, measured, and alerting.

    with job_group(collector, "daily") as run:
        run.record(run_jobs(collector, jobs, "daily"))

takes the group's lock (LockHeld → exit 75, nothing done), and when the block ends (also on an
error) rewrites the group's Prometheus textfile and sends alerts: failed jobs, open breakers, low
quota, critical coverage, a stalled live loop. Neither metrics nor alerts can fail the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from afc.collect import runs
from afc.collect.collector import Collector
from afc.config.ops import alerts_config
from afc.errors import AfcError, LockLost
from afc.ops import alerts, health, lock, metrics
from afc.ops.groups import MAINTENANCE_JOBS

log = logging.getLogger("afc.guard")
ALERT_CHECKS = ("breakers", "quota", "coverage", "live")


class Report(Protocol):
    """What the guard reads from a job report (afc.jobs.run.JobReport has it)."""

    job_id: str
    status: str
    error: str | None


@dataclass
class Outcome:
    """The report of a run that is not a collection job (prune, backup)."""

    job_id: str
    status: str = "ok"
    error: str | None = None


@dataclass
class GroupRun:
    """One run of a job group: the reports its jobs produced, or the error that stopped it."""

    group: str
    started: datetime
    reports: list[Report] = field(default_factory=list)
    error: str | None = None
    gauges: list[metrics.Sample] = field(default_factory=list)  # the group's own, besides its jobs' (live)

    def record(self, reports: Iterable[Any]) -> list[Any]:
        """Keep the reports of jobs run in this group; returns them for chaining."""
        found = list(reports)
        self.reports.extend(found)
        return found


@contextmanager
def job_group(collector: Collector, group: str) -> Iterator[GroupRun]:
    """Hold `group`'s lock around the block, then write metrics and send alerts."""
    settings = collector.settings
    with lock.hold(settings.data_dir, settings.db_url, group):
        run, lost = GroupRun(group, collector.now()), False
        try:
            yield run
        except LockLost:
            lost = True  # another run holds the group now: the metrics and alerts are its to write
            raise
        except AfcError as exc:
            run.error = str(exc)
            raise
        except BaseException:
            run.error = runs.INTERRUPTED
            raise
        finally:
            if not lost:
                after(collector, run)


@contextmanager
def tracked(collector: Collector, run: GroupRun, job_id: str, command: str) -> Iterator[Outcome]:
    """Record a non-collection task (prune, backup) in ops.job_runs so health and metrics see it."""
    outcome = Outcome(job_id)
    run_id = runs.start(collector.db, job_id, command, collector.now())
    try:
        yield outcome
    except AfcError as exc:
        outcome.status, outcome.error = "failed", str(exc)
        raise
    except BaseException:
        outcome.status, outcome.error = "interrupted", runs.INTERRUPTED
        raise
    finally:
        runs.finish(collector.db, run_id, outcome.status, collector.now(), outcome.error)
        run.reports.append(outcome)


def group_jobs(collector: Collector, run: GroupRun) -> list[str]:
    """The job ids whose metrics the group's file carries."""
    ids = [r.job_id for r in run.reports] + [j.job_id for j in collector.config.of_type(run.group)]
    if run.group == "maintenance":
        ids += MAINTENANCE_JOBS
    return list(dict.fromkeys(ids))


def after(collector: Collector, run: GroupRun) -> None:
    """Metrics, then alerts; each failure is logged and swallowed (the run's result stands)."""
    try:
        if collector.settings.metrics_dir is not None:
            metrics.write_group(collector.settings.metrics_dir, collector.db, run.group,
                                group_jobs(collector, run), collector.ledger.status(), run.gauges)
    except (AfcError, OSError) as exc:
        log.warning("metrics for %s not written: %s", run.group, exc)
    try:
        send_alerts(collector, run)
    except AfcError as exc:
        log.warning("alerts for %s not evaluated: %s", run.group, exc)


def send_alerts(collector: Collector, run: GroupRun) -> list[str]:
    """Alert on the run's failures and on the health problems that alert; returns the keys sent."""
    conf = alerts_config(collector.config)
    found = [alerts.job_failed(r.job_id, r.error) for r in run.reports if r.status == "failed"]
    if run.error:
        found.append(alerts.job_failed(run.group, run.error))
    report = health.check(collector.db, collector.now(), collector.config, collector.ledger.status,
                          only=ALERT_CHECKS)
    found += alerts.from_problems(report.problems, conf.kinds)
    found = [a for a in found if a.kind in conf.kinds]
    key = collector.settings.api_key
    return alerts.notify(collector.db, found, conf, collector.now(),
                         secrets=[key.get_secret_value()] if key else [],
                         credentials_dir=collector.settings.credentials_dir)
