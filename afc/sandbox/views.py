"""Fixture items at a moment, cached for as long as they cannot change.

A fixture's item is piecewise constant in time: it changes at kickoff, at each minute of play and
at each goal, then never again. Each rendered item is kept with the interval it is valid for (the
most recently asked, see `memo.SIZES`), so a full season list or an `ids=` batch of finished fixtures
asked again is served from memory.
"""

from __future__ import annotations

import functools
import json
import math
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from afc.sandbox import render, sheets
from afc.sandbox.catalog import LEAGUE_BY_ID
from afc.sandbox.rng import unit
from afc.sandbox.timeline import Phase
from afc.sandbox.truth import Truth

ALL_SECTIONS = ("events", "lineups", "statistics", "players")
LINEUPS_EARLIEST, LINEUPS_LATEST = 40, 20  # minutes before kickoff: lineups appear 20-40 minutes before it


@functools.lru_cache(maxsize=512)
def zone(name: str) -> tzinfo:
    """The tzinfo of an IANA name from /timezone (UTC for "UTC")."""
    return UTC if name == "UTC" else ZoneInfo(name)


def _valid_until(world: Truth, fixture_id: int, ph: Phase) -> datetime | None:
    if ph.clock is None or math.isinf(ph.clock) or ph.until is None:
        return ph.until
    tl, kickoff = world.timeline(fixture_id), world.known_fixture(fixture_id).kickoff
    upcoming = [o for o in (tl.offset(g.minute, g.extra) for g in tl.outcome.goals) if o > ph.clock]
    if upcoming:
        return min(ph.until, kickoff + timedelta(seconds=min(upcoming)))
    return ph.until


def to_json(value: object) -> str:
    """Compact JSON text as the API writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _cached(world: Truth, fixture_id: int, at: datetime, zone_name: str) -> list:
    """[valid from, valid until, item, its JSON or None] for the fixture's item at `at`."""
    items = world.memo["items"]
    hit = items.get((fixture_id, zone_name))
    if hit and hit[0] <= at and (hit[1] is None or at < hit[1]):
        return hit
    fx = world.known_fixture(fixture_id)
    ph = world.phase(fixture_id, at)
    item = render.fixture_item(world, fx, world.outcome(fixture_id), world.timeline(fixture_id), ph,
                               zone(zone_name), zone_name)
    return items.put((fixture_id, zone_name), [at, _valid_until(world, fixture_id, ph), item, None])


def base_item(world: Truth, fixture_id: int, at: datetime, zone_name: str) -> dict:
    """The /fixtures item without details; callers must not modify it (it is shared)."""
    return _cached(world, fixture_id, at, zone_name)[2]


def item_json(world: Truth, fixture_id: int, at: datetime, zone_name: str) -> str:
    """`base_item` as JSON text, serialised once per state."""
    entry = _cached(world, fixture_id, at, zone_name)
    if entry[3] is None:
        entry[3] = to_json(entry[2])
    return entry[3]


def lineups_published(world: Truth, fixture_id: int) -> datetime | None:
    """When a fixture's lineups appear (None: only once it is played, in leagues without livescore)."""
    fx = world.known_fixture(fixture_id)
    if not world.livescore(fixture_id) or fx.fate == "CANC":
        return None
    minutes = LINEUPS_LATEST + (LINEUPS_EARLIEST - LINEUPS_LATEST) * unit(world.seed, "lineups", fixture_id)
    return fx.kickoff - timedelta(minutes=round(minutes))


def _lineups_visible(world: Truth, fixture_id: int, at: datetime, ph: Phase) -> bool:
    if ph.short in ("PST", "CANC", "TBD"):
        return False
    published = lineups_published(world, fixture_id)
    return ph.clock is not None if published is None else at >= published


def _now_minute(world: Truth, fixture_id: int, ph: Phase) -> tuple[int, float]:
    """The match minute for minutes played, and how far through the match we are (0..1)."""
    oc = world.outcome(fixture_id)
    if (ph.clock is not None and math.isinf(ph.clock)) or ph.short == "ABD":
        minute = oc.abandoned_at or (120 if oc.extra_time else 90)
        return minute, 1.0 if ph.short != "ABD" else minute / 90
    return ph.elapsed or 0, min(1.0, (ph.elapsed or 0) / 90)


def _sheets(world: Truth, fixture_id: int, at: datetime, ph: Phase, events: list, wanted: tuple[str, ...],
            flags: dict) -> dict:
    """The statistics and players arrays, as far as the match has got."""
    fx, det, out = world.known_fixture(fixture_id), world.details(fixture_id), {}
    minute, progress = _now_minute(world, fixture_id, ph)
    # The same at every poll within a match minute (a live poll comes several times a minute): tallied once.
    lines = world.memo.remember("lines", (fixture_id, minute, tuple(events)), lambda: sheets.tally(det, events, minute))
    teams = (world.team(fx.home_id), world.team(fx.away_id))
    if "statistics" in wanted and flags["statistics_fixtures"]:
        out["statistics"] = [{"team": teams[side].ref(),
                              "statistics": sheets.team_statistics(det, lines, side, progress)} for side in (0, 1)]
    if "players" in wanted and flags["statistics_players"]:
        done = world.finished_at(fixture_id)
        update = render.iso(min(at, done + timedelta(minutes=20)) if done else at, UTC)
        out["players"] = [{"team": {**teams[side].ref(), "update": update},
                           "players": [{"player": {"id": ln.sheet.player.id, "name": ln.sheet.player.name,
                                                   "photo": ln.sheet.player.photo},
                                        "statistics": [sheets.player_json(ln)]}
                                       for ln in lines if ln.sheet.side == side]}
                          for side in (0, 1)]
    return out


def sections(world: Truth, fixture_id: int, at: datetime, ph: Phase, wanted: tuple[str, ...]) -> dict:
    """The requested detail arrays (events, lineups, statistics, players) at `at`, coverage applied."""
    fx = world.known_fixture(fixture_id)
    flags = LEAGUE_BY_ID[fx.league_id].coverage()["fixtures"]
    out: dict[str, list] = {name: [] for name in wanted}
    lineups = "lineups" in wanted and _lineups_visible(world, fixture_id, at, ph)
    if ph.clock is None and not lineups:
        return out
    det = world.details(fixture_id)
    corrected_at = world.corrected_at(fixture_id)
    events = render.visible_events(det, ph.clock, corrected_at is None or at >= corrected_at)
    if "events" in wanted and flags["events"]:
        out["events"] = render.events_json(world, det, fx, events)
    if lineups and flags["lineups"]:
        out["lineups"] = render.lineups_json(world, det, fx)
    if ph.clock is not None:
        out.update(_sheets(world, fixture_id, at, ph, events, wanted, flags))
    return out


def state_json(world: Truth, fixture_id: int, at: datetime, zone_name: str, wanted: tuple[str, ...]) -> str:
    """`fixture_state` as JSON text; a finished, corrected fixture is serialised only once."""
    if not wanted:
        return item_json(world, fixture_id, at, zone_name)
    ph = world.phase(fixture_id, at)
    corrected_at = world.corrected_at(fixture_id) if ph.clock is not None and math.isinf(ph.clock) else None
    if ph.clock is None or not math.isinf(ph.clock) or (corrected_at is not None and at < corrected_at):
        return to_json(fixture_state(world, fixture_id, at, zone_name, wanted))
    return world.memo.remember("state-json", (fixture_id, zone_name, wanted),
                               lambda: to_json(fixture_state(world, fixture_id, at, zone_name, wanted)))


def fixture_state(world: Truth, fixture_id: int, at: datetime, zone_name: str, wanted: tuple[str, ...]) -> dict:
    """The /fixtures item at `at` with the `wanted` detail arrays embedded."""
    item = base_item(world, fixture_id, at, zone_name)
    if not wanted:
        return item
    ph = world.phase(fixture_id, at)
    final = ph.clock is not None and math.isinf(ph.clock)
    corrected_at = world.corrected_at(fixture_id) if final else None
    if final and (corrected_at is None or at >= corrected_at):
        arrays = world.memo.remember("sections", (fixture_id, wanted),
                                     lambda: sections(world, fixture_id, at, ph, wanted))
        return {**item, **arrays}
    return {**item, **sections(world, fixture_id, at, ph, wanted)}
