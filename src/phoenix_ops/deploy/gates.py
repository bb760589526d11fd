"""What must hold after each step before the deploy goes on: the new node is ready, joined the BEAM
cluster when the app runs distributed, accepts the sessions the old nodes issued, and every digested
asset any live page references answers on every node."""

from __future__ import annotations

import asyncio
import re
import time

import httpx

# Digested static paths as phx.digest writes them: /assets/app-<32 hex>.js
ASSET = re.compile(r"""(?:src|href)=["'](/[^"'?#]*-[0-9a-f]{32}\.[a-z0-9]+)""")


# A canary is "slower" only by a margin a user would feel: scheduler noise on a busy host is not a regression.
MIN_SLOWDOWN_SECONDS = 0.25


class GateFailed(RuntimeError):
    """A gate said no: the deploy rolls back."""


async def ready(url: str, path: str, timeout: float) -> float:
    """Seconds until GET url+path answered 200; GateFailed when it never did within `timeout`."""
    start = time.monotonic()
    last = "no answer"
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() - start < timeout:
            try:
                reply = await client.get(url + path)
                if reply.status_code == 200:
                    return time.monotonic() - start
                last = f"{reply.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            await asyncio.sleep(0.2)
    raise GateFailed(f"{url}{path} not ready within {timeout:g} s (last: {last})")


def _session_cookie(reply: httpx.Response) -> tuple[str, str] | None:
    for name, value in reply.cookies.items():
        if name.startswith("_") and name.endswith("_key"):
            return name, value
    return None


async def same_sessions(old_url: str, new_url: str, page: str = "/") -> None:
    """The new node reads a session the old one wrote (same secret_key_base and salts). A node that
    cannot read the cookie starts a new session and sends a new cookie; the old node, given the same
    cookie back, is the control: when it renews the cookie too, the page rewrites its session anyway
    and the comparison says nothing."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        cookie = _session_cookie(await client.get(old_url + page))
    if cookie is None:
        return  # the page writes no session: nothing to compare
    jar = {cookie[0]: cookie[1]}
    async with httpx.AsyncClient(timeout=5.0, cookies=jar) as old, httpx.AsyncClient(timeout=5.0, cookies=jar) as new:
        control, trial = await asyncio.gather(old.get(old_url + page), new.get(new_url + page))
    if _session_cookie(trial) is not None and _session_cookie(control) is None:
        raise GateFailed(f"{new_url} does not accept the session {old_url} issued: secret_key_base or the "
                         f"session salts differ, so the deploy logs every user out")


async def assets_everywhere(urls: list[str], page: str = "/") -> None:
    """Every digested asset referenced by any node's page answers 200 on every node (mixed versions)."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        pages = await asyncio.gather(*(client.get(u + page) for u in urls), return_exceptions=True)
        wanted = sorted({m for p in pages if isinstance(p, httpx.Response) for m in ASSET.findall(p.text)})
        missing = []
        for url in urls:
            replies = await asyncio.gather(*(client.get(url + a) for a in wanted), return_exceptions=True)
            missing += [f"{url}{a}" for a, r in zip(wanted, replies)
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
    must not be worse than the rest's by more than the limits. Returns the figures."""
    async def sample(url: str) -> tuple[int, int, list[float]]:
        errors = total = 0
        times: list[float] = []
        deadline = time.monotonic() + window
        async with httpx.AsyncClient(timeout=5.0) as client:
            while time.monotonic() < deadline:
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
