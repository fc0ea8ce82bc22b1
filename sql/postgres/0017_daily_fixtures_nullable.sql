-- SQLite's 0017 drops NOT NULL from mart_daily_fixtures.updated_at (its one-statement refresh then keeps no
-- statement journal). PostgreSQL's refresh is one statement already and keeps its constraint: nothing to change
-- here (the file keeps both backends' migration numbers in step).
SELECT 1;
