"""The three file formats: each column's logical type kept as far as the format can hold it.

- Parquet (pyarrow, the `export` extra): integers, floats, booleans, dates and UTC timestamps
  (`timestamp[us, tz=UTC]`) as Arrow types; JSON columns as strings with Parquet's JSON logical type.
  Strings, not nested types, because the API's JSON parts change shape from row to row (a statistic's
  value is `12`, `"57%"` or null; lineups of old seasons lack fields): one Arrow struct type per
  column would reject or blur those rows, while DuckDB, BigQuery and dbt read JSON text natively.
- CSV: text; timestamps as ISO 8601 with `+00:00`, booleans `true`/`false`, NULL as an empty field,
  JSON as its text. The dbt sources.yml documents the types.
- JSON Lines: one object per row; JSON columns nested as they are (JSON holds them natively).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from afc.db import as_date, as_datetime
from afc.db.catalog import Column
from afc.errors import ConfigError

FORMATS = ("parquet", "csv", "jsonl")
_KINDS = {"smallint": "int", "integer": "int", "bigint": "int", "numeric": "float", "real": "float",
          "double precision": "float", "boolean": "bool", "timestamptz": "timestamp", "timestamp": "timestamp",
          "date": "date", "jsonb": "json", "json": "json"}
MISSING_PYARROW = ("export: Parquet needs pyarrow, which is not installed: pip install 'pyarrow>=19' into afc's "
                   "environment (from a checkout: pip install '/path/to/afc[export]')")


def kind(column: Column) -> str:
    """How a column's values travel: int, float, bool, timestamp, date, json (arrays too) or text."""
    return "json" if column.type.endswith("[]") else _KINDS.get(column.type, "text")


def check_format(name: str) -> str:
    """The format, or a one-line error naming the choices."""
    if name not in FORMATS:
        raise ConfigError(f"export: --format {name!r}: use parquet, csv or jsonl")
    return name


def require_pyarrow() -> None:
    """Fail in one line, before anything is read or written, when Parquet cannot be written."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ConfigError(MISSING_PYARROW) from None


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


_NORMALISE: dict[str, Callable[[Any], Any]] = {
    "int": lambda v: v, "float": _float, "bool": _bool, "timestamp": as_datetime, "date": as_date,
    "json": _text, "text": _text,
}


def normalisers(columns: Sequence[Column]) -> list[Callable[[Any], Any]]:
    """Per column, the function turning either backend's value into one Python type."""
    return [_NORMALISE[kind(c)] for c in columns]


class Sink(Protocol):
    """An open output file receiving normalised rows."""

    def write(self, rows: list[list[Any]]) -> None: ...

    def close(self) -> None: ...


def open_sink(fmt: str, path: Path, columns: Sequence[Column]) -> Sink:
    """A writer of `fmt` at `path` for rows of `columns`."""
    if fmt == "parquet":
        return ParquetSink(path, columns)
    if fmt == "csv":
        return CsvSink(path, columns)
    return JsonlSink(path, columns)


def arrow_type(column: Column) -> Any:
    """The Arrow type a column is written as in Parquet."""
    import pyarrow as pa

    if kind(column) == "timestamp":
        return pa.timestamp("us", tz="UTC" if column.type == "timestamptz" else None)
    if kind(column) == "json":
        return pa.json_(pa.string())
    simple = {"smallint": pa.int16(), "integer": pa.int32(), "bigint": pa.int64(), "real": pa.float32(),
              "boolean": pa.bool_(), "date": pa.date32()}
    return simple.get(column.type, pa.float64() if kind(column) == "float" else pa.string())


class ParquetSink:
    """Parquet through pyarrow, one row group per batch, zstd-compressed."""

    def __init__(self, path: Path, columns: Sequence[Column]):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self.schema = pa.schema([pa.field(c.name, arrow_type(c), nullable=c.nullable) for c in columns])
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")

    def write(self, rows: list[list[Any]]) -> None:
        pa = self._pa
        arrays = []
        for index, field in enumerate(self.schema):
            values = [row[index] for row in rows]
            if isinstance(field.type, pa.BaseExtensionType):
                arrays.append(pa.ExtensionArray.from_storage(field.type, pa.array(values, field.type.storage_type)))
            else:
                arrays.append(pa.array(values, field.type))
        self.writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


class CsvSink:
    """CSV with a header row (RFC 4180 quoting, UTF-8)."""

    def __init__(self, path: Path, columns: Sequence[Column]):
        self.file: TextIO = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow([c.name for c in columns])

    def write(self, rows: list[list[Any]]) -> None:
        self.writer.writerows([_csv_value(v) for v in row] for row in rows)

    def close(self) -> None:
        self.file.close()


class JsonlSink:
    """One JSON object per line; JSON columns spliced in as the valid JSON text they already are."""

    def __init__(self, path: Path, columns: Sequence[Column]):
        self.file: TextIO = path.open("w", encoding="utf-8")
        self.keys = [json.dumps(c.name) + ":" for c in columns]
        self.nested = [kind(c) == "json" for c in columns]

    def write(self, rows: list[list[Any]]) -> None:
        lines = []
        for row in rows:
            parts = [key + (value if nested and value is not None else _json_value(value))
                     for key, nested, value in zip(self.keys, self.nested, row, strict=True)]
            lines.append("{" + ",".join(parts) + "}\n")
        self.file.writelines(lines)

    def close(self) -> None:
        self.file.close()


def _json_value(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return json.dumps(value.isoformat())
    return json.dumps(value, ensure_ascii=False)
