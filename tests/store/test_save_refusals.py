"""What the store refuses to save, on every backend (SQLite and PostgreSQL).

- A case that does not follow from its own events (fields set by hand, a
  case not built by the lifecycle, a case whose first events are not the
  stored case's): ``InvalidInput`` on ``case``, nothing written.
- A new case not linked to the pupil's earlier case as the pathway requires
  (domain.md section 4): ``CaseLinkRefused``, checked inside the write
  transaction, after ``CaseExists``/``ConcurrencyConflict`` and
  ``OpenCaseExists``.
- A new case whose id is taken: ``CaseExists``, a ``ConcurrencyConflict``
  that says so.
- ``load`` of an id that is not a case reference names no text.
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
import itertools
import threading
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chronic_na import ChronicNAError, ConcurrencyConflict, InvalidInput, StoreError
from chronic_na.attendance.codes import REFERENCE
from chronic_na.lifecycle import Case, Lifecycle
from chronic_na.pathway import (
    CloseCase,
    Command,
    HandOverLeadProfessional,
    ReopenCase,
    State,
)
from chronic_na.records import (
    Actor,
    AttendanceSummary,
    ClosureReason,
    MaintenancePlan,
    PupilRef,
    Role,
)
from chronic_na.store import (
    CaseErased,
    CaseExists,
    CaseLinkRefused,
    NoSuchCase,
    OpenCaseExists,
    SQLStore,
)
from chronic_na.testing import ACTORS, LONDON, full_pathway
from conftest import StoreFactory

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)
LIFECYCLE = Lifecycle.for_policy()
NOT_ITS_EVENTS = (
    "case: does not match its own events (its fields were changed, or it was not built by "
    "the lifecycle): build a case with Lifecycle.open and execute, or load it from the store"
)
AUDITOR = Actor("dpo-01", Role.AUDITOR)
_numbers = itertools.count(100)


def commands(case_id: str, pupil: str, days_later: int = 0, **open_options: Any) -> list[Command]:
    """The full pathway of one case (12 commands), its opening given ``open_options``."""
    cmds = list(full_pathway(case_id, START + dt.timedelta(days=days_later), pupil=pupil))
    cmds[0] = attrs.evolve(cmds[0], **open_options)
    return cmds


def live(case_id: str, pupil: str, steps: int, days_later: int = 0, **options: Any) -> Case:
    """A case built by the lifecycle: the first ``steps`` commands of the full pathway."""
    cmds = commands(case_id, pupil, days_later, **options)
    case = LIFECYCLE.open(cmds[0])  # type: ignore[arg-type]
    for command in cmds[1:steps]:
        case.execute(command)
    return case


def closed(case_id: str, pupil: str, days_later: int = 0, **options: Any) -> Case:
    """A case opened and closed at once (moved away): finished, owing nothing."""
    case = live(case_id, pupil, 1, days_later, **options)
    case.execute(
        CloseCase(
            case_id=case_id,
            actor=ACTORS[Role.COORDINATOR],
            at=START + dt.timedelta(days=days_later, hours=1),
            reason=ClosureReason.MOVED_AWAY,
        )
    )
    return case


def nothing_written(store: SQLStore, before: Any, case_id: str) -> None:
    assert store.checkpoint() == before
    assert store.version(case_id) == 0 or store.load(case_id).version == store.version(case_id)
    assert store.verify().ok


def fresh() -> tuple[str, str]:
    """A case id and a pupil no other example uses."""
    n = next(_numbers)
    return f"C-{n:05d}", f"P{n:06d}"


# --------------------------------------------------------------------------- forged cases


def forged_like(genuine: Case, case_id: str) -> Case:
    """A case with every field of ``genuine`` set by hand and no history."""
    forged = Case(case_id, LIFECYCLE)
    for field in attrs.fields(Case):
        if field.name not in ("case_id", "lifecycle", "_history", "_warnings"):
            setattr(forged, field.name, getattr(genuine, field.name))
    return forged


def test_the_reviewers_forged_case_is_refused_and_nothing_is_written(store: SQLStore) -> None:
    """A case given the fields of a maintenance plan agreed by hand, then stepped back
    (accepted by the lifecycle): saving it is refused, the store is untouched, and the
    pupil can still have a case opened."""
    genuine = live("C-9", "P000009", 11)
    assert genuine.state is State.MAINTENANCE_PLAN_AGREED
    forged = forged_like(genuine, "C-9")
    forged.execute(commands("C-9", "P000009")[11])  # step back: the lifecycle accepts it
    assert forged.state is State.STEPPED_BACK
    before = store.checkpoint()
    with pytest.raises(InvalidInput) as caught:
        store.save(forged, 0)
    assert str(caught.value) == NOT_ITS_EVENTS
    assert caught.value.field == "case"
    nothing_written(store, before, "C-9")
    assert store.cases() == ()
    store.save(genuine, 0)  # the genuine case is still accepted
    assert store.load("C-9") == genuine


def test_a_field_changed_by_hand_before_a_command_is_refused(store: SQLStore) -> None:
    """A real case whose lead professional was changed by hand, then given a school
    contact by that person (which the lifecycle accepts, reading the changed field)."""
    case = live("C-001", "P000001", 7)
    store.save(case, 0)
    case.lead_professional = "lp-02"
    contact = commands("C-001", "P000001")[7]
    case.execute(attrs.evolve(contact, actor=Actor("lp-02", Role.LEAD_PROFESSIONAL)))
    before = store.checkpoint()
    with pytest.raises(InvalidInput, match="does not match its own events"):
        store.save(case, 7)
    nothing_written(store, before, "C-001")
    assert store.version("C-001") == 7


def test_a_hand_change_a_later_command_overwrites_is_not_seen(store: SQLStore) -> None:
    """The documented limit (docs/store.md): the replay rebuilds fields, it does not run
    the rules again. A lead professional changed by hand, a school contact by that
    person, then a hand-over that overwrites the field: the events rebuild the case, so
    it is saved, and it loads as given."""
    case = live("C-001", "P000001", 7)
    case.lead_professional = "lp-02"
    contact = commands("C-001", "P000001")[7]
    case.execute(attrs.evolve(contact, actor=Actor("lp-02", Role.LEAD_PROFESSIONAL)))
    case.execute(
        HandOverLeadProfessional(
            case_id="C-001",
            actor=ACTORS[Role.EARLY_HELP_MANAGER],
            at=contact.at + dt.timedelta(hours=1),
            lead_professional="lp-03",
            reason="Synthetic.",
        )
    )
    assert store.save(case, 0) == 9
    assert store.load("C-001") == case


def test_a_case_whose_id_was_changed_by_hand_is_refused(store: SQLStore) -> None:
    """Replay takes the id from the events, which take it from the case; the commands
    keep theirs. Saved, the case could never be loaded: refused."""
    case = live("C-001", "P000001", 4)
    case.case_id = "C-002"
    before = store.checkpoint()
    with pytest.raises(InvalidInput, match="does not match its own events"):
        store.save(case, 0)
    nothing_written(store, before, "C-002")


def test_a_case_whose_first_events_are_not_the_stored_ones_is_refused(store: SQLStore) -> None:
    """Another case with the same id and as many events as the stored one: appending its
    later events to the stored ones would give a log that rebuilds neither."""
    store.save(live("C-001", "P000001", 4), 0)
    other = live("C-001", "P000001", 5, days_later=1)
    before = store.checkpoint()
    with pytest.raises(InvalidInput, match="its first 4 events are not the stored case's"):
        store.save(other, 4)
    nothing_written(store, before, "C-001")
    mine = store.load("C-001")
    mine.execute(commands("C-001", "P000001")[4])
    assert store.save(mine, 4) == 5


def test_the_unit_of_work_is_not_slowed_by_the_check(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open_case and execute build or load the case themselves: no replay to compare."""
    calls: list[int] = []
    real = Lifecycle.replay

    def counting(self: Lifecycle, events: Any) -> Case:
        calls.append(1)
        return real(self, events)

    monkeypatch.setattr(Lifecycle, "replay", counting)
    cmds = commands("C-001", "P000001")
    store.open_case(cmds[0])  # type: ignore[arg-type]
    assert calls == []
    store.execute(cmds[1])
    assert calls == [1]  # the load; no second replay for the save
    store.save(live("C-002", "P000002", 2), 0)
    assert calls == [1, 1]


# Fields that may be None in every case the property uses, with a value to set.
_SET_WHEN_NONE: dict[str, Any] = {
    "previous_case_id": "C-PREV",
    "existing_plan_since": START,
    "closed_at": START,
    "closed_from": State.INTERVENTION,
    "closure_reason": ClosureReason.MOVED_AWAY,
    "intervention_ended_at": START,
    "stepped_back_at": START,
    "lead_professional": "lp-09",
    "intervention_started_at": START,
    "pupil": PupilRef("P999999"),
    "school": "SCH-9999",
    "attendance_at_opening": AttendanceSummary(present=1, unauthorised=9),
    "latest_attendance": AttendanceSummary(present=2, unauthorised=8),
    "maintenance_plan": MaintenancePlan(("Synthetic other action.",), True, False),
}
CHANGEABLE = tuple(
    f.name for f in attrs.fields(Case) if f.name not in ("lifecycle", "_history", "_warnings")
)


def _changed(name: str, value: Any, donor: Any) -> Any:
    for candidate in (donor, _SET_WHEN_NONE.get(name)):
        if candidate is not None and candidate != value:
            return candidate
    if value is None:
        return START
    if isinstance(value, enum.Enum):
        return next(member for member in type(value) if member is not value)
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return f"{value}-X"
    if isinstance(value, tuple):
        return value[:-1] if value else (value,)
    raise AssertionError(f"no other value for {name}")  # pragma: no cover


def test_any_field_changed_by_hand_is_refused_or_loads_as_given(store: SQLStore) -> None:
    """Property: a case built by the lifecycle, one field changed by hand, and then
    perhaps one more command (if the lifecycle accepts it). Saving it is either refused
    (InvalidInput, nothing written) or, only if the command put the field back as the
    events say, stored so that it loads equal to the case given. Without a command it
    is always refused. The store always verifies and every stored case loads."""

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(
        steps=st.integers(1, 11),
        field=st.sampled_from(CHANGEABLE),
        then_command=st.booleans(),
        saved_before=st.booleans(),
    )
    def check(steps: int, field: str, then_command: bool, saved_before: bool) -> None:
        case_id, pupil = fresh()
        case = live(case_id, pupil, steps)
        loaded = 0
        if saved_before:
            loaded = store.save(case, 0)
        donor = live("C-DONOR", "P000999", 12, days_later=3)
        setattr(case, field, _changed(field, getattr(case, field), getattr(donor, field)))
        accepted_command = False
        if then_command:
            try:
                case.execute(attrs.evolve(commands(case_id, pupil)[steps], case_id=case_id))
                accepted_command = True
            except ChronicNAError:
                pass  # refused, perhaps for the changed field: save what there is
        before = store.checkpoint()
        if case.version == loaded:
            return  # nothing new to save
        refused: InvalidInput | None = None
        try:
            store.save(case, loaded)
        except InvalidInput as exc:
            refused = exc
        if refused is not None:
            assert refused.field == "case"
            assert store.checkpoint() == before
            assert store.version(case_id) == loaded
        else:
            assert accepted_command, f"{field} changed by hand was saved"
            assert store.load(case_id) == case
        if store.version(case_id):
            store.load(case_id)

    check()
    assert store.verify().ok


@settings(max_examples=20)
@given(steps=st.integers(1, 12), split=st.integers(0, 12))
def test_a_case_built_by_the_lifecycle_saves_in_any_batches(steps: int, split: int) -> None:
    """Property: any prefix of the pathway, saved in one or two batches through the
    public save, is accepted and loads equal (SQLite, in memory)."""
    from chronic_na.store import SQLiteStore

    split = min(split, steps)
    with SQLiteStore() as store:
        cmds = commands("C-001", "P000001")
        case = LIFECYCLE.open(cmds[0])  # type: ignore[arg-type]
        for command in cmds[1:split]:
            case.execute(command)
        first = store.save(case, 0) if split else 0
        for command in cmds[max(split, 1) : steps]:
            case.execute(command)
        assert store.save(case, first) == case.version
        assert store.load("C-001") == case


# --------------------------------------------------------------------------- case links


def test_a_new_case_for_a_pupil_with_an_earlier_case_must_link_to_it(store: SQLStore) -> None:
    store.save(live("C-001", "P000001", 12), 0)
    before = store.checkpoint()
    with pytest.raises(CaseLinkRefused) as caught:
        store.open_case(commands("C-002", "P000001", 200)[0])  # type: ignore[arg-type]
    error = caught.value
    assert (error.case_id, error.previous_case_id, error.expected) == ("C-002", None, "C-001")
    assert error.reason == CaseLinkRefused.MISSING
    assert str(error) == (
        "case C-002: it is not linked to an earlier case, but the pupil has one; link it "
        "to C-001, the pupil's most recently opened earlier case"
    )
    assert "P000001" not in str(error)
    assert store.checkpoint() == before
    store.open_case(commands("C-002", "P000001", 200, previous_case_id="C-001")[0])  # type: ignore[arg-type]
    assert store.cases(pupil="P000001", open_only=True)[0].previous_case_id == "C-001"


def test_a_link_to_a_case_not_in_the_store_is_refused(store: SQLStore) -> None:
    with pytest.raises(CaseLinkRefused) as caught:
        store.open_case(commands("C-002", "P000001", previous_case_id="C-404")[0])  # type: ignore[arg-type]
    assert caught.value.reason == CaseLinkRefused.NOT_IN_STORE
    assert caught.value.expected is None
    assert str(caught.value) == (
        "case C-002: linked to C-404, which is not in the store; open it without a link: "
        "the pupil has no earlier case in the store"
    )
    store.save(closed("C-001", "P000001"), 0)
    with pytest.raises(CaseLinkRefused, match="link it to C-001") as caught:
        store.open_case(commands("C-002", "P000001", 9, previous_case_id="C-404")[0])  # type: ignore[arg-type]
    assert (caught.value.reason, caught.value.expected) == (CaseLinkRefused.NOT_IN_STORE, "C-001")
    assert [c.case_id for c in store.cases(pupil="P000001")] == ["C-001"]


def test_a_link_to_another_pupils_case_is_refused(store: SQLStore) -> None:
    store.save(live("C-001", "P000001", 12), 0)
    with pytest.raises(CaseLinkRefused) as caught:
        store.open_case(commands("C-002", "P000002", 200, previous_case_id="C-001")[0])  # type: ignore[arg-type]
    error = caught.value
    assert (error.reason, error.previous_case_id, error.expected) == (
        CaseLinkRefused.ANOTHER_PUPIL,
        "C-001",
        None,
    )
    assert "another pupil's case" in str(error)
    assert "P00000" not in str(error)
    assert store.version("C-002") == 0


def test_a_link_to_a_case_still_open_is_refused(store: SQLStore) -> None:
    """A case saved already finished (an import) may follow only a finished case; an open
    new case meets OpenCaseExists first (the check order)."""
    store.save(live("C-001", "P000001", 3), 0)
    with pytest.raises(CaseLinkRefused) as caught:
        store.save(closed("C-002", "P000001", 30, previous_case_id="C-001"), 0)
    assert (caught.value.reason, caught.value.expected) == (CaseLinkRefused.STILL_OPEN, "C-001")
    assert str(caught.value) == (
        "case C-002: linked to C-001, which is still open; step it back or close it before "
        "saving a case that follows it"
    )
    with pytest.raises(OpenCaseExists):
        store.open_case(commands("C-002", "P000001", 30, previous_case_id="C-001")[0])  # type: ignore[arg-type]
    with pytest.raises(OpenCaseExists):  # before the link, too
        store.open_case(commands("C-002", "P000001", 30)[0])  # type: ignore[arg-type]


def test_a_link_to_an_earlier_case_than_the_latest_is_refused(store: SQLStore) -> None:
    store.save(closed("C-001", "P000001"), 0)
    store.save(closed("C-002", "P000001", 10, previous_case_id="C-001"), 0)
    with pytest.raises(CaseLinkRefused) as caught:
        store.open_case(commands("C-003", "P000001", 20, previous_case_id="C-001")[0])  # type: ignore[arg-type]
    assert (caught.value.reason, caught.value.expected) == (CaseLinkRefused.NOT_LATEST, "C-002")
    assert str(caught.value) == (
        "case C-003: linked to C-001, but the pupil has a later case; link it to C-002, the "
        "pupil's most recently opened earlier case"
    )
    store.open_case(commands("C-003", "P000001", 20, previous_case_id="C-002")[0])  # type: ignore[arg-type]


def test_a_taken_id_is_reported_before_a_bad_link(store: SQLStore) -> None:
    store.save(closed("C-001", "P000001"), 0)
    with pytest.raises(CaseExists):
        store.save(closed("C-001", "P000001", 5, previous_case_id="C-404"), 0)


def test_links_are_checked_only_when_a_case_is_new(store: SQLStore) -> None:
    """Later saves of a case do not check its link again (the pupil's newer cases do not
    make an older case's link wrong)."""
    case = live("C-001", "P000001", 3)
    store.save(case, 0)
    case.execute(commands("C-001", "P000001")[3])
    assert store.save(case, 3) == 4


def test_erased_earlier_cases_cannot_be_checked_for_the_pupil(
    store_factory: StoreFactory,
) -> None:
    """An erased case has no pupil in the store. A new case for its pupil may be opened
    without a link (the store cannot see the earlier case), or linked to it; a link to an
    erased case is refused only when a case of the pupil still held was opened after
    it; and a link from another pupil's case to an erased case cannot be told apart."""
    store = store_factory()
    store.save(closed("C-001", "P000001"), 0)
    store.erase("C-001", actor=AUDITOR, at=START + dt.timedelta(days=1), reason="Synthetic.")
    store.save(closed("C-002", "P000001", 10), 0)  # unlinked: accepted
    store.save(closed("C-003", "P000002", 10, previous_case_id="C-001"), 0)  # cannot tell
    with pytest.raises(CaseLinkRefused) as caught:
        store.save(closed("C-004", "P000001", 20, previous_case_id="C-001"), 0)
    assert (caught.value.reason, caught.value.expected) == (CaseLinkRefused.NOT_LATEST, "C-002")
    store.save(closed("C-004", "P000001", 20, previous_case_id="C-002"), 0)
    store.erase("C-002", actor=AUDITOR, at=START + dt.timedelta(days=30), reason="Synthetic.")
    store.erase("C-004", actor=AUDITOR, at=START + dt.timedelta(days=30), reason="Synthetic.")
    store.save(closed("C-005", "P000001", 40, previous_case_id="C-004"), 0)  # accepted
    with pytest.raises(CaseLinkRefused, match="link it to C-005"):
        store.save(closed("C-006", "P000001", 50, previous_case_id="C-002"), 0)
    assert store.verify().ok


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    """A pupil's earlier cases (each linked to the one before; the last may be open),
    which of them are erased, another pupil's case, and the new case's link and state."""
    count = draw(st.integers(0, 3))
    last_open = count > 0 and draw(st.booleans())
    erased = [draw(st.booleans()) for _ in range(count)]
    if last_open:
        erased[-1] = False
    links = ["none", "unknown", "other", "other_erased", *(f"own{i}" for i in range(count))]
    return {
        "count": count,
        "last_open": last_open,
        "erased": erased,
        "link": draw(st.sampled_from(links)),
        "new_open": draw(st.booleans()),
    }


def oracle(h: dict[str, Any], ids: list[str]) -> str | None:
    """What the store must do with the new case: ``None`` (accept), an error's reason, or
    ``"open"`` (OpenCaseExists)."""
    if h["new_open"] and h["last_open"]:
        return "open"
    visible = [i for i in range(h["count"]) if not h["erased"][i]]
    latest = visible[-1] if visible else None
    link = h["link"]
    if link == "none":
        return None if latest is None else CaseLinkRefused.MISSING
    if link == "unknown":
        return CaseLinkRefused.NOT_IN_STORE
    if link == "other_erased":  # cannot be told from the pupil's own: saved after them all
        return None
    if link == "other":
        return CaseLinkRefused.ANOTHER_PUPIL
    own = int(link[3:])
    if h["erased"][own]:
        return None if latest is None or latest < own else CaseLinkRefused.NOT_LATEST
    if own != latest:
        return CaseLinkRefused.NOT_LATEST
    if h["last_open"] and own == h["count"] - 1:
        return CaseLinkRefused.STILL_OPEN
    return None


def test_the_link_rule_on_any_history(store: SQLStore) -> None:
    """Property: for any history of the pupil (up to three cases, any of the finished
    ones erased, the last perhaps open) and any link (none, unknown, another pupil's
    case, erased or not, or any of the pupil's own), the store accepts or refuses the new
    case exactly as the rule says, writing nothing when it refuses."""

    @settings(
        max_examples=40,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(histories())
    def check(h: dict[str, Any]) -> None:
        n = next(_numbers)
        pupil, other_pupil = f"P{n:06d}", f"Q{n:06d}"
        ids = [f"C-{n}-{i}" for i in range(h["count"])]
        for i, case_id in enumerate(ids):
            previous = ids[i - 1] if i else None
            if h["last_open"] and i == h["count"] - 1:
                case = live(case_id, pupil, 2, 10 * i, previous_case_id=previous)
            else:
                case = closed(case_id, pupil, 10 * i, previous_case_id=previous)
            store.save(case, 0)
        store.save(closed(f"C-{n}-Q", other_pupil), 0)
        store.save(closed(f"C-{n}-QE", other_pupil + "E"), 0)
        late = START + dt.timedelta(days=60)
        store.erase(f"C-{n}-QE", actor=AUDITOR, at=late, reason="Synthetic.")
        for case_id, erase in zip(ids, h["erased"], strict=True):
            if erase:
                store.erase(case_id, actor=AUDITOR, at=late, reason="Synthetic.")
        link = {"none": None, "unknown": f"C-{n}-X", "other": f"C-{n}-Q",
                "other_erased": f"C-{n}-QE"}.get(h["link"])  # fmt: skip
        if h["link"].startswith("own"):
            link = ids[int(h["link"][3:])]
        new_id = f"C-{n}-NEW"
        new = (live if h["new_open"] else closed)(
            *(new_id, pupil), *((2,) if h["new_open"] else ()), 100, previous_case_id=link
        )
        expected = oracle(h, ids)
        before = store.checkpoint()
        if expected is None:
            store.save(new, 0)
            assert store.load(new_id) == new
            return
        error = OpenCaseExists if expected == "open" else CaseLinkRefused
        with pytest.raises(error) as caught:
            store.save(new, 0)
        if isinstance(caught.value, CaseLinkRefused):
            assert caught.value.reason == expected, (h, str(caught.value))
        assert store.checkpoint() == before

    check()
    assert store.verify().ok


def test_concurrent_writers_cannot_both_skip_the_link(store_factory: StoreFactory) -> None:
    """Several writers, each with its own connection, save a first case for the same
    pupil at once, none linked: the check runs inside the write transaction, so exactly
    one is accepted and every other is told to link to it."""
    writers = [store_factory() for _ in range(4)]
    barrier = threading.Barrier(len(writers))
    outcomes: list[str] = []

    def write(k: int, store: SQLStore) -> None:
        case = closed(f"C-RACE-{k}", "P000001")
        barrier.wait()
        try:
            store.save(case, 0)
            outcomes.append("saved")
        except CaseLinkRefused as refused:
            outcomes.append(refused.reason)

    threads = [threading.Thread(target=write, args=(k, s)) for k, s in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["missing"] * 3 + ["saved"]
    assert len(writers[0].cases(pupil="P000001")) == 1
    assert writers[0].verify().ok


def _indexes(store: SQLStore) -> set[str]:
    with store._read() as cur:
        if store.__class__.__name__ == "SQLiteStore":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        else:
            cur.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        return {name for (name,) in cur.fetchall()}


def test_a_store_made_before_gets_the_pupil_index(store_factory: StoreFactory) -> None:
    """Stores made before the link check had a partial unique index on open cases' pupils;
    opened now, it is replaced by one index over every case of a pupil that still allows
    one open case only."""
    store = store_factory()
    with store._transaction() as cur:  # put the old index back
        cur.execute("DROP INDEX chronic_na_pupil_cases_one_open")
        cur.execute(
            "CREATE UNIQUE INDEX chronic_na_one_open_case_per_pupil"
            " ON chronic_na_cases (pupil) WHERE is_open = 1"
        )
    store.save(live("C-001", "P000001", 3), 0)
    store.close()
    again = store_factory()
    indexes = _indexes(again)
    assert "chronic_na_pupil_cases_one_open" in indexes
    assert "chronic_na_one_open_case_per_pupil" not in indexes
    with pytest.raises(StoreError), again._transaction() as cur:
        cur.execute(
            "INSERT INTO chronic_na_cases (case_id, pupil, school, state, version, is_open,"
            " previous_case_id, erased) VALUES ('C-X', 'P000001', 'S', 'identified', 1, 1,"
            " NULL, 0)"
        )
    again.save(closed("C-002", "P000002"), 0)
    again.save(closed("C-003", "P000002", 5, previous_case_id="C-002"), 0)  # many closed


# --------------------------------------------------------------------------- a taken id


def test_a_new_case_with_a_taken_id_says_the_id_is_taken(store: SQLStore) -> None:
    store.save(live("C-001", "P000001", 3), 0)
    before = store.checkpoint()
    for attempt in (
        lambda: store.save(live("C-001", "P000002", 1), 0),
        lambda: store.open_case(commands("C-001", "P000002")[0]),  # type: ignore[arg-type]
    ):
        with pytest.raises(CaseExists) as caught:
            attempt()
        error = caught.value
        assert isinstance(error, ConcurrencyConflict)
        assert (error.case_id, error.expected, error.actual) == ("C-001", 0, 3)
        assert str(error) == (
            "case C-001: that case id is already taken in the store (version 3); a new case "
            "needs a new id (to add to the stored case, load it instead)"
        )
        assert "reload" not in str(error)
    assert store.checkpoint() == before


def test_a_stale_version_of_a_stored_case_is_not_a_taken_id(store: SQLStore) -> None:
    case = live("C-001", "P000001", 4)
    store.save(case, 0)
    with pytest.raises(ConcurrencyConflict) as caught:
        store.save(case, 2)
    assert not isinstance(caught.value, CaseExists)


def test_a_case_erased_since_it_was_loaded_is_not_appended_to(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manager reopens a closed case while an auditor erases it: the erasure is checked
    inside the write transaction, so the reopening is refused, not appended to a case
    with no data (which could never be loaded again)."""
    store.save(closed("C-001", "P000001"), 0)
    loaded = store.load("C-001")
    store.erase("C-001", actor=AUDITOR, at=START + dt.timedelta(days=1), reason="Synthetic.")
    monkeypatch.setattr(store, "load", lambda case_id: copy.copy(loaded))  # before the erasure
    reopen = ReopenCase(
        case_id="C-001",
        actor=ACTORS[Role.EARLY_HELP_MANAGER],
        at=START + dt.timedelta(days=2),
        reason="Synthetic.",
    )
    before = store.checkpoint()
    with pytest.raises(CaseErased):
        store.execute(reopen)
    assert store.checkpoint() == before
    monkeypatch.undo()
    loaded.execute(reopen)
    with pytest.raises(CaseErased):  # the public save sees it before the transaction
        store.save(loaded, 2)
    assert store.verify().ok


# --------------------------------------------------------------------------- load


def test_loading_a_reference_shaped_id_names_it(store: SQLStore) -> None:
    with pytest.raises(NoSuchCase) as caught:
        store.load("C-404")
    assert str(caught.value) == "case C-404: not in the store"


@given(st.text(max_size=40))
def test_loading_any_other_text_never_repeats_it(text: str) -> None:
    """Property: an id that is not a case reference (a name, a note) is never repeated in
    the error, whatever text surrounds the marker."""
    from chronic_na.store import SQLiteStore

    given_id = f"Jane ZZ-MARKER {text}"
    assert not REFERENCE.fullmatch(given_id)
    with SQLiteStore() as store, pytest.raises(NoSuchCase) as caught:
        store.load(given_id)
    assert "ZZ-MARKER" not in str(caught.value)
    assert "Jane" not in str(caught.value)
    assert "not a case reference" in str(caught.value)
    assert caught.value.case_id == given_id


def test_loading_a_non_reference_on_every_backend(store: SQLStore) -> None:
    with pytest.raises(NoSuchCase) as caught:
        store.load("Jane ZZ-MARKER Doe")
    assert "ZZ-MARKER" not in str(caught.value)
