"""The /fixtures item transform as it was before it was written straight-line (afc 2026-12-06): the reference
that `test_transform_fast` runs mutated real items through, next to the live one, to show both give the same
rows, stubs, marks and quarantine reasons. Frozen: not to be changed with the live code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from afc.transform import fixture_status as status
from afc.transform.fields import from_iso, from_timestamp, opt_bool, opt_int, opt_text, req_int
from afc.transform.fixtures import PARTS, details
from afc.transform.model import Batch


def fixture(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    fixture_id, short = fixture_row(entry, batch)
    parts = {part: entry[part] for part in PARTS if isinstance(entry.get(part), list)}
    if parts:
        final = status.is_finished(short) if len(parts) == len(PARTS) else None
        details(fixture_id, parts, batch, final=final)


def fixture_row(entry: Any, batch: Batch) -> tuple[int, str | None]:
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
    group = status.GROUPS.get(short) if short else None
    row = {
        "id": fixture_id, "league_id": league_id, "season": season, "round": opt_text(league.get("round")),
        "kickoff_at": from_timestamp(info.get("timestamp")) or from_iso(info.get("date")),
        "status_short": short, "status_long": opt_text(state.get("long")), "status_group": group,
        "elapsed": opt_int(state.get("elapsed")), "extra": opt_int(state.get("extra")),
        "referee": opt_text(info.get("referee")),
    }
    _venue(info.get("venue") or {}, row, batch)
    row["home_team_id"], row["away_team_id"] = team_stub(home, batch), team_stub(away, batch)
    _score(entry, row)
    row["home_winner"], row["away_winner"] = opt_bool(home.get("winner")), opt_bool(away.get("winner"))
    periods = info.get("periods") or {}
    row["period_first"] = from_timestamp(periods.get("first"))
    row["period_second"] = from_timestamp(periods.get("second"))
    batch.add("core.fixtures", ("id",), row)
    batch.touch("fixture", fixture_id)
    if group == "live":
        batch.touch("fixture_live", fixture_id)
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


PERIODS = (("halftime", "ht_home", "ht_away"), ("fulltime", "ft_home", "ft_away"),
           ("extratime", "et_home", "et_away"), ("penalty", "pen_home", "pen_away"))


def _score(entry: dict[str, Any], row: dict[str, Any]) -> None:
    goals, score = entry.get("goals") or {}, entry.get("score") or {}
    row["home_goals"], row["away_goals"] = opt_int(goals.get("home")), opt_int(goals.get("away"))
    for period, home, away in PERIODS:
        both = score.get(period) or {}
        row[home], row[away] = opt_int(both.get("home")), opt_int(both.get("away"))


def league_stub(league: dict[str, Any], batch: Batch, country: str | None = None) -> int:
    league_id = req_int(league, "id")
    name, logo, named = league.get("name"), league.get("logo"), league.get("country")
    source = (name, logo, country, named) if _plain(name) and _plain(logo) and _plain(named) else None
    country_name = country or opt_text(named)
    if source is None or not batch.holds_stub("core.leagues", league_id, source):
        batch.add_stub("core.leagues", ("id",), {"id": league_id, "name": opt_text(name), "logo": opt_text(logo),
                                                 "country_name": country_name}, source)
    if country_name:
        flag = league.get("flag")
        if not (_plain(flag) and batch.holds_stub("core.countries", country_name, (flag,))):
            batch.add_stub("core.countries", ("name",), {"name": country_name, "flag": opt_text(flag)},
                           (flag,) if _plain(flag) else None)
    return league_id


def _plain(value: Any) -> bool:
    return value is None or type(value) is str


def league_season_stub(league_id: int, season: int, batch: Batch) -> None:
    if not batch.holds_stub("core.league_seasons", (league_id, season), ()):
        batch.add_stub("core.league_seasons", ("league_id", "season"), {"league_id": league_id, "season": season},
                       ())
    batch.touch("league_season", (league_id, season))


def team_stub(team: Any, batch: Batch) -> int:
    team_id = req_int(team, "id")
    name, logo = team.get("name"), team.get("logo")
    source = (name, logo) if _plain(name) and _plain(logo) else None
    if source is None or not batch.holds_stub("core.teams", team_id, source):
        batch.add_stub("core.teams", ("id",), {"id": team_id, "name": opt_text(name), "logo": opt_text(logo)}, source)
    return team_id
