"""What `release verify`'s checklist says of rules that had nothing to judge: a runtime check after
`eval` failed, a health path of a release that never listened, the probe without a boot, the env
contract without a project."""

from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.findings import Location
from phoenix_ops.live.target import Target, TargetResult
from phoenix_ops.release.boot import Booted
from phoenix_ops.release.checks import EvalResult
from phoenix_ops.release.verify import (
    NOT_ON_LOOPBACK,
    LoopbackProbe,
    Verification,
    VerifyOptions,
    checklist_facts,
)
from phoenix_ops.report import render
from phoenix_ops.report.checklist import checklist_of


def outcomes(opts: VerifyOptions, run: Verification, probe: LoopbackProbe | None = None) -> dict[str, tuple[str, str]]:
    """Rule id -> (outcome, why) as the report's checklist has it."""
    rules = catalog("release", "envfile", "probe")
    areas = checklist_of(run.findings, rules, checklist_facts(opts, run, probe))
    return {r.id: (r.outcome, r.reason) for area in areas for r in area.rows}


def test_a_release_that_fails_eval_and_exits_at_boot_passes_nothing_it_did_not_reach():
    failed = catalog("release")["REL100"].finding("`bin/shop eval` exited with 1", Location(path="bin/shop"))
    run = Verification([failed], {}, EvalResult([failed], [], ran=False), Booted(exited=True))
    found = outcomes(VerifyOptions(Path("rel")), run, LoopbackProbe(["/"]))
    assert found["REL100"][0] == "failed" and found["REL105"] == found["REL106"] == ("passed", "")
    assert {found[i] for i in ("REL101", "REL102", "REL103", "REL104")} == \
        {("not determined", "`bin/<app> eval` did not run the checks (REL100)")}
    assert found["REL107"] == found["REL109"] == ("not determined", "the release exited while booting")
    assert found["REL108"] == ("not determined", "the release never listened on its port")
    assert found["WEB121"] == found["HLT100"] == ("not run", "the release never answered on its port")
    assert found["REL050"] == ("not run", "needs --project (the env contract) and --env-file")


def test_a_booted_release_without_tzdata_and_its_loopback_probe():
    run = Verification([], {}, EvalResult([], ["tzdata: not used"], tzdata_used=False), Booted(listened=True))
    probe = LoopbackProbe(["/health"])
    probe.results.append(TargetResult(Target("http://127.0.0.1:4000/", "127.0.0.1"),
                                      facts={"page_url": "http://127.0.0.1:4000/",
                                             "check_seconds": {"exposure": 0.1, "liveview": 0.1}}))
    opts = VerifyOptions(Path("rel"), [Path("prod.env")], Path("."))
    found = outcomes(opts, run, probe)
    assert found["REL104"] == ("not applicable", "tzdata is not in the release")
    assert all(found[i] == ("passed", "") for i in ("REL101", "REL103", "REL107", "REL108", "REL109", "REL050"))
    assert {found[i][0] for i in NOT_ON_LOOPBACK} == {"not run"} and found["WEB121"] == ("passed", "")
    assert found["WEB126"][0] == "not applicable"  # the page is no LiveView
    assert found["WEB123"] == ("not run", "only with --active")
    assert outcomes(VerifyOptions(Path("rel"), probe=False), run)["WEB121"] == ("not run", "--no-probe")


def test_text_and_json_carry_the_checklist():
    run = Verification([], {}, EvalResult([], [], tzdata_used=True), Booted(listened=True))
    facts = {"release": {}, **checklist_facts(VerifyOptions(Path("rel"), probe=False), run, None)}
    rules = catalog("release", "envfile", "probe")
    text = render([], "text", extra=facts, rules=rules)
    assert text == "REL: 11 passed, 13 not run\n\nno findings\n"  # probe areas, all not run, say nothing
    doc = render([], "json", extra=facts, rules=rules, tool="release verify")
    assert '"not run"' in doc and '"checklist"' in doc
