"""`deploy --target k8s|fly` against stand-in CLIs (standins.py) whose pods or machines are the real
Phoenix releases of tests/phoenix_app on loopback: the command sequence, the timeouts, the gates, the
rollback and the journal."""

import re
import secrets
import shutil
from pathlib import Path

import pytest
from cli_run import invoke
from standins import Platform

from phoenix_ops.command import UsageError
from phoenix_ops.deploy import command
from phoenix_ops.deploy.engine import DeployFailed
from phoenix_ops.gen.command import run_gen

pytestmark = pytest.mark.slow

OLD, NEW = "phx-fixture:0.1.0", "phx-fixture:0.2.0"
ALL_MIGRATIONS = ("lib/phx_fixture-0.2.0/priv/repo/migrations/20240101000000_add_oban_jobs_table.exs\n"
                  "lib/phx_fixture-0.2.0/priv/repo/migrations/20240101000100_create_items.exs\n"
                  "lib/phx_fixture-0.2.0/priv/repo/migrations/20240301000000_add_note_to_items.exs")
V1_MIGRATIONS = "\n".join(ALL_MIGRATIONS.splitlines()[:2]).replace("0.2.0", "0.1.0")


@pytest.fixture(scope="module")
def shaped(tmp_path_factory, phoenix_build_v2) -> Path:
    """The fixture app's v2 sources with the manifests and fly.toml `gen` writes for it."""
    root = tmp_path_factory.mktemp("shaped")
    for part in ("mix.exs", "config", "lib", "priv"):
        src = phoenix_build_v2.source / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / part)
    for kind in ("docker", "k8s", "fly"):
        assert run_gen(root, kind, None, write=True, force=False).exit_code == 0
    return root


@pytest.fixture
def project(shaped, tmp_path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(shaped, root)
    return root


@pytest.fixture
def releases(phoenix, phoenix_build_v2):
    """v1 and v2 running side by side with one secret_key_base: the old and the new pods."""
    skb = secrets.token_urlsafe(48)
    return phoenix.start(secret_key_base=skb), phoenix.start(build=phoenix_build_v2, secret_key_base=skb)


@pytest.fixture
def cluster(tmp_path, monkeypatch, releases):
    old, new = releases
    p = Platform(tmp_path, monkeypatch, image=OLD, backends={OLD: old.port, NEW: new.port}, migrations=ALL_MIGRATIONS)
    yield p
    p.close()


def plan(project: Path, url: str, **k8s) -> None:
    table = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in k8s.items())
    (project / ".phoenix-ops.toml").write_text(f'[deploy]\nurl = "{url}"\nready = "/health"\nready-timeout = 10\nsession-page = "/counter"\n'
                                               f"[deploy.k8s]\n{table}")


def deploy(project, target="k8s", image=NEW, **kw):
    said = []
    text = command.deploy_platform(project, target, image, resume=kw.pop("resume", False), say=said.append, **kw)
    return text, said


def journal(project):
    return command.journal_for(project).last()


def test_k8s_rollout_sets_the_image_waits_for_the_rollout_and_gates_every_pod(project, cluster):
    plan(project, cluster.url, timeout=120)
    text, said = deploy(project)
    assert f"deployed {NEW} to deployment/phx-fixture" in text
    assert cluster.verbs() == ["kubectl get deployment/phx-fixture", "kubectl exec deployment/phx-fixture",
                               "kubectl set image", "kubectl rollout status", "kubectl get deployment/phx-fixture",
                               "kubectl get pods", "kubectl port-forward pod/phx-fixture-0",
                               "kubectl port-forward pod/phx-fixture-1"]
    calls = cluster.calls()
    assert ["kubectl", "set", "image", "deployment/phx-fixture", f"phx-fixture={NEW}"] in calls
    assert ["kubectl", "rollout", "status", "deployment/phx-fixture", "--timeout=120s"] in calls
    assert ["kubectl", "get", "pods", "--selector", "app.kubernetes.io/name=phx-fixture", "-o", "json"] in calls
    assert "2 instance(s) ready, every digested asset answers on each" in said
    run = journal(project)
    assert run.result == "finished" and run.target == "k8s" and run.previous == {"deployment/phx-fixture": {"image": OLD}}
    assert {"rollout status deployment/phx-fixture", "sessions", f"ready at {cluster.url}"} <= run.done
    assert cluster.read()["image"] == NEW
    assert "to deployment/phx-fixture (k8s)" in command.status(project) and "finished" in command.status(project)


def test_a_failing_rollout_status_is_undone_and_journaled(project, cluster):
    plan(project, cluster.url, timeout=5)
    cluster.update(fail_rollout=[NEW])
    with pytest.raises(DeployFailed) as failed:
        deploy(project)
    assert failed.value.rolled_back and "timed out waiting for the condition" in str(failed.value)
    assert cluster.verbs()[-3:] == ["kubectl rollout status", "kubectl rollout undo", "kubectl rollout status"]
    assert "kubectl port-forward pod/phx-fixture-0" not in cluster.verbs()  # no gate ran on a failed rollout
    assert cluster.read()["image"] == OLD
    assert journal(project).result == "rolled back"


def test_a_rollout_status_that_never_returns_is_killed_at_its_bound(project, cluster, monkeypatch):
    plan(project, cluster.url, timeout=1)
    monkeypatch.setattr("phoenix_ops.deploy.kubernetes.GRACE_SECONDS", 1.0)
    cluster.update(hang_rollout=True)
    with pytest.raises(DeployFailed) as failed:
        deploy(project)
    assert "did not finish within 2 s (killed)" in str(failed.value)
    assert not failed.value.rolled_back  # the undo's own rollout status hangs too: said, not hidden
    assert journal(project).result == "failed"


def test_a_new_version_that_cannot_read_old_sessions_is_rolled_back(project, tmp_path, monkeypatch, phoenix,
                                                                     phoenix_build_v2, releases):
    old, _ = releases
    other = phoenix.start(build=phoenix_build_v2, secret_key_base=secrets.token_urlsafe(48))
    cluster = Platform(tmp_path, monkeypatch, image=OLD, backends={OLD: old.port, NEW: other.port},
                       migrations=ALL_MIGRATIONS)
    try:
        plan(project, cluster.url)
        with pytest.raises(DeployFailed) as failed:
            deploy(project)
        assert "does not accept the session the old version issued" in str(failed.value)
        assert failed.value.rolled_back and cluster.read()["image"] == OLD
        assert cluster.verbs()[-2:] == ["kubectl rollout undo", "kubectl rollout status"]
    finally:
        cluster.close()


def test_an_unsafe_pending_migration_refuses_before_the_cluster_changes(project, cluster):
    """The running pods have v1's two migrations; v2's index without `concurrently` (MIG006) runs in
    the new pods' init container while old pods still serve."""
    plan(project, cluster.url)
    cluster.update(migrations=V1_MIGRATIONS)
    with pytest.raises(DeployFailed) as refused:
        deploy(project)
    assert "MIG006" in str(refused.value) and "nothing was changed" in str(refused.value)
    assert "kubectl set image" not in cluster.verbs() and cluster.read()["image"] == OLD
    assert journal(project) is None
    deploy(project, allow_unsafe_migrations=True)
    assert cluster.read()["image"] == NEW


def test_unlistable_migrations_count_as_pending(project, cluster):
    plan(project, cluster.url)
    cluster.update(migrations=None)
    with pytest.raises(DeployFailed, match="MIG006"):
        deploy(project)


def test_a_workload_missing_a_required_variable_is_refused(project, cluster):
    runtime = project / "config/runtime.exs"
    runtime.write_text(runtime.read_text() + '\nconfig :phx_fixture, :mailer_key, System.fetch_env!("MAILER_API_KEY")\n')
    plan(project, cluster.url)
    with pytest.raises(UsageError, match="REL050 .*MAILER_API_KEY"):
        deploy(project)
    assert cluster.calls() == []


def test_an_unreachable_cluster_ends_the_command_before_anything_changes(project, cluster):
    plan(project, cluster.url)
    cluster.update(unreachable=True)
    with pytest.raises(UsageError, match="Unable to connect to the server.*nothing was changed"):
        deploy(project)
    assert journal(project) is None


def test_rollback_puts_back_the_image_the_journal_recorded(project, cluster):
    plan(project, cluster.url)
    deploy(project)
    said = []
    assert f"{OLD} serves deployment/phx-fixture again" in command.rollback(project, say=said.append)
    assert cluster.calls()[-2] == ["kubectl", "set", "image", "deployment/phx-fixture", f"phx-fixture={OLD}"]
    assert cluster.read()["image"] == OLD and journal(project).result == "rolled back"


def test_resume_finishes_the_steps_an_interrupted_run_left(project, cluster):
    plan(project, cluster.url)
    cluster.update(fail_rollout=[NEW])
    journal_ = command.journal_for(project)
    journal_.write(deploy="1-0.2.0", event="start", tarball=NEW, version=NEW,
                   previous={"deployment/phx-fixture": {"image": OLD}}, strategy="rolling",
                   app="deployment/phx-fixture", target="k8s")
    journal_.write(deploy="1-0.2.0", event="step", step=f"set image phx-fixture={NEW} on deployment/phx-fixture")
    cluster.update(image=NEW, history=[OLD], fail_rollout=[])
    deploy(project, image=None, resume=True)
    assert cluster.verbs()[0] == "kubectl rollout status"  # the image was set before the interruption
    assert journal(project).result == "finished"
    with pytest.raises(UsageError, match="nothing to resume"):
        deploy(project, image=None, resume=True)


def test_fly_deploys_the_image_checks_the_machines_and_gates_each_one(project, cluster):
    plan(project, cluster.url)
    text, said = deploy(project, "fly")
    assert "to fly app phx-fixture" in text
    assert cluster.verbs() == ["fly machine list", "fly ssh console", "fly deploy", "fly machine list",
                               "fly machine list"]
    deploy_call = next(c for c in cluster.calls() if c[1] == "deploy")
    assert deploy_call[deploy_call.index("--image") + 1] == NEW
    assert deploy_call[deploy_call.index("--strategy") + 1] == "rolling"  # fly.toml names none
    assert deploy_call[deploy_call.index("--wait-timeout") + 1] == "300s"
    assert "2 instance(s) ready, every digested asset answers on each" in said
    assert journal(project).result == "finished" and journal(project).target == "fly"


def test_a_failed_fly_deploy_redeploys_the_previous_image(project, cluster):
    plan(project, cluster.url)
    (project / ".phoenix-ops.toml").write_text((project / ".phoenix-ops.toml").read_text()
                                               + '[deploy.fly]\nstrategy = "canary"\n')
    cluster.update(fail_rollout=[NEW])
    with pytest.raises(DeployFailed) as failed:
        deploy(project, "fly")
    assert "machine never reached a healthy state" in str(failed.value) and failed.value.rolled_back
    deploys = [c for c in cluster.calls() if c[1] == "deploy"]
    assert [(c[c.index("--image") + 1], c[c.index("--strategy") + 1]) for c in deploys] == \
        [(NEW, "canary"), (OLD, "rolling")]
    assert journal(project).result == "rolled back"


def test_dry_run_prints_every_command_and_runs_none(project, cluster):
    plan(project, cluster.url, namespace="shop", context="prod")
    text = command.dry_run_platform(project, "k8s", NEW)
    assert "kubectl --context prod --namespace shop set image deployment/phx-fixture phx-fixture=phx-fixture:0.2.0" \
        in text
    assert "rollout undo" in text and "port-forward" in text and "migrations: /app/bin/migrate" in text
    assert "fly deploy --config" in command.dry_run_platform(project, "fly", NEW)
    assert cluster.calls() == []
    (project / ".phoenix-ops.toml").write_text("[deploy.k8s]\n")  # the readiness probe's path, no public URL
    text = command.dry_run_platform(project, "k8s", NEW)
    probe = re.search(r"readinessProbe:\s+httpGet:\s+path: (\S+)", (project / "deploy/k8s/phx-fixture.yaml").read_text())
    assert f"gates: {probe.group(1)} answers 200 on every instance" in text and "no [deploy] url" in text


def test_the_command_line_deploys_reports_and_rolls_back_a_platform(project, cluster):
    plan(project, cluster.url)
    dry = invoke(["deploy", "--target", "k8s", NEW, "--dry-run", "--project", project])
    assert dry.exit_code == 0 and "kubectl set image deployment/phx-fixture" in dry.stdout and cluster.calls() == []
    cluster.update(fail_rollout=[NEW])
    failed = invoke(["deploy", "--target", "k8s", NEW, "--project", project])
    assert failed.exit_code == 1 and "deploy failed:" in failed.stderr and f"{OLD} serves again" in failed.stderr
    cluster.update(fail_rollout=[])
    done = invoke(["deploy", "--target", "k8s", NEW, "--project", project])
    assert done.exit_code == 0, done.output
    assert "to deployment/phx-fixture (k8s)" in invoke(["deploy", "status", "--project", project]).stdout
    back = invoke(["rollback", "--project", project])
    assert back.exit_code == 0 and cluster.read()["image"] == OLD


def test_an_unknown_target_is_a_usage_error(project):
    wrong = invoke(["deploy", "--target", "nomad", NEW, "--project", project])
    assert wrong.exit_code == 2 and "--target 'nomad': use ssh (the default), k8s or fly" in wrong.stderr
