"""Running jobs: expand each into requests, step through them, report what they did."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from afc.collect import runs
from afc.collect.collector import Collector
from afc.collect.step import Context, StepResult, collect
from afc.config.jobs import Job
from afc.db.upsert import Counts
from afc.errors import AfcError, AuthError, FatalApiError, ParameterError, PlanError, QuotaExhausted, UnreadableBody
from afc.jobs.expand import expand

log = logging.getLogger("afc.runner")



@dataclass
class JobReport:
    """What one job run did."""

    job_id: str
    status: str = "ok"  # ok | failed | quota | skipped
    requests: int = 0
    calls: int = 0
    counts: Counts = field(default_factory=Counts)
    quarantined: int = 0
    error: str | None = None
    run_id: int | None = None
    fatal: bool = False  # the key was rejected: no later job can succeed either
    resume_at: datetime | None = None  # when a quota stop ends (from the error, never recomputed)


def absorb(report: JobReport, result: StepResult) -> None:
    """Add one stored response to the report."""
    report.counts += result.counts
    report.quarantined += result.quarantined


def run_steps(ctx: Context, requests: list, report: JobReport) -> None:
    """Collect every request (all pages), adding each response to `report`. An answer refusing one request (its
    parameters, the plan's seasons, a body afc cannot hold) does not keep the job's other requests from landing:
    the first such error is raised once they are done."""
    refused: FatalApiError | None = None
    for request in requests:
        report.requests += 1
        try:
            for result in collect(ctx, request):
                absorb(report, result)
        except (ParameterError, PlanError, UnreadableBody) as exc:
            log.warning("%s: %s", report.job_id, exc)
            refused = refused or exc
    if refused is not None:
        raise refused


def run_job(collector: Collector, job: Job, command: str) -> JobReport:
    """One run of `job`: a run record, every request it expands to, a final status."""
    report = JobReport(job.job_id)
    requests = expand(job, collector.config, collector.db, collector.now())
    ctx = collector.context(job.job_id, command, job.priority)
    report.run_id = ctx.run_id
    try:
        run_steps(ctx, requests, report)
    except QuotaExhausted as exc:
        report.status, report.error, report.resume_at = "quota", str(exc), exc.resume_at
    except AfcError as exc:
        report.status, report.error, report.fatal = "failed", str(exc), isinstance(exc, AuthError)
    except BaseException:
        report.status, report.error = "interrupted", runs.INTERRUPTED
        raise
    finally:
        report.calls = runs.totals(collector.db, ctx.run_id).calls
        runs.finish(collector.db, ctx.run_id, report.status, collector.now(), report.error)
    log.info("%s: %s, %d calls, %d inserted, %d updated, %d unchanged", job.job_id, report.status,
             report.calls, report.counts.inserted, report.counts.updated, report.counts.unchanged)
    return report


def with_dependencies(collector: Collector, jobs: list[Job]) -> list[Job]:
    """`jobs` preceded by any dependency that has never run successfully."""
    wanted: dict[str, Job] = {}
    for job in jobs:
        for dep in _deps(collector, job):
            if dep.job_id not in wanted and not runs.has_succeeded(collector.db, dep.job_id):
                wanted[dep.job_id] = dep
        wanted[job.job_id] = job
    return list(wanted.values())


def _deps(collector: Collector, job: Job) -> list[Job]:
    found: list[Job] = []
    for dep_id in job.dependencies:
        dep = collector.config.job(dep_id)
        found.extend(d for d in _deps(collector, dep) if d not in found)
        if dep not in found:
            found.append(dep)
    return found


def run_jobs(collector: Collector, jobs: list[Job], command: str) -> list[JobReport]:
    """Run `jobs` in order; stop at a daily-quota stop or a fatal API error (bad key)."""
    reports = []
    for job in jobs:
        report = run_job(collector, job, command)
        reports.append(report)
        if report.status == "quota" or report.fatal:
            break
    return reports


def exit_status(reports: list[JobReport]) -> str:
    """The worst status: failed > quota > ok."""
    statuses = {r.status for r in reports}
    return "failed" if "failed" in statuses else "quota" if "quota" in statuses else "ok"
