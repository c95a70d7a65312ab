"""The attendance code tables, as data, and the rules for reading one mark.

Two tables: the School Attendance (Pupil Registration) (England) Regulations
2024 table, in force from 19 August 2024, and the table before it. A mark is
read with the table in force on its session's date (:func:`table_for`).

Codes withdrawn in 2024 (``H``, ``J``, plain ``Y`` and ``F``) still appear in
real registers after 19 August 2024: DfE's own 2025/26 statistics count ``H``
as authorised absence and ``J`` as approved educational activity. The 2024
table therefore keeps them as *withdrawn* codes, counted as DfE counts them
and reported as a data-quality finding; a strict reading refuses them.

``/`` is the morning mark and ``\\`` the afternoon mark: ``/`` on a PM session
or ``\\`` on an AM session is an error, as is a code in neither table.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping

import attrs

from chronic_na.errors import InvalidInput

__all__ = [
    "CODES_2024",
    "CODES_PRE_2024",
    "REFERENCE",
    "REGULATIONS_2024_IN_FORCE",
    "Category",
    "CodeTable",
    "Session",
    "WithdrawnCodeRefused",
    "check_session_mark",
    "quote_cell",
    "quote_pupil",
    "table_for",
]

REGULATIONS_2024_IN_FORCE = dt.date(2024, 8, 19)
"""The first day the 2024 regulations' code table applies."""

_QUOTED_MAX = 20
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
"""The shape of every pseudonymous reference the library keeps (pupils, schools,
cases, staff): 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter
or digit. No spaces, so a name typed as a name is refused; a username such as
``first.last`` has the shape of a reference and is not detected: issue
pseudonymous ids."""


def quote_cell(value: object, *, quote: bool = True) -> str:
    """A register value as an error message may show it.

    A register holds pupil references, dates, sessions and codes, none of
    them free text. A value short enough to be one of those (at most 20
    characters, printable, no white space inside) is shown, quoted unless
    ``quote`` is false, so that a wrong code or date can be seen; anything
    longer is most likely text from another column (a note about a child)
    and is described by its length only, because error messages end up in
    logs and terminals.
    """
    if value is None:
        return "an empty value"
    text = value if isinstance(value, str) else str(value)
    inner = text.strip()
    if len(text) <= _QUOTED_MAX and text.isprintable() and not any(c.isspace() for c in inner):
        return repr(text) if quote else text
    return f"a value of {len(text)} characters (not shown: it may be text from another column)"


def quote_pupil(value: object) -> str:
    """A pupil reference as a message may show it: shown if it has the shape of a
    pseudonymous reference (1-64 letters, digits, '.', '_', ':' or '-'),
    otherwise described by its length only (it may be a name)."""
    text = "" if value is None else str(value)
    if REFERENCE.fullmatch(text):
        return text
    return f"<not a pupil reference: {len(text)} characters, not shown>"


class WithdrawnCodeRefused(InvalidInput):
    """Strict mode met a code withdrawn by the 2024 regulations."""


class Category(enum.Enum):
    """Where a session's code counts: one of the four possible-session
    categories, or not a possible session at all."""

    PRESENT = "present"
    APPROVED_ACTIVITY = "approved_activity"
    AUTHORISED = "authorised"
    UNAUTHORISED = "unauthorised"
    NOT_POSSIBLE = "not_possible"

    @property
    def is_possible(self) -> bool:
        """Whether a session in this category is a possible session."""
        return self is not Category.NOT_POSSIBLE

    @property
    def is_attendance(self) -> bool:
        """Whether a session in this category counts as attendance."""
        return self in (Category.PRESENT, Category.APPROVED_ACTIVITY)


class Session(enum.Enum):
    """The two registration sessions of a school day."""

    AM = "AM"
    PM = "PM"

    @classmethod
    def parse(cls, value: object, *, field: str = "session") -> Session:
        """``Session.AM``/``PM`` from ``"AM"``/``"PM"`` (any case) or a :class:`Session`."""
        if isinstance(value, Session):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().upper())
            except ValueError:
                pass
        raise InvalidInput(field, "must be the session 'AM' or 'PM'")


def _frozen_codes(value: Mapping[str, Category]) -> Mapping[str, Category]:
    return dict(value)


@attrs.frozen
class CodeTable:
    """One code table: each code's category, valid over a range of dates.

    ``codes`` are the codes in force. ``withdrawn`` are codes no longer in the
    table that registers still carry; they are counted in the category given
    (as DfE counts them) and reported, or refused in strict mode.
    ``descriptions`` give each code's meaning in the regulations' words.
    """

    name: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    """Exclusive: the first date the table no longer applies (``None``: open)."""
    codes: Mapping[str, Category] = attrs.field(converter=_frozen_codes)
    withdrawn: Mapping[str, Category] = attrs.field(converter=_frozen_codes, factory=dict)
    descriptions: Mapping[str, str] = attrs.field(factory=dict, eq=False, repr=False)

    def applies_on(self, day: dt.date) -> bool:
        """Whether this table is the one in force on ``day``."""
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_until is None or day < self.valid_until
        )

    def category(self, code: str, *, strict: bool = False, field: str = "code") -> Category:
        """The category of ``code``; withdrawn codes count as DfE counts them.

        Raises :class:`InvalidInput` (naming ``field``) for a code in neither
        list, or for a withdrawn code when ``strict``.
        """
        found = self.codes.get(code)
        if found is not None:
            return found
        withdrawn = self.withdrawn.get(code)
        if withdrawn is not None:
            if strict:
                raise WithdrawnCodeRefused(
                    field,
                    f"code {quote_cell(code)} was withdrawn from the {self.name} table "
                    "(strict mode refuses withdrawn codes)",
                )
            return withdrawn
        raise InvalidInput(
            field, f"code {quote_cell(code)} is not an attendance code in the {self.name} table"
        )

    def is_withdrawn(self, code: str) -> bool:
        """Whether ``code`` is a withdrawn code that this table still counts."""
        return code not in self.codes and code in self.withdrawn

    def all_codes(self) -> frozenset[str]:
        """Every code this table reads (in force and withdrawn)."""
        return frozenset(self.codes) | frozenset(self.withdrawn)

    def codes_in(self, category: Category, *, include_withdrawn: bool = True) -> frozenset[str]:
        """The codes counted in ``category``."""
        found = {c for c, cat in self.codes.items() if cat is category}
        if include_withdrawn:
            found |= {c for c, cat in self.withdrawn.items() if cat is category}
        return frozenset(found)


_P = Category.PRESENT
_A = Category.APPROVED_ACTIVITY
_AU = Category.AUTHORISED
_UN = Category.UNAUTHORISED
_NP = Category.NOT_POSSIBLE

_DESCRIPTIONS_2024 = {
    "/": "present (AM)",
    "\\": "present (PM)",
    "L": "late, arrived before the register closed",
    "K": "attending education provision arranged by the local authority",
    "V": "attending an educational visit or trip",
    "P": "participating in a sporting activity",
    "W": "attending work experience",
    "B": "attending any other approved educational activity",
    "C": "leave of absence for exceptional circumstances",
    "C1": "leave of absence for a regulated performance or employment abroad",
    "C2": "leave of absence for a part-time timetable (temporarily reduced)",
    "M": "leave of absence for a medical or dental appointment",
    "J1": "leave of absence for an interview",
    "S": "leave of absence for study leave",
    "I": "illness",
    "R": "religious observance",
    "T": "mobile child travelling (parent travelling for occupation)",
    "E": "suspended or permanently excluded, no alternative provision",
    "G": "holiday not granted by the school",
    "N": "reason for absence not yet provided",
    "O": "absent in other or unknown circumstances",
    "U": "arrived in school after the register closed",
    "D": "dual registered, attending the other school",
    "X": "not required to be in school (not of compulsory school age)",
    "Q": "unable to attend: lack of access arrangements",
    "Y1": "unable to attend: transport not available",
    "Y2": "unable to attend: widespread disruption to travel",
    "Y3": "unable to attend: part of the school premises closed",
    "Y4": "unable to attend: whole school site unexpectedly closed",
    "Y5": "unable to attend: in criminal justice detention",
    "Y6": "unable to attend: public health guidance or law",
    "Y7": "unable to attend: any other unavoidable cause",
    "Z": "prospective pupil not yet on roll",
    "#": "planned whole-school closure",
}

CODES_2024 = CodeTable(
    name="2024 regulations",
    valid_from=REGULATIONS_2024_IN_FORCE,
    valid_until=None,
    codes={
        "/": _P, "\\": _P, "L": _P,
        "K": _A, "V": _A, "P": _A, "W": _A, "B": _A,
        "C": _AU, "C1": _AU, "C2": _AU, "M": _AU, "J1": _AU, "S": _AU,
        "I": _AU, "R": _AU, "T": _AU, "E": _AU,
        "G": _UN, "N": _UN, "O": _UN, "U": _UN,
        "D": _NP, "X": _NP, "Q": _NP, "Y1": _NP, "Y2": _NP, "Y3": _NP, "Y4": _NP,
        "Y5": _NP, "Y6": _NP, "Y7": _NP, "Z": _NP, "#": _NP,
    },
    # Counted as DfE's 2025/26 statistics count them (H, J) and as the
    # pre-2024 table did (F authorised; plain Y not a possible session).
    withdrawn={"H": _AU, "J": _A, "F": _AU, "Y": _NP},
    descriptions=_DESCRIPTIONS_2024,
)
"""The School Attendance (Pupil Registration) (England) Regulations 2024 table."""

CODES_PRE_2024 = CodeTable(
    name="pre-2024",
    valid_from=None,
    valid_until=REGULATIONS_2024_IN_FORCE,
    codes={
        "/": _P, "\\": _P, "L": _P,
        "B": _A, "J": _A, "P": _A, "V": _A, "W": _A,
        "C": _AU, "E": _AU, "F": _AU, "H": _AU, "I": _AU, "M": _AU, "R": _AU,
        "S": _AU, "T": _AU,
        "G": _UN, "N": _UN, "O": _UN, "U": _UN,
        "D": _NP, "X": _NP, "Y": _NP, "Z": _NP, "#": _NP,
    },
    descriptions={
        "/": "present (AM)",
        "\\": "present (PM)",
        "L": "late, before the register closed",
        "B": "educated off site (not dual registration)",
        "J": "at an interview with a prospective employer or educational establishment",
        "P": "participating in a supervised sporting activity",
        "V": "educational visit or trip",
        "W": "work experience",
        "C": "other authorised circumstances",
        "E": "excluded, no alternative provision made",
        "F": "extended family holiday (agreed)",
        "H": "holiday authorised by the school",
        "I": "illness",
        "M": "medical or dental appointment",
        "R": "religious observance",
        "S": "study leave",
        "T": "traveller absence",
        "G": "holiday not authorised by the school",
        "N": "no reason yet provided",
        "O": "unauthorised absence not covered by any other code",
        "U": "late, after the register closed",
        "D": "dual registration, attending another establishment",
        "X": "non-compulsory school age absence",
        "Y": "enforced closure",
        "Z": "pupil not yet on roll",
        "#": "school closed to pupils",
    },
)
"""The table in force before 19 August 2024 (2006 regulations, as amended)."""

def table_for(day: dt.date) -> CodeTable:
    """The code table in force on ``day``."""
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise InvalidInput("date", "must be a calendar date (datetime.date)")
    return CODES_2024 if day >= REGULATIONS_2024_IN_FORCE else CODES_PRE_2024


def check_session_mark(code: str, session: Session, *, field: str = "code") -> None:
    """Refuse the morning mark ``/`` on a PM session and ``\\`` on an AM session."""
    if code == "/" and session is Session.PM:
        raise InvalidInput(field, "'/' is the AM present mark but the session is PM")
    if code == "\\" and session is Session.AM:
        raise InvalidInput(field, "'\\' is the PM present mark but the session is AM")
