"""HTTP as the probe needs it: routed to one node, never following redirects by itself, every
request bounded in time and size, and every failure turned into one clear sentence."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from urllib.parse import urljoin

import httpx

from phoenix_ops.live.target import ProbeOptions, Target, authority
from phoenix_ops.reasons import reason
from phoenix_ops.record import record

MAX_BODY = 1 << 20  # bytes of a page kept for parsing; the rest is not read
MAX_HOPS = 10


class ProbeError(Exception):
    """A network action that failed; the message says how, in words a user can act on."""


@record
class Reply:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str | None:
        """The absolute redirect target; None when absent or not a URL (then it is no redirect)."""
        try:
            loc = self.headers.get("location")
            return urljoin(self.url, loc) if loc else None
        except ValueError:
            return None

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and bool(self.location)


def explain_error(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return f"no complete answer within {timeout:g} s"
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLError):  # httpx wraps httpcore wraps ssl
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {cause.verify_message or cause.reason}{untrusted_hint(cause)}"
    if isinstance(cause, ssl.SSLError):
        return f"TLS handshake failed: {cause.reason or cause}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the answer is not valid HTTP ({exc})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {reason(exc)}"
    return f"{type(exc).__name__}: {exc}"


# OpenSSL's verify codes for a chain that ends in a CA the trust store does not hold.
UNTRUSTED_ISSUER = {18, 19, 20, 21}  # self-signed leaf, self-signed in chain, unknown issuer, no leaf issuer


def untrusted_hint(cause: ssl.SSLCertVerificationError) -> str:
    if cause.verify_code in UNTRUSTED_ISSUER:
        return " (a private CA: trust it with --ca-file CA.pem, or probe anyway with --insecure)"
    return ""


class Http:
    """One client per target. URLs on the target's host go to the target's node, with the public
    name kept as Host header and TLS server name (SNI), as a load balancer would send them."""

    def __init__(self, target: Target, opts: ProbeOptions):
        self.target = target
        self.opts = opts
        self.client = httpx.AsyncClient(
            verify=opts.ssl_context, proxy=opts.proxy, follow_redirects=False, trust_env=False,
            timeout=httpx.Timeout(opts.timeout), headers=opts.request_headers(),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )

    async def __aenter__(self) -> "Http":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    def route(self, url: str) -> tuple[httpx.URL, dict[str, str], dict]:
        """The URL to connect to, the Host header and the request extensions for `url`."""
        u = httpx.URL(url)
        if u.host not in (self.target.host, self.target.name):
            return u, {}, {}
        connect = self.target.addr or self.target.host
        host = authority(self.target.name, u.port)
        ext = {"sni_hostname": self.target.name} if u.scheme == "https" else {}
        return u.copy_with(host=connect), {"host": host}, ext

    async def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                      max_body: int = MAX_BODY, anonymous: bool = False) -> Reply:
        """`anonymous` leaves out the user's --header and --cookie credentials."""
        timeout = self.opts.timeout
        try:
            real, host, ext = self.route(url)
            req = self.client.build_request(method, real, headers={**host, **(headers or {})}, extensions=ext)
        except (httpx.InvalidURL, ValueError) as exc:
            raise ProbeError(f"invalid URL {url[:200]!r}: {exc}") from exc
        if anonymous:
            for name in ["cookie", *(k for k, _ in self.opts.headers)]:
                req.headers.pop(name, None)
        start = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                resp = await self.client.send(req, stream=True)
                try:
                    body = bytearray()
                    async for chunk in resp.aiter_bytes():
                        body += chunk
                        if len(body) >= max_body:
                            break
                finally:
                    await resp.aclose()
        except (httpx.HTTPError, httpx.StreamError, OSError, TimeoutError, ssl.SSLError) as exc:
            raise ProbeError(explain_error(exc, timeout)) from exc
        return Reply(url, resp.status_code, resp.headers, bytes(body[:max_body]), time.monotonic() - start)

    async def get(self, url: str, **kw) -> Reply:
        return await self.request("GET", url, **kw)

    async def follow(self, url: str, *, stop: Callable[[str], bool] | None = None,
                     chain: list[Reply] | None = None) -> list[Reply]:
        """GET through redirects; the chain ends on a non-redirect, a revisited URL, MAX_HOPS, or
        before fetching a URL that `stop` accepts. Replies are appended to `chain` as they come, so a
        caller that gives up still sees how far it went."""
        chain = [] if chain is None else chain
        seen = set()
        while len(chain) <= MAX_HOPS and url not in seen:
            seen.add(url)
            reply = await self.get(url)
            chain.append(reply)
            if not reply.is_redirect or (stop and stop(reply.location)):
                break
            url = reply.location
        return chain


def chain_loops(chain: list[Reply]) -> bool:
    """True when a redirect chain ended by revisiting a URL or by running out of hops."""
    last = chain[-1]
    return last.is_redirect and (len(chain) > MAX_HOPS or last.location in {r.url for r in chain})
