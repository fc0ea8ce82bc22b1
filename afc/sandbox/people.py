"""People of the world: squads of 25-28 players per club, coaches, mid-season loans, injuries.

A squad is fixed per club across seasons; movement happens through loans: in every domestic
league-season a few players join another club of the same league in January and go back at the
end of the season, so `/players` shows them with one `statistics[]` entry per club.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from afc.sandbox.catalog import MEDIA
from afc.sandbox.clubs import Team
from afc.sandbox.names import COACH_FIRST, COACH_LAST, FOREIGN, person
from afc.sandbox.rng import seeded

POSITIONS = ("Goalkeeper", "Defender", "Midfielder", "Attacker")
POS_LETTER = {"Goalkeeper": "G", "Defender": "D", "Midfielder": "M", "Attacker": "F"}
BASE_SQUAD = ("Goalkeeper",) * 3 + ("Defender",) * 8 + ("Midfielder",) * 8 + ("Attacker",) * 6
INJURIES = ("Knee Injury", "Hamstring Injury", "Ankle Injury", "Muscle Injury", "Calf Injury", "Groin Injury",
            "Illness", "Back Injury", "Broken ankle", "Concussion", "Thigh Injury", "Knock")
SUSPENSIONS = ("Red Card", "Yellow Cards", "Suspended")


@dataclass(frozen=True, eq=False)  # one object per player: identity is equality, and cheap
class Player:
    """A player as /players and /players/squads describe him; `quality` is hidden."""

    id: int
    name: str
    firstname: str
    lastname: str
    birth: date
    place: str
    nationality: str
    height: int
    weight: int
    position: str
    number: int
    team_id: int
    quality: float
    letter: str  # G, D, M or F: the lineup position

    @property
    def photo(self) -> str:
        return f"{MEDIA}/football/players/{self.id}.png"

    def age(self, on: date) -> int:
        """Age in whole years on `on`."""
        return on.year - self.birth.year - ((on.month, on.day) < (self.birth.month, self.birth.day))



@dataclass(frozen=True)
class Loan:
    """A January loan inside one league: the player plays for `to_team` until the season ends."""

    player_id: int
    from_team: int
    to_team: int
    start: date
    end: date


@dataclass(frozen=True)
class Spell:
    """A period a player is injured or suspended; /injuries lists it once per fixture it covers."""

    player_id: int
    team_id: int
    start: date
    end: date
    reason: str


@dataclass(frozen=True)
class Coach:
    """A head coach; `career` holds (team id, start, end or None) newest first."""

    id: int
    name: str
    firstname: str
    lastname: str
    birth: date
    place: str
    nationality: str
    height: int
    weight: int
    team_id: int
    career: tuple[tuple[int, date, date | None], ...]


def _player(seed: int, team: Team, k: int, position: str, number: int, year: int) -> Player:
    rng = seeded(seed, "player", team.id, k)
    nationality = team.country if rng.random() < 0.65 else rng.choice(FOREIGN)
    first, last, place = person(rng, nationality)
    birth = date(year - rng.randint(17, 35), rng.randint(1, 12), rng.randint(1, 28))
    height = rng.randint(186, 198) if position == "Goalkeeper" else rng.randint(168, 194)
    quality = rng.gauss(0, 1) + (team.attack + team.defence)
    return Player(100_000 + team.ordinal * 40 + k, f"{first[0]}. {last}", first, last, birth, place, nationality,
                  height, height - 105 + rng.randint(-6, 8), position, number, team.id, quality, POS_LETTER[position])


def build_squad(seed: int, team: Team, year: int) -> list[Player]:
    """The club's 25-28 players, goalkeepers first."""
    rng = seeded(seed, "squad", team.id)
    positions = list(BASE_SQUAD) + [rng.choice(POSITIONS[1:]) for _ in range(rng.randint(0, 3))]
    positions.sort(key=POSITIONS.index)
    numbers = [1, 13, rng.choice((30, 31, 40, 99))] + rng.sample(range(2, 48), len(positions))
    numbers = numbers[:3] + [n for n in numbers[3:] if n not in numbers[:3]]
    return [_player(seed, team, k, pos, numbers[k], year) for k, pos in enumerate(positions)]


def build_loans(seed: int, league_id: int, season: int, teams: list[Team],
                squads: dict[int, list[Player]]) -> list[Loan]:
    """The league-season's January loans: two or three outfield players change club."""
    rng = seeded(seed, "loans", league_id, season)
    loans: list[Loan] = []
    for _ in range(rng.randint(2, 3)):
        source, target = rng.sample(teams, 2)
        outfield = [p for p in squads[source.id] if p.position != "Goalkeeper"]
        player = min(rng.sample(outfield, 5), key=lambda p: p.quality)
        if any(loan.player_id == player.id for loan in loans):
            continue
        start = date(season + 1, 1, rng.randint(2, 30))
        loans.append(Loan(player.id, source.id, target.id, start, date(season + 1, 6, 30)))
    return loans


def build_spells(seed: int, team: Team, season: int, squad: list[Player]) -> list[Spell]:
    """Injuries and suspensions of one club in one season (August to May)."""
    rng = seeded(seed, "spells", team.id, season)
    spells = []
    for _ in range(rng.randint(4, 9)):
        player = rng.choice(squad)
        start = date(season, 8, 1) + timedelta(days=rng.randrange(300))
        suspended = rng.random() < 0.2
        length = rng.randint(4, 10) if suspended else rng.randint(5, 60)
        reason = rng.choice(SUSPENSIONS if suspended else INJURIES)
        spells.append(Spell(player.id, team.id, start, start + timedelta(days=length), reason))
    return spells


def build_coach(seed: int, team: Team, year: int, others: list[Team]) -> Coach:
    """The club's head coach, in charge for every season of the world, with an earlier career."""
    rng = seeded(seed, "coach", team.id)
    first, last = rng.choice(COACH_FIRST), rng.choice(COACH_LAST)
    since = date(year - 4 - rng.randint(0, 3), 7, 1)
    career: list[tuple[int, date, date | None]] = [(team.id, since, None)]
    end = since - timedelta(days=rng.randint(20, 200))
    for previous in rng.sample(others, rng.randint(1, 2)):
        start = date(end.year - rng.randint(1, 4), 7, 1)
        career.append((previous.id, start, end))
        end = start - timedelta(days=rng.randint(20, 200))
    birth = date(year - rng.randint(38, 66), rng.randint(1, 12), rng.randint(1, 28))
    nationality = team.country if rng.random() < 0.6 else rng.choice(FOREIGN)
    place = person(rng, nationality)[2]
    height = rng.randint(168, 192)
    return Coach(team.coach_id, f"{first[0]}. {last}", first, last, birth, place, nationality, height,
                 height - 100 + rng.randint(-5, 10), team.id, tuple(career))
