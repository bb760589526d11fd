"""Deploy three loopback hosts behind nginx with each strategy, under load, and print the failed
requests (must be 0), the deploy's wall time, and its overhead against a bare stop/start of the same
nodes (goal: at most 1.3x the bare time per batch).

    python bench/deploy_bench.py [STRATEGY...]   # builds the fixture release once (cached), ~3-5 min
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "deploy")]

from lab import Lab, Load  # noqa: E402
from phoenix_fixture import build_fixture  # noqa: E402

from phoenix_ops.deploy.command import deploy  # noqa: E402
from phoenix_ops.deploy.engine import GREEN, MAIN, Deployer  # noqa: E402
from phoenix_ops.deploy.journal import Journal  # noqa: E402
from phoenix_ops.deploy.plan import load_plan  # noqa: E402


async def bare_restart(lab: Lab, project: Path, tarball: Path, version: str, strategy: str) -> float:
    """What any restart costs, with the deploy's own stop and start (boot plus readiness) under the
    same load: each node stopped and started in turn; for blue-green, each node's other colour
    started beside it."""
    plan = load_plan(project)
    d = Deployer(plan, Journal(project / "bare.jsonl"), "phx_fixture", tarball, version, lambda _: None,
                 {"known_hosts": str(lab.known_hosts), "identity": str(lab.identity)})
    await d.connect()
    try:
        start = time.monotonic()
        for host in plan.hosts:
            if strategy == "blue-green":
                await d.start(host, GREEN, version)
            else:
                await d.stop(host, MAIN)
                await d.start(host, MAIN, version)
        took = time.monotonic() - start
        if strategy == "blue-green":
            await asyncio.gather(*(d.stop(host, GREEN) for host in plan.hosts))
        return took
    finally:
        await d.close()


def profile(journal: Path) -> str:
    """Seconds per kind of step of the last deploy (`start`, `stop`, `drain`...), from the journal's
    timestamps: each step took the time since the event before it."""
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    last = max(i for i, e in enumerate(events) if e["event"] == "start")
    spent: dict[str, float] = {}
    for before, event in zip(events[last:], events[last + 1:]):
        kind = event.get("step", event["event"]).split(" ")[0]
        spent[kind] = spent.get(kind, 0.0) + event["at"] - before["at"]
    return ", ".join(f"{k} {v:.1f}" for k, v in sorted(spent.items(), key=lambda kv: -kv[1]))


def one(strategy: str, v1, v2) -> tuple[int, int, float, float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        lab = Lab(tmp_path)
        try:
            lab.start_hosts(3)
            lab.start_nginx()
            env = tmp_path / "prod.env"
            env.write_text(f"SECRET_KEY_BASE={secrets.token_urlsafe(48)}\nPHX_HOST=localhost\nPHX_IP=127.0.0.1\n"
                           "LANG=C.UTF-8\n")
            project = tmp_path / "proj"
            project.mkdir()
            extra = {"canary-window": 5} if strategy == "canary" else {}
            (project / ".phoenix-ops.toml").write_text(lab.plan(strategy, env, **extra))
            ssh = {"known_hosts": str(lab.known_hosts), "identity": str(lab.identity)}
            deploy(project, v1.tarball, resume=False, say=lambda _: None, ssh=ssh)
            with Load(f"http://127.0.0.1:{lab.nginx_port}/"):  # the same traffic as during the deploy
                took = asyncio.run(bare_restart(lab, project, v1.tarball, v1.version, strategy))
            with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
                start = time.monotonic()
                deploy(project, v2.tarball, resume=False, say=lambda _: None, ssh=ssh)
                wall = time.monotonic() - start
            return load.ok, len(load.failures), wall, took, profile(project / ".phoenix-ops" / "deploy.jsonl")
        finally:
            lab.close()


def main() -> None:
    v1, v2 = build_fixture(1), build_fixture(2)
    print(f"{'strategy':<11} {'requests':>8} {'failed':>6} {'deploy s':>8} {'bare s':>7} {'ratio':>6}")
    spent = {}
    for strategy in sys.argv[1:] or ("rolling", "blue-green", "canary"):
        ok, failed, wall, bare, spent[strategy] = one(strategy, v1, v2)
        ratio = wall / bare
        print(f"{strategy:<11} {ok + failed:>8} {failed:>6} {wall:>8.1f} {bare:>7.1f} {ratio:>6.2f}", flush=True)
    print("\nwhere the deploy's time goes (s per kind of step, from the journal):")
    for strategy, line in spent.items():
        print(f"{strategy:<11} {line}")


if __name__ == "__main__":
    main()
