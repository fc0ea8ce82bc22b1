"""The plan as a person reads it before spending: calls per kind (needed, done, held, skipped for
coverage), the quota left today after the priority floor, and how many days the rest would take.

Nothing here writes: `afc backfill --plan` must not leave a plan behind for a timer to run.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from afc.backfill import planner, tasks
from afc.backfill.kinds import IDS_PER_CALL, LEAGUES
from afc.db import Database
from afc.jobs.dry_run import pages

PLAYERS_PER_TEAM = 25  # players with statistics per club and season, for estimates only
DEFAULT_TEAMS = 20


@dataclass(frozen=True)
class BackfillSeason:
    """One league season to backfill, and what of it."""

    league: int
    season: int
    kinds: tuple[str, ...]
    refresh: bool = False


@dataclass(frozen=True)
class PlanRow:
    """Calls for one kind of one league season."""

    league: int
    season: int
    kind: str
    endpoint: str
    needed: int = 0
    done: int = 0
    held: int = 0
    skipped: int = 0
    failed: int = 0
    estimated: bool = False


@dataclass(frozen=True)
class Preview:
    """The whole plan with its cost against today's quota."""

    rows: list[PlanRow]
    priority: str
    available_today: int
    daily_budget: int
    notes: list[str] = field(default_factory=list)

    @property
    def needed(self) -> int:
        """Calls still to make."""
        return sum(r.needed for r in self.rows)

    @property
    def days(self) -> int | None:
        """UTC days the needed calls take at this priority (None: the floor leaves no budget)."""
        return days_needed(self.needed, self.available_today, self.daily_budget)


def days_needed(needed: int, available: int, budget: int) -> int | None:
    """Days to spend `needed` calls: today's `available`, then `budget` a day."""
    if needed <= 0:
        return 0
    if needed <= available:
        return 1
    if budget <= 0:
        return None
    return (1 if available > 0 else 0) + math.ceil((needed - available) / budget)


def preview(db: Database, targets: list[BackfillSeason], now: datetime, *, priority: str, available: int,
            budget: int) -> Preview:
    """The plan for `targets`, merged with what their active plans already did."""
    rows: list[PlanRow] = []
    notes: list[str] = []
    for target in targets:
        season_rows, season_notes = preview_season(db, target, now)
        rows.extend(season_rows)
        notes.extend(season_notes)
    return Preview(rows, priority, available, budget, notes)


def preview_season(db: Database, target: BackfillSeason, now: datetime) -> tuple[list[PlanRow], list[str]]:
    """Rows for one league season."""
    info = planner.facts(db, target.league, target.season, now.date())
    active = tasks.active_plan(db, target.league, target.season)
    done = tasks.tasks(db, active.id) if active else []
    rows, notes = [], []
    if info.flags is None:
        rows.append(_row(target, LEAGUES.name, LEAGUES.endpoint, _counts([t for t in done if t.kind == "leagues"])
                         or Counter(needed=1)))
        notes.append(f"league {target.league} season {target.season}: coverage flags unknown until "
                     f"/leagues?id={target.league} answers; estimates assume every kind exists")
    for spec in planner.season_specs(db, info, target.kinds, target.refresh):
        mine = [t for t in done if t.kind == spec.kind]
        if spec.kind == "players":
            rows.append(_players_row(db, target, info, spec, mine))
        else:
            counts = _counts(mine) or _counts([spec])
            rows.append(_row(target, spec.kind, spec.endpoint, counts))
    if "details" in target.kinds:
        rows.append(_details_row(db, target, info, active, [t for t in done if t.kind == "details"]))
    return rows, notes


def _counts(items: list) -> Counter:
    """Calls per column from task statuses (skipped ones by why)."""
    found: Counter = Counter()
    for item in items:
        column = {"pending": "needed", "done": "done", "failed": "failed"}.get(item.status)
        found[column or ("held" if item.note == "held" else "skipped")] += 1
    return found


def _row(target: BackfillSeason, kind: str, endpoint: str, counts: Counter, estimated: bool = False) -> PlanRow:
    return PlanRow(target.league, target.season, kind, endpoint, counts["needed"], counts["done"],
                   counts["held"], counts["skipped"], counts["failed"], estimated)


def _players_row(db: Database, target: BackfillSeason, info: planner.Facts, spec: planner.Spec,
                 mine: list[tasks.Task]) -> PlanRow:
    """Pages of /players: known once page 1 answered, else the last count seen or an estimate."""
    first = next((t for t in mine if t.page == 1), None)
    if first is None and spec.status == "skipped":
        column = "held" if spec.note == "held" else "skipped"
        return _row(target, "players", spec.endpoint, Counter({column: pages(db, spec.request)}))
    counts = _counts(mine)
    if first is not None and first.status == "done":
        return _row(target, "players", spec.endpoint, counts)
    seen = pages(db, spec.request)
    total = seen if seen > 1 else math.ceil((info.teams or DEFAULT_TEAMS) * PLAYERS_PER_TEAM / 20)
    counts["needed"] = max(0, total - counts["done"] - counts["failed"])
    return _row(target, "players", spec.endpoint, counts, estimated=seen <= 1)


def _details_row(db: Database, target: BackfillSeason, info: planner.Facts, active: tasks.BackfillPlan | None,
                 mine: list[tasks.Task]) -> PlanRow:
    """ids= batches: exact once the fixture list is in core, estimated from the team count before."""
    fresh = planner.details_plan(db, info, target.refresh)
    held = math.ceil(fresh.held / IDS_PER_CALL)
    if active is not None and active.details_planned:
        counts = _counts(mine)
        counts["held"] += held
        return _row(target, "details", "fixtures", counts)
    in_core = planner.fixtures_in_core(db, target.league, target.season)
    expected = len(fresh.specs) if in_core else math.ceil(_expected_fixtures(info) / IDS_PER_CALL)
    if not info.covers("details"):
        return _row(target, "details", "fixtures", Counter(skipped=expected), estimated=not in_core)
    estimated = not in_core or not info.over
    return _row(target, "details", "fixtures", Counter(needed=expected, held=held), estimated=estimated)


def _expected_fixtures(info: planner.Facts) -> int:
    """A double round robin for a league; a rough count for a cup."""
    teams = info.teams or DEFAULT_TEAMS
    return teams * 4 if info.cup else teams * (teams - 1)

