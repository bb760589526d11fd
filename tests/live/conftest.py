"""Fixtures for the probe's tests: servers started per test and always stopped, certificates per
session, and the npm `phoenix` client installed once into the ignored cache dir."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest
from live_servers import (
    Certs,
    Site,
    make_certs,
    start_hostile,
    start_nginx,
    start_standin,
)

from phoenix_ops.live.probe import run_probe
from phoenix_ops.live.target import ProbeOptions, TargetResult, build_targets

# Our own prefix inside the ignored npm cache, so other suites' installs never prune these packages.
NPM_DIR = Path(__file__).resolve().parents[2] / ".cache" / "npm" / "probe"
NPM_PACKAGES = ("phoenix@1.8", "ws@8")


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


class Lab:
    """Starts servers for one test and stops every one of them at teardown."""

    def __init__(self, tmp: Path, certs: Certs):
        self.tmp, self.certs, self.servers = tmp, certs, []

    def standin(self, bind: str = "127.0.0.1", **config) -> int:
        server = start_standin(bind, **config)
        self.servers.append(server)
        return server.port

    def nginx(self, *sites: Site) -> list[Site]:
        self.servers.append(start_nginx(self.tmp / f"nginx{len(self.servers)}", list(sites)))
        return list(sites)

    def site(self, standin: dict | None = None, **site) -> Site:
        """A stand-in behind its own nginx: the usual arrangement of one test."""
        site.setdefault("cert", self.certs.good)
        return self.nginx(Site(self.standin(**(standin or {})), **site))[0]

    def hostile(self, mode: str) -> int:
        server = start_hostile(mode)
        self.servers.append(server)
        return server.port

    def probe(self, *urls: str, site: Site | None = None, **options) -> list[TargetResult]:
        """Probe with the test CA trusted and, given a site, its plain HTTP port."""
        options.setdefault("ca_file", self.certs.ca_file)
        options.setdefault("timeout", 2.0)
        if site is not None:
            options.setdefault("http_port", site.http_port)
            urls = urls or (f"https://localhost:{site.https_port}/",)
        opts = ProbeOptions(**options)
        return run_probe(build_targets(list(urls), opts), opts)

    def stop(self) -> None:
        for s in self.servers:
            s.stop()


@pytest.fixture
def lab(tmp_path, certs):
    lab = Lab(tmp_path, certs)
    yield lab
    lab.stop()


@pytest.fixture(scope="session")
def npm_client() -> Path:
    """node_modules with the real `phoenix` client and `ws`, installed once for all workers."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.fail("node and npm are needed to hold the stand-in to the phoenix client")
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    with open(NPM_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (NPM_DIR / "node_modules" / "phoenix" / "package.json").exists() or \
                not (NPM_DIR / "node_modules" / "ws" / "package.json").exists():
            done = subprocess.run(["npm", "install", "--prefix", str(NPM_DIR), "--no-audit", "--no-fund",
                                   *NPM_PACKAGES], capture_output=True, text=True, timeout=300)
            if done.returncode:
                pytest.fail(f"npm install failed: {done.stderr[-2000:]}")
    return NPM_DIR / "node_modules"
