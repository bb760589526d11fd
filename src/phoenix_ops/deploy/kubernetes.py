"""A Deployment rolled out with kubectl: `set image`, then `rollout status --timeout` (the kubelet's
readiness probes gate each pod, the Deployment's RollingUpdate moves the traffic), then every new pod
reached through `kubectl port-forward` for the gates; `rollout undo` when one fails."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack, asynccontextmanager

from phoenix_ops.command import UsageError
from phoenix_ops.deploy import tool
from phoenix_ops.deploy.gates import Node
from phoenix_ops.deploy.platform import GRACE_SECONDS, PlatformPlan
from phoenix_ops.patterns import lazy
from phoenix_ops.record import record

_FORWARDING = lazy(r"Forwarding from 127\.0\.0\.1:(\d+)")
SHORT = 60.0  # seconds for a command that only reads or writes one object


@record
class Kubernetes:
    plan: PlatformPlan
    deployment: str
    container: str
    port: int
    timeout: float
    strategy: str
    project_target: object
    workdir: str = "/app"
    namespace: str | None = None
    context: str | None = None
    target: str = "k8s"

    @classmethod
    def from_project(cls, plan: PlatformPlan, project) -> Kubernetes:
        s = plan.settings
        found = [w for w in project.deploy.workloads() if w.obj.kind == "Deployment" and w.containers]
        chosen = [w for w in found if w.obj.name == s["deployment"]] if s.get("deployment") else found
        names = ", ".join(w.obj.name for w in found) or "none"
        if not chosen:
            raise UsageError(f"no Deployment {s.get('deployment', '')!r} in the project's manifests (found: {names})"
                             if s.get("deployment") else "no Deployment in the project's manifests "
                             "(`phoenix-ops gen k8s` writes one)")
        if len(chosen) > 1:
            raise UsageError(f"several Deployments in the manifests ({names}): name one in [deploy.k8s] deployment")
        w = chosen[0]
        container = next((c for c in w.containers if c.name == s.get("container", w.containers[0].name)), None)
        if container is None:
            raise UsageError(f"Deployment {w.obj.name} has no container {s['container']!r}")
        ports = [p.get("containerPort") for p in container.data.get("ports") or [] if isinstance(p, dict)]
        port = int(s.get("port") or next((p for p in ports if isinstance(p, int)), 4000))
        target = next(t for t in project.deploy.targets()
                      if t.platform == "kubernetes" and t.name == f"Deployment/{w.obj.name}" and t.path == w.obj.path)
        stage = target.dockerfile.final if target.dockerfile else None
        workdir = stage.last("WORKDIR") if stage else None
        return cls(plan, w.obj.name, container.name, port, float(s.get("timeout", 300)), w.strategy or "rolling",
                   target, workdir.args[0].strip("\"'") if workdir and workdir.args else "/app",
                   s.get("namespace") or w.obj.get("metadata", "namespace"), s.get("context"))

    @property
    def label(self) -> str:
        return f"deployment/{self.deployment}"

    def kubectl(self, *args: str) -> list[str]:
        scope = [*(["--context", self.context] if self.context else []),
                 *(["--namespace", self.namespace] if self.namespace else [])]
        return ["kubectl", *scope, *args]

    async def _run(self, argv: list[str], timeout: float = SHORT) -> str:
        return await tool.run([tool.executable(argv[0]), *argv[1:]], timeout)

    # --- what the rollout runs --------------------------------------------------------------------

    def _set_image(self, image: str) -> list[str]:
        return self.kubectl("set", "image", self.label, f"{self.container}={image}")

    def _status(self) -> list[str]:
        return self.kubectl("rollout", "status", self.label, f"--timeout={self.timeout:g}s")

    def _undo(self) -> list[str]:
        return self.kubectl("rollout", "undo", self.label)

    def _wait(self):
        return lambda: self._run(self._status(), self.timeout + GRACE_SECONDS)

    def rollout(self, image: str):
        return [(f"set image {self.container}={image} on {self.label}", lambda: self._run(self._set_image(image))),
                (f"rollout status {self.label}", self._wait())]

    def undo(self, previous: dict[str, str]):
        return [(f"rollout undo {self.label}", lambda: self._run(self._undo())),
                (f"rollout status {self.label} (undone)", self._wait())]

    def restore(self, previous: dict[str, str]):
        image = previous.get("image")
        if not image:
            raise UsageError(f"the journal does not say which image {self.label} ran before")
        return [(f"set image {self.container}={image} on {self.label}", lambda: self._run(self._set_image(image))),
                (f"rollout status {self.label}", self._wait())]

    async def _deployment(self) -> dict:
        return json.loads(await self._run(self.kubectl("get", self.label, "-o", "json")))

    async def current(self) -> dict[str, str]:
        spec = (await self._deployment()).get("spec", {}).get("template", {}).get("spec", {})
        image = next((c.get("image") for c in spec.get("containers", []) if c.get("name") == self.container), None)
        if image is None:
            raise UsageError(f"{self.label} in the cluster has no container {self.container!r}")
        return {"image": image}

    def _listing(self) -> list[str]:
        return self.kubectl("exec", self.label, "-c", self.container, "--", "find", self.workdir, "-path",
                            "*/priv/*migrations/*.exs")

    async def migration_listing(self) -> str:
        return await self._run(self._listing())

    def _pods(self, selector: str) -> list[str]:
        return self.kubectl("get", "pods", "--selector", selector, "-o", "json")

    def _forward(self, pod: str) -> list[str]:
        return self.kubectl("port-forward", f"pod/{pod}", f":{self.port}")

    @asynccontextmanager
    async def instances(self, image: str):
        """Every running pod of the new image, each reached through its own `kubectl port-forward`."""
        labels = (await self._deployment()).get("spec", {}).get("selector", {}).get("matchLabels", {})
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        pods = json.loads(await self._run(self._pods(selector))).get("items", [])
        names = [p["metadata"]["name"] for p in pods
                 if not p["metadata"].get("deletionTimestamp") and p.get("status", {}).get("phase") == "Running"
                 and any(c.get("name") == self.container and c.get("image") == image
                         for c in p.get("spec", {}).get("containers", []))]
        async with AsyncExitStack() as stack:
            nodes = []
            for name in names:
                argv = self._forward(name)
                line = await stack.enter_async_context(
                    tool.held([tool.executable(argv[0]), *argv[1:]], "Forwarding from 127.0.0.1:", 30.0))
                nodes.append(Node(f"http://127.0.0.1:{_FORWARDING.search(line).group(1)}", label=f"pod/{name}"))
            yield nodes

    def commands(self, image: str) -> list[str]:
        show = tool.shown
        return [f"{show(self.kubectl('get', self.label, '-o', 'json'))}   (the image it runs now)",
                f"{show(self._listing())}   (migrations of the running version)",
                show(self._set_image(image)),
                f"{show(self._status())}   (bounded at {self.timeout + GRACE_SECONDS:g} s)",
                f"{show(self._pods('<the Deployment selector>'))}   (the pods running {image})",
                f"{show(self._forward('<each pod>'))}   (held while that pod is gated)",
                f"on a failing gate: {show(self._undo())}, then {show(self._status())}",
                f"`rollback` later: {show(self._set_image('<the previous image>'))}, then {show(self._status())}"]
