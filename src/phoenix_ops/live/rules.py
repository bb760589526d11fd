"""The catalog of `probe` rules (ids 100-149): what each live check finds and how it passes."""

from __future__ import annotations

from phoenix_ops.findings import Confidence, Severity
from phoenix_ops.rules.registry import define

ERR, WARN, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
HIGH, MED, LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW


def _probe(rule_id, name, severity, confidence, *, title, why, fix):
    return define(rule_id, name, severity, confidence, title=title, why=why, fix=fix, kind="probe")


# --- reaching the target -------------------------------------------------------------------------

UNREACHABLE = _probe(
    "WEB140", "target-unreachable", ERR, HIGH,
    title="The target does not answer HTTP within the probe's time limit",
    why="""
    A load balancer, a browser and an attacker all see the same thing: nothing. The probe reports
    the precise failure (DNS, refused connection, timeout, bytes that are not HTTP, headers too large,
    a TLS handshake that fails) instead of hanging: every request has a timeout and the whole probe
    of one target has a budget (--budget).
    """,
    fix="""
    Check that the endpoint listens where the URL says (`http: [ip: {0, 0, 0, 0}, port: ...]`,
    `server: true` or PHX_SERVER=true in a release) and that the proxy forwards to it.

    Pass: the URL answers an HTTP status line and headers within --timeout seconds, below 500.
    Fail: no connection, no complete answer in time, an answer that is not HTTP, or a 5xx page
    (502/504 from a proxy whose upstream is down).
    """,
)

INCOMPLETE = _probe(
    "WEB141", "check-incomplete", WARN, LOW,
    title="A check could not finish within its time limit",
    why="""
    A check that cannot finish says nothing either way, and a silent pass would be a lie. Slow or
    stalled answers on one path (a server that trickles bytes, a socket that never upgrades) are
    themselves worth a look: a load balancer gives up on them too.
    """,
    fix="""
    Look at the path named in the finding; raise --timeout or --budget if the target is just far away.

    Pass: every check completes. Fail: a check hit its timeout or the target's budget ran out.
    """,
)

# --- 1. HTTP -> HTTPS ----------------------------------------------------------------------------

HTTPS_REDIRECT = _probe(
    "WEB100", "http-not-redirected", ERR, HIGH,
    title="Plain HTTP does not redirect to HTTPS",
    why="""
    Users type the bare host name: the first request goes over plain HTTP. Unless it is answered by a
    redirect to HTTPS, the page (and any cookie without Secure) travels in clear text, and HSTS can
    never be learned.
    """,
    fix="""
    Redirect at the proxy, or in Phoenix with `force_ssl: [hsts: true]` on the endpoint (behind a
    TLS-terminating proxy add `rewrite_on: [:x_forwarded_proto]`).

    Pass: `http://HOST/PATH` answers 301, 302, 307 or 308 to `https://HOST/PATH`.
    Fail: a 2xx page over HTTP, or a redirect to another plain HTTP URL.
    """,
)

REDIRECT_HOPS = _probe(
    "WEB101", "https-redirect-indirect", WARN, HIGH,
    title="The HTTPS redirect takes more than one hop, changes host or drops the path",
    why="""
    HSTS preload lists and browsers expect `http://host/` to go straight to `https://host/`. A chain
    of hops costs a round trip each, and a redirect to another host (www, an apex) or to `/` breaks
    deep links and HSTS for the original host.
    """,
    fix="""
    Redirect once, to the same host and path: `return 301 https://$host$request_uri;` in nginx, or
    Phoenix's `force_ssl` with the endpoint's `url: [host: ...]` matching the public host.

    Pass: one hop to `https://` on the same host keeping the path.
    Fail: two or more hops, another host, or a different path.
    """,
)

REDIRECT_LOOP = _probe(
    "WEB102", "redirect-loop", ERR, HIGH,
    title="Requests loop through redirects",
    why="""
    The classic cause is `force_ssl` behind a TLS-terminating proxy without `rewrite_on:
    [:x_forwarded_proto]`: Phoenix sees plain HTTP from the proxy and redirects the already-HTTPS
    request to itself forever. The site is down for every browser.
    """,
    fix="""
    Add `rewrite_on: [:x_forwarded_proto]` to `force_ssl` and make the proxy send
    `X-Forwarded-Proto: https` (nginx: `proxy_set_header X-Forwarded-Proto $scheme;`).

    Pass: the redirect chain ends on a non-redirect answer within 10 hops without revisiting a URL.
    Fail: a URL is visited twice, or more than 10 hops.
    """,
)

# --- 2. HSTS -------------------------------------------------------------------------------------

HSTS_MISSING = _probe(
    "WEB103", "hsts-missing", ERR, HIGH,
    title="HTTPS answers carry no Strict-Transport-Security header",
    why="""
    Without HSTS every visit starts over plain HTTP and can be downgraded by anyone on the path
    (public Wi-Fi, a hostile network) before the redirect happens.
    """,
    fix="""
    `force_ssl: [hsts: true]` in the endpoint config (Plug.SSL sends `max-age=31536000`), or
    `add_header Strict-Transport-Security "max-age=31536000" always;` at the proxy.

    Pass: exactly one Strict-Transport-Security header on the HTTPS page.
    Fail: none.
    """,
)

HSTS_WEAK = _probe(
    "WEB104", "hsts-weak", WARN, HIGH,
    title="HSTS is sent twice, malformed or with a short max-age",
    why="""
    Two HSTS headers (proxy and app both adding one) are invalid and browsers may ignore both. A
    max-age under 180 days is too short to protect returning visitors and is refused by the preload
    list; one year is the usual recommendation.
    """,
    fix="""
    Set HSTS in one place only, with `max-age=31536000` (one year).

    Pass: one header, max-age >= 15552000 (180 days); below 31536000 (one year) is noted as info.
    Fail: several headers, no parsable max-age, or max-age under 180 days (max-age=0 switches HSTS off).
    """,
)

# --- 3. TLS --------------------------------------------------------------------------------------

TLS_OLD_PROTOCOL = _probe(
    "WEB105", "tls-old-protocol", ERR, HIGH,
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

TLS_CERT_INVALID = _probe(
    "WEB106", "tls-certificate-invalid", ERR, HIGH,
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

TLS_CERT_EXPIRING = _probe(
    "WEB107", "tls-certificate-expiring", WARN, HIGH,
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

TLS_WEAK_CIPHERS = _probe(
    "WEB108", "tls-weak-ciphers", WARN, HIGH,
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

# --- 4. Browser security headers -----------------------------------------------------------------

CSP_MISSING = _probe(
    "WEB109", "csp-missing", WARN, HIGH,
    title="The page has no Content-Security-Policy",
    why="""
    A CSP is the second line of defence against XSS: injected markup cannot load or run script from
    elsewhere. Phoenix 1.8's put_secure_browser_headers sends only `base-uri 'self'; frame-ancestors
    'self';`, which stops clickjacking but not script injection.
    """,
    fix="""
    `plug :put_secure_browser_headers, %{"content-security-policy" => "default-src 'self'; ..."}`
    in the browser pipeline (LiveView needs `connect-src 'self'` for its socket; add the wss:// host
    when the socket is on another host).

    Pass: a Content-Security-Policy header (a Report-Only header alone does not count).
    Fail: none.
    """,
)

CSP_WEAK = _probe(
    "WEB110", "csp-weak", WARN, HIGH,
    title="The Content-Security-Policy does not restrict scripts",
    why="""
    `'unsafe-inline'` in script-src lets injected `<script>` run, `'unsafe-eval'` allows eval, and a
    wildcard, `https:` or `data:` source allows script from anywhere. A policy with no script-src and
    no default-src restricts no script at all.
    """,
    fix="""
    Use nonces or hashes for inline script (then browsers ignore 'unsafe-inline'), drop
    'unsafe-eval', and list hosts instead of schemes.

    Pass: script-src (or default-src) present; no 'unsafe-inline' unless a nonce or hash is present;
    no 'unsafe-eval'; no `*`, `http:`, `https:` or `data:` source.
    Fail: any of those.
    """,
)

NOSNIFF = _probe(
    "WEB111", "nosniff-missing", WARN, HIGH,
    title="X-Content-Type-Options: nosniff is missing",
    why="""
    Without it browsers guess content types, so an uploaded text file can run as script or style.
    Every Phoenix generation's put_secure_browser_headers sends it: its absence usually means the
    browser pipeline is bypassed (a page served by a plain plug or by the proxy).
    """,
    fix="""
    Keep `plug :put_secure_browser_headers` in the pipeline that serves the page, or
    `add_header X-Content-Type-Options nosniff always;` at the proxy.

    Pass: the header's value is `nosniff`. Fail: absent or another value.
    """,
)

CLICKJACKING = _probe(
    "WEB112", "clickjacking-unprotected", WARN, HIGH,
    title="Nothing stops other sites from framing the page",
    why="""
    A page that can be framed can be overlaid by an invisible attacker page that steers clicks
    (clickjacking): LiveView actions are one click away.
    """,
    fix="""
    CSP `frame-ancestors 'self'` (Phoenix 1.8 default) or `X-Frame-Options: SAMEORIGIN` (up to 1.7).

    Pass: CSP frame-ancestors without `*`, or X-Frame-Options DENY/SAMEORIGIN.
    Fail: neither, or `frame-ancestors *`.
    """,
)

REFERRER = _probe(
    "WEB113", "referrer-policy-unsafe", INFO, HIGH,
    title="Referrer-Policy is missing or leaks full URLs to other sites",
    why="""
    Full URLs (with tokens in query strings, reset links, search terms) leak to every third-party
    host the page links to or loads from under `unsafe-url` or `no-referrer-when-downgrade`.
    Browsers default to strict-origin-when-cross-origin, so a missing header is only informational.
    """,
    fix="""
    `referrer-policy: strict-origin-when-cross-origin` (Phoenix 1.7+ default) or stricter.

    Pass: no-referrer, same-origin, strict-origin, strict-origin-when-cross-origin or origin.
    Info: header absent. Warning: unsafe-url, no-referrer-when-downgrade, origin-when-cross-origin.
    """,
)

PHOENIX_HEADERS = _probe(
    "WEB114", "phoenix-header-set", INFO, MED,
    title="Phoenix's default browser headers recognised (generation noted)",
    why="""
    The header set put_secure_browser_headers sends tells which Phoenix generation serves the page,
    which decides what else to expect: up to 1.6 it sends x-xss-protection and
    cross-origin-window-policy; 1.7 adds referrer-policy and drops them; 1.8 replaces
    x-frame-options with a CSP `base-uri 'self'; frame-ancestors 'self';`.
    """,
    fix="""
    Nothing to fix: this is information. A page without the set is worth a look (see WEB111).

    Reported when every header of one generation's default set is present with its default value.
    """,
)

# --- 5. Cookies ----------------------------------------------------------------------------------

SESSION_COOKIE = _probe(
    "SEC100", "session-cookie-insecure", ERR, HIGH,
    title="The Phoenix session cookie lacks Secure, HttpOnly or SameSite",
    why="""
    The session cookie is the login. Without Secure it is sent over plain HTTP; without HttpOnly any
    XSS reads it; without SameSite it rides on cross-site requests (CSRF, cross-site WebSocket).
    """,
    fix="""
    In the endpoint's `@session_options`: `secure: true, same_site: "Lax"` (Plug sets http_only by
    default), or `force_ssl` which marks cookies secure.

    The session cookie is recognised by its name (`_app_key`) or its value (a Plug signed
    `SFMyNTY.`-prefixed or encrypted `QTEyOEdDTQ.`-prefixed token).
    Pass: Secure, HttpOnly and SameSite=Lax or Strict. Fail: any missing, or SameSite=None.
    """,
)

COOKIE_NOT_SECURE = _probe(
    "WEB115", "cookie-not-secure", WARN, HIGH,
    title="A cookie is set without the Secure attribute",
    why="""
    A cookie without Secure is sent on any plain HTTP request to the host, where anyone on the path
    can read or replace it.
    """,
    fix="""
    Add `secure: true` to `put_resp_cookie` (or the proxy's cookie flags).

    Pass: every Set-Cookie on the HTTPS page carries Secure. Fail: one does not.
    """,
)

SESSION_MISMATCH = _probe(
    "SEC101", "secret-key-base-mismatch", ERR, MED,
    title="Nodes behind one host do not accept each other's session cookie",
    why="""
    A session cookie from one node, replayed to another node of the same app, is refused when the
    nodes run with different secret_key_base values: users are logged out or get CSRF errors at
    random as the load balancer moves them. Only pages that write the session (the CSRF meta tag of
    a browser page) give a signal; an API-only app gives none, and the probe says so.
    """,
    fix="""
    Give every node the same SECRET_KEY_BASE (one secret in the platform, not one per instance).

    Pass: the cookie from the first node is accepted by the others (they set no new session cookie).
    Fail: another node answers with a fresh session cookie. No signal: no node wrote a session.
    """,
)

# --- 6. CORS -------------------------------------------------------------------------------------

CORS_REFLECTED = _probe(
    "WEB116", "cors-credentials-reflected", ERR, HIGH,
    title="CORS reflects any origin together with Access-Control-Allow-Credentials: true",
    why="""
    Any website can then make the visitor's browser call the API with their cookies and read the
    answer: account data and CSRF tokens leak to every page the user visits.
    """,
    fix="""
    List the allowed origins explicitly in the CORS plug (`origin: ["https://app.example.com"]`),
    and allow credentials only for them.

    Pass: a preflight from a foreign origin is not answered with that origin (or `*`) together with
    `Access-Control-Allow-Credentials: true`. Fail: it is.
    """,
)

# --- 7. WebSockets -------------------------------------------------------------------------------

WS_FOREIGN_ORIGIN = _probe(
    "WEB117", "websocket-foreign-origin", ERR, HIGH,
    title="A Phoenix socket accepts connections from a foreign Origin",
    why="""
    Cross-site WebSocket hijacking: a page on any site opens the LiveView or channel socket with the
    visitor's cookies and acts as them. Phoenix refuses foreign origins with 403 unless
    `check_origin: false` (or a too-broad list) is configured.
    """,
    fix="""
    Keep `check_origin` on in prod: the endpoint's `url: [host: ...]` must be the public host, or list
    the origins: `check_origin: ["https://app.example.com"]`.

    Pass: the upgrade of /live/websocket and /socket/websocket with `Origin: https://evil.invalid`
    answers 403. Fail: it upgrades (101). Sockets answering 404 are not mounted and are skipped.
    """,
)

WS_BROKEN = _probe(
    "WEB118", "websocket-broken", ERR, HIGH,
    title="A same-origin Phoenix socket does not upgrade or does not answer a heartbeat",
    why="""
    When the proxy does not pass the upgrade (missing `Upgrade`/`Connection` headers in nginx, an
    HTTP/1.0 upstream), LiveView falls back to long polling or reconnects forever, and channels stop.
    """,
    fix="""
    nginx: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header
    Connection "upgrade";` on the socket locations.

    Pass: a same-origin upgrade answers 101 and a V2 heartbeat `[null,"1","phoenix","heartbeat",{}]`
    is answered with `phx_reply` status ok for the same ref.
    Fail: any other status, a closed connection, or no reply within --timeout. When both the foreign
    and the same origin get 403, the socket may simply want a token (connect/3 returned :error):
    that is a low-confidence warning, since neither this check nor WEB117 could be verified.
    """,
)

WS_IDLE = _probe(
    "WEB119", "websocket-idle-drop", WARN, HIGH,
    title="The WebSocket is dropped while idle (proxy read timeout)",
    why="""
    The Phoenix JavaScript client sends a heartbeat every 30 seconds. A proxy whose read timeout is
    shorter (nginx's proxy_read_timeout defaults to 60 s, but platforms often set less) cuts every
    quiet LiveView, which then reconnects and re-mounts, losing form state.
    """,
    fix="""
    Raise the proxy's idle timeout above the heartbeat interval (nginx: `proxy_read_timeout 120s;`
    on the socket locations).

    Opt-in with --ws-idle SECONDS. Pass: after SECONDS of silence the socket still answers a
    heartbeat. Fail: it was closed during the wait.
    """,
)

# --- 8. Assets -----------------------------------------------------------------------------------

ASSET_MISSING = _probe(
    "AST100", "digested-asset-missing", ERR, HIGH,
    title="A digested asset referenced by the page is not served",
    why="""
    A page that names `app-3f2a.js?vsn=d` which then answers 404 is usually a load balancer mixing two
    releases (the page from the new, the asset request to the old node) or a release built without
    `mix assets.deploy`. Users get an unstyled page or a dead LiveView.
    """,
    fix="""
    Run `mix assets.deploy` (which runs phx.digest) in the release build, and drain old nodes before
    routing to new ones (or keep old digests available during rollout).

    Pass: every `?vsn=d` URL of the page answers 200. Fail: any other status.
    """,
)

ASSET_CACHE = _probe(
    "AST101", "asset-cache-headers", WARN, HIGH,
    title="Digested assets are not cached long-term",
    why="""
    Digested names change with content, so they can be cached forever: without a long public
    max-age every page view revalidates every asset.
    """,
    fix="""
    Plug.Static does this for `?vsn=d` requests when `cache_control_for_vsn_requests` is left at its
    default; at a proxy: `expires max; add_header Cache-Control "public, immutable";`.

    Pass: Cache-Control with `public` and max-age >= 31536000 (or immutable).
    Fail: missing, private, no-cache/no-store, or a shorter max-age.
    """,
)

ASSET_COMPRESSION = _probe(
    "AST102", "asset-compression", WARN, MED,
    title="Text assets are sent uncompressed or without Vary: Accept-Encoding",
    why="""
    JavaScript and CSS shrink 3 to 5 times with gzip or brotli. Without `Vary: Accept-Encoding` a
    shared cache may hand a compressed body to a client that cannot read it.
    """,
    fix="""
    `plug Plug.Static, gzip: true` (phx.digest writes .gz files) or `gzip on; gzip_types
    text/css application/javascript; gzip_vary on;` at the proxy.

    Pass: JS and CSS assets answer with Content-Encoding gzip, br or zstd to a client that accepts
    them, and carry Vary: Accept-Encoding. Fail: either missing.
    """,
)

STATIC_ETAG = _probe(
    "AST103", "static-revalidation", INFO, MED,
    title="A non-digested static file cannot be revalidated (no ETag or no 304)",
    why="""
    Files like /robots.txt and /favicon.ico are fetched often; without ETag and 304 answers every
    fetch transfers the full body.
    """,
    fix="""
    Plug.Static sends ETags by default (`etag_generation`); at nginx `etag on;` (the default).

    Pass: the file has an ETag and a request with If-None-Match answers 304.
    Fail: no ETag, or the conditional request answers 200 again.
    """,
)

# --- 9. Exposure ---------------------------------------------------------------------------------

DEV_SURFACE = _probe(
    "WEB120", "dev-surface-exposed", ERR, HIGH,
    title="A development-only route answers in production",
    why="""
    /dev/dashboard (LiveDashboard with process, ETS and environment views) and /dev/mailbox (every
    mail sent, with reset links) are guarded by `dev_routes` in generated routers; the live reload
    socket means the code reloader runs. Any of these in production is a data leak.
    """,
    fix="""
    Keep them inside `if Application.compile_env(:app, :dev_routes)` and never set dev_routes in
    prod; remove `Phoenix.LiveReloader` from a prod endpoint.

    Pass: /dev/dashboard, /dev/mailbox and /phoenix/live_reload/frame answer 404 (or 401/403, or a
    redirect to a login page), and /phoenix/live_reload/socket/websocket answers like any unknown path.
    Fail: 200 with content, or 400/403 from the live reload socket (a mounted Phoenix socket answers a
    plain GET that way).
    """,
)

DASHBOARD = _probe(
    "WEB121", "dashboard-unauthenticated", ERR, MED,
    title="A dashboard or metrics endpoint answers without authentication",
    why="""
    LiveDashboard mounted for admins, Oban Web or a Prometheus /metrics page reveal internals (env
    vars, queries, job arguments, request rates) and sometimes allow actions (kill a process, retry a
    job).
    """,
    fix="""
    Put them behind authentication (`pipe_through [:browser, :require_admin]`,
    `Plug.BasicAuth`) or serve /metrics on a separate internal port.

    Requests are sent without the --cookie and --header credentials.
    Pass: /dashboard, /admin/dashboard, /oban and /metrics answer 401, 403, 404 or redirect to login,
    or a page that is not LiveDashboard, Oban Web or Prometheus text (an app's own /dashboard).
    Fail: 200 with LiveDashboard, Oban Web or Prometheus content.
    """,
)

DEBUG_PAGE = _probe(
    "WEB122", "debug-error-page", ERR, HIGH,
    title="The 404 page carries debug output",
    why="""
    `debug_errors: true` renders Plug.Debugger pages with source code, the list of routes and
    request data; a stack trace in an error page shows module names and file paths.
    """,
    fix="""
    Keep `debug_errors` out of prod config and render errors through the ErrorHTML/ErrorJSON modules.

    Pass: a request to a random path answers without Plug.Debugger markup, NoRouteError, route
    listings or stack traces. Fail: any of them present.
    """,
)

# --- 10. Limits (--active) -----------------------------------------------------------------------

BODY_LIMIT = _probe(
    "WEB123", "body-limit-missing", WARN, MED,
    title="An oversized request body is accepted",
    why="""
    Without a body limit one client can fill memory or disk: Plug.Parsers reads up to 8 MB by
    default, and proxies default to 1 MB.
    """,
    fix="""
    nginx `client_max_body_size 8m;`, and `length:` on Plug.Parsers for the endpoints that need it.

    Active only (--active). Pass: a body of --max-body bytes is refused with 413 (or the connection
    is closed before it is read). Fail: a 2xx/3xx/404 answer after reading it.
    """,
)

HEADER_LIMIT = _probe(
    "WEB124", "header-limit-missing", WARN, MED,
    title="An oversized request line or header is accepted",
    why="""
    Huge request lines and headers cost memory in every hop; servers should refuse them early with
    414, 431 or 400.
    """,
    fix="""
    nginx `large_client_header_buffers 4 8k;`; Cowboy's `max_header_value_length`, Bandit's
    `max_request_line_length`/`max_header_length`.

    Active only. Pass: a 64 KB request line answers 414/400 and a 64 KB header 431/400/413 (or the
    connection is closed). Fail: a normal answer.
    """,
)

RATE_LIMIT = _probe(
    "WEB125", "rate-limit-missing", INFO, LOW,
    title="A burst of requests is never answered 429",
    why="""
    Login, sign-up and password-reset paths attract credential stuffing; a rate limit (PlugAttack,
    Hammer, the proxy's limit_req) answers 429 before the app does real work.
    """,
    fix="""
    Add a limit on the path (`limit_req zone=login burst=5;` in nginx, or a plug).

    Active only, bounded: at most --burst requests within 10 seconds to --burst-path.
    Pass: some answer is 429. Fail (info): none is.
    """,
)

# --- 11. Health ----------------------------------------------------------------------------------

HEALTH_MISSING = _probe(
    "HLT100", "health-endpoint-missing", WARN, MED,
    title="No health or readiness endpoint answers",
    why="""
    Load balancers and orchestrators need a cheap path that says "ready": without one they probe `/`
    (a full page render with a database query) or do TCP checks that pass while the app is broken.
    """,
    fix="""
    Add a plug before the router answering 200 on /health (and /ready when readiness differs), or
    pass the existing path with --health.

    Pass: one of the given or usual paths (/health, /healthz, /ready, /readyz, /livez, /_health,
    /api/health, /status) answers 200 over HTTPS. Fail: none does.
    """,
)

HEALTH_BAD = _probe(
    "HLT101", "health-endpoint-unhealthy", ERR, HIGH,
    title="The health endpoint is slow, failing, or only reachable through a redirect",
    why="""
    Platforms probe health over plain HTTP inside the network. With `force_ssl` the check gets a
    301 and the node is marked dead (or the redirect is followed to the public URL and checks the
    load balancer, not the node). A slow health answer makes checks time out under load.
    """,
    fix="""
    Phoenix runs force_ssl's Plug.SSL before any endpoint plug, so either exclude the host name or
    address the checker uses (`force_ssl: [rewrite_on: [:x_forwarded_proto], exclude: [...]]` takes
    a list of hosts, or `{mod, fun, args}` called with the host; "localhost" is excluded by default),
    or redirect to HTTPS at the proxy and drop force_ssl. Keep the health plug free of heavy work.

    Pass: 200 within 1 second, both over HTTPS and directly over plain HTTP (--http-port).
    Fail: another status, a redirect over plain HTTP, or slower than 1 second (warning).
    """,
)

# --- 12. Grade -----------------------------------------------------------------------------------

GRADE = _probe(
    "WEB149", "probe-grade", INFO, HIGH,
    title="The probe's grade for a target (scheme documented here)",
    why="""
    One letter summarises the audit so trends are visible across deploys. Scheme: start at 100;
    every error finding costs 15 points, every warning 5, info findings nothing (findings of the
    same rule count once per target). A+ needs 100 points plus HSTS of one year and a CSP without
    findings; A >= 90, B >= 80, C >= 70, D >= 60, F below. Caps: an unreachable target, an invalid
    certificate, an exposed dev surface or dashboard, a foreign-origin WebSocket, credentialed CORS
    reflection or a redirect loop cap the grade at F; any other error caps it at C.
    """,
    fix="""
    Fix the findings listed for the target, errors first.

    This finding is information: it states the grade and the points, and never sets the exit code.
    """,
)

# Findings that make a target fail outright: see GRADE.
GRADE_CAPS_F = {UNREACHABLE.id, TLS_CERT_INVALID.id, DEV_SURFACE.id, DASHBOARD.id, WS_FOREIGN_ORIGIN.id,
                CORS_REFLECTED.id, REDIRECT_LOOP.id}
