"""CLU rules: node discovery, PubSub and Presence start order, cookies and the per-platform recipes."""

from project_shapes import GOOD, ids

APPLICATION = '''
defmodule Demo.Application do
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      DemoWeb.Telemetry,
      Demo.Repo,
      {DNSCluster, query: Application.get_env(:demo, :dns_cluster_query) || :ignore},
      {Phoenix.PubSub, name: Demo.PubSub},
      DemoWeb.Endpoint
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: Demo.Supervisor)
  end
end
'''
DNS_QUERY = '\n  config :demo, :dns_cluster_query, System.get_env("DNS_CLUSTER_QUERY")\nend\n'
RUNTIME = GOOD["config/runtime.exs"].rstrip()[: -len("end")].rstrip() + DNS_QUERY
PRESENCE = "defmodule DemoWeb.Presence do\n  use Phoenix.Presence, otp_app: :demo, pubsub_server: Demo.PubSub\nend\n"
LIBCLUSTER_APP = APPLICATION.replace(
    "      {DNSCluster, query: Application.get_env(:demo, :dns_cluster_query) || :ignore},\n",
    "      {Cluster.Supervisor, [topologies, [name: Demo.ClusterSupervisor]]},\n").replace(
    "    children = [", "    topologies = Application.get_env(:libcluster, :topologies) || []\n\n    children = [")
FLY_ENV_SH = '''#!/bin/sh
export ERL_AFLAGS="-proto_dist inet6_tcp"
export ECTO_IPV6="true"
export DNS_CLUSTER_QUERY="${FLY_APP_NAME}.internal"
export RELEASE_DISTRIBUTION="name"
export RELEASE_NODE="${FLY_APP_NAME}-${FLY_IMAGE_REF##*-}@${FLY_PRIVATE_IP}"
'''
FLY = 'app = "demo"\n\n[env]\n  PHX_HOST = "demo.fly.dev"\n  RELEASE_COOKIE = "from-fly-env-not-secret"\n'


def generated(**extra):
    return {"lib/demo/application.ex": APPLICATION, "config/runtime.exs": RUNTIME, **extra}


def test_generated_application_raises_nothing(fresh_project, findings):
    project = fresh_project(generated())
    assert [f for f in findings(project) if f.rule_id.startswith("CLU")] == []


def test_clu001_presence_without_discovery(fresh_project, findings):
    app = APPLICATION.replace(
        "      {DNSCluster, query: Application.get_env(:demo, :dns_cluster_query) || :ignore},\n", "")
    (got,) = findings(fresh_project(generated(**{"lib/demo/application.ex": app, "lib/demo_web/presence.ex": PRESENCE})),
                      "CLU001")
    assert got.location.path == "lib/demo_web/presence.ex" and "DemoWeb.Presence" in got.message
    assert findings(fresh_project({"lib/demo_web/presence.ex": PRESENCE, "lib/demo/application.ex": APPLICATION}),
                    "CLU001") == []
    connects = "defmodule Demo.Nodes do\n  def join(n), do: Node.connect(n)\nend\n"
    assert findings(fresh_project({"lib/demo/application.ex": app, "lib/demo/nodes.ex": connects}), "CLU001") == []


def test_clu002_libcluster_topologies_only_in_dev(fresh_project, findings):
    dev = GOOD["config/dev.exs"] + 'config :libcluster, topologies: [local: [strategy: Cluster.Strategy.Epmd]]\n'
    (got,) = findings(fresh_project(generated(**{"lib/demo/application.ex": LIBCLUSTER_APP, "config/dev.exs": dev})),
                      "CLU002")
    assert "which no config sets for prod" in got.message
    prod = GOOD["config/prod.exs"] + 'config :libcluster, topologies: [dns: [strategy: Cluster.Strategy.DNSPoll, ' \
        'config: [query: "demo.internal", node_basename: "demo"]]]\n'
    assert findings(fresh_project(generated(**{"lib/demo/application.ex": LIBCLUSTER_APP, "config/prod.exs": prod})),
                    "CLU002") == []
    empty = GOOD["config/prod.exs"] + "config :libcluster, topologies: []\n"
    (got,) = findings(fresh_project(generated(**{"lib/demo/application.ex": LIBCLUSTER_APP,
                                                "config/prod.exs": empty})), "CLU002")
    assert "an empty list" in got.message and got.location.path == "config/prod.exs"


def test_clu003_dns_cluster_query_never_set_or_set_under_another_app(fresh_project, findings):
    (got,) = findings(fresh_project({"lib/demo/application.ex": APPLICATION}), "CLU003")
    assert got.severity.label == "warning" and ":demo, :dns_cluster_query" in got.message
    other = RUNTIME.replace("config :demo, :dns_cluster_query", "config :demo_web, :dns_cluster_query")
    (got,) = findings(fresh_project(generated(**{"config/runtime.exs": other})), "CLU003")
    assert got.severity.label == "error" and "it is set under :demo_web instead" in got.message
    assert findings(fresh_project(generated()), "CLU003") == []


def test_clu004_pubsub_not_started(fresh_project, findings):
    config = GOOD["config/config.exs"].replace("url: [host: \"localhost\"],",
                                               "url: [host: \"localhost\"], pubsub_server: Demo.PubSub,")
    app = APPLICATION.replace("      {Phoenix.PubSub, name: Demo.PubSub},\n", "")
    (got,) = findings(fresh_project(generated(**{"lib/demo/application.ex": app, "config/config.exs": config})),
                      "CLU004")
    assert "Demo.PubSub" in got.message
    assert findings(fresh_project(generated(**{"config/config.exs": config})), "CLU004") == []


def test_clu005_pubsub_and_cluster_after_endpoint(fresh_project, findings):
    late = APPLICATION.replace("      DemoWeb.Endpoint\n", "").replace(
        "      Demo.Repo,\n", "      Demo.Repo,\n      DemoWeb.Endpoint,\n")
    got = findings(fresh_project(generated(**{"lib/demo/application.ex": late})), "CLU005")
    assert sorted(f.key for f in got) == ["DNSCluster", "Phoenix.PubSub"]
    assert findings(fresh_project(generated()), "CLU005") == []


def test_clu006_no_fixed_cookie_when_clustering(fresh_project, findings):
    fly = 'app = "demo"\n'
    (got,) = findings(fresh_project(generated(**{"fly.toml": fly, "rel/env.sh.eex": FLY_ENV_SH})), "CLU006")
    assert got.confidence.label == "low" and "fly secrets" in got.message
    k8s = with_env("- name: RELEASE_COOKIE", "  valueFrom: {secretKeyRef: {name: demo, key: cookie}}")
    clustered = {"lib/demo/application.ex": LIBCLUSTER_APP, "config/prod.exs": K8S_TOPOLOGY}
    assert findings(fresh_project(generated(**clustered, **{"k8s/app.yaml": k8s})), "CLU006") == []
    (got,) = findings(fresh_project(generated(**clustered, **{"k8s/app.yaml": DEPLOYMENT})), "CLU006")
    assert got.confidence.label == "medium"
    assert findings(fresh_project(), "CLU006") == []  # no clustering: one node needs no shared cookie


def test_clu007_sname_across_hosts(fresh_project, findings):
    clustered = {"lib/demo/application.ex": LIBCLUSTER_APP, "config/prod.exs": K8S_TOPOLOGY}
    (got,) = findings(fresh_project(generated(**clustered, **{"k8s/app.yaml": DEPLOYMENT})), "CLU007")
    assert "default, sname" in got.message
    own_key = {"lib/demo/application.ex": LIBCLUSTER_APP.replace("(:libcluster, :topologies)", "(:demo, :topologies)"),
               "config/prod.exs": K8S_TOPOLOGY.replace("config :libcluster,", "config :demo,")}
    (got,) = findings(fresh_project(generated(**own_key, **{"k8s/app.yaml": DEPLOYMENT})), "CLU007")
    named = with_env("- name: RELEASE_DISTRIBUTION", "  value: name")
    assert findings(fresh_project(generated(**clustered, **{"k8s/app.yaml": named})), "CLU007") == []
    assert findings(fresh_project(generated(**{"k8s/app.yaml": DEPLOYMENT})), "CLU007") == []  # query unset


def test_clu008_fly_recipe(fresh_project, findings):
    query_only = '#!/bin/sh\nexport DNS_CLUSTER_QUERY="${FLY_APP_NAME}.internal"\n'
    assert findings(fresh_project(generated(**{"fly.toml": FLY})), "CLU008") == []  # DNSCluster left at :ignore
    got = findings(fresh_project(generated(**{"fly.toml": FLY, "rel/env.sh.eex": query_only})), "CLU008")
    assert sorted(f.key.split(":")[1] for f in got) == ["ERL_AFLAGS", "RELEASE_DISTRIBUTION", "RELEASE_NODE"]
    assert 'ERL_AFLAGS="-proto_dist inet6_tcp"' in next(f.message for f in got if "ERL_AFLAGS" in f.key)
    assert findings(fresh_project(generated(**{"fly.toml": FLY, "rel/env.sh.eex": FLY_ENV_SH})), "CLU008") == []
    assert findings(fresh_project({"fly.toml": FLY}), "CLU008") == []  # one node: no recipe needed


DEPLOYMENT = '''apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  replicas: 3
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
        - name: demo
          image: demo:latest
          env:
            - name: PHX_HOST
              value: demo.example.com
'''


def with_env(*lines: str) -> str:
    return DEPLOYMENT.replace("          env:\n", "          env:\n" + "".join(f"            {x}\n" for x in lines))


K8S_TOPOLOGY = GOOD["config/prod.exs"] + '''config :libcluster,
  topologies: [k8s: [strategy: Cluster.Strategy.Kubernetes, config: [mode: :ip, kubernetes_node_basename: "demo",
    kubernetes_selector: "app=demo"]]]
'''


def test_clu009_kubernetes_recipe(fresh_project, findings):
    files = {"lib/demo/application.ex": LIBCLUSTER_APP, "config/prod.exs": K8S_TOPOLOGY, "k8s/app.yaml": DEPLOYMENT}
    got = findings(fresh_project(generated(**files)), "CLU009")
    messages = " | ".join(f.message for f in got)
    assert "RBAC" in messages and "POD_IP" in messages and "RELEASE_DISTRIBUTION=name" in messages
    complete = with_env("- name: POD_IP", "  valueFrom: {fieldRef: {fieldPath: status.podIP}}",
                        "- name: RELEASE_DISTRIBUTION", "  value: name",
                        "- name: RELEASE_NODE", "  value: demo@$(POD_IP)") + '''---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch]
'''
    project = fresh_project(generated(**{**files, "k8s/app.yaml": complete}))
    assert project.deploy.k8s and findings(project, "CLU009") == []
    dns = K8S_TOPOLOGY.replace("Cluster.Strategy.Kubernetes,", "Cluster.Strategy.Kubernetes.DNS,")
    got = findings(fresh_project(generated(**{**files, "config/prod.exs": dns, "k8s/app.yaml": complete})), "CLU009")
    assert [f.message.split(": ", 1)[1] for f in got] == ["no headless Service (clusterIP: None) to resolve the pods"]


def test_cluster_rules_quiet_without_their_subject(fresh_project, findings):
    assert ids(f for f in findings(fresh_project()) if f.rule_id.startswith("CLU")) == []


def test_clu009_node_name_form_and_srv_ports(fresh_project, findings):
    files = {"lib/demo/application.ex": LIBCLUSTER_APP, "k8s/app.yaml": with_env(
        "- name: RELEASE_DISTRIBUTION", "  value: name", "- name: RELEASE_NODE", "  value: demo@$(POD_IP)") +
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: demo-headless}\nspec:\n  clusterIP: None\n"
        "  selector: {app: demo}\n"}
    srv = K8S_TOPOLOGY.replace("Cluster.Strategy.Kubernetes,", "Cluster.Strategy.Kubernetes.DNSSRV,")
    got = [f.message.split(": ", 1)[1] for f in findings(fresh_project(generated(**files, **{"config/prod.exs": srv})),
                                                         "CLU009")]
    assert got == ["the headless Service declares no port, so it publishes no SRV records",
                   "kubernetes Deployment/demo names its node 'demo@$(POD_IP)', not "
                   "app@$(HOSTNAME).<service>.<namespace>.svc.cluster.local as `:hostname` mode expects"]
