"""Register exports (CSV and Parquet), read lazily with polars.

Needs the ``dataframes`` extra. :func:`scan_register` returns a polars
``LazyFrame`` in the long format :mod:`chronic_na.attendance.frames` reads
(pupil, date, session, code, plus a ``row`` column with each mark's line in
the file), after checking the file's columns and, for CSV, that every date
parses: a bad value is reported with its row, column and what was expected.
Nothing is loaded whole: the checks are lazy queries that stop at the first
few problems.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from chronic_na.attendance.codes import quote_cell
from chronic_na.attendance.frames import RegisterColumns
from chronic_na.errors import InvalidInput

__all__ = ["ROW_COLUMN", "register_columns", "scan_register"]

ROW_COLUMN = "row"
"""The column :func:`scan_register` adds: the mark's line in a CSV (header is
line 1), or its 1-based row in a Parquet file."""


def register_columns(columns: RegisterColumns | None = None) -> RegisterColumns:
    """``columns`` with the ``row`` column that :func:`scan_register` adds."""
    base = columns or RegisterColumns()
    return RegisterColumns(base.pupil, base.date, base.session, base.code, ROW_COLUMN)


def scan_register(
    path: str | os.PathLike[str],
    *,
    columns: RegisterColumns | None = None,
    date_format: str = "%Y-%m-%d",
) -> pl.LazyFrame:
    """A lazy, checked view of a CSV or Parquet register export.

    The format comes from the suffix (``.csv``, ``.parquet``/``.pq``).
    Raises :class:`InvalidInput` for a missing file, a missing column, an
    empty pupil, session or code, or (CSV) a date that does not parse with
    ``date_format``; the message names the row and column.
    """
    cols = columns or RegisterColumns()
    file = Path(path)
    if not file.is_file():
        raise InvalidInput("file", f"{file.name}: no such file")
    needed = [cols.pupil, cols.date, cols.session, cols.code]
    suffix = file.suffix.lower()
    try:
        if suffix == ".csv":
            raw = pl.scan_csv(
                file, infer_schema=False, row_index_name=ROW_COLUMN, row_index_offset=2
            )
        elif suffix in (".parquet", ".pq"):
            raw = pl.scan_parquet(file).with_row_index(ROW_COLUMN, offset=1)
        else:
            raise InvalidInput("file", f"{file.name}: expected a .csv or .parquet register")
        names = raw.collect_schema().names()
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise InvalidInput("file", f"{file.name}: not a readable {suffix[1:]} file") from exc
    missing = [c for c in needed if c not in names]
    if missing:
        raise InvalidInput(
            "file",
            f"{file.name}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"expected {', '.join(repr(c) for c in needed)}",
        )
    frame = raw.select(ROW_COLUMN, *needed)
    schema = frame.collect_schema()
    if schema[cols.date] == pl.String:
        parsed = pl.col(cols.date).str.strip_chars().str.to_date(date_format, strict=False)
        bad = frame.filter(parsed.is_null()).select(ROW_COLUMN, cols.date).head(1).collect()
        if bad.height:
            row, value = bad.row(0)
            raise InvalidInput(
                f"row {row}, column {cols.date!r}",
                f"{quote_cell(value)} is not a date in the format {date_format}",
            )
        frame = frame.with_columns(parsed.alias(cols.date))
    elif schema[cols.date] not in (pl.Date, pl.Datetime):
        raise InvalidInput(f"column {cols.date!r}", f"must hold dates, not {schema[cols.date]}")
    text = [cols.pupil, cols.session, cols.code]
    empty = pl.any_horizontal(
        *(pl.col(c).cast(pl.String).str.strip_chars().fill_null("") == "" for c in text)
    )
    blank = frame.filter(empty).select(ROW_COLUMN, *text).head(1).collect()
    if blank.height:
        row = blank[ROW_COLUMN][0]
        which = next(c for c in text if not (str(blank[c][0] or "").strip()))
        raise InvalidInput(f"row {row}, column {which!r}", "is empty; expected a value")
    return frame.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars() for c in (cols.session, cols.code)
    )
