"""CLU: nodes that find each other, with one cookie; PubSub and Presence started where they must be."""

from __future__ import annotations

from phoenix_ops.elixir.values import KW, Atom, EnvRead, Expr, Seq, plain
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.project.cluster import cluster_discovery
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.facts import (
    children_of,
    config_read,
    endpoint_before,
    started,
    where,
)
from phoenix_ops.rules.platforms import K8S_WORKLOADS
from phoenix_ops.rules.subjects import RELEASE

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
CLUSTER_CHILDREN = ("Cluster.Supervisor", "DNSCluster")
# Code that connects nodes by itself: discovery exists even when no library is configured.
CONNECT_CALLS = (b"Node.connect", b":net_kernel.connect_node", b":net_adm.ping", b"Cluster.Strategy")


def _redis_pubsub(project) -> bool:
    return any("Redis" in str(plain(c.arg.get("adapter")) or "")
               for c in children_of(project, "Phoenix.PubSub") if isinstance(c.arg, KW) and c.arg.get("adapter"))


def _code_connects(project) -> bool:
    return any(call in src.data for rel, src in project.files.files.items()
               if rel.endswith(".ex") for call in CONNECT_CALLS)


def clustered(project) -> bool:
    """Whether nodes are set to find each other: a libcluster topology, or a DNSCluster query that
    something provides (the generator's DNSCluster stays `:ignore` until DNS_CLUSTER_QUERY is set)."""
    if any(d.source.startswith("libcluster") for d in cluster_discovery(project)):
        return True
    view = project.config()
    for child in children_of(project, "Cluster.Supervisor"):
        read = config_read(child.arg.items[0] if isinstance(child.arg, Seq) and child.arg.items else child.arg)
        if view.shadowed("libcluster") or not read:
            return True  # topologies written in code: assume they are meant
        if view.shadowed(*read) or (view.has(*read) and plain(view.get(*read)) != []):
            return True  # `Application.get_env(:app, :topologies)`, which the config sets
    for child in children_of(project, "DNSCluster"):
        query = child.arg.get("query") if isinstance(child.arg, KW) else None
        read = config_read(query)
        value = view.get(*read) if read else query
        if not isinstance(value, EnvRead) or isinstance(plain(value.default), str):
            return value is not None or read is None
        if any(_provided(project, t, value.name) for t in project.deploy.targets()) or \
                value.name in _exports(project):
            return True
    return False


def _children_unread(project, *deps: str) -> str | None:
    """A children list built by code the audit does not read may start what a dependency provides."""
    dep = next((d for d in deps if project.has_dep(d)), None)
    if project.children_complete or dep is None:
        return None
    return f"an application's children are built by code the audit does not read, and {dep} is a dependency"


def _cluster_unknown(project) -> str | None:
    """Why the files cannot tell whether nodes cluster: the DNSCluster query is read from config that
    code the evaluator does not follow may set (a helper called from runtime.exs), or children are."""
    view = project.config()
    for child in children_of(project, "DNSCluster"):
        read = config_read(child.arg.get("query") if isinstance(child.arg, KW) else None)
        shadow = view.shadowed(*read) if read else None
        if shadow is not None:
            at = f" ({shadow.origin.file}:{shadow.origin.line})" if shadow.origin else ""
            code = f"`{shadow.text}`" if isinstance(shadow, Expr) else "code"
            return f"the DNSCluster query is read from :{read[0]}, :{read[1]}, which {code}{at} may set: " \
                   f"the audit does not read that code"
    return _children_unread(project, "libcluster", "dns_cluster")


PRESENCE = Subject("no module uses Phoenix.Presence", lambda project: bool(project.presence))
LIBCLUSTER = Subject("no application starts Cluster.Supervisor (libcluster)",
                     lambda project: bool(children_of(project, "Cluster.Supervisor")),
                     lambda project: _children_unread(project, "libcluster"))
DNS_CLUSTER = Subject("no application starts DNSCluster", lambda project: bool(children_of(project, "DNSCluster")),
                      lambda project: _children_unread(project, "dns_cluster"))
CLUSTERED = Subject("no libcluster topology or DNSCluster query found in the config: nodes seem not to cluster",
                    clustered, _cluster_unknown)


@rule("CLU001", "presence-without-discovery", Severity.WARNING, M, subject=PRESENCE,
      title="Phoenix.Presence is used but nodes never discover each other",
      why="""
      Presence replicates its state over PubSub between connected nodes. With two or more instances
      and no node discovery (libcluster, dns_cluster, or code connecting nodes), each node sees only
      its own users: presence lists differ by the node a browser landed on, and broadcasts reach only
      the users of one node.
      """,
      fix="""
      Add `{DNSCluster, query: Application.get_env(:my_app, :dns_cluster_query) || :ignore}` to the
      application children (before the Endpoint) and set DNS_CLUSTER_QUERY in production, or configure a
      libcluster topology for your platform.
      """)
def presence_without_discovery(project):
    discovery = children_of(project, *CLUSTER_CHILDREN) or cluster_discovery(project)
    if discovery or not project.children_complete or _redis_pubsub(project) or \
            _code_connects(project):
        return
    module, rel, line = project.presence[0]
    yield presence_without_discovery.finding(
        f"{module} uses Phoenix.Presence, and no libcluster topology, dns_cluster or code connecting nodes exists: "
        f"with several instances each node sees only its own presences", Location(path=rel, line=line), key=module)


@rule("CLU002", "libcluster-without-topologies", Severity.WARNING, H, subject=LIBCLUSTER,
      title="libcluster is started with no topology for the audited environment",
      why="""
      `Cluster.Supervisor` with an empty topology list starts fine and does nothing: the nodes never
      connect. The usual cause is a topology configured in dev.exs only, or read from config that no
      file sets for prod.
      """,
      fix="Configure `config :libcluster, topologies: [...]` for prod (in runtime.exs when it depends on the "
          "environment), with the strategy of your platform (DNSPoll, Kubernetes.DNS, Epmd hosts).")
def libcluster_without_topologies(project):
    view = project.config()
    for child in children_of(project, "Cluster.Supervisor"):
        first = child.arg.items[0] if isinstance(child.arg, Seq) and child.arg.items else child.arg
        read = config_read(first)
        if read is None:
            if plain(first) == []:
                yield libcluster_without_topologies.finding(
                    "Cluster.Supervisor is started with an empty topology list: the nodes never connect",
                    Location(path=child.file, line=child.line), key="topologies")
            continue  # topologies written in the child, or built by code
        app, key = read
        value = view.get(app, key)
        if view.shadowed(app, key) or (view.has(app, key) and plain(value) != []):
            continue
        state = "an empty list" if value is not None else "which no config sets"
        yield libcluster_without_topologies.finding(
            f"Cluster.Supervisor is started with topologies from :{app}, :{key}, {state} for {view.env}: "
            f"the nodes never connect", where(value) if value is not None else
            Location(path=child.file, line=child.line), key=f"{app}.{key}")


@rule("CLU003", "dns-cluster-query-unset", Severity.WARNING, M, subject=DNS_CLUSTER,
      title="DNSCluster is started but its query is never set for the audited environment",
      why="""
      The generator starts `{DNSCluster, query: Application.get_env(:my_app, :dns_cluster_query) ||
      :ignore}` and sets the key from DNS_CLUSTER_QUERY in runtime.exs. When the key is never set for
      prod, or is set under another application than the one the child reads, the query is `:ignore`
      and the nodes never connect.
      """,
      fix='In runtime.exs: `config :my_app, :dns_cluster_query, System.get_env("DNS_CLUSTER_QUERY")`, under '
          "the same application the child reads.")
def dns_cluster_query_unset(project):
    view = project.config()
    for child in children_of(project, "DNSCluster"):
        query = child.arg.get("query") if isinstance(child.arg, KW) else None
        read = config_read(query)
        if read is None:
            continue  # a literal or an env read in the child itself
        app, key = read
        if view.get(app, key) is not None or view.shadowed(app, key):
            continue
        others = sorted(a for a in view.keys() if a != app and view.get(a, key) is not None)
        where_else = f"; it is set under :{others[0]} instead" if others else ""
        yield dns_cluster_query_unset.finding(
            f"{started(child)} reads :{app}, :{key}, which no config sets for {view.env}{where_else}: the query is "
            f":ignore and the nodes never connect", Location(path=child.file, line=child.line), key=f"{app}.{key}",
            severity=Severity.ERROR if others else None, confidence=H if others else None)


@rule("CLU004", "pubsub-not-started", Severity.ERROR, H,
      title="The endpoint names a PubSub server that no application starts",
      why="""
      LiveView, channels and Presence broadcast through the PubSub server named by the endpoint's
      `pubsub_server`. If no supervision tree starts `Phoenix.PubSub` with that name, every broadcast
      and subscribe crashes at runtime.
      """,
      fix="Add `{Phoenix.PubSub, name: MyApp.PubSub}` to the application children, before the Endpoint.")
def pubsub_not_started(project):
    if not project.child_specs or not project.children_complete or children_of(project, "Phoenix.PubSub"):
        return
    view = project.config()
    started = {str(plain(c.arg.get("name"))) for c in project.child_specs
               if isinstance(c.arg, KW) and c.arg.get("name") is not None}
    for app, module in project.endpoint_keys():
        server = plain(view.get(app, module, "pubsub_server"))
        if isinstance(server, Atom) and server.name not in started and not view.shadowed(app, module):
            anchor = view.get(app, module, "pubsub_server")
            yield pubsub_not_started.finding(
                f"{module} uses pubsub_server {server.name}, and no application starts Phoenix.PubSub",
                where(anchor), key=module)


@rule("CLU005", "started-after-endpoint", Severity.WARNING, H,
      title="PubSub or the cluster supervisor starts after the Endpoint",
      why="""
      Children start in list order and the Endpoint accepts requests as soon as it starts. PubSub
      after the Endpoint means the first LiveViews and channels crash on subscribe; libcluster or
      DNSCluster after it means the node serves traffic before joining the cluster, and Presence and
      broadcasts miss the other nodes meanwhile. On shutdown the order reverses: the Endpoint should
      stop first.
      """,
      fix="Move `Phoenix.PubSub` and `Cluster.Supervisor`/`DNSCluster` above the Endpoint in the children list.")
def started_after_endpoint(project):
    for child in children_of(project, "Phoenix.PubSub", *CLUSTER_CHILDREN):
        endpoint = endpoint_before(project, child)
        if endpoint is not None:
            yield started_after_endpoint.finding(
                f"{started(child)} starts after {endpoint.module} (line {endpoint.line})",
                Location(path=child.file, line=child.line), key=child.module)


def _exports(project) -> dict[str, tuple[str, str, int]]:
    """RELEASE_* and friends exported by rel/env.sh.eex: name -> (value, path, line)."""
    script = project.deploy.env_sh
    return {e.name: (e.value, script.path, e.line) for e in script.exports} if script else {}


def _provided(project, target, name: str) -> tuple[str | None, Location] | None:
    """The value a deploy target gives a variable (its env, else rel/env.sh.eex), with where."""
    given = target.provides(name) if target is not None else None
    if given is not None:
        return given.value, Location(path=given.path, line=given.line)
    exported = _exports(project).get(name)
    if exported is not None:
        return exported[0], Location(path=exported[1], line=exported[2])
    return None


def _release_cookie(project) -> Location | None:
    releases = project.mix.releases
    for _, spec in releases.items if isinstance(releases, KW) else []:
        cookie = spec.get("cookie") if isinstance(spec, KW) else None
        if cookie is not None:
            return where(cookie, project.mix.file)
    for flag in project.deploy.vm_args:
        if flag.flag == "-setcookie":
            return Location(path=project.deploy.vm_args_path, line=flag.line)
    return None


@rule("CLU006", "no-fixed-release-cookie", Severity.WARNING, M, subject=CLUSTERED & RELEASE,
      title="Clustered release with no fixed cookie: every build gets a random one",
      why="""
      `mix release` writes a random cookie into each build unless RELEASE_COOKIE or a `cookie:` in the
      release config fixes it. Nodes of one build connect, but during a blue/green or rolling deploy
      the old and new versions have different cookies and refuse each other: Presence and PubSub
      split in two until the old nodes are gone.
      """,
      fix="Provide RELEASE_COOKIE from the platform's secret store (the same value for every node and "
          "version), or read it at build time into `releases: [my_app: [cookie: ...]]`.")
def no_fixed_release_cookie(project):
    if _release_cookie(project):
        return
    if _exports(project).get("RELEASE_COOKIE"):
        return
    targets = project.deploy.targets()
    if not targets or all(t.provides("RELEASE_COOKIE") for t in targets):
        return  # no deploy file to judge, or every target provides one
    unread = sorted({o for t in targets for o in t.open_env})
    note = f"; it may come from {', '.join(unread)}" if unread else ""
    yield no_fixed_release_cookie.finding(
        f"the app clusters but no deploy file provides RELEASE_COOKIE and the release sets no cookie{note}",
        Location(path=project.mix.file, line=project.mix.module_line), key="RELEASE_COOKIE",
        confidence=L if unread else None)


@rule("CLU007", "sname-across-hosts", Severity.WARNING, M, subject=CLUSTERED & RELEASE,
      title="Release nodes use short names while the deploy files run several hosts",
      why="""
      A release starts with `RELEASE_DISTRIBUTION=sname` unless told otherwise: nodes are named
      `app@hostname` and reach each other only when short host names resolve between machines,
      which containers and cloud VMs rarely provide. Discovery by DNS or IP needs long names
      (`RELEASE_DISTRIBUTION=name`, `RELEASE_NODE=app@<ip>`).
      """,
      fix='Export `RELEASE_DISTRIBUTION=name` and `RELEASE_NODE="my_app@${POD_IP or private IP}"` in '
          "rel/env.sh.eex (or the deploy target's env).")
def sname_across_hosts(project):
    for target in project.deploy.targets():
        several = (target.instances or 0) > 1 or target.platform == "fly"
        if not several:
            continue
        given = _provided(project, target, "RELEASE_DISTRIBUTION")
        if given is not None and given[0] != "sname":
            continue
        anchor = given[1] if given else Location(path=target.path, line=target.line)
        how = "sets RELEASE_DISTRIBUTION=sname" if given else "leaves RELEASE_DISTRIBUTION at its default, sname"
        yield sname_across_hosts.finding(
            f"{target.label} runs several hosts and {how}: nodes named app@hostname rarely reach each other",
            anchor, key=target.label)


def _fly_recipe_gaps(project, target, uses_dns_cluster: bool):
    app = target.name or "<app>"
    checks = [
        ("RELEASE_DISTRIBUTION", lambda v: v == "name", "RELEASE_DISTRIBUTION=name"),
        ("RELEASE_NODE", lambda v: "FLY_PRIVATE_IP" in v or "@$" in v,
         'RELEASE_NODE="${FLY_APP_NAME}-${FLY_IMAGE_REF##*-}@${FLY_PRIVATE_IP}"'),
        ("ERL_AFLAGS", lambda v: "inet6_tcp" in v, 'ERL_AFLAGS="-proto_dist inet6_tcp"'),
    ]
    if uses_dns_cluster:
        checks.append(("DNS_CLUSTER_QUERY", lambda v: ".internal" in v or "FLY_APP_NAME" in v,
                       f'DNS_CLUSTER_QUERY="{app}.internal"'))
    for name, good, recipe in checks:
        given = _provided(project, target, name)
        if given is None or given[0] is None or not good(given[0]):
            yield name, recipe, given[1] if given else None


@rule("CLU008", "fly-cluster-recipe", Severity.WARNING, M, subject=CLUSTERED & RELEASE,
      title="A clustered app on Fly misses part of the Fly clustering recipe",
      why="""
      Fly machines reach each other over an IPv6 private network, found through `<app>.internal`.
      Distribution works there only with long node names on the private IP and the IPv6 transport:
      `RELEASE_DISTRIBUTION=name`, `RELEASE_NODE=...@${FLY_PRIVATE_IP}`, `ERL_AFLAGS="-proto_dist
      inet6_tcp"`, and for dns_cluster `DNS_CLUSTER_QUERY=<app>.internal`. Any one missing and the
      machines run as separate, unconnected nodes.
      """,
      fix="Export the missing variables in rel/env.sh.eex (what `fly launch` writes) or set them in "
          "fly.toml's [env].")
def fly_cluster_recipe(project):
    uses_dns_cluster = bool(children_of(project, "DNSCluster"))
    for target in project.deploy.targets():
        if target.platform != "fly":
            continue
        for name, recipe, anchor in _fly_recipe_gaps(project, target, uses_dns_cluster):
            state = "is not set" if anchor is None else "is set to something else"
            yield fly_cluster_recipe.finding(
                f"{target.label}: {name} {state} (the Fly recipe is {recipe})",
                anchor or Location(path=target.path, line=1), key=f"{target.label}:{name}",
                hint=f"Export {recipe} in rel/env.sh.eex or fly.toml [env].")


K8S_STRATEGIES = {"Cluster.Strategy.Kubernetes", "Cluster.Strategy.Kubernetes.DNS", "Cluster.Strategy.Kubernetes.DNSSRV"}


def _topology_keys(project) -> list[tuple[str, str]]:
    """Where libcluster's topologies are configured: `config :libcluster, topologies:`, and the key each
    Cluster.Supervisor child reads them from (`Application.get_env(:my_app, :topologies)`)."""
    keys = [("libcluster", "topologies")]
    for child in children_of(project, "Cluster.Supervisor"):
        read = config_read(child.arg.items[0] if isinstance(child.arg, Seq) and child.arg.items else child.arg)
        if read and read not in keys:
            keys.append(read)
    return keys


def _k8s_topologies(project):
    view = project.config()
    for app, key in _topology_keys(project):
        for name in sorted({p[2] for p in view.subtree(app, key) if len(p) > 2}):
            strategy = plain(view.get(app, key, name, "strategy"))
            if isinstance(strategy, Atom) and strategy.name in K8S_STRATEGIES:
                mode = plain(view.get(app, key, name, "config", "mode"))
                mode = mode.name if isinstance(mode, Atom) and mode.name in NODE_FORMS else "ip"
                if strategy.name.endswith("DNSSRV"):
                    mode = "hostname"  # SRV records name each pod by its StatefulSet hostname
                yield name, strategy.name, mode, view.get(app, key, name, "strategy")


def _headless(project, with_ports: bool = False) -> bool:
    return any(o.kind == "Service" and o.get("spec", "clusterIP") == "None" and (o.get("spec", "ports") or not with_ports)
               for o in project.deploy.k8s)


def _pod_ip_from_field_ref(project, target) -> bool:
    return any(w.obj.path == target.path and w.obj.line == target.line and
               any(e.source == "fieldRef" for c in w.containers for e in c.env) for w in project.deploy.workloads())


def _k8s_topologies_unread(project) -> str | None:
    if not project.has_dep("libcluster"):
        return None
    view = project.config()
    shadow = next(filter(None, (view.shadowed(*key) for key in _topology_keys(project))), None)
    if shadow is None:
        return None
    at = f" ({shadow.origin.file}:{shadow.origin.line})" if shadow.origin else ""
    return f"libcluster's topologies are set by code{at} the audit does not read"


K8S_TOPOLOGY = Subject("no libcluster topology in the config uses a Kubernetes strategy",
                       lambda project: any(_k8s_topologies(project)), _k8s_topologies_unread)


@rule("CLU009", "kubernetes-cluster-recipe", Severity.WARNING, M, subject=K8S_TOPOLOGY & K8S_WORKLOADS,
      title="libcluster's Kubernetes strategy lacks what it needs in the manifests",
      why="""
      libcluster on Kubernetes finds pods through a headless Service (Kubernetes.DNS, DNSSRV) or the
      API server (Kubernetes, which needs RBAC to list pods), and connects to `basename@<pod IP>` in
      `:ip` mode, which needs the node named after `POD_IP` from a fieldRef and long names. A piece
      missing and each pod stays alone.
      """,
      fix="Add a headless Service (`clusterIP: None`) selecting the pods, env `POD_IP` from "
          "`fieldRef: status.podIP` with `RELEASE_DISTRIBUTION=name` and `RELEASE_NODE=app@$(POD_IP)`, and a "
          "Role allowing get/list/watch on pods bound to the pod's ServiceAccount for the API strategy.")
def kubernetes_cluster_recipe(project):
    workloads = [t for t in project.deploy.targets() if t.platform == "kubernetes"]
    kinds = {o.kind for o in project.deploy.k8s}
    for name, strategy, mode, anchor in _k8s_topologies(project):
        gaps = []
        if strategy.endswith(("DNS", "DNSSRV")) and not _headless(project):
            gaps.append("no headless Service (clusterIP: None) to resolve the pods")
        if strategy.endswith("DNSSRV") and _headless(project) and not _headless(project, with_ports=True):
            gaps.append("the headless Service declares no port, so it publishes no SRV records")
        if strategy == "Cluster.Strategy.Kubernetes" and not {"Role", "ClusterRole"} & kinds:
            gaps.append("no Role or ClusterRole letting the pods list pods (the API strategy needs RBAC)")
        form, looks_right = NODE_FORMS[mode]
        for target in workloads:
            if mode == "ip" and not _pod_ip_from_field_ref(project, target):
                gaps.append(f"{target.label} gets no POD_IP from a fieldRef (`:ip` mode names nodes by pod IP)")
            given = _provided(project, target, "RELEASE_DISTRIBUTION")
            if given is None or given[0] != "name":
                gaps.append(f"{target.label} does not set RELEASE_DISTRIBUTION=name")
            node = _provided(project, target, "RELEASE_NODE")
            if node is None or node[0] is None:
                gaps.append(f"{target.label} does not set RELEASE_NODE (`:{mode}` mode needs {form})")
            elif not looks_right(node[0]):
                gaps.append(f"{target.label} names its node {node[0]!r}, not {form} as `:{mode}` mode expects")
        for gap in gaps:
            yield kubernetes_cluster_recipe.finding(f"libcluster topology {name} ({strategy}): {gap}",
                                                    where(anchor), key=f"{name}:{gap}")


# The node name each libcluster mode connects to: basename@<pod IP>, @<a-b-c-d>.<ns>.pod.cluster.local,
# or @<hostname>.<service>.<ns>.svc.cluster.local (a StatefulSet behind a headless Service).
NODE_FORMS = {
    "ip": ("app@$(POD_IP)", lambda v: "POD_IP" in v),
    "dns": ("app@<pod-ip-with-dashes>.<namespace>.pod.cluster.local", lambda v: ".pod." in v or "POD_IP" in v),
    "hostname": ("app@$(HOSTNAME).<service>.<namespace>.svc.cluster.local",
                 lambda v: "HOSTNAME" in v.upper() or ".svc." in v),
}
