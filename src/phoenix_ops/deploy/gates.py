"""What must hold after each step before the deploy goes on: the new node is ready, joined the BEAM
cluster when the app runs distributed, accepts the sessions the old nodes issued, and every digested
asset any live page references answers on every node."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx

from phoenix_ops.patterns import lazy
from phoenix_ops.record import field, record

# Digested static paths as phx.digest writes them: /assets/app-<32 hex>.js
ASSET = lazy(r"""(?:src|href)=["'](/[^"'?#]*-[0-9a-f]{32}\.[a-z0-9]+)""")


# A canary is "slower" only by a margin a user would feel: scheduler noise on a busy host is not a regression.
MIN_SLOWDOWN_SECONDS = 0.25
CANARY_MIN_SAMPLES = 5  # requests per side before the canary gate judges
READY_POLL_SECONDS = 0.05  # a refused connection on loopback or the LAN costs next to nothing


class GateFailed(RuntimeError):
    """A gate said no: the deploy rolls back."""


async def ready(url: str, path: str, timeout: float, headers: dict | None = None) -> float:
    """Seconds until GET url+path answered 200; GateFailed when it never did within `timeout`."""
    start = time.monotonic()
    last = "no answer"
    async with httpx.AsyncClient(timeout=2.0, headers=headers) as client:
        while time.monotonic() - start < timeout:
            try:
                reply = await client.get(url + path)
                if reply.status_code == 200:
                    return time.monotonic() - start
                last = f"{reply.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            await asyncio.sleep(READY_POLL_SECONDS)
    raise GateFailed(f"{url}{path} not ready within {timeout:g} s (last: {last})")


def _session_cookie(reply: httpx.Response) -> tuple[str, str] | None:
    for name, value in reply.cookies.items():
        if name.startswith("_") and name.endswith("_key"):
            return name, value
    return None


async def issued_session(url: str, page: str = "/", headers: dict | None = None) -> dict[str, str] | None:
    """The session cookie `url` issues, when the page writes one and keeps it when sent back: a page
    that renews the cookie anyway (the control) leaves nothing to compare another version against."""
    async with httpx.AsyncClient(timeout=5.0, headers=headers) as client:
        cookie = _session_cookie(await client.get(url + page))
    if cookie is None:
        return None
    jar = {cookie[0]: cookie[1]}
    async with httpx.AsyncClient(timeout=5.0, cookies=jar, headers=headers) as client:
        control = await client.get(url + page)
    return None if _session_cookie(control) is not None else jar


async def accepts_session(url: str, jar: dict[str, str], issuer: str, page: str = "/",
                          headers: dict | None = None) -> None:
    """`url` reads the session `issuer` wrote: a node that cannot read it starts a new session and
    sends a new cookie. A node that does not answer fails the gate too (not the deploy, half-done)."""
    try:
        async with httpx.AsyncClient(timeout=5.0, cookies=jar, headers=headers) as client:
            trial = await client.get(url + page)
    except httpx.HTTPError as exc:
        raise GateFailed(f"{url}{page} did not answer with the session {issuer} issued "
                         f"({type(exc).__name__})") from None
    if _session_cookie(trial) is not None:
        raise GateFailed(f"{url} does not accept the session {issuer} issued: secret_key_base or the "
                         f"session salts differ, so the deploy logs every user out")


def uncompared(url: str, page: str) -> str:
    """Why the session gate could not judge: the page gave no session to carry to another version."""
    return (f"{url}{page} writes no session, or rewrites it on every request: the session gate compares "
            "nothing (set [deploy] session-page to a page that keeps its session)")


async def first_session(urls: list[str], page: str = "/") -> tuple[str, dict[str, str] | None] | None:
    """The first of `urls` that answers, and the session it issues (None when its page writes none to
    compare); None when no node answers: one that is down (crashed, or lost with its host) has none
    to give."""
    for url in urls:
        try:
            return url, await issued_session(url, page)
        except httpx.HTTPError:
            continue
    return None


async def same_sessions(issued: tuple[str, dict[str, str] | None] | None, new_url: str,
                        page: str = "/") -> str | None:
    """The new node reads the session an old one wrote, as first_session took it (same secret_key_base
    and salts). Returns why nothing was compared, when no old node gave a session to compare."""
    if issued is None:
        return f"no old node answered {page}: the session gate compares nothing"
    old_url, jar = issued
    if jar is None:
        return uncompared(old_url, page)
    await accepts_session(new_url, jar, old_url, page)
    return None


@record(frozen=True)
class Node:
    """One instance as the gates reach it: its URL, and the headers that route to it (fly's
    `fly-force-instance-id` reaches one machine through the shared proxy)."""
    url: str
    headers: dict = field(default_factory=dict)
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.url


async def assets_everywhere(nodes: list[str | Node], page: str = "/") -> None:
    """Every digested asset referenced by any node's page answers 200 on every node (mixed versions)."""
    nodes = [n if isinstance(n, Node) else Node(n) for n in nodes]
    async with httpx.AsyncClient(timeout=5.0) as client:
        pages = await asyncio.gather(*(client.get(n.url + page, headers=n.headers) for n in nodes),
                                     return_exceptions=True)
        wanted = sorted({m for p in pages if isinstance(p, httpx.Response) for m in ASSET.findall(p.text)})
        missing = []
        for node in nodes:
            replies = await asyncio.gather(*(client.get(node.url + a, headers=node.headers) for a in wanted),
                                           return_exceptions=True)
            missing += [f"{node.name}{a}" for a, r in zip(wanted, replies)
                        if not isinstance(r, httpx.Response) or r.status_code != 200]
    if missing:
        raise GateFailed(f"{len(missing)} digested asset(s) a live page references do not answer: "
                         + ", ".join(missing[:3]))


def joined(node: str, sees: set[str], others: set[str], waited: float) -> None:
    """The new node sees every other running node of the cluster (its Node.list())."""
    missing = others - sees
    if missing:
        raise GateFailed(f"{node} did not join the cluster within {waited:g} s: it sees "
                         f"{', '.join(sorted(sees)) or 'no node'}, not {', '.join(sorted(missing))}")


async def canary_healthy(canary: str, others: list[str], path: str, window: float, *, max_error_share: float = 0.01,
                         max_slowdown: float = 3.0) -> str:
    """Traffic to the canary and to the rest over `window` seconds: its 5xx share and median latency
    must not be worse than the rest's by more than the limits. Returns the figures. Each node's
    first answer is not counted (a node just booted loads code on it), and a side keeps sampling past
    the window, up to three windows, until it has CANARY_MIN_SAMPLES: one slow request is no verdict."""
    async def sample(url: str) -> tuple[int, int, list[float]]:
        errors = total = 0
        times: list[float] = []
        async with httpx.AsyncClient(timeout=5.0) as client:
            with contextlib.suppress(httpx.HTTPError):
                await client.get(url + path)
            started = time.monotonic()
            while (elapsed := time.monotonic() - started) < window or (
                    total < CANARY_MIN_SAMPLES and elapsed < 3 * window):
                start = time.monotonic()
                try:
                    status = (await client.get(url + path)).status_code
                except httpx.HTTPError:
                    status = 599
                times.append(time.monotonic() - start)
                total += 1
                errors += status >= 500
                await asyncio.sleep(0.05)
        return errors, total, times

    results = await asyncio.gather(sample(canary), *(sample(u) for u in others[:2]))
    (errors, total, times), rest = results[0], results[1:]
    share = errors / max(total, 1)
    rest_share = sum(r[0] for r in rest) / max(sum(r[1] for r in rest), 1)
    median = sorted(times)[len(times) // 2] if times else 0.0
    rest_times = sorted(t for r in rest for t in r[2])
    rest_median = rest_times[len(rest_times) // 2] if rest_times else median
    figures = (f"canary {errors}/{total} 5xx, median {median * 1000:.0f} ms; rest {rest_share:.1%} 5xx, "
               f"median {rest_median * 1000:.0f} ms")
    if share > max(max_error_share, rest_share):
        raise GateFailed(f"canary error rate too high: {figures}")
    if rest_median and median > max_slowdown * rest_median and median - rest_median > MIN_SLOWDOWN_SECONDS:
        raise GateFailed(f"canary slower than the rest: {figures}")
    return figures
