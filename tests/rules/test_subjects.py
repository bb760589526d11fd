"""What a rule judges, and what the checklist says when a project lacks it or its files cannot tell."""

from project_shapes import GOOD
from rules.test_clustering import (
    APPLICATION,
    DEPLOYMENT,
    K8S_TOPOLOGY,
    LIBCLUSTER_APP,
    generated,
)
from rules.test_web import router

from phoenix_ops.catalog import catalog
from phoenix_ops.check.pipeline import CheckOptions, run_check
from phoenix_ops.rule import NOT_APPLICABLE, NOT_DETERMINED, Subject

STATIC = catalog("static")
RELEASE_DOCKERFILE = '''FROM hexpm/elixir:1.17.3-erlang-27.1.2-debian-bookworm-20241016-slim AS build
ENV MIX_ENV=prod
WORKDIR /app
COPY mix.exs mix.lock ./
RUN mix deps.get --only prod
COPY . .
RUN mix do compile + release

FROM debian:bookworm-20241016-slim
RUN apt-get update -y && apt-get install -y libstdc++6 openssl libncurses5 locales ca-certificates
ENV LANG=C.UTF-8
WORKDIR /app
COPY --from=build /app/_build/prod/rel/demo ./
USER nobody
CMD ["/app/bin/server"]
'''


def outcomes(fresh_project, files: dict, area: str | tuple[str, ...] = ""):
    """(not applicable, not determined) of the static rules of `area`, after `check` on the project."""
    result = run_check(fresh_project(files).root, CheckOptions(), [r for r in STATIC if r.id.startswith(area)])
    return result.not_applicable, result.not_determined


def test_a_surely_absent_part_outweighs_one_that_cannot_be_told():
    here = Subject("no here", lambda p: True)
    gone = Subject("no gone", lambda p: False)
    murky = Subject("no murky", lambda p: False, lambda p: "code not read")
    assert (here & murky).standing(None) == (NOT_DETERMINED, "code not read")
    assert (murky & gone).standing(None) == (NOT_APPLICABLE, "no gone")
    assert (here & here).standing(None) is None


def test_dockerfile_rules_need_a_dockerfile_that_builds_the_release(fresh_project):
    docker = ("DEP00", "DEP01")
    na, nd = outcomes(fresh_project, {}, docker)
    assert na["DEP001"] == "no production Dockerfile runs `mix release`" and na["DEP006"].startswith("no production")
    assert not nd
    na, nd = outcomes(fresh_project, {"Dockerfile": RELEASE_DOCKERFILE}, docker)  # `mix do ... + release` builds it
    assert set(na) == {"DEP005"} and not nd  # no asset pipeline to build
    na, nd = outcomes(fresh_project, {"Dockerfile": RELEASE_DOCKERFILE, "assets/package.json": "{}"}, "DEP005")
    assert "DEP005" not in na  # an asset pipeline to build
    helper = {"Dockerfile": None, "assets/package.json": "{}", "iframe/mix.exs": GOOD["mix.exs"].replace("Demo", "Frame"),
              "iframe/Dockerfile": RELEASE_DOCKERFILE}
    project = fresh_project(helper)
    assert [f.location.path for f in STATIC["DEP005"].check(project)] == []  # another app's Dockerfile


def test_a_dockerfile_that_does_not_parse_leaves_the_docker_rules_undetermined(fresh_project):
    na, nd = outcomes(fresh_project, {"Dockerfile": "FROM alpine\nRUN <<EOF\nnever closed\n"}, "DEP001")
    assert nd["DEP001"] == "Dockerfile does not parse: whether it builds the release is unknown", (na, nd)


def test_platform_rules_need_their_platform(fresh_project):
    na, _ = outcomes(fresh_project, {}, "DEP")
    assert na["DEP021"] == "no fly.toml or render.yaml" and na["DEP028"] == "no fly.toml"
    assert na["DEP022"].startswith("no Kubernetes") and na["DEP030"] == "no systemd unit among the deploy files"
    assert na["DEP040"] == "no deploy target sets a CPU limit" and na["DEP027"] == "no deploy file is a template"
    na, nd = outcomes(fresh_project, {"fly.toml": 'app = "demo"\nkill_signal = "SIGTERM"\n'}, "DEP")
    assert "DEP021" not in na and "DEP028" not in na


def test_a_helm_chart_leaves_the_kubernetes_rules_undetermined(fresh_project):
    chart = {"chart/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\n"
                                                "metadata:\n  name: {{ .Release.Name }}\n"}
    _, nd = outcomes(fresh_project, chart, "DEP02")
    assert nd["DEP022"] == "chart/templates/deployment.yaml is a template (Helm): its objects are not evaluated"


def test_otp_version_unknown_leaves_database_tls_undetermined(fresh_project):
    _, nd = outcomes(fresh_project, {}, "DEP052")
    assert nd == {"DEP052": "no Dockerfile image or .tool-versions names the OTP version the release is built with"}
    na, nd = outcomes(fresh_project, {".tool-versions": "erlang 25.3\nelixir 1.14.5\n"}, "DEP052")
    assert na == {"DEP052": "the release is built on OTP 25 or older"} and not nd


def test_asset_rules_need_an_asset_pipeline_or_static_files(fresh_project):
    endpoint = GOOD["lib/demo_web/endpoint.ex"].replace("  plug Plug.Static, at: \"/\", from: :demo, gzip: true\n", "")
    na, _ = outcomes(fresh_project, {"lib/demo_web/endpoint.ex": endpoint}, "AST")
    assert na["AST001"].startswith("no asset pipeline") and na["AST002"] == "no endpoint serves Plug.Static in prod"
    assert "AST003" not in na  # watchers in prod concern every app
    na, _ = outcomes(fresh_project, {"mix.exs": GOOD["mix.exs"].replace('{:bandit, "~> 1.5"}',
                                                                         '{:bandit, "~> 1.5"}, {:esbuild, "~> 0.8"}')},
                     "AST")
    assert not na


def test_deps_built_by_code_leave_dependency_subjects_undetermined(fresh_project):
    coded = GOOD["mix.exs"].replace("deps: deps()", "deps: deps() ++ extra_deps()").replace(
        "\nend\n", "\n  defp extra_deps, do: Enum.map(~w(oban)a, &{&1, \">= 0.0.0\"})\nend\n")
    na, nd = outcomes(fresh_project, {"mix.exs": coded}, "JOB")
    assert nd["JOB001"] == "mix.exs builds its deps list with code the audit does not read", (na, nd)
    locked = '%{\n  "phoenix": {:hex, :phoenix, "1.7.14", "x", [:mix], [], "hexpm", "y"},\n}\n'
    na, nd = outcomes(fresh_project, {"mix.exs": coded, "mix.lock": locked}, "JOB")
    assert na["JOB001"] == "Oban is not a dependency" and not nd  # mix.lock lists every package: no Oban


def test_health_rules_need_a_health_path_or_a_platform_check(fresh_project):
    na, nd = outcomes(fresh_project, {}, "HLT")
    assert na["HLT003"] == "the app serves no health path (/health, /healthz, ...)" and "HLT001" not in na
    assert na["HLT005"] == "no deploy file declares an HTTP health check" and not nd
    endpoint = GOOD["lib/demo_web/endpoint.ex"].replace("  plug Plug.Telemetry", "  plug :health\n  plug Plug.Telemetry")
    _, nd = outcomes(fresh_project, {"lib/demo_web/endpoint.ex": endpoint}, "HLT")
    assert nd["HLT003"] == "no health route found, and DemoWeb.Endpoint plugs :health, a function that may answer one"


def test_a_query_set_by_code_runtime_exs_calls_is_not_determined(fresh_project):
    runtime = GOOD["config/runtime.exs"] + "\nDemo.Config.configure_runtime()\n"
    na, nd = outcomes(fresh_project, generated(**{"config/runtime.exs": runtime}), "CLU")
    assert nd["CLU006"] == ("the DNSCluster query is read from :demo, :dns_cluster_query, which "
                            "`Demo.Config.configure_runtime()` (config/runtime.exs:40) may set: "
                            "the audit does not read that code"), nd
    assert {"CLU006", "CLU007", "CLU008"} <= set(nd) and "CLU006" not in na
    na, nd = outcomes(fresh_project, generated(), "CLU")  # the generator's own runtime.exs: read to the end
    assert "CLU006" not in nd and na["CLU006"].startswith("no libcluster topology or DNSCluster query")


def test_children_built_by_code_leave_the_cluster_child_undetermined(fresh_project):
    coded = APPLICATION.replace("      {DNSCluster, query: Application.get_env(:demo, :dns_cluster_query) || :ignore},\n",
                                "").replace("    ]\n", "    ] ++ Demo.Cluster.children()\n")
    mix = GOOD["mix.exs"].replace('{:bandit, "~> 1.5"}', '{:bandit, "~> 1.5"}, {:dns_cluster, "~> 0.1"}')
    na, nd = outcomes(fresh_project, {"lib/demo/application.ex": coded, "mix.exs": mix}, "CLU00")
    assert nd.get("CLU003", "").startswith("an application's children are built by code"), (na, nd)
    na, nd = outcomes(fresh_project, {"lib/demo/application.ex": coded}, "CLU00")
    assert na["CLU003"] == "no application starts DNSCluster"  # no dns_cluster dependency: nothing to start


def test_a_child_behind_a_condition_is_judged(fresh_project):
    """`cond && child` (filtered with `Enum.filter(& &1)`) and `if cond, do: child` may start: the
    DNSCluster child is judged (its query is never set here), never called absent or unknown."""
    flame = APPLICATION.replace("      {DNSCluster,", "      !parent && {DNSCluster,").replace(
        "    children = [", "    parent = FLAME.Parent.get()\n\n    children =\n      [").replace(
        "    ]\n", "    ]\n      |> Enum.filter(& &1)\n")
    inline_if = APPLICATION.replace("      {DNSCluster, query: Application.get_env(:demo, :dns_cluster_query) || :ignore},",
                                    "      if(System.get_env(\"CLUSTER\"), do: {DNSCluster, query: "
                                    "Application.get_env(:demo, :dns_cluster_query) || :ignore}),")
    mix = GOOD["mix.exs"].replace('{:bandit, "~> 1.5"}', '{:bandit, "~> 1.5"}, {:dns_cluster, "~> 0.1"}')
    for application, condition in ((flame, "!parent"), (inline_if, 'System.get_env("CLUSTER")')):
        result = run_check(fresh_project({"lib/demo/application.ex": application, "mix.exs": mix}).root,
                           CheckOptions(), [STATIC["CLU003"]])
        assert "CLU003" not in result.not_applicable and "CLU003" not in result.not_determined
        (finding,) = result.findings
        assert finding.message.startswith(f"DNSCluster (started when `{condition}`) reads :demo, :dns_cluster_query")
        assert "DNSCluster" in application.splitlines()[finding.location.line - 1]


def test_release_rules_do_not_apply_to_an_app_run_with_mix(fresh_project):
    na, _ = outcomes(fresh_project, {"Procfile": "web: mix phx.server\n", "rel/overlays/bin/server": None}, "REL0")
    assert na["REL001"] == "the files show the app runs with `mix phx.server`, not as a release"


def test_web_obs_and_sec_rules_with_a_subject_of_their_own(fresh_project):
    na, nd = outcomes(fresh_project, {".env": "SECRET_KEY_BASE=abc\n"}, ("WEB", "OBS", "SEC"))
    assert na["WEB006"] == "no CORS plug in an endpoint or a router pipeline" and na["WEB015"] == "no rate limiting found"
    assert na["WEB009"] == "no LiveSocket client file among the assets" and na["SEC006"] == "no config/*.secret.exs file"
    assert na["OBS008"].startswith("no Prometheus reporter") and "WEB001" not in na  # HTTPS concerns every app
    assert nd == {"SEC005": "not a git checkout: which files are committed is unknown"}
    na, nd = outcomes(fresh_project, {}, "SEC005")
    assert na == {"SEC005": "no .env-style file in the project"} and not nd


def test_kubernetes_recipe_needs_a_kubernetes_topology_and_workload(fresh_project):
    topology = {"lib/demo/application.ex": LIBCLUSTER_APP, "config/prod.exs": K8S_TOPOLOGY}
    na, nd = outcomes(fresh_project, generated(**topology, **{"k8s/app.yaml": DEPLOYMENT}), "CLU009")
    assert not na and not nd  # judged: it finds the recipe's gaps (test_clustering)
    na, nd = outcomes(fresh_project, generated(**topology), "CLU009")
    assert na == {"CLU009": "no Kubernetes Deployment, StatefulSet, Rollout or DaemonSet in the deploy files"}
    na, nd = outcomes(fresh_project, generated(**{"k8s/app.yaml": DEPLOYMENT}), "CLU009")
    assert na == {"CLU009": "no libcluster topology in the config uses a Kubernetes strategy"} and not nd
    own_key = {"lib/demo/application.ex": LIBCLUSTER_APP.replace("get_env(:libcluster, :topologies)",
                                                                 "get_env(:demo, :topologies)"),
               "config/prod.exs": K8S_TOPOLOGY.replace("config :libcluster,", "config :demo,"),
               "k8s/app.yaml": DEPLOYMENT}
    result = run_check(fresh_project(generated(**own_key)).root, CheckOptions(), [STATIC["CLU009"]])
    assert not result.not_applicable and result.findings  # the topologies the child reads, under the app's key
    mix = GOOD["mix.exs"].replace('{:bandit, "~> 1.5"}', '{:bandit, "~> 1.5"}, {:libcluster, "~> 3.3"}')
    coded = GOOD["config/runtime.exs"] + "\nconfig :libcluster, topologies: Demo.Cluster.topologies()\n"
    na, nd = outcomes(fresh_project, generated(**{"k8s/app.yaml": DEPLOYMENT, "mix.exs": mix,
                                                  "config/runtime.exs": coded}), "CLU009")
    assert nd["CLU009"].startswith("libcluster's topologies are set by code (config/runtime.exs:"), (na, nd)


def test_metrics_endpoint_rule_needs_metrics_served_by_the_app(fresh_project):
    na, nd = outcomes(fresh_project, {}, "OBS009")
    assert na == {"OBS009": "no endpoint plug or route serves metrics (a separate metrics server is not judged)"}
    behind_auth = router('''
  scope "/" do
    pipe_through :admin
    forward "/metrics", PromEx.Plug, prom_ex_module: Demo.PromEx
  end
''')
    na, nd = outcomes(fresh_project, {"lib/demo_web/router.ex": behind_auth}, "OBS009")
    assert not na and not nd  # served, behind authentication: passed
    own = GOOD["lib/demo_web/endpoint.ex"].replace("  plug Plug.Telemetry", "  plug DemoWeb.MetricsExporter\n  plug Plug.Telemetry")
    na, nd = outcomes(fresh_project, {"lib/demo_web/endpoint.ex": own}, "OBS009")
    assert nd == {"OBS009": "DemoWeb.Endpoint plugs DemoWeb.MetricsExporter, which may serve metrics: "
                            "the audit does not read it"} and not na
