"""The part of `gen release` that completes config/runtime.exs: only the settings prod is missing.

Each missing piece is judged on the evaluated config (what prod reads at boot), never on the text,
and the lines go where a person would put them: the PHX_SERVER switch after `import Config`, the rest
at the end of the `if config_env() == :prod do` block (one is added when there is none).
"""

from __future__ import annotations

from phoenix_ops.elixir.parser import parse
from phoenix_ops.elixir.syntax import call_args, call_parts, do_block
from phoenix_ops.elixir.values import Lit, Value, plain, truthy
from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.plan import Change
from phoenix_ops.project import Project

SERVER_BLOCK = """if System.get_env("PHX_SERVER") do
  config :{app}, {endpoint}, server: true
end
"""


def _runtime_values(history: list[Value]) -> list[Value]:
    return [v for v in history if v.origin is not None and v.origin.phase == "runtime"]


def _from_env(history: list[Value]) -> bool:
    """Read from the environment at boot, or computed by code the evaluator cannot see through (then
    it is unknown, not missing: a generator must not add a second, conflicting setting)."""
    return any(v.reads() or not isinstance(v, Lit) for v in _runtime_values(history))


def _only_under_conditions(history: list[Value]) -> bool:
    runtime = _runtime_values(history)
    return bool(runtime) and all(v.conditional for v in runtime)


def _required(var: str, line: str, example: str) -> str:
    return (f'  {var} =\n    System.get_env("{line}") ||\n      raise """\n'
            f'      environment variable {line} is missing.\n      {example}\n      """\n')


def _config(app: str, module: str, keys: list[str]) -> str:
    """A `config` call laid out as `mix format` would: on one line when it fits in 98 columns."""
    one = f"  config :{app}, {module}, " + ", ".join(k.strip() for k in keys)
    if len(keys) == 1 and len(one) <= 98:
        return one + "\n"
    return f"  config :{app}, {module},\n" + ",\n".join(keys) + "\n"


def _prod_lines(project: Project, facts: AppFacts) -> list[str]:
    view = project.config("prod")
    parts: list[str] = []
    for repo in (r for r in project.repos if r.networked and not r.reads_env_in_init):
        key = (repo.otp_app, repo.module)
        # A repo configured only when a condition holds (`if url = System.get_env(...)`): a setting
        # added outside it would configure the repo where the app leaves it off.
        if _only_under_conditions(view.history(*key, "url") + view.history(*key, "hostname")):
            break
        keys = []
        if not (_from_env(view.history(*key, "url")) or _from_env(view.history(*key, "hostname"))):
            parts.append(_required("database_url", "DATABASE_URL", "For example: ecto://USER:PASS@HOST/DATABASE"))
            keys.append("    url: database_url")
        if not _from_env(view.history(*key, "pool_size")):
            keys.append('    pool_size: String.to_integer(System.get_env("POOL_SIZE") || "10")')
        if not _runtime_values(view.history(*key, "socket_options")):
            parts.append('  maybe_ipv6 = if System.get_env("ECTO_IPV6") in ~w(true 1), do: [:inet6], else: []\n')
            keys.append("    socket_options: maybe_ipv6")
        if keys:
            parts.append(_config(repo.otp_app, repo.module, keys))
        break  # one DATABASE_URL: further repos have names of their own that only their owner knows
    for app, endpoint in project.endpoint_keys()[:1]:
        keys = []
        if not _runtime_values(view.history(app, endpoint, "secret_key_base")):
            parts.append(_required("secret_key_base", "SECRET_KEY_BASE",
                                   "You can generate one by calling: mix phx.gen.secret"))
            keys.append("    secret_key_base: secret_key_base")
        if not _from_env(view.history(app, endpoint, "url", "host")):
            parts.append(_required("host", "PHX_HOST", "The public host name, for example: www.example.com"))
            keys.append('    url: [host: host, port: 443, scheme: "https"]')
        if not _from_env(view.history(app, endpoint, "http", "port")):
            parts.append('  port = String.to_integer(System.get_env("PORT") || "4000")\n')
            keys.append("    http: [ip: {0, 0, 0, 0, 0, 0, 0, 0}, port: port]")
        if keys:
            parts.append(_config(app, endpoint, keys))
    return parts


def _serves(project: Project) -> bool:
    """Whether prod starts every endpoint's server already (on, read from the environment, or computed)."""
    view = project.config("prod")
    if any(truthy(plain(v)) for v in view.history("phoenix", "serve_endpoints")):
        return True
    return all(any(truthy(plain(v)) or not isinstance(v, Lit) for v in view.history(app, endpoint, "server"))
               for app, endpoint in project.endpoint_keys())


def runtime_patch(project: Project, facts: AppFacts) -> Change | None:
    path = f"{project.config_dir}/runtime.exs"
    old = project.text(path)
    endpoints = project.endpoint_keys()
    server = None if _serves(project) or not endpoints else \
        SERVER_BLOCK.format(app=endpoints[0][0], endpoint=endpoints[0][1])
    prod = _prod_lines(project, facts)
    if server is None and not prod:
        return None
    text = old if old is not None else "import Config\n"
    if server:
        text = _after_import(text, server)
    if prod:
        text = _into_prod_block(text, "\n".join(prod))
    what = ", ".join(filter(None, ["PHX_SERVER" if server else "", "prod settings from the environment" if prod
                                   else ""]))
    return Change(path, text, old, f"reads {what} at boot", patch=old is not None)


def _after_import(text: str, block: str) -> str:
    lines = text.splitlines(keepends=True)
    at = next((i + 1 for i, line in enumerate(lines) if line.strip() in ("import Config", "use Mix.Config")), 0)
    return "".join(lines[:at]) + "\n" + block + "".join(lines[at:])


def _into_prod_block(text: str, body: str) -> str:
    end = _prod_block_end(text)
    if end is None:
        return text.rstrip("\n") + "\n\nif config_env() == :prod do\n" + body + "end\n"
    lines = text.splitlines(keepends=True)
    return "".join(lines[:end]) + "\n" + body + "".join(lines[end:])


def _prod_block_end(text: str) -> int | None:
    """The 0-based line of the `end` closing the top-level `if config_env() == :prod do`."""
    tree = parse(text.encode())
    for node in tree.root_node.named_children:
        if call_parts(node) != (None, "if"):
            continue
        args = call_args(node)
        condition = args[0].text.decode() if args and args[0].text else ""
        block = do_block(node)
        if block is not None and "config_env()" in condition and ":prod" in condition and "!=" not in condition:
            return block.end_point[0]
    return None
