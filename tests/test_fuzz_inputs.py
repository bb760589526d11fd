"""Property-based fuzzing: config files and mix.exs built from a grammar of Elixir, and real-shaped
files mutated at random, each audited by the real command line in a subprocess under limits.

Whatever the input: exit 0, 1 or 2; valid JSON on 0 and 1; no traceback; within the CPU and memory
bounds (tests/bounded.py). About a minute in all: each example is a fresh interpreter.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bounded import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_shapes import GOOD

FUZZ = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- a grammar of the Elixir config files use ------------------------------------------------------
names = st.sampled_from(["a", "b", "host", "port", "x", "url", "pool", "secret_key_base", "_"])
env_names = st.sampled_from(["DATABASE_URL", "PORT", "PHX_HOST", "SECRET_KEY_BASE", "POOL_SIZE", "X"])
atoms = st.sampled_from([":demo", ":prod", ":dev", ":inet6", "DemoWeb.Endpoint", "Demo.Repo", ":ecto_repos"])
numbers = st.one_of(st.integers(-10**6, 10**6).map(str), st.sampled_from([
    "1" + "0" * 400, "1" + "0" * 4400, "1.0e308", "0x7FFF", "1_000", "0.0", "-0"]))
strings = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\#'), max_size=12).map(lambda s: f'"{s}"'),
    st.sampled_from(['"#{a}"', '~w(a b c)a', '~s(x)', "'chars'", '"\\n"', '"""\nheredoc\n"""', '"#{"', '~r/x+/']))
leaves = st.one_of(numbers, strings, atoms, names, st.sampled_from(["nil", "true", "false", "config_env()", "Mix.env()"]),
                   env_names.map(lambda n: f'System.get_env("{n}")'), env_names.map(lambda n: f'System.fetch_env!("{n}")'))


def _compound(inner):
    return st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(names, inner), min_size=1, max_size=4).map(
            lambda kv: "[" + ", ".join(f"{k}: {v}" for k, v in kv) + "]"),
        st.lists(inner, max_size=3).map(lambda xs: "{" + ", ".join(xs) + "}"),
        st.tuples(inner, st.sampled_from(["||", "&&", "++", "<>", "*", "/", "+", "==", "!=", "in", "|>"]), inner)
        .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(inner, inner, inner).map(lambda t: f"if {t[0]}, do: {t[1]}, else: {t[2]}"),
        inner.map(lambda x: f"String.to_integer({x})"),
        st.tuples(names, inner).map(lambda t: f"Enum.map({t[1]}, fn {t[0]} -> {t[0]} end)"),
        st.tuples(inner, st.integers(1, 400)).map(lambda t: "[" * t[1] + t[0] + "]" * t[1]),
    )


expressions = st.recursive(leaves, _compound, max_leaves=12)


def _block(statement):
    return st.one_of(
        st.tuples(expressions, st.lists(statement, max_size=3)).map(
            lambda t: f"if {t[0]} do\n" + "\n".join(t[1]) + "\nend"),
        st.tuples(expressions, st.lists(st.tuples(expressions, statement), min_size=1, max_size=3)).map(
            lambda t: f"case {t[0]} do\n" + "\n".join(f"  {p} -> {s}" for p, s in t[1]) + "\nend"),
        st.tuples(names, expressions, st.lists(statement, max_size=2), st.integers(1, 6)).map(
            lambda t: f"for {t[0]} <- {t[1]} do\n" * t[3] + "\n".join(t[2]) + "\nend" * t[3]),
        st.tuples(st.lists(statement, max_size=3), st.integers(1, 30)).map(lambda t: "\n".join(t[0]) * t[1]),
    )


simple_statements = st.one_of(
    st.tuples(atoms, atoms, expressions).map(lambda t: f"config :demo, {t[1]}, {t[2]}"),
    st.tuples(names, expressions).map(lambda t: f"config :demo, {t[0]}: {t[1]}"),
    st.tuples(names, expressions).map(lambda t: f"{t[0]} = {t[1]}"),
    st.sampled_from(['import_config "#{config_env()}.exs"', 'import_config "*.exs"', 'import_config "extra.exs"',
                     'Application.put_env(:demo, :k, "v")', "MyApp.Config.load!()", "Dotenvy.source!([\".env\"])"]),
)
statements = st.recursive(simple_statements, _block, max_leaves=10)
config_files = st.lists(statements, min_size=1, max_size=8).map(lambda ss: "import Config\n" + "\n".join(ss) + "\n")

mix_files = st.tuples(st.lists(st.tuples(names, expressions), max_size=5), st.integers(0, 12), expressions).map(
    lambda t: "defmodule Demo.MixProject do\n  use Mix.Project\n  def project do\n    [app: :demo, deps: deps(), "
    + ", ".join(f"{k}: {v}" for k, v in t[0]) + (", " if t[0] else "") + "extra: f0()]\n  end\n"
    + "".join(f"  defp f{i}, do: [f{i + 1}(), f{i + 1}(), {t[2]}]\n" for i in range(t[1]))
    + f"  defp f{t[1]}, do: {t[2]}\n"
    + '  defp deps, do: [{:phoenix, "~> 1.7"}, {:ecto_sql, "~> 3.10"}]\nend\n')

# -- mutations of real-shaped files ---------------------------------------------------------------
NASTY = ["do", "end", "[", "]", "{", "}", "(", '"', "'", "#{", "||", "<>", "++", "1e999", "9" * 5000, "fn", "->",
         "import_config \"*.exs\"", "\\", "\x00", "\ufeff", "%{", "~s(", "@x", "unquote(x)", "&(&1)", "\n" * 3]


@st.composite
def mutated(draw):
    rel = draw(st.sampled_from(sorted(p for p in GOOD if p.endswith((".exs", ".ex")))))
    body = GOOD[rel]
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(body)))
        kind = draw(st.sampled_from(["insert", "delete", "repeat"]))
        if kind == "insert":
            body = body[:at] + draw(st.sampled_from(NASTY)) + body[at:]
        elif kind == "delete":
            body = body[:at] + body[at + draw(st.integers(1, 40)):]
        else:
            piece = body[at:at + draw(st.integers(1, 60))]
            body = body[:at] + piece * draw(st.integers(2, 200)) + body[at:]
    return {rel: body}


def _audit(files: dict[str, str], command: str = "check") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, body in {**GOOD, **files}.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(body.encode("utf-8", "surrogatepass"))
        run = run_cli(command, root, "--format", "json")
    assert run.answered, (run.code, run.stderr[-3000:], files)
    assert run.within_bounds, (run.cpu, run.peak_mb, files)
    if run.code in (0, 1):
        json.loads(run.stdout)


@FUZZ
@given(config_files, config_files)
def test_generated_config(prod, runtime):
    _audit({"config/prod.exs": prod, "config/runtime.exs": "import Config\n" + runtime, "config/extra.exs": prod})


@FUZZ
@given(mix_files)
def test_generated_mix_exs(mix):
    _audit({"mix.exs": mix})


@FUZZ
@given(mutated(), st.sampled_from(["check", "env"]))
def test_mutated_real_files(files, command):
    _audit(files, command)
