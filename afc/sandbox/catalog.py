"""The fixed facts of the sandbox world: its competitions, its famous clubs, bookmakers and bets.

Ids are the real API-Football ids where users know them (leagues 39, 140, 135, 78, 61, 2, 88,
144; clubs such as 33 Manchester United or 541 Real Madrid); everything else is generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MEDIA = "https://media.api-sports.io"

FULL_COVERAGE = {
    "fixtures": {"events": True, "lineups": True, "statistics_fixtures": True, "statistics_players": True},
    "standings": True,
    "players": True,
    "top_scorers": True,
    "top_assists": True,
    "top_cards": True,
    "injuries": True,
    "predictions": True,
    "odds": True,
}


@dataclass(frozen=True)
class LeagueDef:
    """A competition: who runs it, how many teams, what the API covers for it."""

    id: int
    name: str
    type: str  # "League" or "Cup", capitalised as the API returns it
    country: str
    teams: int
    slot: int  # position in the world; fixes fixture id ranges
    slots: tuple[str, ...] = ("12:30", "14:00", "15:00", "17:30", "19:45", "20:00")
    no_coverage: tuple[str, ...] = ()  # dotted coverage flags that are false
    livescore: bool = True
    zones: tuple[tuple[int, int, str], ...] = field(default=())  # (first rank, last rank, description)
    weekend: tuple[int, ...] = (-1, 0, 0, 0, 1, 1, 2)  # day offsets from Saturday a weekend round uses
    midweek: int = 2  # rounds played Tuesday to Thursday

    def coverage(self) -> dict:
        """The `seasons[].coverage` dict of /leagues for this competition."""
        flags: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in FULL_COVERAGE.items()}
        for name in self.no_coverage:
            head, _, tail = name.partition(".")
            if tail:
                flags[head][tail] = False
            else:
                flags[head] = False
        return flags


def _zones(top: int, europa: int, conference: int, relegated: int, teams: int, lower: str) -> tuple:
    zones = [(1, top, "Promotion - Champions League (League phase: )")]
    zones.append((top + 1, top + europa, "Promotion - Europa League (League phase: )"))
    zones.append((top + europa + 1, top + europa + conference, "Promotion - Conference League (Qualification: )"))
    zones.append((teams - relegated + 1, teams, f"Relegation - {lower}"))
    return tuple(zones)


LEAGUES: tuple[LeagueDef, ...] = (
    LeagueDef(39, "Premier League", "League", "England", 20, 1, zones=_zones(4, 1, 1, 3, 20, "Championship")),
    LeagueDef(140, "La Liga", "League", "Spain", 20, 2, ("14:00", "16:15", "18:30", "19:00", "21:00"),
              zones=_zones(4, 2, 1, 3, 20, "LaLiga2"), weekend=(-1, 0, 0, 1, 1, 2)),
    LeagueDef(135, "Serie A", "League", "Italy", 20, 3, ("11:30", "14:00", "17:00", "19:45"),
              zones=_zones(4, 1, 1, 3, 20, "Serie B"), weekend=(0, 0, 1, 1, 1, 2), midweek=3),
    LeagueDef(78, "Bundesliga", "League", "Germany", 18, 4, ("13:30", "16:30", "18:30", "19:30"),
              zones=_zones(4, 1, 1, 2, 18, "2. Bundesliga"), weekend=(-1, 0, 0, 0, 1), midweek=1),
    LeagueDef(61, "Ligue 1", "League", "France", 18, 5, ("13:00", "15:00", "17:00", "19:05", "20:00"),
              zones=_zones(3, 1, 1, 2, 18, "Ligue 2"), weekend=(-1, 0, 1, 1), midweek=1),
    LeagueDef(88, "Eredivisie", "League", "Netherlands", 18, 6, ("11:15", "13:30", "15:45", "18:00", "19:00"),
              no_coverage=("fixtures.lineups", "fixtures.statistics_fixtures", "fixtures.statistics_players", "odds"),
              zones=_zones(2, 1, 1, 2, 18, "Eerste Divisie"), weekend=(-1, 0, 1, 1), midweek=4),
    LeagueDef(144, "Jupiler Pro League", "League", "Belgium", 16, 7, ("12:30", "15:00", "17:15", "19:45"),
              no_coverage=("fixtures.events", "players", "top_scorers", "top_assists", "top_cards", "injuries"),
              livescore=False, zones=_zones(1, 1, 1, 2, 16, "Challenger Pro League"), weekend=(-1, 0, 1, 1)),
    LeagueDef(2, "UEFA Champions League", "Cup", "World", 32, 8, ("17:45", "20:00"),
              zones=((1, 2, "Promotion - Champions League (Round of 16: )"),
                     (3, 3, "Promotion - Europa League (Knockout Round Play-offs: )"))),
)
MAX_EXTRA_LEAGUES = 40


def _extra_league(k: int) -> LeagueDef:
    """Synthetic domestic league k (1-based) of an opt-in bigger world (`SandboxConfig.extra_leagues`): ids from
    9001, slots after the Champions League's and a country of its own, so that nothing of it can be mistaken
    for a real competition; 20 clubs play a round every weekend, about half of it on Saturday at the four
    usual kickoff times."""
    return LeagueDef(9000 + k, f"Sandbox League {k}", "League", f"Sandboxland {k}", 20, 8 + k,
                     ("12:30", "15:00", "17:30", "20:00"), weekend=(-1, 0, 0, 1))


EXTRA_LEAGUES = tuple(_extra_league(k) for k in range(1, MAX_EXTRA_LEAGUES + 1))
LEAGUE_BY_ID = {league.id: league for league in LEAGUES + EXTRA_LEAGUES}
DOMESTIC = tuple(league for league in LEAGUES if league.type == "League")
UCL = 2
UCL_QUOTA = {39: 5, 140: 5, 135: 5, 78: 5, 61: 4, 88: 4, 144: 4}  # UCL places per domestic league

# name, ISO code as /countries returns it, flag slug; several UK nations share "GB" as in the real API.
COUNTRIES: tuple[tuple[str, str | None, str | None], ...] = (
    ("Argentina", "AR", "ar"), ("Belgium", "BE", "be"), ("Brazil", "BR", "br"), ("Croatia", "HR", "hr"),
    ("Denmark", "DK", "dk"), ("England", "GB", "gb-eng"), ("France", "FR", "fr"), ("Germany", "DE", "de"),
    ("Italy", "IT", "it"), ("Morocco", "MA", "ma"), ("Netherlands", "NL", "nl"), ("Nigeria", "NG", "ng"),
    ("Northern-Ireland", "GB", "gb-nir"), ("Norway", "NO", "no"), ("Portugal", "PT", "pt"),
    ("Scotland", "GB", "gb-sct"), ("Senegal", "SN", "sn"), ("Spain", "ES", "es"), ("Sweden", "SE", "se"),
    ("Uruguay", "UY", "uy"), ("USA", "US", "us"), ("Wales", "GB", "gb-wls"), ("World", None, None),
)
COUNTRY_BY_NAME = {name: (name, code, slug) for name, code, slug in COUNTRIES}


def flag_url(country: str) -> str | None:
    """The flag image of a country; null for "World" as in the real API."""
    slug = COUNTRY_BY_NAME.get(country, (country, None, None))[2]
    return f"{MEDIA}/flags/{slug}.svg" if slug else None


@dataclass(frozen=True)
class Club:
    """A real club with its real API-Football id; the rest of the league is generated."""

    id: int
    name: str
    code: str
    founded: int
    venue: str
    city: str
    capacity: int
    strength: float  # added to the generated rating: the famous clubs are the strong ones
    venue_id: int | None = None
    colors: tuple[str, str] = ("ea0000", "ffffff")


CLUBS: dict[int, tuple[Club, ...]] = {
    39: (
        Club(50, "Manchester City", "MAC", 1880, "Etihad Stadium", "Manchester", 55097, 0.55,
             colors=("5badff", "ffffff")),
        Club(42, "Arsenal", "ARS", 1886, "Emirates Stadium", "London", 60383, 0.5, colors=("e10000", "ffffff")),
        Club(40, "Liverpool", "LIV", 1892, "Anfield", "Liverpool", 61276, 0.5, colors=("c8102e", "ffffff")),
        Club(49, "Chelsea", "CHE", 1905, "Stamford Bridge", "London", 41841, 0.35, colors=("034694", "ffffff")),
        Club(33, "Manchester United", "MUN", 1878, "Old Trafford", "Manchester", 76212, 0.3, 556, ("ea0000", "ffffff")),
        Club(47, "Tottenham", "TOT", 1882, "Tottenham Hotspur Stadium", "London", 62850, 0.3,
             colors=("ffffff", "132257")),
        Club(66, "Aston Villa", "AST", 1874, "Villa Park", "Birmingham", 42824, 0.25, colors=("670e36", "ffffff")),
    ),
    140: (
        Club(541, "Real Madrid", "REA", 1902, "Estadio Santiago Bernabéu", "Madrid", 85454, 0.6,
             colors=("ffffff", "000000")),
        Club(529, "Barcelona", "BAR", 1899, "Spotify Camp Nou", "Barcelona", 99354, 0.55, colors=("a50044", "ffffff")),
        Club(530, "Atletico Madrid", "MAD", 1903, "Estadio Cívitas Metropolitano", "Madrid", 70460, 0.4,
             colors=("cb3524", "ffffff")),
    ),
    135: (
        Club(505, "Inter", "INT", 1908, "Stadio Giuseppe Meazza", "Milano", 80018, 0.5, colors=("010e80", "ffffff")),
        Club(489, "AC Milan", "MIL", 1899, "Stadio Giuseppe Meazza", "Milano", 80018, 0.4, colors=("fb090b", "000000")),
        Club(496, "Juventus", "JUV", 1897, "Allianz Stadium", "Torino", 41507, 0.4, colors=("ffffff", "000000")),
    ),
    78: (
        Club(157, "Bayern München", "BAY", 1900, "Allianz Arena", "München", 75024, 0.65, colors=("dc052d", "ffffff")),
        Club(165, "Borussia Dortmund", "DOR", 1909, "Signal Iduna Park", "Dortmund", 81365, 0.4,
             colors=("fde100", "000000")),
        Club(173, "RB Leipzig", "LEI", 2009, "Red Bull Arena", "Leipzig", 47069, 0.35, colors=("ffffff", "dd0741")),
        Club(172, "VfB Stuttgart", "STU", 1893, "MHP Arena", "Stuttgart", 60449, 0.2, colors=("ffffff", "e32219")),
    ),
    61: (
        Club(85, "Paris Saint Germain", "PAR", 1970, "Parc des Princes", "Paris", 47929, 0.6,
             colors=("004170", "ffffff")),
        Club(80, "Lyon", "LYO", 1950, "Groupama Stadium", "Décines-Charpieu", 59186, 0.25, colors=("ffffff", "1e3d8f")),
    ),
    88: (Club(194, "Ajax", "AJA", 1900, "Johan Cruijff ArenA", "Amsterdam", 54990, 0.45, colors=("d2122e", "ffffff")),),
    144: (),
}

BOOKMAKERS: tuple[tuple[int, str], ...] = (
    (1, "10Bet"), (2, "Marathonbet"), (3, "Betfair"), (4, "Pinnacle"), (5, "Sport Betting Online"), (6, "Bwin"),
    (7, "William Hill"), (8, "Bet365"), (9, "Dafabet"), (10, "Ladbrokes"), (11, "1xBet"), (12, "BetFred"),
    (13, "188Bet"), (15, "Interwetten"), (16, "Unibet"),
)
BETS: tuple[tuple[int, str], ...] = (
    (1, "Match Winner"), (2, "Home/Away"), (3, "Second Half Winner"), (5, "Goals Over/Under"),
    (6, "Goals Over/Under First Half"), (8, "Both Teams Score"), (12, "Double Chance"),
    (26, "Goals Over/Under - Second Half"), (38, "Exact Goals Number"), (45, "Corners Over Under"),
)
LIVE_BETS: tuple[tuple[int, str], ...] = (
    (20, "Match Corners"), (36, "Over/Under Line"), (59, "Fulltime Result"), (69, "Both Teams to Score"),
)

STATUS_LONG = {
    "TBD": "Time To Be Defined", "NS": "Not Started", "1H": "First Half", "HT": "Halftime",
    "2H": "Second Half", "ET": "Extra Time", "BT": "Break Time", "P": "Penalty In Progress",
    "SUSP": "Match Suspended", "INT": "Match Interrupted", "LIVE": "In Progress", "FT": "Match Finished",
    "AET": "Match Finished", "PEN": "Match Finished", "PST": "Match Postponed", "CANC": "Match Cancelled",
    "ABD": "Match Abandoned", "AWD": "Technical Loss", "WO": "WalkOver",
}
LIVE_STATUSES = frozenset({"1H", "HT", "2H", "ET", "BT", "P", "SUSP", "INT", "LIVE"})
FINISHED_STATUSES = frozenset({"FT", "AET", "PEN"})


def league_logo(league_id: int) -> str:
    """The league logo URL."""
    return f"{MEDIA}/football/leagues/{league_id}.png"
