"""What the application's own code uses: metrics definitions, rate limiters, health handlers, the JS client.

Markers are found by a byte search over every lib file (no parse); modules are read from the files
the prefilter already parses, plus the few files that define a health handler or an endpoint plug.
"""

from __future__ import annotations

from tree_sitter import Node

from phoenix_ops.elixir.modules import Module, has_alias, walk_calls
from phoenix_ops.elixir.parser import line, text
from phoenix_ops.elixir.syntax import binary_op, call_args, call_parts
from phoenix_ops.patterns import has_word, lazy
from phoenix_ops.record import field, record

# Byte markers whose presence anywhere in lib code answers a question by itself (no parse needed):
# a cheap first needle, then the exact words in the few files that hold it.
MARKERS = {
    "csp": (b"ecurity", (b"content-security-policy", b"Content-Security-Policy", b"ContentSecurityPolicy")),
    "forwarded_for": (b"orwarded", (b"x-forwarded-for", b"X-Forwarded-For")),
    "remote_ip_plug": (b"RemoteIp", (b"RemoteIp",)),
}
# Rate limiters: the libraries, and the module names apps give their own token buckets.
RATE_LIMITERS = (b"Hammer", b"PlugAttack", b"ExRated", b"ateLimit", b"ate_limit", b"hrottle")
# Lib files mentioning these get a parse tree, so the modules below can be read.
USAGE_TRIGGERS = (b"Telemetry.Metrics",)
PROMETHEUS_REPORTERS = ("TelemetryMetricsPrometheus", "TelemetryMetricsPrometheus.Core")
# Paths platforms and load balancers probe; a route or plug answering one is a health endpoint.
# (Path segments, any case: /api/healthz and /_health/ are health paths, /healthy is not.)
LIVE_SEGMENTS = frozenset({"live", "livez", "liveness"})
READY_SEGMENTS = frozenset({"ready", "readyz", "readiness"})
HEALTH_SEGMENTS = frozenset({f"{underscore}health{end}" for underscore in ("", "_")
                             for end in ("", "z", "check", "_check", "-check")}
                            | LIVE_SEGMENTS | READY_SEGMENTS | {"status", "ping", "up", "heartbeat", "alive"})
# Words a page may be named by as well (/live is a show's page, /status a status page): a path
# holding only these is a health path when its handler's name says so (StatusController, ImAlive).
PAGE_WORDS = frozenset({"live", "ready", "status", "ping", "up", "alive"})
HANDLER_WORDS = frozenset({"health", "healthz", "status", "probe", "probes", "ping", "heartbeat", "alive",
                           "liveness", "readiness", "monitor", "check", "up", "uptime"})


def has_segment(path: str, segments: frozenset[str]) -> bool:
    """Whether a segment of the URL path `path`, in any case, is one of `segments`."""
    return not segments.isdisjoint(path.lower().split("/"))


def health_path(path: str, handler: str) -> bool:
    """Whether `path`, answered by the module `handler` (`MyAppWeb.HealthController`, a plug), is a
    health endpoint: /health, /healthz, /readyz by the path alone; /live, /status, /up only when the
    handler's name says so too (StatusController, ImAlive; not PageController)."""
    words = HEALTH_SEGMENTS.intersection(path.lower().split("/"))
    if not words.issubset(PAGE_WORDS):
        return True
    named = {w.lower() for w in _CAMEL_WORD.findall(handler.rsplit(".", 1)[-1])}
    return bool(words) and not HANDLER_WORDS.isdisjoint(named)


_CAMEL_WORD = lazy(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@record
class MetricsModule:
    module: str
    file: str
    line: int
    summaries: list[int] = field(default_factory=list)  # lines of `summary(...)` metric definitions
    reporters: list[str] = field(default_factory=list)  # Telemetry.Metrics reporters the module names


@record
class RateLimit:
    file: str
    line: int  # the first mention of `remote_ip`, else of the limiter
    by_remote_ip: bool  # the file builds a bucket key from `remote_ip`


@record
class Handler:
    """A module that answers a request path (a controller, or a plug that matches `path_info`)."""

    module: str
    file: str
    line: int
    queries_database: bool
    paths: list[str] = field(default_factory=list)  # paths a plug module matches itself


@record
class Usage:
    markers: dict[str, list[str]] = field(default_factory=dict)  # marker -> lib files that mention it
    metrics: list[MetricsModule] = field(default_factory=list)
    rate_limits: list[RateLimit] = field(default_factory=list)
    handlers: dict[str, Handler] = field(default_factory=dict)  # module name -> handler facts
    client_longpoll: tuple[str, int] | None = None  # (file, line) of longPollFallbackMs in the JS client
    client_file: str | None = None  # the LiveSocket client file, when there is one

    def mentions(self, marker: str) -> bool:
        return bool(self.markers.get(marker))


def scan_markers(usage: Usage, rel: str, data: bytes) -> None:
    """Byte questions about one lib file: no parse."""
    for name, (first, needles) in MARKERS.items():
        if first in data and any(n in data for n in needles):
            usage.markers.setdefault(name, []).append(rel)
    limiter = next((n for n in RATE_LIMITERS if n in data), None)
    if limiter is not None:
        at = data.find(b"remote_ip")
        by_ip = at >= 0
        usage.rate_limits.append(RateLimit(rel, data[: at if by_ip else data.find(limiter)].count(b"\n") + 1, by_ip))


def read_module(usage: Usage, mod: Module, rel: str) -> None:
    """Record the metrics definitions of one parsed module."""
    if not has_alias(mod.node, "Telemetry.Metrics"):
        return
    found = MetricsModule(mod.name, rel, line(mod.node))
    for call in walk_calls(mod.node):
        if call_parts(call) in ((None, "summary"), ("Telemetry.Metrics", "summary")) and call_args(call):
            found.summaries.append(line(call))
    found.reporters = sorted(r for r in PROMETHEUS_REPORTERS if has_alias(mod.node, r))
    usage.metrics.append(found)


def _queries_database(code: str) -> bool:
    """Whether code calls a Repo (`Repo.one`, `MyApp.Repo.all`, not `FooRepo.x`), Ecto's SQL adapter,
    Postgrex or a `.query`."""
    return any(call in code for call in ("Ecto.Adapters.SQL", "Postgrex.", ".query!", ".query(")) \
        or has_word(code, "Repo.", end=False)


def read_handler(mod: Module, rel: str) -> Handler:
    """What a controller or plug module does: queries the database, matches paths itself, in a
    pattern (`%{request_path: "/up"}`, `path_info: ["up"]`) or in a guard on the path it binds
    (`%{request_path: path}` then `when path in @status_paths`)."""
    body = text(mod.node)
    paths: list[str] = []
    bound: set[str] = set()  # variables holding the request path
    for node in _descendants(mod.node, "pair"):
        key = node.child_by_field_name("key")
        value = node.child_by_field_name("value")
        if key is None or value is None:
            continue
        name = text(key).rstrip(": ")
        if name == "path_info" and value.type == "list":
            parts = [text(c).strip('"') for c in value.named_children if c.type == "string"]
            if parts and len(parts) == len(value.named_children):
                paths.append("/" + "/".join(parts))
        elif name == "request_path" and value.type == "string":
            paths.append(text(value).strip('"'))
        elif name == "request_path" and value.type == "identifier":
            bound.add(text(value))
    if bound:
        paths += _guarded_paths(mod.node, bound)
    return Handler(mod.name, rel, line(mod.node), _queries_database(body), sorted(set(paths)))


def _guarded_paths(module: Node, bound: set[str]) -> list[str]:
    """The paths a guard compares a bound request path with: `path == "/up"`, `path in ["/up", ...]`
    or `path in @paths`, the module attribute holding strings or other such attributes."""
    attributes: dict[str, list[str]] = {}  # in order of definition, as the compiler reads them
    for node in sorted(_descendants(module, "unary_operator"), key=lambda n: n.start_byte):
        operand = node.child_by_field_name("operand")
        args = call_args(operand) if operand is not None and operand.type == "call" else []
        if text(node).startswith("@") and len(args) == 1:
            attributes[call_parts(operand)[1]] = _strings(args[0], attributes)
    found: list[str] = []
    for node in _descendants(module, "binary_operator"):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if binary_op(node) in ("in", "==") and left is not None and right is not None \
                and left.type == "identifier" and text(left) in bound:
            found += _strings(right, attributes)
    return [p for p in found if p.startswith("/")]


def _strings(node: Node, attributes: dict[str, list[str]]) -> list[str]:
    """The plain strings `node` stands for: a string, a list of them, or an attribute holding them."""
    if node.type == "string" and node.named_child_count == 1:  # its quoted content, no interpolation
        return [text(node)[1:-1]]
    if node.type == "list":
        return [s for item in node.named_children for s in _strings(item, attributes)]
    if node.type == "unary_operator" and text(node).startswith("@"):
        return attributes.get(text(node)[1:].strip(), [])
    return []


LONGPOLL_CLIENT = lazy(rb"longPollFallbackMs\s*:")
CLIENT_FILES = ("assets/js/app.js", "assets/js/app.ts", "assets/js/app.jsx", "assets/js/app.tsx")


def read_client(usage: Usage, files: dict[str, str | None]) -> None:
    """The LiveSocket options of the JS client (assets/js/app.js)."""
    for rel, body in files.items():
        if body is None or "LiveSocket" not in body:
            continue
        usage.client_file = rel
        m = LONGPOLL_CLIENT.search(body.encode())
        if m:
            usage.client_longpoll = (rel, body.encode()[: m.start()].count(b"\n") + 1)
        return


def _descendants(node, kind: str):
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == kind:
            yield current
        stack.extend(current.named_children)
