"""The one currency of phoenix-ops: a Finding, with its severity, confidence and location."""

from __future__ import annotations

import enum
import re

from phoenix_ops.patterns import lazy
from phoenix_ops.record import field, record


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


@record(frozen=True)
class Location:
    """Where a finding is: a file position (static) or a URL / node name (live)."""

    path: str | None = None  # relative to the project root, with forward slashes
    line: int | None = None
    column: int | None = None
    url: str | None = None
    node: str | None = None

    def __post_init__(self) -> None:
        if self.url:  # a redirect's ?token=... is a credential in every report that names the URL
            object.__setattr__(self, "url", redact_url(self.url))

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


# What redaction looks for. Every pattern runs in linear time: each starts at a fixed marker
# ("://", "?", "&", a word start) and its repetitions are possessive or bounded, so no input can
# make it backtrack (a 60 KB token once took minutes).
# Long random-looking tokens: a maximal run of 32+ token characters (a shorter run fails within 32 steps).
_TOKEN = lazy(r"[A-Za-z0-9+/_=-]{32,}")
# The password of a URL: scheme://user:PASSWORD@host.
_URL_PASSWORD = lazy(r"://([^:/@\s]*+):([^@/\s]*+)@")
# A query parameter: ?name=value or &name=value; its name decides (see _CREDENTIAL_WORDS).
_QUERY_PARAM = lazy(r"([?&;])([A-Za-z0-9_.\[\]-]{1,64}+)=([^&#\s\"'<>]*+)")
# A quoted value written after a name, as code writes it: `name: "value"`, `name = 'value'`, `name => "value"`.
_NAMED_VALUE = lazy(r"\b([A-Za-z_][A-Za-z0-9_]{0,63}+)(\s{0,3}+(?::|=>|=)\s{0,3}+)"
                          r"(\"[^\"\n]{0,256}+\"|'[^'\n]{0,256}+')")
_CREDENTIAL_WORDS = ("token", "secret", "password", "passwd", "pwd", "key", "code", "signature", "sig", "auth",
                     "session", "jwt", "credential", "cookie", "otp", "nonce", "salt", "private", "apikey")


# Long names are not secrets: UPPER_SNAKE env vars and snake_case keys made of word-sized parts
# (a token such as sk_live_<36 random chars> has one long part and stays redacted).
_IDENTIFIER = lazy(r"^([A-Z][A-Z0-9]{0,15}(_[A-Z0-9]{1,16})+|[a-z][a-z0-9]{0,15}(_[a-z0-9]{1,16})+)$")
# File paths are not secrets either: lower-case segments separated by slashes, a segment perhaps
# ending in the MD5 digest phx.digest gives assets (/assets/app-<32 hex>), the last perhaps a
# capitalised file name (priv/jit/api_service/Dockerfile, deploy/Procfile.web).
_SEGMENT = r"[a-z0-9_.-]{1,40}(-[0-9a-f]{32})?"
_FILE_NAME = r"[A-Z][a-z]{2,20}([.-][A-Za-z0-9]{1,20})*"
_PATH = lazy(rf"^/?{_SEGMENT}(/{_SEGMENT})*(/{_SEGMENT}|/{_FILE_NAME})/?$")


def credential_name(name: str) -> bool:
    """Whether a parameter or key name says its value is a credential (`token`, `api_key`, `sig`...)."""
    lowered = name.lower()
    return any(word in lowered for word in _CREDENTIAL_WORDS)


def redact(text: str) -> str:
    """Replace what looks like a secret with a marker: URL passwords, credential-named query parameters
    and values (whatever their length), and long random-looking tokens (keeping only their length)."""
    if not text:
        return text
    # Each pattern needs what most texts lack (`://`, `=`, a quote, 32 characters): without it, it is not run.
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"://{m.group(1)}:***@", text)
    if "=" in text:
        text = _QUERY_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}=…" if credential_name(m.group(2)) and m.group(3)
                                else m.group(0), text)
    if '"' in text or "'" in text:
        text = _NAMED_VALUE.sub(_named_value, text)
    if len(text) < 32:
        return text
    return _TOKEN.sub(
        lambda m: m.group(0) if _IDENTIFIER.match(m.group(0)) or _PATH.match(m.group(0))
        else f"<redacted {len(m.group(0))} chars>", text)


def redact_url(url: str) -> str:
    """A URL with its password and credential-named query parameters (?token=, &sig=) elided."""
    url = _URL_PASSWORD.sub(lambda m: f"://{m.group(1)}:***@", url)
    return _QUERY_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}=…" if credential_name(m.group(2)) and m.group(3)
                            else m.group(0), url)


_ENV_NAME = lazy(r"[A-Z_][A-Z0-9_]{0,127}")
_ENV_CALL = lazy(r"(?:get_env|fetch_env!?|env!?)\(\s*$")
_SIGIL_CLOSERS = {"(": ")", "[": "]", "{": "}", "<": ">"}


def elide_literals(code: str) -> str:
    """Source text with the content of every string, charlist, sigil and comment replaced by `…`.

    For showing a statement phoenix-ops could not evaluate (`Application.put_env(:joken, :signer,
    "…")`) or an undecided condition: any literal in it may be a credential, whatever its length.
    The name in `System.get_env("NAME")` stays: it is what the reader needs. A literal cut off by
    a truncated snippet is elided to the end. One pass, linear in the text.
    """
    out: list[str] = []
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if c in "\"'":
            delim = c * 3 if code.startswith(c * 3, i) else c
            start = i + len(delim)
            end = _closing(code, start, delim)
            content = code[start:end]
            keep = _ENV_NAME.fullmatch(content) and _ENV_CALL.search(code[max(0, i - 24):i])
            out.append(delim + (content if keep else "…") + (delim if end < n else ""))
            i = end + len(delim)
        elif c == "~" and i + 2 < n and code[i + 1].isalpha() and not code[i + 2].isalnum():
            opener = code[i + 2]
            delim = code[i + 2:i + 5] if code.startswith(opener * 3, i + 2) and opener in "\"'" else opener
            end = _closing(code, i + 2 + len(delim), _SIGIL_CLOSERS.get(opener, delim))
            out.append(code[i:i + 2] + delim + "…" + (_SIGIL_CLOSERS.get(opener, delim) if end < n else ""))
            i = end + len(_SIGIL_CLOSERS.get(opener, delim))
        elif c == "#" and not code.startswith("#{", i):
            stop = code.find("\n", i)
            out.append("# …")
            i = n if stop < 0 else stop
        elif c == "?" and i + 1 < n and (i == 0 or not (code[i - 1].isalnum() or code[i - 1] in "_!?")):
            width = 3 if code[i + 1] == "\\" else 2  # a character literal: ?" is not a quote
            out.append(code[i:i + width])
            i += width
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _closing(code: str, start: int, delim: str) -> int:
    """Where `delim` closes a literal opened before `start` (backslash escapes skipped); len(code) if never."""
    i = start
    while i < len(code):
        if code[i] == "\\":
            i += 2
        elif code.startswith(delim, i):
            return i
        else:
            i += 1
    return len(code)


def _named_value(m: re.Match) -> str:
    name, sep, value = m.groups()
    if not credential_name(name) or value[1:-1] in ("", "…", "***"):
        return m.group(0)
    return f"{name}{sep}{value[0]}…{value[0]}"


# Finding.suppressed of what a baseline hides (SARIF reports it as an external suppression).
BASELINE_REASON = "baseline"


@record
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
        import hashlib  # only reports and baselines need it: not imported on every start

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
