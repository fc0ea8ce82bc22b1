-- History the API does not keep (docs/history.md): every price move of an odd and every distinct table
-- a league season showed. Append-only, one row per change (never per fetch), written in the response's
-- transaction; `afc prune` never touches them and `afc rebuild` re-derives them from raw in fetch order.
-- No foreign keys: odds may name a fixture the database does not know yet (its stub is written first).

-- bookmaker_id 0 is the API's in-play feed (/odds/live names no bookmaker); `value` is the selection
-- label folded to lower case, so a label that changes case stays one series (`value_label` as sent).
CREATE TABLE core.odds_history (
    fixture_id integer NOT NULL,
    bookmaker_id integer NOT NULL,
    bet_id integer NOT NULL,
    value text NOT NULL,
    fetched_at timestamptz NOT NULL,
    in_play boolean NOT NULL,
    value_label text,
    bookmaker_name text,
    bet_name text,
    odd numeric,
    odd_text text,
    odds_updated_at timestamptz,
    raw_id bigint,
    PRIMARY KEY (fixture_id, bookmaker_id, bet_id, value, fetched_at)
);
CREATE INDEX odds_history_fetched_idx ON core.odds_history (fixture_id, fetched_at);

-- The in-play prices of /odds/live as they are now (replaced per fixture); their moves go to odds_history.
CREATE TABLE core.odds_live (
    fixture_id integer NOT NULL,
    bet_id integer NOT NULL,
    value text NOT NULL,
    bet_name text,
    handicap text,
    main boolean,
    suspended boolean,
    odd numeric,
    odd_text text,
    elapsed integer,
    odds_updated_at timestamptz,
    updated_at timestamptz NOT NULL,
    raw_id bigint,
    PRIMARY KEY (fixture_id, bet_id, value)
);

-- One version of a group's table per change; `round` is the matchday it reflects (the most matches
-- any team of the group has played). A corrected table of the same round is a newer version.
CREATE TABLE core.standings_history (
    league_id integer NOT NULL,
    season integer NOT NULL,
    group_name text NOT NULL,
    round integer NOT NULL,
    team_id integer NOT NULL,
    fetched_at timestamptz NOT NULL,
    rank integer,
    points integer,
    goals_diff integer,
    played integer,
    win integer,
    draw integer,
    lose integer,
    goals_for integer,
    goals_against integer,
    form text,
    status text,
    description text,
    standing_updated_at timestamptz,
    raw_id bigint,
    PRIMARY KEY (league_id, season, group_name, round, team_id, fetched_at)
);
CREATE INDEX standings_history_version_idx ON core.standings_history (league_id, season, group_name, fetched_at);

-- Per pre-match selection: opening and closing (the last price before kick-off), range, moves and the
-- change of the implied probability (1/closing - 1/opening).
CREATE TABLE mart.odds_movement (
    fixture_id integer NOT NULL,
    bookmaker_id integer NOT NULL,
    bet_id integer NOT NULL,
    value text NOT NULL,
    bookmaker_name text,
    bet_name text,
    value_label text,
    kickoff_at timestamptz,
    opening_odd numeric,
    opening_at timestamptz,
    closing_odd numeric,
    closing_at timestamptz,
    min_odd numeric,
    max_odd numeric,
    moves integer NOT NULL,
    implied_change numeric,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (fixture_id, bookmaker_id, bet_id, value)
);

-- The table after each round: the newest version of core.standings_history kept for that round.
CREATE TABLE mart.table_by_round (
    league_id integer NOT NULL,
    season integer NOT NULL,
    group_name text NOT NULL,
    round integer NOT NULL,
    team_id integer NOT NULL,
    team_name text,
    rank integer,
    points integer,
    goals_diff integer,
    played integer,
    win integer,
    draw integer,
    lose integer,
    goals_for integer,
    goals_against integer,
    form text,
    description text,
    as_of timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (league_id, season, group_name, round, team_id)
);
