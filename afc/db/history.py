"""Append-only history tables: a new version is written only when it differs from the last one kept.

A history table holds units (one price of one selection; one group's table) in versions keyed by
the response's `fetched_at`. A response's rows are compared with the newest version kept at or before
that moment, so a re-fetched unchanged unit writes nothing, and replaying the archive in fetch order
(`afc rebuild`) gives the same rows however often it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from afc.db import Database
from afc.transform.model import Row, TableRows


@dataclass(frozen=True)
class History:
    """How one history table compares versions."""

    unit: tuple[str, ...]  # the columns naming one unit (a selection; a league season group)
    member: tuple[str, ...]  # the columns naming a row within a unit (a team in a table); () for one row
    compared: tuple[str, ...]  # what must differ for a new version (names and API update times do not)


HISTORIES = {
    "core.odds_history": History(("fixture_id", "bookmaker_id", "bet_id", "value"), (), ("odd",)),
    "core.standings_history": History(
        ("league_id", "season", "group_name"), ("team_id",),
        ("round", "rank", "points", "goals_diff", "played", "win", "draw", "lose", "goals_for", "goals_against",
         "form", "status", "description")),
}
CHUNK = 200  # units per statement (well under both backends' parameter limits)


@lru_cache(maxsize=64)
def _latest_sql(table: str, spec: History, count: int) -> str:
    """The newest version at or before `%(at)s` of each unit listed (`%(u0)s`, `%(u1)s`, … in order).

    Every lookup is a correlated subquery, which both backends run as one backward index seek per
    unit; a join with the history would let PostgreSQL hash the whole table instead.
    """
    unit = ", ".join(spec.unit)
    same = " AND ".join(f"x.{c} = w.{c}" for c in spec.unit)
    width = len(spec.unit)
    units = ", ".join("(" + ", ".join(f"%(u{i * width + j})s" for j in range(width)) + ")" for i in range(count))
    newest = f"(SELECT x.{{column}} FROM {table} x WHERE {same} AND x.fetched_at <= %(at)s " \
             "ORDER BY x.fetched_at DESC LIMIT 1)"
    head = f"WITH w ({unit}) AS (VALUES {units})"
    if not spec.member:  # one row per version: read its values straight from the seek
        values = ", ".join(newest.format(column=c) for c in ("fetched_at",) + spec.compared)
        return f"{head} SELECT {', '.join(f'w.{c}' for c in spec.unit)}, {values} FROM w"
    join = " AND ".join(f"h.{c} = l.{c}" for c in spec.unit)
    cols = ", ".join(f"h.{c}" for c in spec.unit + spec.member + spec.compared)
    return (f"{head}, l AS (SELECT w.*, {newest.format(column='fetched_at')} AS last FROM w) "
            f"SELECT {cols} FROM l JOIN {table} h ON {join} AND h.fetched_at = l.last")


@lru_cache(maxsize=8)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    cols = columns + ("fetched_at", "raw_id")
    return (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(f'%({c})s' for c in cols)}) "
            "ON CONFLICT DO NOTHING")


def _same(value: Any) -> Any:
    """A value as compared: PostgreSQL's numeric comes back as Decimal, SQLite's as int or float."""
    return float(value) if isinstance(value, Decimal) else value


Version = dict[tuple[Any, ...], tuple[Any, ...]]  # member → compared values


def _kept(db: Database, table: str, spec: History, units: list[tuple[Any, ...]],
          at: Any) -> dict[tuple[Any, ...], Version]:
    """The newest version kept at or before `at` of each unit (units with none kept are absent)."""
    width, members = len(spec.unit), len(spec.unit) + len(spec.member)
    kept: dict[tuple[Any, ...], Version] = {}
    for start in range(0, len(units), CHUNK):
        chunk = units[start : start + CHUNK]
        params = {f"u{i}": v for i, v in enumerate(v for unit in chunk for v in unit)} | {"at": at}
        for found in db.fetchall(_latest_sql(table, spec, len(chunk)), params):
            if not spec.member:
                if found[width] is not None:  # the newest kept moment: None when nothing is kept
                    kept[tuple(found[:width])] = {(): tuple(_same(v) for v in found[width + 1:])}
                continue
            version = kept.setdefault(tuple(found[:width]), {})
            version[tuple(found[width:members])] = tuple(_same(v) for v in found[members:])
    return kept


def _version(spec: History, rows: list[Row]) -> Version:
    return {tuple(row[c] for c in spec.member): tuple(row[c] for c in spec.compared) for row in rows}


def append_changed(db: Database, batch: TableRows, meta: dict[str, Any]) -> tuple[int, int]:
    """Write the units of `batch` that differ from their last kept version; returns (written, unchanged)."""
    spec = HISTORIES[batch.table]
    at = meta["updated_at"]
    units: dict[tuple[Any, ...], list[Row]] = {}
    for row in batch.rows:
        units.setdefault(tuple(row[c] for c in spec.unit), []).append(row)
    kept = _kept(db, batch.table, spec, list(units), at)
    fresh = [row for unit, rows in units.items() if kept.get(unit) != _version(spec, rows) for row in rows]
    if not fresh:
        return 0, len(batch.rows)
    written = max(0, db.executemany(_insert_sql(batch.table, batch.columns),
                                    [row | {"fetched_at": at, "raw_id": meta["raw_id"]} for row in fresh]))
    return written, len(batch.rows) - written
