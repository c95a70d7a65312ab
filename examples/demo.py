"""The main job: a caseload on the embedded default store (a SQLite file).

Several synthetic cases are taken down different branches of the pathway
and saved; the store is closed, opened again, every case reloaded from its
events and the hash chain verified; then the caseload is summarised: cases
per state, obligations owed to schools, what is due and what is overdue.

Run it with ``python examples/demo.py [STORE]`` (default
``demo-store.sqlite`` in the current folder, made afresh). Every name, id
and text here is synthetic.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import attrs

from chronic_na import ConcurrencyConflict, PolicyViolation
from chronic_na.cli.store import caseload_summary
from chronic_na.pathway import (
    CloseCase,
    Command,
    RecordMashDecision,
    RecordPlanWorking,
    SubmitAdditionalInformation,
)
from chronic_na.records import ClosureReason, MaintenancePlan, MashOutcome, Role
from chronic_na.store import OpenCaseExists, SQLiteStore
from chronic_na.testing import ACTORS, LONDON, full_pathway

PATH = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-store.sqlite")
START = dt.datetime(2026, 1, 12, 9, 0, tzinfo=LONDON)  # a Monday
NOW = dt.datetime(2026, 9, 1, 12, 0, tzinfo=LONDON)  # when the caseload is reported

for leftover in (PATH, PATH.with_name(PATH.name + "-wal"), PATH.with_name(PATH.name + "-shm")):
    leftover.unlink(missing_ok=True)


def pathway(n: int, days_later: int = 0) -> list[Command]:
    """Case ``n``'s commands along the whole happy path."""
    start = START + dt.timedelta(days=days_later)
    return list(full_pathway(f"CASE-{n:04d}", start, pupil=f"P{n:06d}", school=f"SCH-{n % 3:04d}"))


def run(store: SQLiteStore, commands: list[Command]) -> None:
    """Open the case with the first command and give it the rest, one unit of work each."""
    store.open_case(commands[0])  # type: ignore[arg-type]
    for command in commands[1:]:
        store.execute(command)


print(f"== A caseload on {PATH} ==")
with SQLiteStore(PATH) as store:
    # 1. The whole pathway: stepped back to school with a maintenance plan.
    run(store, pathway(1))
    # 2. A plan already in place is working: it continues, no contact.
    first, review = pathway(2)[:2]
    run(store, [first, review])
    store.execute(RecordPlanWorking(
        case_id="CASE-0002", actor=ACTORS[Role.COORDINATOR], at=review.at + dt.timedelta(days=1),
        plan_summary="Synthetic: the school's plan is working."))  # fmt: skip
    # 3. MASH decides no further action: the case closes, but the feedback
    #    owed to the school is never sent, so it stays owed (and overdue).
    steps = pathway(3, days_later=20)
    decision = steps[4]
    assert isinstance(decision, RecordMashDecision)
    no_further_action = attrs.evolve(decision.decision, outcome=MashOutcome.NO_FURTHER_ACTION)
    nfa = attrs.evolve(decision, decision=no_further_action)
    run(store, [*steps[:4], nfa])
    store.execute(CloseCase(case_id="CASE-0003", actor=ACTORS[Role.COORDINATOR],
                            at=nfa.at + dt.timedelta(hours=2),
                            reason=ClosureReason.MASH_OUTCOME_NOT_EARLY_HELP))  # fmt: skip
    # 4. In intervention since January: the 6-month limit has passed.
    run(store, pathway(4)[:9])
    # 5. Contact submitted, MASH has not decided: its decision is overdue;
    #    the school sent more information, so feedback on that is owed too.
    steps = pathway(5, days_later=150)
    run(store, steps[:4])
    store.execute(SubmitAdditionalInformation(
        case_id="CASE-0005", actor=ACTORS[Role.SCHOOL], at=steps[3].at + dt.timedelta(days=1),
        summary="Synthetic additional information."))  # fmt: skip
    # 6. Allocated, but the lead professional has not contacted the school.
    run(store, pathway(6, days_later=200)[:7])

    # Refusals change nothing: a maintenance plan the family has not agreed...
    steps = pathway(1)
    plan_step = steps[10]
    bad = attrs.evolve(plan_step, case_id="CASE-0004",
                       plan=MaintenancePlan(("Synthetic action.",), agreed_by_family=False,
                                            agreed_by_school=True))  # fmt: skip
    version = store.version("CASE-0004")
    try:
        store.execute(bad)
    except PolicyViolation as refused:
        print(f"refused, nothing saved (version still {store.version('CASE-0004')} = {version}):")
        for violation in refused.violations:
            print(f"  {violation}")
    # ...a second open case for the same pupil...
    again = attrs.evolve(pathway(4)[0], case_id="CASE-0099")
    try:
        store.open_case(again)  # type: ignore[arg-type]
    except OpenCaseExists as refused:
        print(f"refused: {refused}")
    # ...and a writer whose copy of the case is stale.
    mine, theirs = store.load("CASE-0006"), store.load("CASE-0006")
    info = SubmitAdditionalInformation(
        case_id="CASE-0006", actor=ACTORS[Role.SCHOOL], at=NOW - dt.timedelta(days=10),
        summary="Synthetic.")  # fmt: skip
    theirs.execute(info)
    store.save(theirs, mine.version)
    mine.execute(attrs.evolve(info, summary="Synthetic, sent twice."))
    try:
        store.save(mine, mine.version - 1)
    except ConcurrencyConflict as conflict:
        print(f"refused: {conflict}")
    # 7. The child of case 1 is identified again after stepping back: a new
    #    case, linked to the first.
    relapse = attrs.evolve(pathway(1, days_later=220)[0], case_id="CASE-0007",
                           previous_case_id="CASE-0001")  # fmt: skip
    store.open_case(relapse)  # type: ignore[arg-type]
    checkpoint = store.checkpoint()
    print(f"saved; checkpoint to keep outside the store: {checkpoint}")

print("\n== Reopened, reloaded, verified ==")
with SQLiteStore(PATH) as store:
    for summary in store.cases():
        case = store.load(summary.case_id)
        assert case.version == summary.version
        assert case.state is summary.state
        follows = f"  (follows {case.previous_case_id})" if case.previous_case_id else ""
        print(f"  {case.case_id}  {case.state.value:<24} {case.version:>2} events{follows}")
    result = store.verify(against=checkpoint)
    print(f"  verified: {result.ok} ({result.events} events, head {result.head.seq})")
    if not result.ok:
        sys.exit(1)
    print()
    print(caseload_summary(store, NOW))
