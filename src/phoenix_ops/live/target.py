"""What to probe and how: targets (URL + the node to connect to) and the probe's options."""

from __future__ import annotations

import functools
import ssl
from urllib.parse import urlsplit

from phoenix_ops.findings import redact_url
from phoenix_ops.reading import read_text
from phoenix_ops.record import field, record


class ProbeUsageError(ValueError):
    """Bad probe input (URL, --resolve, --header): the CLI reports it with exit code 2."""


def authority(host: str, port: int | None = None) -> str:
    """host[:port] for a URL or Host header, with IPv6 addresses in brackets."""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


@record(frozen=True)
class Target:
    """One URL as seen through one node: `addr` is where to connect, `name` the public host name."""

    url: str
    name: str  # Host header and TLS server name
    addr: str | None = None  # connect here instead of resolving the URL's host

    @property
    def label(self) -> str:
        """How reports name the target: its URL without credentials (`?token=...` elided)."""
        url = redact_url(self.url)
        return f"{url} via {self.addr}" if self.addr else url

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)


@record(frozen=True)
class ProbeOptions:
    timeout: float = 5.0  # each network action
    budget: float | None = None  # the whole probe of one target (derived from the checks when None)
    insecure: bool = False
    ca_file: str | None = None
    host_header: str | None = None
    resolve: tuple[tuple[str, int, str], ...] = ()  # (host, port, addr); a host may have several addrs
    headers: tuple[tuple[str, str], ...] = ()  # e.g. Authorization for pages behind login
    cookie: str | None = None
    proxy: str | None = None
    http_port: int | None = None  # where plain HTTP listens (redirect and health checks)
    health_paths: tuple[str, ...] = ()
    ws_idle: float = 0.0
    active: bool = False
    max_body: int = 10_000_000
    burst: int = 50
    burst_path: str = "/"
    max_assets: int = 20
    concurrency: int = 16  # targets probed at once

    @functools.cached_property
    def verify_context(self) -> ssl.SSLContext:
        """A verifying context (system store or --ca-file), built once: loading it costs milliseconds."""
        return ssl.create_default_context(cafile=self.ca_file)

    @functools.cached_property
    def ssl_context(self) -> ssl.SSLContext:
        """The context requests use: verifying, unless --insecure."""
        if not self.insecure:
            return self.verify_context
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def request_headers(self) -> dict[str, str]:
        out = {"user-agent": "phoenix-ops-probe"}
        out.update(self.headers)
        if self.cookie:
            out["cookie"] = self.cookie
        return out


def parse_resolve(spec: str) -> tuple[str, int, str]:
    """HOST:PORT:ADDR as curl takes it (ADDR may be a bracketed IPv6 address)."""
    try:
        host, port, addr = spec.split(":", 2)
        return host.lower(), int(port), addr.strip("[]")
    except ValueError:
        raise ProbeUsageError(f"--resolve wants HOST:PORT:ADDR, got {spec!r}") from None


def parse_header(spec: str) -> tuple[str, str]:
    name, sep, value = spec.partition(":")
    if not sep or not name.strip():  # the text is not echoed: it may be a token typed without its name
        raise ProbeUsageError(f"--header wants 'Name: value' (got {len(spec)} characters without a name "
                              "and a colon; not shown, as it may hold a credential)")
    return name.strip().lower(), value.strip()


def build_targets(urls: list[str], opts: ProbeOptions) -> list[Target]:
    """One target per URL, or one per resolved address when --resolve names several nodes."""
    targets = []
    for url in urls:
        url = url.strip()
        parts = urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProbeUsageError(f"not an http(s) URL: {url!r}")
        url = parts.geturl() if parts.path else parts._replace(path="/").geturl()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        name = opts.host_header or parts.hostname
        addrs = [a for h, p, a in opts.resolve if h == parts.hostname.lower() and p == port]
        targets.extend(Target(url, name, a) for a in addrs) if addrs else targets.append(Target(url, name))
    return targets


def read_targets_file(path: str) -> list[str]:
    lines = read_text(path).splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


@record
class TargetResult:
    target: Target
    findings: list = field(default_factory=list)
    grade: str = ""
    score: int = 0
    facts: dict = field(default_factory=dict)  # what the probe learned (Phoenix generation, TLS version...)
    session: object = None  # the session cookie the page wrote: for replay only, never reported
    assets: list = field(default_factory=list)  # the page's digested asset URLs, for comparing nodes
