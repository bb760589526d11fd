"""Peak memory and time of `phoenix-ops check` on the worst shapes of input, against the bounds.

    python bench/hostile_bench.py [--only NAME]

Each shape is a small Phoenix project (tests/project_shapes.py) with one hostile file; each run is
a separate process, measured by the kernel's accounting of the finished child (wait4, through
tests/bounded.py). Bounds: under 500 MB for any input under 10 MB, and seconds of CPU (10 at most).
Exit status 1 when a bound is missed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bounded import CPU_SECONDS, run_cli  # noqa: E402
from project_shapes import GOOD  # noqa: E402

BOUND_MB = 500


def _prod(body: str) -> dict[str, str]:
    return {"config/prod.exs": "import Config\n" + body}


def _mix(extra: str) -> dict[str, str]:
    return {"mix.exs": GOOD["mix.exs"].replace("deps: deps()", f"deps: deps(), extra: {extra}")}


SHAPES = {
    "mix.exs nested 1,000 deep": lambda: _mix("[" * 1000 + "]" * 1000),
    "config nested 50,000 deep": lambda: _prod("config :demo, :x, " + "[" * 50_000 + "]" * 50_000 + "\n"),
    "50,000 nested case": lambda: _prod('case System.get_env("A") do\n x ->\n' * 50_000 + "1\n" + "end\n" * 50_000),
    "`||` chain 30,000 deep": lambda: _prod("config :demo, :x, " + " || ".join(['System.get_env("A")'] * 30_000) + "\n"),
    "list of 1,000,000 items (2 MB)": lambda: _prod("config :demo, :x, [" + ",".join(["1"] * 1_000_000) + "]\n"),
    "list of 1,900,000 items (3.8 MB, under the 4 MB cap)":
        lambda: _prod("config :demo, :x, [" + ",".join(["1"] * 1_900_000) + "]\n"),
    "config of 10 MB (60,000 keys, padded)": lambda: _prod(
        "".join(f'config :demo, :k{i}, "{"v" * 150}"\n' for i in range(60_000))),
    "one key set 60,000 times": lambda: _prod("config :demo, :x, 1\n" * 60_000),
    "a = a * a, forty times": lambda: _prod("a = 3\n" + "a = a * a\n" * 40 + "config :demo, :x, a\n"),
    "a = a <> a, thirty-four times": lambda: _prod('a = "xy"\n' + "a = a <> a\n" * 34 + "config :demo, :x, a\n"),
    "six nested for over 30 items": lambda: _prod("xs = " + repr(list(range(30))) + "\n" + "for a <- xs do\n" * 6
                                                  + "config :demo, :x, a\n" + "end\n" * 6),
    "import_config fan-out, 40 levels": lambda: {
        **{f"config/f{i}.exs": f'import Config\nimport_config "f{i + 1}.exs"\nimport_config "f{i + 1}.exs"\n'
           for i in range(40)}, "config/f40.exs": "import Config\n", **_prod('import_config "f0.exs"\n')},
    "token of 60 KB": lambda: _prod('config :demo, :x, foo("' + "a1" * 30_000 + '")\n'),
}


def measure(name: str, files: dict[str, str]) -> tuple[bool, str]:
    root = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        for rel, body in {**GOOD, **files}.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(body)
        size = sum(len(b) for b in files.values()) / 1024 / 1024
        run = run_cli("check", root, "--format", "json", memory=2 << 30)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ok = run.answered and run.cpu < CPU_SECONDS and run.peak_mb < BOUND_MB
    return ok, (f"{name:<55} {size:6.1f} MB in  exit {run.code:>2}  wall {run.seconds:6.2f} s  "
                f"cpu {run.cpu:6.2f} s  peak {run.peak_mb:6.0f} MB  {'ok' if ok else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the shapes whose name contains this text")
    args = parser.parse_args()
    print(f"bounds: peak under {BOUND_MB} MB, CPU under {CPU_SECONDS:.0f} s, an answer (exit 0, 1 or 2)")
    missed = 0
    for name, build in SHAPES.items():
        if args.only and args.only not in name:
            continue
        ok, line = measure(name, build())
        print(line, flush=True)
        missed += not ok
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
