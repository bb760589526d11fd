"""`phoenix-ops probe`: every check of every target, concurrently, each target within its budget."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable

from phoenix_ops.findings import Finding, Location
from phoenix_ops.live.assets import check_assets, digested_urls
from phoenix_ops.live.context import INCOMPLETE, UNREACHABLE, Context
from phoenix_ops.live.cookies import check_cookies, session_cookie
from phoenix_ops.live.cors import check_cors
from phoenix_ops.live.exposure import check_exposure
from phoenix_ops.live.grade import GRADE, grade, grade_label
from phoenix_ops.live.headers import check_headers
from phoenix_ops.live.health import check_health
from phoenix_ops.live.http import Http, ProbeError
from phoenix_ops.live.limits import BURST_SECONDS, check_limits
from phoenix_ops.live.liveview import check_liveview
from phoenix_ops.live.redirects import check_redirects, loop_finding
from phoenix_ops.live.replay import by_public_name, check_replay
from phoenix_ops.live.skew import check_asset_skew
from phoenix_ops.live.socket import check_sockets
from phoenix_ops.live.target import ProbeOptions, Target, TargetResult
from phoenix_ops.live.tls import check_tls

Check = Callable[[Context], object]  # returns findings, or an awaitable of them


def checks(opts: ProbeOptions) -> list[tuple[str, Check, float]]:
    """(name, check, time limit) for the checks the options ask for."""
    step = opts.timeout * 3  # a check makes a few rounds of requests
    found = [("redirects", check_redirects, step), ("tls", check_tls, step), ("headers", check_headers, step),
             ("cookies", check_cookies, step), ("cors", check_cors, step),
             ("websockets", check_sockets, step + opts.ws_idle), ("liveview", check_liveview, step),
             ("assets", check_assets, step),
             ("exposure", check_exposure, step), ("health", check_health, step)]
    if opts.active:
        found.append(("limits", check_limits, step + BURST_SECONDS))
    return found


def budget(opts: ProbeOptions) -> float:
    """The whole probe of one target: the page, then the slowest check, unless --budget says less."""
    slowest = max(limit for _, _, limit in checks(opts))
    return min(opts.budget, opts.timeout * 3 + slowest) if opts.budget else opts.timeout * 3 + slowest


async def _guarded(ctx: Context, name: str, check: Check, limit: float) -> list[Finding]:
    start = time.monotonic()
    try:
        async with asyncio.timeout(limit):
            found = check(ctx)
            found = list(await found if inspect.isawaitable(found) else found)
        ctx.facts.setdefault("check_seconds", {})[name] = round(time.monotonic() - start, 3)
        return found
    except TimeoutError:
        return [INCOMPLETE.finding(f"the {name} check did not finish within {limit:g} s", ctx.at(), key=name)]
    except ProbeError as exc:
        return [INCOMPLETE.finding(f"the {name} check failed: {exc}", ctx.at(), key=name)]
    except Exception as exc:  # noqa: BLE001 - one check's bug must not sink the other checks
        return [INCOMPLETE.finding(f"the {name} check crashed: {type(exc).__name__}: {exc}", ctx.at(),
                                     key=name)]


async def probe_target(target: Target, opts: ProbeOptions) -> TargetResult:
    result = TargetResult(target)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget(opts)
    where = Location(url=target.url, node=target.addr)
    page_limit = min(opts.timeout * 3, budget(opts))
    async with Http(target, opts) as http:
        chain: list = []
        try:
            async with asyncio.timeout(page_limit):
                await http.follow(target.url, chain=chain)
        except ProbeError as exc:
            result.findings.append(UNREACHABLE.finding(str(exc), where))
            return result
        except TimeoutError:
            result.findings.append(UNREACHABLE.finding(
                f"the redirect chain did not end within {page_limit:g} s ({len(chain)} redirects followed)"
                if chain else f"no answer within {page_limit:g} s", where))
            return result
        ctx = Context(target, opts, http, chain, result.facts)
        result.facts.update(page_url=ctx.page.url, status=ctx.page.status)
        looped = loop_finding(ctx, chain)
        if looped:  # every other check would only probe the redirect
            result.findings.append(looped)
            return result
        if ctx.page.status >= 500:  # the proxy answers, the app behind it does not (or fails)
            result.findings.append(UNREACHABLE.finding(
                f"the page answers {ctx.page.status}: the app behind the proxy is down or failing", ctx.at(),
                key="status"))
        result.session = session_cookie(ctx.page)
        result.assets = digested_urls(ctx)
        tasks = {asyncio.create_task(_guarded(ctx, name, fn, limit)): name for name, fn, limit in checks(opts)}
        done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
        for task in pending:
            task.cancel()
            result.findings.append(INCOMPLETE.finding(
                f"the {tasks[task]} check was stopped: the target's budget ran out", ctx.at(), key=tasks[task]))
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            result.findings.extend(task.result())
    return result


async def probe_all(targets: list[Target], opts: ProbeOptions,
                    on_done: Callable[[TargetResult], None] | None = None) -> list[TargetResult]:
    gate = asyncio.Semaphore(opts.concurrency)

    async def one(target: Target) -> TargetResult:
        async with gate:
            result = await probe_target(target, opts)
        if on_done:
            on_done(result)
        return result

    results = list(await asyncio.gather(*(one(t) for t in targets)))
    for what, check in (("session replay", check_replay), ("asset comparison", check_asset_skew)):
        try:
            async with asyncio.timeout(opts.timeout * 3):
                await check(results, opts)
        except TimeoutError:
            for r in (r for nodes in by_public_name(results) for r in nodes):
                r.findings.append(INCOMPLETE.finding(f"the {what} across nodes did not finish in time",
                                                       Location(url=r.target.url, node=r.target.addr), key=what))
    for r in results:
        if "page_url" in r.facts:
            r.grade, r.score = grade(r.findings, r.facts)
        r.findings.append(GRADE.finding(grade_label(r.grade, r.score), Location(url=r.target.url,
                                          node=r.target.addr), hint="", key="grade"))
    return results


def run_probe(targets: list[Target], opts: ProbeOptions,
              on_done: Callable[[TargetResult], None] | None = None) -> list[TargetResult]:
    return asyncio.run(probe_all(targets, opts, on_done))
