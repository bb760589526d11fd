"""Dockerfiles, parsed by BuildKit's own parser (the `dockerfile` package): stages, ARGs resolved.

Heredocs (`RUN <<EOF`), flags (`--mount=type=secret`, `--from=builder`) and exec vs shell form come
from the same parser `docker build` uses, so a Dockerfile reads here as it builds.
"""

from __future__ import annotations

import re

from phoenix_ops.patterns import lazy
from phoenix_ops.project.run_mode import builds_a_release
from phoenix_ops.record import field, record

_VAR = lazy(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")


@record(frozen=True)
class Instruction:
    cmd: str  # upper case: RUN, ENV, CMD ...
    line: int
    args: tuple[str, ...]  # as BuildKit splits them (ENV gives key, value, key, value ...)
    flags: tuple[str, ...] = ()  # --mount=..., --from=..., --chown=...
    exec_form: bool = False  # JSON array form (CMD ["bin/server"])
    heredocs: tuple[str, ...] = ()  # bodies of `<<EOF` documents
    original: str = ""

    @property
    def script(self) -> str:
        """What a RUN executes: its command line and its heredoc bodies."""
        return "\n".join([" ".join(self.args), *self.heredocs])


@record
class Stage:
    index: int
    line: int
    image: str  # the base image with ARGs resolved; may still hold `${X}` when unresolvable
    raw_image: str  # as written in FROM
    name: str | None = None
    platform: str | None = None
    instructions: list[Instruction] = field(default_factory=list)
    env: dict[str, tuple[str, int]] = field(default_factory=dict)  # ENV name -> (value, line), inherited
    args: dict[str, tuple[str | None, int]] = field(default_factory=dict)  # ARG name -> (default, line)
    parent: Stage | None = field(default=None, repr=False, compare=False)  # the stage it is built FROM

    def all(self, cmd: str) -> list[Instruction]:
        """This stage's own instructions of a kind (its RUN steps, its COPYs)."""
        return [i for i in self.instructions if i.cmd == cmd]

    def last(self, cmd: str) -> Instruction | None:
        """The setting in force for an image setting (USER, CMD, ENTRYPOINT, STOPSIGNAL...): this
        stage's last one, else the one of the stage it is built FROM, as Docker inherits it."""
        found = self.all(cmd)
        return found[-1] if found else self.parent.last(cmd) if self.parent is not None else None

    @property
    def release_run(self) -> Instruction | None:
        """This stage's RUN that builds the release (`mix release`, or `mix do ..., release`)."""
        return next((i for i in self.all("RUN") if builds_a_release(i.script)), None)

    @property
    def user(self) -> str | None:
        """The last USER of the stage (None: root, unless the base image sets another user)."""
        last = self.last("USER")
        return last.args[0] if last and last.args else None

    @property
    def unresolved(self) -> bool:
        return "$" in self.image


@record
class Dockerfile:
    path: str
    stages: list[Stage] = field(default_factory=list)
    global_args: dict[str, tuple[str | None, int]] = field(default_factory=dict)  # ARGs before the first FROM
    error: str | None = None

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name or str(s.index) == name), None)

    def declared(self) -> set[str]:
        """Names set by ARG or ENV anywhere (deliberate build-time values)."""
        names = set(self.global_args)
        for s in self.stages:
            names |= set(s.env) | set(s.args)
        return names

    @property
    def builds_release(self) -> bool:
        return any(s.release_run for s in self.stages)

    @property
    def runs(self) -> bool:
        """Whether its image says what to run: a CMD or ENTRYPOINT in force in the final stage."""
        return self.final is not None and (self.final.last("CMD") or self.final.last("ENTRYPOINT")) is not None

    def builds_for_dev(self) -> bool:
        """MIX_ENV is set (by ENV, or an ARG's default) and never to prod: a development image."""
        values = {v for v, _ in [self.global_args.get("MIX_ENV", (None, 0)),
                                 *(s.env.get("MIX_ENV", s.args.get("MIX_ENV", (None, 0))) for s in self.stages)] if v}
        return bool(values) and "prod" not in values


def read_dockerfile(path: str, text: str) -> Dockerfile:
    import dockerfile as buildkit

    out = Dockerfile(path)
    try:
        commands = buildkit.parse_string(text)
    except buildkit.GoParseError as exc:
        out.error = str(exc).strip() or "BuildKit cannot parse it"
        return out
    stage: Stage | None = None
    for c in commands:
        ins = Instruction(c.cmd.upper(), c.start_line, tuple(c.value), tuple(c.flags), bool(c.json),
                          tuple(h.content for h in c.heredocs), c.original)
        if ins.cmd == "FROM":
            stage = _stage(out, ins, stage)
            out.stages.append(stage)
            continue
        if stage is None:
            if ins.cmd == "ARG":
                out.global_args.update(_args(ins))
            continue
        stage.instructions.append(ins)
        if ins.cmd == "ARG":
            for name, (default, line) in _args(ins).items():
                # A stage's bare `ARG X` re-imports a global one with its default.
                stage.args[name] = (default if default is not None else out.global_args.get(name, (None, 0))[0], line)
        elif ins.cmd == "ENV":
            scope = _scope(out, stage)
            for name, value in zip(ins.args[::2], ins.args[1::2]):
                stage.env[name] = (expand(_unquote(value), scope), ins.line)
    return out


def _stage(out: Dockerfile, ins: Instruction, previous: Stage | None) -> Stage:
    words = list(ins.args)
    name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    raw = words[0] if words else ""
    image = expand(raw, {k: v for k, (v, _) in out.global_args.items()})
    platform = next((f.split("=", 1)[1] for f in ins.flags if f.startswith("--platform=")), None)
    stage = Stage(len(out.stages), ins.line, image, raw, name, platform)
    parent = out.stage(image)  # FROM builder: inherits the builder's ENV and settings
    if parent is not None:
        stage.env, stage.parent = dict(parent.env), parent
    return stage


def _args(ins: Instruction) -> dict[str, tuple[str | None, int]]:
    found = {}
    for word in ins.args:
        name, eq, default = word.partition("=")
        found[name] = (_unquote(default) if eq else None, ins.line)
    return found


def _scope(out: Dockerfile, stage: Stage) -> dict[str, str | None]:
    return {**{k: v for k, (v, _) in stage.args.items()}, **{k: v for k, (v, _) in stage.env.items()}}


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def expand(text: str, scope: dict[str, str | None]) -> str:
    """Substitute `$X` / `${X}` / `${X:-default}` where X has a known value; leave the rest as written."""
    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        value = scope.get(name)
        if value is None:
            default = re.match(r"\$\{[^:}]*:?-([^}]*)\}", m.group(0))
            return default.group(1) if default else m.group(0)
        return value
    if "$" not in text:
        return text
    for _ in range(5):  # ARGs built from ARGs
        new = _VAR.sub(sub, text)
        if new == text:
            break
        text = new
    return text


def command_words(ins: Instruction) -> list[str]:
    """CMD/ENTRYPOINT as words: the JSON array, or the shell line split as a shell would."""
    if ins.exec_form:
        return list(ins.args)
    import shlex  # (most Dockerfiles use the exec form)

    try:
        return shlex.split(" ".join(ins.args))
    except ValueError:
        return " ".join(ins.args).split()
