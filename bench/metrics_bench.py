"""Benchmark: `metrics` on a 5 MB scrape. Target: under 1 s.

The scrape has the shape of a busy PromEx node: BEAM, Ecto and Oban series, and per-route Phoenix
request histograms that make up most of its size. It is served on loopback before the clock
starts; the command scrapes once (--interval 0), and the two-scrape run is timed without its sleep.

    python bench/metrics_bench.py [--mb 5] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "metrics"))
from command_timing import run_timed  # noqa: E402  (beside this script)
from scrape_server import ScrapeServer  # noqa: E402  (the tests' scrape server)

from phoenix_ops.metrics.command import MetricsArgs, examine  # noqa: E402

TARGET_SECONDS = 1.0
BUCKETS = ("5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "+Inf")


def scrape_text(megabytes: float) -> str:
    p = "shop_prom_ex_"
    head = [f"# TYPE {p}beam_stats_process_count gauge", f"{p}beam_stats_process_count 4200",
            f"# TYPE {p}beam_system_process_limit_info gauge", f"{p}beam_system_process_limit_info 262144",
            f"# TYPE {p}beam_memory_allocated_bytes gauge", f"{p}beam_memory_allocated_bytes 312000000",
            f"# TYPE {p}beam_stats_run_queue_count gauge", f"{p}beam_stats_run_queue_count 1",
            f"# TYPE {p}beam_system_schedulers_online_info gauge", f"{p}beam_system_schedulers_online_info 4",
            f"# TYPE {p}ecto_repo_query_queue_time_milliseconds histogram"]
    head += [f'{p}ecto_repo_query_queue_time_milliseconds_bucket{{repo="Shop.Repo",le="{le}"}} {100 * i}'
             for i, le in enumerate(BUCKETS)]
    head += [f"# TYPE {p}oban_queue_length_count gauge",
             f'{p}oban_queue_length_count{{queue="default",state="available"}} 12']
    lines, size, route = head, sum(len(x) + 1 for x in head), 0
    name = f"{p}phoenix_http_request_duration_milliseconds"
    lines.append(f"# TYPE {name} histogram")
    while size < megabytes * 1e6:
        labels = f'action="show",controller="ShopWeb.Product{route}Controller",method="GET",path="/products/{route}/:id",status="200"'
        block = [f'{name}_bucket{{{labels},le="{le}"}} {route * 7 + i}' for i, le in enumerate(BUCKETS)]
        block += [f"{name}_sum{{{labels}}} {route * 31.5}", f"{name}_count{{{labels}}} {route * 7 + 11}"]
        lines += block
        size += sum(len(x) + 1 for x in block)
        route += 1
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = scrape_text(args.mb)
    server = ScrapeServer(text)
    try:
        print(f"scrape: {len(text) / 1e6:.1f} MB, {text.count(chr(10))} lines")
        inproc, twice, command, cpu = [], [], [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            examine(MetricsArgs([server.url], interval=0))
            inproc.append(time.perf_counter() - t)
            t = time.perf_counter()
            examine(MetricsArgs([server.url], interval=1e-6))
            twice.append(time.perf_counter() - t)
            wall, used, done = run_timed("metrics", server.url, "--interval", "0")
            command.append(wall)
            cpu.append(used)
            assert done.returncode in (0, 1), done.stderr
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; the command's own CPU time: "
              f"median {statistics.median(cpu):.3f}s")
        for label, times in (("one scrape", inproc), ("two scrapes", twice), ("phoenix-ops metrics", command)):
            print(f"{label:<20} median {statistics.median(times):.3f}s  min {min(times):.3f}s  "
                  f"max {max(times):.3f}s over {len(times)} runs (target {TARGET_SECONDS} s)")
        return 0 if statistics.median(command) < TARGET_SECONDS else 1
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
