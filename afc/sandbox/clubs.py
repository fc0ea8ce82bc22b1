"""Clubs of the world: the famous ones with their real ids, the rest generated, each with a venue.

Team, venue and coach ids never depend on the season, so a team is the same object in every
season it plays and in both its domestic league and the Champions League.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from afc.sandbox.catalog import CLUBS, DOMESTIC, MEDIA, Club, LeagueDef
from afc.sandbox.names import club_names
from afc.sandbox.rng import seeded

VENUE_PATTERNS = {
    "England": ("{} Park", "{} Road", "The {} Arena", "{} Lane"),
    "Spain": ("Estadio Municipal de {}", "Estadio {}", "Campo de {}"),
    "Italy": ("Stadio Comunale {}", "Stadio Città di {}", "Arena {}"),
    "Germany": ("Stadion {}", "{} Arena", "Waldstadion {}"),
    "France": ("Stade de {}", "Stade Municipal {}", "Parc de {}"),
    "Netherlands": ("Stadion {}", "{} Parkstad", "Sportpark {}"),
    "Belgium": ("Stade de {}", "{} Stadion", "Koning Boudewijnpark {}"),
}
STREETS = ("High Street", "Station Road", "Avenue des Sports", "Calle Mayor", "Via Roma", "Hauptstraße",
           "Stadionweg", "Rue du Stade", "Kerkstraat")


@dataclass(frozen=True)
class Venue:
    """A stadium as /venues returns it."""

    id: int
    name: str
    address: str
    city: str
    country: str
    capacity: int
    surface: str

    def item(self) -> dict:
        """The /venues item."""
        return {"id": self.id, "name": self.name, "address": self.address, "city": self.city,
                "country": self.country, "capacity": self.capacity, "surface": self.surface,
                "image": f"{MEDIA}/football/venues/{self.id}.png"}


@dataclass(frozen=True)
class Team:
    """A club: identity, home venue, hidden strength, kit colours."""

    id: int
    name: str
    code: str
    country: str
    founded: int
    league_id: int
    venue: Venue
    attack: float
    defence: float
    colors: tuple[str, str]
    ordinal: int  # position in the world, fixes the player and coach id ranges

    @property
    def logo(self) -> str:
        return f"{MEDIA}/football/teams/{self.id}.png"

    def ref(self) -> dict:
        """The `{id, name, logo}` reference other items embed."""
        return {"id": self.id, "name": self.name, "logo": self.logo}

    def item(self) -> dict:
        """The /teams item: team and venue."""
        team = {"id": self.id, "name": self.name, "code": self.code, "country": self.country,
                "founded": self.founded, "national": False, "logo": self.logo}
        venue = self.venue.item()
        del venue["country"]
        return {"team": team, "venue": venue}

    @property
    def coach_id(self) -> int:
        return 50_000 + self.ordinal


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalpha()).upper()


def _famous(club: Club, league: LeagueDef, ordinal: int, venues: dict[str, Venue]) -> Team:
    rng = seeded("club", club.id)
    venue = venues.get(club.venue) or Venue(club.venue_id or 30_000 + ordinal, club.venue, rng.choice(STREETS),
                                           club.city, league.country, club.capacity, "grass")
    venues[club.venue] = venue
    return Team(club.id, club.name, club.code, league.country, club.founded, league.id, venue,
                club.strength + rng.gauss(0, 0.05), club.strength * 0.8 + rng.gauss(0, 0.05), club.colors, ordinal)


def _generated(seed: int, name: str, town: str, league: LeagueDef, ordinal: int) -> Team:
    rng = seeded(seed, "club", ordinal)
    venue = Venue(30_000 + ordinal, rng.choice(VENUE_PATTERNS[league.country]).format(town),
                  f"{rng.randint(1, 120)} {rng.choice(STREETS)}", town, league.country,
                  rng.randrange(6_000, 42_000, 50), "artificial turf" if rng.random() < 0.06 else "grass")
    colors = (f"{rng.randrange(0x1000000):06x}", rng.choice(("ffffff", "000000")))
    return Team(20_000 + ordinal, name, _plain(town)[:3], league.country, rng.randint(1878, 1965), league.id,
                venue, rng.gauss(-0.05, 0.15), rng.gauss(-0.05, 0.15), colors, ordinal)


def _extra(seed: int, league: LeagueDef, number: int, ordinal: int) -> Team:
    """A club of a synthetic league: named after its league, so it cannot be taken for a real or generated one."""
    rng = seeded(seed, "club", ordinal)
    town = f"{league.country} Town {number}"
    venue = Venue(30_000 + ordinal, f"{town} Ground", f"{rng.randint(1, 120)} {rng.choice(STREETS)}", town,
                  league.country, rng.randrange(6_000, 42_000, 50), "grass")
    return Team(20_000 + ordinal, f"{town} FC", f"S{league.slot:02d}", league.country, rng.randint(1878, 1965),
                league.id, venue, rng.gauss(-0.05, 0.15), rng.gauss(-0.05, 0.15), ("808080", "ffffff"), ordinal)


def build_clubs(seed: int, extra: tuple[LeagueDef, ...] = ()) -> list[Team]:
    """Every domestic club of the world, league by league (the UCL draws from these); the clubs of the
    `extra` synthetic leagues come last, so the real ones keep their ordinals (and player ids)."""
    teams: list[Team] = []
    venues: dict[str, Venue] = {}
    for league in DOMESTIC:
        famous = CLUBS[league.id]
        for club in famous:
            teams.append(_famous(club, league, len(teams), venues))
        rng = seeded(seed, "club-names", league.id)
        for name, town in club_names(rng, league.country, league.teams - len(famous)):
            teams.append(_generated(seed, name, town, league, len(teams)))
    for league in extra:
        teams += [_extra(seed, league, n, len(teams) + n - 1) for n in range(1, league.teams + 1)]
    return teams
