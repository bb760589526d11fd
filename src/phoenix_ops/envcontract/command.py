"""The `env` command behind cli.py: which mode, which project, which files, what output."""

from __future__ import annotations

from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.command import Tail, from_here, project_heading
from phoenix_ops.record import field, record, replace


class EnvUsageError(ValueError):
    """Bad arguments to `env`: reported in one line, exit code 2."""


@record
class EnvOptions:
    env: str | None = None  # contract: every environment unless given; check: prod unless given
    env_files: list[Path] = field(default_factory=list)
    targets: list[Path] = field(default_factory=list)  # deploy files or folders (fly.toml, deploy/k8s/)


def split_args(args: list[str]) -> tuple[bool, Path]:
    """(check mode, project path) from `[check] [PATH]`; a directory named check is `./check`."""
    check = bool(args) and args[0] == "check"
    rest = args[1:] if check else args
    if len(rest) > 1:
        raise EnvUsageError(f"expected at most one project path, got {' '.join(rest)}")
    return check, Path(rest[0] if rest else ".")


def formats(check: bool) -> tuple[str, ...]:
    """What `env` writes (the contract) and what `env check` writes (findings)."""
    if check:
        from phoenix_ops.report import FORMATS
        return FORMATS
    from phoenix_ops.envcontract.render import FORMATS
    return FORMATS


def _project_and_envs(path: Path, env: str | None):
    from phoenix_ops.envcontract.contract import environments
    from phoenix_ops.project import load_project

    project = load_project(path, env=env or "prod")
    known = environments(project)
    if env is not None and env not in known:
        raise EnvUsageError(f"no environment {env!r} in {project.root} (it has {', '.join(known)})")
    return project, [env] if env else known


def run_contract(path: Path, opts: EnvOptions, tail: Tail) -> int:
    """Print the contract; always exit 0."""
    from phoenix_ops.envcontract.contract import build_contract
    from phoenix_ops.envcontract.render import render_contract

    if opts.env_files or opts.targets:
        raise EnvUsageError(f"{'--env-file' if opts.env_files else '--target'} is for `env check`")
    project, envs = _project_and_envs(path, opts.env)
    tail.emit(render_contract(build_contract(project, envs), tail.fmt, project.summary()))
    return 0


def run_check(path: Path, opts: EnvOptions, tail: Tail) -> int:
    """Judge the env files against the contract of one environment (prod unless given)."""
    from phoenix_ops.envcontract.check import EnvSet, check_env
    from phoenix_ops.envcontract.contract import build_contract
    from phoenix_ops.project.dotenv import read_env_file

    if not opts.env_files and not opts.targets:
        raise EnvUsageError("env check needs at least one --env-file or --target")
    env = opts.env or "prod"
    project, _ = _project_and_envs(path, env)
    contract = build_contract(project, [env])
    findings = _target_findings(project, contract, env, opts.targets) if opts.targets else []
    env_set = EnvSet([])
    for file in opts.env_files:
        name = _location(file, project.root)
        try:
            entries, malformed = read_env_file(file, name)
        except OSError as exc:
            raise EnvUsageError(f"{file}: cannot read env file ({exc.strerror or exc})") from None
        env_set.files.append(name)
        env_set.entries += entries
        env_set.malformed += malformed
    if opts.env_files:
        findings += check_env(contract, env, env_set)
    summary = project.summary()
    extra = {"project": summary, "env": env, "env_files": env_set.files, "contract_complete": contract.complete}
    if tail.fmt == "html":
        from phoenix_ops.envcontract.render import contract_table
        only_env = replace(contract, variables={v.name: v for v in contract.in_env(env)})
        extra["tables"] = [contract_table(only_env, set(env_set.final()))]
    return tail.finish(findings, tool="env check", rules=catalog("envfile"), extra=extra,
                       base=from_here(project.root), heading=project_heading(project.root, summary))


def _target_findings(project, contract, env: str, wanted: list[Path]):
    from phoenix_ops.envcontract.targets import check_target, select_targets

    # A relative path names a file from the current directory, or else from the project root.
    paths = [w.as_posix() if not w.is_absolute() and not w.exists() else _location(w, project.root) for w in wanted]
    targets, unmatched = select_targets(project.deploy.targets(), paths)
    if unmatched:
        known = ", ".join(sorted({t.path for t in project.deploy.targets()})) or "none"
        raise EnvUsageError(f"--target {unmatched[0]}: no deploy target there (deploy files found: {known})")
    return [f for t in targets for f in check_target(contract, env, t)]


def _location(file: Path, root: Path) -> str:
    """Findings name files from the project root; an env file kept elsewhere by its absolute path."""
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(file.resolve())
