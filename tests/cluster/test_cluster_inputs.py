"""Cookie sources and the shapes of remote replies, in isolation."""

from __future__ import annotations

import pytest

from phoenix_ops.cluster.cookie import CookieError, load_cookie
from phoenix_ops.cluster.etf import Atom
from phoenix_ops.cluster.facts import NodeFacts, _fill


def test_cookie_file_then_release_cookie_then_home(tmp_path):
    (tmp_path / ".erlang.cookie").write_text("from-home\n")
    given = tmp_path / "given"
    given.write_text("  from-file \n")
    env = {"HOME": str(tmp_path), "RELEASE_COOKIE": "from-env"}
    assert load_cookie(given, env) == ("from-file", str(given))
    assert load_cookie(None, env) == ("from-env", "RELEASE_COOKIE")
    assert load_cookie(None, {"HOME": str(tmp_path), "RELEASE_COOKIE": "  "}) == (
        "from-home", str(tmp_path / ".erlang.cookie"))


def test_cookie_errors_name_the_place_never_a_value(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(CookieError, match="is empty"):
        load_cookie(empty, {})
    with pytest.raises(CookieError, match="no cookie"):
        load_cookie(None, {"HOME": str(tmp_path)})


def test_replies_of_an_unexpected_shape_count_as_failed_calls():
    facts = NodeFacts()
    _fill(facts, {
        "visible": Atom("ignored"),  # not a list
        "applications": [(Atom("kernel"), list(b"ERTS"), list(b"8.5.3")), (Atom("broken"),)],
        "memory": [(Atom("total"), 1024)],
        "process_count": 3.5,
        "net_ticktime": (Atom("ongoing_change_to"), 30),
        "start_time": -100, "monotonic_now": 400, "native_per_second": 100,
    })
    assert set(facts.failed) == {"visible", "applications", "process_count"}
    assert facts.memory == {"total": 1024} and facts.net_ticktime == 30 and facts.uptime_seconds == 5.0
    assert facts.visible is None and facts.applications == {}

