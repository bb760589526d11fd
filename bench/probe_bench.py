"""Benchmark of `phoenix-ops probe` against real servers on loopback.

Targets: the passive probe of one target (the whole command, Python start included) under 1.5 s,
and 50 targets probed concurrently under 10 s. Each target is an nginx TLS site in front of the
Phoenix stand-in (five stand-in nodes shared by the sites); the plain HTTP checks of every target
go to the first site's HTTP port (one --http-port). Servers start before the clock does.

    python bench/probe_bench.py [--runs N] [--targets N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "live"))

from live_servers import Site, make_certs, start_nginx, start_standin  # noqa: E402

ONE_TARGET_LIMIT = 1.5
MANY_TARGETS_LIMIT = 10.0


def timed(cmd: list[str]) -> float:
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"probe failed ({done.returncode}): {done.stderr[-2000:]}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--targets", type=int, default=50)
    args = ap.parse_args()
    servers = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            certs = make_certs(Path(tmp))
            nodes = [start_standin() for _ in range(5)]
            servers += nodes
            sites = [Site(nodes[i % len(nodes)].port, certs.good) for i in range(args.targets)]
            servers.append(start_nginx(Path(tmp) / "nginx", sites))
            base = [sys.executable, "-m", "phoenix_ops.cli", "probe", "--ca-file", certs.ca_file,
                    "--http-port", str(sites[0].http_port), "--format", "json", "--concurrency", str(args.targets)]
            urls = [f"https://localhost:{s.https_port}/" for s in sites]
            one = [timed(base + urls[:1]) for _ in range(args.runs)]
            many = [timed(base + urls) for _ in range(max(3, args.runs // 2))]
        finally:
            for s in servers:
                s.stop()
    results = [("passive probe, 1 target", statistics.median(one), ONE_TARGET_LIMIT),
               (f"passive probe, {args.targets} targets concurrently", statistics.median(many), MANY_TARGETS_LIMIT)]
    ok = True
    for name, median, limit in results:
        verdict = "ok" if median < limit else "TOO SLOW"
        ok &= median < limit
        print(f"{name}: median {median:.2f} s (limit {limit:g} s) {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
