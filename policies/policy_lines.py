"""Which line of a policy file each key (and each array item) is on, so errors can name it.

`tomllib` and `yaml.safe_load` return plain data without positions. For YAML the composed node
tree has marks; for TOML a small scanner walks the (already parsed, so valid) text: table
headers `[a.b]` / `[[a]]`, dotted and quoted keys, and multi-line arrays item by item. Keys
inside an inline table `{ … }` or a one-line array are not mapped one by one: `line_of` falls
back to the nearest enclosing key, which is on the same line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class KeyLines:
    """1-based line of each key path in one file; `duplicates` lists (path, line, first line)."""

    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)

    def record(self, path: Path, line: int) -> None:
        # Every prefix of a dotted key or table header starts no later than its first mention.
        for end in range(1, len(path) + 1):
            self.lines.setdefault(path[:end], line)

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest enclosing key that is in the file."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def has(self, path: Path) -> bool:
        return path in self.lines


# --- TOML -------------------------------------------------------------------------------


def toml_key_lines(text: str) -> KeyLines:
    """Key lines of a TOML document that `tomllib` has already accepted."""
    found = KeyLines()
    table: Path = ()
    array_tables: dict[Path, int] = {}
    value = _TomlValue(found)
    # TOML ends lines with \n or \r\n only; str.splitlines() would also split inside a string
    # at \x85, \u2028, \x0c …, and every key after it would get the wrong line (or none).
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if value.open:
            value.scan(line, 0, number)
            continue
        stripped = line.lstrip()
        start = len(line) - len(stripped)
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            key, _ = _read_key(line, start + 2)
            index = array_tables.get(key, 0)
            array_tables[key] = index + 1
            table = (*key, index)
            found.record(table, number)
        elif stripped.startswith("["):
            key, _ = _read_key(line, start + 1)
            table = key
            found.record(table, number)
        else:
            key, end = _read_key(line, start)
            path = (*table, *key)
            found.record(path, number)
            equals = line.index("=", end)
            value.begin(path, line, equals + 1, number)
    return found


def _read_key(line: str, i: int) -> tuple[tuple[str, ...], int]:
    """A possibly dotted, possibly quoted key starting at `i`; returns it and where it ends."""
    parts: list[str] = []
    while True:
        while i < len(line) and line[i] in " \t":
            i += 1
        if line[i] in "\"'":
            quote = line[i]
            j = i + 1
            while line[j] != quote:
                j += 2 if quote == '"' and line[j] == "\\" else 1
            raw = line[i + 1 : j]
            parts.append(raw.encode().decode("unicode_escape") if quote == '"' else raw)
            i = j + 1
        else:
            match = _BARE_KEY.match(line, i)
            if match is None:
                break
            parts.append(match.group())
            i = match.end()
        while i < len(line) and line[i] in " \t":
            i += 1
        if i < len(line) and line[i] == ".":
            i += 1
            continue
        break
    return tuple(parts), i


class _TomlValue:
    """Scans one value, possibly over several lines, recording the line of each array item."""

    def __init__(self, found: KeyLines) -> None:
        self.found = found
        self.string: str | None = None  # the open string's delimiter
        # Open brackets: [path of the array, index of the current item, item seen] or None
        # for an inline table (whose keys are not mapped).
        self.stack: list[list[Any] | None] = []

    @property
    def open(self) -> bool:
        return bool(self.stack) or self.string is not None

    def begin(self, path: Path, line: str, i: int, number: int) -> None:
        self.path = path
        self.scan(line, i, number)

    def scan(self, line: str, i: int, number: int) -> None:
        while i < len(line):
            if self.string is not None:
                i = self._in_string(line, i)
                continue
            char = line[i]
            if char == "#":
                return
            if char in " \t":
                i += 1
                continue
            top = self.stack[-1] if self.stack else None
            if char in "]}":
                self.stack.pop()
                i += 1
                continue
            if char == ",":
                if top is not None:
                    top[1] += 1
                    top[2] = False
                i += 1
                continue
            item_path = self.path
            if top is not None:
                item_path = (*top[0], top[1])
                if not top[2]:
                    self.found.record(item_path, number)
                    top[2] = True
            if char == "[":
                self.stack.append([item_path, 0, False])
                i += 1
            elif char == "{":
                self.stack.append(None)
                i += 1
            elif line.startswith(('"""', "'''"), i):
                self.string = line[i : i + 3]
                i += 3
            elif char in "\"'":
                self.string = char
                i += 1
            else:
                i += 1

    def _in_string(self, line: str, i: int) -> int:
        delimiter = self.string
        assert delimiter is not None
        while i < len(line):
            if delimiter[0] == '"' and line[i] == "\\":
                i += 2
                continue
            if line.startswith(delimiter, i):
                self.string = None
                return i + len(delimiter)
            i += 1
        if len(delimiter) == 1:  # a one-line string cannot continue (tomllib checked that)
            self.string = None
        return i


# --- YAML -------------------------------------------------------------------------------


def yaml_key_lines(node: yaml.Node | None) -> KeyLines:
    """Key lines from a composed YAML node tree (`yaml.compose`), with duplicate keys noted."""
    found = KeyLines()
    if node is not None:
        _walk(node, (), found)
    return found


def _walk(node: yaml.Node, path: Path, found: KeyLines) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                found.duplicates.append(((*path, key), line, seen[key]))
            else:
                seen[key] = line
                found.record((*path, key), line)
            _walk(value_node, (*path, key), found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.record((*path, index), item.start_mark.line + 1)
            _walk(item, (*path, index), found)
