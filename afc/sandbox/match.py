"""Everything about the players in one match: lineups, events and each player's match sheet.

Built once per fixture from its outcome (so the goal events always add up to the score) and
rendered for any moment by `render.py`. Events are assigned in time order against who is on the
pitch, so nobody scores after being substituted or sent off. Some fixtures carry a silent
correction: until 30 minutes after full time one event is shown wrong (a substitution with
player and assist swapped, or a goal credited to a team-mate), then it is fixed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from afc.sandbox.outcome import Outcome
from afc.sandbox.people import Player
from afc.sandbox.rng import poisson, seeded, unit
from afc.sandbox.schedule import Fixture
from afc.sandbox.timeline import Timeline

FORMATIONS = ("4-3-3", "4-2-3-1", "4-4-2", "3-5-2", "3-4-2-1", "4-1-4-1", "5-3-2", "4-3-1-2")
CARD_REASONS = ("Foul", "Foul", "Foul", "Argument", "Time wasting", "Handball", "Roughing", "Simulation",
                "Professional foul last man")
SCORER_WEIGHT = {"G": 0.02, "D": 1.0, "M": 3.0, "F": 6.0}
ASSIST_WEIGHT = {"G": 0.1, "D": 1.5, "M": 4.0, "F": 3.0}
# per-90 rates by position: shots, on target share, passes, key passes, tackles, blocks, interceptions,
# duels, dribbles, dribbled past, fouls drawn, fouls committed, offsides
RATES = {
    "G": (0.0, 0.0, 30, 0.0, 0.1, 0.0, 0.2, 2, 0.0, 0.0, 0.2, 0.1, 0.0),
    "D": (0.5, 0.3, 55, 0.3, 2.0, 0.6, 1.2, 9, 0.5, 1.0, 0.8, 1.2, 0.1),
    "M": (1.2, 0.35, 50, 1.2, 1.8, 0.3, 0.8, 11, 1.5, 0.6, 1.3, 1.2, 0.2),
    "F": (2.5, 0.42, 25, 0.8, 0.5, 0.1, 0.2, 12, 2.5, 0.2, 1.6, 0.9, 0.7),
}
ACCURACY = {"G": 68, "D": 86, "M": 84, "F": 73}
COUNTS = ("shots", "on", "passes", "key", "tackles", "blocks", "interceptions", "duels", "dribbles", "past",
          "drawn", "committed", "offsides")


@dataclass(frozen=True)
class Event:
    """One event as the API lists it, plus the moment (seconds after kickoff) it becomes visible."""

    offset: float
    minute: int
    extra: int | None
    side: int  # the team the event is listed under (for an own goal: the team it counts for)
    type: str  # "Goal", "Card", "subst" or "Var"
    detail: str
    player: int | None
    assist: int | None
    comments: str | None = None


@dataclass
class Sheet:
    """A player's match: role in the lineup and the counting stats of his full final minutes."""

    player: Player
    side: int
    pos: str
    grid: str | None
    starter: bool
    captain: bool = False
    base_rating: float = 6.5
    minutes: int = 0  # final minutes played
    counts: dict[str, int] = field(default_factory=dict)
    accuracy: int = 80


@dataclass(frozen=True)
class Details:
    """Lineups, events and player sheets of one fixture, final (corrected) version."""

    formations: tuple[str, str]
    sheets: tuple[Sheet, ...]  # home starters, home bench, away starters, away bench
    events: tuple[Event, ...]
    wrong: tuple[int, Event] | None  # (index in events, the version shown before the correction)
    corners: tuple[int, int]
    xg: tuple[float, float]


def formation_of(seed: int, fixture_id: int, side: int) -> str:
    """The formation a side plays in a fixture (cheap: no lineup needed)."""
    return FORMATIONS[int(unit(seed, "formation", fixture_id, side) * len(FORMATIONS))]


def _lineup(rng: random.Random, side: int, squad: list[Player], formation: str) -> list[Sheet]:
    lines = [int(n) for n in formation.split("-")]
    form = {p.id: p.quality + rng.gauss(0, 0.7) for p in squad}  # today's form decides who starts
    pool = sorted(squad, key=lambda p: -form[p.id])

    def pick(letter: str, count: int) -> list[Player]:
        chosen = [p for p in pool if p.letter == letter][:count]
        chosen += [p for p in pool if p.letter != letter and p not in chosen][:count - len(chosen)]
        for player in chosen:
            pool.remove(player)
        return chosen

    sheets = [Sheet(p, side, "G", "1:1", True) for p in pick("G", 1)]
    for row, count in enumerate(lines):
        letter = "D" if row == 0 else "F" if row == len(lines) - 1 else "M"
        sheets += [Sheet(p, side, letter, f"{row + 2}:{col + 1}", True) for col, p in enumerate(pick(letter, count))]
    bench = pick("G", 1) + pool[:8]
    sheets += [Sheet(p, side, p.letter, None, False) for p in bench]
    max(sheets[1:11], key=lambda s: s.player.quality).captain = True
    return sheets


def _skeleton(rng: random.Random, oc: Outcome, tl: Timeline) -> list[tuple]:
    """(offset, minute, extra, side, kind, detail) of every event before players are assigned."""
    items = []
    items += [(g.minute, g.extra, g.side, "Goal", g.detail) for g in oc.goals]
    items += [(g.minute, g.extra, g.side, "Goal", g.detail) for g in oc.missed]
    for side in (0, 1):
        subs = rng.choice((3, 4, 4, 5, 5))
        minutes = sorted(46 if rng.random() < 0.15 else rng.randint(55, 89) for _ in range(subs))
        items += [(m, None, side, "subst", "") for m in minutes]
        items += [(rng.randint(8, 90), None, side, "Card", "Yellow Card") for _ in range(poisson(rng, 1.9))]
        if rng.random() < 0.05:
            items.append((rng.randint(20, 88), None, side, "Card", "Red Card"))
    if rng.random() < 0.12:
        items.append((rng.randint(5, 88), None, rng.randrange(2), "Var",
                      rng.choice(("Goal cancelled", "Goal cancelled", "Penalty confirmed"))))
    stop = oc.abandoned_at or 999
    timed = [(tl.offset(m, x), m, x, s, k, d) for m, x, s, k, d in items if m < stop]
    return sorted(timed, key=lambda item: (item[0], item[4] != "Goal"))


def _weighted(rng: random.Random, sheets: list[Sheet], weights: dict[str, float]) -> Sheet | None:
    if not sheets:
        return None
    return rng.choices(sheets, weights=[weights[s.pos] for s in sheets])[0]


class _Pitch:
    """Who is on the pitch and on the bench while events are assigned."""

    def __init__(self, sheets: list[Sheet]):
        self.on = [[s for s in sheets if s.side == side and s.starter] for side in (0, 1)]
        self.bench = [[s for s in sheets if s.side == side and not s.starter] for side in (0, 1)]
        self.booked: set[int] = set()
        self.subs = [0, 0]

    def substitute(self, rng: random.Random, side: int) -> tuple[Sheet, Sheet] | None:
        outfield = [s for s in self.on[side] if s.pos != "G"]
        if not outfield or not self.bench[side]:
            return None
        off = rng.choice(outfield)
        same = [s for s in self.bench[side] if s.pos == off.pos] or [s for s in self.bench[side] if s.pos != "G"]
        if not same:
            return None
        on = same[0]
        self.on[side].remove(off)
        self.bench[side].remove(on)
        self.on[side].append(on)
        self.subs[side] += 1
        return off, on


def _card(rng: random.Random, item: tuple, pitch: _Pitch) -> Event | None:
    offset, minute, extra, side, _, detail = item
    on = pitch.on[side]
    candidates = [s for s in on if s.player.id not in pitch.booked and (s.pos != "G" or detail != "Red Card")]
    if not candidates:
        return None
    booked = rng.choice(candidates)
    pitch.booked.add(booked.player.id)
    if detail == "Red Card":
        on.remove(booked)
    return Event(offset, minute, extra, side, "Card", detail, booked.player.id, None, rng.choice(CARD_REASONS))


def _goal(rng: random.Random, item: tuple, pitch: _Pitch) -> Event | None:
    offset, minute, extra, side, _, detail = item
    on = pitch.on[side]
    if detail == "Own Goal":  # listed under the team it counts for, scored by an opponent (as the API does)
        rivals = pitch.on[1 - side]
        scorer = _weighted(rng, [s for s in rivals if s.pos != "G"] or rivals, {"G": 1, "D": 4, "M": 2, "F": 1})
        return Event(offset, minute, extra, side, "Goal", detail, scorer.player.id, None) if scorer else None
    scorer = _weighted(rng, on, SCORER_WEIGHT)
    if scorer is None:
        return None
    mates = [s for s in on if s is not scorer]
    passer = _weighted(rng, mates, ASSIST_WEIGHT) if detail == "Normal Goal" and mates and rng.random() < 0.72 else None
    return Event(offset, minute, extra, side, "Goal", detail, scorer.player.id, passer.player.id if passer else None)


def _assign(rng: random.Random, item: tuple, pitch: _Pitch) -> Event | None:
    """The event of a skeleton item, with players chosen from who is on the pitch right now."""
    offset, minute, extra, side, kind, detail = item
    if kind == "subst":
        swap = pitch.substitute(rng, side)
        return swap and Event(offset, minute, extra, side, "subst", f"Substitution {pitch.subs[side]}",
                              swap[0].player.id, swap[1].player.id)
    if kind == "Card":
        return _card(rng, item, pitch)
    if kind == "Var":
        pick = rng.choice(pitch.on[side]) if pitch.on[side] else None
        return pick and Event(offset, minute, extra, side, "Var", detail, pick.player.id, None)
    return _goal(rng, item, pitch)


def _counts(rng: random.Random, sheet: Sheet) -> dict[str, int]:
    """Counting stats for the sheet's final minutes: each a noisy multiple of its per-90 rate."""
    if not sheet.minutes:
        return dict.fromkeys(COUNTS + ("won", "success"), 0)
    rates, share = RATES[sheet.pos], sheet.minutes / 90
    r = rng.random
    values = [int(rate * share * (0.4 + 1.2 * r()) + r()) for rate in rates]
    shots = poisson(rng, rates[0] * share)
    values[0], values[1] = shots, int(shots * (rates[1] + 0.1) + r())
    counts = dict(zip(COUNTS, values, strict=True))
    counts["won"] = int(counts["duels"] * (0.35 + 0.3 * r()) + 0.5)
    counts["success"] = int(counts["dribbles"] * (0.4 + 0.3 * r()) + 0.5)
    return counts


def minutes_played(sheets: tuple[Sheet, ...] | list[Sheet], events: list[Event], now: int) -> dict[int, int | None]:
    """Minutes each player has played when the match minute is `now`, from the events seen so far."""
    came_on = {e.assist: e.minute for e in events if e.type == "subst"}
    went_off = {e.player: e.minute for e in events if e.type == "subst"}
    went_off.update({e.player: e.minute for e in events if e.detail == "Red Card"})
    played: dict[int, int | None] = {}
    for sheet in sheets:
        pid = sheet.player.id
        start = 0 if sheet.starter else came_on.get(pid)
        played[pid] = None if start is None else max(1, min(now, went_off.get(pid, now)) - start)
    return played


def _correction(seed: int, fx: Fixture, rng: random.Random, events: list[Event]) -> tuple[int, Event] | None:
    if unit(seed, "correction", fx.id) >= 0.15:
        return None
    subs = [i for i, e in enumerate(events) if e.type == "subst"]
    goals = [i for i, e in enumerate(events) if e.type == "Goal" and e.detail in ("Normal Goal", "Penalty")
             and e.assist is not None]
    if goals and (not subs or rng.random() < 0.4):
        i = rng.choice(goals)
        e = events[i]
        return i, Event(e.offset, e.minute, e.extra, e.side, e.type, e.detail, e.assist, e.player, e.comments)
    if not subs:
        return None
    i = rng.choice(subs)
    e = events[i]
    return i, Event(e.offset, e.minute, e.extra, e.side, e.type, e.detail, e.assist, e.player, e.comments)


def build_details(seed: int, fx: Fixture, oc: Outcome, tl: Timeline,
                  squads: tuple[list[Player], list[Player]]) -> Details:
    """Lineups, events and sheets of `fx`; `squads` are the players available to each side."""
    rng = seeded(seed, "details", fx.id)
    formations = (formation_of(seed, fx.id, 0), formation_of(seed, fx.id, 1))
    sheets = _lineup(rng, 0, squads[0], formations[0]) + _lineup(rng, 1, squads[1], formations[1])
    pitch = _Pitch(sheets)
    events = [e for e in (_assign(rng, item, pitch) for item in _skeleton(rng, oc, tl)) if e is not None]
    end = oc.abandoned_at or (120 if oc.extra_time else 90)
    played = minutes_played(sheets, events, end)
    for sheet in sheets:
        sheet.minutes = played[sheet.player.id] or 0
        sheet.counts = _counts(rng, sheet)
        sheet.accuracy = max(40, min(99, int(rng.gauss(ACCURACY[sheet.pos], 6))))
        sheet.base_rating = rng.gauss(6.75, 0.35) + sheet.player.quality * 0.08
    corners = (poisson(rng, 5.2 * oc.xg[0] / 1.4), poisson(rng, 5.2 * oc.xg[1] / 1.4))
    return Details(formations, tuple(sheets), tuple(events), _correction(seed, fx, rng, events), corners, oc.xg)
