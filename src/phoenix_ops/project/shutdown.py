"""What the BEAM needs to stop gracefully, from config: the endpoint's drain, then Oban's grace period.

Children stop in reverse start order, so the endpoint (started last) drains its connections first,
then Oban waits for running jobs: the two times add up. Defaults are the libraries' own.
"""

from __future__ import annotations

import math

from phoenix_ops.elixir.values import plain
from phoenix_ops.record import record

COWBOY_DRAIN_MS = 5_000  # Plug.Cowboy.Drainer's default shutdown
BANDIT_DRAIN_MS = 15_000  # ThousandIsland's default shutdown_timeout
OBAN_GRACE_MS = 15_000  # Oban's default shutdown_grace_period
STOP_MARGIN_SECONDS = 10  # after the drain and the grace period: the rest of the tree stops and the VM exits


@record(frozen=True)
class Need:
    what: str  # "endpoint drain", "Oban shutdown_grace_period"
    seconds: float
    source: str  # where the value comes from: a file:line or "default"


def shutdown_needs(project) -> list[Need]:
    view = project.config()
    needs: list[Need] = []
    for app, module in project.endpoint_keys():
        adapter = plain(view.get(app, module, "adapter"))
        bandit = "Bandit" in str(getattr(adapter, "name", adapter) or "") or (
            adapter is None and project.has_dep("bandit") and not project.has_dep("plug_cowboy"))
        path = (app, module, "thousand_island_options", "shutdown_timeout") if bandit else \
            (app, module, "drainer", "shutdown")
        value = view.get(*path)
        ms = plain(value)
        default = BANDIT_DRAIN_MS if bandit else COWBOY_DRAIN_MS
        source = f"{value.origin.file}:{value.origin.line}" if isinstance(ms, int) and value.origin else "default"
        needs.append(Need(f"{module} drain ({'Bandit' if bandit else 'Cowboy'})",
                          (ms if isinstance(ms, int) else default) / 1000, source))
        break
    if project.has_dep("oban"):
        for app in project.otp_apps:
            value = view.get(app, "Oban", "shutdown_grace_period")
            ms = plain(value)
            source = f"{value.origin.file}:{value.origin.line}" if isinstance(ms, int) and value.origin else "default"
            needs.append(Need("Oban shutdown_grace_period", (ms if isinstance(ms, int) else OBAN_GRACE_MS) / 1000,
                              source))
            break
    return needs


def stop_budget(project) -> int:
    """Whole seconds a platform should allow between SIGTERM and SIGKILL: what the app needs, plus a margin."""
    return math.ceil(sum(n.seconds for n in shutdown_needs(project))) + STOP_MARGIN_SECONDS
