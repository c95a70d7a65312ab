"""``chronic-na store``: check a case store from the command line.

* ``chronic-na store checkpoint STORE`` prints the chain's head
  (``SEQ:HASH``), to keep outside the store.
* ``chronic-na store verify STORE [--against SEQ:HASH]`` walks the whole
  chain and lists every problem found.
* ``chronic-na store summary STORE [--at TIME]`` prints the caseload: cases
  per state, obligations owed, what is due and overdue.

``STORE`` is a SQLite file path, or a PostgreSQL URI (``postgresql://...``)
or key=value DSN (needs the ``postgres`` extra). ``--key-file`` names a file
holding the HMAC key of a keyed store (kept outside the database).

Exit codes: 0 verified (or printed); 1 the store does not verify; 2 usage
(bad arguments, a missing store or extra); 4 the store refused (e.g. a keyed
store opened without its key).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections import Counter
from typing import Any

from chronic_na.cli import EXIT_FOUND_PROBLEM, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from chronic_na.errors import ChronicNAError, InvalidInput, StoreError
from chronic_na.pathway import State
from chronic_na.rules import OBLIGATION_KINDS
from chronic_na.store import Checkpoint, SQLiteStore, SQLStore

__all__ = ["open_store", "register"]



def _is_dsn(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://")) or (
        "=" in target and any(k in target for k in ("host=", "dbname=", "user="))
    )


def open_store(target: str, *, key: bytes | None = None, schema: str = "chronic_na") -> SQLStore:
    """The store at ``target``: a PostgreSQL DSN, or an existing SQLite file."""
    if _is_dsn(target):
        try:
            from chronic_na.store.postgres import PostgresStore
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
            raise InvalidInput(
                "store", "a PostgreSQL store needs the postgres extra (chronic-na[postgres])"
            ) from exc
        return PostgresStore(target, schema=schema, key=key)
    if not os.path.isfile(target):
        raise InvalidInput("store", "no SQLite store at that path")
    return SQLiteStore(target, key=key)


def _key(path: str | None) -> bytes | None:
    if path is None:
        return None
    with open(path, "rb") as handle:
        return handle.read().strip()


def _time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time with its UTC offset, e.g. +00:00")
    return value


def _checkpoint(text: str) -> Checkpoint:
    try:
        return Checkpoint.parse(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.reason) from exc


def register(subparsers: Any) -> None:
    """Add the ``store`` sub-command and its actions to ``subparsers``."""
    parser = subparsers.add_parser(
        "store",
        help="check a case store: checkpoint, verify, summary",
        description="Work with a case store (a SQLite file or a PostgreSQL DSN).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("store", metavar="PATH-OR-DSN", help="SQLite file or PostgreSQL DSN")
        p.add_argument("--key-file", metavar="FILE", help="the HMAC key of a keyed store")
        p.add_argument("--schema", default="chronic_na", help="PostgreSQL schema (chronic_na)")

    checkpoint = actions.add_parser("checkpoint", help="print the chain's head (SEQ:HASH)")
    common(checkpoint)
    checkpoint.set_defaults(handler=_run_checkpoint)

    verify = actions.add_parser("verify", help="verify the whole hash chain")
    common(verify)
    verify.add_argument("--against", type=_checkpoint, metavar="SEQ:HASH",
                        help="a checkpoint kept outside the store")  # fmt: skip
    verify.set_defaults(handler=_run_verify)

    summary = actions.add_parser("summary", help="the caseload: states, obligations, deadlines")
    common(summary)
    summary.add_argument("--at", type=_time, required=True, metavar="TIME",
                         help="report what is due and overdue at this time (ISO 8601)")  # fmt: skip
    summary.set_defaults(handler=_run_summary)


def _open(args: argparse.Namespace) -> SQLStore | int:
    try:
        return open_store(args.store, key=_key(args.key_file), schema=args.schema)
    except OSError:
        print("chronic-na store: the key file could not be read", file=sys.stderr)
        return EXIT_USAGE
    except InvalidInput as exc:
        print(f"chronic-na store: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ChronicNAError as exc:
        print(f"chronic-na store: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _run_checkpoint(args: argparse.Namespace) -> int:
    store = _open(args)
    if isinstance(store, int):
        return store
    with store:
        print(store.checkpoint())
    return EXIT_OK


def _run_verify(args: argparse.Namespace) -> int:
    store = _open(args)
    if isinstance(store, int):
        return store
    with store:
        try:
            result = store.verify(against=args.against)
        except StoreError as exc:
            print(f"chronic-na store: {exc}", file=sys.stderr)
            return EXIT_REFUSED
    chain = "HMAC-SHA-256" if result.keyed else "SHA-256"
    if result.ok:
        against = f", matching checkpoint {args.against.seq}" if args.against else ""
        print(f"verified: {result.events} events, {chain} chain, head {result.head}{against}")
        return EXIT_OK
    print(f"NOT verified: {len(result.problems)} problem(s) in {result.events} events")
    for problem in result.problems:
        print(f"  - {problem}")
    return EXIT_FOUND_PROBLEM


def _run_summary(args: argparse.Namespace) -> int:
    store = _open(args)
    if isinstance(store, int):
        return store
    with store:
        print(caseload_summary(store, args.at))
    return EXIT_OK


def caseload_summary(store: SQLStore, at: dt.datetime) -> str:
    """The caseload as text: cases per state, obligations owed, due and overdue at ``at``."""
    cases = store.cases()
    per_state = Counter(c.state for c in cases)
    due, overdue = store.due(at), store.overdue(at)
    lines = [f"Caseload at {at:%a %d %b %Y %H:%M %Z}: {len(cases)} case(s)", "", "Cases per state:"]
    lines += [f"  {s.value:<26} {per_state[s]:>5}" for s in State if per_state[s]]
    owed = [d for d in (*overdue, *due) if d.kind in OBLIGATION_KINDS]
    lines += ["", f"Obligations owed to schools: {len(owed)}"]
    lines += [f"  {d.case_id:<18} {d.kind.value} #{d.number}" for d in owed]
    zone = store.lifecycle.policy.calendar.timezone

    def last_day(instant: dt.datetime) -> str:
        # Due times are exclusive (the midnight that ends the last day).
        return f"{(instant - dt.timedelta(microseconds=1)).astimezone(zone):%a %d %b %Y}"

    lines += ["", f"Due (not yet overdue): {len(due)}"]
    lines += [f"  {d.case_id:<18} {d.kind.value:<34} by the end of {last_day(d.due)}"
              for d in due]  # fmt: skip
    lines += ["", f"Overdue: {len(overdue)}"]
    lines += [f"  {d.case_id:<18} {d.kind.value:<34} was due by the end of {last_day(d.due)}"
              for d in overdue]  # fmt: skip
    return "\n".join(lines)
