"""How the app runs in production, decided from evidence: a Mix release, or `mix phx.server`.

Release rules (the endpoint must be told to serve, migrations need a task) only apply to a release;
an app started with `mix phx.server` gets them wrong. Every file that says how the app is built or
started is evidence; with none, the mode is unknown and release rules speak with low confidence.
"""

from __future__ import annotations

from phoenix_ops.patterns import lazy
from phoenix_ops.record import field, record

RELEASE, MIX, UNKNOWN = "release", "mix", "unknown"
# `mix release`, also as a step of `mix do a + release` (not `mix phx.gen.release` or `release.init`).
_RELEASE_BUILD = lazy(r"\bmix\b[^\n;&|]*(?<![\w.])release(?![\w.])")
_RELEASE_START = lazy(r"(?:^|[\s/])bin/(?:server|migrate|[\w-]+\s+(?:start|foreground|daemon|start_iex|eval|"
                            r"console))\b|/bin/server\b")
_MIX_START = lazy(r"\bmix\s+(?:do\s+[\w.,\s]*)?phx\.server\b|\bmix\s+run\b|-S\s+mix\s+phx\.server")
_PROD = lazy(r"MIX_ENV=[\"']?prod")


def builds_a_release(command: str) -> bool:
    """Whether a command line (a RUN step, a script's line) builds a Mix release."""
    return bool(_RELEASE_BUILD.search(command))


def starts_the_app(command: str) -> bool:
    """Whether a command line starts the app: its release, or `mix phx.server`."""
    return bool(_RELEASE_START.search(command) or _MIX_START.search(command))


SCRIPT_DIRS = ("bin/", "scripts/", "script/", ".scripts/")
TASK_RUNNERS = ("Makefile", "justfile", "Justfile", "Taskfile.yml", "Taskfile.yaml", "build.sh", "deploy.sh")


@record(frozen=True)
class Evidence:
    mode: str  # release or mix
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.what}"


@record
class RunMode:
    mode: str  # release, mix or unknown
    evidence: list[Evidence] = field(default_factory=list)
    # Start commands the deploy files name that say neither (`cmd = ["app.start"]`, a script the
    # image holds): where to look when the mode is unknown.
    unclear: list[Evidence] = field(default_factory=list)

    @property
    def assumed(self) -> bool:
        """No file says how the app runs: release rules apply, with low confidence."""
        return self.mode == UNKNOWN

    def summary(self) -> dict:
        return {"mode": self.mode, "evidence": [str(e) for e in self.evidence],
                **({"unclear": [str(e) for e in self.unclear]} if self.assumed and self.unclear else {})}


def run_mode(project) -> RunMode:
    seen = [*_mix_and_rel(project), *_deploy(project), *_scripts(project)]
    found = [e for e in seen if e.mode != UNKNOWN]
    modes = {e.mode for e in found}
    mode = RELEASE if RELEASE in modes else MIX if MIX in modes else UNKNOWN
    return RunMode(mode, found, [e for e in seen if e.mode == UNKNOWN])


def _mix_and_rel(project):
    releases = project.mix.releases
    if releases is not None:
        line = releases.origin.line if releases.origin else project.mix.module_line
        yield Evidence(RELEASE, project.mix.file, line, "releases: in mix.exs")
    rel = sorted(p for p in [*project.files.others, *project.files.files] if p.startswith("rel/"))
    if rel:
        yield Evidence(RELEASE, rel[0], 1, "a rel/ directory (release overlays or config)")


def _classify(command: str) -> str | None:
    if builds_a_release(command) or _RELEASE_START.search(command):
        return RELEASE
    if _MIX_START.search(command):
        return MIX
    return None


def _deploy(project):
    deploy = project.deploy
    for docker in deploy.dockerfiles:
        for stage in docker.stages:
            for ins in stage.instructions:
                command = " ".join(ins.args)
                if ins.cmd == "RUN" and builds_a_release(command):  # other RUN steps build, not start
                    yield Evidence(RELEASE, docker.path, ins.line, f"RUN {command[:60]}")
                elif ins.cmd in ("CMD", "ENTRYPOINT") and command:
                    yield Evidence(_classify(command) or UNKNOWN, docker.path, ins.line, f"{ins.cmd} {command[:60]}")
    for fly in deploy.fly:
        commands = [("release_command", fly.release_command or "")]
        commands += [(f"processes.{k}", _words(v)) for k, v in (fly.data.get("processes") or {}).items()]
        commands += [("experimental.cmd", _words((fly.data.get("experimental") or {}).get("cmd") or ""))]
        for key, command in commands:
            if command and (key != "release_command" or _classify(command)):  # it runs before, not the app
                yield Evidence(_classify(command) or UNKNOWN, fly.path, fly.line(key.split(".")[-1]),
                               f"{key} = {command[:60]}")
    for process in deploy.procfile:
        yield Evidence(_classify(process.command) or UNKNOWN, deploy.procfile_path or "Procfile", process.line,
                       f"{process.name}: {process.command[:60]}")
    for unit in deploy.systemd:
        start = unit.get("Service", "ExecStart")
        if start is not None:
            yield Evidence(_classify(" ".join(unit.exec_start())) or UNKNOWN, unit.path, start.line,
                           f"ExecStart={start.value[:60]}")


def _words(command: object) -> str:
    """A command as fly.toml gives it, a string or a list of words, as one line."""
    return " ".join(map(str, command)) if isinstance(command, list) else str(command)


def _scripts(project):
    """Build and start scripts and task runners: a release build, or `mix phx.server` in prod."""
    for rel in project.files.others:
        name = rel.rsplit("/", 1)[-1]
        if not (rel.startswith(SCRIPT_DIRS) or rel in TASK_RUNNERS or name in TASK_RUNNERS):
            continue
        body = project.text(rel) or ""
        for number, line in enumerate(body.splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            if builds_a_release(line):
                yield Evidence(RELEASE, rel, number, line.strip()[:60])
                break
            if _MIX_START.search(line) and _PROD.search(line):  # dev helpers start the app too
                yield Evidence(MIX, rel, number, line.strip()[:60])
                break
