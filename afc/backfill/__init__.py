"""Backfill: plan what whole league seasons cost, then collect them resumably with the cheapest calls.

    targets = backfill.targets(["39"], ["2020-2022"], "fixtures,details", refresh=False)
    preview = backfill.preview(collector, targets, "LOW")     # the cost table; writes nothing
    backfill.start(collector, targets)                         # checkpointed tasks in ops.backfill_tasks
    report = backfill.run(collector, priority="LOW")           # until done or the quota floor

See docs/backfill.md.
"""

from __future__ import annotations

from afc.backfill import tasks
from afc.backfill.kinds import parse_leagues, parse_seasons, parse_what
from afc.backfill.preview import Preview, Target
from afc.backfill.preview import preview as _preview
from afc.backfill.run import BackfillReport, TaskEvent, log_event, open_plans, run
from afc.collector import Collector
from afc.errors import ConfigError
from afc.settings import PRIORITIES, Priority

__all__ = ["BackfillReport", "Preview", "Target", "TaskEvent", "check_priority", "execute", "log_event", "preview",
           "resumable", "run", "start", "targets"]


def targets(leagues: list[str], seasons: list[str], what: str | None, *, refresh: bool = False) -> list[Target]:
    """Every league × season asked for on the command line."""
    league_ids, years = parse_leagues(leagues), parse_seasons(seasons)
    if bool(league_ids) != bool(years):
        missing = "--season" if league_ids else "--league"
        raise ConfigError(f"backfill: {missing} is missing; give both --league and --season "
                          "(e.g. --league 39 --season 2022)")
    kinds = parse_what(what)
    return [Target(league, season, kinds, refresh) for league in league_ids for season in years]


def check_priority(value: str) -> Priority:
    """`--priority` in upper case, or a one-line error."""
    upper = value.strip().upper()
    if upper not in PRIORITIES:
        raise ConfigError(f"--priority: must be one of {', '.join(PRIORITIES)}, got {value!r}")
    return upper  # type: ignore[return-value]


def resumable(collector: Collector) -> list[Target]:
    """The active plans, as targets (what `--resume` continues)."""
    return [Target(p.league, p.season, p.kinds, p.refresh) for p in tasks.active_plans(collector.db)]


def preview(collector: Collector, wanted: list[Target], priority: Priority) -> Preview:
    """The plan's cost table against today's quota at `priority` (nothing is written)."""
    status = collector.ledger.status()
    floor = status.floors[priority]
    return _preview(collector.db, wanted, collector.now(), priority=priority,
                    available=collector.ledger.available(priority),
                    budget=max(0, status.daily_limit - floor))


def start(collector: Collector, wanted: list[Target]) -> list[tasks.Plan]:
    """Checkpoint the targets' plans (joining any active plan of the same league season)."""
    return open_plans(collector.db, wanted, collector.now())


def execute(collector: Collector, wanted: list[Target], *, priority: Priority, resume: bool,
            listener: object = None) -> BackfillReport:
    """Under the backfill group's lock: checkpoint the targets' plans, then run every active plan."""
    from afc.ops.guard import job_group

    job_id = "backfill_resume" if resume and not wanted else "backfill"
    with job_group(collector, "backfill") as group:
        start(collector, wanted)
        report = run(collector, priority=priority, job_id=job_id, command=_command(wanted, resume),
                     listener=listener)  # type: ignore[arg-type]
        group.record([_GroupReport(job_id, report.status, report.error)])
    return report


def _command(wanted: list[Target], resume: bool) -> str:
    seasons = " ".join(f"{t.league}/{t.season}" for t in wanted[:5]) + (" ..." if len(wanted) > 5 else "")
    return "backfill" + (" --resume" if resume else "") + (f" {seasons}" if seasons else "")


class _GroupReport:
    """What the ops guard reads from a run (a quota stop is not a failure)."""

    def __init__(self, job_id: str, status: str, error: str | None):
        self.job_id, self.status, self.error = job_id, status, error
