"""Check 3: TLS versions offered, the certificate (chain, host name, expiry) and weak cipher suites,
each a separate handshake with the standard library's ssl, the certificate read with cryptography."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
import warnings
from urllib.parse import urlsplit

from cryptography import x509

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import INCOMPLETE, TLS, UNREACHABLE, Context
from phoenix_ops.live.http import untrusted_hint
from phoenix_ops.record import record
from phoenix_ops.rule import rule

TLS_OLD_PROTOCOL = rule(
    "WEB105", "tls-old-protocol", Severity.ERROR, Confidence.HIGH, kind="probe", subject=TLS,
    title="The server accepts TLS 1.0 or TLS 1.1",
    why="""
    TLS 1.0 and 1.1 are deprecated (RFC 8996): they rely on SHA-1 and CBC constructions with known
    attacks, and PCI DSS forbids them. Every current browser speaks TLS 1.2.
    """,
    fix="""
    nginx: `ssl_protocols TLSv1.2 TLSv1.3;`. TLS served by the endpoint itself: `https: [versions:
    [:"tlsv1.3", :"tlsv1.2"]]` with Cowboy (Bandit takes the same ssl options under
    `thousand_island_options: [transport_options: ...]`); recent OTP releases default to these.

    Pass: handshakes limited to TLS 1.0 and to TLS 1.1 are both refused.
    Fail: either handshake succeeds. SSLv3 is not tested: the OpenSSL this tool runs on is built
    without it, so it cannot be offered either way; say so rather than pretend.
    """,
)

TLS_CERT_INVALID = rule(
    "WEB106", "tls-certificate-invalid", Severity.ERROR, Confidence.HIGH, kind="probe", subject=TLS,
    title="The certificate does not verify: untrusted chain, wrong host name or expired",
    why="""
    Browsers stop with a full-page warning; API clients and mobile apps fail. A missing intermediate
    certificate works in some browsers (which cache it) and fails in others, so it is easy to miss.
    """,
    fix="""
    Serve the full chain (`fullchain.pem` with Let's Encrypt), for a name the certificate covers, and
    renew before expiry.

    Pass: the chain verifies against the system trust store (or --ca-file), the certificate matches
    the host name (SNI), and it is within its validity period.
    Fail: any of those fails (the finding quotes OpenSSL's reason).
    """,
)

TLS_CERT_EXPIRING = rule(
    "WEB107", "tls-certificate-expiring", Severity.WARNING, Confidence.HIGH, kind="probe", subject=TLS,
    title="The certificate expires soon",
    why="""
    Renewal jobs fail silently (a changed DNS record, a rate limit, a container that lost its
    cron). Thirty days is the last comfortable window to notice.
    """,
    fix="""
    Renew now and check the automation (certbot timer, cert-manager, the platform's certificate).

    Pass: more than 60 days left. Warning: 30 to 60 days. Error: 30 days or fewer.
    """,
)

TLS_WEAK_CIPHERS = rule(
    "WEB108", "tls-weak-ciphers", Severity.WARNING, Confidence.HIGH, kind="probe", subject=TLS,
    title="The server accepts weak TLS 1.2 cipher suites",
    why="""
    Suites with RSA key exchange have no forward secrecy (a stolen key decrypts recorded traffic);
    3DES, RC4, NULL and export suites are broken outright.
    """,
    fix="""
    nginx: `ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;` (Mozilla's intermediate profile). Erlang ssl:
    leave `ciphers` at the default of a current OTP.

    Pass: a TLS 1.2 handshake offering only RSA-key-exchange, 3DES, RC4, NULL or export suites is refused.
    Fail: it succeeds (the finding names the suite the server chose).
    """,
)


OLD_VERSIONS = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
# RSA key exchange (no forward secrecy) and broken bulk ciphers; @SECLEVEL=0 so OpenSSL 3 offers them.
WEAK_CIPHERS = "kRSA:3DES:RC4:eNULL:EXP:@SECLEVEL=0"
EXPIRY_ERROR_DAYS = 30
EXPIRY_WARN_DAYS = 60


@record
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
        return Handshake(False, error=(exc.verify_message or str(exc.reason)) + untrusted_hint(exc))
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
    return [TLS_CERT_EXPIRING.finding(
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
            return [INCOMPLETE.finding(f"TLS checks connect directly, not through --proxy, and failed: "
                                         f"{plain.error}", ctx.at(), key="tls")]
        return [UNREACHABLE.finding(f"TLS handshake failed: {plain.error}", ctx.at(), key="tls")]
    ctx.facts["tls_version"] = plain.version
    if not verified.ok:
        out.append(TLS_CERT_INVALID.finding(f"certificate rejected for {ctx.target.name}: {verified.error}",
                                              ctx.at()))
    out += _expiry(ctx, plain.cert)
    for version, hs in (("TLS 1.0", tls10), ("TLS 1.1", tls11)):
        if hs.ok:
            out.append(TLS_OLD_PROTOCOL.finding(f"{version} handshake accepted", ctx.at(), key=version))
    if weak.ok:
        out.append(TLS_WEAK_CIPHERS.finding(f"accepted the weak suite {weak.cipher}", ctx.at()))
    return out
