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
from phoenix_ops.release.boot import BOOTED, Booted, boot_and_stop, free_port
from phoenix_ops.release.checks import EvalResult, run_eval_checks

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
    evaluated: EvalResult  # what the release's runtime checks judged (their rules' subject)
    booted: Booted  # what the boot judged
    checked: dict = field(default_factory=dict)  # the checklist's facts: rules not run, or with nothing to judge


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


class LoopbackProbe:
    """The probe of the booted release: its findings for the boot's report, its result for the checklist."""

    def __init__(self, paths: list[str]):
        from phoenix_ops.live.target import ProbeOptions

        self.options = ProbeOptions(timeout=3.0, health_paths=tuple(paths))
        self.results: list = []

    def __call__(self, url: str) -> list[Finding]:
        from phoenix_ops.live.probe import probe_target
        from phoenix_ops.live.target import build_targets

        result = asyncio.run(probe_target(build_targets([url + "/"], self.options)[0], self.options))
        self.results.append(result)
        return [f for f in result.findings if f.rule_id not in NOT_ON_LOOPBACK]


def checklist_facts(opts: VerifyOptions, run: Verification, probe: LoopbackProbe | None) -> dict:
    """What the checklist says did not run, or had nothing to judge, and why."""
    from phoenix_ops.catalog import catalog
    from phoenix_ops.command import checked
    from phoenix_ops.live.command import not_run as probe_not_run

    rules = catalog("release", "envfile", "probe")
    probe_rules = catalog("probe").ids()
    skipped = {} if opts.project and opts.env_files else \
        dict.fromkeys(catalog("envfile").ids(), "needs --project (the env contract) and --env-file")
    if probe is None:
        skipped |= dict.fromkeys(probe_rules, "--no-probe")
    elif not probe.results:
        skipped |= dict.fromkeys(probe_rules, "the release never answered on its port")
    else:
        skipped |= probe_not_run(probe.results, probe.options)
        skipped |= dict.fromkeys(NOT_ON_LOOPBACK, "needs TLS, a public name or a proxy: not judged on loopback")
    return checked(rules, {"release": [run], "probe": probe.results if probe else []}, skipped)


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
        probe = LoopbackProbe(paths) if opts.probe else None
        booted = boot_and_stop(release, env, port, paths, timeout=opts.timeout, budget=budget,
                               log=scratch_dir / "boot.log", while_up=probe)
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
    run = Verification(sorted(findings, key=Finding.sort_key), facts, evaluated, booted)
    run.checked = checklist_facts(opts, run, probe)
    return run
