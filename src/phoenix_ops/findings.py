"""The one currency of phoenix-ops: a Finding, with its severity, confidence and location."""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, field


class _Level(enum.IntEnum):
    """An ordered level named in lower case on the command line and in reports."""

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str):
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(m.label for m in sorted(cls, reverse=True))
            raise ValueError(f"unknown {cls.__name__.lower()} {text!r} (use {choices})") from None


class Severity(_Level):
    INFO = 1
    WARNING = 2
    ERROR = 3


class Confidence(_Level):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file position (static) or a URL / node name (live)."""

    path: str | None = None  # relative to the project root, with forward slashes
    line: int | None = None
    column: int | None = None
    url: str | None = None
    node: str | None = None

    def __str__(self) -> str:
        if self.path:
            out = self.path
            if self.line:
                out += f":{self.line}"
                if self.column:
                    out += f":{self.column}"
            return out
        if self.url and self.node:  # a URL probed through one of several nodes
            return f"{self.url} via {self.node}"
        return self.url or self.node or "-"

    @property
    def subject(self) -> str:
        """The stable part of the location: what the fingerprint keeps."""
        return self.path or self.url or self.node or ""


# Long random-looking tokens, key=value credentials and URL passwords.
_SECRET_PATTERNS = [
    re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{32,}(?![A-Za-z0-9+/_=-])"),
    re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)(?=@)", re.I),
]


# Long names are not secrets: UPPER_SNAKE env vars and snake_case keys made of word-sized parts
# (a token such as sk_live_<36 random chars> has one long part and stays redacted).
_IDENTIFIER = re.compile(r"^([A-Z][A-Z0-9]{0,15}(_[A-Z0-9]{1,16})+|[a-z][a-z0-9]{0,15}(_[a-z0-9]{1,16})+)$")
# File paths are not secrets either: lower-case segments separated by slashes, a segment perhaps
# ending in the MD5 digest phx.digest gives assets (/assets/app-<32 hex>).
_SEGMENT = r"[a-z0-9_.-]{1,40}(-[0-9a-f]{32})?"
_PATH = re.compile(rf"^/?{_SEGMENT}(/{_SEGMENT})+/?$")


def redact(text: str) -> str:
    """Replace what looks like a secret with a short marker keeping only its length."""
    if not text:
        return text
    text = _SECRET_PATTERNS[1].sub(lambda m: m.group("scheme") + "***", text)
    return _SECRET_PATTERNS[0].sub(
        lambda m: m.group(0) if _IDENTIFIER.match(m.group(0)) or _PATH.match(m.group(0))
        else f"<redacted {len(m.group(0))} chars>", text)


# Finding.suppressed of what a baseline hides (SARIF reports it as an external suppression).
BASELINE_REASON = "baseline"


@dataclass
class Finding:
    rule_id: str
    name: str
    severity: Severity
    confidence: Confidence
    message: str
    hint: str = ""
    location: Location = field(default_factory=Location)
    # What the finding is about, stable across edits (a config key, a var name): part of the fingerprint.
    key: str = ""
    suppressed: str | None = None  # the reason, when a suppression comment or baseline hid it

    def __post_init__(self) -> None:
        self.message = redact(self.message)
        self.hint = redact(self.hint)
        self.key = redact(self.key)

    @property
    def fingerprint(self) -> str:
        basis = "\x1f".join([self.rule_id, self.location.subject, self.key or self.message])
        return hashlib.sha256(basis.encode()).hexdigest()[:24]

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.subject, loc.line or 0, loc.column or 0, self.rule_id, self.message)

    def to_dict(self) -> dict:
        loc = self.location
        return {
            "rule_id": self.rule_id,
            "name": self.name,
            "severity": self.severity.label,
            "confidence": self.confidence.label,
            "message": self.message,
            "hint": self.hint,
            "location": {k: v for k, v in vars(loc).items() if v is not None},
            "fingerprint": self.fingerprint,
        }
