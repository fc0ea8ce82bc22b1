-- The match day (issue #18): when a fixture's confirmed lineups were first seen, relative to its kickoff;
-- the latest in-play statistics on the live panel; confirmed lineups and the prediction's advice on the
-- daily dashboard.
ALTER TABLE core.fixture_details ADD COLUMN lineups_seen_at timestamptz;
ALTER TABLE core.fixture_details ADD COLUMN lineups_before_kickoff_min integer;  -- negative: after kickoff

ALTER TABLE mart.live_scores ADD COLUMN home_shots integer;
ALTER TABLE mart.live_scores ADD COLUMN away_shots integer;
ALTER TABLE mart.live_scores ADD COLUMN home_shots_on_goal integer;
ALTER TABLE mart.live_scores ADD COLUMN away_shots_on_goal integer;
ALTER TABLE mart.live_scores ADD COLUMN home_possession numeric;
ALTER TABLE mart.live_scores ADD COLUMN away_possession numeric;
ALTER TABLE mart.live_scores ADD COLUMN home_xg numeric;
ALTER TABLE mart.live_scores ADD COLUMN away_xg numeric;
ALTER TABLE mart.live_scores ADD COLUMN statistics_at timestamptz;

ALTER TABLE mart.daily_fixtures ADD COLUMN lineups_confirmed boolean;
ALTER TABLE mart.daily_fixtures ADD COLUMN prediction_advice text;
