"""The planner: which calls a league season still needs, cheapest first, from what core holds.

Season-level data is one call each (the whole season's fixtures, standings, teams, injuries, top
lists); details come in `ids=` batches of 20 finished fixtures, planned once the season's fixture
list is in core; `/players` is paged, one task per page, to the last page. What the coverage flags
say does not exist is skipped, and so is what the database already holds (unless `refresh`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from afc.api.client import MAX_PAGES, PAGED, Request
from afc.backfill import tasks
from afc.backfill.kinds import DETAIL_PARTS, IDS_PER_CALL, KINDS, LEAGUES
from afc.db import Database, as_date, dump_json, load_json

log = logging.getLogger("afc.backfill")

COVERAGE = """
SELECT s.end_date, s.current, l.type, {flags} FROM core.league_seasons s
JOIN core.leagues l ON l.id = s.league_id WHERE s.league_id = %(league)s AND s.season = %(season)s"""
TEAMS = "SELECT count(*) FROM core.team_seasons WHERE league_id = %(league)s AND season = %(season)s"
LIST_FETCHED = """
SELECT 1 FROM raw.responses WHERE endpoint = 'fixtures' AND params = %(params)s AND status = 200
  AND errors IS NULL LIMIT 1"""
TASK_DONE_BEFORE = """
SELECT 1 FROM ops.backfill_tasks t JOIN ops.backfill_plans p ON p.id = t.plan_id
WHERE t.league_id = %(league)s AND t.season = %(season)s AND t.kind = %(kind)s AND t.status = 'done'
  AND p.status = 'done' LIMIT 1"""
PLAYERS_DONE_BEFORE = """
SELECT 1 FROM ops.backfill_plans p
WHERE p.league_id = %(league)s AND p.season = %(season)s AND p.status = 'done'
  AND EXISTS (SELECT 1 FROM ops.backfill_tasks t WHERE t.plan_id = p.id AND t.kind = 'players' AND t.status = 'done')
  AND NOT EXISTS (SELECT 1 FROM ops.backfill_tasks t WHERE t.plan_id = p.id AND t.kind = 'players'
                  AND t.status <> 'done')
LIMIT 1"""
FINISHED_FIXTURES = """
SELECT f.id, {parts}, d.final FROM core.fixtures f
LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
WHERE f.league_id = %(league)s AND f.season = %(season)s AND f.status_group = 'finished'
ORDER BY f.kickoff_at, f.id"""
LISTED_SEASONS = "SELECT season FROM core.league_seasons WHERE league_id = %(league)s ORDER BY season"
FIXTURES_HELD = "SELECT count(*) FROM core.fixtures WHERE league_id = %(league)s AND season = %(season)s"
PAGED_TASKS = """
SELECT t.kind, t.endpoint, t.params, max(t.page), max(r.paging_total) FROM ops.backfill_tasks t
LEFT JOIN raw.responses r ON r.id = t.raw_id
WHERE t.plan_id = %(plan)s
GROUP BY t.kind, t.endpoint, t.params"""


@dataclass(frozen=True)
class Facts:
    """What core knows of a league season: its coverage flags (None until /leagues answered)."""

    league: int
    season: int
    flags: dict[str, bool] | None
    over: bool = False
    cup: bool = False
    teams: int = 0

    def covers(self, name: str) -> bool:
        """Whether the flags say this kind exists (unknown flags: assume it does)."""
        wanted = KINDS[name].flags
        return self.flags is None or not wanted or any(self.flags.get(f) for f in wanted)

    def parts(self) -> list[str]:
        """The detail parts the flags say exist."""
        return [part for flag, part in DETAIL_PARTS.items() if self.flags is None or self.flags.get(flag)]


@dataclass(frozen=True)
class Spec:
    """A task to plan: one call, pending or skipped (with why: `held` or `coverage`)."""

    kind: str
    endpoint: str
    params: dict[str, str]
    page: int = 1
    status: str = "pending"
    note: str | None = None

    @property
    def request(self) -> Request:
        """The call this task makes."""
        return Request.of(self.endpoint, self.params).page(self.page)


@dataclass
class DetailsPlan:
    """Details batches for a season's finished fixtures, and how many fixtures were already held."""

    specs: list[Spec] = field(default_factory=list)
    held: int = 0


def facts(db: Database, league: int, season: int, today: date) -> Facts:
    """The coverage flags, whether the season is over, and how many teams core knows for it."""
    flags = ", ".join(f"s.{name}" for name in _FLAG_COLUMNS)
    row = db.fetchone(COVERAGE.format(flags=flags), {"league": league, "season": season})
    teams = int((db.fetchone(TEAMS, {"league": league, "season": season}) or (0,))[0])
    if row is None or all(v is None for v in row[3:]):
        return Facts(league, season, None, teams=teams)
    end = as_date(row[0])
    over = end is not None and end < today and not row[1]
    return Facts(league, season, {n: bool(v) for n, v in zip(_FLAG_COLUMNS, row[3:], strict=True)}, over,
                 str(row[2] or "").lower() == "cup", teams)


_FLAG_COLUMNS = tuple(dict.fromkeys(f for k in KINDS.values() for f in k.flags))


def season_params(league: int, season: int) -> dict[str, str]:
    """The parameters of every season-level call."""
    return {"league": str(league), "season": str(season)}


def leagues_spec(league: int) -> Spec:
    """The one call that brings a league's seasons and coverage flags."""
    return Spec(LEAGUES.name, LEAGUES.endpoint, {"id": str(league)})


def season_specs(db: Database, facts: Facts, kinds: tuple[str, ...], refresh: bool) -> list[Spec]:
    """One call per season-level kind (players: its first page), each pending or skipped with why."""
    params = season_params(facts.league, facts.season)
    specs = []
    for name in (k for k in kinds if k != "details"):
        spec = Spec(name, KINDS[name].endpoint, params)
        if not facts.covers(name):
            spec = Spec(name, spec.endpoint, params, status="skipped", note="coverage")
        elif not refresh and held(db, facts, name):
            spec = Spec(name, spec.endpoint, params, status="skipped", note="held")
        specs.append(spec)
    return specs


def held(db: Database, facts: Facts, name: str) -> bool:
    """Whether the database already has this kind for the league season (see docs/backfill.md)."""
    keys = {"league": facts.league, "season": facts.season, "kind": name}
    if name == "players":
        return db.fetchone(PLAYERS_DONE_BEFORE, keys) is not None
    if not facts.over:
        return False  # a season still running changes: fetch it again
    if name == "fixtures":
        fetched = db.fetchone(LIST_FETCHED, {"params": dump_json(season_params(facts.league, facts.season))})
        return fetched is not None or db.fetchone(TASK_DONE_BEFORE, keys) is not None
    sql = KINDS[name].held_sql
    return sql is not None and db.fetchone(sql, keys) is not None


def details_plan(db: Database, facts: Facts, refresh: bool) -> DetailsPlan:
    """`ids=` batches of 20 for finished fixtures missing a part the flags promise (or not final)."""
    parts = facts.parts()
    plan = DetailsPlan()
    if not parts:
        return plan
    columns = ", ".join(f"d.{part} IS NOT NULL" for part in parts)
    needed: list[int] = []
    for row in db.fetchall(FINISHED_FIXTURES.format(parts=columns), {"league": facts.league, "season": facts.season}):
        complete = all(row[1:-1]) and bool(row[-1])
        if complete and not refresh:
            plan.held += 1
        else:
            needed.append(int(row[0]))
    for start in range(0, len(needed), IDS_PER_CALL):
        ids = "-".join(str(i) for i in needed[start:start + IDS_PER_CALL])
        plan.specs.append(Spec("details", "fixtures", {"ids": ids}))
    return plan


def fixtures_in_core(db: Database, league: int, season: int) -> int:
    """How many fixtures of the league season core holds."""
    return int((db.fetchone(FIXTURES_HELD, {"league": league, "season": season}) or (0,))[0])


def expand(db: Database, plan: tasks.BackfillPlan, now: datetime) -> None:
    """Add every task the database now makes plannable (idempotent; call it inside a transaction)."""
    info = facts(db, plan.league, plan.season, now.date())
    if info.flags is None:
        _expand_unknown(db, plan, now)
        return
    tasks.add_tasks(db, plan, season_specs(db, info, plan.kinds, plan.refresh), now)
    current = {(t.kind, t.page): t for t in tasks.tasks(db, plan.id)}
    if "details" in plan.kinds and not plan.details_planned and _list_ready(current, plan):
        if info.covers("details"):
            tasks.add_tasks(db, plan, details_plan(db, info, plan.refresh).specs, now)
        tasks.set_details_planned(db, plan)
    _expand_pages(db, plan, now)


def _expand_unknown(db: Database, plan: tasks.BackfillPlan, now: datetime) -> None:
    leagues = next((t for t in tasks.tasks(db, plan.id) if t.kind == LEAGUES.name), None)
    if leagues is None:
        tasks.add_tasks(db, plan, [leagues_spec(plan.league)], now)
    elif leagues.status == "done" and plan.error is None:
        tasks.set_error(db, plan, unlisted_season(db, plan.league, plan.season))


def unlisted_season(db: Database, league: int, season: int) -> str:
    """Why a plan got nothing: /leagues does not list its season; which seasons it does list."""
    seasons = [int(r[0]) for r in db.fetchall(LISTED_SEASONS, {"league": league})]
    listed = f"it lists {spans(seasons)}" if seasons else "it lists no season of that league (check the league id)"
    return f"league {league} season {season}: /leagues?id={league} does not list season {season}; {listed}"


def spans(years: list[int]) -> str:
    """`2010-2012, 2015` for [2010, 2011, 2012, 2015]."""
    runs: list[list[int]] = []
    for year in sorted(set(years)):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _list_ready(current: dict[tuple[str, int], Any], plan: tasks.BackfillPlan) -> bool:
    """The season's fixture list is in core: fetched by this plan, held, or not asked for."""
    fixtures = current.get(("fixtures", 1))
    if "fixtures" not in plan.kinds:
        return True
    return fixtures is not None and fixtures.status in ("done", "skipped")


def _expand_pages(db: Database, plan: tasks.BackfillPlan, now: datetime) -> None:
    """Further pages of /players (or /odds) once a page has told the total (capped only past any real answer: a
    bogus total of 2^31 pages would plan that many tasks)."""
    specs = []
    for kind, endpoint, params, planned, total in db.fetchall(PAGED_TASKS, {"plan": plan.id}):
        if endpoint in PAGED and total and int(total) > int(planned):
            query = dict(load_json(params))
            last = min(int(total), MAX_PAGES)
            if last < int(total):
                log.warning("%s %s: a paging total of %s is past any real answer; planning %d pages",
                            endpoint, params, total, MAX_PAGES)
            specs += [Spec(kind, endpoint, query, page) for page in range(int(planned) + 1, last + 1)]
    tasks.add_tasks(db, plan, specs, now)
