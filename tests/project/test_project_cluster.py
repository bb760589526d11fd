from pathlib import Path

from project_shapes import GOOD

from phoenix_ops.project import load_project
from phoenix_ops.project.cluster import cluster_discovery

LIBCLUSTER = '''
config :libcluster,
  topologies: [
    fly: [
      strategy: Cluster.Strategy.DNSPoll,
      config: [polling_interval: 5_000, query: System.get_env("CLUSTER_QUERY", "demo.internal"),
               node_basename: "demo"]
    ],
    k8s: [
      strategy: Cluster.Strategy.Kubernetes.DNSSRV,
      config: [service: "demo-headless", application_name: "demo", namespace: "prod"]
    ],
    static: [strategy: Cluster.Strategy.Epmd, config: [hosts: [:"a@10.0.0.1", :"b@10.0.0.2"]]]
  ]
'''


def write(tmp_path: Path, extra: dict[str, str]) -> Path:
    for rel, body in {**GOOD, **extra}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    return tmp_path


def test_libcluster_topologies(tmp_path):
    runtime = GOOD["config/runtime.exs"] + "\n" + LIBCLUSTER
    found = {d.source: d for d in cluster_discovery(load_project(write(tmp_path, {"config/runtime.exs": runtime})))}
    fly = found["libcluster:fly"]
    assert (fly.kind, fly.query, fly.query_env, fly.basename) == ("dns_a", "demo.internal", "CLUSTER_QUERY", "demo")
    k8s = found["libcluster:k8s"]
    assert (k8s.kind, k8s.query, k8s.basename) == ("dns_srv", "demo-headless.prod.svc.cluster.local", "demo")
    assert found["libcluster:static"].hosts == ["a@10.0.0.1", "b@10.0.0.2"]


def test_dns_cluster_child_and_query(tmp_path):
    app = '''
defmodule Demo.Application do
  use Application
  def start(_type, _args) do
    children = [{DNSCluster, query: Application.get_env(:demo, :dns_cluster_query) || :ignore}]
    Supervisor.start_link(children, strategy: :one_for_one)
  end
end
'''
    runtime = GOOD["config/runtime.exs"] + '\nconfig :demo, :dns_cluster_query, System.get_env("DNS_CLUSTER_QUERY")\n'
    project = load_project(write(tmp_path, {"config/runtime.exs": runtime, "lib/demo/application.ex": app}))
    (d,) = cluster_discovery(project)
    assert (d.source, d.kind, d.query, d.query_env) == ("dns_cluster", "dns_a", None, "DNS_CLUSTER_QUERY")


def test_no_clustering_configured(tmp_path):
    assert cluster_discovery(load_project(write(tmp_path, {}))) == []
