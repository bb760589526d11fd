"""Check 3: TLS versions offered, the certificate (chain, host name, expiry) and weak cipher suites,
each a separate handshake with the standard library's ssl, the certificate read with cryptography."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
import warnings
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509

from phoenix_ops.findings import Finding, Severity
from phoenix_ops.live import rules as R
from phoenix_ops.live.context import Context

OLD_VERSIONS = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
# RSA key exchange (no forward secrecy) and broken bulk ciphers; @SECLEVEL=0 so OpenSSL 3 offers them.
WEAK_CIPHERS = "kRSA:3DES:RC4:eNULL:EXP:@SECLEVEL=0"
EXPIRY_ERROR_DAYS = 30
EXPIRY_WARN_DAYS = 60


@dataclass
class Handshake:
    ok: bool
    version: str | None = None
    cipher: str | None = None
    cert: bytes | None = None
    error: str = ""


def _unverified(minimum=ssl.TLSVersion.MINIMUM_SUPPORTED, maximum=ssl.TLSVersion.MAXIMUM_SUPPORTED,
                ciphers: str | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers(ciphers or "DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated: offering them is the point here
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version, ctx.maximum_version = minimum, maximum
    return ctx


async def handshake(ctx: Context, context: ssl.SSLContext) -> Handshake:
    port = urlsplit(ctx.page.url).port or 443
    try:
        async with asyncio.timeout(ctx.opts.timeout):
            _, writer = await asyncio.open_connection(ctx.target.addr or ctx.target.host, port, ssl=context,
                                                      server_hostname=ctx.target.name)
    except ssl.SSLCertVerificationError as exc:
        return Handshake(False, error=exc.verify_message or str(exc.reason))
    except ssl.SSLError as exc:
        return Handshake(False, error=exc.reason or str(exc))
    except TimeoutError:
        return Handshake(False, error=f"no handshake within {ctx.opts.timeout:g} s")
    except OSError as exc:
        return Handshake(False, error=str(exc))
    obj = writer.get_extra_info("ssl_object")
    result = Handshake(True, obj.version(), obj.cipher()[0], obj.getpeercert(binary_form=True))
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return result


def _expiry(ctx: Context, der: bytes) -> list[Finding]:
    cert = x509.load_der_x509_certificate(der)
    left = cert.not_valid_after_utc - dt.datetime.now(dt.timezone.utc)
    ctx.facts["certificate_days_left"] = left.days
    if left.days > EXPIRY_WARN_DAYS or left.total_seconds() <= 0:  # an expired one is WEB106's
        return []
    severity = Severity.ERROR if left.days <= EXPIRY_ERROR_DAYS else Severity.WARNING
    return [R.TLS_CERT_EXPIRING.finding(
        f"the certificate expires in {left.days} days ({cert.not_valid_after_utc:%Y-%m-%d})",
        ctx.at(), severity=severity)]


async def check_tls(ctx: Context) -> list[Finding]:
    if not ctx.page.url.startswith("https://"):
        return []
    # The certificate is judged even under --insecure, which only lets the other checks go on.
    jobs = [handshake(ctx, ctx.opts.verify_context), handshake(ctx, _unverified())]
    jobs += [handshake(ctx, _unverified(v, v)) for v in OLD_VERSIONS]
    jobs.append(handshake(ctx, _unverified(maximum=ssl.TLSVersion.TLSv1_2, ciphers=WEAK_CIPHERS)))
    verified, plain, tls10, tls11, weak = await asyncio.gather(*jobs)
    out = []
    if not plain.ok:
        if ctx.opts.proxy:  # the handshakes go direct; the proxy may be the only way in
            return [R.INCOMPLETE.finding(f"TLS checks connect directly, not through --proxy, and failed: "
                                         f"{plain.error}", ctx.at(), key="tls")]
        return [R.UNREACHABLE.finding(f"TLS handshake failed: {plain.error}", ctx.at(), key="tls")]
    ctx.facts["tls_version"] = plain.version
    if not verified.ok:
        out.append(R.TLS_CERT_INVALID.finding(f"certificate rejected for {ctx.target.name}: {verified.error}",
                                              ctx.at()))
    out += _expiry(ctx, plain.cert)
    for version, hs in (("TLS 1.0", tls10), ("TLS 1.1", tls11)):
        if hs.ok:
            out.append(R.TLS_OLD_PROTOCOL.finding(f"{version} handshake accepted", ctx.at(), key=version))
    if weak.ok:
        out.append(R.TLS_WEAK_CIPHERS.finding(f"accepted the weak suite {weak.cipher}", ctx.at()))
    return out
