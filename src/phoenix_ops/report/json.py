"""JSON output with a versioned schema, for machines."""

from __future__ import annotations

import json
from collections.abc import Sequence

from phoenix_ops import __version__
from phoenix_ops.findings import Finding

SCHEMA_VERSION = 1


def render_json(findings: Sequence[Finding], *, tool: str, extra: dict | None = None) -> str:
    shown = [f for f in findings if not f.suppressed]
    doc = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "phoenix-ops", "version": __version__, "command": tool},
        **(extra or {}),
        "findings": [f.to_dict() for f in shown],
        "suppressed": [dict(f.to_dict(), reason=f.suppressed) for f in findings if f.suppressed],
        "summary": {s: sum(1 for f in shown if f.severity.label == s) for s in ("error", "warning", "info")},
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"
