"""Per-environment view of config/*.exs: every key with its value, history and provenance."""

from __future__ import annotations

import bisect
import fnmatch
import posixpath
from collections.abc import Callable
from typing import Any

from tree_sitter import Node

from phoenix_ops.elixir.evaluate import Evaluator
from phoenix_ops.elixir.limits import MAX_DEPTH, PROJECT_BUDGET, Budget, describe
from phoenix_ops.elixir.parser import line, text
from phoenix_ops.elixir.syntax import call_args, call_parts
from phoenix_ops.elixir.values import (
    KW,
    Atom,
    Choice,
    EnvRead,
    Expr,
    Lit,
    Origin,
    Seq,
    Value,
    alternatives,
    plain,
)
from phoenix_ops.project.files import FileSet
from phoenix_ops.reading import reading
from phoenix_ops.record import Derived, field, record

Path_ = tuple[str, ...]
# Modules whose calls, as statements in a config file, set no application config.
IMPORT_STEPS = 20  # what following an import costs beyond the nodes it evaluates
PURE_MODULES = {"IO", "Logger", "Path", "File", "Code", "String", "Enum", "Kernel", "System", "Config", "Mix"}


@record
class ConfigProblem:
    file: str
    line: int
    message: str
    kind: str = "import"  # "import" (a missing file), "unreadable" or "budget" (evaluation stopped)
    target: str | None = None  # the missing file, relative to the project root


@record
class ConfigView(Derived):
    """What `config` calls leave behind for one Mix environment, compile time then runtime."""

    env: str
    leaves: dict[Path_, list[Value]] = field(default_factory=dict)  # history per leaf, in evaluation order
    reads: list[EnvRead] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # config files evaluated, in order
    problems: list[ConfigProblem] = field(default_factory=list)
    opaque: list[tuple[str, int, str]] = field(default_factory=list)
    # Values the evaluator could not read, by the path they were set at: they may set anything below it.
    shadows: dict[Path_, list[Value]] = field(default_factory=dict)
    _seq: int = 0
    # The leaves below each path, in the order of `leaves`: replacing a key and reading a subtree
    # cost what they touch, not every leaf (a config setting 60,000 keys stays linear).
    _below: dict[Path_, dict[Path_, None]] = field(default_factory=dict)
    _problem_keys: set[tuple[str, int, str]] = field(default_factory=set)
    # What several rules derive from the whole view (every secret leaf, the compile-time reads
    # still in effect), computed once: see Derived.
    _derived: dict[Callable, Any] = field(default_factory=dict, repr=False, compare=False)

    def problem(self, problem: ConfigProblem) -> None:
        """Record a problem once, however often the evaluation passes by it."""
        key = (problem.file, problem.line, problem.message)
        if key not in self._problem_keys:
            self._problem_keys.add(key)
            self.problems.append(problem)

    def _add_leaf(self, path: Path_) -> list[Value]:
        for k in range(len(path)):
            self._below.setdefault(path[:k], {})[path] = None
        return self.leaves.setdefault(path, [])

    def _drop_leaf(self, path: Path_) -> None:
        if self.leaves.pop(path, None) is not None:
            for k in range(len(path)):
                self._below[path[:k]].pop(path, None)

    def put(self, path: Path_, value: Value) -> None:
        if isinstance(value, KW) and (value.items or value.partial):
            if not value.conditional:
                self._drop_leaf(path)  # a keyword list replaces a plain value at the same key
            if value.partial:  # the unreadable part first: the keys written out are what the author meant
                keys = _keys_it_may_set(value)
                for shadowed in [path + (key,) for key in keys] if keys is not None else [path]:
                    self.shadow(shadowed, value)
            for key, item in value.items:
                if value.conditions and not item.conditions:
                    item.conditions = value.conditions
                self.put(path + (key,), item)
            return
        if isinstance(value, Choice) and any(isinstance(o, KW) for o in alternatives(value)):
            for option in alternatives(value):  # `config :app, Key, if(c, do: [a: 1], else: [a: 2])`
                if isinstance(option, KW):
                    self.put(path, option)
                else:
                    self.shadow(path, option)
            return
        if isinstance(value, Expr):
            self.shadow(path, value)  # perhaps a keyword list built by code: keep what it may not replace
        elif not value.conditional:
            for other in list(self._below.get(path, ())):
                self._drop_leaf(other)
        self._seq += 1
        value.seq = self._seq
        (self.leaves.get(path) or self._add_leaf(path)).append(value)

    def shadow(self, path: Path_, value: Value) -> None:
        self._seq += 1
        self.shadows.setdefault(path, []).append(value)
        value.seq = self._seq

    def shadowed(self, *path: str, after: Value | None = None, phase: str | None = None) -> Value | None:
        """An unreadable value set at this path or above it, later than `after` (or at all), in `phase`."""
        for k in range(0, len(path) + 1):  # () is "anything": a config provider, a call that configures
            shadows = self.shadows.get(tuple(path[:k]), [])
            # In `seq` order: skip to the first one set after `after` (thousands of put_env stay cheap).
            start = bisect.bisect_right(shadows, after.seq, key=lambda v: v.seq) if after is not None else 0
            for shadow in shadows[start:]:
                if shadow is after:
                    continue
                if phase is None or (shadow.origin is not None and shadow.origin.phase == phase):
                    return shadow
        return None

    def settled(self, *path: str) -> Value | None:
        """The value in effect, unless something unreadable was set over it later."""
        value = self.get(*path)
        return None if value is None or self.shadowed(*path, after=value) else value

    def get(self, *path: str) -> Value | None:
        """The value in effect (the last one set) at a leaf."""
        history = self.leaves.get(tuple(path))
        return history[-1] if history else None

    def history(self, *path: str) -> list[Value]:
        return list(self.leaves.get(tuple(path), []))

    def subtree(self, *path: str) -> dict[Path_, list[Value]]:
        below = self._below.get(tuple(path), {})
        if tuple(path) in self.leaves:
            return {tuple(path): self.leaves[tuple(path)], **{p: self.leaves[p] for p in below}}
        return {p: self.leaves[p] for p in below}

    def has(self, *path: str) -> bool:
        return bool(self.subtree(*path))

    def keys(self, *path: str) -> set[str]:
        """Direct child keys under a path (for example the modules configured for an app)."""
        n = len(path)
        return {p[n] for p in self.subtree(*path) if len(p) > n}


class ConfigEvaluator(Evaluator):
    def __init__(self, files: FileSet, view: ConfigView, config_dir: str, phase: str, pool: Budget):
        super().__init__(view.env, phase=phase)
        self.pool = pool
        self.fs = files
        self.view = view
        self.config_dir = config_dir
        self.stack: list[str] = []

    def run_file(self, rel: str, scope: dict[str, Value] | None = None) -> None:
        src = self.fs.get(rel)
        if src is None:
            return
        if rel in self.stack:
            self.view.problem(ConfigProblem(rel, 1, f"{rel} imports itself (import cycle)"))
            return
        top = not self.stack
        if top:  # each file an environment starts from gets its own budget
            self.budget = self.pool.share()
        self.budget.spend(IMPORT_STEPS, self.file or rel, 1)
        if self.budget.spent:
            return
        saved = self.file
        self.file = rel
        self.stack.append(rel)
        if rel not in self.view.files:
            self.view.files.append(rel)
        try:
            with reading(rel):
                self.run_block(list(src.tree.root_node.named_children), scope if scope is not None else {})
        except RecursionError:  # pathologically deep nesting: keep what was read, say so
            self.view.problems.append(ConfigProblem(rel, 1, "evaluation stopped: nesting too deep", "unreadable"))
        finally:
            self.stack.pop()
            self.file = saved
        if top:
            self.pool.settle(self.budget)
            if self.budget.spent:
                self.out_of_budget(*self.budget.stopped_at)

    def out_of_budget(self, file: str, line: int) -> None:
        """Evaluation stopped at file:line: what the rest would set is unknown, not missing."""
        self.view.problems.append(ConfigProblem(
            file, line, f"{describe(self.budget)} ({self.env}, {self.phase} time): the values set from here on "
            "are unknown", "budget"))
        self.opaque.append((file, line, "(evaluation stopped here: more work than its budget)"))
        self.view.shadow((), Expr(f"evaluation stopped at {file}:{line}", origin=Origin(file, line, self.phase)))

    def on_call(self, mod, fun, node: Node, scope):
        if mod in (None, "Config") and fun == "config":
            self.config(node, scope)
            return Lit(None)
        if mod in (None, "Config") and fun == "import_config":
            self.import_config(node, scope)
            return Lit(None)
        if mod in (None, "Dotenvy") and fun in ("source!", "source"):
            self.note_opaque(node)  # values may come from files rather than the process environment
        elif mod is not None and mod not in PURE_MODULES and mod[:1].isupper() and mod not in self.modules:
            # `MyApp.config_runtime()` or `Application.put_env/3` as a statement may set any config.
            self.note_opaque(node)
            self.view.shadow((), self.mark(Expr(text(node)), node))
            return Lit(None)
        return None

    def config(self, node: Node, scope) -> None:
        args = [self.ev(a, scope) for a in call_args(node)]
        if not args or not (isinstance(args[0], Lit) and isinstance(args[0].value, Atom)):
            self.note_opaque(node)
            return
        app = args[0].value.name
        if len(args) == 2:
            if isinstance(args[1], KW):
                self.view.put((app,), args[1])
            else:
                self.note_opaque(node)
            return
        if len(args) >= 3 and isinstance(args[1], Lit) and isinstance(args[1].value, Atom):
            self.view.put((app, args[1].value.name), args[2])

    def import_config(self, node: Node, scope) -> None:
        args = call_args(node)
        target = self.ev(args[0], scope) if args else Expr("")
        if not (isinstance(target, Lit) and isinstance(target.value, str)):
            # An import computed at build time: the file is unknown, and so is all it may set.
            self.note_opaque(node)
            self.view.shadow((), self.mark(Expr(text(node)), node))
            return
        base = posixpath.dirname(self.file)
        wanted = posixpath.normpath(posixpath.join(base, target.value))
        if any(ch in wanted for ch in "*?["):
            self.budget.spend(len(self.fs.files) // 8, self.file, line(node))  # a pattern tests every file
            matches = sorted(p for p in self.fs.files if fnmatch.fnmatch(p, wanted))
            unread = any(fnmatch.fnmatch(i.path, wanted) for i in self.fs.issues)
        else:
            matches = [wanted] if wanted in self.fs.files else []
            unread = self.fs.unreadable(wanted)
        if unread:  # it exists but was not read (OPS002 says why): what it sets is unknown
            self.view.shadow((), self.mark(Expr(text(node)), node))
        if not matches:
            if not self.conditions and not unread:  # `if File.exists?` guarded imports may be absent
                self.view.problem(ConfigProblem(self.file, line(node),
                                                f"import_config {target.value!r}: {wanted} does not exist",
                                                target=wanted))
            self.view.shadow((), self.mark(Expr(text(node)), node))  # what it would set is unknown
            return
        for rel in matches:
            self.run_file(rel)

    # File.exists?/1 on a literal path is decidable from the scanned files; Application.get_env/2
    # of a key set earlier is what config evaluated so far says.
    def ev_call(self, node: Node, scope) -> Value:
        mod, fun = call_parts(node)
        if mod == "Application" and fun in ("get_env", "fetch_env!"):
            args = [self.ev(a, scope) for a in call_args(node)]
            keys = [plain(a) for a in args[:2]]
            if len(keys) == 2 and all(isinstance(k, Atom) for k in keys):
                known = self.view.get(keys[0].name, keys[1].name)
                if isinstance(known, Lit) and not known.conditional:
                    return Lit(known.value)
                if known is None and len(args) > 2 and isinstance(args[2], Lit):
                    return Lit(args[2].value)
            return self.opaque_expr(node, scope)
        if mod == "File" and fun == "exists?":
            args = call_args(node)
            path = self.ev(args[0], scope) if args else None
            if isinstance(path, Lit) and isinstance(path.value, str):
                rel = posixpath.normpath(path.value)
                return Lit(rel in self.fs.files or rel in self.fs.others)
        return super().ev_call(node, scope)


def _keys_it_may_set(kw: KW) -> list[str] | None:
    """The keys the unread part of a partial keyword list may set, when each is one of known atoms
    (`{protocol, opts}` where protocol is :http or :https); None when it may set any key."""
    keys: list[str] = []
    for item in kw.inner:
        key = item.items[0] if isinstance(item, Seq) and item.kind == "tuple" and len(item.items) == 2 else None
        options = alternatives(key) if key is not None else []
        if not options or not all(isinstance(o, Lit) and isinstance(o.value, Atom) for o in options):
            return None
        keys += [o.value.name for o in options]
    return keys if kw.inner else None


def evaluate_config(files: FileSet, config_dir: str, env: str, pool: Budget | None = None) -> ConfigView:
    """Evaluate config.exs (compile time) then runtime.exs or releases.exs (runtime) for one env,
    within the project's budget `pool` (a budget of its own when not given)."""
    view = ConfigView(env)
    prefix = f"{config_dir}/" if config_dir else ""
    pool = pool or Budget(PROJECT_BUDGET)
    compile_ev = ConfigEvaluator(files, view, config_dir, "compile", pool)
    compile_ev.run_file(prefix + "config.exs")
    runtime_ev = ConfigEvaluator(files, view, config_dir, "runtime", pool)
    for name in ("runtime.exs", "releases.exs"):
        runtime_ev.run_file(prefix + name)
    for ev in (compile_ev, runtime_ev):
        view.reads.extend(ev.reads)
        view.opaque.extend(ev.opaque)
        view.problems.extend(ConfigProblem(file, ln, f"nesting deeper than {MAX_DEPTH} levels: the deeper part "
                                                     "is not read", "unreadable") for file, ln in ev.too_deep)
    return view
