"""What a backfill can collect for a league season, the call each kind costs, and how `--what`,
`--league` and `--season` are read."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from afc.config.bounds import FIRST_SEASON, LAST_SEASON, league_id
from afc.errors import ConfigError

DETAIL_PARTS = {"cov_events": "events", "cov_lineups": "lineups",
                "cov_statistics_fixtures": "statistics", "cov_statistics_players": "players"}
IDS_PER_CALL = 20  # /fixtures?ids= takes at most 20 fixtures (reference §7.8)
_SEASON_ROW = "WHERE league_id = %(league)s AND season = %(season)s"


@dataclass(frozen=True)
class Kind:
    """One kind of season data: its endpoint, the coverage flags that say it exists, how it is held."""

    name: str
    endpoint: str
    flags: tuple[str, ...] = ()  # the data exists when any flag is true; () = always
    held_sql: str | None = None  # a row here means the season is held (checked once the season is over)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("fixtures", "fixtures"),
    Kind("standings", "standings", ("cov_standings",), f"SELECT 1 FROM core.standings {_SEASON_ROW} LIMIT 1"),
    Kind("teams", "teams", (), f"SELECT 1 FROM core.team_seasons {_SEASON_ROW} LIMIT 1"),
    Kind("injuries", "injuries", ("cov_injuries",), f"SELECT 1 FROM core.injuries {_SEASON_ROW} LIMIT 1"),
    Kind("topscorers", "players/topscorers", ("cov_top_scorers",),
         f"SELECT 1 FROM core.top_players {_SEASON_ROW} AND kind = 'scorers' LIMIT 1"),
    Kind("topassists", "players/topassists", ("cov_top_assists",),
         f"SELECT 1 FROM core.top_players {_SEASON_ROW} AND kind = 'assists' LIMIT 1"),
    Kind("topyellowcards", "players/topyellowcards", ("cov_top_cards",),
         f"SELECT 1 FROM core.top_players {_SEASON_ROW} AND kind = 'yellowcards' LIMIT 1"),
    Kind("topredcards", "players/topredcards", ("cov_top_cards",),
         f"SELECT 1 FROM core.top_players {_SEASON_ROW} AND kind = 'redcards' LIMIT 1"),
    Kind("players", "players", ("cov_players",)),
    Kind("details", "fixtures", tuple(DETAIL_PARTS)),
)}
LEAGUES = Kind("leagues", "leagues")  # the coverage flags themselves, fetched first when unknown
ALIASES = {"all": tuple(KINDS), "topcards": ("topyellowcards", "topredcards"),
           "top": ("topscorers", "topassists", "topyellowcards", "topredcards")}
_RANGE = re.compile(r"^(\d{4})\s*(?:-|\.\.)\s*(\d{4})$")


def kind(name: str) -> Kind:
    """A kind by name, including `leagues`."""
    return LEAGUES if name == LEAGUES.name else KINDS[name]


def parse_what(text: str | None) -> tuple[str, ...]:
    """`--what fixtures,details,...` as kinds in collection order (default: every kind)."""
    if not text or not text.strip():
        return tuple(KINDS)
    chosen: set[str] = set()
    for word in (w.strip().lower() for w in text.split(",")):
        if word in KINDS:
            chosen.add(word)
        elif word in ALIASES:
            chosen.update(ALIASES[word])
        elif word:
            known = ", ".join(list(KINDS) + list(ALIASES))
            raise ConfigError(f"--what: unknown kind {word!r}; choose from {known}")
    return tuple(k for k in KINDS if k in chosen)


def parse_leagues(values: Iterable[str]) -> list[int]:
    """`--league 39 --league 140,135` as league ids, in the order given."""
    leagues: list[int] = []
    for word in _words(values):
        league = league_id("--league", word)
        if league not in leagues:
            leagues.append(league)
    return leagues


def parse_seasons(values: Iterable[str]) -> list[int]:
    """`--season 2022`, `--season 2020-2022` (or `2020..2022`) and comma lists as season years."""
    seasons: list[int] = []
    for word in _words(values):
        match = _RANGE.match(word)
        if match and int(match[1]) <= int(match[2]):
            years = list(range(int(match[1]), int(match[2]) + 1))
        elif re.fullmatch(r"\d{4}", word):
            years = [int(word)]
        else:
            raise ConfigError(f"--season: must be a 4-digit start year or a range such as 2020-2022, got {word!r}")
        if not FIRST_SEASON <= years[0] <= years[-1] <= LAST_SEASON:
            raise ConfigError(f"--season: must lie between {FIRST_SEASON} and {LAST_SEASON}, got {word!r}")
        seasons.extend(y for y in years if y not in seasons)
    return seasons


def _words(values: Iterable[str]) -> list[str]:
    return [w.strip() for v in values for w in str(v).split(",") if w.strip()]
