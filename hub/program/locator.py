"""Map a key path such as ("rewards", 1, "cost") to its line in the TOML text.

tomllib keeps no positions, so this scans the text: `[table]` and `[[array.of.tables]]` headers
(counting occurrences for the index), `key = value` lines (dotted keys too) and, approximately,
the keys of an inline table written on one line. A path that cannot be found falls back to its
nearest recorded ancestor (the enclosing table), or None at the root.
"""

from __future__ import annotations

import re

Loc = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_KEY = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_KEYVAL = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")
_PART = re.compile(_KEY)


def _parts(dotted: str) -> tuple[str, ...]:
    out = []
    for match in _PART.finditer(dotted):
        token = match.group(0)
        if token[0] in "\"'":
            token = token[1:-1]
        out.append(token)
    return tuple(out)


class Locator:
    def __init__(self, text: str) -> None:
        self.lines: dict[Loc, int] = {}
        self._arrays: dict[Loc, int] = {}  # resolved array-of-tables path -> count so far
        self._scan(text)

    def _record(self, loc: Loc, line: int) -> None:
        self.lines.setdefault(loc, line)

    def _resolve(self, names: tuple[str, ...], new_array: bool) -> Loc:
        path: Loc = ()
        for i, name in enumerate(names):
            path = (*path, name)
            last = i == len(names) - 1
            if last and new_array:
                count = self._arrays.get(path, 0)
                self._arrays[path] = count + 1
                path = (*path, count)
            elif path in self._arrays:
                path = (*path, self._arrays[path] - 1)
        return path

    def _scan(self, text: str) -> None:
        current: Loc = ()
        in_multiline: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw
            if in_multiline is not None:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            header = _HEADER.match(line)
            if header:
                array = header.group(1) == "[["
                current = self._resolve(_parts(header.group(2)), array)
                if array:
                    self._record(current[:-1], number)
                self._record(current, number)
                continue
            keyval = _KEYVAL.match(line)
            if not keyval:
                continue
            parts = _parts(keyval.group(1))
            for k in range(1, len(parts) + 1):
                self._record((*current, *parts[:k]), number)
            loc = (*current, *parts)
            value = keyval.group(2)
            for quote in ('"""', "'''"):
                if value.count(quote) % 2 == 1:
                    in_multiline = quote
            if value.lstrip().startswith("{"):
                for inner in _INLINE_KEY.finditer(value):
                    self._record((*loc, *_parts(inner.group(1))), number)

    def line(self, loc: Loc) -> int | None:
        """The line of `loc`, or of its nearest recorded ancestor; None if nothing matches."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None
