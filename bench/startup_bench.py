"""Start-up of `phoenix-ops`: `check` on a small app against the floor, and `--version`.

    python bench/startup_bench.py [--runs 15] [--project DIR]

The floor is what no implementation of `check` can avoid: one Python process that imports the
Elixir grammar, reads every file `check` reads and parses the files `check` parses (found by
running the audit once in this process, recording each parse). `check` on the small generated app
(bench/gen_project.py at scale 0.02: about 100 files, 0.2 MB of Elixir) is timed as the user runs
it, output included. The commands alternate run by run, after one warm-up each, so a machine that
drifts slows both; the figures are medians of wall time.

Targets: `check` within 2x of the floor; `--version` under 60 ms. Exit status 1 when one is missed.
Last measured (31 runs, quiet machine): floor 28.3 ms, `check` 75.2 ms (2.66x), `--version` 14.9 ms;
in instructions (valgrind) 133 M against 384 M. README.md says where the rest goes.
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

sys.path.insert(0, str(Path(__file__).parent))
from gen_project import generate

TARGET_RATIO = 2.0
TARGET_VERSION_SECONDS = 0.060

# The floor: read every file, parse what check parses; nothing else.
FLOOR = """
import os, sys
import tree_sitter, tree_sitter_elixir
root, listed = sys.argv[1], sys.argv[2]
parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_elixir.language()))
wanted = set(open(listed).read().split())
skip = {"_build", "deps", "node_modules", ".git"}
for dirpath, dirnames, filenames in os.walk(root):
    dirnames[:] = [d for d in dirnames if d not in skip]
    for name in filenames:
        full = os.path.join(dirpath, name)
        with open(full, "rb") as fh:
            data = fh.read()
        if os.path.relpath(full, root) in wanted:
            parser.parse(data)
"""


def parsed_files(project: Path) -> list[str]:
    """The files `check` parses, recorded while it audits the project in this process."""
    from functools import cached_property

    from phoenix_ops.catalog import catalog
    from phoenix_ops.check.pipeline import CheckOptions, run_check
    from phoenix_ops.project.files import SourceFile

    seen: list[str] = []
    original = SourceFile.__dict__["tree"]
    parse_tree = original.func

    def recording(self: SourceFile):
        seen.append(self.path)
        return parse_tree(self)

    traced = cached_property(recording)
    traced.__set_name__(SourceFile, "tree")
    SourceFile.tree = traced
    try:
        run_check(project, CheckOptions(), catalog("static", "audit"))
    finally:
        SourceFile.tree = original
    return sorted(set(seen))


# An installed package has its bytecode compiled (pip does it): let the warm-up write it here too.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU from the kernel's accounting of the finished child)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1 only means findings
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return seconds, usage.ru_utime + usage.ru_stime


def medians(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, cpu) of each command, the commands taking turns run by run."""
    for cmd in commands.values():
        timed(cmd)  # warm-up: the page cache holds the files, bytecode is compiled
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            times[name].append(timed(cmd))
    return {name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
            for name, t in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--project", type=Path, help="an existing project (default: a small generated one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project or Path(tmp) / "app"
        if args.project is None:
            generate(project, scale=0.02)
        listed = Path(tmp) / "parsed.txt"
        parsed = parsed_files(project)
        listed.write_text("\n".join(parsed))
        files = sum(1 for _, _, names in os.walk(project) for name in names)
        tool = [sys.executable, "-m", "phoenix_ops"]
        got = medians({"floor": [sys.executable, "-c", FLOOR, str(project), str(listed)],
                       "check": [*tool, "check", str(project)],
                       "version": [*tool, "--version"]}, args.runs)
    (floor, floor_cpu), (check, check_cpu), (version, version_cpu) = got["floor"], got["check"], got["version"]
    print(f"project: {args.project or 'generated, scale 0.02'}; {len(parsed)} of {files} files parsed; "
          f"medians of {args.runs} runs, wall (cpu)")
    print(f"floor (read every file, parse what check parses)  {floor * 1000:6.1f} ms ({floor_cpu * 1000:5.1f} ms)")
    print(f"check                                             {check * 1000:6.1f} ms ({check_cpu * 1000:5.1f} ms)"
          f"  {check / floor:.2f}x the floor ({check_cpu / floor_cpu:.2f}x in cpu); target <= {TARGET_RATIO:g}x")
    print(f"--version                                         {version * 1000:6.1f} ms ({version_cpu * 1000:5.1f} ms)"
          f"  target < {TARGET_VERSION_SECONDS * 1000:.0f} ms")
    return 0 if check / floor <= TARGET_RATIO and version < TARGET_VERSION_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
