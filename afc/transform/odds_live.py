"""/odds/live: the in-play prices of fixtures being played, now (core.odds_live) and as history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from afc.transform import item
from afc.transform.fields import from_iso, opt_int, opt_num, opt_text, path, req_int, req_list
from afc.transform.history import IN_PLAY_BOOKMAKER, odds_price
from afc.transform.matchday import fixture_stub, value_label
from afc.transform.model import Batch
from afc.transform.reference import league_season_stub, league_stub

KEY = ("fixture_id", "bet_id", "value")


def _label(value: dict[str, Any]) -> str:
    """A live line's selection with its handicap, as pre-match labels read: "Over" + "2.5" → "Over 2.5"."""
    label, handicap = value_label(value.get("value")), opt_text(value.get("handicap"))
    return f"{label} {handicap}" if handicap else label


def _labels(values: list[dict[str, Any]]) -> list[str]:
    """Each line's label, unique within its bet: the API repeats a selection and handicap with other prices
    (a recorded Asian Handicap lists "Home -1" four times, one of them `main`), so the main line keeps the
    plain label and the others are numbered in the order sent ("Home -1 #2")."""
    ordered = sorted(range(len(values)), key=lambda i: values[i].get("main") is not True)
    seen: dict[str, int] = {}
    labels = [""] * len(values)
    for index in ordered:
        label = _label(values[index])
        seen[label] = seen.get(label, 0) + 1
        labels[index] = label if seen[label] == 1 else f"{label} #{seen[label]}"
    return labels


@item("odds/live")
def live_odds(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """Every line of one fixture in play; lines the feed no longer offers are dropped from core.odds_live."""
    league = entry.get("league") or {}
    league_id, season = league_stub(league, batch), opt_int(league.get("season"))
    if season is not None:
        league_season_stub(league_id, season, batch)
    fixture_id = fixture_stub(entry.get("fixture") or {}, league_id, season, batch)
    batch.replace_scope("core.odds_live", ("fixture_id", "bet_id") if params.get("bet") else ("fixture_id",))
    updated, elapsed = from_iso(entry.get("update")), opt_int(path(entry, "fixture", "status", "elapsed"))
    lines = req_list(entry, "odds")
    if not lines and not params.get("bet"):  # the feed offers no line now: the kept ones go
        batch.empty_scope("core.odds_live", ("fixture_id",), (fixture_id,))
    for bet in lines:
        bet_id, bet_name = req_int(bet, "id"), opt_text(bet.get("name"))
        values = bet.get("values") or []
        for value, label in zip(values, _labels(values), strict=True):
            odd = value.get("odd")
            batch.add("core.odds_live", KEY, {
                "fixture_id": fixture_id, "bet_id": bet_id, "value": label, "bet_name": bet_name,
                "handicap": opt_text(value.get("handicap")),
                "main": value.get("main") if isinstance(value.get("main"), bool) else None,
                "suspended": value.get("suspended") if isinstance(value.get("suspended"), bool) else None,
                "odd": opt_num(odd), "odd_text": opt_text(odd), "elapsed": elapsed, "odds_updated_at": updated})
            odds_price(batch, {"fixture_id": fixture_id, "bookmaker_id": IN_PLAY_BOOKMAKER, "bet_id": bet_id,
                               "value": label, "bookmaker_name": None, "bet_name": bet_name, "odd": opt_num(odd),
                               "odd_text": opt_text(odd), "odds_updated_at": updated}, in_play=True)
