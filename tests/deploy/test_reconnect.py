"""The rollback asks again a host whose SSH connection was lost, once and within a short bound: a host
that went silent mid-deploy does not hold the others' rollback for a whole connect timeout."""

import asyncio
import socket
import time
from pathlib import Path

from phoenix_ops.deploy.engine import RECONNECT_SECONDS, Deployer
from phoenix_ops.deploy.journal import Journal
from phoenix_ops.deploy.plan import load_plan
from phoenix_ops.record import replace


def test_a_lost_connection_is_opened_again_and_a_silent_host_given_up_quickly(lab, tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".phoenix-ops.toml").write_text(lab.plan())
    plan = load_plan(proj)
    ssh = {"known_hosts": str(lab.known_hosts), "identity": str(lab.identity)}
    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        gone = replace(plan.hosts[1], ssh_port=silent.getsockname()[1])

        async def scenario() -> tuple[bool, bool, float]:
            d = Deployer(plan, Journal(tmp_path / "journal.jsonl"), "phx_fixture", Path(), "", lambda _: None, ssh)
            await d.connect()
            try:
                lost = d.sessions[plan.hosts[0].label]
                lost.lost = True  # as a command that found the connection gone leaves it
                again = await d.reach(plan.hosts[0]) and d.sessions[plan.hosts[0].label] is not lost
                began = time.monotonic()
                answered = await d.reach(gone)
                return again, answered, time.monotonic() - began
            finally:
                await d.close()

        again, answered, took = asyncio.run(scenario())
    assert again
    assert not answered and took < RECONNECT_SECONDS + 2, took
