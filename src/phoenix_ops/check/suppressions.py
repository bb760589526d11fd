"""Suppression comments in Elixir sources.

    # phoenix-ops:ignore WEB003, SEC001 -- reason    the next expression, every line of it
    # phoenix-ops:ignore-file MIG001 -- reason       the whole file

Only Elixir sources (.ex, .exs) carry directives; findings in other files are excluded, disabled
or baselined instead. Directives are read from tree-sitter comment nodes only, so the marker in a
string or a heredoc is text, not a directive. A directive that cannot be read, lacks a reason or
names an unknown rule silences nothing and is reported; so is one that matched no finding.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from tree_sitter import Node

from phoenix_ops.elixir.parser import comments
from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.patterns import lazy
from phoenix_ops.record import field, record
from phoenix_ops.rule import rule

_W, _H = Severity.WARNING, Confidence.HIGH
# Indented like the pages below, so that dedenting them keeps it a code block.
_SYNTAX = """
            # phoenix-ops:ignore WEB003 -- HSTS is set by the load balancer
            # phoenix-ops:ignore WEB003, SEC001 -- reason (several ids)
            # phoenix-ops:ignore-file MIG001 -- reason (the whole file)
"""

SUPPRESSION_MALFORMED = rule(
    "OPS010", "suppression-malformed", _W, _H, kind="audit",
    title="A `phoenix-ops:` comment that cannot be read as a suppression",
    why="""
        A suppression comment that phoenix-ops cannot read silences nothing, while the person who
        wrote it believes the finding is handled. Typical causes: a misspelt directive
        (`phoenix-ops:ingore`), no rule id, ids separated by spaces instead of commas, a directive
        written at the end of a line of code, or nothing after the comment to apply to.
    """,
    fix=f"""
        Write the directive on its own line, directly above the expression it covers:
        {_SYNTAX}
        `ignore` covers the whole expression that starts on the next line of code (every line of
        it); `ignore-file` covers the whole file, wherever it stands.
    """,
)

SUPPRESSION_WITHOUT_REASON = rule(
    "OPS011", "suppression-without-reason", _W, _H, kind="audit",
    title="A suppression comment without a reason after `--`",
    why="""
        A finding silenced without a reason cannot be reviewed later: nobody knows whether it was
        judged harmless or just in the way. phoenix-ops therefore applies no suppression that lacks
        a reason, and the finding it meant to hide stays visible.
    """,
    fix=f"""
        Add the reason after two dashes:
        {_SYNTAX}
    """,
)

SUPPRESSION_UNKNOWN_RULE = rule(
    "OPS012", "suppression-unknown-rule", _W, _H, kind="audit",
    title="A suppression comment names a rule that `check` never reports",
    why="""
        An id that is misspelt, belongs to a rule that no longer exists, or names a live rule (the
        `probe` and `cluster` rules judge running systems, not source lines) silences nothing. Nor
        can a comment silence OPS010-OPS013, the findings about suppression comments themselves.
    """,
    fix="""
        Use the id printed next to the finding; `phoenix-ops rules` lists every rule and its kind.
    """,
)

SUPPRESSION_UNUSED = rule(
    "OPS013", "suppression-unused", _W, _H, kind="audit",
    title="A suppression comment that matched no finding",
    why="""
        Once the code it excused is fixed or moved, a stale suppression silently waits to hide the
        next, unrelated finding of that rule at the same place. Only rules that ran are judged:
        a suppression for a rule skipped with `--select`, `--ignore` or a disable in
        `.phoenix-ops.toml` is not reported.
    """,
    fix="""
        Delete the comment, or move it above the expression that really holds the finding.
    """,
)


MARKER = b"phoenix-ops:"
SUFFIXES = (".ex", ".exs")  # templates (.eex, .heex) are not parsed as Elixir
_DIRECTIVE = lazy(r"#+\s*phoenix-ops:(?P<kind>\S*)(?P<body>.*)", re.S)
_RULE_ID = lazy(r"^[A-Z]{3}\d{3}$")
# Nodes that hold a sequence of expressions: a comment above their first item covers that item.
_CONTAINERS = {"keywords", "arguments", "map_content", "body", "source"}
# The findings about directives themselves: suppressing them with a directive would be circular.
OWN_RULES = {r.id for r in (SUPPRESSION_MALFORMED, SUPPRESSION_WITHOUT_REASON, SUPPRESSION_UNKNOWN_RULE,
                            SUPPRESSION_UNUSED)}


@record
class Directive:
    path: str
    line: int  # of the comment, 1-based
    column: int
    rule_ids: tuple[str, ...]
    reason: str
    lines: range | None  # the lines covered; None for the whole file
    used: set[str] = field(default_factory=set)

    @property
    def location(self) -> Location:
        return Location(path=self.path, line=self.line, column=self.column)

    def covers(self, finding: Finding) -> bool:
        loc = finding.location
        if loc.path != self.path or finding.rule_id not in self.rule_ids:
            return False
        return self.lines is None or (loc.line is not None and loc.line in self.lines)


@record
class Reading:
    directives: list[Directive] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)


def read_directives(path: str, data: bytes, tree, known: Collection[str]) -> Reading:
    """The directives of one file, and a finding for each comment that is not a usable one."""
    out = Reading()
    if MARKER not in data:
        return out
    for node in comments(tree):
        m = _DIRECTIVE.fullmatch(node.text.decode(errors="replace").strip())
        if m:
            _read_one(out, path, data, node, m, known)
    return out


def _read_one(out: Reading, path: str, data: bytes, node: Node, m: re.Match, known: Collection[str]) -> None:
    loc = Location(path=path, line=node.start_point[0] + 1, column=node.start_point[1] + 1)
    kind, body = m.group("kind"), m.group("body")
    ids_text, _, reason = body.partition("--")
    ids = [part.strip().upper() for part in ids_text.split(",")]

    def malformed(why: str) -> None:
        out.problems.append(SUPPRESSION_MALFORMED.finding(
            f"suppression comment {why}; it silences nothing", loc, key=f"{kind}{body}",
            hint="write `# phoenix-ops:ignore RULE[, RULE] -- reason` on its own line above the code"))

    if kind not in ("ignore", "ignore-file"):
        return malformed(f"has unknown directive `phoenix-ops:{kind}` (use ignore or ignore-file)")
    if not ids_text.strip():
        return malformed("names no rule id")
    bad = [i for i in ids if not _RULE_ID.match(i)]
    if bad:
        return malformed(f"has {', '.join(repr(b) for b in bad)} where a rule id such as WEB003 belongs "
                         "(separate several ids with commas)")
    if _has_code_before(data, node):
        return malformed("stands after code on the same line (put it on its own line above)")
    if not reason.strip():
        out.problems.append(SUPPRESSION_WITHOUT_REASON.finding(
            f"suppression of {', '.join(ids)} gives no reason after `--`; it silences nothing", loc,
            key=",".join(ids), hint="add the reason: `# phoenix-ops:ignore RULE -- why this is fine here`"))
        return
    unknown = [i for i in ids if i not in known or i in OWN_RULES]
    for rule_id in unknown:
        why = "but a comment cannot silence findings about suppression comments" if rule_id in OWN_RULES else \
            "which `check` never reports"
        out.problems.append(SUPPRESSION_UNKNOWN_RULE.finding(
            f"suppression names {rule_id}, {why}", loc, key=rule_id))
    ids = [i for i in ids if i not in unknown]
    if not ids:
        return
    lines = None
    if kind == "ignore":
        target = next_expression(node)
        if target is None:
            return malformed("is followed by no expression to apply to")
        lines = range(target.start_point[0] + 1, target.end_point[0] + 2)
    out.directives.append(Directive(path, loc.line, loc.column, tuple(ids), reason.strip(), lines))


def _has_code_before(data: bytes, comment: Node) -> bool:
    line_start = data.rfind(b"\n", 0, comment.start_byte) + 1
    return bool(data[line_start:comment.start_byte].strip())


def next_expression(comment: Node) -> Node | None:
    """The whole expression that starts on the first line of code after `comment`."""
    node = comment
    while node.parent is not None:
        node = node.parent
    while True:
        for child in node.named_children:
            if child.end_byte <= comment.end_byte or child.type == "comment":
                continue
            if child.start_byte < comment.start_byte:  # encloses the comment: look inside it
                node = child
                break
            return _first_item(child)
        else:
            return None


def _first_item(node: Node) -> Node:
    while node.type in _CONTAINERS:
        items = [c for c in node.named_children if c.type != "comment"]
        if not items:
            break
        node = items[0]
    return node


def apply_suppressions(findings: Iterable[Finding], sources: Iterable, known: Collection[str],
                       ran: Collection[str]) -> list[Finding]:
    """Mark the findings the directives of `sources` cover; return the findings about directives.

    `sources` are SourceFile-like (path, data, tree); `known` are the rule ids a directive may name,
    `ran` those that ran in this check (only their unused directives are reported).
    """
    problems: list[Finding] = []
    by_path: dict[str, list[Directive]] = {}
    for src in sources:
        if not src.path.endswith(SUFFIXES) or MARKER not in src.data:
            continue
        reading = read_directives(src.path, src.data, src.tree, known)
        problems.extend(reading.problems)
        by_path[src.path] = reading.directives
    for f in findings:
        if f.suppressed:
            continue
        for d in by_path.get(f.location.path or "", ()):
            if d.covers(f):
                f.suppressed = d.reason
                d.used.add(f.rule_id)
                break
    for directives in by_path.values():
        for d in directives:
            unused = [i for i in d.rule_ids if i in ran and i not in d.used]
            if unused:
                problems.append(SUPPRESSION_UNUSED.finding(
                    f"suppression of {', '.join(unused)} matched no finding", d.location,
                    key=("file:" if d.lines is None else "") + ",".join(unused)))
    return problems
