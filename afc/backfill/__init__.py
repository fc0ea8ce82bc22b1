"""Backfill: plan what whole league seasons cost, then collect them resumably with the cheapest calls.

    targets = backfill.targets(["39"], ["2020-2022"], "fixtures,details", refresh=False)
    preview = backfill.preview(collector, targets, "LOW")     # the cost table; writes nothing
    backfill.start(collector, targets)                         # checkpointed tasks in ops.backfill_tasks
    report = backfill.run(collector, priority="LOW")           # until done or the quota floor

See docs/backfill.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from afc.backfill import tasks
from afc.backfill.kinds import parse_leagues, parse_seasons, parse_what
from afc.backfill.preview import BackfillSeason, Preview
from afc.backfill.preview import preview as _preview
from afc.backfill.run import BackfillReport, TaskEvent, log_event, open_plans, run
from afc.collect.collector import Collector
from afc.config.settings import PRIORITIES, Priority
from afc.errors import ConfigError

__all__ = ["BackfillReport", "Preview", "Order", "BackfillSeason", "TaskEvent", "check_priority", "execute",
           "log_event", "prepare", "preview", "resumable", "run", "start", "targets"]


def targets(leagues: list[str], seasons: list[str], what: str | None, *, refresh: bool = False) -> list[BackfillSeason]:
    """Every league × season asked for on the command line."""
    league_ids, years = parse_leagues(leagues), parse_seasons(seasons)
    if bool(league_ids) != bool(years):
        missing = "--season" if league_ids else "--league"
        raise ConfigError(f"backfill: {missing} is missing; give both --league and --season "
                          "(e.g. --league 39 --season 2022)")
    kinds = parse_what(what)
    return [BackfillSeason(league, season, kinds, refresh) for league in league_ids for season in years]


def check_priority(value: str) -> Priority:
    """`--priority` in upper case, or a one-line error."""
    upper = value.strip().upper()
    if upper not in PRIORITIES:
        raise ConfigError(f"--priority: must be one of {', '.join(PRIORITIES)}, got {value!r}")
    return upper


def resumable(collector: Collector) -> list[BackfillSeason]:
    """The active plans, as targets (what `--resume` continues)."""
    return [BackfillSeason(p.league, p.season, p.kinds, p.refresh) for p in tasks.active_plans(collector.db)]


def preview(collector: Collector, wanted: list[BackfillSeason], priority: Priority) -> Preview:
    """The plan's cost table against today's quota at `priority` (nothing is written)."""
    status = collector.ledger.status()
    floor = status.floors[priority]
    return _preview(collector.db, wanted, collector.now(), priority=priority,
                    available=collector.ledger.available(priority),
                    budget=max(0, status.daily_limit - floor))


def start(collector: Collector, wanted: list[BackfillSeason]) -> list[tasks.BackfillPlan]:
    """Checkpoint the targets' plans (joining any active plan of the same league season)."""
    return open_plans(collector.db, wanted, collector.now())


@dataclass
class Order:
    """What the command line asked for: targets, or gaps, or just resuming; and the plan's cost."""

    targets: list[BackfillSeason]
    resume: bool = False
    gaps: list | None = None
    preview: Preview | None = None


def prepare(collector: Collector, leagues: list[str], seasons: list[str], what: str | None, *,
            refresh: bool = False, resume: bool = False, from_gaps: bool = False,
            priority: Priority = "LOW") -> Order:
    """Read the command line's choice and price it (nothing is written)."""
    wanted = [] if from_gaps else targets(leagues, seasons, what, refresh=refresh)
    if not wanted and not resume and not from_gaps:
        raise ConfigError("backfill: give --league and --season (e.g. --league 39 --season 2022), "
                          "--from-gaps, or --resume to continue planned backfills")
    request = Order(wanted, resume)
    if from_gaps:
        from afc.backfill import gaps

        request.gaps = gaps.find(collector, parse_leagues(leagues), parse_seasons(seasons))
        shown = preview(collector, [], priority)
        request.preview = replace(shown, rows=gaps.rows(request.gaps))
    else:
        request.preview = preview(collector, wanted or resumable(collector), priority)
    return request


def execute(collector: Collector, wanted: list[BackfillSeason] | Order, *, priority: Priority, resume: bool = False,
            listener: object = None) -> BackfillReport:
    """Under the backfill group's lock: checkpoint the plans asked for, then run every active plan."""
    from afc.ops.guard import job_group

    request = wanted if isinstance(wanted, Order) else Order(wanted, resume)
    job_id = "backfill_resume" if request.resume and not request.targets else "backfill"  # the timer's job
    with job_group(collector, "backfill") as group:
        start(collector, request.targets)
        if request.gaps:
            from afc.backfill import gaps

            gaps.plan_gaps(collector, request.gaps)
        report = run(collector, priority=priority, job_id=job_id,
                     command=_command(request), listener=listener)  # type: ignore[arg-type]
        group.record([_GroupReport(job_id, report.status, report.error)])
    return report


def _command(request: Order) -> str:
    wanted = request.targets
    seasons = " ".join(f"{t.league}/{t.season}" for t in wanted[:5]) + (" ..." if len(wanted) > 5 else "")
    return ("backfill" + (" --from-gaps" if request.gaps is not None else "") + (" --resume" if request.resume else "")
            + (f" {seasons}" if seasons else ""))


class _GroupReport:
    """What the ops guard reads from a run (a quota stop is not a failure)."""

    def __init__(self, job_id: str, status: str, error: str | None):
        self.job_id, self.status, self.error = job_id, status, error
