"""Per-player and per-team match statistics at a moment, derived from the sheets and the events seen.

Team numbers are sums of player numbers (shots, fouls, passes...), cards come from the events,
and goalkeeper saves are the opponent's shots on target that did not go in, so the three views
of a match (`statistics`, `players`, `events`) agree with each other and with the score.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from afc.sandbox.match import Details, Event, Sheet, minutes_played

EMPTY: Counter = Counter()  # shared, never modified


@dataclass
class Line:
    """One player's numbers at this moment."""

    sheet: Sheet
    minutes: int | None
    counts: dict[str, int]
    tally: Counter
    conceded: int = 0
    saves: int | None = None


def _tallies(events: list[Event]) -> dict[int | None, Counter]:
    tallies: dict[int | None, Counter] = {}
    for e in events:
        if e.type == "Goal":
            tallies.setdefault(e.player, Counter())[e.detail] += 1
            if e.assist is not None:
                tallies.setdefault(e.assist, Counter())["assist"] += 1
        elif e.type == "Card":
            tallies.setdefault(e.player, Counter())[e.detail] += 1
    return tallies


def team_goals(events: list[Event]) -> tuple[int, int]:
    """Goals per side from the events (an own goal is listed under the side it counts for)."""
    goals = [0, 0]
    for e in events:
        if e.type == "Goal" and e.detail != "Missed Penalty":
            goals[e.side] += 1
    return goals[0], goals[1]


def tally(det: Details, events: list[Event], now: int) -> list[Line]:
    """Every player's line when the match minute is `now` and `events` have happened."""
    played = minutes_played(det.sheets, events, now)
    tallies = _tallies(events)
    lines = []
    for s in det.sheets:
        minutes = played[s.player.id]
        factor = 0.0 if not minutes else min(1.0, minutes / s.minutes) if s.minutes else 1.0
        counts = dict(s.counts) if factor == 1.0 else {k: round(v * factor) for k, v in s.counts.items()}
        t = tallies.get(s.player.id, EMPTY)
        counts["on"] = max(counts["on"], t["Normal Goal"] + t["Penalty"])
        counts["shots"] = max(counts["shots"], counts["on"])
        lines.append(Line(s, minutes, counts, t))
    goals = team_goals(events)
    own_goals = [sum(1 for e in events if e.detail == "Own Goal" and e.side == side) for side in (0, 1)]
    for side in (0, 1):
        keeper = next((ln for ln in lines if ln.sheet.side == side and ln.sheet.pos == "G" and ln.minutes), None)
        if keeper:
            keeper.conceded = goals[1 - side]
            opponent_on = sum(ln.counts["on"] for ln in lines if ln.sheet.side != side)
            keeper.saves = max(0, opponent_on - (goals[1 - side] - own_goals[1 - side]))
    return lines


def rating(line: Line) -> str | None:
    """The match rating as the API writes it ("7.2"); null for a player who did not play."""
    if not line.minutes:
        return None
    t = line.tally
    value = line.sheet.base_rating + 0.9 * (t["Normal Goal"] + t["Penalty"]) + 0.5 * t["assist"]
    value -= 1.0 * t["Red Card"] + 0.6 * t["Own Goal"] + 0.3 * t["Missed Penalty"]
    return f"{min(9.9, max(4.5, value)):.1f}"


def _nz(value: int) -> int | None:
    return value or None


def player_json(line: Line) -> dict:
    """The `statistics[0]` of one player in /fixtures/players."""
    s, c, t = line.sheet, line.counts, line.tally
    played = bool(line.minutes)
    keeper = s.pos == "G"
    return {
        "games": {"minutes": line.minutes, "number": s.player.number, "position": s.pos, "rating": rating(line),
                  "captain": s.captain, "substitute": not s.starter},
        "offsides": _nz(c["offsides"]),
        "shots": {"total": _nz(c["shots"]), "on": _nz(c["on"])},
        "goals": {"total": _nz(t["Normal Goal"] + t["Penalty"]), "conceded": line.conceded,
                  "assists": _nz(t["assist"]), "saves": line.saves if keeper and played else None},
        "passes": {"total": _nz(c["passes"]), "key": _nz(c["key"]),
                   "accuracy": f"{s.accuracy}%" if c["passes"] else None},
        "tackles": {"total": _nz(c["tackles"]), "blocks": _nz(c["blocks"]), "interceptions": _nz(c["interceptions"])},
        "duels": {"total": _nz(c["duels"]), "won": _nz(c["won"])},
        "dribbles": {"attempts": _nz(c["dribbles"]), "success": _nz(c["success"]), "past": _nz(c["past"])},
        "fouls": {"drawn": _nz(c["drawn"]), "committed": _nz(c["committed"])},
        "cards": {"yellow": t["Yellow Card"], "red": t["Red Card"]},
        "penalty": {"won": None, "commited": None, "scored": t["Penalty"], "missed": t["Missed Penalty"],
                    "saved": 0 if keeper and played else None},
    }


def team_statistics(det: Details, lines: list[Line], side: int, progress: float) -> list[dict]:
    """The 18 `{type, value}` entries of one side in /fixtures/statistics."""
    mine = [ln for ln in lines if ln.sheet.side == side]
    total = lambda key: sum(ln.counts[key] for ln in mine)  # noqa: E731
    passes_all = sum(ln.counts["passes"] for ln in lines) or 1
    passes = total("passes")
    accurate = sum(round(ln.counts["passes"] * ln.sheet.accuracy / 100) for ln in mine)
    shots, on = total("shots"), total("on")
    blocked = round((shots - on) * 0.25)
    inside = round(shots * 0.62)
    saves = sum(ln.saves or 0 for ln in mine)
    yellow = sum(ln.tally["Yellow Card"] for ln in mine)
    red = sum(ln.tally["Red Card"] for ln in mine)
    values = (
        ("Shots on Goal", on), ("Shots off Goal", shots - on - blocked), ("Total Shots", shots),
        ("Blocked Shots", blocked), ("Shots insidebox", inside), ("Shots outsidebox", shots - inside),
        ("Fouls", total("committed")), ("Corner Kicks", round(det.corners[side] * progress)),
        ("Offsides", total("offsides")), ("Ball Possession", f"{round(100 * passes / passes_all)}%"),
        ("Yellow Cards", yellow), ("Red Cards", red or None), ("Goalkeeper Saves", saves),
        ("Total passes", passes), ("Passes accurate", accurate),
        ("Passes %", f"{round(100 * accurate / passes)}%" if passes else None),
        ("expected_goals", f"{det.xg[side] * progress:.2f}"), ("goals_prevented", 0),
    )
    return [{"type": name, "value": value} for name, value in values]
