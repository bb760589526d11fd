"""The `env` command behind cli.py: which mode, which project, which files, what output."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.findings import Severity


class EnvUsageError(ValueError):
    """Bad arguments to `env`: reported in one line, exit code 2."""


@dataclass
class EnvOptions:
    env: str | None = None  # contract: every environment unless given; check: prod unless given
    fmt: str = "text"
    env_files: list[Path] = field(default_factory=list)
    fail_level: str = "warning"
    color: bool = False


def split_args(args: list[str]) -> tuple[bool, Path]:
    """(check mode, project path) from `[check] [PATH]`; a directory named check is `./check`."""
    check = bool(args) and args[0] == "check"
    rest = args[1:] if check else args
    if len(rest) > 1:
        raise EnvUsageError(f"expected at most one project path, got {' '.join(rest)}")
    return check, Path(rest[0] if rest else ".")


def run_env(args: list[str], opts: EnvOptions) -> tuple[str, int]:
    """The text to print and the exit code."""
    check, path = split_args(args)
    if not check and opts.env_files:
        raise EnvUsageError("--env-file is for `env check`")
    fail_level = Severity.parse(opts.fail_level)
    return _check(path, opts, fail_level) if check else _contract(path, opts)


def _project_and_envs(path: Path, env: str | None):
    from phoenix_ops.envcontract.contract import environments
    from phoenix_ops.project import load_project

    project = load_project(path, env=env or "prod")
    known = environments(project)
    if env is not None and env not in known:
        raise EnvUsageError(f"no environment {env!r} in {project.root} (it has {', '.join(known)})")
    return project, [env] if env else known


def _contract(path: Path, opts: EnvOptions) -> tuple[str, int]:
    from phoenix_ops.envcontract.contract import build_contract
    from phoenix_ops.envcontract.render import FORMATS, render_contract

    if opts.fmt not in FORMATS:
        raise EnvUsageError(f"unknown format {opts.fmt!r} for env (use {', '.join(FORMATS)})")
    project, envs = _project_and_envs(path, opts.env)
    return render_contract(build_contract(project, envs), opts.fmt, project.summary()), 0


def _check(path: Path, opts: EnvOptions, fail_level: Severity) -> tuple[str, int]:
    from phoenix_ops.envcontract.check import EnvSet, check_env
    from phoenix_ops.envcontract.contract import build_contract
    from phoenix_ops.envcontract.dotenv import read_env_file
    from phoenix_ops.report import FORMATS, render

    if opts.fmt not in FORMATS:
        raise EnvUsageError(f"unknown format {opts.fmt!r} for env check (use {', '.join(FORMATS)})")
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
    extra = {"project": project.summary(), "env": env, "env_files": env_set.files,
             "contract_complete": contract.complete}
    if opts.fmt == "html":
        from phoenix_ops.envcontract.render import contract_table
        only_env = replace(contract, variables={v.name: v for v in contract.in_env(env)})
        extra["tables"] = [contract_table(only_env, set(env_set.final()))]
    text = render(findings, opts.fmt, tool="env check", color=opts.color, extra=extra, rules=catalog("envfile"))
    return text, 1 if any(f.severity >= fail_level for f in findings) else 0


def _location(file: Path, root: Path) -> str:
    """Findings name files from the project root; an env file kept elsewhere by its absolute path."""
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(file.resolve())
