"""How a deployed node is named and found, from the env file and the release alone: the deploy adds
only what the plan or the env file says (a colour to blue-green names) and works the rest out as the
release's bin script does, without booting a VM. Run with sh on a release-shaped directory."""

import subprocess

import pytest

from phoenix_ops.command import UsageError
from phoenix_ops.deploy.beam import parse_facts
from phoenix_ops.deploy.plan import plan_from
from phoenix_ops.deploy.remote import node_script, start_script

# mix release's default env.sh: everything commented out, so the bin script's defaults apply.
MIX_DEFAULT_ENV_SH = "#!/bin/sh\n# export RELEASE_DISTRIBUTION=name\n# export RELEASE_NODE=<%= @release.name %>\n"
# What `phoenix-ops gen` writes for hosts: long names on the host's name, unless the environment gives one.
GEN_ENV_SH = ('#!/bin/sh\nRELEASE_HOST="web-1.example"\nexport RELEASE_DISTRIBUTION="${RELEASE_DISTRIBUTION:-name}"\n'
              'export RELEASE_NODE="${RELEASE_NODE:-shop@${RELEASE_HOST}}"\n')


def plan(tmp_path, env: str | None):
    table = {"root": str(tmp_path / "srv"), "hosts": ["deploy@10.0.0.11"], "migrate": ""}
    if env is not None:
        (tmp_path / "prod.env").write_text(env)
        table["env-file"] = str(tmp_path / "prod.env")
    return plan_from(table)


def facts(tmp_path, env: str | None, color: str = "main", env_sh: str = MIX_DEFAULT_ENV_SH):
    p = plan(tmp_path, env)
    release = tmp_path / "srv" / "releases" / "0.2.0"
    (release / "releases" / "0.2.0").mkdir(parents=True, exist_ok=True)
    (release / "releases" / "start_erl.data").write_text("14.2.5 0.2.0")
    (release / "releases" / "COOKIE").write_text("the-build-cookie")
    (release / "releases" / "0.2.0" / "env.sh").write_text(env_sh)
    script = node_script(p, p.hosts[0], "shop", "0.2.0", color, 4000)
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=10, check=True,
                         env={"PATH": "/usr/bin:/bin"}).stdout
    return parse_facts(out)


def test_an_env_file_silent_on_distribution_leaves_the_release_default(tmp_path):
    got = facts(tmp_path, "SECRET_KEY_BASE=x\n")
    assert (got.distribution, got.node, got.epmd_port, got.cookie) == ("sname", "shop", 4369, "the-build-cookie")
    p = plan(tmp_path, "SECRET_KEY_BASE=x\n")
    assert "RELEASE_DISTRIBUTION=" not in start_script(p, p.hosts[0], "shop", "0.2.0", "main", 4000)


def test_what_the_env_file_says_wins(tmp_path):
    got = facts(tmp_path, "RELEASE_DISTRIBUTION=none\nRELEASE_COOKIE=from-env\nERL_EPMD_PORT=4400\n")
    assert (got.distribution, got.epmd_port, got.cookie) == ("none", 4400, "from-env")
    named = facts(tmp_path, "RELEASE_DISTRIBUTION=name\nRELEASE_NODE=shop@10.0.0.11\n")
    assert (named.distribution, named.node, named.address) == ("name", "shop@10.0.0.11", "10.0.0.11")


@pytest.mark.parametrize(("env", "env_sh", "main", "blue", "green"), [
    (None, MIX_DEFAULT_ENV_SH, "shop", "shop-blue", "shop-green"),  # the release's own default name, coloured
    ("RELEASE_NODE=shop@10.0.0.11\n", MIX_DEFAULT_ENV_SH, "shop@10.0.0.11", "shop-blue@10.0.0.11",
     "shop-green@10.0.0.11"),
    ("RELEASE_NODE=web\n", MIX_DEFAULT_ENV_SH, "web", "web-blue", "web-green"),
    (None, GEN_ENV_SH, "shop@web-1.example", "shop-blue", "shop-green"),  # env.sh's default gives way to the colour
])
def test_blue_and_green_on_one_host_get_distinct_node_names(tmp_path, env, env_sh, main, blue, green):
    assert [facts(tmp_path, env, c, env_sh).node for c in ("main", "blue", "green")] == [main, blue, green]


def test_the_session_gate_page_is_a_plan_setting(tmp_path):
    table = {"root": "/srv/shop", "hosts": ["deploy@10.0.0.11"]}
    assert plan_from(table).session_page == "/"
    assert plan_from(table | {"session-page": "/login"}).session_page == "/login"
    with pytest.raises(UsageError, match="session-page"):
        plan_from(table | {"session-page": "login"})
