"""What coverage measures and reports: one league season's endpoint, raw figures and scores."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from afc.api.client import Request

STATUS_ORDER = {"critical": 0, "warning": 1, "ok": 2, "not_applicable": 3}


@dataclass(frozen=True)
class RawRun:
    """The latest successful whole-season fetch of one endpoint: when, and what its pages held."""

    fetched_at: datetime
    items: int
    quarantined: int
    pages: int = 1  # pages fetched in that run
    total_pages: int = 1  # the last page the API reported


@dataclass(frozen=True)
class Measure:
    """The raw figures behind one endpoint's coverage, before scoring."""

    endpoint: str
    held: int = 0
    expected: int | None = None  # None: the API has not told us yet
    lag_minutes: float | None = None  # None: nothing ever fetched
    timed: bool = True  # freshness is scored (a current season with something to keep fresh)
    run: RawRun | None = None  # the pipeline's source; None: not measured
    not_applicable: str | None = None  # why the endpoint does not apply, when it does not
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Coverage:
    """One row of `mart.coverage_status`: held vs expected, lag, pipeline, overall and status."""

    league_id: int
    season: int
    endpoint: str
    held: int
    expected: int | None
    count_pct: float | None
    lag_minutes: float | None
    freshness_pct: float | None
    pipeline_pct: float | None
    overall_pct: float | None
    status: str  # ok | warning | critical | not_applicable
    computed_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[Any, ...]:
        """Worst first: by status, then by overall score, then by name."""
        overall = self.overall_pct if self.overall_pct is not None else 101.0
        return STATUS_ORDER[self.status], overall, self.league_id, self.season, self.endpoint

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO strings."""
        return asdict(self) | {"computed_at": self.computed_at.isoformat()}


@dataclass(frozen=True)
class CoverageReport:
    """Every measured row, worst first, and the league names to show them with."""

    rows: list[Coverage]
    computed_at: datetime
    league_names: dict[int, str] = field(default_factory=dict)

    @property
    def critical(self) -> list[Coverage]:
        """Rows below the critical threshold (a timer alerts on these)."""
        return [r for r in self.rows if r.status == "critical"]

    @property
    def worst(self) -> str:
        """The worst status in the report (`ok` when there is nothing to report)."""
        statuses = [r.status for r in self.rows if r.status != "not_applicable"]
        return min(statuses, key=STATUS_ORDER.__getitem__) if statuses else "ok"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {"computed_at": self.computed_at.isoformat(), "worst": self.worst,
                "critical": len(self.critical), "rows": [r.as_dict() for r in self.rows]}


@dataclass(frozen=True)
class Gap:
    """What one league season's endpoint is missing, as the cheapest calls that would fill it.

    `requests` are first pages: a paged endpoint (/players, /odds) must be collected to its last
    page (`afc.collect.step.collect`), and `calls` counts the pages it is expected to take. A `details`
    gap with no requests (and 0 calls) stands for the finished fixtures of a fixture list that is
    itself a gap: plan their `ids=` calls once that list is in.
    """

    league_id: int
    season: int
    endpoint: str
    requests: list[Request]
    calls: int
    reason: str
    rechecks: tuple[int, ...] = ()  # details: fixtures asked again because a promised part came back empty

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: requests as their URL paths."""
        return {"league_id": self.league_id, "season": self.season, "endpoint": self.endpoint,
                "requests": [str(r) for r in self.requests], "calls": self.calls, "reason": self.reason}
