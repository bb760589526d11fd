"""The embedded example project: its exact findings, through the command line."""

import json
from pathlib import Path

from cli_run import invoke

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop"

EXPECTED = [
    ("AST004", "lib/shop_web/endpoint.ex", 15),
    ("CLU005", "lib/shop/application.ex", 12),
    ("CLU008", "fly.toml", 1),
    ("HLT002", "lib/shop_web/router.ex", 25),
    ("JOB002", "lib/shop/application.ex", 13),
    ("JOB004", "config/config.exs", 22),
    ("JOB006", "config/config.exs", 23),
    ("JOB007", "config/config.exs", 23),
    ("JOB008", "fly.toml", 1),
    ("OBS001", "mix.exs", 1),
    ("OBS002", "mix.exs", 1),
    ("OBS003", "mix.exs", 1),
    ("OBS007", "mix.exs", 1),
    ("REL001", "config/runtime.exs", 1),
    ("REL003", "config/prod.exs", 9),
    ("REL004", "config/runtime.exs", 20),
    ("REL005", "config/prod.exs", 5),
    ("REL008", "config/runtime.exs", 13),
    ("REL009", "config/runtime.exs", 5),
    ("REL010", "config/runtime.exs", 5),
    ("REL011", "mix.exs", 1),
    ("SEC001", "rel/env.sh.eex", 5),
    ("SEC002", "config/runtime.exs", 15),
    ("SEC004", "config/runtime.exs", 15),
    ("SEC005", ".env", 3),
    ("SEC006", "config/prod.secret.exs", 1),
    ("WEB002", "config/runtime.exs", 20),
    ("WEB004", "lib/shop_web/endpoint.ex", 12),
    ("WEB011", "lib/shop_web/endpoint.ex", 4),
    ("WEB013", "lib/shop_web/router.ex", 9),
    ("DEP020", "fly.toml", 1),
    ("DEP021", "fly.toml", 1),
    ("DEP028", "fly.toml", 1),
    ("REL050", "fly.toml", 1),
    ("REL050", "fly.toml", 1),
]


def test_example_findings_are_exactly_the_planted_pitfalls():
    result = invoke(["check", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    got = sorted((f["rule_id"], f["location"]["path"], f["location"]["line"]) for f in doc["findings"])
    assert got == sorted(EXPECTED)
    assert doc["summary"] == {"error": 8, "warning": 13, "info": 14}


def test_example_never_prints_its_secrets():
    result = invoke(["check", str(EXAMPLE)])
    for secret in ("shop-cluster-cookie-2024", "sk_test_not_a_real_key_for_the_demo", "change-me-in-production"):
        assert secret not in result.stdout
