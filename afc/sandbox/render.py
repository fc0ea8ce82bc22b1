"""API shapes of a fixture at one moment: the /fixtures item and its events, lineups, statistics
and players, as far as the match has got (live statistics grow with the minutes played)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Protocol

from afc.sandbox.catalog import LEAGUE_BY_ID, MEDIA, STATUS_LONG, flag_url, league_logo
from afc.sandbox.clubs import Team, Venue
from afc.sandbox.match import Details, Event, Sheet
from afc.sandbox.outcome import Outcome
from afc.sandbox.people import Coach
from afc.sandbox.schedule import Fixture
from afc.sandbox.timeline import Phase, Timeline


class Directory(Protocol):
    """What rendering needs to look up: teams, venues, coaches."""

    def team(self, team_id: int) -> Team: ...

    def venue(self, venue_id: int) -> Venue: ...

    def coach(self, team_id: int) -> Coach: ...


def iso(moment: datetime, zone: tzinfo) -> str:
    """ISO 8601 with the offset of `zone`, seconds included, as the API writes dates."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def league_ref(league_id: int, season: int) -> dict:
    """The `league` object most items embed."""
    league = LEAGUE_BY_ID[league_id]
    return {"id": league.id, "name": league.name, "country": league.country, "logo": league_logo(league.id),
            "flag": flag_url(league.country), "season": season}


def _pair(values: tuple[int, int] | None) -> dict:
    return {"home": values[0], "away": values[1]} if values else {"home": None, "away": None}


def _score(oc: Outcome, tl: Timeline, clock: float | None) -> tuple[dict, dict]:
    if clock is None:
        return _pair(None), {k: _pair(None) for k in ("halftime", "fulltime", "extratime", "penalty")}
    seen = [g for g in oc.goals if tl.offset(g.minute, g.extra) <= clock]
    goals = (sum(g.side == 0 for g in seen), sum(g.side == 1 for g in seen))
    half, full = oc.score(45), oc.score(90)
    after_et = (goals[0] - full[0], goals[1] - full[1])
    score = {
        "halftime": _pair(half if clock >= tl.h1_end else None),
        "fulltime": _pair(full if clock >= tl.h2_end and oc.abandoned_at is None else None),
        "extratime": _pair(after_et if oc.extra_time and clock >= tl.et2_end else None),
        "penalty": _pair(oc.shootout if oc.shootout and clock >= tl.end else None),
    }
    return _pair(goals), score


def _winners(ph: Phase, oc: Outcome) -> tuple[bool | None, bool | None]:
    if ph.short not in ("FT", "AET", "PEN"):
        return None, None
    home, away = oc.final
    if ph.short == "PEN" and oc.shootout:
        home, away = oc.shootout
    elif ph.short == "AET":
        full = oc.score(90)
        home, away = home - full[0], away - full[1]
    return (None, None) if home == away else (home > away, away > home)


def fixture_item(d: Directory, fx: Fixture, oc: Outcome, tl: Timeline, ph: Phase, zone: tzinfo, zone_name: str) -> dict:
    """The /fixtures item (without details) at phase `ph`, dates in `zone`."""
    venue = d.venue(fx.venue_id)
    home, away = d.team(fx.home_id), d.team(fx.away_id)
    goals, score = _score(oc, tl, ph.clock)
    winners = _winners(ph, oc)
    return {
        "fixture": {"id": fx.id, "referee": fx.referee, "timezone": zone_name, "date": iso(ph.date, zone),
                    "timestamp": int(ph.date.timestamp()), "periods": {"first": ph.first, "second": ph.second},
                    "venue": {"id": venue.id, "name": venue.name, "city": venue.city},
                    "status": {"long": STATUS_LONG[ph.short], "short": ph.short, "elapsed": ph.elapsed,
                               "extra": ph.extra}},
        "league": {**league_ref(fx.league_id, fx.season), "round": fx.round, "standings": True},
        "teams": {"home": {**home.ref(), "winner": winners[0]}, "away": {**away.ref(), "winner": winners[1]}},
        "goals": goals,
        "score": score,
    }


def visible_events(det: Details, clock: float | None, corrected: bool) -> list[Event]:
    """The events seen by `clock`, with the pre-correction version until `corrected`."""
    if clock is None:
        return []
    events = list(det.events)
    if det.wrong and not corrected:
        events[det.wrong[0]] = det.wrong[1]
    return [e for e in events if e.offset <= clock]


def events_json(d: Directory, det: Details, fx: Fixture, events: list[Event]) -> list[dict]:
    """The `events` array."""
    names: dict[int | None, str] = {s.player.id: s.player.name for s in det.sheets}
    teams = (d.team(fx.home_id).ref(), d.team(fx.away_id).ref())
    return [{"time": {"elapsed": e.minute, "extra": e.extra}, "team": teams[e.side],
             "player": {"id": e.player, "name": names.get(e.player)},
             "assist": {"id": e.assist, "name": names.get(e.assist)},
             "type": e.type, "detail": e.detail, "comments": e.comments} for e in events]


def lineups_json(d: Directory, det: Details, fx: Fixture) -> list[dict]:
    """The `lineups` array."""
    result = []
    for side, team_id in enumerate((fx.home_id, fx.away_id)):
        team, coach = d.team(team_id), d.coach(team_id)
        primary, number = team.colors
        colors = {"player": {"primary": primary, "number": number, "border": primary},
                  "goalkeeper": {"primary": "1d1d1b" if primary != "1d1d1b" else "99ff99", "number": "ffffff",
                                 "border": "1d1d1b"}}
        mine = [s for s in det.sheets if s.side == side]
        result.append({
            "team": {**team.ref(), "colors": colors},
            "coach": {"id": coach.id, "name": coach.name, "photo": f"{MEDIA}/football/coachs/{coach.id}.png"},
            "formation": det.formations[side],
            "startXI": [{"player": _lineup_player(s)} for s in mine if s.starter],
            "substitutes": [{"player": _lineup_player(s)} for s in mine if not s.starter],
        })
    return result


def _lineup_player(s: Sheet) -> dict:
    return {"id": s.player.id, "name": s.player.name, "number": s.player.number, "pos": s.pos, "grid": s.grid}
