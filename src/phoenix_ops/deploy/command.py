"""`phoenix-ops deploy`, `deploy status`, `deploy --resume` and `rollback`, over the journal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from phoenix_ops.command import UsageError
from phoenix_ops.deploy import migrations, platform, remote, upload
from phoenix_ops.deploy.engine import Deployer, DeployFailed
from phoenix_ops.deploy.gates import GateFailed
from phoenix_ops.deploy.journal import Journal, Run
from phoenix_ops.deploy.plan import Plan, load_plan
from phoenix_ops.deploy.remote import RemoteError
from phoenix_ops.release.artifact import contents

JOURNAL = ".phoenix-ops/deploy.jsonl"
# A host the rollback could not reach is left as it was, out of the balancer, until it answers again.
WHEN_BACK = ("`rollback` puts back what every host ran before, or `deploy --resume` starts this deploy over "
             "on every host")


def journal_for(root: Path) -> Journal:
    return Journal(root / JOURNAL)


def _must_exist(tarball: Path) -> None:
    if not tarball.is_file():
        raise UsageError(f"{tarball}: no release tarball (build one with `mix release`; it is in _build/prod/)")


def dry_run(root: Path, tarball: Path) -> str:
    plan = load_plan(root)
    _must_exist(tarball)
    release = contents(tarball)
    app, version = release.name, release.version
    host = plan.hosts[0]
    lines = [f"deploy {app} {version} to {len(plan.hosts)} host(s), strategy {plan.strategy}"
             + (f", batches of {plan.batch}" if plan.strategy == "rolling" else ""),
             *(f"  host {h.user}@{h.label}: release root {h.root}, HTTP {h.url()}" for h in plan.hosts),
             f"  balancer: {plan.balancer.upstream_file} (upstream {plan.balancer.upstream}), then "
             f"`{plan.balancer.reload}`" if plan.balancer else "  balancer: none",
             f"  gates: {plan.ready} answers 200; sessions of old nodes accepted (on {plan.session_page}); every "
             f"digested asset answers on every node" + ("; canary error rate and latency" if plan.strategy == "canary"
                                                        else "")
             + ("; with distribution on, the new node lists the running ones in erlang:nodes()"
                if plan.strategy != "blue-green" else ""),
             "", f"commands on each host (shown for {host.label}):",
             f"  install: which release there says what it holds: {upload.base_script(host, version)}",
             f"    when one does, only the files it lacks are sent, as a small tar, and the rest of the release's "
             f"{len(release.files):,} files ({sum(f.size for f in release.files) / 1e6:.1f} MB) hard-linked from it "
             "(one `cp -l --parents` per pair of directories), every file checked against the new manifest, the release renamed into place",
             f"    otherwise ({tarball}, {tarball.stat().st_size / 1e6:.1f} MB, streamed to it): "
             f"{upload.full_script(host, version, release)}"
             + (f"; then its manifest: {upload.manifest_script(host, version, release)}" if release.listed else "")]
    if plan.migrate:
        lines.append(f"  migrate (first host only): {remote.migrate_script(plan, host, version)}")
    lines += [f"  stop: {remote.stop_script(host, 'main', plan.stop_timeout, quiet_port=host.port)}",
              f"  switch and start: {remote.switch_script(host, version)}; "
              f"{remote.start_script(plan, host, app, version, 'main', host.port)}"]
    if plan.strategy != "blue-green":
        lines += [f"  joined: {remote.node_script(plan, host, app, version, 'main', host.port)}",
                  "    then, through this SSH connection, the host's EPMD and the node's distribution port: "
                  "erlang:nodes() asked as a hidden node with the release's cookie"]
    if plan.keep_releases:
        lines.append(f"  once finished, releases beyond the last {plan.keep_releases} removed (never one that runs, "
                     f"`current`, or what a rollback restores): {remote.prune_script(host, plan.keep_releases, set())}")
    return "\n".join(lines) + "\n"


def deploy(root: Path, tarball: Path | None, *, resume: bool, say: Callable[[str], None],
           ssh: dict | None = None, allow_unsafe_migrations: bool = False) -> str:
    plan = load_plan(root)
    journal = journal_for(root)
    run = None
    if resume:
        run = journal.last()
        if run is None or run.result not in (None, "failed"):
            raise UsageError("nothing to resume: the last deploy " + (f"{run.result}" if run else "never started"))
        tarball = Path(run.tarball)
    if tarball is None:
        raise UsageError("deploy needs the release tarball (or --resume)")
    _must_exist(tarball.resolve())
    gate = None if allow_unsafe_migrations or not plan.migrate else root
    return asyncio.run(_deploy(plan, journal, tarball.resolve(), run, say, ssh or {}, gate))


async def _deploy(plan: Plan, journal: Journal, tarball: Path, run: Run | None, say, ssh: dict,
                  migration_gate: Path | None) -> str:
    d = Deployer(plan, journal, "", tarball, "", say, ssh)
    started = time.monotonic()
    try:
        # The release's listing and content hashes (a second or more on a busy machine) are read while the hosts connect
        # and say what they run; a tarball that is no release ends the command at once.
        connecting = asyncio.ensure_future(_connect_and_read(d) if run is None else _connect(d))
        try:
            d.contents = await asyncio.to_thread(contents, tarball)
            app, version = d.app, d.version = d.contents.name, d.contents.version
        except BaseException:
            connecting.cancel()
            await asyncio.gather(connecting, return_exceptions=True)
            raise
        previous = await connecting
        if run is None:
            if migration_gate is not None:
                await _refuse_unsafe_migrations(d, migration_gate, tarball)
            run = Run(f"{int(time.time())}-{version}", str(tarball), version, previous, strategy=plan.strategy,
                      app=app)
            journal.write(deploy=run.id, event="start", tarball=run.tarball, version=version, previous=previous,
                          strategy=plan.strategy, app=app)
        d.run = run
        try:
            await d.upload(run.previous)
        except (RemoteError, OSError) as exc:
            journal.write(deploy=run.id, event="end", result="failed", reason=str(exc))
            raise DeployFailed(f"{exc}; no host was switched, every node runs what it ran before; once the "
                               "host takes the release, `deploy --resume` finishes the uploads and rolls out",
                               True) from None
        try:
            await d.deploy(run.previous)
        except (RemoteError, GateFailed, OSError) as exc:
            say(f"failed: {exc}; rolling back")
            problems, lost = await d.rollback(run.previous)
            journal.write(deploy=run.id, event="end", result="failed" if problems else "rolled back", reason=str(exc),
                          problems=problems, unreachable=lost)
            raise DeployFailed(f"{exc}; " + (_incomplete(problems, lost) if problems
                                            else "rolled back: the previous version serves"), not problems) from None
        await d.prune(run.previous)
        journal.write(deploy=run.id, event="end", result="finished")
        return f"deployed {app} {version} to {len(plan.hosts)} host(s) in {time.monotonic() - started:.1f} s\n"
    finally:
        await d.close()


def _incomplete(problems: list[str], lost: list[str]) -> str:
    what = "rollback incomplete: " + "; ".join(problems)
    if lost:
        what += f"; when {', '.join(lost)} answer(s) again, {WHEN_BACK}"
    return what


async def _refuse_unsafe_migrations(d: Deployer, project: Path, tarball: Path) -> None:
    """Migrations in the new release that no host has yet, judged by the MIG rules."""
    host = d.plan.hosts[0]
    deployed = migrations.versions_in_listing(await d.session(host).run(migrations.listing_script(host.root)))
    pending = {v for v in migrations.versions_in_tarball(tarball) if v not in deployed}
    unsafe = migrations.unsafe_pending(project, pending)
    if unsafe:
        listed = "; ".join(f"{f.rule_id} {f.location.path}:{f.location.line} {f.message}" for f in unsafe[:5])
        raise DeployFailed(f"refused: {len(unsafe)} pending migration finding(s) break the old code that keeps "
                           f"serving during a {d.plan.strategy} deploy ({listed}); split the migration, or pass "
                           f"--allow-unsafe-migrations; nothing was changed", True)


async def _connect_and_read(d: Deployer) -> dict[str, dict[str, str]]:
    """Every host connected, and what each one runs (by host label)."""
    await _connect(d)
    states = await asyncio.gather(*(d.state(h) for h in d.plan.hosts))
    return {h.label: state for h, state in zip(d.plan.hosts, states)}


async def _connect(d: Deployer) -> None:
    """Every host must answer before anything changes: an unreachable one ends the command (exit 2)."""
    try:
        await d.connect()
    except RemoteError as exc:
        raise UsageError(f"{exc}; nothing was changed") from None


def rollback(root: Path, *, say, ssh: dict | None = None) -> str:
    journal = journal_for(root)
    run = journal.last()
    if run is None:
        raise UsageError("the journal records no deploy to roll back")
    if run.target != "ssh":
        return asyncio.run(platform.rollback_platform(root, platform.load_platform_plan(root, run.target), journal,
                                                      run, say))
    return asyncio.run(_rollback(load_plan(root), journal, run, say, ssh or {}))


def dry_run_platform(root: Path, target: str, image: str) -> str:
    return platform.dry_run_platform(root, platform.load_platform_plan(root, target), image)


def deploy_platform(root: Path, target: str, image: str | None, *, resume: bool, say: Callable[[str], None],
                    allow_unsafe_migrations: bool = False) -> str:
    """`deploy --target k8s|fly IMAGE`: the platform's rollout, pre-flighted, gated and journaled."""
    plan = platform.load_platform_plan(root, target)
    journal = journal_for(root)
    run = None
    if resume:
        run = journal.last()
        if run is None or run.result is not None or run.target != target:
            raise UsageError("nothing to resume: the last deploy " + (
                f"went to {run.target}" if run and run.target != target else
                f"{run.result}" if run else "never started"))
        image = run.version
    if not image:
        raise UsageError(f"deploy --target {target} needs the image to roll out (or --resume)")
    return asyncio.run(platform.run_platform(root, plan, journal, image, run, say, allow_unsafe_migrations))


async def _rollback(plan: Plan, journal: Journal, run: Run, say, ssh: dict) -> str:
    d = Deployer(plan, journal, run.app, Path(run.tarball), run.version, say, ssh, run=run)
    try:
        await _connect(d)
        problems, lost = await d.rollback(run.previous)
    finally:
        await d.close()
    journal.write(deploy=run.id, event="end", result="failed" if problems else "rolled back",
                  reason="rollback requested", problems=problems, unreachable=lost)
    if problems:
        raise DeployFailed(_incomplete(problems, lost), False)
    versions = sorted({v for s in run.previous.values() for k, v in s.items() if k not in ("current", "live")})
    return f"rolled back {run.version}: {', '.join(versions) or 'nothing'} serves again\n"


def status(root: Path) -> str:
    run = journal_for(root).last()
    if run is None:
        return "no deploy recorded\n"
    state = run.result or "interrupted (finish it with `deploy --resume`, or undo it with `rollback`)"
    where = "" if run.target == "ssh" else f" to {run.app} ({run.target})"
    lines = [f"deploy {run.id}: {run.version}{where} ({run.strategy}), {state}"]
    if run.reason:
        lines.append(f"  why: {run.reason}")
    if run.unreachable:
        lines.append(f"  not rolled back, out of the balancer (did not answer over SSH): {', '.join(run.unreachable)}; "
                     f"when they answer, {WHEN_BACK}")
    lines.append(f"  {len(run.done)} steps done" + (":" if run.done else ""))
    lines += [f"    {s}" for s in sorted(run.done)]
    return "\n".join(lines) + "\n"
