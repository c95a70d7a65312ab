"""Registers as dataframes: summaries and cohorts at any scale, through narwhals.

Needs the ``dataframes`` extra (``pip install 'chronic-na[dataframes]'``);
Dask inputs need ``distributed`` too. Any frame narwhals accepts works:
pandas, polars (eager or lazy), pyarrow, DuckDB relations, Dask. The same
calls give the same results on each (property-tested).

Two shapes:

* long format, one row per mark: pupil, date, session, code
  (:func:`summarise_register`, :func:`identify_register`);
* per-pupil counts, one row per pupil and one column per code, the census
  shape (:func:`summarise_code_counts`, :func:`identify_code_counts`).

The long-format work is one pass over the register: a group-by on the
pupil alone that counts each pupil's sessions per category, bad session
marks, unknown codes and withdrawn codes, computed by the engine (lazily,
and with polars streaming, where the engine is lazy). Its state is one row
a pupil, whatever the number of codes. Per-code counts are needed only for
the pupils identified, so a second, filtered group-by on (pupil, code)
counts them for those pupils alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrame

from chronic_na.attendance.codes import (
    CODES_2024,
    CODES_PRE_2024,
    REGULATIONS_2024_IN_FORCE,
    Category,
    CodeTable,
    Session,
    WithdrawnCodeRefused,
    quote_cell,
    quote_pupil,
)
from chronic_na.attendance.identify import (
    Cohort,
    HasIdentificationThreshold,
    Window,
    WindowKind,
    identify,
    resolve_threshold,
)
from chronic_na.attendance.marks import (
    DataQualityFinding,
    FindingKind,
    SessionMark,
)
from chronic_na.attendance.patterns import AttendancePattern, analyse_pattern
from chronic_na.attendance.summary import AttendanceSummary, Threshold
from chronic_na.errors import InvalidInput

__all__ = [
    "CATEGORY_COLUMNS",
    "RegisterColumns",
    "identify_code_counts",
    "identify_register",
    "patterns_from_register",
    "summarise_code_counts",
    "summarise_register",
]

CATEGORY_COLUMNS = ("present", "approved_activity", "authorised", "unauthorised", "possible")
"""The per-pupil total columns that the summarising functions add."""

_CATEGORIES = (
    Category.PRESENT,
    Category.APPROVED_ACTIVITY,
    Category.AUTHORISED,
    Category.UNAUTHORISED,
)
_MAX_DETAILS = 5


@attrs.frozen
class RegisterColumns:
    """Column names of a long-format register.

    ``row``, if given, names a column holding each row's position in the
    source file; errors then quote it.
    """

    pupil: str = "pupil"
    date: str = "date"
    session: str = "session"
    code: str = "code"
    row: str | None = None


def _lazy(data: Any) -> nw.LazyFrame[Any]:
    try:
        frame = nw.from_native(data)
    except TypeError as exc:
        raise InvalidInput(
            "register", "must be a dataframe narwhals supports (pandas, polars, pyarrow, ...)"
        ) from exc
    if isinstance(frame, nw.DataFrame):
        return frame.lazy()
    if isinstance(frame, nw.LazyFrame):
        return frame
    raise InvalidInput("register", "must be a dataframe, not a series")


def _require_columns(frame: nw.LazyFrame[Any], needed: Iterable[str]) -> Any:
    schema = frame.collect_schema()
    missing = [c for c in needed if c not in schema]
    if missing:
        raise InvalidInput("register", f"missing column(s) {', '.join(repr(c) for c in missing)}")
    return schema


def _date_bound(schema: nw.Schema, column: str, day: dt.date) -> Any:
    dtype = schema[column]
    if dtype == nw.Date:
        return day
    if dtype == nw.Datetime:
        return dt.datetime.combine(day, dt.time())  # naive, like the column
    raise InvalidInput(f"column {column!r}", f"must hold dates (Date or Datetime), not {dtype}")


def _in_window(schema: nw.Schema, column: str, start: dt.date, end: dt.date) -> nw.Expr:
    lower = _date_bound(schema, column, start)
    upper = _date_bound(schema, column, end + dt.timedelta(days=1))
    inside: nw.Expr = (nw.col(column) >= lower) & (nw.col(column) < upper)
    return inside


def _tables_for(start: dt.date, end: dt.date) -> tuple[CodeTable, ...]:
    if start >= REGULATIONS_2024_IN_FORCE:
        return (CODES_2024,)
    if end < REGULATIONS_2024_IN_FORCE:
        return (CODES_PRE_2024,)
    return (CODES_PRE_2024, CODES_2024)


def _category_of(code: str) -> Category:
    # Codes in both tables (withdrawn ones included) count the same in both,
    # so one lookup serves a window that straddles 19 August 2024.
    found = CODES_2024.codes.get(code) or CODES_2024.withdrawn.get(code)
    return found if found is not None else CODES_PRE_2024.codes[code]


def _threshold_expr(threshold: Threshold) -> nw.Expr:
    possible = nw.col("possible")
    attended = nw.col("present") + nw.col("approved_activity")
    absent = nw.col("authorised") + nw.col("unauthorised")
    if threshold is Threshold.POLICY_TRIGGER:
        met = attended * 2 < possible
    elif threshold is Threshold.SEVERE_ABSENCE:
        met = absent * 2 >= possible
    else:
        met = absent * 10 >= possible
    return (possible > 0) & met


_FLAGS = ("bad", "unknown", "withdrawn")


@attrs.frozen
class _Stage:
    """The one pass over a long register, and what was found in it."""

    totals: nw.DataFrame[Any]
    """Columns: pupil and :data:`CATEGORY_COLUMNS`, one row a pupil — materialised (small)."""
    windowed: nw.LazyFrame[Any]
    """The register's marks inside the window (lazy), for per-code counts."""
    per_code: nw.DataFrame[Any] | None
    """Columns pupil, code, n for every pupil, where the pass counted them."""
    findings: tuple[DataQualityFinding, ...]
    start: dt.date
    end: dt.date


def _describe_rows(rows: Sequence[Mapping[str, Any]], columns: RegisterColumns) -> str:
    described = []
    for row in rows[:_MAX_DETAILS]:
        day = row[columns.date]
        day_text = day.date().isoformat() if isinstance(day, dt.datetime) else str(day)
        where = f"row {row[columns.row]}: " if columns.row else ""
        described.append(
            f"{where}pupil {quote_pupil(row[columns.pupil])}, {day_text}, "
            f"session {quote_cell(row[columns.session], quote=False)}, "
            f"code {quote_cell(row[columns.code])}"
        )
    return "; ".join(described)


def _collect(frame: nw.LazyFrame[Any]) -> nw.DataFrame[Any]:
    # polars' streaming engine runs the one pass in bounded memory, so a
    # scanned Parquet register is never held whole; other engines stream or
    # distribute on their own.
    if frame.implementation is nw.Implementation.POLARS:
        return frame.collect(engine="streaming")
    return frame.collect()


def _first_rows(
    frame: nw.LazyFrame[Any], predicate: nw.Expr, columns: RegisterColumns, limit: int | None
) -> list[dict[str, Any]]:
    names = [columns.pupil, columns.date, columns.session, columns.code]
    if columns.row:
        names.append(columns.row)
    picked = frame.filter(predicate).select(*names)
    sort_by = [columns.row] if columns.row else [columns.pupil, columns.date, columns.session]
    collected = picked.collect().sort(*sort_by)
    if limit is not None:
        collected = collected.head(limit)
    return list(collected.iter_rows(named=True))


def _bad_session(code: nw.Expr, columns: RegisterColumns) -> nw.Expr:
    """Per mark: a session that is neither AM nor PM, or a '/' or '\\' on the wrong one."""
    session = nw.col(columns.session).cast(nw.String)
    return (
        ~session.is_in(["AM", "PM"])
        | ((code == "/") & (session == "PM"))
        | ((code == "\\") & (session == "AM"))
    )


def _code_checks(
    code: nw.Expr, tables: tuple[CodeTable, ...], post: nw.Expr
) -> tuple[nw.Expr, nw.Expr]:
    """Per mark (or per code): an unknown (or missing) code, a withdrawn code."""
    if len(tables) == 2:
        unknown = code.is_null() | (
            (post & ~code.is_in(sorted(CODES_2024.all_codes())))
            | (~post & ~code.is_in(sorted(CODES_PRE_2024.all_codes())))
        )
        withdrawn = post & code.is_in(sorted(CODES_2024.withdrawn))
    else:
        (table,) = tables
        unknown = code.is_null() | ~code.is_in(sorted(table.all_codes()))
        withdrawn = code.is_in(sorted(table.withdrawn))
    return unknown, withdrawn


def _category_flags(code: nw.Expr) -> dict[str, nw.Expr]:
    # Codes in both tables (withdrawn ones included) count the same in both,
    # so one list per category serves a window that straddles 19 August 2024.
    return {
        category.value: code.is_in(
            sorted(CODES_2024.codes_in(category) | CODES_PRE_2024.codes_in(category))
        )
        for category in _CATEGORIES
    }


def _counts_by_pupil(
    windowed: nw.LazyFrame[Any],
    code: nw.Expr,
    columns: RegisterColumns,
    tables: tuple[CodeTable, ...],
    post: nw.Expr,
) -> nw.DataFrame[Any]:
    """polars: one group-by on the pupil alone, each mark's flags summed.

    polars' streaming group-by keeps far more state per group than the
    count it holds, so grouping on (pupil, code), some ten groups a pupil,
    doubled the peak memory of a lazy read; one row a pupil keeps it small.
    Each code is keyed once to a small enum (unknown codes to null), so the
    tests on it compare integers, not strings.
    """
    known = sorted(CODES_2024.all_codes() | CODES_PRE_2024.all_codes())
    key = nw.col("_code")
    flags = _category_flags(key)
    flags["bad"] = _bad_session(key, columns)
    flags |= dict(zip(("unknown", "withdrawn"), _code_checks(key, tables, post), strict=True))
    return _collect(
        windowed.with_columns(_code=nw.when(code.is_in(known)).then(code).cast(nw.Enum(known)))
        .select(columns.pupil, *(flag.alias(name) for name, flag in flags.items()))
        .group_by(columns.pupil)
        .agg(*(nw.col(name).sum() for name in flags))
        # Sums of flags come as UInt32 (polars); counts of sessions fit in 64 bits.
        .with_columns(*(nw.col(name).cast(nw.Int64) for name in flags))
    )


def _counts_by_pupil_and_code(
    windowed: nw.LazyFrame[Any],
    code: nw.Expr,
    columns: RegisterColumns,
    tables: tuple[CodeTable, ...],
    post: nw.Expr,
) -> tuple[nw.DataFrame[Any], nw.DataFrame[Any]]:
    """Other engines: one group-by on (pupil, code), classified afterwards.

    DuckDB and the pandas family count (pupil, code) groups cheaply and are
    slow to test every mark against lists of codes, so the codes are
    classified on the small per-code result, which also gives every pupil's
    per-code counts. Returns (counts by pupil, per-code counts).
    """
    two = len(tables) == 2
    extra = {"post": post} if two else {}
    keys = [columns.pupil, "code", *extra]
    per_code = _collect(
        windowed.with_columns(code=code, bad=_bad_session(code, columns), **extra)
        .group_by(*keys)
        .agg(n=nw.len(), bad=nw.col("bad").sum())
        # DuckDB sums to 128-bit decimals; counts of sessions fit in 64 bits.
        .with_columns(nw.col("n").cast(nw.Int64), nw.col("bad").cast(nw.Int64))
    )
    key = nw.col("code")
    flags = _category_flags(key)
    unknown, withdrawn = _code_checks(key, tables, nw.col("post") if two else nw.lit(True))
    flags |= {"unknown": unknown, "withdrawn": withdrawn}
    n = nw.col("n")
    counted = (
        per_code.with_columns(
            *(nw.when(flag).then(n).otherwise(0).alias(name) for name, flag in flags.items())
        )
        .group_by(columns.pupil)
        .agg(*(nw.col(name).sum() for name in [*flags, "bad"]))
    )
    return counted, per_code.select(columns.pupil, "code", "n")


def _one_pass(
    frame: nw.LazyFrame[Any],
    columns: RegisterColumns,
    *,
    as_of: dt.date,
    window: Window,
    strict: bool,
) -> _Stage:
    schema = _require_columns(frame, [columns.pupil, columns.date, columns.session, columns.code])
    for name in (columns.pupil, columns.session, columns.code):
        if schema[name] not in (nw.String, nw.Categorical, nw.Enum):
            raise InvalidInput(f"column {name!r}", f"must hold text, not {schema[name]}")
    if window.kind is WindowKind.LAST_SCHOOL_WEEKS:
        upto = frame.filter(
            nw.col(columns.date) < _date_bound(schema, columns.date, as_of + dt.timedelta(days=1))
        )
        days_frame = upto.select(columns.date).unique().collect()
        days = [
            d.date() if isinstance(d, dt.datetime) else d
            for d in days_frame[columns.date].to_list()
        ]
        start, end = window.resolve(as_of, days)
    else:
        start, end = window.resolve(as_of)
    tables = _tables_for(start, end)
    post = nw.col(columns.date) >= _date_bound(schema, columns.date, REGULATIONS_2024_IN_FORCE)
    code = nw.col(columns.code).cast(nw.String)
    # The checks, mark by mark, on the code as text (to find the rows to quote).
    bad_session = _bad_session(code, columns)
    unknown, withdrawn = _code_checks(code, tables, post)
    windowed = frame.filter(_in_window(schema, columns.date, start, end))
    per_code: nw.DataFrame[Any] | None = None
    if frame.implementation is nw.Implementation.POLARS:
        counted = _counts_by_pupil(windowed, code, columns, tables, post)
    else:
        counted, per_code = _counts_by_pupil_and_code(windowed, code, columns, tables, post)
    checks = counted.select(*(nw.col(name).sum() for name in _FLAGS)).row(0)
    bad_count, unknown_count, withdrawn_count = checks
    if bad_count:
        rows = _first_rows(windowed, bad_session, columns, _MAX_DETAILS)
        raise InvalidInput(
            "register",
            "session must be 'AM' or 'PM', '/' is the AM mark and '\\' the PM mark: "
            + _describe_rows(rows, columns),
        )
    if unknown_count:
        rows = _first_rows(windowed, unknown, columns, _MAX_DETAILS)
        raise InvalidInput(
            "register",
            "not an attendance code in the table in force on the session's date: "
            + _describe_rows(rows, columns),
        )
    findings: tuple[DataQualityFinding, ...] = ()
    if withdrawn_count:
        rows = _first_rows(windowed, withdrawn, columns, None)
        if strict:
            raise WithdrawnCodeRefused(
                "register",
                "code withdrawn on 19 Aug 2024 (strict mode refuses withdrawn codes): "
                + _describe_rows(rows, columns),
            )
        findings = tuple(_finding(row, columns) for row in rows)
    totals = counted.select(
        columns.pupil,
        *(c.value for c in _CATEGORIES),
        possible=nw.sum_horizontal(*(c.value for c in _CATEGORIES)),
    )
    return _Stage(
        totals=totals,
        windowed=windowed,
        per_code=per_code,
        findings=findings,
        start=start,
        end=end,
    )


def _per_code(
    stage: _Stage, columns: RegisterColumns, refs: Sequence[str]
) -> nw.DataFrame[Any] | None:
    """Columns pupil, code, n: sessions per code for the pupils ``refs`` only."""
    if not refs:
        return None
    if stage.per_code is not None:
        return stage.per_code.filter(nw.col(columns.pupil).is_in(list(refs)))
    code = nw.col(columns.code).cast(nw.String)
    return _collect(
        stage.windowed.filter(nw.col(columns.pupil).is_in(list(refs)))
        .select(columns.pupil, code.alias("code"))
        .group_by(columns.pupil, "code")
        .agg(n=nw.len())
    )


def _finding(row: Mapping[str, Any], columns: RegisterColumns) -> DataQualityFinding:
    day = row[columns.date]
    code = str(row[columns.code])
    return DataQualityFinding(
        FindingKind.WITHDRAWN_CODE,
        code,
        pupil=str(row[columns.pupil]),
        date=day.date() if isinstance(day, dt.datetime) else day,
        session=Session.parse(str(row[columns.session])),
        counted_as=CODES_2024.withdrawn[code],
    )


def summarise_register(
    data: IntoFrame,
    *,
    as_of: dt.date,
    window: Window | None = None,
    columns: RegisterColumns | None = None,
    strict: bool = False,
) -> tuple[Any, tuple[DataQualityFinding, ...]]:
    """Per-pupil category totals from a long-format register, as a native frame.

    Returns a frame of the input's backend family (a collected, eager frame)
    with the pupil column and :data:`CATEGORY_COLUMNS`, and the findings.
    Raises :class:`InvalidInput` naming the rows (pupil, date, session,
    code, and the row number if ``columns.row`` is given) for unknown codes,
    bad session marks, or (``strict``) withdrawn codes.
    """
    cols = columns or RegisterColumns()
    stage = _one_pass(
        _lazy(data), cols, as_of=as_of, window=window or Window.year_to_date(), strict=strict
    )
    return stage.totals.sort(cols.pupil).to_native(), stage.findings


def _cohort_from(
    totals: nw.DataFrame[Any],
    per_code: Callable[[Sequence[str]], nw.DataFrame[Any] | None],
    pupil: str,
    chosen: Threshold,
    *,
    as_of: dt.date,
    start: dt.date,
    end: dt.date,
    findings: tuple[DataQualityFinding, ...],
) -> Cohort:
    considered = totals.shape[0]
    met = totals.filter(_threshold_expr(chosen))
    refs = [str(p) for p in met[pupil].to_list()]
    codes: dict[str, dict[str, int]] = defaultdict(dict)
    mine = per_code(refs) if refs else None
    if mine is not None:
        for ref, code, n in mine.select(pupil, "code", "n").iter_rows(named=False):
            bucket = codes[str(ref)]
            bucket[str(code)] = bucket.get(str(code), 0) + int(n)
    summaries = {}
    for row in met.iter_rows(named=True):
        ref = str(row[pupil])
        summaries[ref] = AttendanceSummary(
            present=int(row["present"]),
            approved_activity=int(row["approved_activity"]),
            authorised=int(row["authorised"]),
            unauthorised=int(row["unauthorised"]),
            per_code=codes.get(ref, {}),
        )
    cohort = identify(summaries, chosen, as_of=as_of, start=start, end=end, findings=findings)
    return attrs.evolve(cohort, considered=considered)


def identify_register(
    data: IntoFrame,
    *,
    as_of: dt.date,
    window: Window | None = None,
    threshold: Threshold | HasIdentificationThreshold = Threshold.POLICY_TRIGGER,
    columns: RegisterColumns | None = None,
    strict: bool = False,
) -> Cohort:
    """The cohort meeting ``threshold`` in a long-format register (pupil, date, session, code).

    ``threshold`` is a :class:`Threshold` or a policy's; pass
    ``policy.identification_threshold`` or the policy itself. Lazy frames
    (a polars ``scan_parquet``, a DuckDB relation, a Dask frame) are read
    by the engine and never loaded whole: one pass counts every pupil's
    sessions per category, a second, filtered to the pupils identified,
    counts their sessions per code (and, if any withdrawn code is found, a
    third lists those marks).
    """
    chosen = resolve_threshold(threshold)
    cols = columns or RegisterColumns()
    stage = _one_pass(
        _lazy(data), cols, as_of=as_of, window=window or Window.year_to_date(), strict=strict
    )
    return _cohort_from(
        stage.totals,
        lambda refs: _per_code(stage, cols, refs),
        cols.pupil,
        chosen,
        as_of=as_of,
        start=stage.start,
        end=stage.end,
        findings=stage.findings,
    )


def _code_columns(
    schema: nw.Schema, pupil: str, code_columns: Mapping[str, str] | None, table: CodeTable
) -> dict[str, str]:
    if code_columns is None:
        mapping = {name: name for name in schema if name != pupil}
    else:
        mapping = dict(code_columns)
    missing = [c for c in mapping if c not in schema]
    if missing:
        raise InvalidInput("counts", f"missing column(s) {', '.join(repr(c) for c in missing)}")
    for column, code in mapping.items():
        if code not in table.all_codes():
            raise InvalidInput(
                f"column {column!r}",
                f"{code!r} is not an attendance code in the {table.name} table",
            )
        if not schema[column].is_integer():
            raise InvalidInput(
                f"column {column!r}", f"must hold whole session counts, not {schema[column]}"
            )
    return mapping


def _counts_totals(
    frame: nw.LazyFrame[Any], pupil: str, mapping: Mapping[str, str], table: CodeTable
) -> nw.LazyFrame[Any]:
    sums = {}
    for category in _CATEGORIES:
        chosen = [col for col, code in mapping.items() if table.category(code) is category]
        sums[category.value] = (
            nw.sum_horizontal(*(nw.col(c).fill_null(0) for c in chosen)) if chosen else nw.lit(0)
        )
    return frame.with_columns(**sums).with_columns(
        possible=nw.sum_horizontal(*(c.value for c in _CATEGORIES))
    )


def _check_counts(
    frame: nw.LazyFrame[Any], pupil: str, mapping: Mapping[str, str], table: CodeTable, strict: bool
) -> tuple[DataQualityFinding, ...]:
    if not mapping:
        return ()
    checks = frame.select(
        *(
            (nw.col(c).is_null() | (nw.col(c) < 0)).cast(nw.Int64).sum().alias(f"bad:{c}")
            for c in mapping
        ),
        *(nw.col(c).fill_null(0).sum().alias(f"sum:{c}") for c in mapping),
    ).collect()
    first = checks.row(0)
    names = checks.columns
    values = dict(zip(names, first, strict=True))
    bad = [c for c in mapping if values[f"bad:{c}"]]
    if bad:
        raise InvalidInput(
            f"column {bad[0]!r}",
            f"{values[f'bad:{bad[0]}']} row(s) empty or negative; expected session counts, 0+",
        )
    findings: list[DataQualityFinding] = []
    for column, code in mapping.items():
        if table.is_withdrawn(code) and values[f"sum:{column}"]:
            if strict:
                raise WithdrawnCodeRefused(
                    f"column {column!r}",
                    f"code {code!r} was withdrawn on 19 Aug 2024 (strict mode refuses it)",
                )
            rows = frame.filter(nw.col(column) > 0).select(pupil, column).collect().sort(pupil)
            findings.extend(
                DataQualityFinding(
                    FindingKind.WITHDRAWN_CODE,
                    code,
                    pupil=str(ref),
                    sessions=int(n),
                    counted_as=table.category(code),
                )
                for ref, n in rows.iter_rows(named=False)
            )
    return tuple(findings)


def summarise_code_counts(
    data: IntoFrame,
    *,
    pupil: str = "pupil",
    code_columns: Mapping[str, str] | None = None,
    table: CodeTable = CODES_2024,
    strict: bool = False,
) -> tuple[Any, tuple[DataQualityFinding, ...]]:
    """Per-pupil totals from a per-code count frame (one row a pupil, one column a code).

    ``code_columns`` maps column names to codes (by default every column
    but ``pupil`` is named by its code). Returns the input's rows with
    :data:`CATEGORY_COLUMNS` added (native, collected), and the findings.
    """
    frame = _lazy(data)
    schema = _require_columns(frame, [pupil])
    mapping = _code_columns(schema, pupil, code_columns, table)
    findings = _check_counts(frame, pupil, mapping, table, strict)
    return _counts_totals(frame, pupil, mapping, table).collect().to_native(), findings


def identify_code_counts(
    data: IntoFrame,
    *,
    as_of: dt.date,
    start: dt.date,
    end: dt.date,
    threshold: Threshold | HasIdentificationThreshold = Threshold.POLICY_TRIGGER,
    pupil: str = "pupil",
    code_columns: Mapping[str, str] | None = None,
    table: CodeTable = CODES_2024,
    strict: bool = False,
) -> Cohort:
    """The cohort meeting ``threshold`` in a per-code count frame covering ``start``..``end``."""
    chosen = resolve_threshold(threshold)
    frame = _lazy(data)
    schema = _require_columns(frame, [pupil])
    mapping = _code_columns(schema, pupil, code_columns, table)
    findings = _check_counts(frame, pupil, mapping, table, strict)
    totals = _counts_totals(frame, pupil, mapping, table).collect()

    def per_code(refs: Sequence[str]) -> nw.DataFrame[Any] | None:
        if not mapping:
            return None
        return (
            totals.filter(nw.col(pupil).is_in(list(refs)))
            .unpivot(on=list(mapping), index=pupil, variable_name="column", value_name="n")
            .filter(nw.col("n") > 0)
            .with_columns(code=nw.col("column").replace_strict(mapping, return_dtype=nw.String))
        )

    return _cohort_from(
        totals,
        per_code,
        pupil,
        chosen,
        as_of=as_of,
        start=start,
        end=end,
        findings=findings,
    )


def patterns_from_register(
    data: IntoFrame,
    pupils: Iterable[str],
    *,
    as_of: dt.date,
    columns: RegisterColumns | None = None,
    start: dt.date | None = None,
    **options: Any,
) -> Mapping[str, AttendancePattern]:
    """:func:`~chronic_na.attendance.analyse_patterns` for some pupils of a register.

    Only the chosen pupils' marks (typically a cohort's) are loaded; the
    register's school days are its distinct dates up to ``as_of``.
    """
    cols = columns or RegisterColumns()
    frame = _lazy(data)
    schema = _require_columns(frame, [cols.pupil, cols.date, cols.session, cols.code])
    chosen = sorted(set(pupils))
    upto = frame.filter(
        nw.col(cols.date) < _date_bound(schema, cols.date, as_of + dt.timedelta(days=1))
    )
    if start is not None:
        upto = upto.filter(nw.col(cols.date) >= _date_bound(schema, cols.date, start))
    days_frame = upto.select(cols.date).unique().collect()
    days = [d.date() if isinstance(d, dt.datetime) else d for d in days_frame[cols.date].to_list()]
    rows = (
        upto.filter(nw.col(cols.pupil).is_in(chosen))
        .select(cols.pupil, cols.date, cols.session, cols.code)
        .collect()
    )
    marks = [
        SessionMark(str(p), d.date() if isinstance(d, dt.datetime) else d, str(s), str(c))
        for p, d, s, c in rows.iter_rows(named=False)
    ]
    by_pupil: dict[str, list[SessionMark]] = defaultdict(list)
    for mark in marks:
        by_pupil[mark.pupil].append(mark)
    return {
        pupil: analyse_pattern(
            by_pupil.get(pupil, []),
            pupil=pupil,
            as_of=as_of,
            school_days=days,
            start=start,
            **options,
        )
        for pupil in chosen
    }
