"""The benchmark's project generator keeps writing a project the Project model reads in full."""

import importlib.util
import sys
from pathlib import Path

from phoenix_ops.project import load_project

GEN = Path(__file__).resolve().parents[1] / "bench" / "gen_project.py"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_project", GEN)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_small_generated_project_is_read_whole(tmp_path):
    gen = _generator()
    stats = gen.generate(tmp_path / "app", scale=0.02)
    assert stats["contexts"] == 3 and stats["migrations"] == 6

    project = load_project(tmp_path / "app")

    assert project.mix.app == "atlas" and project.lock["phoenix"] == "1.7.14"
    assert sorted(e.module for e in project.endpoints) == ["AtlasWeb.Endpoint", "AtlasWeb.MetricsEndpoint"]
    routers = {r.module: r for r in project.routers}
    assert set(routers) == {"AtlasWeb.Router", "AtlasWeb.MetricsRouter"}
    assert len(routers["AtlasWeb.Router"].routes) > 3 * 9  # 8 live routes and 1 resource per context, and more
    assert [r.module for r in project.repos] == ["Atlas.Repo", "Atlas.Repo.Replica"]
    assert {m for m, _, _ in project.migrators} == {"Atlas.Application", "Atlas.Release"}
    assert ("atlas", "dev_routes") in {(app, key) for app, key, _, _ in project.compile_env}
    assert {"Atlas.Repo", "Oban", "AtlasWeb.Endpoint"} <= {name for name, _, _ in project.children}
    assert project.config().get("atlas", "AtlasWeb.Endpoint", "server") is not None

    sources = [f for p, f in project.files.files.items() if p.endswith((".ex", ".exs"))]
    assert sum(p.startswith("priv/repo/migrations/") for p in project.files.files) == 6
    assert [(f.path, f.problems) for f in sources if f.problems] == []  # every file parses, parsed or not
    assert project.problems == []


def test_same_seed_same_bytes(tmp_path):
    gen = _generator()
    gen.generate(tmp_path / "a", scale=0.01, seed=7)
    gen.generate(tmp_path / "b", scale=0.01, seed=7)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
