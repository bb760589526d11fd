"""Benchmark: the full cluster doctor over 30 real BEAM nodes on loopback. Target: under 2 s.

The nodes (one cluster, full mesh) start in parallel before the clock starts. Each run is timed
twice: the sweep in-process (discovery, EPMD, 30 handshakes, 30 x 17 remote calls, diagnosis),
and the whole `phoenix-ops cluster` command as a user runs it (Python start-up included).

    python bench/cluster_bench.py [--nodes 30] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "cluster"))
from beam_nodes import LOOPBACK, Beam, NodeSpec  # noqa: E402  (the tests' node launcher)

from phoenix_ops.cluster.command import run_doctor  # noqa: E402
from phoenix_ops.cluster.discovery import parse_hosts  # noqa: E402
from phoenix_ops.cluster.doctor import DoctorOptions  # noqa: E402

TARGET_SECONDS = 2.0
COOKIE = "bench-cookie-7c1e0b9f"


def summary(label: str, times: list[float]) -> str:
    spread = max(times) - min(times)
    return (f"{label:<22} median {statistics.median(times):.3f}s  min {min(times):.3f}s  max {max(times):.3f}s  "
            f"spread {spread:.3f}s over {len(times)} runs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cluster_bench_") as tmp:
        root = Path(tmp)
        beam = Beam(root)
        try:
            started = time.monotonic()
            names = [f"n{i:02d}" for i in range(args.nodes)]
            # Each node joins n00; global then meshes them all. Ready means it sees every other node.
            mesh = (f"M = fun(F) -> case length(nodes()) of {args.nodes - 1} -> ok; "
                    "_ -> timer:sleep(50), F(F) end end, M(M),")
            beam.start(*(NodeSpec(n, COOKIE, peers=names[:1] if n != names[0] else [], eval=mesh) for n in names))
            print(f"started {args.nodes} nodes in {time.monotonic() - started:.1f}s (not timed)", file=sys.stderr)

            opts = DoctorOptions(cookie=COOKIE, seeds=parse_hosts(LOOPBACK, None, None), epmd_port=beam.epmd_port,
                                 expect=args.nodes)
            in_process, command = [], []
            cookie_file = root / "cookie"
            cookie_file.write_text(COOKIE)
            argv = [sys.executable, "-m", "phoenix_ops.cli", "cluster", "--hosts", LOOPBACK, "--epmd-port",
                    str(beam.epmd_port), "--cookie-file", str(cookie_file), "--expect", str(args.nodes)]
            for _ in range(args.runs):
                t0 = time.perf_counter()
                view, findings = run_doctor(opts, show_progress=False)
                in_process.append(time.perf_counter() - t0)
                bad = [f"{f.rule_id} {f.message}" for f in findings]
                if len(view.members()) != args.nodes or bad:
                    raise SystemExit(f"unexpected result: {len(view.members())} members, findings: {bad}")
                t0 = time.perf_counter()
                done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, HOME=tmp))
                command.append(time.perf_counter() - t0)
                if done.returncode != 0:
                    raise SystemExit(f"phoenix-ops cluster exited {done.returncode}:\n{done.stdout}{done.stderr}")
        finally:
            beam.close()

    print(summary("sweep (in-process)", in_process))
    print(summary("phoenix-ops cluster", command))
    verdict = "meets" if statistics.median(command) < TARGET_SECONDS else "MISSES"
    print(f"{args.nodes} nodes: the whole command {verdict} the {TARGET_SECONDS:g} s target")
    return 0 if verdict == "meets" else 1


if __name__ == "__main__":
    sys.exit(main())
