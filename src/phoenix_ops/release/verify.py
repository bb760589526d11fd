"""`release verify`: the env contract, the release's own runtime checks, a real boot on loopback, a
probe of what makes sense without TLS, and a graceful stop measured against the shutdown budget."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from phoenix_ops.findings import Finding, Location
from phoenix_ops.record import field, record
from phoenix_ops.release.artifact import open_release
from phoenix_ops.release.boot import BOOTED, boot_and_stop, free_port
from phoenix_ops.release.checks import run_eval_checks

DEFAULT_BUDGET = 30.0  # seconds a platform waits after SIGTERM when nothing says otherwise
# Probe rules that need TLS, a public name or a proxy in front: meaningless on a loopback port
# (redirects, HSTS, TLS, Secure cookies, the grade; WebSocket origins are judged against the public host).
NOT_ON_LOOPBACK = {"WEB100", "WEB101", "WEB102", "WEB103", "WEB104", "WEB105", "WEB106", "WEB107", "WEB108",
                   "WEB115", "WEB117", "WEB118", "WEB119", "WEB149"}


@record
class VerifyOptions:
    release: Path
    env_files: list[Path] = field(default_factory=list)
    project: Path | None = None
    health: list[str] = field(default_factory=list)
    timeout: float = 60.0  # boot to the first answer
    budget: float | None = None  # graceful stop; from the project's stop budget when None
    probe: bool = True


@record
class Verification:
    findings: list[Finding]
    facts: dict


def _env_file_entries(opts: VerifyOptions) -> tuple[dict[str, str], object]:
    from phoenix_ops.envcontract.check import EnvSet
    from phoenix_ops.project.dotenv import read_env_file

    env_set = EnvSet([])
    for file in opts.env_files:
        entries, malformed = read_env_file(file)
        env_set.files.append(str(file))
        env_set.entries += entries
        env_set.malformed += malformed
    values = {k: e.value for k, e in env_set.final().items() if e.value is not None}
    return values, env_set


def _contract_findings(opts: VerifyOptions, env_set) -> tuple[list[Finding], list[str], float | None]:
    """Env-file findings, the project's health paths, and its stop budget (when --project is given)."""
    if opts.project is None:
        return [], [], None
    from phoenix_ops.envcontract.check import check_env
    from phoenix_ops.envcontract.contract import build_contract
    from phoenix_ops.gen.facts import app_facts
    from phoenix_ops.project import load_project

    project = load_project(opts.project, env="prod")
    findings = check_env(build_contract(project, ["prod"]), "prod", env_set) if opts.env_files else []
    facts = app_facts(project)
    return findings, [facts.health_path] if facts.health_path else [], float(facts.stop_seconds)


def _probe(url: str, paths: list[str]) -> list[Finding]:
    from phoenix_ops.live.probe import probe_target
    from phoenix_ops.live.target import ProbeOptions, build_targets

    options = ProbeOptions(timeout=3.0, health_paths=tuple(paths))
    result = asyncio.run(probe_target(build_targets([url + "/"], options)[0], options))
    return [f for f in result.findings if f.rule_id not in NOT_ON_LOOPBACK]


def verify_release(opts: VerifyOptions, progress) -> Verification:
    values, env_set = _env_file_entries(opts)
    findings, project_paths, project_budget = _contract_findings(opts, env_set)
    paths = opts.health or project_paths or ["/"]
    budget = opts.budget or project_budget or DEFAULT_BUDGET
    with tempfile.TemporaryDirectory(prefix="phoenix-ops-verify-") as scratch:
        scratch_dir = Path(scratch)
        progress.update("opening the release")
        release = open_release(opts.release, scratch_dir)
        port = free_port()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": scratch,
               **values, "PHX_SERVER": "true", "PORT": str(port), "RELEASE_TMP": scratch,
               "RELEASE_DISTRIBUTION": "none", "RELEASE_NODE": f"verify-{port}",
               "ERL_CRASH_DUMP": str(scratch_dir / "erl_crash.dump")}  # never litter the release
        progress.update(f"bin/{release.name} eval: crypto, CA store, encoding, tzdata")
        evaluated = run_eval_checks(release, env, timeout=opts.timeout)
        findings += evaluated.findings
        progress.update(f"booting {release.name} {release.version} on 127.0.0.1:{port}")
        booted = boot_and_stop(release, env, port, paths, timeout=opts.timeout, budget=budget,
                               log=scratch_dir / "boot.log",
                               while_up=(lambda url: _probe(url, paths)) if opts.probe else None)
        findings += booted.findings
    answers = ", ".join(f"{p} {s or 'no answer'}" for p, s in booted.answers.items()) or "none asked"
    boot = f"booted in {booted.boot_seconds:g} s" if booted.boot_seconds is not None else "did not boot"
    stop = "killed after the budget" if booted.stop_seconds is None else \
        f"stopped {booted.stop_seconds:g} s after SIGTERM" if booted.boot_seconds is not None else "exited on its own"
    findings.append(BOOTED.finding(f"{release.name} {release.version}: {boot}; answers: {answers}; {stop} "
                                   f"(budget {budget:g} s)", Location(path=f"bin/{release.name}"), key="measured"))
    facts = {"release": release.name, "version": release.version, "boot_seconds": booted.boot_seconds,
             "stop_seconds": booted.stop_seconds, "budget_seconds": budget, "answers": booted.answers,
             "runtime_checks": evaluated.passed}
    return Verification(sorted(findings, key=Finding.sort_key), facts)
