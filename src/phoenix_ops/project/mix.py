"""mix.exs (app, deps, aliases, releases) and mix.lock versions."""

from __future__ import annotations

from dataclasses import dataclass, field

from phoenix_ops.elixir.evaluate import Evaluator
from phoenix_ops.elixir.limits import MAX_DEPTH, PROJECT_BUDGET, Budget, describe
from phoenix_ops.elixir.modules import modules
from phoenix_ops.elixir.parser import text
from phoenix_ops.elixir.values import KW, Atom, Lit, Seq, Value, plain
from phoenix_ops.project.files import SourceFile
from phoenix_ops.reading import reading


@dataclass
class Dep:
    name: str
    requirement: str | None
    options: dict = field(default_factory=dict)

    @property
    def only(self) -> list[str]:
        only = self.options.get("only")
        if isinstance(only, Atom):
            return [only.name]
        if isinstance(only, list):
            return [o.name for o in only if isinstance(o, Atom)]
        return []

    @property
    def in_prod(self) -> bool:
        return not self.only or "prod" in self.only


@dataclass
class MixProject:
    file: str  # relative path of mix.exs
    dir: str  # its directory ("" for the root)
    app: str | None
    project: KW  # the evaluated `project/0` keyword list
    deps: dict[str, Dep]
    module_line: int = 1
    problems: list[tuple[str, int, str, str]] = field(default_factory=list)  # (kind, file, line, message)

    def get(self, key: str) -> Value | None:
        return self.project.get(key)

    @property
    def umbrella(self) -> bool:
        return self.project.get("apps_path") is not None

    @property
    def releases(self) -> Value | None:
        return self.project.get("releases")

    def has_dep(self, name: str) -> bool:
        return name in self.deps

    @property
    def deps_known(self) -> bool:
        """Whether the deps list was read to the end (not built by code the evaluator does not follow)."""
        value = self.project.get("deps")
        return value is None or (isinstance(value, (KW, Seq)) and not value.partial)


def read_mix(src: SourceFile, env: str = "prod", pool: Budget | None = None) -> MixProject:
    """The project settings of a mix.exs, evaluated within the project's budget `pool`."""
    pool = pool or Budget(PROJECT_BUDGET)
    with reading(src.path):
        return _read_mix(src, env, pool)


def _read_mix(src: SourceFile, env: str, pool: Budget) -> MixProject:
    directory = src.path.rsplit("/", 1)[0] if "/" in src.path else ""
    mods = [m for m in modules(src.tree) if m.uses_module("Mix.Project")] or modules(src.tree)
    ev = Evaluator(env, file=src.path, phase="compile")
    ev.budget = pool.share()
    project: Value = KW([])
    line = 1
    if mods:
        mod = mods[0]
        line = mod.node.start_point[0] + 1
        module = ev.enter_module(mod.body)
        clauses = module.functions.get("project")
        if clauses:
            project = ev.run_block(clauses[0].body, dict(module.attributes)) or KW([])
    kw = project if isinstance(project, KW) else KW([])
    app = plain(kw.get("app"))
    problems = [("unreadable", file, ln, f"nesting deeper than {MAX_DEPTH} levels: the deeper part is not read")
                for file, ln in ev.too_deep]
    pool.settle(ev.budget)
    if ev.budget.stopped_at:
        problems.append(("budget", *ev.budget.stopped_at,
                         f"{describe(ev.budget)}: the project settings read after it are unknown"))
    return MixProject(src.path, directory, app.name if isinstance(app, Atom) else None, kw,
                      _deps(kw.get("deps")), line, problems)


def _deps(value: Value | None) -> dict[str, Dep]:
    out: dict[str, Dep] = {}
    if not isinstance(value, (Seq, KW)):
        return out
    if isinstance(value, KW):  # [{:a, "~> 1"}] already folded into a keyword list
        items = [Seq("tuple", [Lit(Atom(k)), v]) for k, v in value.items]
    else:
        items = value.items
    for item in items:
        if not (isinstance(item, Seq) and item.kind == "tuple" and item.items):
            continue
        name = plain(item.items[0])
        if not isinstance(name, Atom):
            continue
        requirement, options = None, {}
        for part in item.items[1:]:
            if isinstance(part, Lit) and isinstance(part.value, str):
                requirement = part.value
            elif isinstance(part, KW):
                options = {k: plain(v) for k, v in part.items}
        out[name.name] = Dep(name.name, requirement, options)
    return out


def read_lock(src: SourceFile) -> dict[str, str]:
    """Package versions from mix.lock (`"name": {:hex, :name, "1.2.3", ...}`)."""
    versions: dict[str, str] = {}
    stack = [src.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "pair":
            key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
            if key is not None and value is not None and value.type == "tuple":
                parts = [c for c in value.named_children]
                if len(parts) >= 3 and text(parts[0]) == ":hex" and parts[2].type == "string":
                    versions[text(key).strip().strip(":").strip().strip('"')] = text(parts[2]).strip('"')
            continue
        stack.extend(node.named_children)
    return versions
