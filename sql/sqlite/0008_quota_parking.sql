-- An exhaustion answer in the first minutes of a UTC day may still be the API's old day (its day
-- rolls over a little late, or this host's clock runs fast): the day row is parked until a few
-- minutes later instead of marked exhausted for the whole day.
ALTER TABLE ops_quota_days ADD COLUMN parked_until text;
