"""Planted canaries: a project and a loopback server seeded with unique secrets everywhere a Phoenix
project keeps them; every command in every format, to stdout and with -o, must print none of them.

A canary counts as leaked when any 8 characters of it appear in stdout, stderr or a written file.
The secrets are short on purpose (12 to 20 characters): redaction must not rest on a token's length.
A new command is one line in COMMANDS.
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cli_run import invoke
from project_shapes import GOOD

_rng = random.Random(1717)


def _canary(length: int = 14) -> str:
    """Letters and digits, mixed so that no 8 characters of it occur in ordinary output by chance."""
    alphabet = string.ascii_letters + string.digits
    while True:
        word = "".join(_rng.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in word) and any(c.isupper() for c in word):
            return word


C = {name: _canary(12 + i % 9) for i, name in enumerate([
    "dev_skb", "dev_password", "config_api_key", "prod_mailer_key", "prod_signer", "put_env", "condition",
    "default", "default2", "url_password", "helper_arg", "secret_file", "mix_cookie", "env_sh_cookie",
    "dotenv_skb", "dotenv_db_password", "dotenv_token", "docker_env", "docker_arg", "fly_env", "compose_env",
    "k8s_env", "systemd_env", "syntax_error", "lib_attribute", "lib_default", "envfile_skb", "envfile_unknown",
    "envfile_typo", "redirect_token", "redirect_sig", "csrf", "cookie_value", "header_token", "cli_cookie",
    "bad_header", "cluster_cookie", "release_cookie"])}

RUNTIME = GOOD["config/runtime.exs"] + f'''
Application.put_env(:joken, :default_signer, "{C["put_env"]}")

if System.get_env("BASIC_AUTH_PASSWORD") != "{C["condition"]}" do
  config :demo, :basic_auth, username: System.get_env("BASIC_AUTH_USER")
end

api_token = System.get_env("API_TOKEN") || "{C["default"]}"
config :demo, :stripe, secret: System.get_env("STRIPE_SECRET", "{C["default2"]}"), token: api_token
config :demo, Demo.Repo, url: "ecto://demo:{C["url_password"]}@db.internal/demo"
Demo.Secrets.load!("{C["helper_arg"]}")
'''

PROJECT = {
    **GOOD,
    "mix.exs": GOOD["mix.exs"].replace('deps: deps()', f'deps: deps(), releases: [demo: [cookie: "{C["mix_cookie"]}"]]'),
    "config/config.exs": GOOD["config/config.exs"] + f'config :demo, :api_key, "{C["config_api_key"]}"\n',
    "config/dev.exs": GOOD["config/dev.exs"].replace('"short-dev-secret"', f'"{C["dev_skb"]}"')
                                            .replace('password: "postgres"', f'password: "{C["dev_password"]}"'),
    "config/prod.exs": GOOD["config/prod.exs"] + f'config :demo, Demo.Mailer, api_key: "{C["prod_mailer_key"]}"\n'
                                                 f'config :joken, default_signer: "{C["prod_signer"]}"\n',
    "config/runtime.exs": RUNTIME,
    "config/prod.secret.exs": f'import Config\nconfig :demo, DemoWeb.Endpoint, secret_key_base: "{C["secret_file"]}"\n',
    "config/staging.exs": f'import Config\nconfig :demo, DemoWeb.Endpoint, url: [host: "{C["syntax_error"]}", port: \n',
    "rel/env.sh.eex": f"#!/bin/sh\nexport RELEASE_COOKIE={C['env_sh_cookie']}\n",
    ".env": f"SECRET_KEY_BASE={C['dotenv_skb']}\nDATABASE_URL=postgres://u:{C['dotenv_db_password']}@db/x\n"
            f"API_TOKEN={C['dotenv_token']}\n",
    "Dockerfile": f"FROM elixir:1.16\nARG GITHUB_TOKEN={C['docker_arg']}\nENV SECRET_KEY_BASE={C['docker_env']}\n"
                  "RUN mix release\nCMD [\"/app/bin/server\"]\n",
    "fly.toml": f'app = "demo"\n[env]\n  API_KEY = "{C["fly_env"]}"\n[http_service]\n  internal_port = 4000\n',
    "docker-compose.yml": f"services:\n  web:\n    build: .\n    environment:\n      SECRET_KEY_BASE: {C['compose_env']}\n",
    "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: demo\nspec:\n  template:\n"
                           "    spec:\n      containers:\n        - name: web\n          image: demo\n          env:\n"
                           f"            - name: SECRET_KEY_BASE\n              value: {C['k8s_env']}\n",
    "rel/demo.service": f"[Service]\nEnvironment=SECRET_KEY_BASE={C['systemd_env']}\nExecStart=/app/bin/server\n",
    "lib/demo/client.ex": f'defmodule Demo.Client do\n  @api_key "{C["lib_attribute"]}"\n'
                          f'  def token, do: System.get_env("CLIENT_TOKEN", "{C["lib_default"]}")\nend\n',
}

ENV_FILE = (f"SECRET_KEY_BASE={C['envfile_skb']}\nPHX_HOST=example.com\nDATABASE_URL=ecto://x\n"
            f"UNUSED_SECRET={C['envfile_unknown']}\nDATABSE_URL={C['envfile_typo']}\n")


class _Site(BaseHTTPRequestHandler):
    """A page behind a redirect that carries credentials in its query, with a session cookie."""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        if self.path == "/":
            self.send_response(302)
            self.send_header("Location", f"/login?token={C['redirect_token']}&sig={C['redirect_sig']}&next=/")
            self.end_headers()
            return
        body = (f'<html><head><meta name="csrf-token" content="{C["csrf"]}"></head>'
                "<body>login</body></html>").encode()
        self.send_response(200 if self.path.startswith("/login") else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Set-Cookie", f"_demo_key={C['cookie_value']}; path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("planted")
    for rel, body in PROJECT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body)
    (root / "prod.env").write_text(ENV_FILE)
    (root / "cookie").write_text(C["cluster_cookie"])
    return root


@dataclass(frozen=True)
class Command:
    name: str
    args: Callable[[Path, str], list[str]]  # (project, site URL) -> arguments
    formats: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


# One line per command; every format is run to stdout and to a file with -o.
COMMANDS = [
    Command("check", lambda p, u: ["check", str(p)], ("text", "json", "sarif", "html")),
    Command("env", lambda p, u: ["env", str(p)], ("text", "json", "dotenv-example")),
    Command("env check", lambda p, u: ["env", "check", str(p), "--env-file", str(p / "prod.env")],
            ("text", "json", "sarif", "html")),
    Command("probe", lambda p, u: ["probe", u, "--timeout", "3", "-H", f"Authorization: Bearer {C['header_token']}",
                                   "--cookie", f"session={C['cli_cookie']}"], ("text", "json", "sarif", "html")),
    Command("probe bad header", lambda p, u: ["probe", u, "-H", C["bad_header"]], ("text",)),
    Command("cluster", lambda p, u: ["cluster", "--hosts", "127.0.0.1", "--epmd-port", "1", "--timeout", "1",
                                     "--cookie-file", str(p / "cookie")], ("text", "json", "sarif", "html")),
    Command("cluster env cookie", lambda p, u: ["cluster", "--hosts", "127.0.0.1", "--epmd-port", "1",
                                                "--timeout", "1"], ("json",), (("RELEASE_COOKIE", C["release_cookie"]),)),
    Command("gen", lambda p, u: ["gen", "all", str(p)], ()),
]


def leaks(text: str) -> list[str]:
    """The canaries of which some 8 characters appear in `text`."""
    return [name for name, secret in C.items() if any(secret[i:i + 8] in text for i in range(len(secret) - 7))]


RUNS = [pytest.param(command, fmt, to_file, id=f"{command.name}-{fmt or 'default'}{'-o' if to_file else ''}")
        for command in COMMANDS for fmt in command.formats or (None,)
        for to_file in ((False, True) if fmt else (False,))]


@pytest.mark.parametrize("command, fmt, to_file", RUNS)
def test_no_canary_in_any_output(planted, site, tmp_path, monkeypatch, command, fmt, to_file):
    for name, value in command.env:
        monkeypatch.setenv(name, value)
    args = command.args(planted, site) + (["--format", fmt] if fmt else [])
    out = tmp_path / f"report.{fmt}"
    if to_file:
        args += ["-o", str(out)]
    result = invoke(args)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
    written = out.read_text() if to_file and out.exists() else ""
    assert not leaks(result.stdout), ("stdout", leaks(result.stdout))
    assert not leaks(result.stderr), ("stderr", leaks(result.stderr))
    assert not leaks(written), ("file", leaks(written))
    assert result.stdout or written or result.stderr  # it said something: a silent command proves nothing


def test_the_canaries_are_where_the_commands_look(planted):
    # Guard against a test that passes because nothing was read: the contract lists the planted reads.
    result = invoke(["env", str(planted), "--format", "json"])
    assert "BASIC_AUTH_PASSWORD" in result.stdout and "Application.put_env(:joken" in result.stdout
    assert "STRIPE_SECRET" in result.stdout
