"""Every rule phoenix-ops knows, collected from the modules that declare them, imported explicitly.

Each kind loads only its own modules, so `check` never imports the network stacks of `probe`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from types import ModuleType

from phoenix_ops.rule import KINDS, Rule


def _static() -> tuple[ModuleType, ...]:
    from phoenix_ops.rules import (
        assets,
        browser,
        budgets,
        clustering,
        dockerfile,
        health,
        jobs,
        limits,
        migrations,
        platforms,
        releases,
        secrets,
        systemd,
        telemetry,
        web,
    )
    return assets, browser, budgets, clustering, dockerfile, health, jobs, limits, migrations, platforms, releases, secrets, systemd, telemetry, web


def _audit() -> tuple[ModuleType, ...]:
    from phoenix_ops.check import pipeline, settings, suppressions
    from phoenix_ops.rules import files
    return files, pipeline, settings, suppressions


def _envfile() -> tuple[ModuleType, ...]:
    from phoenix_ops.envcontract import check
    return (check,)


def _probe() -> tuple[ModuleType, ...]:
    from phoenix_ops.live import (
        assets,
        context,
        cookies,
        cors,
        exposure,
        grade,
        headers,
        health,
        limits,
        liveview,
        redirects,
        replay,
        skew,
        socket,
        tls,
    )
    return (assets, context, cookies, cors, exposure, grade, headers, health, limits, liveview, redirects, replay,
            skew, socket, tls)


def _cluster() -> tuple[ModuleType, ...]:
    from phoenix_ops.cluster import (
        rules_health,
        rules_phoenix,
        rules_reach,
        rules_topology,
    )
    return rules_health, rules_phoenix, rules_reach, rules_topology


def _jobs() -> tuple[ModuleType, ...]:
    from phoenix_ops.jobs import rules_health, rules_queues
    return rules_health, rules_queues


def _metrics() -> tuple[ModuleType, ...]:
    from phoenix_ops.metrics import rules_app, rules_vm
    return rules_app, rules_vm


def _release() -> tuple[ModuleType, ...]:
    from phoenix_ops.release import boot, checks
    return boot, checks


_LOADERS = {"static": _static, "audit": _audit, "envfile": _envfile, "probe": _probe, "cluster": _cluster,
            "jobs": _jobs, "metrics": _metrics, "release": _release}


class Catalog:
    """Rules by id, in id order; iterating yields them."""

    def __init__(self, rules: Iterable[Rule]):
        self.rules: dict[str, Rule] = {}
        names: dict[str, str] = {}
        for r in sorted(rules, key=lambda r: r.id):
            if r.id in self.rules and self.rules[r.id] is not r:
                raise ValueError(f"duplicate rule id {r.id}")
            if names.setdefault(r.name, r.id) != r.id:
                raise ValueError(f"rule name {r.name} used by {names[r.name]} and {r.id}")
            self.rules[r.id] = r

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.rules

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def ids(self) -> set[str]:
        return set(self.rules)

    def find(self, text: str) -> Rule | None:
        """A rule by id (any case) or by name."""
        key = text.strip()
        return self.rules.get(key.upper()) or next((r for r in self if r.name == key.lower()), None)

    def suggest(self, text: str) -> str:
        """' (did you mean X?)' for a mistyped id, area or name, else ''."""
        import difflib  # only a mistyped id needs it

        text = text.strip()
        codes = [*self.rules, *sorted({r.area for r in self})]
        close = (difflib.get_close_matches(text.upper(), codes, n=1, cutoff=0.6)
                 or difflib.get_close_matches(text.lower(), [r.name for r in self], n=1, cutoff=0.6))
        return f" (did you mean {close[0]}?)" if close else ""


def _collect(modules: Iterable[ModuleType], kind: str) -> Iterator[Rule]:
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Rule) and value.kind == kind:
                yield value


@functools.cache
def catalog(*kinds: str) -> Catalog:
    """The rules of these kinds (all kinds when none is named)."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown rule kind {unknown[0]!r}")
    chosen = kinds or tuple(_LOADERS)
    return Catalog(r for k in chosen if k in _LOADERS for r in _collect(_LOADERS[k](), k))
