"""Failures said in words: no `Unknown error -2`, no `[Errno -2] Name or service not known`."""

from __future__ import annotations

import errno
import json
import socket

import httpx
import pytest
from cli_run import invoke

from phoenix_ops.cluster.discovery import Seed, parse_hosts
from phoenix_ops.reasons import os_reason, reason, reply

RAW = ("Errno", "Unknown error", "gaierror")


def wrapped(inner: BaseException, outer: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as exc:
        return exc


@pytest.mark.parametrize("exc, words", [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "Name does not resolve"),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), "try again"),
    (OSError(-2, "Unknown error -2"), "Name does not resolve"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)"), "Connection refused"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/y"), "/x/y: No such file or directory"),
    (TimeoutError(), "Timed out"),
])
def test_os_errors_in_words(exc, words):
    said = os_reason(exc)
    assert words in said and not any(raw in said for raw in RAW)


def test_a_library_error_quoting_errno_text_is_said_by_its_cause():
    exc = wrapped(socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
                  httpx.ConnectError("[Errno -2] Name or service not known"))
    assert reason(exc) == "Name does not resolve (no such host)"
    assert reason(ValueError("--timeout must be positive")) == "--timeout must be positive"
    assert reason(httpx.ConnectError("[Errno -3] Temporary failure")) == "Temporary failure"


@pytest.mark.parametrize("data, words", [
    (b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n", '"HTTP/1.1 400 Bad Request content-length..."'),
    (b"SSH-2.0-OpenSSH_9.2\r\n" + b"x" * 40, '"SSH-2.0-OpenSSH_9.2 xxxxxxxxxxxxxxxxxxx..."'),
    (b"\x00\x00\x11\x11this is not epmd", '"....this is not epmd"'),
    (b"\xde\xad\xbe\xef" * 8, "binary data de ad be ef de ad be ef ..."),
    (b"", "nothing"),
])
def test_replies_in_words(data, words):
    assert reply(data) == words


def test_probe_of_a_name_that_does_not_resolve_says_so_in_words():
    result = invoke(["probe", "https://no-such-host.invalid/", "-f", "json", "--timeout", "2"])
    doc = json.loads(result.stdout)
    messages = [f["message"] for f in doc["findings"]]
    assert result.exit_code == 1 and any("cannot connect" in m for m in messages), messages
    assert not any(raw in m for m in messages for raw in RAW), messages


def test_cluster_hosts_take_an_epmd_port_and_named_nodes_a_distribution_port():
    assert parse_hosts("127.0.0.1:8765", None, None) == [Seed("127.0.0.1", "127.0.0.1", "hosts", epmd_port=8765)]
    assert parse_hosts("[::1]:4370,::1", "app", None) == [
        Seed("::1", "::1", "hosts", "app", epmd_port=4370), Seed("::1", "::1", "hosts", "app")]
    assert parse_hosts("shop@10.0.0.5:9100", None, None) == [Seed("10.0.0.5", "10.0.0.5", "hosts", "shop", 9100)]
    with pytest.raises(ValueError, match="'99999' in h:99999 is not a TCP port"):
        parse_hosts("h:99999", None, None)
