"""``chronic-na identify FILE --as-of DATE``: the cohort meeting the trigger in a register.

Reads a CSV or Parquet register export (pupil, date, session, code; needs
the ``dataframes`` extra), summarises every pupil over the window and prints
the pupils meeting the threshold, lowest attendance first, as a table, CSV
or JSON. Data-quality findings (withdrawn codes) go to standard error.

Exit codes (also in ``docs/attendance.md``):

* 0: the cohort was written and the register raised no data-quality finding
* 1: the cohort was written, and the register has findings to correct
* 2: usage error (bad arguments, or the ``dataframes`` extra is missing)
* 3: the file could not be read, or has a bad row, column or value
* 4: ``--strict`` refused a withdrawn code
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import sys
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from chronic_na.attendance import Cohort, Threshold, Window, WithdrawnCodeRefused
from chronic_na.cli import EXIT_BAD_FILE, EXIT_FOUND_PROBLEM, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from chronic_na.errors import InvalidInput

__all__ = ["register"]

_LARGE_FILE = 64 * 1024 * 1024


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


def register(subparsers: Any) -> None:
    """Add the ``identify`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser(
        "identify",
        help="list the pupils meeting the trigger in a register export",
        description=(
            "Identify the pupils whose attendance meets the trigger in a CSV or Parquet "
            "register (columns pupil, date, session, code). Exit codes: 0 ok; 1 ok but the "
            "register has data-quality findings; 2 usage; 3 bad file; 4 refused (--strict)."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="register export (.csv or .parquet)")
    parser.add_argument("--as-of", required=True, type=_date, metavar="DATE", help="YYYY-MM-DD")
    parser.add_argument(
        "--window",
        choices=("year-to-date", "term", "weeks"),
        default="year-to-date",
        help="the period summarised (default: year-to-date)",
    )
    parser.add_argument(
        "--weeks", type=int, default=6, metavar="N", help="school weeks for --window weeks"
    )
    parser.add_argument(
        "--threshold",
        choices=("policy", "severe"),
        default="policy",
        help="policy: attendance below 50%% (default); severe: DfE absence of 50%% or more",
    )
    parser.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", dest="output_format"
    )
    parser.add_argument("--strict", action="store_true", help="refuse withdrawn codes")
    parser.add_argument(
        "--patterns", action="store_true", help="describe each identified pupil's pattern"
    )
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", action="store_true", default=None)
    progress.add_argument("--no-progress", action="store_false", dest="progress")
    parser.set_defaults(handler=_run)


class _Progress:
    """A progress bar over the command's stages, on standard error."""

    def __init__(self, enabled: bool, stages: int) -> None:
        self.enabled = enabled
        self.stages = stages
        self.done = 0

    def step(self, label: str) -> None:
        if not self.enabled:
            return
        self.done += 1
        filled = round(30 * self.done / self.stages)
        bar = "#" * filled + "-" * (30 - filled)
        end = "\n" if self.done == self.stages else ""
        sys.stderr.write(f"\r[{bar}] {self.done}/{self.stages} {label:<28}{end}")
        sys.stderr.flush()


def _pct(rate: Fraction | None, places: str = "0.01") -> str:
    if rate is None:
        return ""
    value = Decimal(rate.numerator * 100) / Decimal(rate.denominator)
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _run(args: argparse.Namespace) -> int:
    try:
        from chronic_na.attendance.frames import identify_register, patterns_from_register
        from chronic_na.attendance.readers import register_columns, scan_register
    except ModuleNotFoundError as exc:
        print(
            f"chronic-na identify: needs the 'dataframes' extra ({exc.name} is missing): "
            "pip install 'chronic-na[dataframes]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.window == "weeks" and args.weeks < 1:
        print("chronic-na identify: --weeks must be 1 or more", file=sys.stderr)
        return EXIT_USAGE
    window = {
        "year-to-date": Window.year_to_date(),
        "term": Window.this_term(),
        "weeks": Window.last_school_weeks(args.weeks),
    }[args.window]
    threshold = Threshold.POLICY_TRIGGER if args.threshold == "policy" else Threshold.SEVERE_ABSENCE
    try:
        size = os.path.getsize(args.file)
    except OSError:
        size = 0
    show = (
        args.progress if args.progress is not None else size >= _LARGE_FILE and sys.stderr.isatty()
    )
    progress = _Progress(bool(show), 4 if args.patterns else 3)
    columns = register_columns()
    try:
        frame = scan_register(args.file, columns=columns)
        progress.step("checked the file")
        cohort = identify_register(
            frame, as_of=args.as_of, window=window, threshold=threshold, columns=columns,
            strict=args.strict,
        )  # fmt: skip
        progress.step("summarised the register")
        patterns = (
            patterns_from_register(frame, cohort.pupil_refs, as_of=args.as_of, columns=columns)
            if args.patterns
            else {}
        )
        if args.patterns:
            progress.step("described patterns")
    except WithdrawnCodeRefused as exc:
        print(f"chronic-na identify: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except InvalidInput as exc:
        print(f"chronic-na identify: {args.file}: {exc}", file=sys.stderr)
        return EXIT_BAD_FILE
    text = _render(cohort, patterns, args.output_format)
    progress.step("done")
    sys.stdout.write(text)
    for finding in cohort.findings:
        print(f"data quality: {finding.describe()}", file=sys.stderr)
    return EXIT_FOUND_PROBLEM if cohort.findings else EXIT_OK


def _render(cohort: Cohort, patterns: dict[str, Any] | Any, output_format: str) -> str:
    header = [
        "pupil", "possible", "attended", "attendance_pct", "absence_pct",
        "authorised", "unauthorised",
    ]  # fmt: skip
    rows = [
        [
            p.pupil,
            str(p.summary.possible),
            str(p.summary.attended),
            _pct(p.summary.attendance_rate),
            _pct(p.summary.absence_rate),
            str(p.summary.authorised),
            str(p.summary.unauthorised),
        ]
        for p in cohort.pupils
    ]
    if output_format == "json":
        doc = {
            "as_of": cohort.as_of.isoformat(),
            "start": cohort.start.isoformat(),
            "end": cohort.end.isoformat(),
            "threshold": cohort.threshold.value,
            "considered": cohort.considered,
            "identified": len(cohort),
            "pupils": [
                {
                    "pupil": p.pupil,
                    "present": p.summary.present,
                    "approved_activity": p.summary.approved_activity,
                    "authorised": p.summary.authorised,
                    "unauthorised": p.summary.unauthorised,
                    "possible": p.summary.possible,
                    "attendance_pct": _pct(p.summary.attendance_rate),
                    "absence_pct": _pct(p.summary.absence_rate),
                    "per_code": dict(p.summary.per_code),
                    **(
                        {
                            "pattern": {
                                "trend": patterns[p.pupil].trend.value,
                                "unresolved_n": patterns[p.pupil].unresolved_n_count,
                                "description": patterns[p.pupil].describe(),
                            }
                        }
                        if p.pupil in patterns
                        else {}
                    ),
                }
                for p in cohort.pupils
            ],
            "findings": [f.describe() for f in cohort.findings],
        }
        return json.dumps(doc, indent=2) + "\n"
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header + (["pattern"] if patterns else []))
        for row in rows:
            extra = [patterns[row[0]].describe()] if patterns else []
            writer.writerow(row + extra)
        return buffer.getvalue()
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]  # fmt: skip
    lines = [
        f"{len(cohort)} of {cohort.considered} pupils meet '{cohort.threshold.description}' "
        f"({cohort.start.isoformat()} to {cohort.end.isoformat()}, as of "
        f"{cohort.as_of.isoformat()})",
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
    ]
    for row in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
        if row[0] in patterns:
            lines.append(f"    {patterns[row[0]].describe()}")
    return "\n".join(lines) + "\n"
