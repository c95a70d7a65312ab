"""Events and records to and from JSON, with type tags, schema versions and upcasting.

One cattrs converter, built by :func:`make_converter` (nothing is registered
on cattrs' global converter). It is strict: a string is never made from a
number, a number never from a string or a boolean, an unknown key is
refused, and every attrs validator of the records runs. Datetimes are stored
as ISO 8601 with their UTC offset (always timezone-aware) and, for an IANA
zone, its name in brackets (RFC 9557: ``2026-10-25T01:30:00+01:00[Europe/London]``), dates as ISO
dates, enumerations by value and sets as sorted lists, so that the same
event always gives the same bytes.

An event is stored as an envelope::

    {"type": "submit_contact", "schema": 1, "case_id": "...", "number": 4,
     "command": {...}, "warnings": [...]}

``type`` is the command's trigger name, ``schema`` its ``schema_version``.
Reading an older version runs the registered upcasters, one version at a
time (:data:`UPCASTERS`), before the payload is structured. Anything that
cannot be read raises :class:`~chronic_na.errors.SchemaError` naming the
case, the event's position and the field, never the stored value, and never
returns a half-built event.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import operator
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn

from chronic_na.attendance.codes import REFERENCE
from chronic_na.errors import ChronicNAError, InvalidInput, SchemaError, Violation
from chronic_na.lifecycle.case import Event
from chronic_na.pathway import COMMAND_TYPES, Command

__all__ = [
    "COMMANDS_BY_TYPE",
    "UPCASTERS",
    "Upcaster",
    "decode_event",
    "dump_event",
    "encode_event",
    "load_event",
    "make_converter",
    "record_from_json",
    "record_to_json",
]

T = TypeVar("T")
Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]
"""Turns one version's command payload into the next version's."""

COMMANDS_BY_TYPE: Final[Mapping[str, type[Command]]] = {c.name: c for c in COMMAND_TYPES}
"""Every command type by its stored type tag."""


def _v1_to_v2_additional_information_feedback(payload: Payload) -> Payload:
    # Version 1 called the piece of information's number just ``number``;
    # version 2 says which number it is.
    out = dict(payload)
    if "number" in out:
        out["information_number"] = out.pop("number")
    return out


def _v1_to_v2_contact(payload: Payload) -> Payload:
    # Version 1 stored "no agencies" as [] whether the school said none or left
    # the question unanswered; which it was is unknown, so it is read as not
    # answered (null). A list of agencies reads as it was.
    iacf = payload.get("iacf")
    if not isinstance(iacf, dict) or iacf.get("external_agencies") != []:
        return payload
    return {**payload, "iacf": {**iacf, "external_agencies": None}}


UPCASTERS: Final[Mapping[tuple[str, int], Upcaster]] = {
    ("send_additional_information_feedback", 1): _v1_to_v2_additional_information_feedback,
    ("submit_contact", 1): _v1_to_v2_contact,
    ("correct_contact", 1): _v1_to_v2_contact,
}
"""``(type tag, version) -> upcaster`` to ``version + 1``: one entry for each
past version of each type, so that every stored event can still be read."""


# --------------------------------------------------------------------------- converter


def _strict(kind: type[T]) -> Callable[[object, type], T]:
    def structure(value: object, _: type) -> T:
        if type(value) is not kind and not (kind is float and type(value) is int):
            raise ValueError(f"expected {kind.__name__}")
        return value  # type: ignore[return-value]

    return structure


def _unstructure_datetime(value: dt.datetime) -> str:
    # RFC 9557: the offset fixes the instant, the bracketed zone keeps the
    # local rules, so a time read back equals the time written (fold included).
    text = value.isoformat()
    if isinstance(value.tzinfo, ZoneInfo):
        text += f"[{value.tzinfo.key}]"
    return text


def _structure_datetime(value: object, _: type) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 datetime string")
    text, zone = value, None
    if value.endswith("]") and "[" in value:
        text, _sep, key = value[:-1].partition("[")
        try:
            zone = _zone(key)
        except (ValueError, KeyError, OSError):
            raise ValueError("expected a known time zone in brackets") from None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("expected an ISO 8601 datetime string") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime (with a UTC offset)")
    if zone is not None:
        parsed = parsed.astimezone(zone)
    return parsed


@functools.lru_cache(maxsize=64)
def _zone(key: str) -> ZoneInfo:
    return ZoneInfo(key)


def _structure_date(value: object, _: type) -> dt.date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("expected an ISO 8601 date string (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("expected an ISO 8601 date string (YYYY-MM-DD)") from None


def _structure_enum(value: object, kind: type[enum.Enum]) -> enum.Enum:
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"expected one of the {kind.__name__} values") from None


def _unstructure_enum_set(value: frozenset[enum.Enum]) -> list[Any]:
    return sorted(member.value for member in value)


def _is_enum_set(kind: Any) -> bool:
    origin = getattr(kind, "__origin__", None)
    if origin not in (frozenset, set):
        return False
    (arg,) = kind.__args__
    return isinstance(arg, type) and issubclass(arg, enum.Enum)


def _is_optional(kind: Any) -> bool:
    # ``X | None`` (or ``Optional[X]``) of one other type: cattrs' generic
    # ``_structure_optional`` would take it.
    if typing.get_origin(kind) not in (typing.Union, types.UnionType):
        return False
    args = typing.get_args(kind)
    return len(args) == 2 and type(None) in args


def _is_homogeneous_tuple(kind: Any) -> bool:
    # ``tuple[X, ...]`` with a real item type: cattrs' generic ``_structure_tuple``.
    if typing.get_origin(kind) is not tuple:
        return False
    args = typing.get_args(kind)
    return len(args) == 2 and args[1] is Ellipsis and args[0] not in (Any, object)


def _fast_hooks(converter: cattrs.Converter) -> None:
    # Without detailed validation, cattrs structures ``X | None`` and
    # ``tuple[X, ...]`` by looking the item's hook up again for every value.
    # These do the same (same values, same errors) with the hook found once.
    def optional(kind: Any) -> Callable[[object, Any], Any]:
        (other,) = (a for a in typing.get_args(kind) if a is not type(None))
        inner = converter.get_structure_hook(other)

        def structure(value: object, _: Any) -> Any:
            return None if value is None else inner(value, other)

        return structure

    def homogeneous_tuple(kind: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
        item = typing.get_args(kind)[0]
        inner = converter.get_structure_hook(item)

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            if type(value) is not list:  # a string would be read as its characters
                raise ValueError("expected a list")
            return tuple([inner(e, item) for e in value])

        return structure

    converter.register_structure_hook_factory(_is_optional, optional)
    converter.register_structure_hook_factory(_is_homogeneous_tuple, homogeneous_tuple)


_JSON_SCALARS: Final = (str, int, float, bool, type(None))


def _fast_unstructure_hooks(converter: cattrs.Converter) -> None:
    # Writing is the store's hot path. cattrs unstructures an enum member by
    # dispatching again on its value, and ``X | None`` through a closure even
    # when ``X`` passes through unchanged. These give the same values with
    # one attribute read (an enum of JSON scalars) or none at all (an
    # optional scalar, which the generated code then reads inline).
    def enum_hook(kind: type[enum.Enum]) -> Callable[[enum.Enum], Any]:
        if all(isinstance(m.value, _JSON_SCALARS) for m in kind):
            return _enum_value
        return lambda member: converter.unstructure(member.value)

    def optional_hook(kind: Any) -> Callable[[Any], Any]:
        (other,) = (a for a in typing.get_args(kind) if a is not type(None))
        inner = converter.get_unstructure_hook(other)
        if inner == identity:
            return identity
        return lambda value: None if value is None else inner(value)

    converter.register_unstructure_hook_factory(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), enum_hook
    )
    converter.register_unstructure_hook_factory(_is_optional, optional_hook)


_enum_value: Final = operator.attrgetter("value")


def make_converter(*, detailed_validation: bool = True) -> cattrs.Converter:
    """The library's one converter: strict, deterministic, JSON-ready.

    Every attrs class is structured with unknown keys forbidden. With
    ``detailed_validation`` (the default) errors carry the path of the field
    at fault; without it structuring is faster. The library reads with the
    fast one and, only when that fails, reads again with the detailed one to
    name the field.
    """
    converter = cattrs.Converter(
        forbid_extra_keys=True, detailed_validation=detailed_validation
    )
    for kind in (str, int, bool, float):
        converter.register_structure_hook(kind, _strict(kind))
    converter.register_unstructure_hook(dt.datetime, _unstructure_datetime)
    converter.register_structure_hook(dt.datetime, _structure_datetime)
    converter.register_unstructure_hook(dt.date, dt.date.isoformat)
    converter.register_structure_hook(dt.date, _structure_date)
    converter.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
    )
    converter.register_unstructure_hook_func(_is_enum_set, _unstructure_enum_set)
    _fast_unstructure_hooks(converter)

    def structure_attrs_factory(cls: type) -> Callable[[Mapping[str, Any], type], Any]:
        return make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True)

    converter.register_structure_hook_factory(attrs.has, structure_attrs_factory)
    if detailed_validation:
        converter.register_structure_hook_factory(_is_homogeneous_tuple, _lists_only(converter))
    else:
        _fast_hooks(converter)
    return converter


def _lists_only(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    # cattrs reads any iterable as a tuple, a JSON string as its characters
    # among them: a stored ``tuple[X, ...]`` must be a JSON array.
    def factory(kind: Any) -> Callable[[Any, Any], Any]:
        base = homogenous_tuple_structure_factory(kind, converter)

        def structure(value: Any, _: Any) -> Any:
            if type(value) is not list:
                raise ValueError("expected a list")
            return base(value, kind)

        return structure

    return factory


_CONVERTER: Final = make_converter()
_FAST: Final = make_converter(detailed_validation=False)
_READ_ERRORS = (
    cattrs.BaseValidationError,
    cattrs.ForbiddenExtraKeysError,
    ChronicNAError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,  # a JSON value of the wrong shape (a list or null for an object)
)


def _structure(data: object, kind: Any, case_id: str | None, position: int | None,
               prefix: str) -> Any:  # fmt: skip
    try:
        return _FAST.structure(data, kind)
    except _READ_ERRORS:
        pass
    try:  # again, slowly, to name the field at fault
        _CONVERTER.structure(data, kind)
    except _READ_ERRORS as exc:
        raise _schema_error(exc, case_id, position, prefix) from None
    raise SchemaError(case_id, position, prefix or "$", "could not be read")  # pragma: no cover


# --------------------------------------------------------------------------- errors

_PATH = re.compile(r" @ \$(?P<path>\S*)$")


def _safe_reason(exc: BaseException, _type: type | None) -> str:
    # Never the exception's own text, except ours (which never quotes values).
    if isinstance(exc, InvalidInput):
        return f"{exc.field}: {exc.reason}"
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        # Not their names: a corrupted key could be any stored text.
        return f"{len(exc.extra_fields)} unknown field(s)"
    if isinstance(exc, ValueError) and type(exc) is ValueError and exc.args:
        text = str(exc.args[0])
        if text.startswith("expected "):
            return text
    if _type is not None:
        name = getattr(_type, "__name__", None) or str(_type).replace("typing.", "")
        return f"invalid value, expected {name}"
    return f"invalid value ({type(exc).__name__})"


def _schema_error(
    exc: BaseException, case_id: str | None, position: int | None, prefix: str
) -> SchemaError:
    if isinstance(exc, cattrs.BaseValidationError):
        messages = cattrs.transform_error(exc, format_exception=_safe_reason)
    else:
        messages = [f"{_safe_reason(exc, None)} @ $"]
    first = messages[0] if messages else "invalid value @ $"
    match = _PATH.search(first)
    path = match.group("path") if match else ""
    reason = _PATH.sub("", first)
    field = (prefix + path).lstrip(".") or prefix or "$"
    more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
    return SchemaError(case_id, position, field, reason + more)


# --------------------------------------------------------------------------- events


def dump_event(event: Event) -> Payload:
    """The event as a JSON-ready envelope (see the module docstring)."""
    command = event.command
    kind = type(command)
    unstructure = _COMMAND_HOOKS.get(kind)
    if unstructure is None:
        unstructure = _COMMAND_HOOKS[kind] = _CONVERTER.get_unstructure_hook(kind)
    return {
        "type": command.name,
        "schema": kind.schema_version,
        "case_id": event.case_id,
        "number": event.number,
        "command": unstructure(command),
        "warnings": [_CONVERTER.unstructure(w) for w in event.warnings] if event.warnings else [],
    }


# Each command type's unstructure function, found once (cattrs' dispatch per call is not free).
_COMMAND_HOOKS: Final[dict[type, Callable[[Any], Any]]] = {}


def upcast(tag: str, version: int, payload: Payload, *, case_id: str | None = None,
           position: int | None = None) -> Payload:  # fmt: skip
    """``payload`` of command type ``tag`` at ``version``, upcast to the current version."""
    kind = COMMANDS_BY_TYPE.get(tag)
    if kind is None:
        raise SchemaError(case_id, position, "type", "unknown event type")
    current = kind.schema_version
    if version > current:
        raise SchemaError(
            case_id, position, "schema",
            f"version {version} is newer than this library reads ({current}): upgrade chronic_na",
        )  # fmt: skip
    while version < current:
        step = UPCASTERS.get((tag, version))
        if step is None:
            raise SchemaError(case_id, position, "schema", f"no upcaster from version {version}")
        payload = step(payload)
        version += 1
    return payload


def load_event(data: object, *, case_id: str | None = None, position: int | None = None) -> Event:
    """An :class:`Event` from a stored envelope, upcasting old versions.

    ``case_id`` and ``position`` say where the data came from (for errors,
    and checked against the envelope when given).
    """
    if not isinstance(data, dict):
        raise SchemaError(case_id, position, "$", "an event must be a JSON object")
    if data.keys() != _ENVELOPE:
        missing = sorted(_ENVELOPE - data.keys())
        if missing:
            raise SchemaError(case_id, position, missing[0], "required field missing")
        extra = sorted(data.keys() - _ENVELOPE)
        raise SchemaError(case_id, position, extra[0], "unknown field")
    tag, version = data["type"], data["schema"]
    stored_case, number = data["case_id"], data["number"]
    if not isinstance(tag, str):
        raise SchemaError(case_id, position, "type", "expected a type tag (str)")
    if type(version) is not int or version < 1:
        raise SchemaError(case_id, position, "schema", "expected a positive whole number")
    if not isinstance(stored_case, str) or not REFERENCE.fullmatch(stored_case):
        # Checked before any error names it: a case id is a reference, never a name.
        raise SchemaError(case_id, position, "case_id", "expected a case id (a reference)")
    if type(number) is not int or number < 1:
        raise SchemaError(case_id, position, "number", "expected a positive whole number")
    if case_id is not None and stored_case != case_id:
        raise SchemaError(case_id, position, "case_id", "does not match the case it is stored in")
    if position is not None and number != position:
        raise SchemaError(case_id, position, "number", "does not match its stored position")
    where_case = case_id if case_id is not None else stored_case
    where = position if position is not None else number
    payload = data["command"]
    if not isinstance(payload, dict):
        raise SchemaError(where_case, where, "command", "expected a JSON object")
    payload = upcast(tag, version, payload, case_id=where_case, position=where)
    command = _structure(payload, COMMANDS_BY_TYPE[tag], where_case, where, "command")
    if command.case_id != stored_case:
        raise SchemaError(where_case, where, "command.case_id", "does not match the event's case")
    raw_warnings = data["warnings"]
    warnings: tuple[Violation, ...] = (
        _structure(raw_warnings, _WARNINGS, where_case, where, "warnings") if raw_warnings else ()
    )
    return Event(stored_case, number, command, warnings)


_ENVELOPE: Final = frozenset({"type", "schema", "case_id", "number", "command", "warnings"})
_WARNINGS: Final = tuple[Violation, ...]
# What json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
# does, without building an encoder for every call.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _dumps(data: object) -> str:
    return _ENCODER.encode(data)


def encode_event(event: Event) -> str:
    """The event as canonical JSON text (sorted keys, no white space).

    The same text as ``json.dumps(dump_event(event), ensure_ascii=False,
    sort_keys=True, separators=(",", ":"))``, written directly (see
    :func:`_writer`): appending is the store's hot path.
    """
    command = event.command
    kind = type(command)
    write = _WRITERS.get(kind) or _writer(kind)
    case_id, number, schema, tag = event.case_id, event.number, kind.schema_version, command.name
    if (
        type(case_id) is not str or type(number) is not int
        or type(schema) is not int or type(tag) is not str
    ):  # fmt: skip
        return _dumps(dump_event(event))
    warnings = (
        _dumps([_CONVERTER.unstructure(w) for w in event.warnings]) if event.warnings else "[]"
    )
    return (
        f'{{"case_id":{_str(case_id)},"command":{write(command)},"number":{number},'
        f'"schema":{schema},"type":{_str(tag)},"warnings":{warnings}}}'
    )


# --------------------------------------------------------------------------- direct JSON
# The canonical JSON of a record is what ``_dumps`` makes of what the
# converter's unstructure hook makes of it. For the shapes records are made
# of (attrs classes, strings, whole numbers, flags, enumerations of strings,
# times, dates, sets of enumerations, tuples, optionals) a writer per type
# produces that text without the dictionaries in between; any other shape,
# and any value not of its declared type, goes the long way for its own
# part, which gives the same text because JSON of a whole is the JSON of
# its parts put together.

_str: Final = json.encoder.encode_basestring  # what the encoder uses for str (ensure_ascii off)
_WRITERS: Final[dict[Any, Callable[[Any], str]]] = {}


def _slow_writer(kind: Any) -> Callable[[Any], str]:
    hook = _CONVERTER.get_unstructure_hook(kind)
    return lambda value: _dumps(hook(value))


def _writer(kind: Any) -> Callable[[Any], str]:
    """The function writing a value of declared type ``kind`` as canonical JSON."""
    found = _WRITERS.get(kind)
    if found is None:
        found = _WRITERS[kind] = _make_writer(kind)
    return found


def _make_writer(kind: Any) -> Callable[[Any], str]:
    slow = _slow_writer(kind)
    hook = _CONVERTER.get_unstructure_hook(kind)
    if kind is str:
        return lambda v: _str(v) if type(v) is str else slow(v)
    if kind is int:
        return lambda v: int.__repr__(v) if type(v) is int else slow(v)
    if kind is bool:
        return lambda v: "true" if v is True else "false" if v is False else slow(v)
    if kind is dt.datetime or kind is dt.date:
        # Their hooks always give text (or raise, as the long way would).
        return lambda v: _str(hook(v))
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        if hook is _enum_value and all(type(m.value) is str for m in kind):
            return lambda v: _str(v._value_) if type(v) is kind else slow(v)
        return slow
    if _is_enum_set(kind) and hook is _unstructure_enum_set:
        (member,) = kind.__args__
        if all(type(m.value) is str for m in member):
            return lambda v: "[" + ",".join([_str(x) for x in hook(v)]) + "]"
        return slow
    if _is_optional(kind):
        (other,) = (a for a in typing.get_args(kind) if a is not type(None))
        inner = _writer(other)
        return lambda v: "null" if v is None else inner(v)
    if _is_homogeneous_tuple(kind):
        item = typing.get_args(kind)[0]
        if item in (str, int, bool) or attrs.has(item):
            inner = _writer(item)
            return lambda v: "[" + ",".join([inner(x) for x in v]) + "]"
        return slow
    if (
        isinstance(kind, type) and attrs.has(kind)
        # cattrs' own generated hook, not one registered for this class
        and getattr(hook, "__name__", None) == f"unstructure_{kind.__name__}"
    ):  # fmt: skip
        return _attrs_writer(kind)
    return slow


def _attrs_writer(kind: type) -> Callable[[Any], str]:
    # Generated code, as cattrs does for its hooks: one expression per field,
    # fields in the order of their (sorted) keys.
    try:
        hints = typing.get_type_hints(kind)
    except Exception:  # pragma: no cover - an annotation that cannot be resolved
        return _slow_writer(kind)
    fields = sorted(attrs.fields(kind), key=lambda a: a.name)
    namespace: dict[str, Any] = {"_str": _str}
    reads, parts = [], []
    for i, field in enumerate(fields):
        declared = hints.get(field.name, field.type)
        namespace[f"w{i}"] = _writer(declared)
        reads.append(f"    a{i} = v.{field.name}\n")
        # Text fields, the commonest, written in line (the writer's own test).
        if declared is str:
            value = f"_str(a{i}) if type(a{i}) is str else w{i}(a{i})"
        elif declared == str | None:
            value = f'"null" if a{i} is None else _str(a{i}) if type(a{i}) is str else w{i}(a{i})'
        else:
            value = f"w{i}(a{i})"
        key = _str(field.name).replace("{", "{{").replace("}", "}}")
        parts.append(f"{key}:{{{value}}}")
    body = ",".join(parts)
    source = f"def write(v):\n{''.join(reads)}    return f'{{{{{body}}}}}'\n"
    exec(compile(source, f"<chronic_na writer {kind.__qualname__}>", "exec"), namespace)
    write: Callable[[Any], str] = namespace["write"]
    return write


def decode_event(text: str | bytes, *, case_id: str | None = None,
                 position: int | None = None) -> Event:  # fmt: skip
    """An :class:`Event` from JSON text written by :func:`encode_event` (any version)."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        raise SchemaError(case_id, position, "$", "not valid JSON") from None
    return load_event(data, case_id=case_id, position=position)


# --------------------------------------------------------------------------- records


def record_to_json(record: object) -> str:
    """Any record (an attrs class of :mod:`chronic_na.records`, a command...) as canonical JSON."""
    if not attrs.has(type(record)):
        raise InvalidInput("record", "must be an attrs record")
    return _dumps(_CONVERTER.unstructure(record))


def record_from_json(text: str | bytes, kind: type[T]) -> T:
    """A record of ``kind`` from JSON text written by :func:`record_to_json`."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        raise SchemaError(None, None, "$", "not valid JSON") from None
    result: T = _structure(data, kind, None, None, "")
    return result
