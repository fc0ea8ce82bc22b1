"""Fixture lists: double round-robins spread over the season, and the Champions League.

Rounds of the domestic leagues are spaced `season length / rounds` days apart, so each league
drifts through the week differently and most days of a season have matches somewhere; the
Champions League plays Tuesdays and Wednesdays. A few fixtures get a fate: postponed (and
rescheduled), cancelled, abandoned, or time-to-be-defined until two weeks before.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from afc.sandbox.catalog import LEAGUE_BY_ID, UCL, LeagueDef
from afc.sandbox.clubs import Team
from afc.sandbox.names import PEOPLE
from afc.sandbox.rng import seeded, unit

KNOCKOUT_ROUNDS = ("Round of 16", "Quarter-finals", "Semi-finals", "Final")


@dataclass(frozen=True)
class Fixture:
    """One match of the world. `kickoff` is when it is really played (after any postponement)."""

    id: int
    league_id: int
    season: int
    round: str
    kickoff: datetime
    home_id: int
    away_id: int
    venue_id: int
    referee: str | None
    fate: str = ""  # "", "PST", "CANC", "ABD" or "TBD"
    planned: datetime | None = None  # PST: the original date
    announced: datetime | None = None  # PST/CANC: when decided; TBD: when the time is fixed
    resolved: datetime | None = None  # PST: when the new date is published
    visible_from: datetime | None = None  # knockout ties appear once both teams are known
    first_leg: int | None = None  # a second leg points at its first leg
    decisive: bool = False  # a draw here goes to extra time and penalties
    group: str | None = None  # "Group A".. for the UCL group stage


def fixture_id(league: LeagueDef, season: int, index: int) -> int:
    """Stable, world-unique fixture ids: league slot, season and position are encoded in the id."""
    return 1_000_000 + league.slot * 100_000 + (season % 100) * 1_000 + index


def decode_fixture_id(fid: int) -> tuple[int, int] | None:
    """The (league id, season) a fixture id belongs to, or None if it cannot be one of ours."""
    slot, rest = divmod(fid - 1_000_000, 100_000)
    for league in LEAGUE_BY_ID.values():
        if league.slot == slot and rest >= 0:
            return league.id, 2000 + rest // 1_000
    return None


def season_bounds(league: LeagueDef, season: int) -> tuple[date, date]:
    """First and last day of a domestic season (August to late May)."""
    return date(season, 8, 8) + timedelta(days=league.slot), date(season + 1, 5, 17) + timedelta(days=league.slot)


def round_robin(teams: list[Team]) -> list[list[tuple[Team, Team]]]:
    """Double round-robin by the circle method; the second half mirrors the first."""
    ring, n = list(teams), len(teams)
    first_half = []
    for r in range(n - 1):
        pairs = []
        for i in range(n // 2):
            home, away = ring[i], ring[n - 1 - i]
            pairs.append((away, home) if (i == 0 and r % 2) or (i > 0 and i % 2) else (home, away))
        first_half.append(pairs)
        ring = [ring[0], ring[-1], *ring[1:-1]]
    return first_half + [[(a, h) for h, a in pairs] for pairs in first_half]


def _referee(rng: random.Random) -> str | None:
    if rng.random() < 0.08:
        return None
    country = rng.choice(("England", "Spain", "Italy", "Germany", "France", "Netherlands", "Belgium"))
    first, last, _ = PEOPLE[country]
    return f"{rng.choice(first)[0]}. {rng.choice(last)}, {country}"


def _at(day: date, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime.combine(day, time(hour, minute), UTC)


def _fate(seed: int, fx: Fixture) -> Fixture:
    u, rng = unit(seed, "fate", fx.id), seeded(seed, "fate-detail", fx.id)
    if u < 0.012:
        new_day = fx.kickoff.date() + timedelta(days=rng.randint(10, 30))
        return replace(fx, fate="PST", planned=fx.kickoff, kickoff=_at(new_day, "19:45"),
                       announced=fx.kickoff - timedelta(days=rng.randint(1, 4)),
                       resolved=fx.kickoff + timedelta(days=2))
    if u < 0.015:
        return replace(fx, fate="CANC", announced=fx.kickoff - timedelta(days=1))
    if u < 0.019:
        return replace(fx, fate="ABD")
    if u < 0.05:
        return replace(fx, fate="TBD", announced=fx.kickoff - timedelta(days=14))
    return fx


def _breaks(season: int) -> set[date]:
    """Saturdays of the international breaks (no domestic round)."""
    nth = lambda year, month, n: _weekday_on_or_after(date(year, month, 1), 5) + timedelta(weeks=n - 1)  # noqa: E731
    return {nth(season, 9, 2), nth(season, 10, 2), nth(season, 11, 3), nth(season + 1, 3, 4)}


def _spread(items: list[date], count: int) -> list[date]:
    """`count` items of `items` evenly spaced, first and last included."""
    if count <= 1:
        return items[:count]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def round_dates(league: LeagueDef, season: int, rounds: int) -> list[tuple[date, bool]]:
    """(anchor day, midweek?) per round: Saturdays outside the breaks, plus Wednesdays where needed."""
    start, end = season_bounds(league, season)
    saturdays, day = [], _weekday_on_or_after(start, 5)
    while day <= end:
        saturdays.append(day)
        day += timedelta(weeks=1)
    weekends = [d for d in saturdays if d not in _breaks(season)]
    midweek = min(rounds, max(league.midweek, rounds - len(weekends)))
    chosen = [(d, False) for d in _spread(weekends, rounds - midweek)]
    wednesdays = [d + timedelta(days=4) for d in weekends[1:-1]]
    chosen += [(d, True) for d in _spread(wednesdays[1:-1], midweek)]
    return sorted(chosen)


def league_fixtures(seed: int, league: LeagueDef, season: int, teams: list[Team]) -> list[Fixture]:
    """A domestic league-season: 2(n-1) rounds named "Regular Season - N", sorted by kickoff."""
    rng = seeded(seed, "schedule", league.id, season)
    rounds = round_robin(rng.sample(teams, len(teams)))
    fixtures: list[Fixture] = []
    for r, ((anchor, midweek), pairs) in enumerate(zip(round_dates(league, season, len(rounds)), rounds, strict=True)):
        offsets = (-1, 0, 0, 1) if midweek else league.weekend
        for home, away in pairs:
            day = anchor + timedelta(days=rng.choice(offsets))
            slot = rng.choice(("18:45", "19:45", "20:00") if midweek else league.slots)
            fx = Fixture(fixture_id(league, season, len(fixtures)), league.id, season, f"Regular Season - {r + 1}",
                         _at(day, slot), home.id, away.id, home.venue.id, _referee(rng))
            fixtures.append(_fate(seed, fx))
    return sorted(fixtures, key=lambda f: (f.kickoff, f.id))


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def draw_groups(seed: int, season: int, teams: list[Team]) -> list[list[Team]]:
    """Eight groups of four from four pots of eight, keeping clubs of one country apart when possible."""
    rng = seeded(seed, "ucl-draw", season)
    groups: list[list[Team]] = [[] for _ in range(8)]
    for pot in range(4):
        members = teams[pot * 8:(pot + 1) * 8]
        for _ in range(200):
            order = rng.sample(members, 8)
            if all(t.country not in {g.country for g in groups[i]} for i, t in enumerate(order)):
                break
        for i, team in enumerate(order):
            groups[i].append(team)
    return groups


Score = tuple[int, int, tuple[int, int] | None]  # home goals, away goals (after extra time), shootout
Scorer = Callable[[Fixture, "Fixture | None"], Score]  # (fixture, its first leg if it is a second leg)


def _group_fixtures(seed: int, season: int, groups: list[list[Team]]) -> list[Fixture]:
    league, rng = LEAGUE_BY_ID[UCL], seeded(seed, "ucl-schedule", season)
    starts = (date(season, 9, 15), date(season, 9, 29), date(season, 10, 20), date(season, 11, 3),
              date(season, 11, 24), date(season, 12, 8))
    fixtures: list[Fixture] = []
    for g, members in enumerate(groups):
        for md, pairs in enumerate(round_robin(members)):
            day = _weekday_on_or_after(starts[md], 1) + timedelta(days=g // 4)
            for k, (home, away) in enumerate(pairs):
                kickoff = _at(day, "17:45" if (g + k) % 4 == 0 else "20:00")
                fixtures.append(Fixture(fixture_id(league, season, len(fixtures)), UCL, season,
                                        f"Group Stage - {md + 1}", kickoff, home.id, away.id, home.venue.id,
                                        _referee(rng), group=f"Group {'ABCDEFGH'[g]}"))
    return fixtures


def group_ranking(fixtures: list[Fixture], score: Scorer) -> list[int]:
    """Team ids of one group by points, goal difference, goals scored, id."""
    table: dict[int, list[int]] = {}
    for fx in fixtures:
        home, away, _ = score(fx, None)
        for team, gf, ga in ((fx.home_id, home, away), (fx.away_id, away, home)):
            row = table.setdefault(team, [0, 0, 0])
            row[0] += 3 if gf > ga else 1 if gf == ga else 0
            row[1] += gf - ga
            row[2] += gf
    return sorted(table, key=lambda t: (-table[t][0], -table[t][1], -table[t][2], t))


def tie_winner(legs: list[Fixture], score: Scorer) -> int:
    """The team that goes through: aggregate over the legs, then the last leg's shootout."""
    goals: dict[int, int] = {legs[0].home_id: 0, legs[0].away_id: 0}
    shootout = None
    for i, fx in enumerate(legs):
        home, away, shootout = score(fx, legs[0] if i else None)
        goals[fx.home_id] += home
        goals[fx.away_id] += away
    last = legs[-1]
    if goals[last.home_id] != goals[last.away_id]:
        return max(goals, key=goals.__getitem__)
    if shootout is None:
        raise RuntimeError(f"fixture {last.id}: level on aggregate without a shootout")
    return last.home_id if shootout[0] > shootout[1] else last.away_id


KNOCKOUT_DAYS = ((2, 17, 3, 10), (4, 7, 4, 14), (4, 28, 5, 5))  # (month, day) of the first and second legs


def _knockout_stage(season: int, stage: int, ties: list[tuple[int, int]], first_index: int,
                    visible: datetime, venues: dict[int, int], rng: random.Random) -> list[Fixture]:
    """Both legs of every tie of a stage; the better-ranked side (first of the pair) is at home second."""
    league = LEAGUE_BY_ID[UCL]
    m1, d1, m2, d2 = KNOCKOUT_DAYS[stage]
    legs: list[Fixture] = []
    for k, (top, runner) in enumerate(ties):
        offset, slot = timedelta(days=k % 2), "17:45" if k % 4 == 0 else "20:00"
        first = _weekday_on_or_after(date(season + 1, m1, d1), 1) + offset
        second = _weekday_on_or_after(date(season + 1, m2, d2), 1) + offset
        leg1 = Fixture(fixture_id(league, season, first_index + len(legs)), UCL, season, KNOCKOUT_ROUNDS[stage],
                       _at(first, slot), runner, top, venues[runner], _referee(rng), visible_from=visible)
        leg2 = Fixture(leg1.id + 1, UCL, season, KNOCKOUT_ROUNDS[stage], _at(second, slot), top, runner, venues[top],
                       _referee(rng), visible_from=visible, first_leg=leg1.id, decisive=True)
        legs += [leg1, leg2]
    return legs


def _day_after(fixtures: list[Fixture]) -> datetime:
    """When the next round's ties are published: three days after the last match, 11:00 UTC."""
    return datetime.combine(max(f.kickoff for f in fixtures).date() + timedelta(days=3), time(11), UTC)


def ucl_fixtures(seed: int, season: int, teams: list[Team], venues: dict[int, int],
                 score: Scorer) -> list[Fixture]:
    """The Champions League season: groups, two-legged knockouts, a final; `teams` strongest first."""
    rng = seeded(seed, "ucl-knockout", season)
    fixtures = _group_fixtures(seed, season, draw_groups(seed, season, teams))
    ranks = [group_ranking([f for f in fixtures if f.group == f"Group {g}"], score) for g in "ABCDEFGH"]
    ties = [(ranks[g][0], ranks[(g + 1) % 8][1]) for g in range(8)]
    stage_fixtures = fixtures
    for stage in range(len(KNOCKOUT_DAYS)):
        stage_fixtures = _knockout_stage(season, stage, ties, len(fixtures), _day_after(stage_fixtures), venues, rng)
        fixtures += stage_fixtures
        winners = [tie_winner(stage_fixtures[i:i + 2], score) for i in range(0, len(stage_fixtures), 2)]
        ties = [(winners[i], winners[i + 1]) for i in range(0, len(winners), 2)]
    (home, away), = ties
    neutral = next(v for t, v in venues.items() if t not in (home, away))
    final_day = _weekday_on_or_after(date(season + 1, 5, 27), 5)
    fixtures.append(Fixture(fixture_id(LEAGUE_BY_ID[UCL], season, len(fixtures)), UCL, season, "Final",
                            _at(final_day, "19:00"), home, away, neutral, _referee(rng),
                            visible_from=_day_after(stage_fixtures), decisive=True))
    return sorted(fixtures, key=lambda f: (f.kickoff, f.id))
