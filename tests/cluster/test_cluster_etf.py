"""The term codec: properties in Python, and agreement with a real `erl` in both directions."""

from __future__ import annotations

import math
import re
import struct
import subprocess
import zlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from phoenix_ops.cluster import etf
from phoenix_ops.cluster.erlang_syntax import show
from phoenix_ops.cluster.etf import (
    Atom,
    BitBinary,
    DecodeError,
    Export,
    ImproperList,
    Pid,
    Port,
    Ref,
)

# Hypothesis sometimes prints the nested recursive strategy while drawing: noise, not a finding.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

U32 = st.integers(0, 2**32 - 1)
atoms = st.text(max_size=255).map(Atom)
node_names = st.from_regex(r"[a-z][a-z0-9_]{0,20}@[a-z0-9.]{1,20}", fullmatch=True).map(Atom)
bit_binaries = st.builds(
    lambda data, bits: BitBinary(data[:-1] + bytes([data[-1] & (0xFF << (8 - bits)) & 0xFF]), bits),
    st.binary(min_size=1, max_size=20), st.integers(1, 7))
# up to 2200 bits: past 255 bytes is LARGE_BIG_EXT (written this way to keep the strategy's repr short)
big_integers = st.builds(lambda bits, low, negative: (-1) ** negative * ((1 << bits) + low),
                         st.integers(0, 2200), st.integers(0, 2**64), st.booleans())
hashable_leaves = st.one_of(st.integers(), atoms, st.binary(max_size=20))
map_keys = st.one_of(hashable_leaves, st.tuples(hashable_leaves, hashable_leaves))
leaves = st.one_of(
    st.integers(), big_integers, st.floats(allow_nan=False, allow_infinity=False),
    atoms, st.binary(max_size=40), bit_binaries,
    st.builds(Pid, node_names, U32, U32, U32),
    st.builds(lambda n, c, ids: Ref(n, c, tuple(ids)), node_names, U32, st.lists(U32, min_size=1, max_size=5)),
    st.builds(Port, node_names, st.integers(0, 2**64 - 1), U32),
    st.builds(Export, atoms, atoms, st.integers(0, 255)),
)
_terms = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6), st.lists(inner, max_size=6).map(tuple),
        st.lists(st.integers(0, 255), max_size=30),  # what OTP writes as STRING_EXT
        # the tail of an improper list is anything but a list (a list tail makes it proper, or longer)
        st.builds(lambda items, tail: ImproperList(tuple(items), tail),
                  st.lists(inner, min_size=1, max_size=4), leaves),
        st.dictionaries(map_keys, inner, max_size=5),
    ),
    max_leaves=25,
)
terms = st.deferred(lambda: _terms)  # keeps the strategy's repr (shown in reports) short


def same(a, b) -> bool:
    """Equality that keeps Erlang's distinctions Python's == blurs (1 == 1.0, 0.0 == -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, ImproperList):
        return same(a.items, b.items) and same(a.tail, b.tail)
    return a == b


def test_same_keeps_erlang_distinctions():
    assert not same(1, 1.0) and not same(0.0, -0.0) and not same([1], (1,)) and same({Atom("a"): [1]}, {Atom("a"): [1]})


@given(terms)
@settings(max_examples=400, deadline=None)
def test_round_trip_in_python(term):
    assert same(etf.decode(etf.encode(term)), term)


@given(st.binary(max_size=64))
@settings(max_examples=500, deadline=None)
def test_garbage_is_rejected_or_decodes_to_a_term_we_can_write_back(data):
    for blob in (data, b"\x83" + data):
        try:
            term = etf.decode(blob)
        except DecodeError:
            continue
        assert same(etf.decode(etf.encode(term)), term)


@given(terms, st.data())
@settings(max_examples=300, deadline=None)
def test_corrupted_terms_are_rejected_or_still_terms(term, data):
    blob = bytearray(etf.encode(term))
    at = data.draw(st.integers(1, len(blob) - 1))
    blob[at] = data.draw(st.integers(0, 255))
    try:
        decoded = etf.decode(bytes(blob))
    except DecodeError:
        return
    assert same(etf.decode(etf.encode(decoded)), decoded)


@given(terms, st.data())
@settings(max_examples=200, deadline=None)
def test_truncated_terms_raise_decode_error(term, data):
    blob = etf.encode(term)
    cut = data.draw(st.integers(1, len(blob) - 1))
    with pytest.raises(DecodeError):
        etf.decode(blob[:cut])


def test_deep_nesting_is_a_decode_error_not_a_crash():
    blob = b"\x83" + b"\x68\x01" * 100_000 + b"\x6a"
    with pytest.raises(DecodeError):
        etf.decode(blob)


def test_encoding_choices_match_otp():
    assert etf.encode(255)[1] == etf.SMALL_INTEGER and etf.encode(256)[1] == etf.INTEGER
    assert etf.encode(2**31)[1] == etf.SMALL_BIG and etf.encode(2**2048)[1] == etf.LARGE_BIG
    assert etf.encode([1, 2])[1] == etf.STRING and etf.encode([1, 256])[1] == etf.LIST
    assert etf.encode(tuple(range(256)))[1] == etf.LARGE_TUPLE
    assert etf.encode(True) == etf.encode(Atom("true"))
    with pytest.raises(TypeError):
        etf.encode("plain text is neither an atom nor a binary")
    with pytest.raises(ValueError):
        etf.encode(Atom("x" * 256))


def test_compressed_term_with_a_term_after_it():
    inner = etf.encode([Atom("a")] * 100)[1:]
    blob = b"\x83\x50" + struct.pack(">I", len(inner)) + zlib.compress(inner) + etf.encode(7)
    term, end = etf.decode_prefix(blob)
    assert term == [Atom("a")] * 100 and etf.decode(blob[end:]) == 7


def test_text_of_charlists_and_binaries():
    assert etf.text([104, 233, 0x65E5]) == "hé日" and etf.text(b"25") == "25" and etf.text(Atom("ok")) == "ok"


def test_terms_are_shown_in_erlang_syntax():
    assert show((Atom("badrpc"), (Atom("EXIT"), [104, 105]))) == "{badrpc, {'EXIT', \"hi\"}}"
    assert show({Atom("ok"): b"done", 1: b"\xff\x00"}) == '#{ok => <<"done">>, 1 => <<255, 0>>}'
    assert show(ImproperList((1,), Atom("nil"))) == "[1 | nil]" and show(list(range(20))).endswith(", ...]")
    assert show([[[[[[[[[[1]]]]]]]]]]) == "[[[[[[[[...]]]]]]]]" and len(show(b"x" * 500)) == 200


@given(terms)
@example(Export(Atom(""), Atom(" b"), 0))
@settings(max_examples=200, deadline=None)
def test_any_term_is_shown_briefly_and_never_as_python(term):
    said = show(term)
    # Quoted atoms and strings may hold any text (an atom ' b' is shown as ' b'): judge what is outside them.
    # A Python repr left outside shows as `Atom(` or as a `b` right before a quoted part (b'...').
    outside = re.sub(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", "Q", said)
    assert len(said) <= 200 and not re.search(r"Atom\(|(?:^|[\s(\[{,|])bQ", outside)


# ------------------------------------------------------------------ against a real erl

ECHO = (
    "P = open_port({fd, 0, 1}, [binary, {packet, 4}, eof]), "
    "L = fun(F) -> receive "
    "{P, {data, B}} -> R = try {ok, binary_to_term(B)} catch C:E -> {error, C, E} end, "
    "port_command(P, term_to_binary(R)), F(F); "
    "{P, eof} -> halt() end end, L(L)."
)


class ErlEcho:
    """An erl that answers each packet with term_to_binary({ok, binary_to_term(Packet)})."""

    def __init__(self, tmp) -> None:
        self.proc = subprocess.Popen(["erl", "-noinput", "-eval", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env={"HOME": str(tmp), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})

    def echo(self, blob: bytes) -> object:
        self.proc.stdin.write(struct.pack(">I", len(blob)) + blob)
        self.proc.stdin.flush()
        (size,) = struct.unpack(">I", self._read(4))
        return etf.decode(self._read(size))

    def _read(self, n: int) -> bytes:
        data = self.proc.stdout.read(n)
        if len(data) != n:
            raise RuntimeError(f"erl stopped answering (exit {self.proc.poll()})")
        return data

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def erl(tmp_path_factory):
    echo = ErlEcho(tmp_path_factory.mktemp("erl"))
    try:
        assert echo.echo(etf.encode(Atom("ping"))) == (Atom("ok"), Atom("ping")), "erl echo did not start"
        yield echo
    finally:
        echo.close()


@pytest.mark.slow
@given(terms)
@settings(max_examples=300, deadline=None)
def test_erl_reads_what_we_write_and_we_read_what_it_writes(erl, term):
    reply = erl.echo(etf.encode(term))
    assert reply[0] == Atom("ok"), reply
    assert same(reply[1], term)


# Terms written in Erlang syntax, with the Python value each must decode to.
LITERALS = [
    ("0", 0), ("-1", -1), ("255", 255), ("256", 256), ("-2147483648", -(2**31)), ("1 bsl 100", 2**100),
    ("-(1 bsl 2100)", -(2**2100)), ("1.5", 1.5), ("-0.0", -0.0), ("1.0e300", 1.0e300),
    ("ok", Atom("ok")), ("'héllo'", Atom("héllo")), ("'日本'", Atom("日本")), ("''", Atom("")),
    ("{}", ()), ("{a, 1}", (Atom("a"), 1)), ("list_to_tuple(lists:seq(1, 300))", tuple(range(1, 301))),
    ("[]", []), ("\"abc\"", [97, 98, 99]), ("[1000, 2]", [1000, 2]), ("[1 | 2]", ImproperList((1,), 2)),
    ("<<\"bin\">>", b"bin"), ("<<1:3>>", BitBinary(b"\x20", 3)),
    ("#{a => 1, <<\"b\">> => [x]}", {Atom("a"): 1, b"b": [Atom("x")]}),
    ("c:pid(0, 85, 3)", Pid(Atom("nonode@nohost"), 85, 3, 0)),
    ("list_to_ref(\"#Ref<0.1.2.3>\")", Ref(Atom("nonode@nohost"), 0, (3, 2, 1))),
    ("fun erlang:abs/1", Export(Atom("erlang"), Atom("abs"), 1)),
    ("[{kernel, \"ERTS  CXC 138 10\", \"8.5.3\"}]", [(Atom("kernel"), list(b"ERTS  CXC 138 10"), list(b"8.5.3"))]),
]


@pytest.mark.slow
def test_terms_written_by_erl_decode_to_the_expected_values(tmp_path):
    program = "".join(f'io:format("~s~n", [binary:encode_hex(term_to_binary({src}))]), ' for src, _ in LITERALS)
    program += 'io:format("~s~n", [binary:encode_hex(term_to_binary(lists:duplicate(500, a), [compressed]))]), halt().'
    out = subprocess.run(["erl", "-noshell", "-eval", program], capture_output=True, text=True, timeout=30,
                         env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, check=True).stdout
    lines = out.split()
    assert len(lines) == len(LITERALS) + 1, out
    for (src, expected), hex_blob in zip(LITERALS, lines):
        assert same(etf.decode(bytes.fromhex(hex_blob)), expected), src
    compressed = bytes.fromhex(lines[-1])
    assert compressed[1] == etf.COMPRESSED and etf.decode(compressed) == [Atom("a")] * 500


def test_floats_survive_bit_for_bit():
    for value in (0.1, -0.0, 5e-324, math.pi, 1.7976931348623157e308):
        assert struct.pack(">d", etf.decode(etf.encode(value))) == struct.pack(">d", value)
