import json

import pytest

from phoenix_ops.check.baseline import (
    BaselineError,
    apply_baseline,
    load_baseline,
    write_baseline,
)
from phoenix_ops.findings import (
    BASELINE_REASON,
    Confidence,
    Finding,
    Location,
    Severity,
)


def finding(rule_id: str, path: str, line: int, key: str) -> Finding:
    return Finding(rule_id, "r", Severity.ERROR, Confidence.HIGH, f"{key} is wrong",
                   location=Location(path=path, line=line), key=key)


def test_written_file_is_versioned_sorted_stable_and_readable(tmp_path):
    findings = [finding("WEB003", "config/prod.exs", 9, "hsts"), finding("SEC001", "config/runtime.exs", 3, "skb"),
                finding("SEC001", "config/runtime.exs", 30, "skb")]  # same fingerprint twice: one entry
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert write_baseline(first, findings) == 2
    write_baseline(second, list(reversed(findings)))
    assert first.read_bytes() == second.read_bytes()
    doc = json.loads(first.read_text())
    assert doc["version"] == 1
    assert [(e["rule_id"], e["location"], e["message"]) for e in doc["findings"]] == [
        ("SEC001", "config/runtime.exs", "skb is wrong"), ("WEB003", "config/prod.exs", "hsts is wrong")]
    assert load_baseline(first) == {f.fingerprint for f in findings}


def test_baselined_findings_are_hidden_even_after_a_line_move(tmp_path):
    path = tmp_path / "baseline.json"
    write_baseline(path, [finding("SEC001", "config/runtime.exs", 3, "skb")])
    moved = finding("SEC001", "config/runtime.exs", 47, "skb")
    new_here = finding("SEC001", "config/runtime.exs", 3, "other_key")
    new_elsewhere = finding("SEC001", "config/prod.exs", 3, "skb")
    apply_baseline([moved, new_here, new_elsewhere], load_baseline(path))
    assert moved.suppressed == BASELINE_REASON
    assert new_here.suppressed is None and new_elsewhere.suppressed is None


def test_an_already_suppressed_finding_keeps_its_reason(tmp_path):
    f = finding("SEC001", "a.exs", 1, "k")
    f.suppressed = "from a comment"
    apply_baseline([f], {f.fingerprint})
    assert f.suppressed == "from a comment"


@pytest.mark.parametrize("content, words", [
    (None, "does not exist"),
    ("{not json", "cannot be read"),
    ('{"version": 99, "findings": []}', "version 1"),
    ("[]", "version 1"),
    ('{"version": 1, "findings": [{"rule_id": "SEC001"}]}', "damaged"),
    ('{"version": 1}', "damaged"),
])
def test_a_missing_or_corrupt_baseline_is_an_error(tmp_path, content, words):
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BaselineError, match=words):
        load_baseline(path)
