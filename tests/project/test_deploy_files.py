"""Deploy-file readers on the shapes real projects use; targets built from them."""

import pytest
from project_shapes import GOOD

from phoenix_ops.project import load_project
from phoenix_ops.project.deploy.targets import for_development

FLY_V1 = """
app = "demo"
kill_signal = "SIGTERM"
kill_timeout = 5

[env]
  PHX_HOST = "demo.fly.dev"

[deploy]
  release_command = "/app/bin/migrate"

[[services]]
  internal_port = 4000
  [services.concurrency]
    type = "connections"
    hard_limit = 1000
  [[services.http_checks]]
    path = "/health"
    grace_period = "10s"
"""

FLY_V2 = """
app = 'demo'
primary_region = 'ams'
kill_signal = 'SIGTERM'
kill_timeout = '30s'

[build]

[deploy]
  strategy = 'bluegreen'

[env]
  PHX_HOST = 'demo.fly.dev'
  PORT = '8080'

[http_service]
  internal_port = 8080
  min_machines_running = 2
  [http_service.concurrency]
    type = 'requests'
    soft_limit = 200
  [[http_service.checks]]
    path = '/healthz'
    interval = '15s'
"""

K8S = """
# a Kustomize-style bundle: several documents, picked by apiVersion/kind
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      terminationGracePeriodSeconds: 60
      initContainers:
        - name: migrate
          command: ["/app/bin/migrate"]
      containers:
        - name: web
          image: ghcr.io/acme/demo:1.2.3
          env:
            - name: PHX_HOST
              value: demo.example.com
            - name: SECRET_KEY_BASE
              valueFrom:
                secretKeyRef: {name: demo, key: skb}
          envFrom:
            - secretRef: {name: demo-env}
            - configMapRef: {name: demo-config}
          readinessProbe:
            httpGet: {path: /health/ready, port: 4000}
          resources:
            limits: {cpu: 500m}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: demo-config}
data:
  POOL_SIZE: "5"
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {kind: Deployment, name: web}
  maxReplicas: 8
"""

HELM = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "demo.fullname" . }}
spec:
  replicas: {{ .Values.replicaCount }}
"""

COMPOSE = """
services:
  db:
    image: postgres:16
    command: postgres -c max_connections=200
  web:
    build: .
    environment:
      DATABASE_URL: ecto://postgres:postgres@db/demo
      PHX_HOST:
    env_file: .env.prod
    stop_grace_period: 1m30s
    deploy:
      replicas: 2
"""

UNIT = """
[Unit]
Description=Demo

[Service]
Type=exec
User=demo
Environment="PHX_SERVER=true" "PORT=4000"
Environment=MIX_ENV=prod
EnvironmentFile=-/etc/demo/env
ExecStart=/opt/demo/bin/demo \\
    start
TimeoutStopSec=1min 30s
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""

RENDER = """
services:
  - type: web
    name: demo
    runtime: elixir
    startCommand: _build/prod/rel/demo/bin/server
    preDeployCommand: _build/prod/rel/demo/bin/migrate
    healthCheckPath: /health
    scaling: {minInstances: 1, maxInstances: 3}
    envVars:
      - key: SECRET_KEY_BASE
        generateValue: true
      - key: DATABASE_URL
        fromDatabase: {name: db, property: connectionString}
      - fromGroup: shared
envVarGroups:
  - name: shared
    envVars:
      - key: PHX_HOST
        value: demo.onrender.com
"""

BIN_SERVER = '#!/bin/sh\nset -eu\n\ncd -P -- "$(dirname -- "$0")"\nPHX_SERVER=true exec ./demo start\n'
DOCKERFILE = """
ARG RUNNER_IMAGE="debian:bookworm-20240904-slim"
FROM hexpm/elixir:1.17.2-erlang-27.0.1-debian-bookworm-20240904-slim AS builder
ENV MIX_ENV="prod"
RUN mix release
FROM ${RUNNER_IMAGE}
ENV LANG=en_US.UTF-8
CMD ["/app/bin/server"]
"""


@pytest.fixture
def load(tmp_path):
    def write(files):
        for rel, body in {**GOOD, **files}.items():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(body)
        return load_project(tmp_path)
    return write


def test_fly_v1_and_v2(load):
    p = load({"fly.toml": FLY_V1, "fly.staging.toml": FLY_V2, "Dockerfile": DOCKERFILE,
              "rel/overlays/bin/server": BIN_SERVER})
    v2, v1 = p.deploy.fly  # sorted by path: fly.staging.toml, fly.toml
    assert (v1.version, v1.kill_timeout, v1.release_command) == ("v1", 5.0, "/app/bin/migrate")
    assert [(c.path, c.grace) for c in v1.checks] == [("/health", 10.0)]
    assert (v2.version, v2.kill_timeout, v2.strategy, v2.min_machines) == ("v2", 30.0, "bluegreen", 2)
    assert v2.env["PORT"] == ("8080", 14) and v2.concurrency[0][:2] == ("requests", 200)
    t = {x.path: x for x in p.deploy.targets()}
    fly = t["fly.toml"]
    assert fly.env["PHX_HOST"].value == "demo.fly.dev" and fly.env["LANG"].how == "dockerfile"
    assert fly.env["PHX_SERVER"].how == "bin/server" and fly.exec_form is True
    assert fly.open_env and fly.migrate == "/app/bin/migrate" and fly.health_paths == [("/health", 17)]
    assert "Dockerfile" not in t  # the image belongs to the fly target


def test_kubernetes_documents_by_kind_and_helm_templates(load):
    p = load({"deploy/k8s/app.yaml": K8S, "chart/templates/deployment.yaml": HELM,
              ".github/workflows/ci.yml": "on: push\njobs: {}\n"})
    assert [o.kind for o in p.deploy.k8s] == ["Deployment", "ConfigMap", "HorizontalPodAutoscaler"]
    assert p.deploy.templates == ["chart/templates/deployment.yaml"]
    assert not [x for x in p.problems if x.file.startswith("chart/")]
    (t,) = p.deploy.targets()
    assert (t.platform, t.name, t.line, t.instances, t.stop_timeout) == ("kubernetes", "Deployment/web", 3, 8, 60)
    assert t.env["SECRET_KEY_BASE"].how == "secret" and t.env["POOL_SIZE"].how == "configmap"
    assert t.open_env == ["Secret demo-env (keys not in any file)"]
    assert t.health_paths == [("/health/ready", 28)] and t.cpu_limit == 0.5
    assert t.migrate == "/app/bin/migrate" and t.strategy == "rolling"


def test_yaml_parse_error_is_a_problem_with_its_line(load):
    p = load({"k8s/bad.yaml": "apiVersion: v1\nkind: Service\nmetadata: [\n"})
    assert [(x.file, x.line) for x in p.problems if x.file == "k8s/bad.yaml"] == [("k8s/bad.yaml", 4)]


def test_compose_services_env_and_budget_facts(load):
    p = load({"docker-compose.yml": COMPOSE, "Dockerfile": DOCKERFILE, ".env.prod": "SECRET_KEY_BASE=abc\n"})
    db, web = p.deploy.compose
    assert db.max_connections == 200 and web.replicas == 2 and web.stop_grace == 90
    (t,) = p.deploy.targets()  # postgres is infrastructure, not a target
    assert t.env["PHX_HOST"].how == "passthrough" and t.env["SECRET_KEY_BASE"].path == ".env.prod"
    assert t.env["LANG"].how == "dockerfile" and (t.instances, t.stop_timeout) == (2, 90)


def test_services_around_the_app_are_not_targets_pulled_or_built(load):
    around = ("services:\n  db:\n    build: {context: ., dockerfile: Dockerfile.postgres}\n"
              "  kafka:\n    image: confluentinc/cp-kafka:7.6.1\n"
              "  search:\n    image: docker.elastic.co/elasticsearch/elasticsearch:8.11.1\n"
              "  queue:\n    image: nats:2.10-alpine\n  ts:\n    image: timescale/timescaledb:latest-pg16\n"
              "  web:\n    build: {context: ., dockerfile: Dockerfile.alpine}\n")
    alpine = DOCKERFILE.replace("FROM ${RUNNER_IMAGE}", "FROM alpine:3.20")  # the app's own image, on a bare OS
    p = load({"docker-compose.yml": around, "Dockerfile.postgres": "FROM postgres:17\nRUN apt-get update\n",
              "Dockerfile.alpine": alpine})
    assert [t.label for t in p.deploy.targets()] == ["compose web"]  # nor is Dockerfile.postgres one of its own


def test_beside_a_service_that_surely_runs_the_app_others_are_not_targets(load):
    db = "  db:\n    image: ${POSTGRES_IMAGE:-supabase/postgres:17.6.1}\n"  # what runs with the variable unset
    app = ("services:\n  web:\n    image: acme/shop:1.2\n    environment:\n      SECRET_KEY_BASE:\n"
           "  runner:\n    image: denoland/deno:alpine-2.5.6\n    command: deno test tests.ts\n" + db)
    # Where nothing surely runs the app: an image named for it may, an emulator may not, a build may.
    unsure = "services:\n" + db + ("  worker:\n    image: ghcr.io/acme/demo-worker:3\n"
                                    "  gcs:\n    image: fsouza/fake-gcs-server:latest\n  app:\n    build: .\n")
    p = load({"compose.yml": app, "compose.dbs.yml": unsure})
    assert sorted(t.label for t in p.deploy.targets()) == ["compose app", "compose web", "compose worker"]


def test_a_service_building_the_release_is_the_app_and_base_images_are_not(load):
    compose = ("services:\n  base:\n    build: {dockerfile: ./Dockerfile.base}\n"
               "  web:\n    build: {dockerfile: ./Dockerfile}\n  emulator:\n    image: acme/pubsub-emulator\n")
    base = "FROM hexpm/elixir:1.17.3-erlang-27.1-debian-bookworm-20240904-slim\nRUN mix deps.get\n"
    p = load({"docker-compose.yml": compose, "Dockerfile": DOCKERFILE, "Dockerfile.base": base,
              "Dockerfile.tools": "FROM debian:bookworm-slim\nRUN apt-get update\n"})
    # Dockerfile.base and Dockerfile.tools run nothing: no target of their own either.
    assert [t.label for t in p.deploy.targets()] == ["compose web"]


def test_a_built_service_is_the_app_only_when_its_image_holds_elixir(load):
    compose = ("services:\n  api:\n    build: ./py\n  builder:\n    build: ./c\n    command: [\"true\"]\n"
               "  web:\n    build: ./runtime\n")
    runtime = "FROM debian:bookworm-slim\nCOPY _build/prod/rel/demo /app\n"  # a release built elsewhere
    p = load({"docker-compose.yml": compose, "py/Dockerfile": 'FROM python:3.12-slim\nCMD ["python", "server.py"]\n',
              "c/Dockerfile": "FROM ubuntu:24.04 AS builder\nRUN make\n", "runtime/Dockerfile": runtime})
    assert [t.label for t in p.deploy.targets()] == ["compose web"]


def test_compose_env_filled_from_the_shell_has_no_known_value(load):
    compose = ("services:\n  web:\n    build: .\n    environment:\n      SECRET_KEY_BASE: \"${YOUR_SECRET_KEY}\"\n"
               "      HOST: $HOSTNAME\n      PASSWORD: \"pa$$word\"\n      PORT: \"4000\"\n")
    (web,) = load({"docker-compose.yml": compose, "Dockerfile": DOCKERFILE}).deploy.compose
    assert {k: v for k, (v, _) in web.env.items()} == {"SECRET_KEY_BASE": None, "HOST": None, "PASSWORD": "pa$word",
                                                       "PORT": "4000"}


def test_compose_merge_tags_parse(load):
    override = ("services:\n  web:\n    build: .\n    ports: !override\n      - 8080:4000\n"
                "    environment:\n      SECRET_KEY_BASE:\n    healthcheck: !reset null\n")
    p = load({"docker-compose.override.yml": override, "Dockerfile": DOCKERFILE})
    assert not p.deploy.problems
    (web,) = p.deploy.compose
    assert web.data["ports"] == ["8080:4000"] and web.data["healthcheck"] is None


def test_development_and_ci_compose_files_and_services_are_not_targets(load):
    web = "services:\n  web:\n    build: .\n    environment:\n      SECRET_KEY_BASE:\n"
    web += "  test:\n    build: .\n    command: mix test\n"  # a service named for its purpose
    dev = "services:\n  phx:\n    build: {context: ., dockerfile: ./docker/dev.Dockerfile}\n    command: mix phx.server\n"
    p = load({"docker-compose.ci.yml": web, "test/e2e/docker-compose.yml": web, "compose.yml": dev,
              "devops/docker-compose.yml": web, "docker/dev.Dockerfile": "FROM elixir:1.17\nRUN mix deps.get\n",
              "Dockerfile": DOCKERFILE})
    assert [t.label for t in p.deploy.targets()] == ["compose web", "docker Dockerfile"]


@pytest.mark.parametrize(("path", "development"), [
    ("Dockerfile.dev", True), ("dev.Dockerfile", True), ("Dockerfile-test", True), ("docker-compose.ci.yml", True),
    ("compose.tests.yml", True), ("priv/tests_e2e/docker-compose.yml", True), ("dev/Dockerfile", True),
    ("Dockerfile", False), ("Dockerfile.prod", False), ("docker-compose.yml", False), ("devops/Dockerfile", False),
    ("deploy/docker-compose.circle.yml", False), (".devcontainer/docker-compose.yml", True),
    ("docker-compose.gha.yml", True), ("test-runner", True), ("dev", True), ("web", False), ("prod", False)])
def test_a_deploy_file_named_for_development(path, development):
    assert for_development(path) == development


def test_a_stage_built_from_another_keeps_its_settings(load):
    dockerfile = ("FROM debian:bookworm-slim AS prod\nUSER nobody\nSTOPSIGNAL SIGTERM\n"
                  'ENTRYPOINT ["bin/start"]\nFROM prod\nLABEL x=y\n')
    (d,) = load({"Dockerfile": dockerfile}).deploy.dockerfiles
    assert d.final.user == "nobody" and d.final.last("STOPSIGNAL").args == ("SIGTERM",)
    assert d.final.last("ENTRYPOINT").line == 4 and d.final.all("USER") == []  # settings inherited, steps not


def test_systemd_repeated_keys_quotes_and_continuations(load):
    p = load({"rel/files/demo.service": UNIT})
    (unit,) = p.deploy.systemd
    assert unit.environment() == {"PHX_SERVER": ("true", 8), "PORT": ("4000", 8), "MIX_ENV": ("prod", 9)}
    assert unit.exec_start() == ["/opt/demo/bin/demo", "start"] and unit.get("Service", "ExecStart").line == 11
    assert unit.stop_timeout() == 90 and unit.environment_files() == [("/etc/demo/env", True, 10)]
    (t,) = p.deploy.targets()
    assert t.open_env == ["EnvironmentFile /etc/demo/env"] and t.stop_timeout_default is False


def test_render_blueprint_and_procfile(load):
    p = load({"render.yaml": RENDER, "Procfile": "web: mix phx.server\nrelease: mix ecto.migrate\n"})
    (t,) = p.deploy.targets()  # a Procfile beside a blueprint is not a target of its own
    assert (t.platform, t.instances, t.migrate) == ("render", 3, "_build/prod/rel/demo/bin/migrate")
    assert t.env["SECRET_KEY_BASE"].how == "generateValue" and t.env["PHX_HOST"].value == "demo.onrender.com"
    assert t.health_paths == [("/health", 3)]
    assert [(x.name, x.line) for x in p.deploy.procfile] == [("web", 1), ("release", 2)]


def test_procfile_target_and_release_files(load):
    p = load({"Procfile": "web: mix phx.server\nrelease: mix ecto.migrate\n",
              "rel/env.sh.eex": "#!/bin/sh\nexport RELEASE_DISTRIBUTION=name\nif [ -n \"$X\" ]; then\n"
                                "  export ERL_FLAGS=\"+S 2:2\"\nfi\n",
              "rel/vm.args.eex": "## flags\n+sbwt none\n-kernel net_ticktime 30\n"})
    (t,) = p.deploy.targets()
    assert (t.platform, t.migrate, t.migrate_line) == ("procfile", "mix ecto.migrate", 2)
    env_sh = p.deploy.env_sh
    assert env_sh.get("ERL_FLAGS").conditional and not env_sh.get("RELEASE_DISTRIBUTION").conditional
    assert [(f.flag, f.value, f.line) for f in p.deploy.vm_args] == [("+sbwt", "none", 2),
                                                                       ("-kernel", "net_ticktime 30", 3)]


def test_a_procfile_below_the_root_is_no_platform_target(load):
    """Heroku, Gigalixir and Dokku read the root's Procfile; one kept elsewhere (rel/overlays_skip/)
    describes nothing that runs."""
    p = load({"rel/overlays_skip/Procfile": "web: mix phx.server\n"})
    assert p.deploy.procfile_path is None and p.deploy.targets() == []


@pytest.mark.parametrize("dev", ['ARG MIX_ENV=dev\nFROM elixir:1.17\n', 'FROM elixir:1.17 AS dev\nENV MIX_ENV="test"\n'])
def test_an_image_built_for_dev_or_test_is_no_deploy_target(load, dev):
    prod = "FROM elixir:1.17 AS build\nENV MIX_ENV=prod\nRUN mix release\nFROM debian:bookworm-slim\n"
    p = load({"dev.Dockerfile": dev + 'CMD ["mix", "phx.server"]\n', "Dockerfile": prod})
    assert [t.path for t in p.deploy.targets()] == ["Dockerfile"]


def test_deploy_files_of_another_mix_project_in_a_subfolder_are_not_this_ones(load):
    """A helper app with its own mix.exs (livebook's iframe/) deploys itself: its fly.toml and
    Dockerfile say nothing of the main project."""
    helper = {"iframe/mix.exs": 'defmodule Iframe.MixProject do\n  use Mix.Project\nend\n',
              "iframe/fly.toml": 'app = "iframe"\nkill_timeout = 5\n',
              "iframe/Dockerfile": "FROM elixir:1.17 AS build\nRUN mix release\nFROM alpine:3.20\n"}
    p = load({**helper, "fly.toml": 'app = "demo"\n'})
    assert [t.path for t in p.deploy.targets()] == ["fly.toml"]
    assert p.deploy.dockerfiles == []
