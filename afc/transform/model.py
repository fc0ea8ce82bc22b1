"""The rows a transform produces, grouped per table, in the order they must be written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from afc.errors import ItemInvalid
from afc.transform.fields import from_timestamp, opt_int

# Parents before children, so a reference is always upserted (at least as a stub) before the row
# that points to it. Tables not listed are written last, in the order they were first added.
TABLE_ORDER = (
    "core.countries",
    "core.timezones",
    "core.leagues",
    "core.league_seasons",
    "core.venues",
    "core.teams",
    "core.team_seasons",
    "core.players",
    "core.coaches",
    "core.fixtures",
)

Row = dict[str, Any]
Touch = tuple[str, tuple[str, ...]]  # a touch kind and the columns of a row that make its key
# The longest text a key column takes: PostgreSQL's btree refuses an index entry over ~2,700 bytes, which failed the
# whole response (its good items and raw row with it). Real keys (a country, a group, an odds label) are under 100.
KEY_TEXT_MAX = 500
_UNKNOWN = object()  # the source of a stub made of values `holds_stub` cannot compare: equal to nothing


@dataclass(frozen=True)
class Json:
    """A JSON column's value: the database layer serialises it when the row is written."""

    value: Any


@dataclass(frozen=True)
class TableRows:
    """Rows for one table with one column set; `stub` rows only fill in values that are still NULL."""

    table: str
    key: tuple[str, ...]
    rows: list[Row]
    stub: bool = False
    replace: tuple[str, ...] = ()  # delete existing rows matching these key columns first
    first: tuple[str, ...] = ()  # columns written when a row is inserted, never updated nor compared

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.rows[0]) if self.rows else ()


@dataclass(frozen=True)
class Quarantined:
    """An item that could not be transformed, and why."""

    index: int
    item: Any
    reason: str


@dataclass
class Batch:
    """Accumulates rows from many items, de-duplicated by key (the last item wins).

    Rows added while transforming one item are staged; `commit_item` keeps them and
    `rollback_item` drops them, so a bad item leaves nothing half-added behind.
    """

    _groups: dict[tuple[str, tuple[str, ...], bool, tuple[str, ...]], dict[tuple[Any, ...], Row]] = field(
        default_factory=dict
    )
    _replace: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _staged: list[tuple[str, tuple[str, ...], Row, bool]] = field(default_factory=list)
    _staged_touch: list[tuple[str, Any]] = field(default_factory=list)
    # (table, key) -> the values its stub row was made of, for `holds_stub`; staged ones overlay the kept ones
    _sources: dict[tuple[str, Any], Any] = field(default_factory=dict)
    _staged_sources: dict[tuple[str, Any], Any] = field(default_factory=dict)
    quarantined: list[Quarantined] = field(default_factory=list)
    touched: dict[str, set[Any]] = field(default_factory=dict)
    items: int = 0
    # (table, scope columns, touch) -> scope values the answer showed empty: their rows are deleted (`empty_scope`)
    emptied: dict[tuple[str, tuple[str, ...], Touch | None], set[tuple[Any, ...]]] = field(default_factory=dict)
    _staged_empty: list[tuple[str, tuple[str, ...], Touch | None, tuple[Any, ...]]] = field(default_factory=list)
    _moments: dict[int, datetime | None] = field(default_factory=dict)

    def add(self, table: str, key: tuple[str, ...], row: Row, *, stub: bool = False) -> None:
        """Stage one row; a stub is dropped when a full row with the same key is in the batch."""
        self._staged.append((table, key, row, stub))

    def add_stub(self, table: str, key: tuple[str, ...], row: Row, source: tuple[Any, ...] | None) -> None:
        """Stage a stub row made of `source` (its input values; None when they are not plain text and ints):
        the one function making `table`'s stubs of these columns calls this for every stub it makes."""
        self._staged.append((table, key, row, True))
        self._staged_sources[(table, row[key[0]] if len(key) == 1 else tuple([row[k] for k in key]))] = (
            _UNKNOWN if source is None else source)

    def holds_stub(self, table: str, key: Any, source: tuple[Any, ...]) -> bool:
        """Whether the stub this batch keeps for `key` (or the current item staged) was made of the same `source`.

        Then making it again changes nothing: the last item's row wins, and it would be an equal row. A
        380-item response names its 20 teams 38 times each; only the first costs a row.
        """
        slot = (table, key)
        made = self._staged_sources.get(slot)
        if made is None:
            made = self._sources.get(slot)
        return made == source

    def moment(self, value: Any) -> datetime | None:
        """`from_timestamp(value)`, each distinct second made once per batch: a response's fixtures share
        kickoffs (and a first half starts at its kickoff), and rows sharing the very object let the SQLite
        write format it once (afc.db.sqlite.parameters)."""
        seconds = opt_int(value)
        if seconds is None:
            return None
        made = self._moments.get(seconds, _UNKNOWN)
        if made is _UNKNOWN:
            made = self._moments[seconds] = from_timestamp(seconds)
        return made  # type: ignore[return-value]

    def replace_scope(self, table: str, scope: tuple[str, ...]) -> None:
        """Rows of `table` replace, as a whole, the existing rows sharing their `scope` columns."""
        self._replace[table] = scope

    def empty_scope(self, table: str, scope: tuple[str, ...], value: tuple[Any, ...], touch: Touch | None = None
                    ) -> None:
        """The answer gives `table` no rows for this scope (e.g. a fixture's statistics now `[]`): the rows kept
        for it are deleted, as `replace_scope` deletes those a non-empty answer no longer has. `touch`: the kind
        each deleted row touches and its columns that make the key (e.g. its league season, for coverage)."""
        self._staged_empty.append((table, scope, touch, value))

    def touch(self, kind: str, value: Any) -> None:
        """Note that an entity changed, for the marts (e.g. `touch("fixture", 123)`)."""
        self._staged_touch.append((kind, value))

    def commit_item(self, *, counted: bool = True) -> None:
        """Keep what the current item staged; ItemInvalid (nothing kept) if a key column's text is too long.
        `counted` False: what was staged is the response's, not an item's."""
        for table, key, row, _ in self._staged:
            for column in key:
                value = row[column]
                if type(value) is str and len(value) > KEY_TEXT_MAX:
                    raise ItemInvalid(f"{table}.{column}: {len(value)} characters, over the {KEY_TEXT_MAX} a key holds")
        groups = self._groups
        for table, key, row, stub in self._staged:
            name = (table, key, stub, tuple(row))
            group = groups.get(name)
            if group is None:
                group = groups[name] = {}
            group[(row[key[0]],) if len(key) == 1 else tuple([row[k] for k in key])] = row
        touched = self.touched
        for kind, value in self._staged_touch:
            kept = touched.get(kind)
            if kept is None:
                kept = touched[kind] = set()
            kept.add(value)
        if self._staged_sources:
            self._sources.update(self._staged_sources)
        for table, scope, touch, value in self._staged_empty:
            self.emptied.setdefault((table, scope, touch), set()).add(value)
        self.items += counted
        self.rollback_item()

    def rollback_item(self) -> None:
        """Drop what the current item staged."""
        self._staged.clear()
        self._staged_touch.clear()
        self._staged_sources.clear()
        self._staged_empty.clear()

    def empty_scopes(self) -> Iterator[tuple[str, tuple[str, ...], Touch | None, tuple[Any, ...]]]:
        """Each emptied scope that no row of the batch fills (a later item may have given it rows)."""
        for (table, scope, touch), values in self.emptied.items():
            filled = {tuple(row[c] for c in scope) for (name, _, stub, _), rows in self._groups.items()
                      if name == table and not stub for row in rows.values()}
            for value in sorted(values - filled):
                yield table, scope, touch, value

    def quarantine(self, index: int, item: Any, reason: str) -> None:
        """Record an item that failed, dropping anything it staged."""
        self.rollback_item()
        self.quarantined.append(Quarantined(index, item, reason))

    def tables(self) -> Iterator[TableRows]:
        """The accumulated rows in write order: parents first, stubs before full rows."""
        full_keys = {
            (table, k) for (table, _, stub, _), rows in self._groups.items() if not stub for k in rows
        }
        order = {name: i for i, name in enumerate(TABLE_ORDER)}
        groups = sorted(self._groups.items(), key=lambda g: (order.get(g[0][0], len(order)), not g[0][2]))
        for (table, key, stub, _), rows in groups:
            kept = [row for k, row in rows.items() if not (stub and (table, k) in full_keys)]
            if kept:
                yield TableRows(table, key, kept, stub, self._replace.get(table, ()) if not stub else ())
