"""`gen k8s`: Deployment with probes and graceful stop, Services, a disruption budget, a migration Job."""

from __future__ import annotations

from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.health import READY_PATH
from phoenix_ops.gen.plan import Change
from phoenix_ops.gen.templates import new_file, render
from phoenix_ops.project import Project

DRAIN_SECONDS = 5  # preStop: time for endpoints to drop the pod before it is told to stop


def generate(project: Project, facts: AppFacts, target: str) -> list[Change]:
    ready = READY_PATH if facts.health_path is None else facts.health_path
    name = facts.app.replace("_", "-")
    return [new_file(project, f"deploy/k8s/{name}.yaml",
                     render("k8s.yaml.j2", facts, name=name, ready_path=ready, drain_seconds=DRAIN_SECONDS,
                            headless=facts.headless_service or f"{name}-headless",
                            pod_api="kubernetes_api" in facts.discovery),
                     "runs on Kubernetes: probes, graceful stop, secrets by reference"
                     + (", clustering through a headless Service" if facts.cluster else ""))]
