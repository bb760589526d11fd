"""The env contract per deploy target: what each fly app, Kubernetes workload, compose service, systemd
unit or render service hands the release, judged like an env file.

A target's variables come from every file that feeds it (Dockerfile ENV, fly `[env]`, a
Kubernetes `env` list and the Secrets and ConfigMaps written beside it, compose `environment` and
`env_file`, systemd `Environment=`, render `envVars`, PHX_SERVER from the release's `bin/server`).
Where more may come from somewhere no file shows (`fly secrets`, an `envFrom` Secret, an
`EnvironmentFile=`), a required variable not seen is unknown, reported at low confidence, never missing.
"""

from __future__ import annotations

from phoenix_ops.envcontract.check import (
    CONTRACT_INCOMPLETE,
    REQUIRED_MISSING,
    UNKNOWN_VARIABLE,
    EnvSet,
    check_env,
)
from phoenix_ops.envcontract.contract import Contract
from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.project.deploy.targets import Target
from phoenix_ops.project.dotenv import Entry

# The image, scripts and platform set much more than the config reads.
_SET_ELSEWHERE = ("dockerfile", "bin/server", "platform")


def target_env_set(t: Target) -> EnvSet:
    """The target's variables as env-file entries; values held in Secrets are present but unknown."""
    entries = [Entry(p.name, p.value if p.how in ("env", "dockerfile", "bin/server", "env_file", "value")
                     else None, p.path, p.line) for p in t.env.values()]
    return EnvSet([t.path], entries)


def check_target(contract: Contract, env: str, t: Target) -> list[Finding]:
    """The env-file rules on one target, each finding naming it."""
    out = []
    elsewhere = {p.name for p in t.env.values() if p.how in _SET_ELSEWHERE}
    for f in check_env(contract, env, target_env_set(t)):
        if f.rule_id != REQUIRED_MISSING.id and f.key in elsewhere:
            continue  # a Dockerfile's LANG or MIX_ENV is not a typo of a config variable
        if f.rule_id == REQUIRED_MISSING.id:
            f = _missing(f, t, env)
        else:
            f.message = f"{t.label}: {f.message}"
        out.append(f)
    return out


def _missing(f: Finding, t: Target, env: str) -> Finding:
    at = Location(path=t.path, line=t.line)
    if t.open_env:
        return REQUIRED_MISSING.finding(
            f"{t.label}: {f.key} is required in {env} and not in its files; it may come from "
            f"{'; '.join(t.open_env)}", at, key=f"{t.label}:{f.key}", severity=Severity.INFO,
            confidence=Confidence.LOW,
            hint=f"Make sure {f.key} is set in {t.open_env[0].split(' (')[0]}.")
    return REQUIRED_MISSING.finding(f"{t.label}: {f.message}", at, key=f"{t.label}:{f.key}",
                                    severity=f.severity, confidence=f.confidence)


def select_targets(targets: list[Target], wanted: list[str]) -> tuple[list[Target], list[str]]:
    """Targets whose file is one of `wanted` (paths from the project root) or lies under one of them;
    the entries that matched none."""
    chosen, unmatched = [], []
    for w in wanted:
        w = w.strip("/").removeprefix("./")
        found = [t for t in targets if t.path == w or t.path.startswith(w + "/") or w in ("", ".")]
        if not found:
            unmatched.append(w)
        chosen += [t for t in found if t not in chosen]
    return chosen, unmatched


def targets_findings(project, contract: Contract, env: str) -> list[Finding]:
    """What `check` reports: the variables each deploy target lacks (and values it gets wrong); what
    concerns the contract itself, or names the config does not read, is for `env check`."""
    skipped = {CONTRACT_INCOMPLETE.id, UNKNOWN_VARIABLE.id}
    return [f for t in project.deploy.targets() if t.platform != "docker"
            for f in check_target(contract, env, t) if f.rule_id not in skipped]
