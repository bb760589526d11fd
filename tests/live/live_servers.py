"""Real servers for the probe's tests and benchmark: the Phoenix stand-in, nginx (good and bad
configurations) and trustme certificates. Every server is on loopback, on a free port, in its own
temp dir, and is killed by `stop()` whatever happened."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import trustme

HERE = Path(__file__).parent
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@dataclass
class Server:
    proc: subprocess.Popen
    port: int

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=5)


def start(cmd: list[str], port: int, host: str = "127.0.0.1", **kw) -> Server:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)
    server = Server(proc, port)
    try:
        wait_port(port, proc, host=host)
    except Exception:
        server.stop()
        raise
    return server


def start_standin(bind: str = "127.0.0.1", **config) -> Server:
    port = free_port()
    return start([sys.executable, str(HERE / "standin.py"), str(port), bind, json.dumps(config)], port, bind)


# --- certificates ---------------------------------------------------------------------------------

@dataclass
class Certs:
    ca_file: str
    good: tuple[str, str]  # (cert chain, key) for localhost, valid a year
    expired: tuple[str, str]
    wrong_host: tuple[str, str]
    expiring: tuple[str, str]  # 20 days left
    no_chain: tuple[str, str]  # issued by an intermediate, served without it


def make_certs(tmp: Path) -> Certs:
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    now = dt.datetime.now(dt.timezone.utc)
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))

    def leaf(name: str, host: str, issuer: trustme.CA = ca, full_chain: bool = True, **kw) -> tuple[str, str]:
        cert = issuer.issue_cert(host, key_type=trustme.KeyType.RSA, **kw)
        chain, key = tmp / f"{name}.pem", tmp / f"{name}.key"
        pems = cert.cert_chain_pems if full_chain else cert.cert_chain_pems[:1]
        chain.write_bytes(b"".join(c.bytes() for c in pems))
        cert.private_key_pem.write_to_path(str(key))
        return str(chain), str(key)

    return Certs(str(tmp / "ca.pem"),
                 good=leaf("good", "localhost", not_after=now + dt.timedelta(days=365)),
                 expired=leaf("expired", "localhost", not_before=now - dt.timedelta(days=90),
                              not_after=now - dt.timedelta(days=1)),
                 wrong_host=leaf("wrong", "wrong.example", not_after=now + dt.timedelta(days=365)),
                 expiring=leaf("expiring", "localhost", not_after=now + dt.timedelta(days=20)),
                 no_chain=leaf("no-chain", "localhost", ca.create_child_ca(key_type=trustme.KeyType.RSA), False,
                               not_after=now + dt.timedelta(days=365)))


# --- nginx ----------------------------------------------------------------------------------------

GOOD_TLS = "ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;"
OLD_TLS = "ssl_protocols TLSv1 TLSv1.2; ssl_ciphers DEFAULT:@SECLEVEL=0;"
SOCKET_HEADERS = ('proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; '
                  'proxy_set_header Connection "upgrade";')


@dataclass
class Site:
    """One HTTPS server block (and its plain HTTP redirect) in front of an upstream port."""

    upstream: int
    cert: tuple[str, str]
    tls: str = GOOD_TLS
    hsts: str | None = "max-age=31536000"
    pass_upgrade: bool = True
    read_timeout: str = "60s"
    extra: str = "client_max_body_size 1m; large_client_header_buffers 4 8k;"
    limit_req: bool = True
    http_redirect: str | None = "https://$host:{https}$request_uri"  # None: serve the app over HTTP too
    https_port: int = 0
    http_port: int = 0

    def render(self) -> str:
        self.https_port = self.https_port or free_port()
        self.http_port = self.http_port or free_port()
        hsts = f'add_header Strict-Transport-Security "{self.hsts}" always;' if self.hsts else ""
        upgrade = SOCKET_HEADERS if self.pass_upgrade else "proxy_http_version 1.0;"
        limit = "limit_req zone=burst burst=5 nodelay; limit_req_status 429;" if self.limit_req else ""
        proxy = (f"proxy_pass http://127.0.0.1:{self.upstream}; proxy_set_header Host $http_host; "
                 f"proxy_set_header X-Forwarded-Proto $scheme;")
        plain = (f"location / {{ return 301 {self.http_redirect.format(https=self.https_port)}; }}"
                 if self.http_redirect else f"location / {{ {proxy} }}")
        return f"""
        server {{ listen 127.0.0.1:{self.http_port}; server_name localhost; {plain}
                  location = /health {{ {proxy} }} }}
        server {{
            listen 127.0.0.1:{self.https_port} ssl; listen 127.0.0.2:{self.https_port} ssl;
            server_name localhost;
            ssl_certificate {self.cert[0]}; ssl_certificate_key {self.cert[1]}; {self.tls}
            {hsts} {self.extra}
            location / {{ {proxy} }}
            location = /login {{ {limit} {proxy} }}
            location ~ ^/(live|socket)/websocket {{ {proxy} {upgrade} proxy_read_timeout {self.read_timeout}; }}
        }}"""


def nginx_conf(tmp: Path, sites: list[Site]) -> str:
    temps = "\n".join(f"{k}_temp_path {tmp}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""
    user root; worker_processes 1; error_log stderr error;
    events {{ worker_connections 1024; }}
    http {{
        access_log off; {temps}
        gzip on; gzip_types text/css text/javascript application/javascript; gzip_vary on;
        limit_req_zone $binary_remote_addr zone=burst:1m rate=5r/s;
        {''.join(s.render() for s in sites)}
    }}"""


def start_nginx(tmp: Path, sites: list[Site]) -> Server:
    tmp.mkdir(parents=True, exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_conf(tmp, sites))
    return start([NGINX, "-p", str(tmp), "-c", str(conf), "-e", "stderr", "-g", f"daemon off; pid {tmp}/nginx.pid;"],
                 sites[-1].https_port)


def start_hostile(mode: str) -> Server:
    port = free_port()
    return start([sys.executable, str(HERE / "hostile.py"), mode, str(port)], port)
