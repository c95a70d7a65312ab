"""Dataframe registers: pandas, polars, pyarrow (and lazy polars, DuckDB) agree with marks."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

pl = pytest.importorskip("polars")
pytest.importorskip("narwhals")
pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from attendance_strategies import registers  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from chronic_na.attendance import (  # noqa: E402
    SessionMark,
    Threshold,
    Window,
    WithdrawnCodeRefused,
    identify_marks,
    summarise_marks,
)
from chronic_na.attendance.frames import (  # noqa: E402
    RegisterColumns,
    identify_code_counts,
    identify_register,
    patterns_from_register,
    summarise_code_counts,
    summarise_register,
)
from chronic_na.attendance.readers import register_columns, scan_register  # noqa: E402
from chronic_na.errors import InvalidInput  # noqa: E402

AS_OF = dt.date(2025, 12, 1)


def _frame(marks: list[SessionMark]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "pupil": [m.pupil for m in marks],
            "date": [m.date for m in marks],
            "session": [m.session.value for m in marks],
            "code": [m.code for m in marks],
        },
        schema={"pupil": pl.String, "date": pl.Date, "session": pl.String, "code": pl.String},
    )


def _natives(df: pl.DataFrame) -> dict[str, object]:
    return {
        "polars": df,
        "polars-lazy": df.lazy(),
        "pandas": df.to_pandas(),  # dates become datetime64: read as Datetime
        "pyarrow": df.to_arrow(),
    }


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(registers(max_pupils=6, max_days=15))
def test_every_backend_gives_the_marks_cohort(marks: list[SessionMark]) -> None:
    """Property: the same register as pandas, polars and pyarrow gives identical cohorts."""
    for threshold in (Threshold.POLICY_TRIGGER, Threshold.SEVERE_ABSENCE):
        expected = identify_marks(marks, as_of=AS_OF, threshold=threshold)
        for name, native in _natives(_frame(marks)).items():
            got = identify_register(native, as_of=AS_OF, threshold=threshold)
            assert got == expected, name


@settings(max_examples=15)
@given(registers(max_pupils=5, max_days=10))
def test_count_format_gives_the_same_cohort_as_long_format(marks: list[SessionMark]) -> None:
    start, end = Window.year_to_date().resolve(AS_OF)
    expected = identify_marks(marks, as_of=AS_OF)
    counts: dict[str, Counter[str]] = {}
    for m in marks:
        counts.setdefault(m.pupil, Counter())[m.code] += 1
    codes = sorted({m.code for m in marks})
    table = pl.DataFrame(
        {"pupil": list(counts), **{c: [counts[p][c] for p in counts] for c in codes}},
        schema={"pupil": pl.String, **dict.fromkeys(codes, pl.Int64)},
    )
    for native in (table, table.to_pandas(), table.to_arrow()):
        got = identify_code_counts(native, as_of=AS_OF, start=start, end=end)
        assert got.pupils == expected.pupils
        assert {(f.pupil, f.code) for f in got.findings} == {
            (f.pupil, f.code) for f in expected.findings
        }


def test_duckdb_relation_gives_the_same_cohort() -> None:
    duckdb = pytest.importorskip("duckdb")
    marks = [
        SessionMark(f"P{p:06d}", dt.date(2025, 9, 1) + dt.timedelta(days=d), s, c)
        for p in range(5)
        for d in range(5)
        for s, c in (("AM", "/" if (p + d) % 3 else "N"), ("PM", "I" if p % 2 else "\\"))
    ]
    df = _frame(marks)  # noqa: F841 (DuckDB finds it by name)
    relation = duckdb.sql("select * from df")
    assert identify_register(relation, as_of=AS_OF) == identify_marks(marks, as_of=AS_OF)


def test_window_straddling_the_2024_regulations() -> None:
    marks = [
        SessionMark("P000001", dt.date(2024, 8, 16), "AM", "H"),  # pre-2024: fine, no finding
        SessionMark("P000001", dt.date(2024, 8, 20), "AM", "H"),  # after: finding
        SessionMark("P000001", dt.date(2024, 8, 20), "PM", "K"),
    ]
    window = Window.between(dt.date(2024, 8, 1), dt.date(2024, 8, 31))
    expected = identify_marks(marks, as_of=dt.date(2024, 8, 31), window=window)
    got = identify_register(_frame(marks), as_of=dt.date(2024, 8, 31), window=window)
    assert got == expected
    assert [f.date for f in got.findings] == [dt.date(2024, 8, 20)]
    early = [SessionMark("P000001", dt.date(2024, 8, 16), "AM", "K")]
    with pytest.raises(InvalidInput, match=r"pupil P000001, 2024-08-16, session AM, code 'K'"):
        identify_register(_frame(early), as_of=dt.date(2024, 8, 31), window=window)


@pytest.mark.parametrize(
    ("session", "code", "message"),
    [("PM", "/", "'/' is the AM mark"), ("AM", "XX", "not an attendance code"),
     ("EVE", "I", "session must be")],
)  # fmt: skip
def test_bad_rows_are_named(session: str, code: str, message: str) -> None:
    df = pl.DataFrame(
        {"pupil": ["P000001", "P000002"], "date": [dt.date(2025, 9, 8)] * 2,
         "session": ["AM", session], "code": ["I", code]}
    )  # fmt: skip
    with pytest.raises(InvalidInput, match=message) as caught:
        identify_register(df, as_of=AS_OF)
    assert "pupil P000002, 2025-09-08" in str(caught.value)


@pytest.mark.parametrize("backend", ["polars", "polars-lazy", "pandas", "pyarrow"])
def test_a_missing_code_is_an_unknown_code_on_every_backend(backend: str) -> None:
    """A mark with no code (null) is refused as an unknown code naming its pupil,
    date and session, never silently dropped from the pupil's possible sessions."""
    df = pl.DataFrame(
        {"pupil": ["P000001", "P000002"], "date": [dt.date(2025, 9, 8)] * 2,
         "session": ["AM", "PM"], "code": ["I", None]},
        schema={"pupil": pl.String, "date": pl.Date, "session": pl.String, "code": pl.String},
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="not an attendance code") as caught:
        identify_register(_natives(df)[backend], as_of=AS_OF)
    assert "pupil P000002, 2025-09-08, session PM" in str(caught.value)


def test_strict_refuses_withdrawn_codes_in_frames() -> None:
    df = _frame([SessionMark("P000001", dt.date(2025, 9, 8), "AM", "J")])
    with pytest.raises(WithdrawnCodeRefused, match="P000001"):
        identify_register(df, as_of=AS_OF, strict=True)
    totals, findings = summarise_register(df, as_of=AS_OF)
    assert totals["approved_activity"].to_list() == [1]
    assert findings[0].code == "J"


def test_missing_columns_and_wrong_types_are_named() -> None:
    with pytest.raises(InvalidInput, match="missing column"):
        identify_register(pl.DataFrame({"pupil": ["P000001"]}), as_of=AS_OF)
    with pytest.raises(InvalidInput, match="must hold dates"):
        identify_register(
            pl.DataFrame({"pupil": ["P1"], "date": [3], "session": ["AM"], "code": ["/"]}),
            as_of=AS_OF,
        )
    with pytest.raises(InvalidInput, match="not an attendance code"):
        summarise_code_counts(pl.DataFrame({"pupil": ["P000001"], "ZZ": [1]}))
    with pytest.raises(InvalidInput, match="empty or negative"):
        summarise_code_counts(pl.DataFrame({"pupil": ["P000001"], "I": [-1]}))


def test_custom_column_names() -> None:
    df = _frame([SessionMark("P000001", dt.date(2025, 9, 8), "AM", "I")]).rename(
        {"pupil": "upn", "code": "mark"}
    )
    cohort = identify_register(df, as_of=AS_OF, columns=RegisterColumns(pupil="upn", code="mark"))
    assert cohort.pupil_refs == ("P000001",)


def _write(tmp_path: Path, marks: list[SessionMark]) -> tuple[Path, Path]:
    df = _frame(marks)
    csv_path, parquet_path = tmp_path / "register.csv", tmp_path / "register.parquet"
    df.write_csv(csv_path)
    df.write_parquet(parquet_path)
    return csv_path, parquet_path


SAMPLE = [
    SessionMark(f"P{p:06d}", dt.date(2025, 9, 1) + dt.timedelta(days=d), s, c)
    for p in range(8)
    for d in range(12)
    if (dt.date(2025, 9, 1) + dt.timedelta(days=d)).weekday() < 5
    for s, c in (("AM", "/" if (p * d) % 4 else "O"), ("PM", "\\" if p % 3 else "I"))
]


def test_csv_and_parquet_exports_read_lazily_give_the_same_cohort(tmp_path: Path) -> None:
    expected = identify_marks(SAMPLE, as_of=AS_OF)
    columns = register_columns()
    for path in _write(tmp_path, SAMPLE):
        frame = scan_register(path)
        assert isinstance(frame, pl.LazyFrame)
        assert identify_register(frame, as_of=AS_OF, columns=columns) == expected


def test_bad_csv_value_names_row_column_and_value(tmp_path: Path) -> None:
    csv_path, _ = _write(tmp_path, SAMPLE)
    lines = csv_path.read_text().splitlines()
    lines[3] = lines[3].replace("2025-09-02", "2025-13-02")
    csv_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidInput, match=r"row 4, column 'date': '2025-13-02' is not a date"):
        scan_register(csv_path)
    lines[3] = "P000000,2025-09-02,AM,"
    csv_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidInput, match=r"row 4, column 'code': is empty"):
        scan_register(csv_path)
    (tmp_path / "x.txt").write_text("pupil\n")
    with pytest.raises(InvalidInput, match=r"expected a \.csv or \.parquet"):
        scan_register(tmp_path / "x.txt")
    with pytest.raises(InvalidInput, match="no such file"):
        scan_register(tmp_path / "missing.csv")


def test_unknown_code_in_file_names_its_row(tmp_path: Path) -> None:
    bad = [*SAMPLE[:3], SessionMark("P000009", dt.date(2025, 9, 3), "AM", "Q7")]
    csv_path, _ = _write(tmp_path, bad)
    where = r"row 5: pupil P000009, 2025-09-03, session AM, code 'Q7'"
    with pytest.raises(InvalidInput, match=where):
        identify_register(scan_register(csv_path), as_of=AS_OF, columns=register_columns())


def test_last_school_weeks_window_uses_the_register_dates() -> None:
    window = Window.last_school_weeks(1)
    expected = identify_marks(SAMPLE, as_of=AS_OF, window=window)
    got = identify_register(_frame(SAMPLE), as_of=AS_OF, window=window)
    assert got == expected
    assert got.start == dt.date(2025, 9, 8)  # the register's last week


def test_patterns_from_register_match_patterns_from_marks() -> None:
    from chronic_na.attendance import analyse_patterns

    pupils = ["P000000", "P000003"]
    expected = analyse_patterns(SAMPLE, as_of=AS_OF, pupils=pupils)
    assert patterns_from_register(_frame(SAMPLE).to_pandas(), pupils, as_of=AS_OF) == expected


def test_summarise_register_totals_match_marks() -> None:
    totals, _ = summarise_register(_frame(SAMPLE).to_arrow(), as_of=AS_OF)
    summaries = summarise_marks(SAMPLE).summaries
    rows = totals.to_pylist()
    assert [r["pupil"] for r in rows] == sorted(summaries)
    for row in rows:
        s = summaries[row["pupil"]]
        assert (row["present"], row["authorised"], row["unauthorised"], row["possible"]) == (
            s.present, s.authorised, s.unauthorised, s.possible,
        )  # fmt: skip
