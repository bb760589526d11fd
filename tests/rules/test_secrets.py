"""SEC rules: committed, weak, per-node and orphaned secrets."""

from project_shapes import GOOD, ids

GOOD_RUNTIME = GOOD["config/runtime.exs"]
REQUIRED_SKB = '''  secret_key_base =
    System.get_env("SECRET_KEY_BASE") ||
      raise """
      environment variable SECRET_KEY_BASE is missing.
      """'''
LONG = "k" * 64


def with_skb(expr: str) -> str:
    assert REQUIRED_SKB in GOOD_RUNTIME
    return GOOD_RUNTIME.replace(REQUIRED_SKB, f"  secret_key_base = {expr}")


def test_sec001_literal_secret_key_base_in_prod(make_project, findings):
    prod = f'import Config\nconfig :demo, DemoWeb.Endpoint, secret_key_base: "{LONG}"\n'
    runtime = GOOD_RUNTIME.replace("secret_key_base: secret_key_base", "server: true")
    got = findings(make_project({"config/prod.exs": prod, "config/runtime.exs": runtime}), "SEC001")
    assert [(f.rule_id, f.location.path, f.location.line) for f in got] == [("SEC001", "config/prod.exs", 2)]
    assert LONG not in got[0].message and LONG not in got[0].hint


def test_sec001_db_password_and_url_password(make_project, findings):
    prod = ('import Config\nconfig :demo, Demo.Repo, password: "hunter2hunter2"\n'
            'config :demo, Demo.Other, url: "ecto://app:s3cr3t@db.internal/app"\n')
    got = findings(make_project({"config/prod.exs": prod}), "SEC001")
    assert sorted(f.key for f in got) == ["Demo.Other.url", "Demo.Repo.password"]


def test_sec001_ignores_salts_dev_config_and_env_placeholders(make_project, findings):
    # Signing salts, dev.exs passwords and REPLACE_OS_VARS placeholders are no findings.
    prod = 'import Config\nconfig :demo, Demo.Repo, password: "${DB_PASSWORD}"\n'
    assert ids(findings(make_project({"config/prod.exs": prod}), "SEC001")) == []


def test_sec001_erlang_cookie_in_env_sh_and_mix_releases(make_project, findings):
    env_sh = "#!/bin/sh\nexport RELEASE_DISTRIBUTION=name\nexport RELEASE_COOKIE=our-shared-cookie\n"
    got = findings(make_project({"rel/env.sh.eex": env_sh}), "SEC001")
    assert [(f.location.path, f.location.line) for f in got] == [("rel/env.sh.eex", 3)]
    mix = GOOD["mix.exs"].replace("deps: deps()]", 'deps: deps(), releases: [demo: [cookie: "cookie-in-mix"]]]')
    got = findings(make_project({"mix.exs": mix, "rel/env.sh.eex": None}), "SEC001")
    assert [f.location.path for f in got] == ["mix.exs"] and "cookie" in got[0].message
    from_env = "#!/bin/sh\nexport RELEASE_COOKIE=${RELEASE_COOKIE:-}\n"
    assert ids(findings(make_project({"rel/env.sh.eex": from_env, "mix.exs": GOOD["mix.exs"]}), "SEC001")) == []


def test_sec002_literal_fallback(make_project, findings):
    runtime = with_skb(f'System.get_env("SECRET_KEY_BASE") || "{LONG}"')
    got = findings(make_project({"config/runtime.exs": runtime}), "SEC002")
    assert ids(got) == ["SEC002"] and "SECRET_KEY_BASE" in got[0].message
    runtime = with_skb(f'System.get_env("SECRET_KEY_BASE", "{LONG}")')
    assert ids(findings(make_project({"config/runtime.exs": runtime}), "SEC002")) == ["SEC002"]


def test_sec002_literal_in_config_kept_when_runtime_override_is_conditional(make_project, findings):
    config = GOOD["config/config.exs"].replace('url: [host: "localhost"]',
                                               f'url: [host: "localhost"], secret_key_base: "{LONG}"')
    runtime = GOOD_RUNTIME.replace(REQUIRED_SKB, "").replace(
        "    secret_key_base: secret_key_base\n", "").replace("http: [ip: {0, 0, 0, 0, 0, 0, 0, 0}, port: port],",
                                                             "http: [ip: {0, 0, 0, 0, 0, 0, 0, 0}, port: port]")
    runtime += ('\nif skb = System.get_env("SECRET_KEY_BASE") do\n'
                '  config :demo, DemoWeb.Endpoint, secret_key_base: skb\nend\n')
    got = findings(make_project({"config/config.exs": config, "config/runtime.exs": runtime}), "SEC002")
    assert [(f.rule_id, f.location.path) for f in got] == [("SEC002", "config/config.exs")]
    assert "unless SECRET_KEY_BASE is set" in got[0].message


def test_sec003_generated_at_boot(make_project, findings):
    runtime = with_skb(":crypto.strong_rand_bytes(64) |> Base.encode64()")
    assert ids(findings(make_project({"config/runtime.exs": runtime}), "SEC003")) == ["SEC003"]


def test_sec004_short_secret_key_base_prod_only(make_project, findings):
    runtime = with_skb('System.get_env("SECRET_KEY_BASE") || "too-short"')
    got = findings(make_project({"config/runtime.exs": runtime}), "SEC004")
    assert ids(got) == ["SEC004"] and "9 bytes" in got[0].message
    # dev.exs holds a short secret in GOOD: it never reaches prod.
    assert ids(findings(make_project(), "SEC004")) == []


def test_sec005_tracked_env_file(make_project, findings):
    env = "PHX_HOST=shop.test\nSTRIPE_API_KEY=sk_live_abcdefgh\n# comment\nDATABASE_URL=ecto://u:pw@db/x\n"
    got = findings(make_project({".env": env, ".env.example": "STRIPE_API_KEY=sk_live_abcdefgh\n"}, git=True),
                   "SEC005")
    assert [(f.location.path, f.location.line, f.key) for f in got] == [
        (".env", 2, "STRIPE_API_KEY"), (".env", 4, "DATABASE_URL")]


def test_sec005_untracked_env_file_is_fine(make_project, findings):
    project = make_project({".env": "STRIPE_API_KEY=sk_live_abcdefgh\n"})
    assert ids(findings(project, "SEC005")) == []


def test_sec006_orphan_secret_file(make_project, findings):
    orphan = 'import Config\nconfig :demo, Demo.Repo, password: System.get_env("DB_PASSWORD")\n'
    got = findings(make_project({"config/prod.secret.exs": orphan}), "SEC006")
    assert [f.location.path for f in got] == ["config/prod.secret.exs"]
    prod = GOOD["config/prod.exs"] + 'import_config "prod.secret.exs"\n'
    assert ids(findings(make_project({"config/prod.secret.exs": orphan, "config/prod.exs": prod}), "SEC006")) == []


def test_sec001_url_keys_and_cookie_names(make_project, findings):
    prod = ('import Config\nconfig :demo, :redis_url, "redis://:pw-in-url@cache:6379"\n'
            'config :demo, :session_cookie, "_demo_key"\n'
            'config :demo, Demo.Guardian, secret_key: "guardian-secret-value"\n'
            'config :demo, :public_url, "https://cdn.example.com/assets"\n')
    got = findings(make_project({"config/prod.exs": prod}), "SEC001")
    assert sorted(f.key for f in got) == ["Demo.Guardian.secret_key", "redis_url"]


def test_public_keys_and_placeholder_fallbacks(make_project, findings):
    prod = ('import Config\nconfig :demo, :stripe, publishable_key: "pk_live_abcdefghijklmnop", '
            'api_key: "pk_test_0123456789"\nconfig :demo, :posthog, api_key: "phc_abcdefghijklmnop"\n')
    assert ids(findings(make_project({"config/prod.exs": prod}), "SEC001")) == []
    runtime = GOOD_RUNTIME + '\nconfig :demo, :mailer, api_key: System.get_env("MAILER_KEY") || "This is not a secret"\n'
    got = findings(make_project({"config/runtime.exs": runtime}), "SEC002")
    assert [(f.severity.label, f.confidence.label) for f in got] == [("warning", "medium")]
    assert "placeholder" in got[0].message


def test_secret_overridden_by_unreadable_runtime_config_is_reported_at_low_confidence(make_project, findings):
    prod = f'import Config\nconfig :demo, DemoWeb.Endpoint, secret_key_base: "{LONG}"\n'
    runtime = GOOD_RUNTIME.replace("secret_key_base: secret_key_base", "server: true") + \
        "\nconfig :demo, DemoWeb.Endpoint, Demo.Config.endpoint_options()\n"
    (got,) = findings(make_project({"config/prod.exs": prod, "config/runtime.exs": runtime}), "SEC001")
    assert got.confidence.label == "low" and "cannot read" in got.message
    assert got.location.path == "config/prod.exs"


def test_a_condition_on_a_variable_s_value_is_quoted_not_read_as_its_presence(make_project, findings):
    config = GOOD["config/config.exs"] + f'config :demo, DemoWeb.Endpoint, secret_key_base: "{LONG}"\n'
    runtime = GOOD_RUNTIME.replace(REQUIRED_SKB, '  secret_key_base = System.fetch_env!("SECRET_KEY_BASE")').replace(
        "    secret_key_base: secret_key_base\n", "    server: true\n") + \
        'role = System.get_env("ROLE", "all")\nif role in ["all", "web"] do\n' \
        '  config :demo, DemoWeb.Endpoint, secret_key_base: secret_key_base\nend\n'
    (got,) = findings(make_project({"config/config.exs": config, "config/runtime.exs": runtime}), "SEC002")
    assert got.message.endswith('keeps the literal from config/config.exs:6 unless role in ["all", "web"] (ROLE)')


def test_a_nil_check_on_the_value_read_is_a_presence_test(make_project, findings):
    config = GOOD["config/config.exs"] + f'config :demo, DemoWeb.Endpoint, secret_key_base: "{LONG}"\n'
    runtime = GOOD_RUNTIME.replace(REQUIRED_SKB, "").replace("    secret_key_base: secret_key_base\n", "") + \
        'drop_nil = fn kv -> Enum.filter(kv, fn {_k, v} -> v !== nil end) end\n' \
        'config :demo, DemoWeb.Endpoint, drop_nil.(secret_key_base: System.get_env("SECRET_KEY_BASE"))\n'
    got = findings(make_project({"config/config.exs": config, "config/runtime.exs": runtime}), "SEC002")
    assert [f.message.split("unless ")[-1] for f in got if "keeps the literal" in f.message] == \
        ["SECRET_KEY_BASE is set"]
    runtime = runtime.replace("v !== nil", 'v not in [nil, ""]')
    got = findings(make_project({"config/config.exs": config, "config/runtime.exs": runtime}), "SEC002")
    assert [f.message.split("unless ")[-1] for f in got if "keeps the literal" in f.message] == \
        ["SECRET_KEY_BASE is set"]


def test_a_provider_test_key_kept_unless_a_variable_is_set_is_a_placeholder(make_project, findings):
    config = GOOD["config/config.exs"] + 'config :demo, Demo.Captcha, secret_key: "0x' + "0" * 40 + '"\n'
    runtime = GOOD_RUNTIME + 'if System.get_env("CAPTCHA_SECRET") do\n' \
                             '  config :demo, Demo.Captcha, secret_key: System.get_env("CAPTCHA_SECRET")\nend\n'
    (got,) = findings(make_project({"config/config.exs": config, "config/runtime.exs": runtime}), "SEC002")
    assert got.severity.label == "warning" and "keeps the placeholder from config/config.exs" in got.message
    real = config.replace("0x" + "0" * 40, "sk_live_" + "Zq8vR2mXk4Lp7Tn1Wc5Yb3Hd6Gf9Js0A")
    (got,) = findings(make_project({"config/config.exs": real, "config/runtime.exs": runtime}), "SEC002")
    assert got.severity.label == "error" and "keeps the literal" in got.message


def test_literal_in_config_exs_with_a_condition_that_names_no_variable(make_project, findings):
    config = GOOD["config/config.exs"] + f'config :demo, DemoWeb.Endpoint, secret_key_base: "{LONG}"\n'
    runtime = GOOD_RUNTIME.replace(REQUIRED_SKB, '  secret_key_base = System.fetch_env!("SECRET_KEY_BASE")').replace(
        "    secret_key_base: secret_key_base\n", "    server: true\n") + \
        'if Demo.Vault.enabled?() do\n  config :demo, DemoWeb.Endpoint, secret_key_base: secret_key_base\nend\n'
    (got,) = findings(make_project({"config/config.exs": config, "config/runtime.exs": runtime}), "SEC002")
    assert got.location.path == "config/config.exs" and "unless Demo.Vault.enabled?()" in got.message
    assert got.confidence.label == "medium"


NESTED = '''
  secret_key_base =
    if System.get_env("VAULT_ADDR") do
      Demo.Vault.read!("secret_key_base")
    else
      System.get_env("SECRET_KEY_BASE") || "%s"
    end''' % LONG


def test_nested_conditional_names_the_condition_of_the_literal(make_project, findings):
    runtime = GOOD_RUNTIME.replace(REQUIRED_SKB, NESTED)
    (got,) = findings(make_project({"config/runtime.exs": runtime}), "SEC002")
    assert got.message == ('DemoWeb.Endpoint.secret_key_base falls back to a committed literal when SECRET_KEY_BASE is unset, '
                           'if not System.get_env("VAULT_ADDR")')
    assert got.severity.label == "error"


def test_statement_level_branch_with_a_literal_names_its_condition(make_project, findings):
    runtime = GOOD_RUNTIME + f'''
if System.get_env("STAGING") == "true" do
  config :demo, DemoWeb.Endpoint, secret_key_base: "{LONG}"
end
'''
    (got,) = findings(make_project({"config/runtime.exs": runtime}), "SEC002")
    assert got.message.endswith('when System.get_env("STAGING") == "true"')


def test_case_with_a_literal_clause(make_project, findings):
    runtime = with_skb(f'case System.get_env("SECRET_KEY_BASE") do\n nil -> "{LONG}"\n value -> value\n end')
    (got,) = findings(make_project({"config/runtime.exs": runtime}), "SEC002")
    assert 'case System.get_env("SECRET_KEY_BASE") -> nil' in got.message


def test_fallback_severity_follows_what_the_fallback_is(make_project, findings):
    dev = with_skb('System.fetch_env!("SECRET_KEY_BASE")').replace(
        "url: database_url", 'url: System.get_env("DATABASE_URL", "ecto://postgres:postgres@localhost/demo_dev")')
    (got,) = findings(make_project({"config/runtime.exs": dev}), "SEC002")
    assert (got.severity.label, got.confidence.label) == ("warning", "medium")
    real = dev.replace("postgres:postgres@localhost", "app:Xq9vT2pLm4@db.internal")
    (got,) = findings(make_project({"config/runtime.exs": real}), "SEC002")
    assert got.severity.label == "error"


def test_sec003_a_helper_generating_the_fallback(make_project, findings):
    runtime = "defmodule Demo.Secrets do\n  def random(n), do: :crypto.strong_rand_bytes(n) |> Base.encode64()\nend\n" + \
        with_skb('System.get_env("SECRET_KEY_BASE", Demo.Secrets.random(64))')
    (got,) = findings(make_project({"config/runtime.exs": runtime}), "SEC003")
    assert "falls back to a value generated at boot when SECRET_KEY_BASE is unset" in got.message


def test_sec007_secret_read_at_compile_time_is_apart_from_a_plain_read(make_project, findings):
    prod = ('import Config\nconfig :demo, Demo.Mailer, api_key: System.get_env("MAILGUN_API_KEY")\n'
            'config :demo, :region, System.get_env("REGION")\n')
    project = make_project({"config/prod.exs": prod})
    (secret,) = findings(project, "SEC007")
    assert secret.key == "MAILGUN_API_KEY" and secret.severity.label == "error"
    assert [f.key for f in findings(project, "REL003")] == ["REGION"]
    assert findings(make_project(), "SEC007") == []


def test_sec003_ignores_the_words_in_a_raise_message(make_project, findings):
    runtime = with_skb('System.get_env("SECRET_KEY_BASE") || System.get_env("CI") || '
                       'raise "missing: generate one with mix phx.gen.secret or :crypto.strong_rand_bytes"')
    assert ids(findings(make_project({"config/runtime.exs": runtime}), "SEC003")) == []


def test_a_snake_case_placeholder_fallback_is_a_placeholder(fresh_project, findings):
    runtime = GOOD_RUNTIME + '\nconfig :demo, Demo.Superset, password: System.get_env("SUPERSET_PASSWORD", ' \
        '"this_is_not_a_password")\n'
    (got,) = findings(fresh_project({"config/runtime.exs": runtime}), "SEC002")
    assert (got.severity.label, got.confidence.label) == ("warning", "medium") and "placeholder" in got.message
