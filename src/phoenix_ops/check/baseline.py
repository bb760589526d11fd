"""Baselines: record today's findings by fingerprint, so `check` reports only new ones.

A fingerprint holds the rule, the file (or URL, node) and what the finding is about, never the
line, so a baselined finding stays hidden when code above it moves, while a new finding of the
same rule elsewhere is reported. The file is JSON, sorted and without timestamps, so that
rewriting it after a change gives a small, reviewable diff.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from phoenix_ops import __version__
from phoenix_ops.findings import BASELINE_REASON, Finding
from phoenix_ops.reading import read_regular

VERSION = 1


class BaselineError(ValueError):
    """The baseline file cannot be used."""


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Record the fingerprints of `findings`; return how many distinct ones were written."""
    import json  # JSON only when a baseline is used: not on every start

    entries = {f.fingerprint: {"fingerprint": f.fingerprint, "rule_id": f.rule_id,
                               "location": f.location.subject, "message": f.message}
               for f in findings}
    doc = {
        "version": VERSION,
        "tool": {"name": "phoenix-ops", "version": __version__},
        "findings": sorted(entries.values(), key=lambda e: (e["rule_id"], e["location"], e["fingerprint"])),
    }
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(entries)


def load_baseline(path: Path) -> set[str]:
    """The fingerprints recorded in `path`."""
    import json

    try:
        doc = json.loads(read_regular(path, 64 * 1024 * 1024))
    except FileNotFoundError:
        raise BaselineError(f"baseline {path} does not exist (create it with --write-baseline)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline {path} cannot be read: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise BaselineError(f"baseline {path} is not a phoenix-ops baseline of version {VERSION}")
    entries = doc.get("findings")
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries):
        raise BaselineError(f"baseline {path} is damaged: `findings` must list objects with a fingerprint")
    return {e["fingerprint"] for e in entries}


def apply_baseline(findings: Iterable[Finding], fingerprints: set[str]) -> None:
    for f in findings:
        if not f.suppressed and f.fingerprint in fingerprints:
            f.suppressed = BASELINE_REASON
