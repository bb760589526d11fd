"""A dotenv parser that reports malformed lines by number instead of failing.

It follows what docker compose, python-dotenv and Dotenvy agree on: `export ` prefix, `KEY=value`
with optional spaces around `=`, `# comments`, single quotes (literal), double quotes (escapes,
may span lines), and unquoted values that end at ` #`. A bare `KEY` takes its value from the
surrounding environment (compose) and is kept with value None.
"""

from __future__ import annotations

import re
from pathlib import Path

from phoenix_ops.patterns import lazy
from phoenix_ops.reading import read_text
from phoenix_ops.record import record

_KEY = lazy(r"[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*(=)?[ \t]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}
_QUOTE_NAMES = {'"': "double", "'": "single"}
_EXPANSION = lazy(r"\$[({A-Za-z_]")  # $VAR, ${VAR}, $(command)
_BARE = lazy(r"[A-Z_][A-Z0-9_]*")  # a name alone on its line: compose passes it through


@record(frozen=True)
class Entry:
    key: str
    value: str | None  # None: taken from the environment the file is loaded in
    file: str
    line: int
    expands: bool = False  # holds `$VAR`, `${VAR}` or `$(...)`, which loaders may substitute

    @property
    def checkable(self) -> bool:
        """Whether the value is known from the file alone."""
        return self.value is not None and not self.expands


@record(frozen=True)
class Malformed:
    file: str
    line: int
    reason: str


def read_env_file(path: Path, name: str | None = None) -> tuple[list[Entry], list[Malformed]]:
    """Parse one file, named `name` in what it returns; OSError (missing, unreadable) is left to the caller."""
    text = read_text(path).removeprefix("\ufeff")
    return parse_dotenv(text, name or str(path))


def parse_dotenv(text: str, file: str = ".env") -> tuple[list[Entry], list[Malformed]]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    entries: list[Entry] = []
    errors: list[Malformed] = []
    i = 0
    while i < len(lines):
        number, raw = i + 1, lines[i]
        i += 1
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = _KEY.match(raw)
        if not m or (m.group(2) is None and raw[m.end():].strip()):
            errors.append(Malformed(file, number, "not a KEY=value assignment"))
            continue
        key, rest = m.group(1), raw[m.end():]
        if m.group(2) is None:
            if not _BARE.fullmatch(key):  # `fi`, `else`: shell, not an env file
                errors.append(Malformed(file, number, "not a KEY=value assignment"))
                continue
            entries.append(Entry(key, None, file, number))
            continue
        if rest[:1] in ("'", '"'):
            value, consumed, reason = _quoted(rest, lines[i:], number)
            if reason:
                errors.append(Malformed(file, number, reason))
                continue
            i += consumed
            expands = rest[0] == '"' and bool(_EXPANSION.search(value))
            entries.append(Entry(key, value, file, number, expands))
            continue
        value = re.split(r"[ \t]+#", rest, maxsplit=1)[0].strip()
        entries.append(Entry(key, value, file, number, bool(_EXPANSION.search(value))))
    return entries, errors


def _quoted(rest: str, following: list[str], number: int) -> tuple[str, int, str]:
    """(value, extra lines consumed, error reason) for a value starting with a quote."""
    quote, text, consumed = rest[0], rest[1:], 0
    while True:
        end = _closing(text, quote)
        if end is not None:
            break
        if consumed == len(following):
            return "", 0, f"the {_QUOTE_NAMES[quote]} quote is never closed"
        text += "\n" + following[consumed]
        consumed += 1
    tail = text[end + 1:].strip()
    if tail and not tail.startswith("#"):
        if consumed:  # most likely a quote left open, closed by another line's quote
            return "", 0, (f"the {_QUOTE_NAMES[quote]} quote opened here is closed only on line "
                           f"{number + consumed}, with text after it")
        return "", 0, "text after the closing quote"
    body = text[:end]
    return (_unescape(body) if quote == '"' else body), consumed, ""


def _closing(text: str, quote: str) -> int | None:
    """Index of the closing quote; inside double quotes a backslash escapes the next character."""
    j = 0
    while j < len(text):
        if quote == '"' and text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            return j
        j += 1
    return None


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), body, flags=re.DOTALL)
