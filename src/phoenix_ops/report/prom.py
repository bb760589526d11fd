"""Findings as Prometheus text for the node exporter's textfile collector (`--prom-file`).

    phoenix_ops_findings{command="jobs",rule="JOB102",rule_name="oban-queue-stalled",severity="error"} 1
    phoenix_ops_last_run_timestamp_seconds{command="jobs"} 1.7e+09

Every rule the command can report gets a series, 0 when it found nothing, so an alert on it
resolves when the condition goes; suppressed findings are not counted. Written atomically: the
collector never reads half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from phoenix_ops.findings import Finding
from phoenix_ops.rule import Rule


def render_prom(findings: Sequence[Finding], command: str, rules: Mapping[str, Rule] | Iterable[Rule], *,
                now: float | None = None) -> str:
    """`rules`: the command's rules, as a dict by id or a Catalog (which iterates Rules)."""
    registry = CollectorRegistry()
    found = Gauge("phoenix_ops_findings", "Findings of the last phoenix-ops run, by rule and severity.",
                  ["command", "rule", "rule_name", "severity"], registry=registry)
    last = Gauge("phoenix_ops_last_run_timestamp_seconds", "When phoenix-ops last exported this command's findings.",
                 ["command"], registry=registry)
    counts = Counter((f.rule_id, f.name, f.severity.label) for f in findings if not f.suppressed)
    listed = rules.values() if isinstance(rules, dict) else rules
    for r in sorted(listed, key=lambda r: r.id):
        if not any(key[0] == r.id for key in counts):
            found.labels(command, r.id, r.name, r.severity.label).set(0)
    for (rule_id, name, severity), n in sorted(counts.items()):
        found.labels(command, rule_id, name, severity).set(n)
    last.labels(command).set(time.time() if now is None else now)
    return generate_latest(registry).decode()


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target, then rename over it; readable by the collector's user."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
