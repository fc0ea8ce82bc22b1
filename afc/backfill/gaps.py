"""`afc backfill --from-gaps`: the coverage report's gaps (afc.coverage.gaps) as checkpointed tasks.

A gap's calls are planned as they are, pending even where backfill's own rules would call the data
held (a gap is data coverage found missing or stale). Details wait for the fixture list when that is
a gap too, so they are cut from the fresh list; paged gaps plan their first page and grow from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from afc.api.client import PAGED, Request
from afc.backfill import planner, tasks
from afc.backfill.kinds import KINDS
from afc.backfill.preview import PlanRow
from afc.collect.collector import Collector
from afc.marts.coverage.model import Gap

# coverage's endpoint names → backfill kinds (odds has no kind of its own: it is planned as tasks only)
KIND_OF = {"top_scorers": "topscorers"}


def find(collector: Collector, leagues: list[int], seasons: list[int]) -> list:
    """The coverage gaps of the tracked league seasons, or of those asked for."""
    from afc.coverage.gaps import gaps

    found = []
    for league, season in _pairs(leagues, seasons):
        found += gaps(collector.db, collector.config, collector.now(), league, season)
    # A gap with no call is either details waiting for the fixture list (planned from it) or an
    # empty answer whose re-check is not due yet: that one must cost nothing now.
    listing = {(g.league_id, g.season) for g in found if g.endpoint == "fixtures"}
    return [g for g in found if g.requests or (g.endpoint == "details" and (g.league_id, g.season) in listing)]


def rows(found: list) -> list[PlanRow]:
    """The gaps as plan rows (paged ones are estimates)."""
    return [PlanRow(g.league_id, g.season, KIND_OF.get(g.endpoint, g.endpoint),
                    g.requests[0].endpoint if g.requests else g.endpoint, needed=g.calls,
                    estimated=not g.requests or g.requests[0].endpoint in PAGED) for g in found]


def plan_gaps(collector: Collector, found: list) -> list[tasks.BackfillPlan]:
    """Checkpoint a plan for every league season with gaps."""
    now = collector.now()
    grouped: dict[tuple[int, int], list] = {}
    for gap in found:
        grouped.setdefault((gap.league_id, gap.season), []).append(gap)
    return [_plan_season(collector, league, season, group, now) for (league, season), group in grouped.items()]


def _pairs(leagues: list[int], seasons: list[int]) -> Iterable[tuple[int | None, int | None]]:
    every: list[int | None] = [None]  # no filter given: one unfiltered pass
    for league in [*leagues] or every:
        for season in [*seasons] or every:
            yield league, season


def _plan_season(collector: Collector, league: int, season: int, group: list, now: datetime) -> tasks.BackfillPlan:
    db = collector.db
    names = [KIND_OF.get(g.endpoint, g.endpoint) for g in group]
    kinds = tuple(k for k in KINDS if k in names)
    list_pending = "fixtures" in names
    info = planner.facts(db, league, season, now.date())
    with db.transaction():
        plan = tasks.open_plan(db, league, season, kinds, False, now)
        specs = [spec for gap, kind in zip(group, names, strict=True)
                 for spec in _specs(kind, gap.requests if _direct(kind, info, list_pending) else _rechecks(gap))]
        tasks.add_tasks(db, plan, specs, now)
        pairs = zip(group, names, strict=True)
        if any(k == "details" and g.requests and _direct(k, info, list_pending) for g, k in pairs):
            tasks.set_details_planned(db, plan)  # else the batches are cut once the fixture list lands
        planner.expand(db, tasks.active_plan(db, league, season) or plan, now)
    return plan


def _direct(kind: str, info: planner.Facts, list_pending: bool) -> bool:
    """Plan the gap's own calls? Not details awaiting the list, nor kinds the flags rule out; while
    the flags are unknown, backfill's kinds wait for /leagues (the planner then skips what they rule out)."""
    if kind not in KINDS:
        return True
    if info.flags is None:
        return False
    return info.covers(kind) and not (kind == "details" and list_pending)


def _rechecks(gap: Gap) -> list[Request]:
    """The re-checks of empty detail parts: due now, on known fixtures, so not cut from the fixture list
    (whose cut takes only fixtures lacking a part)."""
    ids = list(gap.rechecks)
    return [Request.of("fixtures", {"ids": ids[i:i + planner.IDS_PER_CALL]})
            for i in range(0, len(ids), planner.IDS_PER_CALL)]


def _specs(kind: str, requests: list) -> list[planner.Spec]:
    """One task per request (a page other than 1 keeps its number)."""
    found = []
    for request in requests:
        params = {k: v for k, v in request.params if k != "page"}
        found.append(planner.Spec(kind, request.endpoint, params, int(request.query.get("page", 1))))
    return found
