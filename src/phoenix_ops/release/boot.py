"""The release started for real on a loopback port: boot, answer, and stop on SIGTERM within budget."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from phoenix_ops.findings import Confidence, Finding, Location, Severity, redact
from phoenix_ops.patterns import lazy
from phoenix_ops.record import field, record
from phoenix_ops.release.artifact import Release
from phoenix_ops.rule import Subject, rule

H = Confidence.HIGH
# What the boot checks judge, read from the verification: a VM still up after boot, a port answering.
RUNNING = Subject(present=lambda run: not run.booted.exited, unknown=lambda run: "the release exited while booting")
LISTENING = Subject(present=lambda run: run.booted.listened,
                    unknown=lambda run: "the release never listened on its port")
# How Elixir reports a compile-time value that runtime config changed (the release then refuses to boot).
COMPILE_ENV = lazy(r"the application :(\w+) has a different value set for key :?(\S+) during runtime")

COMPILE_ENV_MISMATCH = rule(
    "REL105", "compile-env-mismatch", Severity.ERROR, H, kind="release",
    title="The release refuses to boot: runtime config changes a value read at compile time",
    why="""
    A value read with `Application.compile_env` (or a compile-time endpoint key such as
    `force_ssl`) is baked into the compiled code. Elixir checks at boot that runtime config did not
    change it, and stops the release when it did: the deploy fails on every node.
    """,
    fix="Set the key in config.exs/prod.exs (compile time) instead of runtime.exs, or read it with "
        "`Application.get_env` at run time; then rebuild the release.")

CRASHED = rule(
    "REL106", "release-crashed-at-boot", Severity.ERROR, H, kind="release",
    title="The release exits while booting",
    why="""
    A release that stops during boot (a `raise` in runtime.exs for a missing variable, a supervisor
    child that fails to start, a port already in use) never serves: a rolling deploy stalls on its
    first node, or worse, a deploy without health gates replaces every node with it.
    """,
    fix="Read the last lines of the boot log quoted in the finding; `env check` names missing variables.")

NEVER_LISTENS = rule(
    "REL107", "release-never-listens", Severity.ERROR, H, kind="release", subject=RUNNING,
    title="The release runs but does not listen on its HTTP port within the time limit",
    why="""
    The VM is up, so a process supervisor sees a healthy service, but no HTTP answers: the
    endpoint's `server: true` is not set (PHX_SERVER), it listens on another port or address, or a
    child started before the endpoint blocks the boot.
    """,
    fix="Start the release with PHX_SERVER=true (rel/overlays/bin/server does), read the port from PORT "
        "in runtime.exs, and bind `http: [ip: {0, 0, 0, 0, 0, 0, 0, 0}]`.")

HEALTH_FAILING = rule(
    "REL108", "release-health-failing", Severity.ERROR, H, kind="release", subject=LISTENING,
    title="A health or readiness path of the booted release does not answer 200",
    why="""
    Load balancers and platforms route traffic by these answers. A path that answers 404 (not
    mounted), 3xx (redirected by force_ssl) or 5xx (a dependency down) keeps the new version out of
    rotation, or takes a healthy node out.
    """,
    fix="Mount the health plug before Plug.SSL and the router (`phoenix-ops gen health`), and make the "
        "readiness path check only what this node needs to serve.")

SLOW_STOP = rule(
    "REL109", "graceful-stop-over-budget", Severity.ERROR, H, kind="release", subject=RUNNING,
    title="The release does not stop on SIGTERM within the shutdown budget",
    why="""
    Platforms send SIGTERM, wait their grace period (Fly kill_timeout, Kubernetes
    terminationGracePeriodSeconds, systemd TimeoutStopSec), then SIGKILL. A node slower than that is
    killed mid-request: WebSockets drop without a close, Oban jobs are left `executing`.
    """,
    fix="Raise the platform's grace period above the time measured here, or shorten what the stop waits "
        "for (the endpoint drainer's `shutdown`, Oban's `shutdown_grace_period`).")

BOOTED = rule(
    "REL110", "release-boot-measured", Severity.INFO, H, kind="release", informational=True,
    title="What the release did on loopback: boot time, answers, stop time",
    why="""
    A record of the verification, so trends are visible across builds: how long the release took to
    boot to its first answer, which paths answered, and how long its graceful stop took against the
    shutdown budget. It never sets the exit code.
    """,
    fix="Nothing to fix; compare the figures with the platform's health check grace and stop timeout.")


@record
class Booted:
    findings: list[Finding] = field(default_factory=list)
    boot_seconds: float | None = None
    stop_seconds: float | None = None
    answers: dict[str, int] = field(default_factory=dict)
    exited: bool = False  # the release exited while booting
    listened: bool = False  # something answered on its port


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _get(url: str, timeout: float) -> int:
    request = urllib.request.Request(url, headers={"user-agent": "phoenix-ops-release-verify"})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer to report, not to follow
        return None


def failure_reason(text: str, lines: int = 4) -> str:
    """What a failed boot or eval printed that says why: Elixir's ERROR! or exception line, else the tail."""
    said = [line.strip() for line in text.strip().splitlines() if line.strip()]
    why = [line for line in said if line.startswith("** (")] or [line for line in said if line.startswith("ERROR!")]
    return redact((why[0] if why else " | ".join(said[-lines:]))[:400])


def boot_and_stop(release: Release, env: dict[str, str], port: int, paths: list[str], *, timeout: float,
                  budget: float, log: Path, while_up=None) -> Booted:
    """Start the release, wait for `port`, GET `paths`, call `while_up(url)` for more checks, then SIGTERM."""
    out = Booted()
    where = Location(path=f"bin/{release.name}")
    start = time.monotonic()
    with log.open("wb") as sink:
        proc = subprocess.Popen([str(release.script), "start"], env=env, cwd=release.root, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not _listening(port):
            if proc.poll() is not None:
                out.exited = True
                said = _settled(log)
                tail = failure_reason(said)
                mismatch = COMPILE_ENV.search(said)
                if mismatch:
                    out.findings.append(COMPILE_ENV_MISMATCH.finding(
                        f"the release stopped at boot: :{mismatch.group(1)} key {mismatch.group(2)} differs between "
                        f"compile time and runtime", where, key=f"{mismatch.group(1)}.{mismatch.group(2)}"))
                else:
                    out.findings.append(CRASHED.finding(f"the release exited with {proc.returncode} while "
                                                        f"booting: {tail}", where, key="exit"))
                return out
            if time.monotonic() - start > timeout:
                out.findings.append(NEVER_LISTENS.finding(
                    f"nothing listens on 127.0.0.1:{port} {timeout:g} s after start (PORT={port}, PHX_SERVER=true)",
                    where, key="port"))
                return out
            time.sleep(0.05)
        out.listened = True
        url = f"http://127.0.0.1:{port}"
        for path in paths:
            status = _wait_for_answer(url + path, start + timeout)
            out.answers[path] = status
            if out.boot_seconds is None and status == 200:
                out.boot_seconds = round(time.monotonic() - start, 2)
            if status != 200:
                said = f"answers {status}" if status else "does not answer"
                out.findings.append(HEALTH_FAILING.finding(f"GET {path} {said} on the booted release",
                                                           Location(url=url + path), key=path))
        if out.boot_seconds is None:
            out.boot_seconds = round(time.monotonic() - start, 2)
        if while_up is not None:
            out.findings.extend(while_up(url))
    finally:
        out.stop_seconds = _stop(proc, budget)
    if out.stop_seconds is None:
        out.findings.append(SLOW_STOP.finding(f"still running {budget:g} s after SIGTERM; it was killed",
                                              where, key="stop"))
    return out


def _settled(log: Path, wait: float = 1.0) -> str:
    """The boot log once it stops growing (within `wait` s): what processes the start script left
    behind still write after the script's own exit is read too."""
    text, deadline = log.read_text(errors="replace"), time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(0.1)
        again = log.read_text(errors="replace")
        if again == text:
            break
        text = again
    return text


def _wait_for_answer(url: str, deadline: float) -> int:
    """Retry while the endpoint listens but the app is still starting (a 5xx or no answer)."""
    status = 0
    while True:
        status = _get(url, timeout=2.0)
        if (status and status < 500) or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def _stop(proc: subprocess.Popen, budget: float) -> float | None:
    """Seconds from SIGTERM to exit, or None when it had to be killed after `budget` seconds."""
    if proc.poll() is not None:
        return 0.0
    start = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=budget)
        return round(time.monotonic() - start, 2)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None
    finally:
        _reap_group(proc.pid)


def _reap_group(pgid: int) -> None:
    """epmd or a heart started by the release must not outlive the verification."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
