"""Raw retention: old raw gone (whole partitions on PostgreSQL), core, marts and quarantine untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afc.db import connect, dump_json
from afc.errors import ConfigError
from afc.ops.retention import droppable, parse_age, prune
from tests.conftest import scalar

RAW = """
INSERT INTO raw.responses (endpoint, params, status, headers, body, fetched_at)
VALUES ('countries', '{}', 200, '{}', %(body)s, %(at)s) RETURNING id"""
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def add_raw(db, at: datetime) -> int:
    with db.transaction():
        if db.backend == "postgres":
            db.fetchone("SELECT raw.ensure_partition(%s)", (at,))
        return scalar(db, RAW, {"body": dump_json({"response": []}), "at": at})


def seed(db) -> dict[str, int]:
    ids = {
        "july": add_raw(db, datetime(2026, 7, 10, tzinfo=UTC)),
        "aug_early": add_raw(db, datetime(2026, 8, 5, tzinfo=UTC)),
        "aug_late": add_raw(db, datetime(2026, 8, 31, 23, tzinfo=UTC)),
        "recent": add_raw(db, NOW - timedelta(days=1)),
    }
    with db.transaction():
        db.execute("INSERT INTO core.countries (name, code, updated_at, raw_id) VALUES ('England', 'GB', %s, %s)",
                   (datetime(2026, 7, 10, tzinfo=UTC), ids["july"]))
        db.execute("INSERT INTO ops.quarantine (raw_id, endpoint, item_index, item, reason, created_at) "
                   "VALUES (%s, 'countries', 0, '{}', 'bad', %s)", (ids["july"], NOW))
    return ids


def test_prune_removes_old_raw_and_nothing_else(db):
    ids = seed(db)
    result = prune(db, timedelta(days=90), NOW, batch=1)  # cut-off 2026-08-30 12:00
    assert result.cutoff == datetime(2026, 8, 30, 12, tzinfo=UTC)
    left = [r[0] for r in db.fetchall("SELECT id FROM raw.responses ORDER BY id")]
    assert left == [ids["aug_late"], ids["recent"]]
    assert db.fetchall("SELECT name, raw_id FROM core.countries") == [("England", ids["july"])]
    assert db.fetchall("SELECT raw_id, reason FROM ops.quarantine") == [(ids["july"], "bad")]
    if db.backend == "postgres":
        assert result.partitions_dropped == ["responses_2026_07"]
        assert result.rows_deleted == 1  # aug_early, deleted from the cut-off's own month
        names = [r[0] for r in db.fetchall("SELECT relname FROM pg_class WHERE relname LIKE 'responses_2026%%' "
                                           "AND relkind = 'r' ORDER BY relname")]
        assert names == ["responses_2026_08", "responses_2026_11"]
    else:
        assert (result.partitions_dropped, result.rows_deleted) == ([], 2)


def test_prune_again_finds_nothing(db):
    seed(db)
    prune(db, timedelta(days=90), NOW)
    again = prune(db, timedelta(days=90), NOW)
    assert (again.partitions_dropped, again.rows_deleted) == ([], 0)


def test_dry_run_counts_without_deleting(db):
    seed(db)
    result = prune(db, timedelta(days=90), NOW, dry_run=True)
    assert result.rows_deleted == (1 if db.backend == "postgres" else 2)  # as many as the real run deletes by row
    assert scalar(db, "SELECT COUNT(*) FROM raw.responses") == 4
    assert result.partitions_dropped == (["responses_2026_07"] if db.backend == "postgres" else [])


def test_default_partition_rows_are_deleted_in_batches(pg_url):
    db = connect(pg_url)
    with db.transaction():
        db.fetchone(RAW, {"body": None, "at": datetime(2025, 1, 2, tzinfo=UTC)})  # no monthly partition made
    assert scalar(db, "SELECT COUNT(*) FROM raw.responses_default") == 1
    result = prune(db, timedelta(days=90), NOW)
    assert result.rows_deleted == 1
    assert droppable(db, result.cutoff) == []
    assert scalar(db, "SELECT COUNT(*) FROM raw.responses") == 0
    db.close()


def test_old_minute_ledger_rows_go_too(db):
    with db.transaction():
        for minute in (NOW - timedelta(days=3), NOW - timedelta(minutes=1)):
            db.execute("INSERT INTO ops.quota_minutes (account, minute, minute_limit, used) VALUES ('a', %s, 300, 1)",
                       (minute,))
    prune(db, timedelta(days=90), NOW)
    assert scalar(db, "SELECT COUNT(*) FROM ops.quota_minutes") == 1


@pytest.mark.parametrize("text", ["90", "2w", "-1d", "1.5d", "\u0663d"])
def test_ages_are_whole_days(text):
    with pytest.raises(ConfigError, match=rf"^--raw-older-than: must be a duration such as 90d, got '{text}'$"):
        parse_age(text)


@pytest.mark.parametrize("text", ["0d", "36501d", "99999999999d", "999999999999d"])
def test_ages_are_range_checked(text):
    with pytest.raises(ConfigError, match=rf"^--raw-older-than: must be between 1d and 36500d, got '{text}'$"):
        parse_age(text)


def test_age_parses():
    assert parse_age("90d") == timedelta(days=90)
