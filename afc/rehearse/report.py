"""The rehearsal's report: one row per simulated day, totals, the verdict in words, and whether it passed."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from afc.config.settings import PLANS

PLAN_ORDER = ("free", "pro", "ultra", "mega")


@dataclass
class DayReport:
    """One simulated UTC day."""

    day: date
    calls: int  # what afc's ledger counted as sent
    limit: int
    peak_minute: int
    sandbox_calls: int  # what the sandbox answered (faulted answers too; not its refusals of the daily limit)
    by_group: dict[str, int]
    failures: dict[str, int]
    coverage_pct: float
    lost: bool
    spent_at: datetime | None = None  # when the day's last call of the limit was answered
    rss_mb: float = 0.0
    cpu_seconds: float = 0.0  # the run's user + system CPU during this day (every job, the sandbox, the measuring)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self) | {"day": self.day.isoformat(),
                               "spent_at": self.spent_at.isoformat() if self.spent_at else None}


@dataclass
class Rehearsal:
    """The whole run: the days, totals, the peak RSS, the verdict and the reasons it failed (if it did)."""

    plan: str
    days: list[DayReport]
    target: float
    peak_rss_mb: float
    database: str
    wall_seconds: float
    # No skew: each day's two counts must be equal. With skew, a call near 00:00 UTC may fall on another day in
    # the ledger (the host's clock) than in the sandbox (its own): then the totals must be equal.
    strict_count: bool
    cpu_seconds: float = 0.0  # user + system CPU of the whole run (on a busy machine, wall time says little)
    reasons: list[str] = field(default_factory=list)
    verdict: str = ""

    @property
    def ok(self) -> bool:
        """Every rule held."""
        return not self.reasons

    def totals(self) -> dict[str, Any]:
        """Sums over the days."""
        groups: Counter = Counter()
        failures: Counter = Counter()
        for day in self.days:
            groups.update(day.by_group)
            failures.update(day.failures)
        return {"calls": sum(d.calls for d in self.days), "sandbox_calls": sum(d.sandbox_calls for d in self.days),
                "peak_day": max((d.calls for d in self.days), default=0),
                "peak_minute": max((d.peak_minute for d in self.days), default=0),
                "by_group": dict(groups), "failures": dict(failures), "lost_days": sum(d.lost for d in self.days)}

    def as_dict(self) -> dict[str, Any]:
        """The documented JSON shape (docs/rehearse.md)."""
        return {"plan": self.plan, "days": [d.as_dict() for d in self.days], "totals": self.totals(),
                "peak_rss_mb": round(self.peak_rss_mb, 1), "verdict": self.verdict, "ok": self.ok,
                "reasons": self.reasons, "database": self.database, "wall_seconds": round(self.wall_seconds, 1),
                "cpu_seconds": round(self.cpu_seconds, 1),
                "coverage_target": self.target}


def judge(report: Rehearsal) -> Rehearsal:
    """Fill in the reasons (each broken rule, day by day) and the verdict in words."""
    reasons = []
    for day in report.days:
        reasons += _day_reasons(day, report.strict_count)
    totals = report.totals()
    if not report.strict_count and totals["sandbox_calls"] != totals["calls"]:
        reasons.append(f"in all, the sandbox answered {totals['sandbox_calls']} calls but afc's ledger counted "
                       f"{totals['calls']}")
    tracebacks = sum(d.failures.get("traceback", 0) for d in report.days)
    if tracebacks:
        reasons.append(f"{tracebacks} runs ended in a traceback (see rehearse.log)")
    final = report.days[-1].coverage_pct if report.days else 0.0
    if final < report.target:
        reasons.append(f"coverage of the tracked current seasons ended at {final:.1f} %, "
                       f"below the {report.target:g} % target")
    report.reasons = reasons
    report.verdict = _verdict(report, final)
    return report


def _day_reasons(day: DayReport, strict: bool) -> list[str]:
    found = []
    refused = day.failures.get("refused_daily", 0)
    if refused or day.calls > day.limit or day.sandbox_calls > day.limit:
        found.append(f"{day.day}: over the limit: afc counted {day.calls}, the sandbox {day.sandbox_calls} "
                     f"of {day.limit}, and refused {refused} calls for the daily limit")
    elif day.spent_at is not None:
        found.append(f"{day.day}: the daily quota ran out at {day.spent_at:%H:%M} UTC")
    if day.lost:
        found.append(f"{day.day}: lost: the daily job collected nothing after 00:00 UTC")
    if strict and day.sandbox_calls != day.calls:
        found.append(f"{day.day}: the sandbox answered {day.sandbox_calls} calls but afc's ledger counted {day.calls}")
    return found


def _verdict(report: Rehearsal, coverage: float) -> str:
    limit = PLANS[report.plan][0]
    peak = max((d.calls for d in report.days), default=0)
    if report.ok:
        return f"{report.plan} suffices: peak day {peak:,} of {limit:,} calls; coverage {coverage:.1f} %"
    spent = [d for d in report.days if d.spent_at is not None or d.failures.get("refused_daily")]
    bigger = next((p for p in PLAN_ORDER[PLAN_ORDER.index(report.plan) + 1:]), None)
    if spent:
        times = sorted(f"{d.spent_at:%H:%M}" for d in spent if d.spent_at is not None)
        when = f" at {times[0]} UTC" if times else ""
        need = f": try {bigger}" if bigger else ": no bigger plan; track fewer leagues"
        return f"{report.plan} runs out{when} on {len(spent)} of {len(report.days)} days{need}"
    if any(d.lost for d in report.days):
        return f"{report.plan} has room, but afc lost {sum(d.lost for d in report.days)} days: a collector defect"
    if coverage < report.target:
        return (f"{report.plan} keeps within the limit (peak day {peak:,} of {limit:,}) but coverage reached "
                f"{coverage:.1f} %, below {report.target:g} %")
    return f"{report.plan} keeps within the limit but the run broke a rule: {report.reasons[0]}"
