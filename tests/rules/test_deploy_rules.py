"""DEP rules: each fires on the shape it names; a generator-shaped deploy (Dockerfile, fly.toml,
Kubernetes, systemd) raises none of them."""

import pytest
from project_shapes import GOOD, ids

MIGRATION = '''
defmodule Demo.Repo.Migrations.CreateUsers do
  use Ecto.Migration
  def change do
    create table(:users) do
      add :email, :string
    end
  end
end
'''

# Shaped like `mix phx.gen.release --docker` output, written here.
DOCKERFILE = '''
ARG ELIXIR_VERSION=1.17.3
ARG OTP_VERSION=27.1.2
ARG DEBIAN_VERSION=bookworm-20241016-slim
ARG BUILDER_IMAGE="hexpm/elixir:${ELIXIR_VERSION}-erlang-${OTP_VERSION}-debian-${DEBIAN_VERSION}"
ARG RUNNER_IMAGE="debian:${DEBIAN_VERSION}"

FROM ${BUILDER_IMAGE} AS builder
RUN apt-get update -y && apt-get install -y build-essential git
WORKDIR /app
ENV MIX_ENV="prod"
COPY mix.exs mix.lock ./
RUN mix deps.get --only $MIX_ENV
RUN mix deps.compile
COPY lib lib
COPY assets assets
RUN mix assets.deploy
RUN mix compile
COPY config/runtime.exs config/
RUN mix release

FROM ${RUNNER_IMAGE}
RUN apt-get update -y && apt-get install -y libstdc++6 openssl libncurses6 locales ca-certificates
ENV LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8
WORKDIR /app
COPY --from=builder --chown=nobody:root /app/_build/prod/rel/demo ./
USER nobody
CMD ["/app/bin/server"]
'''
DOCKERIGNORE = "/_build/\n/deps/\n.env*\n"
FLY = '''
app = "demo"
kill_signal = "SIGTERM"
kill_timeout = "30s"

[deploy]
  release_command = "/app/bin/migrate"

[http_service]
  internal_port = 4000
  [http_service.concurrency]
    type = "connections"
  [[http_service.checks]]
    path = "/health"
'''
K8S = '''
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo}
spec:
  replicas: 2
  template:
    spec:
      terminationGracePeriodSeconds: 45
      initContainers:
        - name: migrate
          command: ["/app/bin/migrate"]
      containers:
        - name: web
          image: demo:1.0.0
          env:
            - name: SECRET_KEY_BASE
              valueFrom: {secretKeyRef: {name: demo, key: skb}}
            - name: DATABASE_URL
              valueFrom: {secretKeyRef: {name: demo, key: db}}
            - name: POOL_SIZE
              value: "10"
          readinessProbe: {httpGet: {path: /health, port: 4000}}
          livenessProbe: {httpGet: {path: /health, port: 4000}}
          lifecycle: {preStop: {exec: {command: ["sleep", "5"]}}}
          resources: {limits: {cpu: "2"}}
---
apiVersion: v1
kind: Service
metadata: {name: demo-headless}
spec: {clusterIP: None, selector: {app: demo}}
'''
UNIT = '''
[Service]
Type=exec
Environment=PHX_SERVER=true
EnvironmentFile=/etc/demo/env
ExecStart=/opt/demo/bin/demo start
Restart=on-failure
LimitNOFILE=65536
TimeoutStopSec=60
'''
GOOD_RUNTIME = GOOD["config/runtime.exs"].replace("ssl: true,", "ssl: [verify: :verify_peer, cacerts: :public_key.cacerts_get()],")
GOOD_DEPLOY = {"config/runtime.exs": GOOD_RUNTIME, "priv/repo/migrations/20240101000000_create_users.exs": MIGRATION, "Dockerfile": DOCKERFILE,
               ".dockerignore": DOCKERIGNORE, "fly.toml": FLY, "assets/package.json": "{}"}


@pytest.fixture
def dep(make_project, findings):
    """DEP findings (and REL050 per target) of GOOD plus a good deploy, with overrides."""
    def run(overrides=None, rule_id=None):
        project = make_project({**GOOD_DEPLOY, **(overrides or {})})
        return [f for f in findings(project, rule_id) if f.rule_id.startswith("DEP")]
    return run


def test_a_generator_shaped_deploy_raises_nothing(dep):
    assert ids(dep()) == []
    assert ids(dep({"deploy/k8s/app.yaml": K8S, "fly.toml": None})) == []
    assert ids(dep({"rel/demo.service": UNIT, "fly.toml": None})) == []


@pytest.mark.parametrize("rule_id, before, after", [
    ("DEP001", 'FROM ${RUNNER_IMAGE}\n', "RUN echo single\n"),
    ("DEP002", 'ENV MIX_ENV="prod"\n', ""),
    ("DEP003", "mix deps.get --only $MIX_ENV", "mix deps.get"),
    ("DEP006", "USER nobody\n", ""),
    ("DEP007", "FROM ${RUNNER_IMAGE}", "FROM debian:latest"),
    ("DEP008", 'CMD ["/app/bin/server"]', "CMD /app/bin/server"),
    ("DEP010", "ENV LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8\n", ""),
    ("DEP011", "libstdc++6 openssl libncurses6", "curl"),
    ("DEP012", 'ARG RUNNER_IMAGE="debian:${DEBIAN_VERSION}"', 'ARG RUNNER_IMAGE="ubuntu:jammy-20240911"'),
])
def test_dockerfile_rules_fire_on_one_change(dep, rule_id, before, after):
    assert before in DOCKERFILE
    got = dep({"Dockerfile": DOCKERFILE.replace(before, after)}, rule_id)
    assert [f.rule_id for f in got] == [rule_id] and got[0].location.path == "Dockerfile"


def test_dep001_single_stage_release(dep):
    single = DOCKERFILE[:DOCKERFILE.index("FROM ${RUNNER_IMAGE}")] + 'CMD ["/app/_build/prod/rel/demo/bin/server"]\n'
    assert ids(dep({"Dockerfile": single}, "DEP001")) == ["DEP001"]
    # Without anything to run it builds the release to be copied out (`docker cp`): a builder, not the runtime.
    builder = single[:single.index("CMD [")]
    assert not {"DEP001", "DEP006", "DEP010"} & set(ids(dep({"Dockerfile": builder})))
    assert {"DEP001", "DEP006", "DEP010"} <= set(ids(dep({"Dockerfile": single})))


def test_dep004_step_order_either_1_7_or_1_8_is_right(dep):
    v17 = DOCKERFILE.replace("RUN mix assets.deploy\nRUN mix compile", "RUN mix compile\nRUN mix assets.deploy")
    assert ids(dep({"Dockerfile": v17}, "DEP004")) == []
    late = DOCKERFILE.replace("RUN mix deps.get --only $MIX_ENV\n", "").replace(
        "RUN mix release", "RUN mix release\nRUN mix deps.get --only prod")
    assert ids(dep({"Dockerfile": late}, "DEP004")) == ["DEP004"]
    after = DOCKERFILE.replace("RUN mix assets.deploy\n", "").replace("RUN mix release", "RUN mix release\nRUN mix assets.deploy")
    assert ids(dep({"Dockerfile": after}, "DEP004")) == ["DEP004"]


def test_a_release_built_by_mix_do_is_read_as_the_release_step(dep):
    chained = DOCKERFILE.replace("RUN mix release", "RUN mix do sentry.package_source_code, release")
    assert ids(dep({"Dockerfile": chained})) == ids(dep({"Dockerfile": DOCKERFILE}))
    late = chained.replace("RUN mix assets.deploy\n", "").replace(
        "RUN mix do sentry.package_source_code, release", "RUN mix do sentry.package_source_code + release\nRUN mix assets.deploy")
    assert ids(dep({"Dockerfile": late}, "DEP004")) == ["DEP004"]
    unset = chained.replace('ENV MIX_ENV="prod"\n', "")
    (got,) = dep({"Dockerfile": unset}, "DEP002")
    assert got.location.line == unset.splitlines().index("RUN mix do sentry.package_source_code, release") + 1


def test_dep005_assets_never_built(dep):
    assert ids(dep({"Dockerfile": DOCKERFILE.replace("RUN mix assets.deploy\n", "")}, "DEP005")) == ["DEP005"]
    assert ids(dep({"Dockerfile": DOCKERFILE.replace("RUN mix assets.deploy\n", ""), "assets/package.json": None},
                   "DEP005")) == []


def test_dep007_resolves_args_and_reports_unresolvable_ones_as_unknown(dep):
    unresolved = DOCKERFILE.replace('ARG RUNNER_IMAGE="debian:${DEBIAN_VERSION}"', "ARG RUNNER_IMAGE")
    (f,) = dep({"Dockerfile": unresolved}, "DEP007")
    assert f.confidence.label == "low" and f.severity.label == "info"


def test_dep009_secrets_in_build_args_and_env(dep):
    key = "Zq8vR2mXk4Lp7Tn1Wc5Yb3Hd6Gf9Js0A"
    leaky = DOCKERFILE.replace('ENV MIX_ENV="prod"', 'ENV MIX_ENV="prod" SECRET_KEY_BASE=nokey\nARG HEX_API_KEY') \
        .replace("ENV LANG=en_US.UTF-8", f"ENV SECRET_KEY_BASE={key}\nENV LANG=en_US.UTF-8")
    got = dep({"Dockerfile": leaky}, "DEP009")  # the build stage's stand-in lets config compile: not a finding
    assert sorted((f.severity.label, f.key) for f in got) == [("error", "Dockerfile:SECRET_KEY_BASE"),
                                                               ("warning", "Dockerfile:HEX_API_KEY")]
    assert key not in got[0].message
    stand_in = leaky.replace(f"SECRET_KEY_BASE={key}", "SECRET_KEY_BASE=nokey")
    (got,) = [f for f in dep({"Dockerfile": stand_in}, "DEP009") if "HEX" not in f.key]
    assert got.severity.label == "warning" and "holds a placeholder (5 characters) in the final image" in got.message
    built_in = DOCKERFILE.replace('ENV MIX_ENV="prod"', f'ENV MIX_ENV="prod" SECRET_KEY_BASE={key}')
    (got,) = dep({"Dockerfile": built_in}, "DEP009")
    assert got.severity.label == "warning" and "in build stage builder (not in the final image" in got.message
    inherited = built_in.replace("FROM ${RUNNER_IMAGE}", "FROM builder AS app")  # the final stage builds on it
    (got,) = dep({"Dockerfile": inherited}, "DEP009")
    assert got.severity.label == "error" and got.message.endswith("ENV SECRET_KEY_BASE holds a literal value")
    mounted = DOCKERFILE.replace("RUN mix deps.get", "RUN --mount=type=secret,id=hex mix deps.get")
    assert ids(dep({"Dockerfile": mounted}, "DEP009")) == []


def test_dep011_alpine_spellings(dep):
    alpine = DOCKERFILE.replace("debian-${DEBIAN_VERSION}", "alpine-3.20.3").replace(
        'ARG RUNNER_IMAGE="debian:${DEBIAN_VERSION}"', 'ARG RUNNER_IMAGE="alpine:3.20.3"').replace(
        "apt-get update -y && apt-get install -y libstdc++6 openssl libncurses6 locales ca-certificates",
        "apk add --no-cache libstdc++ openssl ncurses-libs")
    assert ids(dep({"Dockerfile": alpine}, "DEP011")) == [] and ids(dep({"Dockerfile": alpine}, "DEP012")) == []
    bare = alpine.replace("apk add --no-cache libstdc++ openssl ncurses-libs", "apk add --no-cache curl")
    assert "ncurses, libstdc++" in dep({"Dockerfile": bare}, "DEP011")[0].message
    # The official elixir:1.11 image is built on OTP 23: no JIT, so no libstdc++ needed.
    otp23 = "FROM elixir:1.11.3-alpine AS builder\nRUN mix release\nFROM alpine:3.13 AS app\nRUN apk add --no-cache curl\n"
    assert [f.message for f in dep({"Dockerfile": otp23}, "DEP011")] == [
        "Dockerfile: the runtime stage (alpine:3.13) installs no ncurses"]
    debian = DOCKERFILE.replace("libstdc++6 openssl libncurses6 locales", "openssl locales")
    assert ids(dep({"Dockerfile": debian}, "DEP011")) == []  # both come with Debian's base image
    older = alpine.replace('ARG RUNNER_IMAGE="alpine:3.20.3"', 'ARG RUNNER_IMAGE="alpine:3.18.9"')
    assert "run on alpine 3.18" in dep({"Dockerfile": older}, "DEP012")[0].message  # musl releases differ too


def test_dep011_reads_the_install_script_the_runtime_stage_copies_in(dep):
    alpine = "FROM elixir:1.17.3-otp-27-alpine AS build\nRUN mix release\nFROM alpine:3.20 AS app\n" \
             "COPY --link deps.sh ./\nRUN sh deps.sh\n"
    assert dep({"Dockerfile": alpine, "deps.sh": "apk add --no-cache \\\n  libstdc++ ncurses-libs\n"}, "DEP011") == []
    (got,) = dep({"Dockerfile": alpine, "deps.sh": "apk add --no-cache bash curl\n"}, "DEP011")
    assert got.message.endswith("installs no libstdc++")  # bash brings ncurses-libs on Alpine
    (got,) = dep({"Dockerfile": alpine, "deps.sh": "apk add --no-cache curl\n"}, "DEP011")
    assert got.message.endswith("installs no ncurses, libstdc++")
    # clang and nodejs are C++ programs: Alpine installs libstdc++ with them.
    assert dep({"Dockerfile": alpine, "deps.sh": "apk add --no-cache bash clang ffmpeg\n"}, "DEP011") == []
    (got,) = dep({"Dockerfile": alpine, "deps.sh": "apk add --no-cache bash && echo clang\n"}, "DEP011")
    assert got.message.endswith("installs no libstdc++")  # a word after the apk command installs nothing


def test_a_script_several_runs_name_is_read_once(dep, monkeypatch):
    import phoenix_ops.project as model

    read = []
    monkeypatch.setattr(model, "read_regular", (lambda real: lambda path: read.append(path.name) or real(path))(
        model.read_regular))
    alpine = "FROM elixir:1.17.3-otp-27-alpine AS build\nRUN mix release\nFROM alpine:3.20 AS app\n" \
             "COPY --link deps.sh ./\nRUN sh deps.sh\nRUN sh deps.sh --again\n"
    (got,) = dep({"Dockerfile": alpine, "deps.sh": "apk add --no-cache curl\n"}, "DEP011")
    assert got.message.endswith("installs no ncurses, libstdc++") and read.count("deps.sh") == 1


def test_dep013_dockerignore(dep):
    assert ids(dep({".dockerignore": None}, "DEP013")) == ["DEP013"]
    whole = DOCKERFILE.replace("COPY lib lib", "COPY . .")
    assert ids(dep({"Dockerfile": whole, ".dockerignore": "_build\ndeps\n"}, "DEP013")) == ["DEP013"]
    assert ids(dep({".dockerignore": "_build\ndeps\n"}, "DEP013")) == []  # named folders only: .env never copied
    # Two Dockerfiles beside one .dockerignore: one finding on it; one below the root uses the root's.
    (got,) = dep({"Dockerfile.prod": DOCKERFILE, ".dockerignore": "_build\n"}, "DEP013")
    assert got.location.path == ".dockerignore" and "deps" in got.message
    (got,) = dep({"Dockerfile": None, "deploy/Dockerfile": DOCKERFILE, ".dockerignore": "_build\n"}, "DEP013")
    assert got.location.path == ".dockerignore"


def test_dep020_no_migration_on_release(dep):
    assert ids(dep({"fly.toml": FLY.replace('release_command = "/app/bin/migrate"', "")}, "DEP020")) == ["DEP020"]
    k8s = K8S.replace('command: ["/app/bin/migrate"]', 'command: ["/app/bin/other"]')
    assert ids(dep({"deploy/app.yaml": k8s, "fly.toml": None}, "DEP020")) == ["DEP020"]
    procfile = {"fly.toml": None, "deploy/app.yaml": None}
    assert ids(dep({**procfile, "Procfile": "web: bin/server\n"}, "DEP020")) == ["DEP020"]
    assert ids(dep({**procfile, "Procfile": "web: bin/server\nrelease: bin/migrate\n"}, "DEP020")) == []


def test_dep021_no_http_health_check(dep):
    tcp = FLY.split("[http_service]")[0] + '[[services]]\n  internal_port = 4000\n  [[services.tcp_checks]]\n    interval = "15s"\n'

    assert "only a TCP check" in dep({"fly.toml": tcp}, "DEP021")[0].message
    render = "services:\n  - type: web\n    name: demo\n    preDeployCommand: bin/migrate\n"
    assert ids(dep({"render.yaml": render, "fly.toml": None}, "DEP021")) == ["DEP021"]


def test_kubernetes_probes_drain_headless_and_literal_secrets(dep):
    def k8s(manifest, rule_id):
        return ids(dep({"deploy/app.yaml": manifest, "fly.toml": None}, rule_id))
    assert k8s(K8S.replace("          livenessProbe: {httpGet: {path: /health, port: 4000}}\n", ""),
               "DEP022") == ["DEP022"]
    assert k8s(K8S.replace('          lifecycle: {preStop: {exec: {command: ["sleep", "5"]}}}\n', ""),
               "DEP023") == ["DEP023"]
    literal = K8S.replace("valueFrom: {secretKeyRef: {name: demo, key: skb}}", "value: abcdefabcdef")
    assert k8s(literal, "DEP025") == ["DEP025"]


def test_dep024_dns_clustering_needs_a_headless_service(dep, make_project, findings):
    cluster = ('\nconfig :libcluster, topologies: [k8s: [strategy: Cluster.Strategy.DNSPoll, '
               'config: [query: "demo-headless.default.svc.cluster.local", node_basename: "demo"]]]\n')
    runtime = GOOD_RUNTIME + cluster
    headless_gone = K8S.replace("clusterIP: None, ", "")
    got = dep({"config/runtime.exs": runtime, "deploy/app.yaml": headless_gone, "fly.toml": None}, "DEP024")
    assert ids(got) == ["DEP024"] and got[0].location.path == "config/runtime.exs"
    assert ids(dep({"config/runtime.exs": runtime, "deploy/app.yaml": K8S, "fly.toml": None}, "DEP024")) == []


def test_dep026_websocket_unfriendly_settings(dep):
    requests = FLY.replace('type = "connections"', 'type = "requests"\n    soft_limit = 200')
    mix = GOOD["mix.exs"].replace('{:bandit, "~> 1.5"}', '{:bandit, "~> 1.5"}, {:phoenix_live_view, "~> 1.0"}')
    assert ids(dep({"fly.toml": requests, "mix.exs": mix}, "DEP026")) == ["DEP026"]
    ingress = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n"
               "    nginx.ingress.kubernetes.io/proxy-read-timeout: \"20\"\n")
    assert ids(dep({"deploy/ingress.yaml": ingress, "mix.exs": mix}, "DEP026")) == ["DEP026"]
    assert ids(dep({"mix.exs": mix, "deploy/ingress.yaml": None}, "DEP026")) == []


def test_dep027_helm_templates_are_not_evaluated(dep):
    chart = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
    (f,) = dep({"chart/templates/deployment.yaml": chart}, "DEP027")
    assert "not evaluated" in f.message and f.confidence.label == "low"


def test_dep028_fly_kill_signal(dep):
    assert ids(dep({"fly.toml": FLY.replace('kill_signal = "SIGTERM"\n', "")}, "DEP028")) == ["DEP028"]
    assert ids(dep({"fly.toml": FLY.replace("SIGTERM", "SIGINT")}, "DEP028")) == ["DEP028"]


def test_systemd_rules(dep):
    def unit(text, rule_id):
        return ids(dep({"rel/demo.service": text, "fly.toml": None}, rule_id))
    assert unit(UNIT.replace("Restart=on-failure\n", ""), "DEP030") == ["DEP030"]
    assert unit(UNIT.replace("Environment=PHX_SERVER=true", 'Environment="PHX_SERVER=true" "DB_PASSWORD=hunter22"'),
                "DEP031") == ["DEP031"]
    assert unit(UNIT.replace("bin/demo start", "bin/demo daemon"), "DEP032") == ["DEP032"]
    no_phx = UNIT.replace("Environment=PHX_SERVER=true\n", "").replace("EnvironmentFile=/etc/demo/env\n", "")
    assert unit(no_phx, "DEP033") == ["DEP033"]
    unknown = dep({"rel/demo.service": UNIT.replace("Environment=PHX_SERVER=true\n", ""), "fly.toml": None}, "DEP033")
    assert unknown[0].confidence.label == "low"  # the EnvironmentFile may set it
    assert unknown[0].message.endswith("without PHX_SERVER (unless EnvironmentFile /etc/demo/env sets it)")
    assert unit(UNIT.replace("LimitNOFILE=65536\n", ""), "DEP034") == ["DEP034"]


def test_vm_flags_against_cpu_limits(dep):
    k8s = K8S.replace('cpu: "2"', "cpu: 500m")
    assert ids(dep({"deploy/app.yaml": k8s, "fly.toml": None, "rel/vm.args.eex": "+S 4:4\n"}, "DEP040")) == ["DEP040"]
    assert ids(dep({"deploy/app.yaml": K8S, "fly.toml": None, "rel/vm.args.eex": "+S 2:2\n"}, "DEP040")) == []
    assert ids(dep({"deploy/app.yaml": k8s, "fly.toml": None}, "DEP041")) == ["DEP041"]
    assert ids(dep({"deploy/app.yaml": k8s, "fly.toml": None, "rel/vm.args.eex": "+sbwt none\n"}, "DEP041")) == []


def test_dep050_connection_budget(dep):
    compose = ("services:\n  db:\n    image: postgres:16\n    command: postgres -c max_connections=20\n"
               "  web:\n    build: .\n    environment:\n      POOL_SIZE: \"10\"\n    deploy:\n      replicas: 2\n")
    (f,) = dep({"docker-compose.yml": compose, "fly.toml": None}, "DEP050")
    assert "= 20 connections, over 17 usable of max_connections 20" in f.message
    assert ids(dep({"docker-compose.yml": compose.replace("=20", "=200"), "fly.toml": None}, "DEP050")) == []


def test_dep051_transaction_pooler_needs_unnamed_prepares(dep):
    k8s = K8S.replace("valueFrom: {secretKeyRef: {name: demo, key: db}}",
                      "value: ecto://u@pooler.example.com:6543/demo")
    assert ids(dep({"deploy/app.yaml": k8s, "fly.toml": None}, "DEP051")) == ["DEP051"]
    runtime = GOOD_RUNTIME.replace("url: database_url,", "url: database_url,\n    prepare: :unnamed,")
    assert ids(dep({"deploy/app.yaml": k8s, "fly.toml": None, "config/runtime.exs": runtime}, "DEP051")) == []


def test_dep052_database_tls_on_otp_26(dep):
    assert ids(dep({"config/runtime.exs": GOOD["config/runtime.exs"]}, "DEP052")) == ["DEP052"]  # OTP 27
    old = DOCKERFILE.replace("OTP_VERSION=27.1.2", "OTP_VERSION=25.3.2")
    assert ids(dep({"Dockerfile": old}, "DEP052")) == []


def test_dep053_shutdown_budget_and_table(dep, make_project):
    from phoenix_ops.rules.budgets import shutdown_rows
    short = FLY.replace('kill_timeout = "30s"', 'kill_timeout = "5s"')
    (f,) = dep({"fly.toml": short}, "DEP053")
    assert "allows 5 s" in f.message and "Bandit) 15 s" in f.message
    project = make_project({**GOOD_DEPLOY, "fly.toml": short})
    (row,) = shutdown_rows(project)
    assert row["target"] == "fly demo" and row["verdict"] == "short by 10 s" and row["exec form"] == "yes"
