"""The sandbox's ground truth: a pure function of (seed, current season year); only the clock moves things.

Everything is generated lazily and cached, so building a world costs nothing and the first request
only pays for what it touches. How a fixture looks at a given moment is `views`' business, on top
of this; `world.World` joins the two.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Self, cast

from afc.sandbox.catalog import DOMESTIC, EXTRA_LEAGUES, LEAGUE_BY_ID, LEAGUES, UCL, UCL_QUOTA, LeagueDef
from afc.sandbox.clubs import Team, Venue, build_clubs
from afc.sandbox.match import Details, build_details
from afc.sandbox.memo import Memo
from afc.sandbox.outcome import Outcome, simulate
from afc.sandbox.people import Coach, Loan, Player, Spell, build_coach, build_loans, build_spells, build_squad
from afc.sandbox.rng import unit
from afc.sandbox.schedule import Fixture, Score, decode_fixture_id, league_fixtures, ucl_fixtures
from afc.sandbox.timeline import Phase, Timeline, finished_at, phase


def season_year(at: datetime) -> int:
    """The European season running at `at`: season Y runs from July Y to June Y+1."""
    return at.year if at.month >= 7 else at.year - 1


@dataclass(frozen=True)
class Sorted:
    """Positions of a league-season's fixtures ordered by one key (a kickoff, a date), to find a range by bisecting."""

    keys: list[Any]
    positions: list[int]

    @classmethod
    def of(cls, values: list[Any]) -> Sorted:
        order = sorted(range(len(values)), key=values.__getitem__)
        return cls([values[i] for i in order], order)

    def within(self, low: Any, high: Any, *, closed: bool = True) -> list[int]:
        """Positions whose key is in [low, high] ([low, high) unless `closed`)."""
        end = bisect_right(self.keys, high) if closed else bisect_left(self.keys, high)
        return self.positions[bisect_left(self.keys, low):end]


class Truth:
    """Countries, leagues, clubs, players and fixtures of one seed; seasons `year-4` .. `year`."""

    def __init__(self, seed: int = 42, year: int | None = None, extra_leagues: int = 0):
        self.seed = seed
        self.year = year if year is not None else season_year(datetime.now(UTC))
        self.extra: tuple[LeagueDef, ...] = EXTRA_LEAGUES[:extra_leagues]
        self.league_defs: tuple[LeagueDef, ...] = LEAGUES + self.extra  # what /leagues lists, in order
        self.leagues: list[int] = [league.id for league in self.league_defs]
        self._teams: list[Team] = []
        self._squads: dict[int, list[Player]] = {}
        self._coaches: dict[int, Coach] = {}
        self._fixtures: dict[tuple[int, int], list[Fixture]] = {}
        self._by_id: dict[int, Fixture] = {}
        self._lock = threading.RLock()
        self.cache: dict = {}  # small, bounded by the world's clubs and seasons: loans, spells
        self.memo = Memo()  # large results, least recently used first out

    @classmethod
    def at(cls, seed: int, moment: datetime) -> Self:
        """The world whose current season is the one running at `moment`."""
        return cls(seed, season_year(moment))

    # ---- seasons and coverage -------------------------------------------------------------
    def seasons(self, league_id: int) -> list[int]:
        """Season years the league has, oldest first."""
        return list(range(self.year - 4, self.year + 1)) if league_id in self.leagues else []

    def current_season(self, league_id: int, at: datetime) -> int:
        """The league's season running at `at` (clamped to the seasons the world has)."""
        return min(self.year, max(self.year - 4, season_year(at)))

    def coverage(self, league_id: int, season: int) -> dict:
        """The `coverage` dict /leagues returns for this league-season."""
        return LEAGUE_BY_ID[league_id].coverage()

    # ---- clubs, venues, people ------------------------------------------------------------
    def clubs(self) -> list[Team]:
        """Every club of the world (domestic leagues in order)."""
        if not self._teams:
            with self._lock:
                if not self._teams:
                    teams = build_clubs(self.seed, self.extra)
                    self._team_by_id = {t.id: t for t in teams}
                    self._venue_by_id = {t.venue.id: t.venue for t in teams}
                    self._teams = teams
        return self._teams

    def team(self, team_id: int) -> Team:
        """A club by id (KeyError if the world has no such club)."""
        self.clubs()
        return self._team_by_id[team_id]

    def has_team(self, team_id: int) -> bool:
        """Whether a club with this id exists."""
        self.clubs()
        return team_id in self._team_by_id

    def venue(self, venue_id: int) -> Venue:
        """A venue by id."""
        self.clubs()
        return self._venue_by_id[venue_id]

    def venues(self) -> list[Venue]:
        """Every venue, by id."""
        self.clubs()
        return sorted(self._venue_by_id.values(), key=lambda v: v.id)

    def league_teams(self, league_id: int, season: int) -> list[Team]:
        """The clubs playing a league-season (UCL: the 32 qualified that season, strongest first)."""
        if league_id == UCL:
            return self._ucl_teams(season)
        return [t for t in self.clubs() if t.league_id == league_id] if season in self.seasons(league_id) else []

    def teams(self, league_id: int, season: int) -> list[dict]:
        """The /teams items of a league-season."""
        return [t.item() for t in self.league_teams(league_id, season)]

    def form(self, team_id: int, season: int) -> float:
        """How much better or worse than usual a club is in a season."""
        return (unit(self.seed, "form", team_id, season) - 0.5) * 0.4

    def _ucl_teams(self, season: int) -> list[Team]:
        if season not in self.seasons(UCL):
            return []
        strength = lambda t: t.attack + t.defence + self.form(t.id, season)  # noqa: E731
        chosen = []
        for league in DOMESTIC:
            ranked = sorted(self.league_teams(league.id, season), key=strength, reverse=True)
            chosen += ranked[:UCL_QUOTA[league.id]]
        return sorted(chosen, key=strength, reverse=True)

    def squad(self, team_id: int) -> list[Player]:
        """The club's own players (loans aside)."""
        if team_id not in self._squads:
            self._squads[team_id] = build_squad(self.seed, self.team(team_id), self.year)
        return self._squads[team_id]

    def player(self, player_id: int) -> Player | None:
        """A player by id, or None."""
        ordinal, k = divmod(player_id - 100_000, 40)
        teams = self.clubs()
        if not 0 <= ordinal < len(teams):
            return None
        squad = self.squad(teams[ordinal].id)
        return squad[k] if k < len(squad) else None

    def known_player(self, player_id: int) -> Player:
        """A player whose id the world itself handed out (KeyError if there is none: a sandbox bug)."""
        player = self.player(player_id)
        if player is None:
            raise KeyError(player_id)
        return player

    def coach(self, team_id: int) -> Coach:
        """The club's head coach."""
        if team_id not in self._coaches:
            team = self.team(team_id)
            others = [t for t in self.clubs() if t.league_id != team.league_id]
            self._coaches[team_id] = build_coach(self.seed, team, self.year, others)
        return self._coaches[team_id]

    def loans(self, league_id: int, season: int) -> list[Loan]:
        """The January loans of a domestic league-season."""
        key = ("loans", league_id, season)
        if key not in self.cache:
            teams = self.league_teams(league_id, season)
            squads = {t.id: self.squad(t.id) for t in teams}
            self.cache[key] = build_loans(self.seed, league_id, season, teams, squads) if teams else []
        return self.cache[key]

    def squad_on(self, team_id: int, season: int, day: date) -> list[Player]:
        """The players a club can field on `day` of `season`, loans applied."""
        loans = self.loans(self.team(team_id).league_id, season)
        away = {ln.player_id for ln in loans if ln.from_team == team_id and ln.start <= day < ln.end}
        joined = [self.player(ln.player_id) for ln in loans if ln.to_team == team_id and ln.start <= day < ln.end]
        return [p for p in self.squad(team_id) if p.id not in away] + [p for p in joined if p]

    def spells(self, team_id: int, season: int) -> list[Spell]:
        """Injuries and suspensions of a club in a season."""
        key = ("spells", team_id, season)
        if key not in self.cache:
            self.cache[key] = build_spells(self.seed, self.team(team_id), season, self.squad(team_id))
        return self.cache[key]

    def absences(self, fixture_id: int) -> list[tuple[Player, int, str, str]]:
        """(player, team id, "Missing Fixture"|"Questionable", reason) for one fixture."""
        fx = self.known_fixture(fixture_id)
        day = fx.kickoff.date()
        rows = []
        for team_id in (fx.home_id, fx.away_id):
            present = {p.id for p in self.squad_on(team_id, fx.season, day)}
            for spell in self.spells(team_id, fx.season):
                if spell.start <= day <= spell.end and spell.player_id in present:
                    doubtful = unit(self.seed, "questionable", spell.player_id, fixture_id) < 0.13
                    kind = "Questionable" if doubtful else "Missing Fixture"
                    rows.append((self.known_player(spell.player_id), team_id, kind, spell.reason))
        return rows

    # ---- fixtures -------------------------------------------------------------------------
    def fixtures(self, league_id: int, season: int) -> list[Fixture]:
        """Every fixture of a league-season, by kickoff (the ground truth, knockout ties included)."""
        key = (league_id, season)
        if key not in self._fixtures:
            with self._lock:
                if key not in self._fixtures:
                    self._fixtures[key] = self._make_fixtures(league_id, season)
        return self._fixtures[key]

    def _make_fixtures(self, league_id: int, season: int) -> list[Fixture]:
        if season not in self.seasons(league_id):
            return []
        if league_id == UCL:
            teams = self._ucl_teams(season)
            venues = {t.id: t.venue.id for t in teams}
            fixtures = ucl_fixtures(self.seed, season, teams, venues, self._score)
        else:
            fixtures = league_fixtures(self.seed, LEAGUE_BY_ID[league_id], season, self.league_teams(league_id, season))
        self._by_id.update((fx.id, fx) for fx in fixtures)
        return fixtures

    def fixture(self, fixture_id: int) -> Fixture | None:
        """A fixture by id, or None."""
        if fixture_id not in self._by_id:
            where = decode_fixture_id(fixture_id)
            if where is None:
                return None
            self.fixtures(*where)
        return self._by_id.get(fixture_id)

    def known_fixture(self, fixture_id: int) -> Fixture:
        """A fixture whose id the world itself handed out (KeyError if there is none: a sandbox bug)."""
        fx = self.fixture(fixture_id)
        if fx is None:
            raise KeyError(fixture_id)
        return fx

    def _sorted(self, league_id: int, season: int, by: str) -> Sorted:
        """The league-season's fixtures ordered by kickoff, or by the day they show (`by`: kickoff, shown_day; a
        postponed one shows its old date); kept for the world's league-seasons (about 20 kB each), as their
        fixtures are."""
        key = ("sorted", league_id, season, by)
        if key not in self.cache:
            fixtures = self.fixtures(league_id, season)
            values: list[Any] = [fx.kickoff for fx in fixtures] if by == "kickoff" else \
                [(fx.planned or fx.kickoff).date() for fx in fixtures]
            self.cache[key] = Sorted.of(values)
        return cast(Sorted, self.cache[key])

    def fixtures_between(self, start: datetime, end: datetime, leagues: list[int] | None = None) -> list[Fixture]:
        """Fixtures (of any league, or of `leagues`) with kickoff in [start, end), by kickoff."""
        found = []
        for league_id in leagues or self.leagues:
            for season in self.seasons(league_id):
                if date(season, 7, 1) <= end.date() and start.date() <= date(season + 1, 7, 31):
                    fixtures = self.fixtures(league_id, season)
                    found += [fixtures[i] for i in self._sorted(league_id, season, "kickoff").within(
                        start, end, closed=False)]
        return sorted(found, key=lambda f: (f.kickoff, f.id))

    def fixtures_dated(self, league_id: int, season: int, first: date, last: date) -> list[Fixture]:
        """The league-season's fixtures played or shown (a postponed one shows its old date) on a day in
        [first, last] (UTC days, as kickoffs are), in their order by kickoff."""
        start = datetime.combine(first, time(), UTC)
        end = datetime.combine(last + timedelta(days=1), time(), UTC)
        positions = set(self._sorted(league_id, season, "kickoff").within(start, end, closed=False))
        positions.update(self._sorted(league_id, season, "shown_day").within(first, last))
        fixtures = self.fixtures(league_id, season)
        return [fixtures[i] for i in sorted(positions)]

    def ratings(self, fx: Fixture) -> tuple[float, float, float, float]:
        """(home attack, home defence, away attack, away defence) for this fixture's season."""
        home, away = self.team(fx.home_id), self.team(fx.away_id)
        fh, fa = self.form(home.id, fx.season), self.form(away.id, fx.season)
        return home.attack + fh, home.defence + fh, away.attack + fa, away.defence + fa

    def _score(self, fx: Fixture, first_leg: Fixture | None) -> Score:
        oc = self._timeline(fx, first_leg).outcome
        return oc.final[0], oc.final[1], oc.shootout

    def _timeline(self, fx: Fixture, first_leg: Fixture | None) -> Timeline:
        # Kept for about a match day's fixtures (memo.SIZES): kept for every fixture ever asked, a long-running
        # sandbox ended up holding the season of every league it was asked about (1.2 kB a fixture).
        return self.memo.remember("timelines", fx.id, lambda: Timeline(self._simulate(fx, first_leg)))

    def _simulate(self, fx: Fixture, first_leg: Fixture | None) -> Outcome:
        leg = None
        if first_leg is not None:
            home, away = self._timeline(first_leg, None).outcome.final
            leg = (away, home)  # the first leg seen from this fixture's home and away team
        return simulate(self.seed, fx, self.ratings(fx), leg)

    def outcome(self, fixture_id: int) -> Outcome:
        """The fixture's result model (goals with minutes, extra time, shootout)."""
        return self.timeline(fixture_id).outcome

    def timeline(self, fixture_id: int) -> Timeline:
        """The fixture's period boundaries (and its `outcome`)."""
        fx = self.known_fixture(fixture_id)
        return self._timeline(fx, self.known_fixture(fx.first_leg) if fx.first_leg else None)

    def livescore(self, fixture_id: int) -> bool:
        """False for leagues whose fixtures stay NS until the result is entered."""
        return LEAGUE_BY_ID[self.known_fixture(fixture_id).league_id].livescore

    def phase(self, fixture_id: int, at: datetime) -> Phase:
        """The fixture's status line at `at`."""
        return phase(self.known_fixture(fixture_id), self.timeline(fixture_id), at, self.livescore(fixture_id))

    def over_by(self, fixture_id: int) -> datetime:
        """A moment from which the fixture is no longer played: its kickoff plus its match's full length (by then
        its phase is final, abandoned, cancelled or postponed). A live answer skips these without working
        out their phase: it is asked of every fixture of the last four hours on each poll."""
        return self.known_fixture(fixture_id).kickoff + timedelta(seconds=self.timeline(fixture_id).end)

    def finished_at(self, fixture_id: int) -> datetime | None:
        """When the fixture reaches FT/AET/PEN (None if cancelled or abandoned)."""
        return finished_at(self.known_fixture(fixture_id), self.timeline(fixture_id), self.livescore(fixture_id))

    def corrected_at(self, fixture_id: int) -> datetime | None:
        """When a silently corrected fixture shows its final events: 30 minutes after full time."""
        done = self.finished_at(fixture_id)
        return done + timedelta(minutes=30) if done and self.details(fixture_id).wrong else None

    def details(self, fixture_id: int) -> Details:
        """Lineups, events and player sheets (final version); `details.wrong` holds any correction."""
        return self.memo.remember("details", fixture_id, lambda: self._make_details(fixture_id))

    def _make_details(self, fixture_id: int) -> Details:
        fx = self.known_fixture(fixture_id)
        missing = {p.id for p, _, kind, _ in self.absences(fixture_id) if kind == "Missing Fixture"}
        home, away = ([p for p in self.squad_on(t, fx.season, fx.kickoff.date()) if p.id not in missing]
                      for t in (fx.home_id, fx.away_id))
        return build_details(self.seed, fx, self.outcome(fixture_id), self.timeline(fixture_id), (home, away))
