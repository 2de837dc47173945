"""Reading a policy file (TOML or YAML) into a `Policy`, with errors that name file, line and field.

Product rule: "a malformed policy file names the line". Syntax errors carry the parser's line;
validation errors from the model are mapped back to the line of the offending key; an error a
model validator raises about several fields starts with the dotted path of the field at fault
(`checkins.plan_deadline must be after …`), and points at the first field it names that the file
actually sets. This module reads files: use it at the edges (CLI, worker start), never in a
workflow; workflows get the validated `Policy`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from policies.policy import Policy
from policies.policy_lines import KeyLines, toml_key_lines, yaml_key_lines

FORMATS = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}


@dataclass(frozen=True)
class PolicyError:
    """One problem in a policy file. `line` is 1-based, None when no line can be named."""

    file: str
    line: int | None
    field: str | None  # dotted path such as `checkins.plan_deadline`; None for syntax errors
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PolicyFileError(ValueError):
    """The policy file cannot be used; `errors` says where and why, one line each."""

    def __init__(self, errors: list[PolicyError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


def load_policy(path: str | Path) -> Policy:
    """The policy in `path` (.toml, .yaml or .yml); an empty file means every default."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise PolicyFileError([PolicyError(str(path), None, None, f"cannot read the file: {reason}")]) from error
    policy, errors = parse_policy_text(text, str(path))
    if policy is None:
        raise PolicyFileError(errors)
    return policy


def check_policy_text(text: str, filename: str) -> list[PolicyError]:
    """Every problem in `text`, read as the format `filename`'s extension names; [] when valid."""
    return parse_policy_text(text, filename)[1]


def parse_policy_text(text: str, filename: str) -> tuple[Policy | None, list[PolicyError]]:
    """The policy and no errors, or None and the errors sorted by line."""
    fmt = FORMATS.get(Path(filename).suffix.lower())
    if fmt is None:
        return None, [PolicyError(filename, None, None, "unknown policy file type: name it .toml, .yaml or .yml")]
    try:
        data, lines = _read_toml(text) if fmt == "toml" else _read_yaml(text)
    except _SyntaxProblem as problem:
        return None, [PolicyError(filename, problem.line, None, problem.message)]
    errors = [
        PolicyError(filename, line, _dotted(path), f"duplicate key (first set on line {first})")
        for path, line, first in lines.duplicates
    ]
    if not isinstance(data, dict):
        kind = type(data).__name__
        errors.append(
            PolicyError(filename, 1, None, f"expected sections such as `checkins:` at the top, found a {kind}")
        )
        return None, errors
    try:
        policy = Policy.model_validate(data)
    except ValidationError as invalid:
        errors += [_from_pydantic(error, lines, filename) for error in invalid.errors()]
        return None, sorted(errors, key=lambda e: (e.line or 0, e.field or ""))
    return (None, errors) if errors else (policy, [])


class _SyntaxProblem(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        self.line, self.message = line, message


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")


def _read_toml(text: str) -> tuple[object, KeyLines]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_POSITION.search(message)
        line = None
        if match:
            line = int(match.group(1)) if match.group(1) else max(1, len(text.splitlines()))
            message = message[: match.start()]
        raise _SyntaxProblem(line, f"invalid TOML: {message}") from None
    try:
        lines = toml_key_lines(text)
    except (ValueError, IndexError):  # a gap in the scanner must not hide the real error
        lines = KeyLines()
    return data, lines


class _PolicyYamlLoader(yaml.SafeLoader):
    """YAML 1.2-style scalars where YAML 1.1 surprises people.

    `10:30` stays the text "10:30" (YAML 1.1 reads it as the base-60 number 630), and only
    true/false are booleans (so `country: NO`, Norway, stays a country code).
    """


_PolicyYamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PolicyYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_PolicyYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|0o[0-7_]+)$"),
    list("-+0123456789"),
)


def _read_yaml(text: str) -> tuple[object, KeyLines]:
    try:
        node = yaml.compose(text, Loader=_PolicyYamlLoader)
        data = yaml.load(text, Loader=_PolicyYamlLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        message = f"{context}: {problem}" if context else problem
        raise _SyntaxProblem(mark.line + 1 if mark else None, f"invalid YAML: {message}") from None
    except ValueError as error:  # a well-formed scalar PyYAML cannot build, e.g. 2026-02-30
        raise _SyntaxProblem(None, f"invalid YAML value: {error}") from None
    return ({} if data is None else data), yaml_key_lines(node)


# --- mapping pydantic's errors to lines -------------------------------------------------

# A dotted field path in a message, e.g. `checkins.plan_reminders[1]` or `working_hours.end`.
_FIELD_PATH = re.compile(r"\b([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*|\[\d+\])+)")
_PREFIXES = ("Value error, ", "Assertion failed, ")


def _from_pydantic(error: ErrorDetails, lines: KeyLines, filename: str) -> PolicyError:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    message = str(error["msg"])
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        return PolicyError(filename, lines.line_of(loc), _dotted(loc), _unknown_key(loc))
    if error["type"] == "value_error":
        named = _named_fields(message, loc)
        if named:
            # A model validator's message names the field at fault first, then the others.
            subject = named[0]
            message = message[message.index(_dotted(subject)) + len(_dotted(subject)) :]
            message = message.lstrip(" :")
            located = next((path for path in named if lines.has(path)), subject)
            return PolicyError(filename, lines.line_of(located), _dotted(subject), message)
    elif error["type"] == "model_type":
        message = "expected a table of settings (a [section] in TOML, a mapping in YAML)"
    if error["type"] != "value_error" and _is_scalar(error.get("input")):
        message += f", got {error['input']!r}"
    return PolicyError(filename, lines.line_of(loc), _dotted(loc) or None, message)


def _named_fields(message: str, loc: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    """Field paths a validator's message starts with and mentions, inside the failing section."""
    match = _FIELD_PATH.match(message)
    if match is None:
        return []
    paths = [_parse_dotted(text) for text in _FIELD_PATH.findall(message)]
    return [path for path in paths if path[: len(loc)] == loc]


def _parse_dotted(text: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for name, index in re.findall(r"([a-z_][a-z0-9_]*)|\[(\d+)\]", text):
        parts.append(name if name else int(index))
    return tuple(parts)


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _is_scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def _unknown_key(loc: tuple[str | int, ...]) -> str:
    key, parent = str(loc[-1]), loc[:-1]
    allowed = _allowed_keys(parent)
    where = f" in [{_dotted(parent)}]" if parent else ""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}{where}; did you mean {close[0]!r}?"
    return f"unknown key {key!r}{where}; the keys here are: {', '.join(allowed)}"


def _allowed_keys(path: tuple[str | int, ...]) -> list[str]:
    """The field names of the model found at `path` below `Policy`."""
    annotation: object = Policy
    for part in path:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            annotation = annotation.model_fields[str(part)].annotation
        else:  # dict[str, Model] or list[Model]: the key or index picks a value
            annotation = typing.get_args(annotation)[-1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []
