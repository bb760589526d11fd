"""A fly app rolled out with `fly deploy --image --strategy` (fly's proxy moves the traffic, its health
checks gate each machine, its release_command runs migrations first), then `fly machine list` to see
that every started machine runs the image with its checks passing, then each machine gated through the
public address with `fly-force-instance-id`; rollback redeploys the image the machines ran before."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import asynccontextmanager

from phoenix_ops.command import UsageError
from phoenix_ops.deploy import tool
from phoenix_ops.deploy.gates import GateFailed, Node
from phoenix_ops.deploy.platform import GRACE_SECONDS, PlatformPlan
from phoenix_ops.record import record

STRATEGIES = ("rolling", "bluegreen", "canary", "immediate")
SHORT = 60.0


@record
class Fly:
    plan: PlatformPlan
    app: str
    config: str
    strategy: str
    timeout: float
    deploy_timeout: float
    project_target: object
    workdir: str = "/app"
    target: str = "fly"

    @classmethod
    def from_project(cls, plan: PlatformPlan, project) -> Fly:
        s = plan.settings
        wanted = s.get("config", "fly.toml")
        fly = next((f for f in project.deploy.fly if f.path == wanted), None)
        if fly is None:
            raise UsageError(f"no {wanted} in the project (`phoenix-ops gen fly` writes one)")
        app = s.get("app") or fly.app
        if not app:
            raise UsageError(f"{wanted} names no app: set app there or in [deploy.fly]")
        strategy = s.get("strategy") or fly.strategy or "rolling"
        if strategy not in STRATEGIES:
            raise UsageError(f"fly strategy {strategy!r}: use {', '.join(STRATEGIES)}")
        target = next(t for t in project.deploy.targets() if t.platform == "fly" and t.path == fly.path)
        stage = target.dockerfile.final if target.dockerfile else None
        workdir = stage.last("WORKDIR") if stage else None
        timeout = float(s.get("timeout", 300))
        return cls(plan, app, str(project.root / fly.path), strategy, timeout,
                   float(s.get("deploy-timeout", 1800)), target,
                   workdir.args[0].strip("\"'") if workdir and workdir.args else "/app")

    @property
    def label(self) -> str:
        return f"fly app {self.app}"

    @property
    def default_url(self) -> str:
        return f"https://{self.app}.fly.dev"

    def fly(self, *args: str) -> list[str]:
        return ["fly", *args, "--app", self.app]

    async def _run(self, argv: list[str], timeout: float = SHORT) -> str:
        return await tool.run([tool.executable(argv[0]), *argv[1:]], timeout)

    def _deploy(self, image: str, strategy: str) -> list[str]:
        return self.fly("deploy", "--config", self.config, "--image", image, "--strategy", strategy,
                        "--wait-timeout", f"{self.timeout:g}s")

    def _machines(self) -> list[str]:
        return self.fly("machine", "list", "--json")

    async def machines(self) -> list[dict]:
        return [m for m in json.loads(await self._run(self._machines()) or "[]") if m.get("state") == "started"]

    async def running(self, image: str) -> None:
        """Every started machine runs `image` with all its checks passing."""
        machines = await self.machines()
        if not machines:
            raise GateFailed(f"{self.label}: no machine is started")
        wrong = [f"{m.get('id')} runs {_image(m)}" for m in machines if _image(m) != image]
        failing = [f"{m.get('id')} check {c.get('name')} {c.get('status')}" for m in machines
                   for c in m.get("checks") or [] if c.get("status") != "passing"]
        if wrong or failing:
            raise GateFailed(f"{self.label} after fly deploy: " + "; ".join((wrong + failing)[:4]))

    def _steps(self, image: str, strategy: str, what: str):
        return [(f"fly deploy --image {image} --strategy {strategy}{what}",
                 lambda: self._run(self._deploy(image, strategy), self.deploy_timeout + GRACE_SECONDS)),
                (f"every machine of {self.app} runs {image}, checks passing", lambda: self.running(image))]

    def rollout(self, image: str):
        return self._steps(image, self.strategy, "")

    def undo(self, previous: dict[str, str]):
        image = previous.get("image")
        if not image:
            raise UsageError(f"the journal does not say which image {self.label} ran before")
        return self._steps(image, "rolling", " (back to the previous image)")

    restore = undo

    async def current(self) -> dict[str, str]:
        images = Counter(_image(m) for m in await self.machines())
        if not images:
            raise UsageError(f"{self.label}: no started machine, so no previous image to come back to; "
                             f"deploy it once with `fly deploy`")
        return {"image": images.most_common(1)[0][0]}

    def _listing(self) -> list[str]:
        return self.fly("ssh", "console", "--command", f"find {self.workdir} -path '*/priv/*migrations/*.exs'")

    async def migration_listing(self) -> str:
        return await self._run(self._listing())

    @asynccontextmanager
    async def instances(self, image: str):
        """Every started machine of the new image, reached through the public address by its id."""
        url = (self.plan.url or self.default_url).rstrip("/")
        yield [Node(url, {"fly-force-instance-id": m["id"]}, f"machine {m['id']}")
               for m in await self.machines() if _image(m) == image]

    def commands(self, image: str) -> list[str]:
        show = tool.shown
        return [f"{show(self._machines())}   (the image the machines run now)",
                f"{show(self._listing())}   (migrations of the running version)",
                f"{show(self._deploy(image, self.strategy))}   (bounded at {self.deploy_timeout + GRACE_SECONDS:g} s)",
                f"{show(self._machines())}   (every started machine runs {image}, checks passing)",
                "each machine gated through the public address with the header fly-force-instance-id: <id>",
                f"on a failing gate, and for `rollback`: {show(self._deploy('<the previous image>', 'rolling'))}"]


def _image(machine: dict) -> str:
    config = machine.get("config") or {}
    ref = machine.get("image_ref") or {}
    return config.get("image") or f"{ref.get('registry', '')}/{ref.get('repository', '')}:{ref.get('tag', '')}"

