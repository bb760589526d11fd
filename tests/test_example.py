"""The embedded example project: its exact findings, through the command line."""

import json
from pathlib import Path

from typer.testing import CliRunner

from phoenix_ops.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop"

EXPECTED = [
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
    ("DEP020", "fly.toml", 1),
    ("DEP021", "fly.toml", 1),
    ("DEP028", "fly.toml", 1),
    ("DEP053", "fly.toml", 1),
    ("REL050", "fly.toml", 1),
    ("REL050", "fly.toml", 1),
]


def test_example_findings_are_exactly_the_planted_pitfalls():
    result = CliRunner().invoke(app, ["check", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    got = sorted((f["rule_id"], f["location"]["path"], f["location"]["line"]) for f in doc["findings"])
    assert got == sorted(EXPECTED)
    assert doc["summary"] == {"error": 7, "warning": 7, "info": 5}


def test_example_never_prints_its_secrets():
    result = CliRunner().invoke(app, ["check", str(EXAMPLE)])
    for secret in ("shop-cluster-cookie-2024", "sk_test_not_a_real_key_for_the_demo", "change-me-in-production"):
        assert secret not in result.stdout
