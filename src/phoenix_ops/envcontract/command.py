"""The `env` command behind cli.py: which mode, which project, which files, what output."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.command import Tail, from_here, project_heading


class EnvUsageError(ValueError):
    """Bad arguments to `env`: reported in one line, exit code 2."""


@dataclass
class EnvOptions:
    env: str | None = None  # contract: every environment unless given; check: prod unless given
    env_files: list[Path] = field(default_factory=list)


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

    if opts.env_files:
        raise EnvUsageError("--env-file is for `env check`")
    project, envs = _project_and_envs(path, opts.env)
    tail.emit(render_contract(build_contract(project, envs), tail.fmt, project.summary()))
    return 0


def run_check(path: Path, opts: EnvOptions, tail: Tail) -> int:
    """Judge the env files against the contract of one environment (prod unless given)."""
    from phoenix_ops.envcontract.check import EnvSet, check_env
    from phoenix_ops.envcontract.contract import build_contract
    from phoenix_ops.project.dotenv import read_env_file

    if not opts.env_files:
        raise EnvUsageError("env check needs at least one --env-file")
    env = opts.env or "prod"
    project, _ = _project_and_envs(path, env)
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
    contract = build_contract(project, [env])
    findings = check_env(contract, env, env_set)
    summary = project.summary()
    extra = {"project": summary, "env": env, "env_files": env_set.files, "contract_complete": contract.complete}
    if tail.fmt == "html":
        from phoenix_ops.envcontract.render import contract_table
        only_env = replace(contract, variables={v.name: v for v in contract.in_env(env)})
        extra["tables"] = [contract_table(only_env, set(env_set.final()))]
    return tail.finish(findings, tool="env check", rules=catalog("envfile"), extra=extra,
                       base=from_here(project.root), heading=project_heading(project.root, summary))


def _location(file: Path, root: Path) -> str:
    """Findings name files from the project root; an env file kept elsewhere by its absolute path."""
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(file.resolve())
