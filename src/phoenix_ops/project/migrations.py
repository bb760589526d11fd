"""Ecto migrations as a list of operations, read with tree-sitter-elixir from every repo's folder.

Only what runs on the way up counts (`change`, `up`); `down` is the way back. A table name given
by a `for t <- ~w(a b)a` generator yields one operation per name. Each operation keeps the source
text of its options, so rules can ask for `concurrently: true`, `validate: false`, `null: false`.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from phoenix_ops.elixir.parser import line, text
from phoenix_ops.elixir.syntax import call_args, call_parts, do_block
from phoenix_ops.patterns import lazy
from phoenix_ops.project.files import FileSet, SourceFile
from phoenix_ops.record import field, record

_FOLDER = lazy(r"(^|/)priv/([\w.-]+/)*[\w.-]*migrations/")
_SQL_TABLE = lazy(r"\b(?:ON|ALTER\s+TABLE|UPDATE|INTO|FROM)\s+(?:ONLY\s+|IF\s+EXISTS\s+)?([\w.\"]+)", re.I)
_SCHEMA_OPS = {"create", "create_if_not_exists", "alter", "drop", "drop_if_exists", "rename", "execute", "flush"}
_COLUMN_OPS = {"add", "add_if_not_exists", "remove", "remove_if_exists", "modify", "timestamps"}


@record(frozen=True)
class Op:
    kind: str  # create_table, alter, add, remove, modify, rename_column, rename_table, drop_table,
    #            create_index, drop_index, constraint, execute, repo
    table: str | None  # None when the name is computed
    line: int
    column: str | None = None
    args: tuple[str, ...] = ()  # source text of the further arguments (type, keyword options)
    sql: str | None = None  # the literal SQL of an `execute`
    new_table: bool = False  # the table is created earlier in the same migration

    def option(self, key: str) -> str | None:
        """The source text of a keyword option (`null: false` -> "false")."""
        written = " ".join(self.args)
        if f"{key}:" not in written:  # most options are absent: no pattern to build for them
            return None
        m = re.search(rf"(?:^|[\s,\[(]){re.escape(key)}:\s*([^,\]\n]+)", written)
        return m.group(1).strip() if m else None


@record
class Migration:
    path: str
    version: str  # the leading digits of the file name
    ops: list[Op] = field(default_factory=list)
    disable_ddl_transaction: bool = False
    disable_migration_lock: bool = False
    created: set[str] = field(default_factory=set)  # tables this migration creates

    def sql_on_new_table(self, sql: str) -> bool:
        """Whether a statement targets a table this migration created (nothing reads it yet)."""
        m = _SQL_TABLE.search(sql)
        return bool(m) and m.group(1).strip('"').split(".")[-1] in self.created


def migration_files(fs: FileSet, extra_dirs: list[str]) -> list[SourceFile]:
    """Every `priv/**/migrations/*.exs`, plus the folders repos name with `priv:`."""
    dirs = tuple(d.rstrip("/") + "/" for d in extra_dirs)
    return [src for rel, src in sorted(fs.files.items()) if rel.endswith(".exs")
            and (_FOLDER.search(rel.rpartition("/")[0] + "/") or rel.startswith(dirs)) and "/test/" not in f"/{rel}"]


def read_migration(src: SourceFile) -> Migration:
    name = src.path.rsplit("/", 1)[-1]
    digits, underscore, _ = name.partition("_")
    mig = Migration(src.path, digits if underscore and digits.isdecimal() else "")
    for node in _walk_defs(src.tree.root_node):
        kind = call_parts(node)[1]
        if kind == "@":
            continue
        body = do_block(node)
        if body is None:
            continue
        head = call_args(node)
        fname = call_parts(head[0])[1] if head and head[0].type == "call" else text(head[0]) if head else ""
        if fname in ("change", "up"):
            _statements(mig, body.named_children, {}, mig.created)
    # (Most migrations set neither: the byte test spares their search.)
    mig.disable_ddl_transaction = b"@disable_ddl_transaction" in src.data and bool(
        re.search(rb"@disable_ddl_transaction\s+true", src.data))
    mig.disable_migration_lock = b"@disable_migration_lock" in src.data and bool(
        re.search(rb"@disable_migration_lock\s+true", src.data))
    return mig


def _walk_defs(root: Node):
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "call" and call_parts(node) in ((None, "def"), (None, "defp")):
            yield node
            continue
        stack.extend(reversed(node.named_children))


def _statements(mig: Migration, nodes, scope: dict[str, list[str]], created: set[str]) -> None:
    for node in nodes:
        if node.type == "call":
            _call(mig, node, scope, created)
        elif node.type in ("block", "do_block", "stab_clause", "body", "binary_operator", "anonymous_function"):
            _statements(mig, node.named_children, scope, created)


def _call(mig: Migration, node: Node, scope: dict[str, list[str]], created: set[str]) -> None:
    module, fun = call_parts(node)
    args = call_args(node)
    if module is None and fun == "for":
        _for(mig, node, args, scope, created)
        return
    if module is not None and (module.endswith("Repo") or module.replace(" ", "") == "repo()"):
        mig.ops.append(Op("repo", None, line(node), fun, tuple(text(a) for a in args)))
        return
    if module is not None or fun not in _SCHEMA_OPS:
        block = do_block(node)
        if block is not None:
            _statements(mig, block.named_children, scope, created)
        return
    if fun == "execute":
        sql = _string(args[0]) if args else None
        mig.ops.append(Op("execute", None, line(node), None, tuple(text(a) for a in args), sql))
        return
    if fun == "flush" or not args:
        return
    target = args[0]
    inner, inner_args = (call_parts(target)[1], call_args(target)) if target.type == "call" else (None, [])
    for table in _tables(inner_args[0] if inner_args else target, scope):
        rest = tuple(text(a) for a in args[1:])
        new = table in created
        if fun in ("create", "create_if_not_exists") and inner == "table":
            created.add(table)
            mig.ops.append(Op("create_table", table, line(node), args=tuple(text(a) for a in inner_args[1:])))
        elif fun in ("create", "create_if_not_exists") and inner in ("index", "unique_index"):
            mig.ops.append(Op("create_index", table, line(node), None,
                              tuple(text(a) for a in inner_args[1:]) + rest, new_table=new))
        elif fun == "create" and inner == "constraint":
            mig.ops.append(Op("constraint", table, line(node), None, tuple(text(a) for a in inner_args[1:]) + rest,
                              new_table=new))
        elif fun in ("drop", "drop_if_exists") and inner == "table":
            mig.ops.append(Op("drop_table", table, line(node), new_table=new))
        elif fun in ("drop", "drop_if_exists") and inner in ("index", "unique_index"):
            mig.ops.append(Op("drop_index", table, line(node), None, tuple(text(a) for a in inner_args[1:]) + rest))
        elif fun == "rename" and inner == "table":
            _rename(mig, node, table, args[1:], new)
        elif fun == "alter" and inner == "table":
            block = do_block(node)
            for stmt in block.named_children if block is not None else []:
                _column(mig, stmt, table, new)
        if fun in ("create", "create_if_not_exists") and inner == "table":
            block = do_block(node)
            for stmt in block.named_children if block is not None else []:
                _column(mig, stmt, table, True)


def _rename(mig: Migration, node: Node, table: str, rest: list[Node], new: bool) -> None:
    if rest and rest[0].type == "keywords":  # rename table(:a), to: table(:b)
        mig.ops.append(Op("rename_table", table, line(node), None, (text(rest[0]),), new_table=new))
    elif rest:
        mig.ops.append(Op("rename_column", table, line(node), text(rest[0]).lstrip(":"),
                          tuple(text(a) for a in rest[1:]), new_table=new))


def _column(mig: Migration, stmt: Node, table: str, new: bool) -> None:
    if stmt.type != "call":
        return
    fun = call_parts(stmt)[1]
    if fun not in _COLUMN_OPS or fun == "timestamps":
        return
    args = call_args(stmt)
    column = text(args[0]).lstrip(":") if args else None
    kind = {"add_if_not_exists": "add", "remove_if_exists": "remove"}.get(fun, fun)
    mig.ops.append(Op(kind, table, line(stmt), column, tuple(text(a) for a in args[1:]), new_table=new))


def _for(mig: Migration, node: Node, args: list[Node], scope: dict[str, list[str]], created: set[str]) -> None:
    inner = dict(scope)
    for gen in args:
        if gen.type == "binary_operator" and text(gen.child_by_field_name("operator")) == "<-":
            var, source = gen.child_by_field_name("left"), gen.child_by_field_name("right")
            if var is not None and var.type == "identifier" and source is not None:
                inner[text(var)] = _names(source)
    block = do_block(node)
    if block is not None:
        _statements(mig, block.named_children, inner, created)


def _tables(node: Node, scope: dict[str, list[str]]) -> list[str | None]:
    if node.type == "identifier":
        return scope.get(text(node)) or [None]
    names = _names(node)
    return names or [None]


def _names(node: Node) -> list[str]:
    """Atoms or strings named by a literal: `:users`, `"users"`, `~w(a b)a`, `[:a, :b]`."""
    raw = text(node).strip()
    if node.type == "atom":
        return [raw.lstrip(":").strip('"')]
    if node.type == "string":
        value = _string(node)
        return [value] if value is not None else []
    if node.type == "sigil" and raw[:2] in ("~w", "~W"):
        body = raw[3:].rstrip("acs")[:-1]
        return body.split()
    if node.type == "list":
        return [n for child in node.named_children for n in _names(child)]
    return []


def _string(node: Node) -> str | None:
    """The text of a literal string (no interpolation), heredocs and sigils ~s/~S included."""
    if node.type == "string":
        if any(c.type == "interpolation" for c in node.named_children):
            return None
        return "".join(text(c) for c in node.named_children if c.type in ("quoted_content", "escape_sequence"))
    if node.type == "sigil" and text(node)[:2] in ("~s", "~S"):
        return "".join(text(c) for c in node.named_children if c.type == "quoted_content")
    return None
