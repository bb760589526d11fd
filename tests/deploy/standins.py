"""Stand-ins for `kubectl` and `fly`: one small script on PATH that records its argv and answers from a
scripted state (a JSON file), as the real CLIs document their output and exit codes. The workload's
"pods" or "machines" are real Phoenix releases on loopback: the state maps each image to the port of
the release that plays it, and a small proxy (the Service, or fly's proxy) forwards to the release of
the image currently rolled out.

State keys: image (what runs now), history (earlier images, for `rollout undo`), backends
{image: port}, fail_rollout [images whose rollout status / fly deploy fails], hang_rollout (the
rollout status never returns), migrations (what `exec ... find` prints; absent: the exec fails),
replicas, labels, deployment, container, app, unreachable (every kubectl call fails to connect).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SCRIPT = r'''
import json, os, sys, time
state_path = os.environ["PHOENIX_OPS_STANDIN"]
tool = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(state_path + ".log", "a") as log:
    log.write(json.dumps([tool, *args]) + "\n")
state = json.load(open(state_path))

def save():
    tmp = state_path + ".tmp"
    json.dump(state, open(tmp, "w"))
    os.replace(tmp, state_path)

def flag(name):
    return args[args.index(name) + 1] if name in args else None

def fail(message, code=1):
    sys.stderr.write(message + "\n")
    sys.exit(code)

if tool == "kubectl":
    if state.get("unreachable"):
        fail("Unable to connect to the server: dial tcp 10.0.0.1:6443: connect: connection refused")
    words = [a for i, a in enumerate(args) if not a.startswith("-") and not (i and args[i - 1] in
             ("--context", "--namespace", "-n", "-o", "--selector", "-l", "-c"))]
    dep = "deployment/" + state["deployment"]
    if words[:1] == ["get"] and words[1:2] == [dep]:
        print(json.dumps({"kind": "Deployment", "metadata": {"name": state["deployment"]}, "spec": {
            "replicas": state["replicas"], "selector": {"matchLabels": state["labels"]},
            "template": {"spec": {"containers": [{"name": state["container"], "image": state["image"]}]}}}}))
    elif words[:2] == ["get", "pods"]:
        if flag("--selector") != ",".join(f"{k}={v}" for k, v in sorted(state["labels"].items())):
            print(json.dumps({"items": []}))
        else:
            print(json.dumps({"items": [{"metadata": {"name": f"{state['deployment']}-{i}"}, "status": {"phase": "Running"},
                "spec": {"containers": [{"name": state["container"], "image": state["image"]}]}}
                for i in range(state["replicas"])]}))
    elif words[:3] == ["set", "image", dep]:
        container, image = words[3].split("=", 1)
        if container != state["container"]:
            fail(f'error: unable to find container named "{container}"')
        state["history"].append(state["image"])
        state["image"] = image
        save()
        print(f"{dep} image updated")
    elif words[:3] == ["rollout", "status", dep]:
        if state.get("hang_rollout"):
            time.sleep(3600)
        if state["image"] in state.get("fail_rollout", []):
            print(f'Waiting for deployment "{state["deployment"]}" rollout to finish: 1 old replicas are pending termination...')
            fail("error: timed out waiting for the condition")
        print(f'deployment "{state["deployment"]}" successfully rolled out')
    elif words[:3] == ["rollout", "undo", dep]:
        if not state["history"]:
            fail("error: no rollout history found")
        state["image"] = state["history"].pop()
        save()
        print(f"{dep} rolled back")
    elif words[:2] == ["exec", dep]:
        if state.get("migrations") is None:
            fail("error: unable to upgrade connection: container not found")
        print(state["migrations"])
    elif words[:1] == ["port-forward"]:
        remote = args[args.index(words[1]) + 1].lstrip(":")
        print(f"Forwarding from 127.0.0.1:{state['backends'][state['image']]} -> {remote}", flush=True)
        print(f"Forwarding from [::1]:{state['backends'][state['image']]} -> {remote}", flush=True)
        time.sleep(3600)
    else:
        fail(f"error: the stand-in does not model {args}")
elif tool == "fly":
    if flag("--app") != state["app"]:
        fail(f"Error: app {flag('--app')} not found")
    if args[:2] == ["machine", "list"]:
        print(json.dumps([{"id": f"m{i}", "state": "started", "config": {"image": state["image"]},
                           "checks": [{"name": "servicecheck-00-http-4000", "status": "passing"}]}
                          for i in range(state["replicas"])]))
    elif args[:1] == ["deploy"]:
        image = flag("--image")
        if state.get("hang_rollout"):
            time.sleep(3600)
        if image in state.get("fail_rollout", []):
            fail(f"Error: failed to update machine m0: machine never reached a healthy state ({image})")
        state["history"].append(state["image"])
        state["image"] = image
        save()
        print(f"Visit your newly deployed app at https://{state['app']}.fly.dev/")
    elif args[:2] == ["ssh", "console"]:
        if state.get("migrations") is None:
            fail("Error: ssh shell: Process exited with status 1")
        print(state["migrations"])
    else:
        fail(f"Error: the stand-in does not model {args}")
'''


class Platform:
    """The scripted state, the stand-ins on PATH and the proxy in front of the current image."""

    def __init__(self, tmp: Path, monkeypatch, **state):
        self.state_path = tmp / "standin.json"
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        for name in ("kubectl", "fly"):
            script = bin_dir / name
            script.write_text(f"#!{sys.executable}\n{SCRIPT}")
            script.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("PHOENIX_OPS_STANDIN", str(self.state_path))
        self.write({"deployment": "phx-fixture", "container": "phx-fixture", "app": "phx-fixture", "replicas": 2,
                    "labels": {"app.kubernetes.io/name": "phx-fixture"}, "history": [], "backends": {}} | state)
        self.proxy = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.proxy.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.server_address[1]}"

    def read(self) -> dict:
        return json.loads(self.state_path.read_text())

    def write(self, state: dict) -> None:
        self.state_path.write_text(json.dumps(state))

    def update(self, **changes) -> None:
        self.write(self.read() | changes)

    def calls(self) -> list[list[str]]:
        log = Path(f"{self.state_path}.log")
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def verbs(self) -> list[str]:
        """Each call as `tool word word` (flags and their values left out)."""
        out = []
        for call in self.calls():
            words, skip = [], False
            for a in call:
                if skip:
                    skip = False
                elif a.startswith("-"):
                    skip = a in ("--context", "--namespace", "-o", "--selector", "-c", "--app", "--config", "--image",
                                 "--strategy", "--wait-timeout", "--command")
                else:
                    words.append(a)
            out.append(" ".join(words[:3]))
        return out

    def _handler(self):
        platform = self

        class Forward(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                port = platform.read()["backends"][platform.read()["image"]]
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request("GET", self.path, headers=headers)
                reply = conn.getresponse()
                body = reply.read()
                self.send_response(reply.status)
                for k, v in reply.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                conn.close()

            def log_message(self, *args):
                pass

        return Forward

    def close(self) -> None:
        self.proxy.shutdown()
        self.proxy.server_close()
