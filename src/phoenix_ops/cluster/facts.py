"""What the doctor asks every reachable node, through rex, all calls at once."""

from __future__ import annotations

import asyncio

from phoenix_ops.cluster.dist import Connection, DistError, RemoteError
from phoenix_ops.cluster.erlang_syntax import show
from phoenix_ops.cluster.etf import Atom, text
from phoenix_ops.cluster.phoenix import PhoenixFacts
from phoenix_ops.record import field, record

_A = Atom
# name -> (module, function, args)
CALLS: dict[str, tuple[str, str, list]] = {
    "visible": ("erlang", "nodes", []),
    "hidden": ("erlang", "nodes", [_A("hidden")]),
    "otp_release": ("erlang", "system_info", [_A("otp_release")]),
    "erts_version": ("erlang", "system_info", [_A("version")]),
    "applications": ("application", "loaded_applications", []),
    "memory": ("erlang", "memory", []),
    "process_count": ("erlang", "system_info", [_A("process_count")]),
    "process_limit": ("erlang", "system_info", [_A("process_limit")]),
    "atom_count": ("erlang", "system_info", [_A("atom_count")]),
    "atom_limit": ("erlang", "system_info", [_A("atom_limit")]),
    "schedulers": ("erlang", "system_info", [_A("schedulers_online")]),
    # Uptime from monotonic time, not statistics(wall_clock), which resets a shared counter.
    "start_time": ("erlang", "system_info", [_A("start_time")]),
    "monotonic_now": ("erlang", "monotonic_time", []),
    "native_per_second": ("erlang", "convert_time_unit", [1, _A("second"), _A("native")]),
    "net_ticktime": ("net_kernel", "get_net_ticktime", []),
}
# Asked alone after the others: the rex workers serving our own calls would count as queued.
LATE_CALLS = {"run_queue": ("erlang", "statistics", [_A("run_queue")])}


@record
class NodeFacts:
    visible: list[str] | None = None
    hidden: list[str] | None = None
    otp_release: str | None = None
    erts_version: str | None = None
    applications: dict[str, str] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)
    process_count: int | None = None
    process_limit: int | None = None
    atom_count: int | None = None
    atom_limit: int | None = None
    run_queue: int | None = None
    schedulers: int | None = None
    uptime_seconds: float | None = None
    net_ticktime: int | None = None
    failed: dict[str, str] = field(default_factory=dict)  # call name -> why it failed
    phoenix: PhoenixFacts | None = None  # PubSub, Presence and secrets, on nodes running Phoenix.PubSub

    def to_dict(self) -> dict:
        return dict(vars(self)) | {"phoenix": self.phoenix.to_dict() if self.phoenix else None}


async def gather_facts(conn: Connection, timeout: float) -> NodeFacts:
    raw, facts = {}, NodeFacts()
    for calls in (CALLS, LATE_CALLS):
        names = list(calls)
        results = await asyncio.gather(*(conn.call(*calls[n], timeout=timeout) for n in names),
                                       return_exceptions=True)
        for name, result in zip(names, results):
            if isinstance(result, (DistError, RemoteError)):
                facts.failed[name] = str(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                raw[name] = result
    _fill(facts, raw)
    return facts


async def visible_nodes(conn: Connection, timeout: float) -> list[str] | None:
    """nodes() once more; None when the call fails."""
    try:
        return _names(await conn.call(*CALLS["visible"], timeout=timeout))
    except (DistError, RemoteError, TypeError):
        return None


def _fill(facts: NodeFacts, raw: dict) -> None:
    """Turn Erlang replies into plain values; a reply of an unexpected shape counts as failed."""
    converters = {
        "visible": _names, "hidden": _names,
        "otp_release": text, "erts_version": text,
        "applications": _applications, "memory": _memory,
        "process_count": _int, "process_limit": _int, "atom_count": _int, "atom_limit": _int,
        "run_queue": _int, "schedulers": _int, "net_ticktime": _ticktime,
    }
    for name, convert in converters.items():
        if name in raw:
            try:
                setattr(facts, name, convert(raw[name]))
            except (TypeError, ValueError):
                facts.failed[name] = f"unexpected reply {show(raw[name])}"
    clock = [raw.get(k) for k in ("start_time", "monotonic_now", "native_per_second")]
    if all(isinstance(v, int) for v in clock) and clock[2] > 0:
        facts.uptime_seconds = (clock[1] - clock[0]) / clock[2]


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError
    return value


def _names(value: object) -> list[str]:
    if not isinstance(value, list):
        raise TypeError
    return sorted(str(v) for v in value)


def _applications(value: object) -> dict[str, str]:
    return {str(app): text(vsn) for app, _desc, vsn in value}  # [{App, Description, Vsn}]


def _memory(value: object) -> dict[str, int]:
    return {str(kind): _int(n) for kind, n in value}


def _ticktime(value: object) -> int:
    # {ongoing_change_to, N} while net_kernel:set_net_ticktime/2 is in progress
    if isinstance(value, tuple) and len(value) == 2:
        value = value[1]
    return _int(value)
