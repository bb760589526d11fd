"""Deploy three loopback hosts behind nginx with each strategy, under load, and print the failed
requests (must be 0), the deploy's wall time, and its overhead against a bare restart of the same
nodes: per batch, the deploy's time against the stop, boot and health of a bare restart (goal: at
most 1.3x).

    python bench/deploy_bench.py [--runs N] [STRATEGY...]   # builds the fixture release once (cached)

The nodes run distributed (libcluster joins them), so the join gate is part of every batch. Each
run is a pair, under the same steady load through nginx: a bare restart of every node (stop, start,
ready path 200; for blue-green the colour beside the live one), then a deploy of the other version.
The ratio is taken pair by pair, so a machine whose speed drifts (it is shared) moves both sides
alike; the medians over the runs are printed. The canary's metric window is a configured wait
(`canary-window`), not overhead: it is printed apart and left out of the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "deploy")]

from lab import Lab, Load  # noqa: E402
from phoenix_fixture import build_fixture  # noqa: E402

from phoenix_ops.deploy.command import deploy  # noqa: E402
from phoenix_ops.deploy.engine import BLUE, GREEN, MAIN, Deployer, live_colour  # noqa: E402
from phoenix_ops.deploy.journal import Journal  # noqa: E402
from phoenix_ops.deploy.plan import load_plan  # noqa: E402

CANARY_WINDOW = 5.0
STRATEGIES = ("rolling", "blue-green", "canary")


@dataclass
class Run:
    deploy: float  # wall seconds, the canary window left out
    stop: float  # the bare restart's stops
    boot: float  # the bare restart's starts: boot until the ready path answers 200
    failed: int
    requests: int
    steps: dict[str, float] = field(default_factory=dict)  # seconds per kind of step, from the journal

    @property
    def ratio(self) -> float:
        return self.deploy / (self.stop + self.boot)


async def bare_restart(lab: Lab, project: Path, strategy: str) -> tuple[float, float]:
    """What any restart costs, with the deploy's own stop and start (boot plus readiness), node after
    node: each node stopped and started on what it runs; for blue-green, the colour beside the live
    one stopped (when it still runs) and started. Returns the seconds of the stops and of the starts."""
    plan = load_plan(project)
    d = Deployer(plan, Journal(project / "bare.jsonl"), "phx_fixture", Path(), "", lambda _: None,
                 {"known_hosts": str(lab.known_hosts), "identity": str(lab.identity)})
    await d.connect()
    stops = starts = 0.0
    try:
        for host in plan.hosts:
            state = await d.state(host)
            colour = MAIN if strategy != "blue-green" else (GREEN if live_colour(state) == BLUE else BLUE)
            t0 = time.monotonic()
            if state.get(colour):
                await d.stop(host, colour)
            t1 = time.monotonic()
            await d.start(host, colour, state["current"])
            stops, starts = stops + t1 - t0, starts + time.monotonic() - t1
        return stops, starts
    finally:
        await d.close()


def step_seconds(journal: Path) -> dict[str, float]:
    """Seconds per kind of step of the last deploy (`start`, `stop`, `drain`...), from the journal's
    timestamps: each step took the time since the event before it."""
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    last = max(i for i, e in enumerate(events) if e["event"] == "start")
    spent: dict[str, float] = {}
    for before, event in zip(events[last:], events[last + 1:]):
        kind = event.get("step", event["event"]).split(" ")[0]
        spent[kind] = spent.get(kind, 0.0) + event["at"] - before["at"]
    return spent


def runs_of(strategy: str, builds, count: int) -> list[Run]:
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
            extra = {"canary-window": CANARY_WINDOW} if strategy == "canary" else {}
            (project / ".phoenix-ops.toml").write_text(lab.plan(strategy, lab.distributed(env), **extra))
            ssh = {"known_hosts": str(lab.known_hosts), "identity": str(lab.identity)}
            deploy(project, builds[0].tarball, resume=False, say=lambda _: None, ssh=ssh)
            runs = []
            for i in range(count):
                with Load(f"http://127.0.0.1:{lab.nginx_port}/"):  # the same traffic as during the deploy
                    stop, boot = asyncio.run(bare_restart(lab, project, strategy))
                with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
                    start = time.monotonic()
                    deploy(project, builds[(i + 1) % 2].tarball, resume=False, say=lambda _: None, ssh=ssh)
                    wall = time.monotonic() - start
                steps = step_seconds(project / ".phoenix-ops" / "deploy.jsonl")
                window = CANARY_WINDOW if strategy == "canary" else 0.0
                runs.append(Run(wall - window, stop, boot, len(load.failures), load.ok + len(load.failures), steps))
            return runs
        finally:
            lab.close()


def batches(strategy: str, hosts: int = 3) -> int:
    return {"blue-green": 1, "canary": 2}.get(strategy, hosts)  # rolling: batches of one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("strategies", nargs="*", metavar="STRATEGY", help=", ".join(STRATEGIES))
    args = parser.parse_args()
    if unknown := set(args.strategies) - set(STRATEGIES):
        parser.error(f"unknown strategy {sorted(unknown)[0]!r}: use {', '.join(STRATEGIES)}")
    builds = build_fixture(1), build_fixture(2)
    med = statistics.median
    print(f"3 hosts, {args.runs} runs per strategy (medians; a run pairs a bare restart and a deploy under load)")
    print(f"{'strategy':<11} {'batches':>7} {'requests':>8} {'failed':>6} {'deploy s':>8} {'bare s':>6} "
          f"{'stop s':>6} {'boot+health s':>13} {'per batch s':>14} {'ratio':>5}  1.3x   load avg")
    spent = {}
    for strategy in args.strategies or STRATEGIES:
        before = os.getloadavg()[0]
        runs = runs_of(strategy, builds, args.runs)
        after = os.getloadavg()[0]
        n = batches(strategy)
        deploy_s, stop_s, boot_s = med(r.deploy for r in runs), med(r.stop for r in runs), med(r.boot for r in runs)
        ratio = med(r.ratio for r in runs)
        print(f"{strategy:<11} {n:>7} {med(r.requests for r in runs):>8.0f} {sum(r.failed for r in runs):>6} "
              f"{deploy_s:>8.1f} {stop_s + boot_s:>6.1f} {stop_s:>6.1f} {boot_s:>13.1f} "
              f"{deploy_s / n:>6.1f} vs {(stop_s + boot_s) / n:>4.1f} {ratio:>5.2f}  "
              f"{'met' if ratio <= 1.3 else 'not':<5}  {before:.1f} -> {after:.1f}", flush=True)
        kinds = sorted({k for r in runs for k in r.steps})
        spent[strategy] = {k: med(r.steps.get(k, 0.0) for r in runs) for k in kinds}
        if strategy == "canary":
            print(f"{'':<11} canary window: {CANARY_WINDOW:g} s more, a configured wait (canary-window), "
                  "left out of deploy s and the ratio")
    print("\nwhere the deploy's time goes (median s per kind of step, from the journal; the canary gate "
          "includes its window):")
    for strategy, kinds in spent.items():
        print(f"{strategy:<11} " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))


if __name__ == "__main__":
    main()
