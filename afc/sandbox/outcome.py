"""What happens in a match, cheaply: added time, when each side scores, extra time, the shootout.

This is the part standings, results and schedules need, so it is kept small and fast; who scored
and everything else about the players lives in `match.py` and is built only when asked for.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from afc.sandbox.rng import poisson, seeded
from afc.sandbox.schedule import Fixture

HOME_EDGE = 0.18  # log-rate advantage of playing at home


@dataclass(frozen=True)
class Goal:
    """A goal (or a missed penalty) in match time; `side` is the side it counts for (0 home, 1 away)."""

    minute: int
    extra: int | None
    side: int
    detail: str  # "Normal Goal", "Penalty", "Own Goal" or "Missed Penalty"


@dataclass(frozen=True)
class Outcome:
    """The result of one fixture as a function of its seed and the two teams' strengths."""

    added: tuple[int, int]  # added minutes of the first and second half
    goals: tuple[Goal, ...]  # in time order, extra time included, shootout excluded
    missed: tuple[Goal, ...]  # missed penalties (the side is the team that missed)
    extra_time: bool
    et_added: tuple[int, int]
    shootout: tuple[int, int] | None
    abandoned_at: int | None  # the minute an abandoned match stopped
    xg: tuple[float, float]

    def score(self, until_minute: int = 999) -> tuple[int, int]:
        """Goals per side scored up to and including `until_minute` (91+ is extra time)."""
        home = sum(1 for g in self.goals if g.side == 0 and g.minute <= until_minute)
        away = sum(1 for g in self.goals if g.side == 1 and g.minute <= until_minute)
        return home, away

    @property
    def final(self) -> tuple[int, int]:
        """Goals after extra time, without the shootout (the API's `goals`)."""
        return self.score()


def scoring_rates(ratings: tuple[float, float, float, float], neutral: bool = False) -> tuple[float, float]:
    """Expected goals of the home and away side from (home attack, home defence, away attack, away defence)."""
    edge = 0.0 if neutral else HOME_EDGE
    return math.exp(0.2 + ratings[0] - ratings[3] + edge), math.exp(0.2 + ratings[2] - ratings[1])


def _when(rng: random.Random, first: int, length: int, added: int) -> tuple[int, int | None]:
    """A minute of a period of `length` minutes starting at `first`, with `added` minutes of stoppage."""
    u = int(rng.random() * (length + added))
    if u < length:
        return first + u, None
    return first + length - 1, u - length + 1


def _period_goals(rng: random.Random, rates: tuple[float, float], periods: list[tuple[int, int, int]]) -> list[Goal]:
    goals = []
    for side, rate in enumerate(rates):
        for _ in range(poisson(rng, rate)):
            first, length, added = rng.choices(periods, weights=[p[1] + p[2] for p in periods])[0]
            minute, extra = _when(rng, first, length, added)
            roll = rng.random()
            detail = "Own Goal" if roll < 0.04 else "Penalty" if roll < 0.14 else "Normal Goal"
            goals.append(Goal(minute, extra, side, detail))
    return goals


def _shootout(rng: random.Random) -> tuple[int, int]:
    """Five kicks each (stopping once one side cannot be caught), then sudden death."""
    scored = [0, 0]
    for kicks in range(1, 6):
        for side in (0, 1):
            scored[side] += rng.random() < 0.76
            left_home, left_away = 5 - kicks, 5 - kicks + (side == 0)
            if scored[0] > scored[1] + left_away or scored[1] > scored[0] + left_home:
                return scored[0], scored[1]
    for _ in range(30):
        if scored[0] != scored[1]:
            break
        scored[0] += rng.random() < 0.76
        scored[1] += rng.random() < 0.76
    if scored[0] == scored[1]:
        scored[rng.randrange(2)] += 1
    return scored[0], scored[1]


def _time_key(goal: Goal) -> tuple[int, int]:
    return goal.minute, goal.extra or 0


def simulate(seed: int, fx: Fixture, ratings: tuple[float, float, float, float],
             first_leg: tuple[int, int] | None = None) -> Outcome:
    """The outcome of `fx`: ratings are (home attack, home defence, away attack, away defence).

    `first_leg` is the first leg's score seen from this fixture's home and away team; a decisive
    match level on aggregate after 90 minutes goes to extra time, then penalties.
    """
    rng = seeded(seed, "outcome", fx.id)
    rates = scoring_rates(ratings, neutral=fx.round == "Final")
    added = (rng.choice((1, 1, 2, 2, 3, 3, 4, 5)), rng.choice((2, 3, 4, 4, 5, 5, 6, 7, 8)))
    goals = _period_goals(rng, rates, [(1, 45, added[0]), (46, 45, added[1])])
    missed = [Goal(*_when(rng, 1, 90, 0), side, "Missed Penalty") for side in (0, 1) if rng.random() < 0.07]
    regulation = (sum(g.side == 0 for g in goals), sum(g.side == 1 for g in goals))
    level = regulation[0] + (first_leg or (0, 0))[0] == regulation[1] + (first_leg or (0, 0))[1]
    extra_time, et_added, shootout = fx.decisive and level, (rng.randint(0, 2), rng.randint(0, 3)), None
    if extra_time:
        et_rates = (rates[0] * 0.27, rates[1] * 0.27)
        goals += _period_goals(rng, et_rates, [(91, 15, et_added[0]), (106, 15, et_added[1])])
        after = (sum(g.side == 0 for g in goals), sum(g.side == 1 for g in goals))
        if after[0] - regulation[0] == after[1] - regulation[1]:
            shootout = _shootout(rng)
    abandoned = rng.randint(50, 80) if fx.fate == "ABD" else None
    if abandoned:
        goals = [g for g in goals if g.minute < abandoned]
        missed = [g for g in missed if g.minute < abandoned]
    xg = (round(rates[0] * rng.uniform(0.7, 1.3), 2), round(rates[1] * rng.uniform(0.7, 1.3), 2))
    return Outcome(added, tuple(sorted(goals, key=_time_key)), tuple(missed), extra_time, et_added, shootout,
                   abandoned, xg)
