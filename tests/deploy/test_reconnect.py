"""The rollback with hosts that stopped answering: a host whose SSH connection was lost is asked again,
once and within a short bound, so a host that went silent mid-deploy does not hold the others'
rollback for a whole connect timeout; a host that answers but cannot say what it runs is left out,
the others rolled back."""

import asyncio
import socket
import time
from pathlib import Path

from phoenix_ops.deploy.engine import RECONNECT_SECONDS, Deployer
from phoenix_ops.deploy.journal import Journal
from phoenix_ops.deploy.plan import load_plan
from phoenix_ops.deploy.remote import RemoteError
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


def test_a_host_that_cannot_say_what_it_runs_is_left_out_and_the_others_still_rolled_back(lab, tmp_path):
    """The second host answers over SSH but its state command times out (a shell whose start-up hangs
    on a lock): the rollback names it and leaves it out of the balancer, and still points the
    balancer at the others, rather than giving up on every host."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".phoenix-ops.toml").write_text(lab.plan())
    plan = load_plan(proj)
    ssh = {"known_hosts": str(lab.known_hosts), "identity": str(lab.identity)}
    stuck = plan.hosts[1]

    async def scenario() -> tuple[list[str], list[str]]:
        d = Deployer(plan, Journal(tmp_path / "journal.jsonl"), "phx_fixture", Path(), "", lambda _: None, ssh)
        answer = d.state

        async def state(host):
            if host == stuck:
                raise RemoteError(f"{host.label}: no answer within 20 s")
            return await answer(host)

        d.state = state
        await d.connect()
        try:
            return await d.rollback({})
        finally:
            await d.close()

    problems, lost = asyncio.run(scenario())
    assert lost == [] and problems == [f"{stuck.label}: no answer within 20 s: what it runs is unknown, "
                                       "left out of the balancer"], problems
    upstream = (tmp_path / "nginx" / "upstream.conf").read_text()
    assert [f":{h.port};" in upstream for h in plan.hosts] == [True, False, True], upstream
