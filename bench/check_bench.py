"""Time `phoenix-ops check` on the synthetic project against its targets.

    python bench/check_bench.py [--runs 5] [--project DIR] [--regenerate]

Generates the project (bench/gen_project.py) if it is absent, runs one untimed warm-up (so the
page cache holds the files, as on a developer's machine), then runs `phoenix-ops check` as a
separate process N times and prints median, min and max of wall time, CPU time and peak RSS,
read from the kernel's accounting of each finished child (wait4). Targets: under 3 s and 300 MB
on a 2-core machine. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gen_project import generate

TARGET_SECONDS = 3.0
TARGET_MB = 300


def run_once(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS in MB of one run of `cmd`."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # 1 only means findings at the fail level
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr.read().decode(errors='replace')}")
    proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def parsed_files(project: Path) -> tuple[int, int]:
    """How many Elixir files `check` gives a parse tree, of how many it reads (its migration
    rules parse every migration)."""
    from phoenix_ops.project import load_project

    loaded = load_project(project)
    _ = loaded.migrations  # parsed on first use, as the migration rules use them
    files = loaded.files.files.values()
    return sum("tree" in f.__dict__ for f in files), len(files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--project", type=Path, default=Path(__file__).parent / "out")
    ap.add_argument("--regenerate", action="store_true", help="write the project again even if present")
    args = ap.parse_args()

    if args.regenerate or not (args.project / "mix.exs").exists():
        stats = generate(args.project)
        print(f"generated {args.project}: {stats['files']} files, {stats['bytes'] / 1e6:.1f} MB, "
              f"{stats['contexts']} contexts, {stats['migrations']} migrations")
    exe = shutil.which("phoenix-ops")
    cmd = [exe, "check", str(args.project)] if exe else [sys.executable, "-m", "phoenix_ops.cli", "check",
                                                          str(args.project)]
    run_once(cmd)
    runs = [run_once(cmd) for _ in range(args.runs)]
    walls, cpu, rss = ([r[i] for r in runs] for i in range(3))
    parsed, read = parsed_files(args.project)

    print(f"phoenix-ops check {args.project}: {args.runs} runs on {os.cpu_count()} cores, "
          f"{parsed} of {read} Elixir files parsed")
    ok_time = statistics.median(walls) < TARGET_SECONDS
    ok_mem = max(rss) < TARGET_MB
    print(f"  wall  median {statistics.median(walls):.2f} s  min {min(walls):.2f}  max {max(walls):.2f}  "
          f"target < {TARGET_SECONDS:.0f} s  {'PASS' if ok_time else 'FAIL'}")
    # On a shared machine wall time varies with load while CPU time stays put: a wide wall range
    # next to a steady CPU figure means the machine was busy, not that check got slower.
    print(f"  cpu   median {statistics.median(cpu):.2f} s  min {min(cpu):.2f}  max {max(cpu):.2f}")
    print(f"  rss   median {statistics.median(rss):.0f} MB  min {min(rss):.0f}  max {max(rss):.0f}  "
          f"target < {TARGET_MB} MB  {'PASS' if ok_mem else 'FAIL'}")
    sys.exit(0 if ok_time and ok_mem else 1)


if __name__ == "__main__":
    main()
