"""How the project's nodes find each other: libcluster topologies and dns_cluster queries."""

from __future__ import annotations

from phoenix_ops.elixir.values import Atom, EnvRead, Origin, Value, plain
from phoenix_ops.record import field, record

# libcluster strategy module -> the kind of discovery the doctor can repeat from outside.
STRATEGY_KINDS = {
    "Cluster.Strategy.DNSPoll": "dns_a",
    "Cluster.Strategy.Kubernetes.DNS": "dns_a",
    "Cluster.Strategy.Kubernetes.DNSSRV": "dns_srv",
    "Cluster.Strategy.Epmd": "hosts",
    "Cluster.Strategy.LocalEpmd": "local_epmd",
    "Cluster.Strategy.Kubernetes": "kubernetes_api",
    "Cluster.Strategy.Gossip": "gossip",
}


@record
class Discovery:
    source: str  # "libcluster:<topology>" or "dns_cluster"
    kind: str  # dns_a, dns_srv, hosts, local_epmd, kubernetes_api, gossip, unknown
    query: str | None = None  # DNS name, when known from files
    query_env: str | None = None  # the env var that holds the query at runtime
    basename: str | None = None
    hosts: list[str] = field(default_factory=list)
    origin: Origin | None = None
    conditional: bool = False


def cluster_discovery(project) -> list[Discovery]:
    view = project.config()
    found: list[Discovery] = []
    topologies = sorted({p[2] for p in view.subtree("libcluster", "topologies") if len(p) > 2})
    for name in topologies:
        strategy = view.get("libcluster", "topologies", name, "strategy")
        module = plain(strategy)
        kind = STRATEGY_KINDS.get(module.name, "unknown") if isinstance(module, Atom) else "unknown"
        config = {p[4]: h[-1] for p, h in view.subtree("libcluster", "topologies", name, "config").items()
                  if len(p) == 5}
        query = config.get("query") or config.get("service")
        item = Discovery(f"libcluster:{name}", kind, origin=strategy.origin if strategy else None,
                         conditional=bool(strategy and strategy.conditional))
        _fill_query(item, query)
        if kind == "dns_srv" and item.query and "." not in item.query:
            # libcluster asks SRV records of the headless service's in-cluster name.
            namespace = plain(config.get("namespace"))
            item.query = f"{item.query}.{namespace if isinstance(namespace, str) else 'default'}.svc.cluster.local"
        basename = config.get("node_basename") or config.get("application_name")
        item.basename = plain(basename) if isinstance(plain(basename), str) else None
        hosts = plain(config.get("hosts"))
        item.hosts = [h.name if isinstance(h, Atom) else str(h) for h in hosts] if isinstance(hosts, list) else []
        found.append(item)
    if any(name == "DNSCluster" for name, _, _ in project.children):
        for app in project.otp_apps:
            value = view.get(app, "dns_cluster_query")
            if value is not None:
                item = Discovery("dns_cluster", "dns_a", origin=value.origin, conditional=value.conditional)
                _fill_query(item, value)
                found.append(item)
    return found


def _fill_query(item: Discovery, value: Value | None) -> None:
    literal = plain(value)
    if isinstance(literal, str):
        item.query = literal
    elif isinstance(value, EnvRead):
        item.query_env = value.name
        default = plain(value.default)
        item.query = default if isinstance(default, str) else None
