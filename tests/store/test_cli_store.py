"""``chronic-na store checkpoint | verify | summary`` and their exit codes."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from chronic_na.cli import main
from chronic_na.store import SQLiteStore
from chronic_na.testing import LONDON, full_pathway

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)
MARKER = "ZZ-CLI-MARKER-51c2"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    with SQLiteStore(path) as store:
        for n in (1, 2):
            commands = list(full_pathway(f"C-{n}", START, pupil=f"P{n:06d}", text=MARKER))
            case = store.lifecycle.open(commands[0])  # type: ignore[arg-type]
            for command in commands[1 : 6 * n]:
                case.execute(command)
            store.save(case, 0)
    return path


def test_checkpoint_then_verify_against_it(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "checkpoint", str(store_path)]) == 0
    checkpoint = capsys.readouterr().out.strip()
    assert checkpoint.startswith("18:")
    assert main(["store", "verify", str(store_path), "--against", checkpoint]) == 0
    out = capsys.readouterr().out
    assert "verified: 18 events, SHA-256 chain" in out
    assert "matching checkpoint 18" in out


def test_verify_finds_an_edit_and_exits_1(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(store_path) as conn:
        conn.execute(
            "UPDATE chronic_na_events SET payload = REPLACE(payload, 'coord-01', 'coord-02') "
            "WHERE seq = 2"
        )
    assert main(["store", "verify", str(store_path)]) == 1
    out = capsys.readouterr().out
    assert "NOT verified: 1 problem(s) in 18 events" in out
    assert "seq 2, case C-1, event 2: payload does not match its digest" in out


def test_a_missing_store_or_bad_checkpoint_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "verify", str(tmp_path / "nowhere.sqlite")]) == 2
    assert "no SQLite store at that path" in capsys.readouterr().err
    assert not (tmp_path / "nowhere.sqlite").exists()
    with pytest.raises(SystemExit) as caught:
        main(["store", "verify", str(tmp_path), "--against", "12:nothex"])
    assert caught.value.code == 2


def test_a_keyed_store_needs_its_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"synthetic-test-key-0123456789\n")
    path = tmp_path / "keyed.sqlite"
    with SQLiteStore(path, key=b"synthetic-test-key-0123456789") as store:
        store.open_case(next(full_pathway("C-1", START)))  # type: ignore[arg-type]
    assert main(["store", "verify", str(path), "--key-file", str(key)]) == 0
    assert "HMAC-SHA-256" in capsys.readouterr().out
    assert main(["store", "verify", str(path)]) == 4
    assert "keyed" in capsys.readouterr().err


def test_summary_lists_states_obligations_and_deadlines(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    at = "2026-03-01T12:00:00+00:00"
    assert main(["store", "summary", str(store_path), "--at", at]) == 0
    out = capsys.readouterr().out
    assert "2 case(s)" in out
    assert "mash_decided" in out
    assert "Overdue:" in out


def test_no_free_text_reaches_the_output(store_path: Path) -> None:
    """Free text in every field of the stored cases never reaches the command line."""
    for args in (["checkpoint"], ["verify"], ["summary", "--at", "2026-03-01T12:00:00+00:00"]):
        result = subprocess.run(
            [sys.executable, "-m", "chronic_na", "store", args[0], str(store_path), *args[1:]],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert MARKER not in result.stdout + result.stderr
    with sqlite3.connect(store_path) as conn:  # the marker is there to be leaked
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM chronic_na_events WHERE payload LIKE ?", (f"%{MARKER}%",)
        ).fetchone()
    assert count > 0
