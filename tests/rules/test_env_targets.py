"""The env contract per deploy target: `env check --target` and what `check` reports."""

import json

from cli_run import invoke

K8S = '''
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: web
          env:
            - {name: PHX_HOST, value: example.com}
            - {name: POOL_SIZE, value: "ten"}
'''
FLY = 'app = "demo"\n[env]\n  PHX_HOST = "demo.fly.dev"\n'


def run(*args):
    result = invoke(list(args))
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else result.output


def test_a_closed_target_misses_variables_and_a_bad_value(make_project):
    root = make_project({"deploy/k8s/web.yaml": K8S}).root
    code, doc = run("env", "check", str(root), "--target", str(root / "deploy/k8s/"), "--format", "json")
    missing = [f["message"] for f in doc["findings"] if f["rule_id"] == "REL050"]
    assert code == 1 and any(m.startswith("kubernetes Deployment/web: DATABASE_URL is required") for m in missing)
    assert any(m.startswith("kubernetes Deployment/web: SECRET_KEY_BASE is required") for m in missing)
    assert any(f["rule_id"] == "REL051" and "Deployment/web" in f["message"] for f in doc["findings"])


def test_fly_secrets_make_missing_unknown_and_phx_server_comes_from_bin_server(make_project):
    root = make_project({"fly.toml": FLY, "Dockerfile": 'FROM debian:bookworm-slim\nCMD ["/app/bin/server"]\n'}).root
    code, doc = run("env", "check", str(root), "--target", "fly.toml", "--format", "json")
    missing = [f for f in doc["findings"] if f["rule_id"] == "REL050"]
    assert missing and all(f["confidence"] == "low" and "fly secrets" in f["message"] for f in missing)
    assert not any("PHX_SERVER" in f["message"] for f in doc["findings"])


def test_fly_sets_its_machine_variables_itself(make_project):
    runtime = 'import Config\nconfig :demo, :fly, app: System.fetch_env!("FLY_APP_NAME"), ' \
              'ip: System.fetch_env!("FLY_PRIVATE_IP"), primary: System.fetch_env!("PRIMARY_REGION")\n'
    root = make_project({"config/runtime.exs": runtime, "fly.toml": FLY}).root
    code, doc = run("env", "check", str(root), "--target", "fly.toml", "--format", "json")
    missing = {f["message"].split(":")[1].split()[0] for f in doc["findings"] if f["rule_id"] == "REL050"}
    assert "PRIMARY_REGION" in missing and not missing & {"FLY_APP_NAME", "FLY_PRIVATE_IP"}
    (root / "fly.toml").write_text(FLY.replace("[env]", 'primary_region = "ams"\n[env]'))  # fly sets it from there
    code, doc = run("env", "check", str(root), "--target", "fly.toml", "--format", "json")
    assert not [f for f in doc["findings"] if f["rule_id"] == "REL050" and "PRIMARY_REGION" in f["message"]]


def test_check_names_missing_variables_per_target_and_prints_the_shutdown_table(make_project):
    root = make_project({"deploy/k8s/web.yaml": K8S}).root
    code, text = run("check", str(root), "--format", "text")
    assert "kubernetes Deployment/web: DATABASE_URL is required" in text
    assert "Shutdown per deploy target" in text and "30 s (default)" in text


def test_unknown_target_is_a_usage_error(make_project):
    root = make_project({"fly.toml": FLY}).root
    code, output = run("env", "check", str(root), "--target", "nowhere.toml")
    assert code == 2 and "no deploy target there" in output
