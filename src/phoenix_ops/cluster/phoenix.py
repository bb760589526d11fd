"""What a Phoenix node holds that the cluster shares: its Phoenix.PubSub `:pg` groups, its
Phoenix.Presence trackers (replicas and presence counts per topic), and a keyed digest of each
endpoint's secret_key_base, computed on the node so the value never leaves it. Read over the
distribution connection the doctor already holds; only read-only calls."""

from __future__ import annotations

import asyncio

from phoenix_ops.cluster.dist import Connection, DistError, RemoteError
from phoenix_ops.cluster.etf import Atom, Pid, text
from phoenix_ops.patterns import lazy
from phoenix_ops.record import field, record

PG_SCOPE = Atom("Elixir.Phoenix.PubSub")  # the :pg scope every Phoenix.PubSub (PG2 adapter) joins
SHARD = lazy(r"^(?P<tracker>.+)_shard\d+$")
SHARD_MODULE = Atom("Elixir.Phoenix.Tracker.Shard")
# {{Topic, Pid, Key}, Meta, {{ReplicaName, Vsn}, Clock}} -> {Topic, ReplicaName}: no keys, no metadata.
PRESENCE_SPEC = [((((Atom("$1"), Atom("_"), Atom("_")), Atom("_"), ((Atom("$2"), Atom("_")), Atom("_")))),
                  [], [((Atom("$1"), Atom("$2")),)])]
# The endpoints' secret_key_base, as HMAC-SHA256 under a key chosen for this sweep, cut to 8 bytes:
# equal secrets give equal digests within one sweep, and nothing that outlives it.
SECRET_DIGESTS = (
    "[{{App, Key}, binary:part(crypto:mac(hmac, sha256, <<\"NONCE\">>, Skb), 0, 8)} || "
    "{App, _, _} <- application:which_applications(), {Key, Conf} <- application:get_all_env(App), "
    "is_list(Conf), Skb <- [proplists:get_value(secret_key_base, Conf)], is_binary(Skb)]."
)


def short(name: object) -> str:
    """An Elixir module name as written in Elixir (Elixir.Foo.Bar -> Foo.Bar)."""
    return str(name).removeprefix("Elixir.")


@record
class Tracker:
    """One Phoenix.Tracker shard as one node sees it."""
    replicas: dict[str, str] = field(default_factory=dict)  # replica (node) -> up, down or permdown
    presences: dict[str, dict[str, int]] = field(default_factory=dict)  # topic -> replica -> entries

    def online(self, own: str) -> dict[str, int]:
        """Presences per topic as Presence.list/2 shows them: entries of replicas not down."""
        up = {own} | {r for r, status in self.replicas.items() if status == "up"}
        counts = {topic: sum(n for r, n in by_replica.items() if r in up)
                  for topic, by_replica in self.presences.items()}
        return {t: n for t, n in counts.items() if n}


@record
class PhoenixFacts:
    pubsub: dict[str, list[str]] = field(default_factory=dict)  # pg group -> nodes of its members
    trackers: dict[str, Tracker] = field(default_factory=dict)  # shard name -> its view
    secret_digests: dict[str, bytes] = field(default_factory=dict, repr=False)  # "app Endpoint" -> digest
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """For reports: the digests themselves are left out, only which endpoints have one."""
        return {"pubsub": self.pubsub, "trackers": {k: vars(v) for k, v in self.trackers.items()},
                "endpoints": sorted(self.secret_digests), "failed": self.failed}


async def _call(conn: Connection, timeout: float, module: str, function: str, args: list) -> object:
    return await conn.call(module, function, args, timeout=timeout)


async def _pubsub(conn: Connection, timeout: float) -> dict[str, list[str]]:
    if not isinstance(await _call(conn, timeout, "erlang", "whereis", [PG_SCOPE]), Pid):
        return {}  # no :pg scope: an older PubSub (pg2) or none started; nothing to compare
    groups = await _call(conn, timeout, "pg", "which_groups", [PG_SCOPE])
    if not isinstance(groups, list):
        raise TypeError(groups)
    members = await asyncio.gather(*(_call(conn, timeout, "pg", "get_members", [PG_SCOPE, g]) for g in groups))
    return {short(g): sorted({str(p.node) for p in pids if isinstance(p, Pid)})
            for g, pids in zip(groups, members) if isinstance(pids, list)}


async def _tracker(conn: Connection, timeout: float, name: Atom) -> Tracker | None:
    pid = await _call(conn, timeout, "erlang", "whereis", [name])
    if not isinstance(pid, Pid):
        return None
    initial = await _call(conn, timeout, "proc_lib", "initial_call", [pid])
    if not (isinstance(initial, tuple) and initial and initial[0] == SHARD_MODULE):
        return None  # a process of another kind that happens to end in _shardN: never called
    replicas, entries = await asyncio.gather(
        _call(conn, timeout, "gen_server", "call", [name, Atom("replicas"), int(timeout * 1000)]),
        _call(conn, timeout, "ets", "select", [name, PRESENCE_SPEC]))
    view = Tracker()
    for replica_name, replica in (replicas or {}).items():
        status = replica.get(Atom("status")) if isinstance(replica, dict) else None
        view.replicas[str(replica_name)] = str(status)
    for topic, replica_name in entries or []:
        by_replica = view.presences.setdefault(text(topic), {})
        by_replica[str(replica_name)] = by_replica.get(str(replica_name), 0) + 1
    return view


async def trackers(conn: Connection, timeout: float) -> dict[str, Tracker]:
    names = await _call(conn, timeout, "erlang", "registered", [])
    shards = sorted(n for n in names if isinstance(n, Atom) and SHARD.match(n))
    views = await asyncio.gather(*(_tracker(conn, timeout, n) for n in shards))
    return {short(n): v for n, v in zip(shards, views) if v is not None}


async def _secret_digests(conn: Connection, timeout: float, nonce: str) -> dict[str, bytes]:
    """erl_eval on the node: scan and parse there, then evaluate; only the digests come back."""
    source = SECRET_DIGESTS.replace("NONCE", nonce)  # hex: nothing to escape
    scanned = await _call(conn, timeout, "erl_scan", "string", [list(source.encode())])
    parsed = await _call(conn, timeout, "erl_parse", "parse_exprs", [scanned[1]])
    value = await _call(conn, timeout, "erl_eval", "exprs", [parsed[1], []])
    return {f"{app} {short(key)}": bytes(digest) for (app, key), digest in value[1]}


async def gather_phoenix(conn: Connection, timeout: float, nonce: str) -> PhoenixFacts:
    facts = PhoenixFacts()
    jobs = {"pubsub": _pubsub(conn, timeout), "trackers": trackers(conn, timeout),
            "secret_digests": _secret_digests(conn, timeout, nonce)}
    results = await asyncio.gather(*jobs.values(), return_exceptions=True)
    for name, result in zip(jobs, results):
        if isinstance(result, (DistError, RemoteError, TypeError, ValueError, IndexError, AttributeError)):
            facts.failed[name] = str(result)[:200] or type(result).__name__
        elif isinstance(result, BaseException):
            raise result
        else:
            setattr(facts, name, result)
    return facts


def runs_phoenix(applications: dict[str, str]) -> bool:
    return "phoenix_pubsub" in applications
