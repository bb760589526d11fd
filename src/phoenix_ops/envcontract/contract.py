"""Build the env-var contract from the Project: every variable, where and how it is read."""

from __future__ import annotations

from phoenix_ops.elixir.values import Atom, EnvRead, Expr, Lit, Seq, Value
from phoenix_ops.findings import credential_name, elide_literals, redact
from phoenix_ops.patterns import lazy
from phoenix_ops.project import Project
from phoenix_ops.record import field, record
from phoenix_ops.rules.facts import is_secret_key

STANDARD_ENVS = ("dev", "test", "prod")


@record(frozen=True)
class Opaque:
    """A config statement the evaluator could not read: it may read variables nobody sees."""

    file: str
    line: int
    text: str


@record
class Place:
    """One source position that reads a variable, and the environments that reach it."""

    file: str
    line: int
    phase: str  # "compile" (baked into the build) or "runtime" (read at boot or later)
    how: str
    required: bool
    default: str | None
    convert: str | None
    lib: bool = False  # application code, read when that code runs rather than at boot
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)  # env -> undecided conditions

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@record
class Variable:
    name: str
    places: list[Place] = field(default_factory=list)
    presence_flag: bool = False  # only tested for being set: any value, even "false", turns it on

    @property
    def envs(self) -> list[str]:
        return sorted({e for p in self.places for e in p.when})

    def required_in(self, env: str) -> bool:
        """Some read in `env` raises without it, whatever else holds."""
        return any(p.required and p.when.get(env) == () for p in self.places)

    def conditionally_required_in(self, env: str) -> bool:
        return not self.required_in(env) and any(p.required for p in self.places if env in p.when)

    def places_in(self, env: str) -> list[Place]:
        return [p for p in self.places if env in p.when]

    @property
    def types(self) -> list[str]:
        kinds = sorted({p.convert for p in self.places if p.convert})
        return kinds or (["presence"] if self.presence_flag else [])

    @property
    def defaults(self) -> list[str]:
        return list(dict.fromkeys(p.default for p in self.places if p.default is not None))

    @property
    def phases(self) -> list[str]:
        return sorted({p.phase for p in self.places})

    @property
    def conditions(self) -> list[str]:
        return list(self.conditional_places())

    def conditional_places(self) -> dict[str, list[str]]:
        """Each condition some reads depend on, with the places that read only under it."""
        found: dict[str, list[str]] = {}
        for p in self.places:
            for cond in dict.fromkeys(" and ".join(c) for c in p.when.values() if c):
                found.setdefault(cond, []).append(p.where)
        return found


@record
class Contract:
    app: str  # the OTP app, or the directory name of an umbrella
    envs: list[str]
    release_mode: str  # "release" or "mix" (config is then evaluated at every boot)
    variables: dict[str, Variable] = field(default_factory=dict)
    opaque: list[Opaque] = field(default_factory=list)
    secret_key_base: set[str] = field(default_factory=set)  # variables that feed secret_key_base
    url_host: set[str] = field(default_factory=set)  # variables that feed an endpoint's url: [host: ...]

    @property
    def complete(self) -> bool:
        return not self.opaque

    def in_env(self, env: str) -> list[Variable]:
        return [v for v in self.variables.values() if env in v.envs]


HIDDEN_DEFAULT = "(committed literal, hidden)"


def environments(project: Project) -> list[str]:
    """dev, test, prod and every other config/<env>.exs, except helper files every env imports."""
    prefix = f"{project.config_dir}/" if project.config_dir else ""
    shared = set(project.config("prod").files)
    return sorted(set(STANDARD_ENVS) | {e for e in project.envs if f"{prefix}{e}.exs" not in shared})


def build_contract(project: Project, envs: list[str] | None = None) -> Contract:
    envs = envs or environments(project)
    contract = Contract(project.mix.app or project.root.name, envs, project.release_mode)
    seen: set[Opaque] = set()
    for env in envs:
        view = project.config(env)
        for read in view.reads:
            _add(contract, read, env)
        for file, line, text in view.opaque:
            opaque = Opaque(file, line, _shown(text))
            if opaque not in seen:
                seen.add(opaque)
                contract.opaque.append(opaque)
        for path, history in view.leaves.items():
            _scan_leaf(contract, path, history)
    for read in project.lib_reads:
        for env in envs:
            _add(contract, read, env, lib=True)
    contract.variables = dict(sorted(contract.variables.items()))
    contract.opaque.sort(key=lambda o: (o.file, o.line))
    return contract


def _add(contract: Contract, read: EnvRead, env: str, *, lib: bool = False) -> None:
    origin = read.origin
    file, line = (origin.file, origin.line) if origin else ("?", 0)
    # Legacy `{:system, "PORT"}` tuples are resolved by the library at boot, wherever they are written.
    phase = "runtime" if read.how == "{:system, _}" or origin is None else origin.phase
    var = contract.variables.setdefault(read.name, Variable(read.name))
    place = next((p for p in var.places if (p.file, p.line, p.how) == (file, line, read.how)), None)
    if place is None:
        default = _show(read.default)
        if default and is_secret_key(read.name.lower()):
            default = HIDDEN_DEFAULT  # a committed fallback for a secret: say it exists, never show it
        place = Place(file, line, phase, read.how, read.required, default, read.convert, lib)
        var.places.append(place)
    place.when.setdefault(env, tuple(_condition(c.text) for c in read.conditions))


def _scan_leaf(contract: Contract, path: tuple[str, ...], history: list[Value]) -> None:
    for value in history:
        if path[-1] == "secret_key_base":
            contract.secret_key_base.update(r.name for r in value.reads())
        if path[-2:] == ("url", "host"):
            contract.url_host.update(r.name for r in value.reads())
        for cond in value.conditions:
            tested = _presence_test(cond.text)
            if tested in contract.variables:
                contract.variables[tested].presence_flag = True


def _presence_test(code: str) -> str | None:
    """The variable of `System.get_env("PHX_SERVER")` (or `not ...`) as a whole condition: a test for
    presence, where "false" counts as set."""
    call = code.removeprefix("not ").removesuffix("\n")
    head, tail = 'System.get_env("', '")'
    if not (call.startswith(head) and call.endswith(tail) and len(call) > len(head) + len(tail)):
        return None
    name = call[len(head):-len(tail)]
    return name if '"' not in name else None


def _condition(code: str) -> str:
    """An undecided condition as printed: its literals elided when it names a credential
    (`System.get_env("BASIC_AUTH_PASSWORD") != "…"`); `System.get_env("MAIL") == "smtp"` stays readable."""
    if any(credential_name(word) for word in _WORD.findall(code)):
        return _shown(code)
    return redact(_one_line(code))


_WORD = lazy(r"[A-Za-z_][A-Za-z0-9_]*")


def _shown(code: str) -> str:
    """Code as the contract prints it: one line, every literal in it elided (it may be a credential)."""
    return _one_line(elide_literals(code))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _show(value: Value | None) -> str | None:
    """A default as the user would write it in an env file; long secret-looking ones redacted."""
    if value is None:
        return None
    if isinstance(value, Lit):
        raw = value.value
        if isinstance(raw, Atom):
            raw = raw.name
        elif isinstance(raw, bool):
            raw = "true" if raw else "false"
        return redact("" if raw is None else str(raw))
    if isinstance(value, Seq):
        return redact(", ".join(_show(v) or "" for v in value.items))
    if isinstance(value, EnvRead):
        return f"${value.name}"  # `System.get_env("REPLICA_URL", System.get_env("DATABASE_URL"))`
    return redact(_shown(value.text) if isinstance(value, Expr) else "…")
