"""Fixtures (every variant of /fixtures and /fixtures/headtohead) and their details.

`/fixtures?id=`/`?ids=` items carry events, lineups, statistics and players; `?live=` items carry
events only. Each part is stored only when the item carries it, so a live item never blanks the
lineups an earlier `ids` call stored. Events have no ids and get corrected silently: a part is kept
as one JSON array and replaced as a whole when its content changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from afc.transform import fixture_status as status
from afc.transform import item, response
from afc.transform.fields import from_iso, opt_bool, opt_int, opt_num, opt_text, req_int
from afc.transform.model import Batch, Json
from afc.transform.reference import league_season_stub, league_stub, team_stub

PARTS = ("events", "lineups", "statistics", "players")
# Of players and events, the transform reads only whether each is a list and whether it is empty, and of lineups only
# what `confirmed` asks: `afc rebuild` on PostgreSQL reads them as markers of that much (afc.collect.rebuild.SLIM_PARTS
# and _LINEUPS). Reading more of them here means reading them whole there (tests/test_rebuild.py compares a rebuild
# with collection).
# Standalone detail endpoints answer a subset when filtered; only an unfiltered answer replaces a part. A filter
# sent at the API's default narrows nothing: `half=false` answers the whole match's statistics, as no `half` does.
FILTERS = ("team", "player", "type", "half")
DEFAULTS = {"half": "false"}
STAT_COLUMNS = {
    "shots on goal": "shots_on_goal", "shots off goal": "shots_off_goal", "total shots": "total_shots",
    "blocked shots": "blocked_shots", "shots insidebox": "shots_insidebox",
    "shots outsidebox": "shots_outsidebox", "fouls": "fouls", "corner kicks": "corner_kicks",
    "offsides": "offsides", "ball possession": "ball_possession", "yellow cards": "yellow_cards",
    "red cards": "red_cards", "goalkeeper saves": "goalkeeper_saves", "total passes": "total_passes",
    "passes accurate": "passes_accurate", "passes %": "passes_pct", "expected_goals": "expected_goals",
}
NO_STATS: dict[str, Any] = dict.fromkeys(STAT_COLUMNS.values())
# Each label as the API spells it ("Shots on Goal") → its column ("" for labels without one), learned on first
# sight: a handful of spellings, looked up 34 times per fixture. Bounded, so odd data cannot grow it.
_COLUMN_OF: dict[str, str] = {}
MAX_LABELS = 1_000
DETAILS_KEY = ("fixture_id",)
STATS_KEY = ("fixture_id", "team_id")


@item("fixtures", "fixtures/headtohead")
def fixture(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """A fixture with its league, teams and venue, and whatever detail parts the item carries."""
    fixture_id, short = fixture_row(entry, batch)
    parts = {part: entry[part] for part in PARTS if isinstance(entry.get(part), list)}
    if parts:
        final = status.is_finished(short) if len(parts) == len(PARTS) else None
        details(fixture_id, parts, batch, final=final)


def fixture_row(entry: Any, batch: Batch) -> tuple[int, str | None]:
    """The core.fixtures row of a /fixtures item (references first, as stubs); returns id and status."""
    info: Any = entry.get("fixture") if isinstance(entry, dict) else None
    fixture_id = req_int(info, "id")
    league = entry.get("league") or {}
    league_id = league_stub(league, batch)
    season = opt_int(league.get("season"))
    if season is not None:
        league_season_stub(league_id, season, batch)
    teams = entry.get("teams") or {}
    home, away = teams.get("home") or {}, teams.get("away") or {}
    state = info.get("status") or {}
    short = status.normalise(state.get("short"))
    group = status.GROUPS.get(short) if short else None  # status.group(short) without normalising again
    # One dict built in column order (the row's columns name its upsert); the calls run in the order they
    # did as helpers, so a malformed item fails on the same field with the same reason.
    row = {
        "id": fixture_id, "league_id": league_id, "season": season, "round": opt_text(league.get("round")),
        "kickoff_at": batch.moment(info.get("timestamp")) or from_iso(info.get("date")),
        "status_short": short, "status_long": opt_text(state.get("long")), "status_group": group,
        "elapsed": opt_int(state.get("elapsed")), "extra": opt_int(state.get("extra")),
        "referee": opt_text(info.get("referee")),
    }
    _venue(info.get("venue") or {}, row, batch)
    row["home_team_id"], row["away_team_id"] = team_stub(home, batch), team_stub(away, batch)
    _score(entry, row)
    row["home_winner"], row["away_winner"] = opt_bool(home.get("winner")), opt_bool(away.get("winner"))
    periods = info.get("periods") or {}
    row["period_first"] = batch.moment(periods.get("first"))
    row["period_second"] = batch.moment(periods.get("second"))
    batch.add("core.fixtures", ("id",), row)
    batch.touch("fixture", fixture_id)
    if group == "live":
        batch.touch("fixture_live", fixture_id)  # the live panel looks only at these and its own rows
    if season is not None:
        batch.touch("league_season", (league_id, season))
    return fixture_id, short


def _venue(venue: dict[str, Any], row: dict[str, Any], batch: Batch) -> None:
    venue_id = opt_int(venue.get("id"))
    row["venue_id"], row["venue_name"], row["venue_city"] = (
        venue_id, opt_text(venue.get("name")), opt_text(venue.get("city")))
    if venue_id is not None:
        source = (row["venue_name"], row["venue_city"])
        if not batch.holds_stub("core.venues", venue_id, source):
            batch.add_stub("core.venues", ("id",), {"id": venue_id, "name": source[0], "city": source[1]}, source)


# (score key, home column, away column): the column names built once, not per item
PERIODS = (("halftime", "ht_home", "ht_away"), ("fulltime", "ft_home", "ft_away"),
           ("extratime", "et_home", "et_away"), ("penalty", "pen_home", "pen_away"))


def _score(entry: dict[str, Any], row: dict[str, Any]) -> None:
    goals, score = entry.get("goals") or {}, entry.get("score") or {}
    row["home_goals"], row["away_goals"] = opt_int(goals.get("home")), opt_int(goals.get("away"))
    for period, home, away in PERIODS:
        both = score.get(period) or {}
        row[home], row[away] = opt_int(both.get("home")), opt_int(both.get("away"))


def details(fixture_id: int, parts: dict[str, list[Any]], batch: Batch, *, final: bool | None = None) -> None:
    """Store the detail parts given (each replaces its predecessor as a whole); others stay as they are."""
    row: dict[str, Any] = {"fixture_id": fixture_id}
    row.update((part, Json(value)) for part, value in parts.items())
    if final is not None:
        row["final"] = final
    batch.add("core.fixture_details", DETAILS_KEY, row)
    batch.touch("fixture_details", fixture_id)  # the outbox looks for lineups landing, whichever call stored them
    for part, value in parts.items():
        if not value:  # an empty answer: coverage counts these to re-check them on a schedule
            batch.touch("detail_empty", (fixture_id, part))
    if confirmed(parts.get("lineups")):
        batch.touch("lineups", fixture_id)  # the first time is marked in core (afc.collect.firstseen)
    if "statistics" in parts:
        team_stats(fixture_id, parts["statistics"], batch)
    if "events" in parts or "statistics" in parts:  # the live panel shows the latest event and statistics
        batch.touch("fixture", fixture_id)


def confirmed(lineups: list[Any] | None) -> bool:
    """Whether a lineups part holds both teams' starting elevens (an empty or one-sided part does not)."""
    if not lineups or len(lineups) < 2:
        return False
    return all(isinstance(side, dict) and bool(side.get("startXI")) for side in lineups)


def team_stats(fixture_id: int, statistics: list[Any], batch: Batch) -> None:
    """One row per team with the statistics' string numbers parsed ("57%" → 57, "1.87" → 1.87)."""
    batch.replace_scope("core.fixture_team_stats", ("fixture_id",))
    if not statistics:  # an empty part: the rows of an earlier answer go with it
        batch.empty_scope("core.fixture_team_stats", ("fixture_id",), (fixture_id,))
    for side in statistics:
        team_id = team_stub(side.get("team"), batch)
        row: dict[str, Any] = {"fixture_id": fixture_id, "team_id": team_id} | NO_STATS
        for stat in side.get("statistics") or []:
            label = stat.get("type", "")
            column = _COLUMN_OF.get(label) if type(label) is str else None
            if column is None:
                column = STAT_COLUMNS.get(str(label).strip().lower(), "")
                if type(label) is str and len(_COLUMN_OF) < MAX_LABELS:
                    _COLUMN_OF[label] = column
            if column:
                row[column] = opt_num(stat.get("value"))
        batch.add("core.fixture_team_stats", STATS_KEY, row)


def filtered(params: Mapping[str, str]) -> bool:
    """Whether a standalone detail request names a filter that makes its answer a subset of the part."""
    return any(params.get(name) and str(params[name]).strip().lower() != DEFAULTS.get(name) for name in FILTERS)


def _standalone(part: str) -> Any:
    def transform(items: Any, params: Mapping[str, str], batch: Batch) -> None:
        if filtered(params):
            return  # a filtered answer is a subset: kept in raw, never replaces the stored part
        fixture_id = req_int(params, "fixture")
        batch.add("core.fixtures", ("id",), {"id": fixture_id}, stub=True)
        details(fixture_id, {part: list(items)}, batch)

    transform.__doc__ = f"/fixtures/{part} for one fixture: replaces its stored {part}."
    return transform


for _part in PARTS:
    response(f"fixtures/{_part}")(_standalone(_part))
