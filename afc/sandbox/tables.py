"""Standings computed from the results finished by a moment (one table per group)."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from afc.sandbox.catalog import LEAGUE_BY_ID, UCL
from afc.sandbox.render import iso
from afc.sandbox.schedule import Fixture
from afc.sandbox.truth import Truth

EPOCH, MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)
Result = tuple[Fixture, tuple[int, int]]  # a finished fixture and its final score (home, away)


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


@dataclass(frozen=True)
class Finishes:
    """A league-season's fixtures that reach FT/AET/PEN, in the order they do, with when and their final score.

    Standings, season sums and /players ask which fixtures had finished by now on each call: worked out from
    each fixture's outcome, that needed every outcome of the season at hand (and kept them all, 1.2 kB a
    fixture). This is the whole answer for any moment in a few kB per league-season.
    """

    ends: array  # microseconds since the epoch, ascending
    fixtures: tuple[Fixture, ...]
    goals: bytes  # the home and the away side's final goals of each fixture in turn

    def count(self, at: datetime) -> int:
        """How many had finished by `at`."""
        return bisect_right(self.ends, _micros(at))

    def end(self, index: int) -> datetime:
        """When the `index`th to finish did."""
        return EPOCH + self.ends[index] * MICROSECOND

    def results(self, count: int) -> list[Result]:
        """The first `count` to finish, with their final score."""
        return [(fx, (self.goals[2 * i], self.goals[2 * i + 1])) for i, fx in enumerate(self.fixtures[:count])]


def finishes(world: Truth, league_id: int, season: int) -> Finishes:
    """The league-season's `Finishes` (cached per league-season)."""
    return world.memo.remember("finishes", (league_id, season), lambda: _finishes(world, league_id, season))


def _finishes(world: Truth, league_id: int, season: int) -> Finishes:
    done = []
    for fx in world.fixtures(league_id, season):
        end = world.finished_at(fx.id)
        if end is not None:
            done.append((_micros(end), fx.id, fx))
    done.sort(key=lambda row: row[:2])
    return Finishes(array("q", (end for end, _, _ in done)), tuple(fx for _, _, fx in done),
                    bytes(goals for _, _, fx in done for goals in world.outcome(fx.id).final))


def finished(world: Truth, league_id: int, season: int, at: datetime) -> list[Fixture]:
    """Fixtures of a league-season that reached FT/AET/PEN by `at`, in the order they finished."""
    done = finishes(world, league_id, season)
    return list(done.fixtures[:done.count(at)])


@dataclass
class Record:
    """A team's line in a table."""

    team_id: int
    group: str
    all: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0, 0])  # played, win, draw, lose, for, against
    home: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0, 0])
    away: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0, 0])
    results: list[str] = field(default_factory=list)

    @property
    def points(self) -> int:
        return 3 * self.all[1] + self.all[2]

    def add(self, venue: list[int], scored: int, conceded: int) -> None:
        """Count one result, in `all` and in `home` or `away` (`venue`)."""
        result = 1 if scored > conceded else 2 if scored == conceded else 3
        for row in (self.all, venue):
            row[0] += 1
            row[result] += 1
            row[4] += scored
            row[5] += conceded
        self.results.append("WDL"[result - 1])

    def key(self, name: str) -> tuple:
        """Sort key: points, goal difference, goals scored, then name."""
        return -self.points, -(self.all[4] - self.all[5]), -self.all[4], name


def _groups(world: Truth, league_id: int, season: int) -> dict[str, list[int]]:
    if league_id != UCL:
        return {LEAGUE_BY_ID[league_id].name: [t.id for t in world.league_teams(league_id, season)]}
    groups: dict[str, list[int]] = {}
    for fx in world.fixtures(league_id, season):
        if fx.group:
            members = groups.setdefault(fx.group, [])
            members += [t for t in (fx.home_id, fx.away_id) if t not in members]
    return dict(sorted(groups.items()))


def _table(world: Truth, league_id: int, season: int, results: list[Result]) -> dict[str, list[Record]]:
    groups = _groups(world, league_id, season)
    records = {team: Record(team, group) for group, teams in groups.items() for team in teams}
    for fx, (home, away) in results:
        if league_id == UCL and not fx.group:
            continue
        records[fx.home_id].add(records[fx.home_id].home, home, away)
        records[fx.away_id].add(records[fx.away_id].away, away, home)
    tables: dict[str, list[Record]] = {}
    for record in records.values():
        tables.setdefault(record.group, []).append(record)
    for rows in tables.values():
        rows.sort(key=lambda r: r.key(world.team(r.team_id).name))
    return tables


def _side(row: list[int]) -> dict:
    return {"played": row[0], "win": row[1], "draw": row[2], "lose": row[3],
            "goals": {"for": row[4], "against": row[5]}}


def _description(league_id: int, rank: int) -> str | None:
    for first, last, text in LEAGUE_BY_ID[league_id].zones:
        if first <= rank <= last:
            return text
    return None


def _rows(world: Truth, league_id: int, rows: list[Record], before: dict[int, int], update: str) -> list[dict]:
    out = []
    for rank, r in enumerate(rows, start=1):
        previous = before.get(r.team_id, rank)
        status = "same" if previous == rank else "up" if previous > rank else "down"
        out.append({
            "rank": rank, "team": world.team(r.team_id).ref(), "points": r.points, "goalsDiff": r.all[4] - r.all[5],
            "group": r.group, "form": "".join(reversed(r.results[-5:])) or None, "status": status,
            "description": _description(league_id, rank), "all": _side(r.all), "home": _side(r.home),
            "away": _side(r.away), "update": update,
        })
    return out


def standings(world: Truth, league_id: int, season: int, at: datetime) -> list[list[dict]]:
    """The `league.standings` lists of a league-season as of `at` (cached per number of results)."""
    done = finishes(world, league_id, season)
    count = done.count(at)
    return world.memo.remember("standings", (league_id, season, count),
                               lambda: _standings(world, league_id, season, done, count))


def _standings(world: Truth, league_id: int, season: int, finishes: Finishes, count: int) -> list[list[dict]]:
    done = finishes.results(count)
    last_round = done[-1][0].round if done else None
    earlier = [result for result in done if result[0].round != last_round]
    before = {r.team_id: rank for rows in _table(world, league_id, season, earlier).values()
              for rank, r in enumerate(rows, start=1)}
    moment = finishes.end(count - 1) if done else datetime(season, 7, 1, tzinfo=UTC)
    update = iso(moment.replace(hour=0, minute=0, second=0, microsecond=0), UTC)
    return [_rows(world, league_id, rows, before, update) for rows in _table(world, league_id, season, done).values()]
