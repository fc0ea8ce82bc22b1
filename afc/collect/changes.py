"""What changed in a fixture between two observations, as notification events (pure: dicts in, events out).

The "before" is the state the outbox kept from the fixture's last observation; the "after" is what core
holds once a response is stored. Every event carries a key derived from the data (fixture, kind, team,
player, minute, sequence), so observing the same thing twice yields the same key and the outbox's
unique index drops the repeat. An incident (goal, red card, missed penalty) that was notified and has
gone from the API's list — a silent correction — yields a cancelling event for it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from afc.transform import fixture_status as status

SCHEMA = 1  # the event JSON's version (docs/notify.md); bumped only on an incompatible change
VOID_KINDS = {"PST": "postponed", "CANC": "cancelled", "ABD": "abandoned"}
# Past this time after kickoff a change is no longer news (yesterday's result seen by the daily run,
# a correction weeks later); it covers extra time, penalties and the live loop's re-check after full time.
HISTORY_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class Observation:
    """A fixture as core holds it now, with the names a receiver shows."""

    fixture_id: int
    league: dict[str, Any]
    kickoff_at: datetime | None
    status: str | None
    elapsed: int | None
    home: dict[str, Any]
    away: dict[str, Any]
    score: tuple[int | None, int | None]
    events: list[Any] | None
    lineups: list[Any] | None


@dataclass(frozen=True)
class Notice:
    """One event for the outbox: its key, kind and JSON body."""

    key: str
    kind: str
    body: dict[str, Any] = field(hash=False)


def diff(now: Observation, before: dict[str, Any] | None, at: datetime) -> tuple[list[Notice], dict[str, Any]]:
    """The events between `before` (None: never observed) and `now` seen at `at`, and the state to keep.

    A first observation is a baseline and notifies nothing, unless the match is already in play: then
    it is compared with a match not yet started, so joining mid-match still reports kickoff and goals.
    A match that kicked off more than HISTORY_AFTER before `at` is history: its state is kept, silently.
    """
    listed = incidents(now)
    after = _state(now, (before or {}).get("incidents", {}), listed)
    history = now.kickoff_at is not None and at - now.kickoff_at > HISTORY_AFTER
    if history or (before is None and not status.is_live(now.status)):
        return [], after
    base = before or {"status": None, "score": [0, 0], "incidents": {}, "lineups": False}
    found = _status_events(now, base) + _incident_events(now, listed, base, after) + _lineup_events(now, base)
    return found, after


def state_of(now: Observation, kept: dict[str, Any]) -> dict[str, Any]:
    """The state to keep: status, score, the incidents listed now (kept as they were when the list is unknown)."""
    return _state(now, kept, incidents(now))


def _state(now: Observation, kept: dict[str, Any], listed: dict[str, Any] | None) -> dict[str, Any]:
    return {"status": now.status, "score": list(now.score), "lineups": lineups_confirmed(now),
            "incidents": kept if listed is None else {key: brief for key, (brief, _) in listed.items()}}


def _status_events(now: Observation, before: dict[str, Any]) -> list[Notice]:
    was, code = before.get("status"), now.status
    found: list[Notice] = []
    if status.is_finished(code) and status.is_finished(was) and list(now.score) != before.get("score"):
        home, away = now.score
        found.append(_notice(now, "score_corrected", f"{now.fixture_id}:score_corrected:{home}-{away}"))
    if code == was or code is None:
        return found
    if status.is_live(code) and not status.is_live(was) and not status.is_finished(was):
        found.append(_notice(now, "kickoff", f"{now.fixture_id}:kickoff"))
    if code == "HT":
        found.append(_notice(now, "half_time", f"{now.fixture_id}:half_time"))
    if status.is_finished(code) and not status.is_finished(was):
        found.append(_notice(now, "full_time", f"{now.fixture_id}:full_time"))
    if code in VOID_KINDS:
        kind = VOID_KINDS[code]
        found.append(_notice(now, kind, f"{now.fixture_id}:{kind}"))
    return found


def _incident_events(now: Observation, listed: dict[str, Any] | None, before: dict[str, Any],
                     after: dict[str, Any]) -> list[Notice]:
    if listed is None:
        return []
    old: dict[str, Any] = before.get("incidents", {})
    found = [_notice(now, brief["kind"], key, detail) for key, (brief, detail) in listed.items() if key not in old]
    for key, brief in old.items():
        if key not in after["incidents"]:
            kind = "goal_cancelled" if brief["kind"] == "goal" else "correction"
            found.append(_notice(now, kind, f"{key}:cancelled", {**brief, "cancels": key,
                                                                  "cancelled_kind": brief["kind"]}))
    return found


def _lineup_events(now: Observation, before: dict[str, Any]) -> list[Notice]:
    if before.get("lineups") or not lineups_confirmed(now) or status.group(now.status) != "scheduled":
        return []
    return [_notice(now, "lineups_confirmed", f"{now.fixture_id}:lineups_confirmed",
                    {"lineups": [_lineup(side) for side in now.lineups or []]})]


def lineups_confirmed(now: Observation) -> bool:
    """Both teams' starting elevens are in core."""
    sides = now.lineups or []
    return len(sides) == 2 and all(isinstance(s, dict) and s.get("startXI") for s in sides)


def _lineup(side: dict[str, Any]) -> dict[str, Any]:
    team = side.get("team") or {}
    players = [(entry.get("player") or {}) for entry in side.get("startXI") or [] if isinstance(entry, dict)]
    return {"team": {"id": team.get("id"), "name": team.get("name")}, "formation": side.get("formation"),
            "start_xi": [{"id": p.get("id"), "name": p.get("name"), "number": p.get("number"), "pos": p.get("pos")}
                         for p in players]}


NOTIFIED_TYPES = frozenset({"goal", "card", "var"})  # the API's event types `kind_of` can notify


def kind_of(event: Any) -> str | None:
    """The notification kind of one API event, or None for what is not notified (subs, yellow cards)."""
    if not isinstance(event, dict):
        return None
    kind, detail = str(event.get("type") or "").lower(), str(event.get("detail") or "").lower()
    if kind == "goal":
        return "penalty_missed" if "missed" in detail else "goal"
    if kind == "card" and ("red" in detail or "second yellow" in detail):
        return "red_card"
    if kind == "var" and "goal" in detail and ("cancel" in detail or "disallow" in detail):
        return "goal_disallowed"
    return None


def incidents(now: Observation) -> dict[str, tuple[dict[str, Any], dict[str, Any]]] | None:
    """Key → (what a later correction needs, the event's fields) for each notifiable event listed.

    None when the list is unknown: never fetched, or empty while the score says goals were scored
    (an API hiccup, not a correction).
    """
    if now.events is None or (not now.events and any(now.score)):
        return None
    seen: Counter[tuple[Any, ...]] = Counter()
    found = {}
    for event in now.events:
        kind = kind_of(event)
        if kind is None:
            continue
        team, player = event.get("team") or {}, event.get("player") or {}
        when = event.get("time") or {}
        minute, extra = when.get("elapsed"), when.get("extra")
        ident = (kind, team.get("id"), player.get("id"), minute, extra)
        seen[ident] += 1
        at = f"{minute}+{extra}" if extra else f"{minute}"
        key = f"{now.fixture_id}:{kind}:{team.get('id')}:{player.get('id')}:{at}:{seen[ident]}"
        detail = {"team": {"id": team.get("id"), "name": team.get("name")},
                  "player": {"id": player.get("id"), "name": player.get("name")},
                  "minute": minute, "extra": extra, "detail": event.get("detail")}
        assist = event.get("assist") or {}
        if kind == "goal":
            detail["assist"] = {"id": assist.get("id"), "name": assist.get("name")} if assist.get("id") else None
        found[key] = ({"kind": kind, **detail}, detail)
    return found


def reads_alike(events: Any, lineups: Any, scheduled: bool) -> bool:
    """Whether every value the events read of these parts (`kind_of`, `incidents`, `lineups_confirmed`, and when the
    match is `scheduled`, `_lineup`) is text without NUL, an integer, a boolean or null: then the parts as parsed
    from the API's answer read exactly as the database gives them back. A float may not (jsonb gives 4.5e1 back as
    45), nor a NUL (dropped). Most values are never read: a finished match's lineups are only counted."""
    for event in events if isinstance(events, list) else ():
        if isinstance(event, dict) and not _event_alike(event):
            return False
    if not isinstance(lineups, list) or len(lineups) != 2:  # only two sides can be confirmed
        return True
    sides = [side for side in lineups if isinstance(side, dict)]
    if not all(side.get("startXI") is None or type(side.get("startXI")) is list for side in sides):
        return False
    return not scheduled or all(_side_alike(side) for side in sides)


def _event_alike(event: dict[str, Any]) -> bool:
    kind, detail = event.get("type"), event.get("detail")
    if (type(kind) is str and "\x00" in kind) or (type(detail) is str and "\x00" in detail):
        return False  # a float's text cannot name a kind (`kind_of`); a NUL's absence may
    if type(kind) is not str or kind.lower() not in NOTIFIED_TYPES or kind_of(event) is None:
        return True
    sides = [event.get(name) or {} for name in ("team", "player", "assist", "time")]
    if not all(isinstance(side, dict) for side in sides):
        return False
    team, player, assist, when = sides
    return _plain((detail, team.get("id"), team.get("name"), player.get("id"), player.get("name"), assist.get("id"),
                   assist.get("name"), when.get("elapsed"), when.get("extra")))


def _side_alike(side: dict[str, Any]) -> bool:
    team = side.get("team") or {}
    if not isinstance(team, dict) or not _plain((team.get("id"), team.get("name"), side.get("formation"))):
        return False
    for entry in side.get("startXI") or ():
        player = (entry.get("player") or {}) if isinstance(entry, dict) else {}
        if not isinstance(player, dict) or not _plain((player.get("id"), player.get("name"), player.get("number"),
                                                       player.get("pos"))):
            return False
    return True


def _plain(values: tuple[Any, ...]) -> bool:
    for value in values:
        kind = type(value)
        if kind is str:
            if "\x00" in value:
                return False
        elif kind is not int and kind is not bool and value is not None:
            return False
    return True


def _notice(now: Observation, kind: str, key: str, detail: dict[str, Any] | None = None) -> Notice:
    home, away = now.score
    body = {"schema": SCHEMA, "key": key, "kind": kind, "fixture": {
        "id": now.fixture_id, "league": now.league,
        "kickoff_at": now.kickoff_at.isoformat() if now.kickoff_at else None,
        "status": now.status, "elapsed": now.elapsed, "home": now.home, "away": now.away,
        "score": {"home": home, "away": away}}}
    body.update(detail or {})
    body["kind"] = kind  # a correction's detail names the kind it cancels: the event's own kind wins
    return Notice(key, kind, body)
