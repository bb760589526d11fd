"""The deploy journal read back: what `deploy status`, `--resume` and `rollback` rely on."""

from phoenix_ops.deploy.command import journal_for, status


def write_run(root, *events):
    journal = journal_for(root)
    journal.write(deploy="1-0.2.0", event="start", tarball="/tmp/a.tar.gz", version="0.2.0",
                  previous={"a": {"main": "0.1.0"}}, strategy="rolling", app="shop")
    for step in ("install 0.2.0 on a", "stop a"):
        journal.write(deploy="1-0.2.0", event="step", step=step)
    for event in events:
        journal.write(deploy="1-0.2.0", **event)
    return journal.last()


def test_an_interrupted_deploy_keeps_its_steps(tmp_path):
    run = write_run(tmp_path)
    assert run.result is None and run.done == {"install 0.2.0 on a", "stop a"}
    assert "interrupted" in status(tmp_path) and "stop a" in status(tmp_path)


def test_a_rollback_undoes_the_steps_so_a_resumed_deploy_starts_over(tmp_path):
    run = write_run(tmp_path, {"event": "rollback"})
    assert run.result is None and run.done == set()


def test_a_host_the_rollback_could_not_reach_is_named_with_what_to_do(tmp_path):
    run = write_run(tmp_path, {"event": "rollback"},
                    {"event": "end", "result": "failed", "reason": "b:2222: connection lost (Keepalive timeout)",
                     "problems": ["b:2222 does not answer over SSH: left out of the balancer"],
                     "unreachable": ["b:2222"]})
    assert run.result == "failed" and run.unreachable == ["b:2222"]
    text = status(tmp_path)
    assert "0.2.0 (rolling), failed" in text and "why: b:2222: connection lost" in text
    assert "out of the balancer (did not answer over SSH): b:2222" in text and "`deploy --resume`" in text
