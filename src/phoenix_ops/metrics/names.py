"""The series names Phoenix apps export, by exporter: PromEx (`<app>_prom_ex_beam_...`),
telemetry_metrics_prometheus (the Telemetry.Metrics name with dots as underscores: `vm_memory_total`)
and the telemetry_poller measurements phx.new's telemetry module reports.

Each pattern is searched in a sample name, so a PromEx or custom prefix in front does not matter."""

from __future__ import annotations

import functools
import re

from phoenix_ops.patterns import lazy

MEMORY = lazy(r"(^|_)(vm_memory_total|beam_memory_allocated_bytes)$")
RUN_QUEUE = lazy(r"(^|_)(vm_total_run_queue_lengths_total|beam_stats_run_queue_count)$")
SCHEDULERS = lazy(r"(^|_)beam_system_schedulers_online_info$")
RESOURCES = ("process", "atom", "port", "ets")
COUNTS = {r: lazy(rf"(^|_)(vm_system_counts_{r}_count|beam_stats_{r}_count)$") for r in RESOURCES}
LIMITS = {r: lazy(rf"(^|_)beam_system_{r}_limit_info$") for r in RESOURCES}
# The BEAM's defaults, when the scrape carries no limit series (ETS has had no fixed limit since OTP 20).
DEFAULT_LIMITS = {"process": 262_144, "atom": 1_048_576, "port": 65_536}
ECTO_QUEUE = lazy(r"repo_query_queue_time(_[a-z]+)?_bucket$")
ECTO_QUERY = lazy(r"repo_query_(total_time|query_time|execution_time)(_[a-z]+)?_bucket$")
# Request counts: counters or histogram counts of Phoenix, Plug, Bandit or Cowboy, with a status label.
REQUESTS = lazy(r"(phoenix|http|endpoint|router|plug|bandit|cowboy)\w*(_total|_count)$")
STATUS_LABELS = ("status", "status_code", "code")
OBAN_QUEUE = lazy(r"oban\w*queue_length\w*$")

# What a Phoenix node's scrape should show, by area; Ecto and Oban only when the project uses them.
GROUPS = {
    "vm": lazy(r"(^|_)(vm|beam)_"),
    "phoenix": lazy(r"phoenix"),
    "ecto": lazy(r"(repo_query|(^|_)ecto_)"),
    "oban": lazy(r"(^|_)oban_"),
}
COWBOY = lazy(r"cowboy")

_READ = (MEMORY, RUN_QUEUE, SCHEDULERS, ECTO_QUEUE, ECTO_QUERY, REQUESTS, OBAN_QUEUE, *COUNTS.values(),
         *LIMITS.values())


@functools.lru_cache(maxsize=4096)  # a scrape repeats a few names on thousands of lines
def wanted(name: str) -> bool:
    """The sample names a metrics rule reads (the others are only listed, never parsed)."""
    return any(p.search(name) for p in _READ)


def unit_scale(name: str) -> float:
    """Seconds per unit of a duration series, from its name; milliseconds when it does not say
    (phx.new's telemetry module converts durations to milliseconds)."""
    if re.search(r"_seconds(_|$)", name):
        return 1.0
    if re.search(r"_microseconds(_|$)", name):
        return 1e-6
    if re.search(r"_nanoseconds(_|$)", name) or name.endswith("_native"):
        return 1e-9
    return 1e-3


def memory_bytes(name: str, value: float) -> float:
    """`vm_memory_total` is in kilobytes when the telemetry module says `unit: {:byte, :kilobyte}` (as
    phx.new's does) and the name does not tell: a BEAM node never runs in less than 15 MB, so a
    smaller figure is taken as kilobytes."""
    if name.endswith("_bytes") or value >= 15e6:
        return value
    return value * 1024
