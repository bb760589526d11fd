"""Deploy three loopback hosts behind nginx with each strategy, under load, and print the failed
requests (must be 0), the deploy's wall time, and its overhead against a bare restart of the same
nodes: per batch, the rollout's time against the stop, boot and health of a bare restart (goal: at
most 1.3x).

    python bench/deploy_bench.py [--runs N] [STRATEGY...]   # builds the fixture release once (cached)

The nodes run distributed (libcluster joins them), so the join gate is part of every batch. Each
run is a pair, under the same steady load through nginx: a bare restart of every node, node after
node (stopped, then started until the ready path answers 200; for blue-green the colour beside the
live one, on every host at once, as the deploy starts it), then a deploy of the other version. The ratio is taken pair by pair, so a machine whose speed drifts (it
is shared) moves both sides alike; the medians over the runs are printed, with where the deploy's
time goes, phase by phase.

`ratio` leaves the upload out: the release is shipped to and unpacked on every host once, before
the first node is drained, and a restart of what already runs has nothing to ship. The upload is
printed apart (`upload s`), and `whole` is the ratio with it in. The canary's metric window is a
configured wait (`canary-window`), not overhead: it is left out of both. Before each deploy the
hosts forget the release about to be deployed (its directory is removed): each upload is that of a
release new to them, whose files shared with the running release are linked there, the rest sent.

Measured on 2 cores with nothing else running, 5 runs each (load average 1-3.5, the bench's own):
0 failed requests; ratio rolling 1.24, blue-green 1.19, canary 1.23 (goal met); whole 1.34, 1.35,
1.34; uploads 0.6-0.7 s (0.2 MB per host instead of the 9 MB tarball). 3 runs each gave 1.19, 1.10
and 1.26. The lab's SSH user has a home of its own, so this machine's root ~/.bashrc (a pyenv init,
0.2-0.45 s a command) does not run for every command. At a load average of 9-16, before the quiet
wait slid, it gave 1.66, 1.55 and 1.16: the ratio moves with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
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
from phoenix_ops.release.artifact import identify  # noqa: E402

CANARY_WINDOW = 5.0
STRATEGIES = ("rolling", "blue-green", "canary")


@dataclass
class Run:
    deploy: float  # wall seconds, the canary window left out
    stop: float  # the bare restart's stops
    boot: float  # the bare restart's starts: boot until the ready path answers 200
    failed: list[str]  # what each failed request got: a status, or the error
    requests: int
    batches: int
    bare_failed: int  # requests the bare restart lost: it drains nothing
    steps: dict[str, float] = field(default_factory=dict)  # wall seconds per kind of step (phases)

    @property
    def upload(self) -> float:
        return self.steps.get("install", 0.0)

    @property
    def ratio(self) -> float:
        """The rollout against the bare restart: the upload, which a restart of what runs needs not, apart."""
        return (self.deploy - self.upload) / (self.stop + self.boot)

    @property
    def whole(self) -> float:
        return self.deploy / (self.stop + self.boot)


async def bare_restart(lab: Lab, project: Path, strategy: str) -> tuple[float, float, int]:
    """What any restart costs, with the deploy's own stop and start (boot plus readiness), node after
    node on what each runs; for blue-green, the colour beside the live one stopped (when it still
    runs) and started, on every host at once. Returns the seconds of the stops and of the starts,
    and the number of batches the strategy groups the nodes in (Deployer.batches)."""
    plan = load_plan(project)
    d = Deployer(plan, Journal(project / "bare.jsonl"), "phx_fixture", Path(), "", lambda _: None,
                 {"known_hosts": str(lab.known_hosts), "identity": str(lab.identity)})
    await d.connect()
    stops = starts = 0.0
    try:
        # The deploy starts blue-green's new colours at once, and restarts a batch node after node.
        for batch in d.batches() if strategy == "blue-green" else [[h] for b in d.batches() for h in b]:
            states = await asyncio.gather(*(d.state(h) for h in batch))
            colours = [MAIN if strategy != "blue-green" else (GREEN if live_colour(s) == BLUE else BLUE)
                       for s in states]
            t0 = time.monotonic()
            await asyncio.gather(*(d.stop(h, c) for h, c, s in zip(batch, colours, states) if s.get(c)))
            t1 = time.monotonic()
            await asyncio.gather(*(d.start(h, c, s["current"]) for h, c, s in zip(batch, colours, states)))
            stops, starts = stops + t1 - t0, starts + time.monotonic() - t1
        return stops, starts, len(d.batches())
    finally:
        await d.close()


def phases(said: dict[str, float], journal: Path, began: float, ended: float) -> dict[str, float]:
    """Wall seconds per kind of step of the last deploy (`install`, `drain`, `stop`, `start`...): the
    time during which at least one step of that kind ran, from its announcement to its journal entry
    (steps of one kind may run together). Besides: `setup` before the first step (the release's
    listing, connecting, reading the hosts' state), `close` after the last one (the last journal
    entry, closing the connections), `other` what no step covers in between."""
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    last = max(i for i, e in enumerate(events) if e["event"] == "start")
    spans: dict[str, list[tuple[float, float]]] = {}
    for event in events[last:]:
        if event["event"] == "step" and event["step"] in said:
            spans.setdefault(event["step"].split(" ")[0], []).append((said[event["step"]], event["at"]))
    every = [s for kind in spans.values() for s in kind]
    spent = {kind: covered(s) for kind, s in spans.items()}
    spent["setup"] = min(s[0] for s in every) - began
    spent["close"] = ended - max(s[1] for s in every)
    spent["other"] = ended - began - covered(every) - spent["setup"] - spent["close"]
    return spent


def covered(spans: list[tuple[float, float]]) -> float:
    """The length of the union of the time spans."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > max(start, reach):  # a step journaled within the millisecond it began spans nothing
            total += end - max(start, reach)
            reach = end
    return total


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
                with Load(f"http://127.0.0.1:{lab.nginx_port}/") as bare:  # the same traffic as the deploy's
                    stop, boot, batches = asyncio.run(bare_restart(lab, project, strategy))
                # A bare restart drains nothing: nginx counts each node it found down as failed for
                # fail_timeout (10 s), and while it counts every node failed it answers 502 without
                # trying any. Reloaded, its workers count nothing: the deploy finds it as it would.
                subprocess.run(lab.reload.split(), check=True, capture_output=True)
                time.sleep(1)
                said: dict[str, float] = {}
                tarball = builds[(i + 1) % 2].tarball
                for h in lab.hosts:  # a release new to the hosts: what it shares with the running one is reused
                    if (held := h.root / "releases" / identify(tarball)[1]).exists():
                        shutil.rmtree(held)
                with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
                    began = time.time()
                    deploy(project, tarball, resume=False, ssh=ssh,
                           say=lambda message: said.setdefault(message, time.time()))
                    wall = time.time() - began
                steps = phases(said, project / ".phoenix-ops" / "deploy.jsonl", began, began + wall)
                window = CANARY_WINDOW if strategy == "canary" else 0.0
                runs.append(Run(wall - window, stop, boot, load.failures, load.ok + len(load.failures),
                                batches, len(bare.failures), steps))
            return runs
        finally:
            lab.close()


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
    print(f"{'strategy':<11} {'batches':>7} {'requests':>8} {'failed':>6} {'deploy s':>8} {'upload s':>8} "
          f"{'bare s':>6} {'stop s':>6} {'boot+health s':>13} {'per batch s':>14} {'ratio':>5} {'whole':>5}  "
          "1.3x   load avg")
    spent = {}
    for strategy in args.strategies or STRATEGIES:
        before = os.getloadavg()[0]
        runs = runs_of(strategy, builds, args.runs)
        after = os.getloadavg()[0]
        n = runs[0].batches
        deploy_s, upload_s = med(r.deploy for r in runs), med(r.upload for r in runs)
        stop_s, boot_s = med(r.stop for r in runs), med(r.boot for r in runs)
        ratio = med(r.ratio for r in runs)
        print(f"{strategy:<11} {n:>7} {med(r.requests for r in runs):>8.0f} {sum(len(r.failed) for r in runs):>6} "
              f"{deploy_s:>8.1f} {upload_s:>8.1f} {stop_s + boot_s:>6.1f} {stop_s:>6.1f} {boot_s:>13.1f} "
              f"{(deploy_s - upload_s) / n:>6.1f} vs {(stop_s + boot_s) / n:>4.1f} {ratio:>5.2f} "
              f"{med(r.whole for r in runs):>5.2f}  {'met' if ratio <= 1.3 else 'not':<5}  "
              f"{before:.1f} -> {after:.1f}", flush=True)
        if failed := Counter(f for r in runs for f in r.failed):
            print(f"{'':<11} failed requests got: " + ", ".join(f"{k} x{v}" for k, v in failed.most_common(5)))
        print(f"{'':<11} the bare restarts, draining nothing, lost {sum(r.bare_failed for r in runs)} requests")
        kinds = sorted({k for r in runs for k in r.steps})
        spent[strategy] = {k: med(r.steps.get(k, 0.0) for r in runs) for k in kinds}
        if strategy == "canary":
            print(f"{'':<11} canary window: {CANARY_WINDOW:g} s more, a configured wait (canary-window), "
                  "left out of deploy s and the ratio")
    print("\nwhere the deploy's time goes (median wall s per kind of step, from its start to its journal entry, "
          "steps of a kind that run together counted once; setup before the first step, close after the last, "
          "other between steps; the canary gate includes its window):")
    for strategy, kinds in spent.items():
        print(f"{strategy:<11} " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))


if __name__ == "__main__":
    main()
