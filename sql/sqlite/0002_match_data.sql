-- Match data (SQLite: a table's layer is its prefix, core.fixtures is core_fixtures): fixtures and their details, standings, players, squads, injuries, top players, odds,
-- team statistics, predictions; the dashboard marts (mart_coverage_status lives elsewhere).

CREATE TABLE core_fixtures (
    id integer PRIMARY KEY,
    league_id integer,
    season integer,
    round text,
    kickoff_at text,
    status_short text,
    status_long text,
    status_group text,
    elapsed integer,
    extra integer,
    venue_id integer,
    venue_name text,
    venue_city text,
    referee text,
    home_team_id integer,
    away_team_id integer,
    home_goals integer,
    away_goals integer,
    ht_home integer,
    ht_away integer,
    ft_home integer,
    ft_away integer,
    et_home integer,
    et_away integer,
    pen_home integer,
    pen_away integer,
    home_winner integer,
    away_winner integer,
    period_first text,
    period_second text,
    updated_at text NOT NULL,
    raw_id integer
);
-- No foreign keys on the two high-volume tables (fixtures, odds): the transforms write every
-- referenced row first (as a stub), and PostgreSQL's per-row checks cost 4x the insert itself.
-- The live loop and the daily job look fixtures up by kickoff; coverage and marts by league season.
CREATE INDEX core_fixtures_kickoff_idx ON core_fixtures (kickoff_at);
CREATE INDEX core_fixtures_league_season_idx ON core_fixtures (league_id, season, kickoff_at);
CREATE INDEX core_fixtures_status_idx ON core_fixtures (status_group, kickoff_at);
CREATE INDEX core_fixtures_home_idx ON core_fixtures (home_team_id);
CREATE INDEX core_fixtures_away_idx ON core_fixtures (away_team_id);

-- Each part exactly as the API sent it: NULL = never fetched, [] = fetched and empty.
CREATE TABLE core_fixture_details (
    fixture_id integer PRIMARY KEY REFERENCES core_fixtures (id),
    events text,
    lineups text,
    statistics text,
    players text,
    final integer,
    updated_at text NOT NULL,
    raw_id integer
);

-- The team statistics of a fixture with the API's string numbers parsed ("57%" -> 57, "1.87" -> 1.87).
CREATE TABLE core_fixture_team_stats (
    fixture_id integer NOT NULL REFERENCES core_fixtures (id),
    team_id integer NOT NULL REFERENCES core_teams (id),
    shots_on_goal numeric,
    shots_off_goal numeric,
    total_shots numeric,
    blocked_shots numeric,
    shots_insidebox numeric,
    shots_outsidebox numeric,
    fouls numeric,
    corner_kicks numeric,
    offsides numeric,
    ball_possession numeric,
    yellow_cards numeric,
    red_cards numeric,
    goalkeeper_saves numeric,
    total_passes numeric,
    passes_accurate numeric,
    passes_pct numeric,
    expected_goals numeric,
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (fixture_id, team_id)
);

CREATE TABLE core_standings (
    league_id integer NOT NULL REFERENCES core_leagues (id),
    season integer NOT NULL,
    group_name text NOT NULL,
    team_id integer NOT NULL REFERENCES core_teams (id),
    rank integer,
    points integer,
    goals_diff integer,
    form text,
    status text,
    description text,
    played integer,
    win integer,
    draw integer,
    lose integer,
    goals_for integer,
    goals_against integer,
    home_played integer,
    home_win integer,
    home_draw integer,
    home_lose integer,
    home_goals_for integer,
    home_goals_against integer,
    away_played integer,
    away_win integer,
    away_draw integer,
    away_lose integer,
    away_goals_for integer,
    away_goals_against integer,
    standing_updated_at text,
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (league_id, season, group_name, team_id)
);

CREATE TABLE core_players (
    id integer PRIMARY KEY,
    name text,
    firstname text,
    lastname text,
    age integer,
    birth_date text,
    birth_place text,
    birth_country text,
    nationality text,
    height_cm integer,
    weight_kg integer,
    injured integer,
    photo text,
    updated_at text NOT NULL,
    raw_id integer
);

CREATE TABLE core_player_season_stats (
    player_id integer NOT NULL REFERENCES core_players (id),
    team_id integer NOT NULL REFERENCES core_teams (id),
    league_id integer NOT NULL REFERENCES core_leagues (id),
    season integer NOT NULL,
    appearances integer,
    lineups integer,
    minutes integer,
    number integer,
    position text,
    rating numeric,
    captain integer,
    substitutes_in integer,
    substitutes_out integer,
    substitutes_bench integer,
    shots_total integer,
    shots_on integer,
    goals integer,
    conceded integer,
    assists integer,
    saves integer,
    passes_total integer,
    passes_key integer,
    passes_accuracy numeric,
    tackles integer,
    blocks integer,
    interceptions integer,
    duels_total integer,
    duels_won integer,
    dribbles_attempts integer,
    dribbles_success integer,
    dribbles_past integer,
    fouls_drawn integer,
    fouls_committed integer,
    yellow_cards integer,
    yellowred_cards integer,
    red_cards integer,
    penalty_won integer,
    penalty_committed integer,
    penalty_scored integer,
    penalty_missed integer,
    penalty_saved integer,
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (player_id, team_id, league_id, season)
);
CREATE INDEX core_player_season_stats_league_idx ON core_player_season_stats (league_id, season);
CREATE INDEX core_player_season_stats_team_idx ON core_player_season_stats (team_id, season);

CREATE TABLE core_squads (
    team_id integer NOT NULL REFERENCES core_teams (id),
    player_id integer NOT NULL REFERENCES core_players (id),
    number integer,
    position text,
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (team_id, player_id)
);
CREATE INDEX core_squads_player_idx ON core_squads (player_id);

CREATE TABLE core_injuries (
    fixture_id integer NOT NULL REFERENCES core_fixtures (id),
    player_id integer NOT NULL REFERENCES core_players (id),
    team_id integer REFERENCES core_teams (id),
    league_id integer REFERENCES core_leagues (id),
    season integer,
    type text,
    reason text,
    fixture_at text,
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (fixture_id, player_id)
);
CREATE INDEX core_injuries_league_season_idx ON core_injuries (league_id, season);
CREATE INDEX core_injuries_player_idx ON core_injuries (player_id);

CREATE TABLE core_top_players (
    league_id integer NOT NULL REFERENCES core_leagues (id),
    season integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('scorers', 'assists', 'yellowcards', 'redcards')),
    player_id integer NOT NULL REFERENCES core_players (id),
    rank integer,
    team_id integer REFERENCES core_teams (id),
    value integer,
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (league_id, season, kind, player_id)
);

CREATE TABLE core_odds (
    fixture_id integer NOT NULL,
    bookmaker_id integer NOT NULL,
    bet_id integer NOT NULL,
    value text NOT NULL,
    bookmaker_name text,
    bet_name text,
    odd numeric,
    odd_text text,
    odds_updated_at text,
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (fixture_id, bookmaker_id, bet_id, value)
);

CREATE TABLE core_team_statistics (
    league_id integer NOT NULL REFERENCES core_leagues (id),
    season integer NOT NULL,
    team_id integer NOT NULL REFERENCES core_teams (id),
    form text,
    played integer,
    wins integer,
    draws integer,
    loses integer,
    goals_for integer,
    goals_against integer,
    clean_sheets integer,
    failed_to_score integer,
    stats text,
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (league_id, season, team_id)
);

CREATE TABLE core_predictions (
    fixture_id integer PRIMARY KEY REFERENCES core_fixtures (id),
    winner_team_id integer,
    advice text,
    percent_home numeric,
    percent_draw numeric,
    percent_away numeric,
    data text,
    updated_at text NOT NULL,
    raw_id integer
);

CREATE TABLE mart_daily_fixtures (
    fixture_id integer PRIMARY KEY,
    match_date text,
    kickoff_at text,
    league_id integer,
    league_name text,
    season integer,
    round text,
    home_team_id integer,
    home_team text,
    away_team_id integer,
    away_team text,
    home_goals integer,
    away_goals integer,
    status_short text,
    status_group text,
    updated_at text NOT NULL
);
CREATE INDEX mart_daily_fixtures_date_idx ON mart_daily_fixtures (match_date, kickoff_at);

CREATE TABLE mart_live_scores (
    fixture_id integer PRIMARY KEY,
    league_id integer,
    league_name text,
    kickoff_at text,
    home_team_id integer,
    home_team text,
    away_team_id integer,
    away_team text,
    home_goals integer,
    away_goals integer,
    status_short text,
    elapsed integer,
    extra integer,
    last_event text,
    updated_at text NOT NULL
);

CREATE TABLE mart_league_summary (
    league_id integer NOT NULL,
    season integer NOT NULL,
    league_name text,
    teams integer,
    fixtures_total integer,
    fixtures_played integer,
    goals integer,
    goals_per_game numeric,
    leader_team_id integer,
    leader_name text,
    leader_points integer,
    updated_at text NOT NULL,
    PRIMARY KEY (league_id, season)
);
