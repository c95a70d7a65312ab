"""``chronic-na identify``: output formats, errors and exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

pl = pytest.importorskip("polars")

from chronic_na.cli import (  # noqa: E402
    EXIT_BAD_FILE,
    EXIT_FOUND_PROBLEM,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    main,
)


def _write(tmp_path: Path, withdrawn: bool = False, suffix: str = ".csv") -> Path:
    rows = []
    for p in range(6):
        for d in range(10):
            day = dt.date(2025, 9, 1) + dt.timedelta(days=d)
            if day.weekday() > 4:
                continue
            for session, present in (("AM", "/"), ("PM", "\\")):
                code = "I" if (d + p) % 6 < p else present
                rows.append((f"P{p:06d}", day, session, code))
    if withdrawn:
        rows[0] = ("P000000", dt.date(2025, 9, 1), "AM", "H")
    df = pl.DataFrame(rows, schema=["pupil", "date", "session", "code"], orient="row")
    path = tmp_path / f"register{suffix}"
    if suffix == ".csv":
        df.write_csv(path)
    else:
        df.write_parquet(path)
    return path


def _expected(path: Path) -> list[str]:
    from chronic_na.attendance.frames import identify_register

    df = pl.read_csv(path, try_parse_dates=True)
    return list(identify_register(df, as_of=dt.date(2025, 9, 30)).pupil_refs)


def test_table_csv_and_json_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path)
    expected = _expected(path)
    assert expected  # not vacuous
    assert main(["identify", str(path), "--as-of", "2025-09-30"]) == EXIT_OK
    table = capsys.readouterr().out
    assert f"{len(expected)} of 6 pupils meet 'attendance below 50%'" in table
    assert main(["identify", str(path), "--as-of", "2025-09-30", "--format", "csv"]) == EXIT_OK
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["pupil"] for r in rows] == expected
    assert main(["identify", str(path), "--as-of", "2025-09-30", "--format", "json",
                 "--patterns"]) == EXIT_OK  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert [p["pupil"] for p in doc["pupils"]] == expected
    assert all("description" in p["pattern"] for p in doc["pupils"])


def test_withdrawn_codes_exit_1_and_strict_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, withdrawn=True, suffix=".parquet")
    assert main(["identify", str(path), "--as-of", "2025-09-30"]) == EXIT_FOUND_PROBLEM
    err = capsys.readouterr().err
    assert "pupil P000000, 2025-09-01, AM: code 'H' was withdrawn" in err
    assert main(["identify", str(path), "--as-of", "2025-09-30", "--strict"]) == EXIT_REFUSED
    assert "refused" in capsys.readouterr().err


def test_bad_file_exit_3_names_row_column_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("2025-09-01", "01/09/2025")
    path.write_text("\n".join(lines) + "\n")
    assert main(["identify", str(path), "--as-of", "2025-09-30"]) == EXIT_BAD_FILE
    err = capsys.readouterr().err
    assert "row 3, column 'date': '01/09/2025' is not a date" in err
    assert main(["identify", str(tmp_path / "nope.csv"), "--as-of", "2025-09-30"]) == EXIT_BAD_FILE


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path)
    with pytest.raises(SystemExit) as caught:
        main(["identify", str(path), "--as-of", "30/09/2025"])
    assert caught.value.code == EXIT_USAGE
    assert main(["identify", str(path), "--as-of", "2025-09-30", "--window", "weeks",
                 "--weeks", "0"]) == EXIT_USAGE  # fmt: skip


def test_progress_bar_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path)
    assert main(["identify", str(path), "--as-of", "2025-09-30", "--progress"]) == EXIT_OK
    captured = capsys.readouterr()
    assert "3/3" in captured.err
    assert "#" not in captured.out


def test_console_script_runs(tmp_path: Path) -> None:
    path = _write(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "chronic_na", "identify", str(path), "--as-of", "2025-09-30",
         "--window", "weeks", "--weeks", "1", "--threshold", "severe"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "DfE severe absence" in proc.stdout


def test_example_runs() -> None:
    example = Path(__file__).parent.parent.parent / "examples" / "identify_cohort.py"
    proc = subprocess.run([sys.executable, str(example)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "pupils meet 'attendance below 50%'" in proc.stdout
