"""Bot API specification (``spec/api.json``) loading and request-parameter validation.

The spec is read lazily with the standard library and cached at module level.  Every call the
fake server receives goes through :func:`parse_params`, which converts the wire representation
(multipart/form fields as strings, JSON bodies, query strings, uploaded file parts) to Python
values according to the parameter types in the spec and validates nested objects recursively.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("spec") / "api.json"

_SPEC: dict[str, Any] | None = None
_METHODS_LOWER: dict[str, str] | None = None
_DISCRIMINATORS: dict[str, tuple[str, str] | None] = {}

JsonDict = dict[str, Any]


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status + ``{"ok": false, ...}`` body.

    ``rejected`` is True for refusals caused by the request itself (validation, state) — those
    are recorded in ``FakeTelegram.rejected``; injected failures and conflicts set it to False.
    """

    def __init__(
        self,
        status: int,
        description: str,
        *,
        parameters: JsonDict | None = None,
        rejected: bool = True,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.rejected = rejected

    def body(self) -> JsonDict:
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    description: str = ""


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"

    def __repr__(self) -> str:
        return f"<Upload {self.filename!r} {len(self.data)} bytes>"


@dataclass
class ParseResult:
    params: JsonDict
    warnings: list[str] = field(default_factory=list)


def load_spec() -> dict[str, Any]:
    """The parsed api.json (loaded once, lazily)."""
    global _SPEC
    if _SPEC is None:
        with SPEC_PATH.open(encoding="utf-8") as fh:
            _SPEC = json.load(fh)
    return _SPEC


def spec_version() -> str:
    return str(load_spec().get("version", ""))


def resolve_method(name: str) -> str | None:
    """Exact spec name of a method; Telegram matches method names case-insensitively."""
    global _METHODS_LOWER
    methods: dict[str, Any] = load_spec()["methods"]
    if name in methods:
        return name
    if _METHODS_LOWER is None:
        _METHODS_LOWER = {m.lower(): m for m in methods}
    return _METHODS_LOWER.get(name.lower())


def _fields(raw: list[dict[str, Any]] | None) -> list[FieldSpec]:
    return [
        FieldSpec(f["name"], tuple(f["types"]), bool(f["required"]), str(f.get("description", "")))
        for f in raw or []
    ]


def method_fields(method: str) -> list[FieldSpec]:
    return _fields(load_spec()["methods"][method].get("fields"))


def method_returns(method: str) -> list[str]:
    return list(load_spec()["methods"][method].get("returns", []))


def type_exists(name: str) -> bool:
    return name in load_spec()["types"]


def type_fields(name: str) -> list[FieldSpec]:
    return _fields(load_spec()["types"][name].get("fields"))


def type_subtypes(name: str) -> list[str]:
    return list(load_spec()["types"][name].get("subtypes", []) or [])


_DISCRIMINATOR_RE = re.compile(r"(?:always|must be)\s+[\"“]?([A-Za-z_]+)")


def discriminator(subtype: str) -> tuple[str, str] | None:
    """(field, value) that identifies a concrete subtype, e.g. ("type", "photo") for InputMediaPhoto."""
    if subtype not in _DISCRIMINATORS:
        found: tuple[str, str] | None = None
        for f in type_fields(subtype):
            if f.required and f.types == ("String",):
                m = _DISCRIMINATOR_RE.search(f.description)
                if m:
                    found = (f.name, m.group(1))
                    break
        _DISCRIMINATORS[subtype] = found
    return _DISCRIMINATORS[subtype]


# --- human names used in Telegram-like error messages ------------------------------------

_CONTEXT_NAMES = {
    "InlineKeyboardButton": "inline keyboard button",
    "KeyboardButton": "keyboard button",
    "MessageEntity": "MessageEntity",
    "InlineKeyboardMarkup": "inline keyboard",
    "ReplyKeyboardMarkup": "reply keyboard",
}

# Telegram's wording for a missing required top-level parameter (default: "<name> is empty").
MISSING_PARAM = {
    "text": "message text is empty",
    "chat_id": "chat_id is empty",
    "from_chat_id": "from_chat_id is empty",
    "photo": "there is no photo in the request",
    "document": "there is no document in the request",
    "audio": "there is no audio in the request",
    "video": "there is no video in the request",
    "voice": "there is no voice in the request",
    "sticker": "there is no sticker in the request",
    "animation": "there is no animation in the request",
    "video_note": "there is no video note in the request",
    "media": "media is empty",
    "message_id": "message identifier is not specified",
    "message_ids": "message identifiers are not specified",
    "user_id": "invalid user_id specified",
    "callback_query_id": "query_id is empty",
    "action": "action is empty",
    "file_id": "file_id is empty",
    "commands": "commands is empty",
    "name": "name is empty",
    "message_thread_id": "message thread is not specified",
}


# Fields that aiogram 3.31 (Bot API 10.3) requires but spec 10.1 does not know yet.
NEWER_FIELDS: dict[str, tuple[str, ...]] = {
    "ChatMemberAdministrator": ("can_send_welcome_messages",),
    "ChatAdministratorRights": ("can_send_welcome_messages",),
}


class _TypeMismatch(Exception):
    pass


def _expected_name(t: str) -> str:
    if t in ("Integer", "Float", "Boolean", "String", "True"):
        return "Boolean" if t == "True" else t
    if t.startswith("Array of "):
        return "Array"
    return "Object"


class _Validator:
    def __init__(self, uploads: Mapping[str, Upload]) -> None:
        self.uploads = uploads
        self.warnings: list[str] = []

    # primitive conversions -------------------------------------------------------------
    @staticmethod
    def _int(v: Any) -> int:
        if isinstance(v, bool):
            raise _TypeMismatch
        if isinstance(v, int):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, str) and re.fullmatch(r"\s*[-+]?\d+\s*", v):
            return int(v)
        raise _TypeMismatch

    @staticmethod
    def _float(v: Any) -> float:
        if isinstance(v, bool):
            raise _TypeMismatch
        if isinstance(v, int | float):
            return float(v)
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                raise _TypeMismatch from None
        raise _TypeMismatch

    @staticmethod
    def _bool(v: Any) -> bool:
        if isinstance(v, bool):
            return v
        if isinstance(v, int) and v in (0, 1):
            return bool(v)
        if isinstance(v, str) and v.lower() in ("true", "false", "1", "0"):
            return v.lower() in ("true", "1")
        raise _TypeMismatch

    # generic ------------------------------------------------------------------------------
    def convert(self, value: Any, types: tuple[str, ...], name: str, top_level: bool) -> Any:
        """Convert ``value`` to the first matching type; raise ApiError if none matches."""
        errors: list[ApiError] = []
        for t in types:
            try:
                return self.convert_one(value, t, name, top_level)
            except _TypeMismatch:
                continue
            except ApiError as e:
                errors.append(e)
        if errors:
            raise errors[0]
        expected = " or ".join(dict.fromkeys(_expected_name(t) for t in types))
        raise bad_request(f'field "{name}" must be of type {expected}')

    def convert_one(self, value: Any, t: str, name: str, top_level: bool) -> Any:
        if t == "Integer":
            return self._int(value)
        if t == "Float":
            return self._float(value)
        if t in ("Boolean", "True"):
            return self._bool(value)
        if t == "String":
            if isinstance(value, str):
                if top_level and value.startswith("attach://") and value[9:] in self.uploads:
                    return self.uploads[value[9:]]
                return value
            if top_level and isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
            raise _TypeMismatch
        if t == "InputFile":
            if isinstance(value, Upload):
                return value
            if isinstance(value, str) and value.startswith("attach://"):
                key = value[len("attach://") :]
                if key in self.uploads:
                    return self.uploads[key]
                raise bad_request(f"file for attach://{key} is not found in the request")
            raise _TypeMismatch
        if t.startswith("Array of "):
            if isinstance(value, str) and top_level:
                value = self._json(value, name)
            if not isinstance(value, list):
                raise _TypeMismatch
            inner = t[len("Array of ") :]
            return [self.convert(item, (inner,), name, False) for item in value]
        # object type
        if not type_exists(t):
            self.warnings.append(f"spec: unknown type {t} for field {name}; value accepted as is")
            return value
        if isinstance(value, str) and top_level:
            value = self._json(value, name)
        if not isinstance(value, dict):
            raise _TypeMismatch
        return self.validate_object(t, value)

    @staticmethod
    def _json(value: str, name: str) -> Any:
        try:
            return json.loads(value)
        except ValueError:
            if name == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from None
            if name in ("entities", "caption_entities"):
                raise bad_request("can't parse entities JSON object") from None
            raise bad_request(f"can't parse {name} JSON object") from None

    def validate_object(self, type_name: str, obj: dict[str, Any]) -> JsonDict:
        subtypes = type_subtypes(type_name)
        if subtypes:
            first_error: ApiError | None = None
            for st in subtypes:
                disc = discriminator(st)
                if disc is not None and obj.get(disc[0]) != disc[1]:
                    continue
                try:
                    return self.validate_object(st, obj)
                except ApiError as e:
                    first_error = first_error or e
            if first_error is not None:
                raise first_error
            disc_field = next((d[0] for st in subtypes if (d := discriminator(st))), "type")
            ctx = _CONTEXT_NAMES.get(type_name, type_name)
            raise bad_request(f'can\'t parse {ctx}: unsupported {disc_field} "{obj.get(disc_field)}"')
        ctx = _CONTEXT_NAMES.get(type_name, type_name)
        fields = {f.name: f for f in type_fields(type_name)}
        out: JsonDict = {}
        for fname, f in fields.items():
            if fname not in obj or obj[fname] is None:
                if f.required:
                    raise bad_request(f'can\'t parse {ctx}: Can\'t find field "{fname}"')
                continue
            try:
                out[fname] = self.convert(obj[fname], f.types, fname, False)
            except ApiError as e:
                if e.description.startswith('Bad Request: field "'):
                    detail = e.description[len("Bad Request: field ") :]
                    raise bad_request(f"can't parse {ctx}: Field {detail}") from None
                raise
        for extra in obj:
            if extra not in fields:
                self.warnings.append(f"{type_name}: unknown field {extra!r} (kept, not validated)")
                out[extra] = obj[extra]
        return out


# Parameters whose empty string Telegram reads as a value: copyMessage's caption "" drops the original
# caption (the Bot API server asks whether the argument is present, not whether it is empty).
EMPTY_IS_A_VALUE = frozenset({("copyMessage", "caption")})


def parse_params(
    method: str, raw: Mapping[str, Any], uploads: Mapping[str, Upload] | None = None
) -> ParseResult:
    """Validate and convert the raw request parameters of ``method`` (an exact spec name).

    ``raw`` values are strings (form / query), JSON values (JSON body) or :class:`Upload`
    (file part sent directly under the parameter name).  Empty strings count as absent, as
    in Telegram, except :data:`EMPTY_IS_A_VALUE`.  Unknown parameters are kept and reported in the warnings.
    """
    uploads = dict(uploads or {})
    v = _Validator(uploads)
    out: JsonDict = {}
    fields = method_fields(method)
    known = {f.name for f in fields}
    for f in fields:
        value = raw.get(f.name)
        if value == "" and (method, f.name) in EMPTY_IS_A_VALUE:
            out[f.name] = ""
            continue
        if value is None or value == "":
            if f.required:
                raise bad_request(MISSING_PARAM.get(f.name, f"{f.name} is empty"))
            continue
        out[f.name] = v.convert(value, f.types, f.name, True)
    for name, value in raw.items():
        if name in known:
            continue
        if isinstance(value, Upload) or name in uploads:
            continue  # file parts referenced via attach://
        v.warnings.append(f"{method}: unknown parameter {name!r} (not in {spec_version()}), passed through unvalidated")
        out[name] = value
    return ParseResult(out, v.warnings)


def check_object(type_name: str, obj: Any) -> list[str]:
    """Problems of an outgoing object (e.g. a Message we return) against the spec."""
    problems: list[str] = []
    _check(type_name, obj, type_name, problems)
    return problems


def _check(t: str, value: Any, path: str, problems: list[str]) -> None:
    if t == "Integer":
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected Integer, got {value!r}")
        return
    if t == "Float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"{path}: expected Float, got {value!r}")
        return
    if t in ("Boolean", "True"):
        if not isinstance(value, bool):
            problems.append(f"{path}: expected Boolean, got {value!r}")
        return
    if t == "String":
        if not isinstance(value, str):
            problems.append(f"{path}: expected String, got {value!r}")
        return
    if t.startswith("Array of "):
        if not isinstance(value, list):
            problems.append(f"{path}: expected Array, got {value!r}")
            return
        for i, item in enumerate(value):
            _check(t[len("Array of ") :], item, f"{path}[{i}]", problems)
        return
    if not type_exists(t):
        return
    if not isinstance(value, dict):
        problems.append(f"{path}: expected {t} object, got {value!r}")
        return
    subtypes = type_subtypes(t)
    if subtypes:
        for st in subtypes:
            disc = discriminator(st)
            if disc is not None and value.get(disc[0]) == disc[1]:
                _check(st, value, path, problems)
                return
        best: list[str] | None = None
        for st in subtypes:
            if discriminator(st) is not None:
                continue
            found: list[str] = []
            _check(st, value, path, found)
            if not found:
                return
            best = found if best is None or len(found) < len(best) else best
        problems.extend(best or [f"{path}: no subtype of {t} matches"])
        return
    fields = {f.name: f for f in type_fields(t)}
    for name, f in fields.items():
        if name not in value:
            if f.required:
                problems.append(f"{path}.{name}: required field missing")
            continue
        sub: list[str] = []
        for alt in f.types:
            sub = []
            _check(alt, value[name], f"{path}.{name}", sub)
            if not sub:
                break
        problems.extend(sub)
    for name in value:
        if name not in fields and name not in NEWER_FIELDS.get(t, ()):
            problems.append(f"{path}.{name}: not a field of {t}")
