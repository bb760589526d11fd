"""What `deploy` does on a host, as short shell programs run over SSH (asyncssh), each bounded in time.

A host keeps releases/<version>/ unpacked, a `current` link, and per colour (`main`, or `blue`/`green`
for blue-green) a pid file, the version it runs and its log. The release runs under setsid, so a stop
reaches its whole process group.
"""

from __future__ import annotations

import asyncio
import shlex

from phoenix_ops.deploy.plan import Host, Plan
from phoenix_ops.record import record

COMMAND_TIMEOUT = 120.0
# A host that stops answering (powered off, cut off) is noticed within interval x count, whatever the
# command it was running: a stop may legitimately take minutes, a silent connection may not.
KEEPALIVE_SECONDS, KEEPALIVE_COUNT = 5.0, 3
CLOSE_TIMEOUT = 5.0
DRAIN_SECONDS = 5.0  # the longest a drained node's port may keep receiving new connections before SIGTERM
MAIN_COLOR = "main"  # the one node of a host outside blue-green
QUIET_SECONDS = 0.2  # this long without a new connection: the balancer sends the node nothing new
# `alive PID`: the process runs. One that exited but is not reaped yet (a zombie, until init gets to
# it; some container inits take seconds) answers `kill -0` all the same, so its state is read too.
ALIVE = ('alive() { kill -0 "$1" 2>/dev/null || return 1; s=; { read -r s < "/proc/$1/stat"; } 2>/dev/null; '
         'case "$s" in *") Z "*) return 1 ;; esac; }; ')


class RemoteError(RuntimeError):
    """A step failed on a host: the message says which and why."""


@record
class Session:
    host: Host
    conn: object  # asyncssh.SSHClientConnection
    lost: bool = False  # a command found the connection gone, or the host silent past its bound

    async def run(self, script: str, timeout: float = COMMAND_TIMEOUT, stdin: str | None = None,
                  input: bytes | None = None) -> str:
        """The script's output; `stdin` names a local file fed to it (a tarball for tar), `input` is
        fed from memory."""
        import asyncssh
        feed = {"stdin": stdin} if stdin else {"input": input} if input is not None else {}
        try:
            result = await asyncio.wait_for(self.conn.run(script, check=False, **(
                feed | {"encoding": None} if feed else {})), timeout)
        except asyncio.TimeoutError:
            self.lost = True
            raise RemoteError(f"{self.host.label}: no answer within {timeout:g} s") from None
        except (OSError, asyncssh.Error) as exc:
            self.lost = True
            raise RemoteError(f"{self.host.label}: connection lost ({exc})") from None
        out, err = (x.decode(errors="replace") if isinstance(x, bytes) else x or ""
                    for x in (result.stdout, result.stderr))
        if result.exit_status is None:  # the channel closed under the command: keepalive gave up, or the peer left
            self.lost = True
            raise RemoteError(f"{self.host.label}: connection lost (the command ended without an exit status)")
        if result.exit_status != 0:
            said = (err or out).strip().splitlines()[-1:] or ["no output"]
            raise RemoteError(f"{self.host.label}: exit {result.exit_status}: {said[0][:300]}")
        return out

    async def close(self) -> None:
        """Bounded: a host that went silent never acknowledges the close; one known lost is not waited for."""
        if self.lost:
            self.conn.abort()
            return
        self.conn.close()
        try:
            await asyncio.wait_for(self.conn.wait_closed(), CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            pass


async def connect(host: Host, *, known_hosts: str | None, identity: str | None, timeout: float = 10.0) -> Session:
    import asyncssh
    options = {"known_hosts": known_hosts} if known_hosts else {}
    options |= {"keepalive_interval": KEEPALIVE_SECONDS, "keepalive_count_max": KEEPALIVE_COUNT}
    if identity:
        options["client_keys"] = [identity]
    try:
        conn = await asyncio.wait_for(asyncssh.connect(host.host, port=host.ssh_port, username=host.user,
                                                       **options), timeout)
    except asyncio.TimeoutError:
        raise RemoteError(f"{host.label}: SSH did not answer within {timeout:g} s") from None
    except (OSError, asyncssh.Error) as exc:
        raise RemoteError(f"{host.label}: cannot connect over SSH ({exc})") from None
    return Session(host, conn)


def _q(text: str) -> str:
    return shlex.quote(text)


def env_prelude(plan: Plan) -> str:
    """Source the env file (exporting every assignment) before anything of the release runs."""
    return f"set -a; . {_q(plan.env_file)}; set +a; " if plan.env_file else ""


def _node_env(plan: Plan, host: Host, app: str, version: str, color: str, port: int) -> str:
    """In the release's directory, the environment a node of `color` starts with: the env file, then
    what the deploy sets. Distribution is left to the env file and the release (its env.sh, then its
    script's default). Blue and green run side by side on one host, so each colour gets its own
    node name: the env file's RELEASE_NODE with the colour added, else the release's name with it."""
    root = host.root
    node = "" if color == MAIN_COLOR else (
        f'case "${{RELEASE_NODE:-}}" in *@*) RELEASE_NODE="${{RELEASE_NODE%@*}}-{color}@${{RELEASE_NODE#*@}}";; '
        f'"") RELEASE_NODE={_q(app)}-{color};; *) RELEASE_NODE="$RELEASE_NODE-{color}";; esac; export RELEASE_NODE; ')
    return (f"cd {_q(root)}/releases/{_q(version)}; mkdir -p {_q(root)}/tmp/{color} {_q(root)}/log; "
            f"{env_prelude(plan)}export PORT={port} PHX_SERVER=true RELEASE_TMP={_q(root)}/tmp/{color}; {node}")


def start_script(plan: Plan, host: Host, app: str, version: str, color: str, port: int) -> str:
    """Start the node in the background, then say how it is named and found (_facts)."""
    run = f"{host.root}/run/{color}"
    return (f"set -e; {_node_env(plan, host, app, version, color, port)}"
            f"setsid nohup bin/{app} start > {_q(host.root)}/log/{color}.log 2>&1 < /dev/null & "
            f"echo $! > {_q(run)}.pid; echo {_q(version)} > {_q(run)}.version; {_facts(app)}")


def node_script(plan: Plan, host: Host, app: str, version: str, color: str, port: int) -> str:
    """How the node of `color` is named and found (_facts), for a node this run did not start."""
    return f"set -e; {_node_env(plan, host, app, version, color, port)}{_facts(app)}"


def _facts(app: str) -> str:
    """Work out the node's name as the release's bin script does (the environment it starts with, then
    the release's env.sh, then the script's defaults) without booting a VM, in a subshell. Prints
    distribution=, node=, epmd= and, last, cookie=: a secret the caller keeps to itself."""
    return (f"(RELEASE_ROOT=$PWD RELEASE_NAME=\"${{RELEASE_NAME:-{app}}}\" RELEASE_COMMAND=start "
            f"RELEASE_PROG={_q(app)} RELEASE_VSN=\"${{RELEASE_VSN:-$(cut -d' ' -f2 releases/start_erl.data)}}\"; "
            "export RELEASE_ROOT RELEASE_NAME RELEASE_COMMAND RELEASE_PROG RELEASE_VSN; "
            'if [ -f "releases/$RELEASE_VSN/env.sh" ]; then . "releases/$RELEASE_VSN/env.sh" > /dev/null 2>&1 < /dev/null; fi; '
            'echo "distribution=${RELEASE_DISTRIBUTION:-sname}"; echo "node=${RELEASE_NODE:-$RELEASE_NAME}"; '
            'echo "epmd=${ERL_EPMD_PORT:-4369}"; echo "cookie=${RELEASE_COOKIE:-$(cat releases/COOKIE)}")')


def rpc_script(plan: Plan, host: Host, app: str, version: str, expr: str) -> str:
    """`bin/<app> rpc EXPR` against the host's running node, with the env file it started with."""
    return f"set -e; cd {_q(host.root)}/releases/{_q(version)}; {env_prelude(plan)}bin/{app} rpc {_q(expr)}"


def _timer(seconds: float, name: str) -> str:
    """A background sleep whose pid is `$name`: the loop it bounds asks `kill -0 $name` instead of
    counting polls, because on a loaded host each poll takes far longer than its sleep."""
    return f"sleep {seconds:g} >/dev/null 2>&1 & {name}=$!; "


def quiet_script(port: int, bound: float = DRAIN_SECONDS) -> str:
    """Wait until no new TCP connection has reached `port` for QUIET_SECONDS since the last one, over
    two polls or more (at most `bound` seconds): the balancer has finished its reload and sends the
    node nothing new; what it still serves ends within the graceful stop. Each poll is one `ss`,
    filtering in the kernel; on a host holding thousands of sockets (TIME_WAIT included) one takes a
    tenth of a second or more, so the poll forks nothing else: the peers are read with shell builtins,
    and a background sleep keeps the time, started again by each new connection seen. Without `ss`,
    waits the whole bound."""
    return (f"if command -v ss >/dev/null; then nl='\n'; set -f; peers() {{ p=; IFS=$nl; "
            f"for l in $(ss -Htn state established '( sport = :{port} )'); do IFS=' '; set -- $l; "
            'p="$p$4$nl"; IFS=$nl; done; unset IFS; }; '
            f"peers; seen=$p; n=0; {_timer(bound, 'qt')}{_timer(QUIET_SECONDS, 'qq')}"
            "while kill -0 $qt 2>/dev/null; do peers; n=$((n+1)); new=0; IFS=$nl; "
            'for c in $p; do case "$nl$seen$nl" in *"$nl$c$nl"*) ;; *) new=1 ;; esac; done; unset IFS; seen=$p; '
            f"if [ $new = 1 ]; then kill $qq 2>/dev/null; n=0; {_timer(QUIET_SECONDS, 'qq')}"
            "elif [ $n -ge 2 ] && ! kill -0 $qq 2>/dev/null; then break; fi; done; "
            f"kill $qt $qq 2>/dev/null || :; set +f; else sleep {bound:g}; fi; ")


def stop_script(host: Host, color: str, timeout: float, quiet_port: int | None = None) -> str:
    """SIGTERM, wait up to `timeout` seconds, then SIGKILL the group; prints `stopped` or `killed`.
    With `quiet_port`, first waits until the balancer sends that port nothing new (quiet_script)."""
    pidfile = f"{host.root}/run/{color}.pid"
    return ((quiet_script(quiet_port) if quiet_port else "") +
            f"f={_q(pidfile)}; [ -f \"$f\" ] || {{ echo absent; exit 0; }}; p=$(cat \"$f\"); "
            f"{ALIVE}"
            f"kill -TERM \"$p\" 2>/dev/null || {{ rm -f \"$f\"; echo absent; exit 0; }}; {_timer(timeout, 'st')}"
            "while alive \"$p\" && kill -0 $st 2>/dev/null; do sleep 0.1; done; kill $st 2>/dev/null; "
            "if alive \"$p\"; then kill -KILL -\"$p\" 2>/dev/null; echo killed; else echo stopped; fi; "
            "rm -f \"$f\"")


def switch_script(host: Host, version: str, color: str | None = None) -> str:
    """Point `current` at `version`; with `color` (blue-green), record it as the colour that serves."""
    root = _q(host.root)
    live = f"; echo {color} > run/live" if color else ""
    return f"set -e; cd {root}; ln -sfn releases/{_q(version)} current.next; mv -T current.next current{live}"


def state_script(host: Host) -> str:
    """The version `current` points at, the colour that serves (blue-green) and, per colour, the
    version running (`alive`) or nothing."""
    root = _q(host.root)
    return (f"cd {root} 2>/dev/null || exit 0; {ALIVE}echo current=$(basename \"$(readlink current 2>/dev/null)\"); "
            "if [ -f run/live ]; then echo live=$(cat run/live); fi; "
            f"for f in run/*.pid; do [ -f \"$f\" ] || continue; c=$(basename \"$f\" .pid); "
            f"if alive \"$(cat \"$f\")\"; then echo \"$c=$(cat run/$c.version)\"; fi; done")


def prune_script(host: Host, keep: int, protected: set[str]) -> str:
    """Remove from releases/ all but the `keep` releases installed last (by their directory's time),
    the one `current` points at, the ones a colour runs and the `protected` ones (what a rollback
    would restore), and what interrupted uploads left (.<v>.partial, .<v>.old). Prints each release
    removed. Files a kept release shares with a removed one are hard links: they stay. The kept names
    are joined on one line by word splitting with globbing off, so a name is never read as a pattern."""
    kept = " ".join(_q(v) for v in sorted(protected))
    return (f"cd {_q(host.root)}/releases 2>/dev/null || exit 0; rm -rf .*.partial .*.old; "
            f'keep="$(basename "$(readlink ../current 2>/dev/null)") {kept} $(cat ../run/*.version 2>/dev/null) '
            f'$(ls -t | head -n {keep})"; keep=" $(set -f; echo $keep) "; for r in *; do [ -d "$r" ] || continue; '
            'case "$keep" in *" $r "*) continue ;; esac; rm -rf "$r" && echo "$r"; done')


def migrate_script(plan: Plan, host: Host, version: str) -> str:
    return (f"set -e; cd {_q(host.root)}/releases/{_q(version)}; {env_prelude(plan)}"
            f'export RELEASE_DISTRIBUTION=none; {plan.migrate}')
