"""The deploy journal: one JSON line per event, flushed before the next step, so an interrupted deploy
(the tool killed, a host gone) can be finished (`--resume`) or undone (`rollback`) from what it says."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from phoenix_ops.record import field, record


@record
class Run:
    id: str
    tarball: str
    version: str
    previous: dict[str, dict[str, str]]  # host label -> {"current": version, "<colour>": running version};
    # on a platform, the workload -> {"image": what it ran}

    done: set[str] = field(default_factory=set)
    result: str | None = None  # finished | rolled back | failed; None while under way (or interrupted)
    strategy: str = ""
    app: str = ""
    target: str = "ssh"  # ssh, k8s or fly
    reason: str = ""  # why it failed
    unreachable: list[str] = field(default_factory=list)  # hosts the rollback could not reach


class Journal:
    def __init__(self, path: Path):
        self.path = path

    def write(self, **event) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps({"at": round(time.time(), 3), **event}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def runs(self) -> list[Run]:
        runs: dict[str, Run] = {}
        if not self.path.exists():
            return []
        for line in self.path.read_text().splitlines():
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash mid-write: the step it began is simply not done
            run = runs.get(e.get("deploy", ""))
            if e.get("event") == "start":
                runs[e["deploy"]] = Run(e["deploy"], e["tarball"], e["version"], e["previous"],
                                        strategy=e.get("strategy", ""), app=e.get("app", ""),
                                        target=e.get("target", "ssh"))
            elif run and e.get("event") == "step":
                run.done.add(e["step"])
            elif run and e.get("event") == "rollback":
                run.done.clear()  # hosts go back: a resumed deploy starts over, whatever was done before
                run.result = None
            elif run and e.get("event") == "end":
                run.result = e["result"]
                run.reason, run.unreachable = e.get("reason", ""), e.get("unreachable", [])
        return list(runs.values())

    def last(self) -> Run | None:
        runs = self.runs()
        return runs[-1] if runs else None


async def step(journal: Journal, run: Run | None, say: Callable[[str], None], name: str,
               action: Callable[[], Awaitable[object]]) -> None:
    """Run a named step unless the run already did it; journal it once done."""
    if run and name in run.done:
        return
    say(name)
    await action()
    if run:
        journal.write(deploy=run.id, event="step", step=name)
        run.done.add(name)
