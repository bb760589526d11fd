"""Diagnosis, table and picture from ClusterViews built by hand (states real nodes rarely hold still in)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from phoenix_ops.catalog import catalog
from phoenix_ops.cluster.diagnosis import diagnose
from phoenix_ops.cluster.facts import NodeFacts
from phoenix_ops.cluster.phoenix import PhoenixFacts
from phoenix_ops.cluster.picture import (
    MAX_WIDTH,
    render_html,
    render_svg,
    write_picture,
)
from phoenix_ops.cluster.table import render_table
from phoenix_ops.cluster.view import ClusterView, NodeReport
from phoenix_ops.rule import standings

SVG = "{http://www.w3.org/2000/svg}"


def member(name: str, sees: list[str], **facts) -> NodeReport:
    base = dict(visible=sees, otp_release="26", erts_version="14.2", process_count=100, process_limit=1000,
                atom_count=10, atom_limit=100, run_queue=0, schedulers=4, net_ticktime=60, uptime_seconds=90,
                memory={"total": 50 * 2**20})
    return NodeReport(name, "10.0.0.1", 9100, "epmd", facts=NodeFacts(**(base | facts)))


def rules_of(view: ClusterView) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in diagnose(view):
        out.setdefault(f.rule_id, []).append(f)
    return out


def test_every_cluster_rule_has_a_page_and_a_live_id():
    rules = list(catalog("cluster"))
    assert rules == [r for r in catalog() if r.kind == "cluster"] and len(rules) >= 20
    for r in rules:
        assert r.area == "CLU" and 150 <= int(r.id[3:]) <= 199
        assert r.title and len(r.why) > 80 and len(r.fix) > 40 and r.check is not None


def test_one_way_visibility_is_asymmetric_not_a_split():
    view = ClusterView(nodes=[member("a@h", ["b@h"]), member("b@h", [])])
    rules = rules_of(view)
    assert view.partitions() == [["a@h", "b@h"]]
    (f,) = rules["CLU151"]
    assert f.message == "a@h sees b@h, but b@h does not see a@h" and "CLU150" not in rules


def test_three_partitions_are_each_shown():
    view = ClusterView(nodes=[member("a@h", ["b@h"]), member("b@h", ["a@h"]), member("c@h", []), member("d@h", [])])
    (f,) = rules_of(view)["CLU150"]
    assert f.message.endswith("3 partitions: {a@h, b@h} | {c@h} | {d@h}")


def test_otp_skew_points_at_the_minority_and_says_rolling_deploy():
    view = ClusterView(nodes=[member("a@h", ["b@h", "c@h"]), member("b@h", ["a@h", "c@h"]),
                              member("c@h", ["a@h", "b@h"], otp_release="27", erts_version="15.0")])
    found = rules_of(view)["CLU159"]
    assert {f.key for f in found} == {"OTP release", "ERTS version"}
    assert all(f.location.node == "c@h" and "rolling deploy" in f.message for f in found)


def test_limits_and_run_queue_thresholds():
    view = ClusterView(nodes=[
        member("ok@h", ["hot@h"], process_count=800, atom_count=80, run_queue=8),  # exactly at the limits
        member("hot@h", ["ok@h"], process_count=801, atom_count=81, run_queue=9),
    ])
    rules = rules_of(view)
    assert [f.location.node for f in rules["CLU161"]] == ["hot@h"]
    assert [f.location.node for f in rules["CLU162"]] == ["hot@h"]
    assert "81 of 100 atoms (81%)" in rules["CLU162"][0].message
    assert [f.location.node for f in rules["CLU163"]] == ["hot@h"]


def test_hidden_nodes_are_not_members():
    shell = member("rem-1@h", ["a@h"])
    shell.hidden = True
    view = ClusterView(nodes=[member("a@h", []), shell], expected=2)
    rules = rules_of(view)
    assert [n.name for n in view.members()] == ["a@h"]
    assert rules["CLU165"][0].message == "1 of 2 expected nodes answered: a@h"


def test_no_nodes_at_all():
    view = ClusterView(expected=3)
    (f,) = diagnose(view)
    assert f.rule_id == "CLU165" and f.message == "0 of 3 expected nodes answered"
    assert render_table(view).startswith("no nodes found")
    ET.fromstring(render_svg(view))


def test_table_has_a_row_per_node_and_the_partitions():
    failed = NodeReport("x@h", "10.0.0.9", 9100, "epmd", error_kind="cookie", error="different cookie")
    view = ClusterView(nodes=[member("a@h", []), member("b@h", []), failed])
    lines = render_table(view).splitlines()
    assert lines[0].split()[:3] == ["node", "state", "otp"]
    assert lines[1].startswith("a@h") and "100/1000 (10%)" in lines[1] and "50 MiB" in lines[1] and "1m30s" in lines[1]
    assert lines[3].split()[:2] == ["x@h", "cookie"]
    assert "partitions (2): {a@h} | {b@h}" in lines


def test_picture_shows_partitions_one_way_links_and_unreached_nodes(tmp_path):
    failed = NodeReport("x@h", "10.0.0.9", 9100, "epmd", error_kind="cookie", error="different cookie")
    view = ClusterView(nodes=[member("a@h", ["b@h"]), member("b@h", []), member("c@h", ["d@h"]),
                              member("d@h", ["c@h"]), failed])
    svg = ET.fromstring(render_svg(view))
    texts = [t.text or "" for t in svg.iter(f"{SVG}text")]
    assert "partition 1 · 2 nodes" in texts and "partition 2 · 2 nodes" in texts
    assert any(t.startswith("x@h: cookie") for t in texts)
    one_way = [el for el in svg.iter(f"{SVG}line") if el.get("class") == "one-way"]
    assert len(one_way) == 1 and one_way[0].find(f"{SVG}title").text == "a@h sees b@h, not the reverse"
    ring_colours = {c.get("stroke") for c in svg.iter(f"{SVG}circle") if c.get("fill-opacity")}
    assert len(ring_colours) == 2
    write_picture(view, tmp_path / "c.html")
    html = (tmp_path / "c.html").read_text()
    assert html == render_html(view) and html.startswith("<!doctype html>") and render_svg(view) in html
    write_picture(view, tmp_path / "c.svg")
    ET.parse(tmp_path / "c.svg")


def test_names_are_escaped_in_the_picture():
    view = ClusterView(nodes=[member("<script>@h", [])])
    assert "<script>@h" not in render_svg(view) and "&lt;script&gt;@h" in render_svg(view)


def test_partial_mesh_inside_one_partition():
    view = ClusterView(nodes=[member("a@h", ["b@h"]), member("b@h", ["a@h", "c@h"]), member("c@h", ["b@h"])])
    (f,) = rules_of(view)["CLU171"]
    assert f.message == "1 of 3 links missing between 3 nodes: a@h - c@h" and f.location.node == "a@h, c@h"
    assert "CLU150" not in rules_of(view)


def test_member_whose_nodes_call_failed_is_drawn_outside():
    blind = member("b@h", [])
    blind.facts.visible = None
    svg = render_svg(ClusterView(nodes=[member("a@h", []), blind]))
    assert "b@h: reached, but its nodes() call failed" in svg


def test_a_split_into_many_parts_wraps_into_rows():
    view = ClusterView(nodes=[member(f"n{i:02d}@10.0.0.{i}", []) for i in range(13)])
    svg = ET.fromstring(render_svg(view))
    rings = [c for c in svg.iter(f"{SVG}circle") if c.get("fill-opacity")]
    assert len(rings) == 13 and len({c.get("cy") for c in rings}) > 1
    assert float(svg.get("width")) <= MAX_WIDTH + 200


def test_partitions_without_a_shared_node_name_may_be_two_applications():
    view = ClusterView(nodes=[member("shop@a", ["shop@b"]), member("shop@b", ["shop@a"]), member("billing@a", [])])
    (f,) = rules_of(view)["CLU150"]
    assert "may be separate applications" in f.message and f.confidence.label == "medium"
    same_app = ClusterView(nodes=[member("shop@a", []), member("shop@b", [])])
    (g,) = rules_of(same_app)["CLU150"]
    assert "separate applications" not in g.message and g.confidence.label == "high"


def test_checklist_says_what_a_cluster_had_nothing_for():
    rules = catalog("cluster")
    nobody = standings(rules, [ClusterView(nodes=[NodeReport("a@10.0.0.1", "10.0.0.1", 9100, "hosts",
                                                                  error_kind="unreachable")])])
    # Nothing a member would tell is passed: the node's failure is judged, the rest is not determined.
    assert nobody["not_determined"] == dict.fromkeys(["CLU150", "CLU151", "CLU159", "CLU160", "CLU161", "CLU162",
                                                      "CLU163", "CLU164", "CLU169", "CLU170", "CLU171", "CLU172",
                                                      "CLU173", "CLU174", "CLU175"], "no node answered")
    assert nobody["not_applicable"]["CLU168"] == "no DNS name was asked (nodes named with --hosts)"
    assert standings(rules, [ClusterView()])["not_determined"]["CLU152"] == "no node was found to connect to"
    assert "CLU168" not in standings(rules, [ClusterView(queried=["shop.internal"])])["not_applicable"]
    assert nobody["not_applicable"]["CLU165"] == "no --expect N given"
    assert nobody["not_applicable"]["CLU166"].startswith("no host was asked through EPMD")
    plain = ClusterView(nodes=[member("a@10.0.0.1", ["b@10.0.0.1"]), member("b@10.0.0.1", ["a@10.0.0.1"])],
                        expected=2)
    judged = standings(rules, [plain])
    assert judged["not_applicable"]["CLU172"] == "no node reached runs Phoenix.PubSub" and not judged["not_determined"]
    assert "CLU165" not in judged["not_applicable"] and rules_of(plain) == {}
    pubsub = PhoenixFacts(pubsub={"Demo.PubSub": ["a@10.0.0.1"]}, failed={"trackers": "timeout"})
    plain.nodes[0].facts.phoenix = pubsub
    judged = standings(rules, [plain])
    assert "CLU172" not in judged["not_applicable"]
    assert judged["not_determined"]["CLU173"] == "a@10.0.0.1 could not be asked for its trackers: timeout"
