"""DEP030-DEP034: systemd units that run the release."""

from __future__ import annotations

from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.rule import rule
from phoenix_ops.rules.dockerfile import secret_name
from phoenix_ops.rules.subjects import RELEASE, SYSTEMD

W, E, I = Severity.WARNING, Severity.ERROR, Severity.INFO
H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW


def _units(project):
    for unit in project.deploy.systemd:
        start = unit.get("Service", "ExecStart")
        yield unit, Location(path=unit.path, line=start.line if start else 1)


@rule("DEP030", "systemd-no-restart", W, H, subject=SYSTEMD,
      title="The systemd unit does not restart the release when it dies",
      why="""
      Without `Restart=`, a crash of the BEAM (out of memory, a supervisor giving up) leaves the
      service down until someone notices.
      """,
      fix="`Restart=on-failure` and `RestartSec=5` in [Service].")
def systemd_no_restart(project):
    for unit, loc in _units(project):
        restart = unit.get("Service", "Restart")
        if restart is None or restart.value == "no":
            yield systemd_no_restart.finding(f"{unit.path} has no Restart= (systemd never restarts it)",
                                             Location(path=unit.path, line=restart.line) if restart else loc,
                                             key=unit.path)


@rule("DEP031", "systemd-inline-secret", E, H, subject=SYSTEMD,
      title="A committed systemd unit sets a secret inline with Environment=",
      why="""
      The unit is in git and readable by every local user (`systemctl show` prints Environment=):
      the secret leaks through both.
      """,
      fix="Move secrets to `EnvironmentFile=/etc/<app>/env` (mode 0600, not in git) or systemd credentials "
          "(`LoadCredential=`).")
def systemd_inline_secret(project):
    for unit, _ in _units(project):
        for name, (value, line) in unit.environment().items():
            if secret_name(name) and value and not value.startswith(("$", "%", "<")):
                yield systemd_inline_secret.finding(f"{unit.path} sets {name} inline", Location(
                    path=unit.path, line=line), key=f"{unit.path}:{name}")


@rule("DEP032", "systemd-exec-not-release-start", W, M, subject=SYSTEMD & RELEASE,
      title="ExecStart does not run the release in the foreground",
      why="""
      systemd supervises the process it starts. `bin/app daemon` forks away from it: systemd loses
      the BEAM, and Restart= and stop signals no longer reach it.
      """,
      fix="`ExecStart=/opt/<app>/bin/<app> start` (or the release's `bin/server`), with `Type=exec` or `simple`.")
def systemd_exec(project):
    for unit, loc in _units(project):
        words = unit.exec_start()
        if not words:
            continue
        command = " ".join(words)
        if any(w in ("daemon", "daemon_iex") for w in words[1:]):
            yield systemd_exec.finding(f"{unit.path}: ExecStart={command}", loc, key=unit.path)


def _reads_phx_server(project) -> bool:
    return any(b"PHX_SERVER" in f.data for p, f in project.files.files.items()
               if p.startswith(f"{project.config_dir}/"))


@rule("DEP033", "systemd-no-phx-server", E, M, subject=SYSTEMD & RELEASE,
      title="The unit starts the release without PHX_SERVER, so the endpoint never listens",
      why="""
      The generated runtime.exs sets `server: true` only when PHX_SERVER is set. `bin/app start`
      without it boots the whole app except the HTTP listener: the service is up and serves nothing.
      """,
      fix="`Environment=PHX_SERVER=true` in the unit, or start `bin/server`, which sets it.")
def systemd_phx_server(project):
    if not _reads_phx_server(project):
        return
    for t in project.deploy.targets():
        if t.platform != "systemd" or "PHX_SERVER" in t.env or not t.command:
            continue
        if t.command[-1] != "start" or "phx.server" in " ".join(t.command):
            continue
        unless = f" (unless {' or '.join(t.open_env)} sets it)" if t.open_env else ""
        yield systemd_phx_server.finding(f"{t.path} starts {t.command[0]} without PHX_SERVER{unless}", _at_unit(t),
                                         key=t.path, confidence=L if t.open_env else None)


def _at_unit(t) -> Location:
    return Location(path=t.path, line=t.line)


@rule("DEP034", "systemd-no-limit-nofile", W, M, subject=SYSTEMD,
      title="The unit keeps the default open-file limit for a socket server",
      why="""
      systemd services get a soft limit of 1024 open files. Every HTTP connection and WebSocket is a
      file descriptor: around a thousand concurrent users the BEAM fails to accept with `emfile`.
      """,
      fix="`LimitNOFILE=65536` in [Service].")
def systemd_nofile(project):
    for unit, loc in _units(project):
        if unit.get("Service", "LimitNOFILE") is None:
            yield systemd_nofile.finding(f"{unit.path} sets no LimitNOFILE (soft limit 1024)", loc, key=unit.path)
