"""A small stand-in for a Phoenix endpoint: HTML pages with digested assets, a Plug-style signed
session cookie, put_secure_browser_headers sets, health, dev routes, CORS, and the Phoenix socket
protocol (V2 JSON frames) on /live/websocket and /socket/websocket. Held to the npm `phoenix`
client by tests/live/test_standin_js.py. Run as `python standin.py PORT [HOST] [JSON-CONFIG]`."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import hmac
import json
import secrets
import sys
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol

PHOENIX_18 = {"referrer-policy": "strict-origin-when-cross-origin",
              "content-security-policy": "base-uri 'self'; frame-ancestors 'self';",
              "x-content-type-options": "nosniff", "x-permitted-cross-domain-policies": "none"}
PHOENIX_17 = {"referrer-policy": "strict-origin-when-cross-origin", "x-content-type-options": "nosniff",
              "x-download-options": "noopen", "x-frame-options": "SAMEORIGIN",
              "x-permitted-cross-domain-policies": "none"}
STRONG = {**PHOENIX_18, "content-security-policy":
          "default-src 'self'; script-src 'self' 'nonce-abc'; frame-ancestors 'self'; base-uri 'self'"}
PROFILES = {"phoenix18": PHOENIX_18, "phoenix17": PHOENIX_17, "strong": STRONG, "none": {}}
CSS, JS = b"body{color:#222}" * 200, b"console.log('app');" * 200
# phx.digest names: the MD5 of the content, 32 hex digits; MIME 2 calls .js text/javascript.
CSS_PATH = f"/assets/app-{hashlib.md5(CSS).hexdigest()}.css"
JS_PATH = f"/assets/app-{hashlib.md5(JS).hexdigest()}.js"
ASSETS = {CSS_PATH: (CSS, "text/css"), JS_PATH: (JS, "text/javascript")}
ROBOTS = b"User-agent: *\n"
SOCKET_PATHS = ("/live/websocket", "/socket/websocket")


@dataclass
class Config:
    host: str = "localhost"  # the endpoint's url host: check_origin compares the Origin's host with it
    secret: str = "a" * 64  # secret_key_base
    encrypted: bool = False  # an encrypted session: Plug.Crypto 2's "XCP." token, verified by its MAC
    headers: str = "phoenix18"
    session_flags: str = "; path=/; secure; HttpOnly; SameSite=Lax"
    check_origin: bool = True
    missing_assets: list = field(default_factory=list)  # digested paths named on the page but not served
    cors_reflect: bool = False
    dev_routes: bool = False
    open_metrics: bool = False  # a Prometheus /metrics page without authentication
    debug_errors: bool = False
    force_ssl: bool = False  # redirect unless X-Forwarded-Proto is https (needs rewrite_on behind proxies)
    rewrite_on: bool = True
    health_delay: float = 0.0
    gzip: bool = True
    asset_cache: str = "public, max-age=31536000, immutable"  # Plug.Static's answer to ?vsn=d
    socket_token: str | None = None  # when set, /socket needs ?token=TOKEN (UserSocket.connect -> :error: 403)
    admin_dashboard: bool = False  # LiveDashboard at /admin/dashboard, behind login_token when set
    login_token: str | None = None  # when set, / needs "authorization: Bearer TOKEN" or cookie auth=TOKEN
    longpoll: bool = True  # LiveView's long-poll fallback at /live/longpoll, as phx.new 1.7.24 mounts it
    health: bool = True  # a /health route (a plug before the router)
    robots_etag: bool = True  # Plug.Static's ETag on /robots.txt (etag_generation)
    cookies: list = field(default_factory=list)  # more Set-Cookie lines on the page, as put_resp_cookie


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_session(secret: str, data: dict) -> str:
    """Plug.Crypto.MessageVerifier's shape: base64url('HS256') . payload . signature."""
    signed = "SFMyNTY." + b64(json.dumps(data).encode())
    return signed + "." + b64(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())


def encrypt_session(secret: str, data: dict) -> str:
    """The shape of Plug.Crypto 2's encrypted token ("XCP." + base64url(iv, tag, text)), with a MAC
    standing in for the AEAD tag so only the same secret accepts it."""
    iv, text = secrets.token_bytes(24), json.dumps(data).encode()
    tag = hmac.new(secret.encode(), iv + text, hashlib.sha256).digest()[:16]
    return "XCP." + b64(iv + tag + text)


def verify_session(secret: str, token: str) -> bool:
    if token.startswith("XCP."):
        raw = base64.urlsafe_b64decode(token[4:] + "=" * (-len(token[4:]) % 4))
        iv, tag, text = raw[:24], raw[24:40], raw[40:]
        return hmac.compare_digest(hmac.new(secret.encode(), iv + text, hashlib.sha256).digest()[:16], tag)
    head, _, sig = token.rpartition(".")
    good = b64(hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest())
    return head.startswith("SFMyNTY.") and hmac.compare_digest(good, sig)


class StandIn:
    def __init__(self, config: Config):
        self.c = config

    # --- HTTP ---------------------------------------------------------------------------------

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = lines[0].split(" ", 2)
                headers = Headers()
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if urlsplit(target).path in SOCKET_PATHS and self.socket_ok(target, headers) and \
                        headers.get("upgrade", "").lower() == "websocket":
                    await self.websocket(reader, writer, head)
                    return
                status, out_headers, payload = await self.route(method, target, headers, body)
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                out_headers["content-length"] = str(len(payload))
                out_headers["connection"] = "keep-alive" if keep else "close"
                writer.write(f"HTTP/1.1 {status} X\r\n".encode() + b"".join(
                    f"{k}: {v}\r\n".encode() for k, vs in out_headers.items()
                    for v in (vs if isinstance(vs, list) else [vs])) + b"\r\n" +
                    (b"" if method == "HEAD" else payload))
                await writer.drain()
                if not keep:
                    return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            return
        finally:
            writer.close()

    async def route(self, method: str, target: str, h: Headers, body: bytes) -> tuple[int, dict, bytes]:
        path = urlsplit(target).path
        c = self.c
        if path == "/live/longpoll" and c.longpoll:
            # Phoenix.Transports.LongPoll answers 200 and puts the verdict in its JSON body.
            verdict = {"status": 410, "token": sign_session(c.secret, {"lp": secrets.token_hex(8)}), "messages": []} \
                if self.origin_ok(h) else {"status": 403}
            return 200, {"content-type": "application/json; charset=utf-8"}, json.dumps(verdict).encode()
        if path in SOCKET_PATHS or (c.dev_routes and path == "/phoenix/live_reload/socket/websocket"):
            # as Phoenix.Transports.WebSocket: origin first, then the upgrade
            return (403 if not self.socket_ok(target, h) else 400), {}, b""
        if c.force_ssl and not (c.rewrite_on and h.get("x-forwarded-proto") == "https"):
            return 301, {"location": f"https://{h.get('host', c.host)}{target}"}, b""
        if method == "OPTIONS":
            out = {"access-control-allow-methods": "GET, POST"}
            if c.cors_reflect and "origin" in h:
                out.update({"access-control-allow-origin": h["origin"], "access-control-allow-credentials": "true"})
            return 204, out, b""
        signed_in = not c.login_token or f"Bearer {c.login_token}" == h.get("authorization") or \
            f"auth={c.login_token}" in h.get("cookie", "")
        if path in ("/", "/login", "/admin/dashboard") and not signed_in:
            return 302, {"location": "/users/log_in"}, b""
        if path == "/" or path == "/login":
            return self.page(h)
        if path == "/admin/dashboard" and c.admin_dashboard:
            return 200, {"content-type": "text/html"}, b"<html><div data-phx-main>LiveDashboard</div></html>"
        if path in ASSETS and path not in c.missing_assets:
            content, ctype = ASSETS[path]
            out = {"content-type": ctype, "cache-control": c.asset_cache, "vary": "Accept-Encoding"}
            if c.gzip and "gzip" in h.get("accept-encoding", ""):
                out["content-encoding"] = "gzip"
                content = gzip.compress(content)
            return 200, out, content
        if path == "/robots.txt" and not c.robots_etag:
            return 200, {"content-type": "text/plain"}, ROBOTS
        if path == "/robots.txt":
            etag = '"' + hashlib.md5(ROBOTS).hexdigest() + '"'
            if h.get("if-none-match") == etag:
                return 304, {"etag": etag}, b""
            return 200, {"etag": etag, "content-type": "text/plain"}, ROBOTS
        if path == "/health" and c.health:
            await asyncio.sleep(c.health_delay)
            return 200, {"content-type": "text/plain"}, b"ok"
        if path == "/dev/dashboard" and c.dev_routes:
            return 200, {"content-type": "text/html"}, b"<html><div data-phx-main>LiveDashboard</div></html>"
        if path == "/metrics" and c.open_metrics:
            return 200, {"content-type": "text/plain"}, b"# HELP vm_memory_total Memory\n# TYPE vm_memory_total gauge\n"
        if path == "/phoenix/live_reload/frame" and c.dev_routes:
            return 200, {"content-type": "text/html"}, b"<script>/* phoenix_live_reload */</script>"
        if method == "POST":
            return 200, {"content-type": "text/plain"}, f"read {len(body)} bytes".encode()
        if c.debug_errors:
            return 404, {"content-type": "text/html"}, (
                f"<title>Phoenix.Router.NoRouteError at {method} {path}</title>"
                "<h1>no route found for GET</h1><p>Available routes</p>").encode()
        return 404, {"content-type": "text/html"}, b"<h1>Not Found</h1>"

    def page(self, h: Headers) -> tuple[int, dict, bytes]:
        out = {"content-type": "text/html; charset=utf-8", "cache-control": "max-age=0, private, must-revalidate",
               **PROFILES[self.c.headers]}
        cookies = dict(p.strip().split("=", 1) for p in h.get("cookie", "").split(";") if "=" in p)
        if not verify_session(self.c.secret, cookies.get("_demo_key", "")):
            write = encrypt_session if self.c.encrypted else sign_session
            token = write(self.c.secret, {"_csrf_token": secrets.token_urlsafe(18)})
            out["set-cookie"] = [f"_demo_key={token}{self.c.session_flags}"]
        if self.c.cookies:
            out["set-cookie"] = out.get("set-cookie", []) + list(self.c.cookies)
        links = "".join(f'<link rel="stylesheet" href="{p}?vsn=d">' if p.endswith(".css")
                        else f'<script defer src="{p}?vsn=d"></script>' for p in ASSETS)
        view = sign_session(self.c.secret, {"view": "StandIn.PageLive"})  # LiveView's signed session token
        html = (f'<!DOCTYPE html><html><head><meta name="csrf-token" content="{secrets.token_urlsafe(24)}">'
                f'{links}</head><body><div id="phx-F0standin" data-phx-main data-phx-session="{view}" '
                f'data-phx-static="">hello</div></body></html>')
        return 200, out, html.encode()

    # --- Phoenix socket (V2 serializer: [join_ref, ref, topic, event, payload]) -----------------

    def socket_ok(self, target: str, h: Headers) -> bool:
        parts = urlsplit(target)
        token_ok = (not self.c.socket_token or parts.path != "/socket/websocket"
                    or f"token={self.c.socket_token}" in parts.query.split("&"))
        return token_ok and self.origin_ok(h)

    def origin_ok(self, h: Headers) -> bool:
        """check_origin: no Origin header passes; else its host must be the endpoint's host."""
        return not self.c.check_origin or "origin" not in h or urlsplit(h["origin"]).hostname == self.c.host

    async def websocket(self, reader, writer, head: bytes) -> None:
        proto = ServerProtocol()
        proto.receive_data(head)  # the parser starts at the HTTP request
        response = proto.accept(proto.events_received()[0])
        proto.send_response(response)
        writer.write(b"".join(proto.data_to_send()))
        await writer.drain()
        if response.status_code != 101:
            return
        while True:
            data = await reader.read(65536)
            proto.receive_data(data) if data else proto.receive_eof()
            for event in proto.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    for reply in self.channel_replies(json.loads(event.data), self.c.secret):
                        proto.send_text(json.dumps(reply).encode())
            out = proto.data_to_send()
            for chunk in out:
                if chunk:
                    writer.write(chunk)
                else:
                    return
            await writer.drain()
            if not data:
                return

    @staticmethod
    def channel_replies(msg: list, secret: str) -> list[list]:
        join_ref, ref, topic, event, payload = msg
        if event == "phx_join" and topic.startswith("lv:") and "session" in payload and \
                not verify_session(secret, payload["session"]):
            # a LiveView session token signed with another secret_key_base
            return [[join_ref, ref, topic, "phx_reply", {"status": "error", "response": {"reason": "stale"}}]]
        if event in ("heartbeat", "phx_join", "phx_leave"):
            return [[join_ref, ref, topic, "phx_reply", {"status": "ok", "response": {}}]]
        return [[join_ref, ref, topic, "phx_reply", {"status": "ok", "response": {"echo": payload}}]]


async def serve(port: int, host: str, config: Config) -> None:
    server = await asyncio.start_server(StandIn(config).handle, host, port, limit=1 << 20)
    print(json.dumps({"listening": port, "config": asdict(config)}), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    conf = Config(**json.loads(sys.argv[3])) if len(sys.argv) > 3 else Config()
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1", conf))
