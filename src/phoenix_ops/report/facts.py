"""The facts a command hands a report, as (label, text) pairs a person reads: no Python values."""

from __future__ import annotations

from collections.abc import Callable, Mapping

# Labels of the facts commands report; any other key is shown with its words spelled out.
LABELS = {
    "root": "Project directory",
    "app": "Application",
    "apps": "Applications",
    "umbrella": "Umbrella project",
    "env": "Environment audited",
    "phoenix": "Phoenix version",
    "release_mode": "Deployed as",
    "run_mode": "Runs in production as",
    "repo_prefix": "Path in its repository",
    "disabled_rules": "Rules disabled by .phoenix-ops.toml",
    "env_files": "Env files checked",
    "contract_complete": "Every config statement read",
    "nodes": "Nodes found",
    "members": "Cluster members",
    "partitions": "Partitions",
    "expected_nodes": "Nodes expected",
    "cookie": "Cookie taken from",
    "seconds": "Time taken",
    "score": "Score",
    "page_url": "Page probed",
    "status": "HTTP status",
    "tls_version": "TLS version",
    "certificate_days_left": "Certificate expires in",
    "hsts_max_age": "HSTS max-age",
    "csp_strong": "Strict Content-Security-Policy",
    "session_cookie": "Session cookie",
    "phoenix_headers": "Phoenix security headers",
    "health_paths": "Health endpoints answering",
    "sockets": "WebSocket endpoints",
    "digested_assets": "Digested assets",
    "https_redirect": "Redirects from HTTP to HTTPS",
    "cookies": "Other cookies set",
    "plain_static": "Plain static files served (robots.txt, favicon.ico)",
    "check_seconds": "Checks finished",
}
_SKIP_EMPTY = {"apps"}  # the applications of an umbrella: nothing to say of a single app
_RELEASE_MODES = {"release": "a Mix release", "mix": "mix phx.server (no release)"}


def _run_mode(value: object) -> str:
    """{mode, evidence} -> the mode in words and the files that show it."""
    if not isinstance(value, Mapping):
        return text(value)
    evidence = value.get("evidence") or []
    if value.get("mode") == "unknown" or not evidence:
        unclear = value.get("unclear") or []
        shown = f"{unclear[0]} starts something the audit cannot follow" if unclear else "no file shows it"
        return f"unknown: {shown}, so release rules assume a release at low confidence"
    return f"{_RELEASE_MODES.get(str(value.get('mode')), text(value.get('mode')))} ({'; '.join(map(str, evidence))})"


def _days(seconds: object) -> str:
    if not isinstance(seconds, (int, float)):
        return text(seconds)
    days = seconds / 86400
    return f"{days:g} days" if days >= 1 else f"{seconds:g} s"


def _checks(seconds: object) -> str:
    """{check: seconds} -> how many finished and which was slowest."""
    if not isinstance(seconds, Mapping) or not seconds:
        return "none"
    slowest = max(seconds, key=lambda k: seconds[k])
    return f"{len(seconds)} (slowest: {slowest}, {seconds[slowest]:.2f} s)"


_FORMATS: dict[str, Callable[[object], str]] = {
    "certificate_days_left": lambda v: f"{v} days" if isinstance(v, int) else text(v),
    "hsts_max_age": _days,
    "check_seconds": _checks,
    "release_mode": lambda v: _RELEASE_MODES.get(str(v), text(v)),
    "run_mode": _run_mode,
}


def label(key: str) -> str:
    return LABELS.get(key) or key.replace("_", " ").strip().capitalize()


def text(value: object) -> str:
    """A value in words: yes/no for booleans, lists joined, nested facts as `label: value`."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return "; ".join(f"{label(str(k))}: {text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(text(v) for v in value) or "none"
    return str(value)


def rows(facts: Mapping[str, object], skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(label, text) for each fact worth a line: empty strings and skipped keys are left out."""
    out = []
    for key, value in facts.items():
        if key in skip or value == "" or (key in _SKIP_EMPTY and not value):
            continue
        out.append((label(key), _FORMATS.get(key, text)(value)))
    return out
