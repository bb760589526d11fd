"""Every file `gen` writes passes the real tool for its kind: hadolint, shellcheck, systemd-analyze,
kubernetes-validate, mix format and the Elixir compiler. Each validator is first shown to catch a
broken file, so a pass means something."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BARE, invoke, write
from project_shapes import GOOD

BIN = Path(sys.executable).parent
GOOD_PROD = GOOD["config/prod.exs"]
# `mix format` outside a Mix project with Phoenix's deps: their macros are written without parens.
FORMATTER = """[
  inputs: ["**/*.{ex,exs}"],
  locals_without_parens: [plug: 1, plug: 2, socket: 2, socket: 3, config: 2, config: 3, import_config: 1]
]
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One project per target, after `gen all --write` (and systemd's unit beside docker's image)."""
    roots = {}
    for target in ("docker", "fly", "k8s", "systemd"):
        root = write(tmp_path_factory.mktemp(target), {**BARE, "mix.exs": BARE["mix.exs"].replace(
            "{:bandit", '{:libcluster, "~> 3.3"}, {:oban, "~> 2.18"}, {:bandit')})
        result = invoke("gen", "all", root, "--target", target, "--write")
        assert result.exit_code == 0, result.output
        roots[target] = root
    return roots


def run(*cmd, cwd=None):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_hadolint_passes_the_dockerfile(generated, tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN cd /app && make\nCMD node app.js\n")
    assert run(BIN / "hadolint", "--failure-threshold", "warning", bad).returncode != 0
    for target in ("docker", "fly", "k8s"):
        result = run(BIN / "hadolint", "--failure-threshold", "warning", generated[target] / "Dockerfile")
        assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_passes_the_scripts_for_every_target(generated, tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/sh\ncd $(dirname $0)\n")
    assert run("shellcheck", "-s", "sh", bad).returncode != 0
    scripts = [root / rel for root in generated.values()
               for rel in ("rel/overlays/bin/server", "rel/overlays/bin/migrate", "rel/env.sh.eex")
               if (root / rel).exists()]
    assert len(scripts) >= 9  # server and migrate everywhere, env.sh.eex where the node is named
    result = run("shellcheck", "-s", "sh", *scripts)
    assert result.returncode == 0, result.stdout


def _verify_unit(unit: Path, tmp_path: Path) -> list[str]:
    """systemd-analyze in a root of its own where the release's executable exists."""
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    for top in ("usr", "lib"):
        os.symlink(f"/{top}", root / top)
    exe = root / "opt/demo/current/bin/demo"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    installed = root / "etc/systemd/system" / unit.name
    shutil.copy(unit, installed)
    result = run("systemd-analyze", f"--root={root}", "verify", installed)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if f"{unit.name}:" in line]


def test_systemd_analyze_verifies_the_unit(generated, tmp_path):
    unit = generated["systemd"] / "deploy/systemd/demo.service"
    broken = tmp_path / "broken" / "demo.service"
    broken.parent.mkdir()
    broken.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    assert _verify_unit(broken, tmp_path / "a")
    assert _verify_unit(unit, tmp_path / "b") == []
    text = unit.read_text()
    assert "TimeoutStopSec=40" in text  # Bandit drains 15 s, Oban waits 15 s, 10 s for the rest


def test_kubernetes_validate_passes_the_manifests(generated, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: two\n")
    assert run(BIN / "kubernetes-validate", "--strict", bad).returncode != 0
    manifest = generated["k8s"] / "deploy/k8s/demo.yaml"
    result = run(BIN / "kubernetes-validate", "--strict", manifest)
    assert result.returncode == 0, result.stdout + result.stderr
    text = manifest.read_text()
    assert "clusterIP: None" in text and "fieldPath: status.podIP" in text and "kind: Job" in text


def test_elixir_files_are_formatted_and_compile(generated, tmp_path):
    root = generated["docker"]
    (root / ".formatter.exs").write_text(FORMATTER)
    files = ["lib/demo/release.ex", "lib/demo_web/health.ex", "config/runtime.exs", "lib/demo_web/endpoint.ex"]
    unformatted = tmp_path / "ugly.ex"
    unformatted.write_text("defmodule Ugly do\ndef f(x),do: x\nend\n")
    assert run("mix", "format", "--check-formatted", unformatted, cwd=tmp_path).returncode != 0
    result = run("mix", "format", "--check-formatted", *files, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    out = tmp_path / "ebin"
    out.mkdir()
    result = run("elixirc", "-o", out, root / "lib/demo/release.ex")
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_the_health_plug_and_release_module_compile_against_the_real_stack(generated, phoenix_build, tmp_path):
    """Compiled with the libraries of the real Phoenix release (Plug, Ecto SQL), warnings as errors."""
    root = generated["docker"]
    libs = [str(p) for p in (phoenix_build.source / "_build" / "prod" / "lib").glob("*/ebin")]
    assert any(p.endswith("plug/ebin") for p in libs) and any(p.endswith("ecto_sql/ebin") for p in libs)
    paths = [arg for lib in libs for arg in ("-pa", lib)]
    out = tmp_path / "ebin"
    out.mkdir()
    result = run("elixirc", "--warnings-as-errors", *paths, "-o", out, root / "lib/demo/release.ex",
                 root / "lib/demo_web/health.ex")
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p.name for p in out.iterdir()} == {"Elixir.Demo.Release.beam", "Elixir.DemoWeb.Health.beam"}

def test_kubernetes_api_discovery_gets_rbac_and_dns_discovery_its_service_name(tmp_path):
    topology = {"api": 'strategy: Cluster.Strategy.Kubernetes, config: [kubernetes_selector: "app=demo"]',
                "dns": 'strategy: Cluster.Strategy.Kubernetes.DNS, config: [service: "demo-nodes", application_name: "demo"]'}
    for name, spec in topology.items():
        prod = GOOD_PROD + f"config :libcluster, topologies: [k8s: [{spec}]]\n"
        root = write(tmp_path / name, {**BARE, "config/prod.exs": prod, "mix.exs": BARE["mix.exs"].replace(
            "{:bandit", '{:libcluster, "~> 3.3"}, {:bandit')})
        assert invoke("gen", "k8s", root, "--write").exit_code == 0
        manifest = root / "deploy/k8s/demo.yaml"
        result = run(BIN / "kubernetes-validate", "--strict", manifest)
        assert result.returncode == 0, result.stdout + result.stderr
        text = manifest.read_text()
        assert ("kind: Role\n" in text and "serviceAccountName: demo" in text) == (name == "api")
        assert ("name: demo-nodes\n" in text) == (name == "dns")



def test_the_hosts_node_name_yields_to_the_one_the_environment_gives(tmp_path):
    """The release's start script sources env.sh: a RELEASE_NODE the service's env file sets (several
    nodes on one host, a deploy tool's names) must survive it; unset, the host's name applies."""
    root = write(tmp_path / "demo", {
        **BARE, "mix.exs": BARE["mix.exs"].replace("{:bandit", '{:libcluster, "~> 3.3"}, {:bandit'),
        "config/prod.exs": GOOD_PROD + "\nconfig :libcluster,\n  topologies: [epmd: [strategy: Cluster.Strategy.Epmd,"
                           " config: [hosts: [:\"demo@web1\", :\"demo@web2\"]]]]\n"})
    assert invoke("gen", "release", root, "--target", "systemd", "--write").exit_code == 0
    show = f'. {root / "rel/env.sh.eex"}; echo "$RELEASE_DISTRIBUTION $RELEASE_NODE"'
    given = run("env", "RELEASE_NODE=web-2@10.0.0.12", "RELEASE_DISTRIBUTION=none", "sh", "-c", show)
    assert given.stdout.split() == ["none", "web-2@10.0.0.12"], given.stderr
    default = run("env", "-u", "RELEASE_NODE", "-u", "RELEASE_DISTRIBUTION", "sh", "-c", show)
    host = run("hostname", "-f").stdout.strip()
    assert default.stdout.split() == ["name", f"demo@{host}"], default.stderr
