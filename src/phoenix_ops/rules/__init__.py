"""Static rules, one module per area, and the catalog of every rule phoenix-ops knows."""

from __future__ import annotations

import importlib

from phoenix_ops.rules.registry import RULES, Rule

# Modules that register rules when imported: static areas first, then live catalogs.
RULE_MODULES = [
    "phoenix_ops.rules.releases",
    "phoenix_ops.rules.secrets",
    "phoenix_ops.rules.files",
    "phoenix_ops.rules.meta",
    "phoenix_ops.envcontract.rules",
    "phoenix_ops.cluster.catalog",
    "phoenix_ops.live.rules",
]


def catalog() -> dict[str, Rule]:
    """Every registered rule, by id, in id order."""
    for name in RULE_MODULES:
        importlib.import_module(name)
    return dict(sorted(RULES.items()))


def static_rules() -> list[Rule]:
    return [r for r in catalog().values() if r.kind == "static"]
