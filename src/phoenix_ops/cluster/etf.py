"""Erlang external term format (version 131): the encoding of every distribution message.

Python values map to Erlang terms as: int -> integer, float -> float, Atom -> atom (True/False
encode as the atoms true/false), tuple -> tuple, list -> proper list, ImproperList -> improper
list, bytes -> binary, BitBinary -> bitstring, dict -> map, Pid / Ref / Port / Export -> themselves.
Decoding is the inverse, so a charlist such as "abc" decodes to [97, 98, 99] (see `text`).
The encoder writes UTF-8 atoms and the NEW_PID / NEW_PORT / NEWER_REFERENCE forms (88, 89, 90),
which OTP 23+ reads; the decoder also reads the older forms OTP 25 still writes (latin-1 atoms).
"""

from __future__ import annotations

import struct
import zlib

from phoenix_ops.record import record

VERSION = 131

SMALL_INTEGER, INTEGER, SMALL_BIG, LARGE_BIG = 97, 98, 110, 111
FLOAT, NEW_FLOAT = 99, 70
ATOM, SMALL_ATOM, ATOM_UTF8, SMALL_ATOM_UTF8 = 100, 115, 118, 119
SMALL_TUPLE, LARGE_TUPLE, NIL, STRING, LIST = 104, 105, 106, 107, 108
BINARY, BIT_BINARY, MAP = 109, 77, 116
PID, NEW_PID, NEW_REFERENCE, NEWER_REFERENCE = 103, 88, 114, 90
PORT, NEW_PORT, V4_PORT, EXPORT, COMPRESSED = 102, 89, 120, 113, 80


class DecodeError(ValueError):
    """The bytes are not a term this codec understands."""


class Atom(str):
    """An Erlang atom; a str subclass so comparisons with plain text read naturally."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Atom({str(self)!r})"


@record(frozen=True)
class Pid:
    node: Atom
    id: int
    serial: int
    creation: int


@record(frozen=True)
class Ref:
    node: Atom
    creation: int
    ids: tuple[int, ...]


@record(frozen=True)
class Port:
    node: Atom
    id: int
    creation: int


@record(frozen=True)
class Export:
    module: Atom
    function: Atom
    arity: int


@record(frozen=True)
class BitBinary:
    data: bytes
    bits: int  # bits used in the last byte, 1..8


@record(frozen=True)
class ImproperList:
    items: tuple
    tail: object


def text(value: object) -> str:
    """An Erlang string (charlist or binary) as Python text; anything else as its repr."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list) and all(isinstance(c, int) and 0 <= c < 0x110000 for c in value):
        return "".join(map(chr, value))
    if isinstance(value, str):
        return str(value)
    return repr(value)


# ---------------------------------------------------------------- encoding

def encode(term: object) -> bytes:
    """term_to_binary: the version byte then the term."""
    out = bytearray([VERSION])
    _encode(term, out)
    return bytes(out)


def _encode(term: object, out: bytearray) -> None:
    if isinstance(term, bool):
        _atom(Atom("true" if term else "false"), out)
    elif isinstance(term, int):
        _integer(term, out)
    elif isinstance(term, float):
        out += struct.pack(">Bd", NEW_FLOAT, term)
    elif isinstance(term, Atom):
        _atom(term, out)
    elif isinstance(term, tuple):
        out += _head(len(term), SMALL_TUPLE, LARGE_TUPLE)
        for item in term:
            _encode(item, out)
    elif isinstance(term, list):
        _list(term, None, out)
    elif isinstance(term, ImproperList):
        if isinstance(term.tail, (list, ImproperList)):
            raise ValueError("an improper list's tail cannot be a list (that list is proper, or longer)")
        _list(list(term.items), term.tail, out)
    elif isinstance(term, (bytes, bytearray)):
        out += struct.pack(">BI", BINARY, len(term)) + term
    elif isinstance(term, BitBinary):
        out += struct.pack(">BIB", BIT_BINARY, len(term.data), term.bits) + term.data
    elif isinstance(term, dict):
        out += struct.pack(">BI", MAP, len(term))
        for key, value in term.items():
            _encode(key, out)
            _encode(value, out)
    elif isinstance(term, Pid):
        out.append(NEW_PID)
        _atom(term.node, out)
        out += struct.pack(">III", term.id, term.serial, term.creation)
    elif isinstance(term, Ref):
        out += struct.pack(">BH", NEWER_REFERENCE, len(term.ids))
        _atom(term.node, out)
        out += struct.pack(f">I{len(term.ids)}I", term.creation, *term.ids)
    elif isinstance(term, Port):
        wide = term.id >= 1 << 32
        out.append(V4_PORT if wide else NEW_PORT)
        _atom(term.node, out)
        out += struct.pack(">QI" if wide else ">II", term.id, term.creation)
    elif isinstance(term, Export):
        out.append(EXPORT)
        _atom(term.module, out)
        _atom(term.function, out)
        _integer(term.arity, out)
    else:
        raise TypeError(f"no Erlang term for {type(term).__name__} (use Atom for atoms, bytes for binaries)")


def _head(size: int, small_tag: int, large_tag: int, large_size: str = "I") -> bytes:
    """Tag and size, in the one-byte-size form when the size fits in a byte."""
    return struct.pack(">BB", small_tag, size) if size < 256 else struct.pack(f">B{large_size}", large_tag, size)


def _integer(n: int, out: bytearray) -> None:
    if 0 <= n < 256:
        out += struct.pack(">BB", SMALL_INTEGER, n)
    elif -(1 << 31) <= n < (1 << 31):
        out += struct.pack(">Bi", INTEGER, n)
    else:
        magnitude = abs(n)
        digits = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "little")
        out += _head(len(digits), SMALL_BIG, LARGE_BIG) + bytes([n < 0]) + digits


def _atom(atom: str, out: bytearray) -> None:
    data = atom.encode("utf-8")
    if len(atom) > 255:
        raise ValueError(f"atom longer than 255 characters: {atom[:20]!r}...")
    out += _head(len(data), SMALL_ATOM_UTF8, ATOM_UTF8, large_size="H") + data


def _list(items: list, tail: object | None, out: bytearray) -> None:
    """A list; `tail` None means proper (ends in []), anything else is an improper tail."""
    # OTP writes a proper list of bytes as a STRING_EXT; so do we, to stay byte-compatible.
    if tail is None and items and len(items) < 65536 and all(type(i) is int and 0 <= i < 256 for i in items):
        out += struct.pack(">BH", STRING, len(items)) + bytes(items)
        return
    if not items:
        if tail is None:
            out.append(NIL)
            return
        raise ValueError("an improper list needs at least one element")
    out += struct.pack(">BI", LIST, len(items))
    for item in items:
        _encode(item, out)
    if tail is None:
        out.append(NIL)
    else:
        _encode(tail, out)


# ---------------------------------------------------------------- decoding

def decode(data: bytes) -> object:
    """binary_to_term: the whole of `data` must be one term."""
    term, end = decode_prefix(data)
    if end != len(data):
        raise DecodeError(f"{len(data) - end} bytes after the term")
    return term


def decode_prefix(data: bytes, offset: int = 0) -> tuple[object, int]:
    """Decode one versioned term starting at `offset`; return it and the offset after it."""
    if len(data) <= offset or data[offset] != VERSION:
        raise DecodeError("missing version byte 131")
    try:
        if len(data) > offset + 1 and data[offset + 1] == COMPRESSED:
            return _decompressed(data, offset + 2)
        reader = _Reader(data, offset + 1)
        return reader.term(), reader.pos
    except RecursionError:
        raise DecodeError("term nested too deeply") from None


def _decompressed(data: bytes, offset: int) -> tuple[object, int]:
    (size,) = _unpack(">I", data, offset)
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(data[offset + 4:])
    except zlib.error as exc:
        raise DecodeError(f"bad compressed term: {exc}") from None
    if len(inflated) != size or not inflater.eof:
        raise DecodeError("compressed term has the wrong size")
    return _Reader(inflated).whole(), len(data) - len(inflater.unused_data)


def _unpack(fmt: str, data: bytes, pos: int) -> tuple:
    try:
        return struct.unpack_from(fmt, data, pos)
    except struct.error:
        raise DecodeError("term ends early") from None


class _Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def whole(self) -> object:
        term = self.term()
        if self.pos != len(self.data):
            raise DecodeError("bytes after the compressed term")
        return term

    def take(self, fmt: str) -> tuple:
        values = _unpack(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DecodeError("term ends early")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def atom(self) -> Atom:
        term = self.term()
        if not isinstance(term, Atom):
            raise DecodeError(f"expected an atom, got a {type(term).__name__}")
        return term

    def term(self) -> object:
        (tag,) = self.take(">B")
        handler = _HANDLERS.get(tag)
        if handler is None:
            raise DecodeError(f"unsupported term tag {tag}")
        return handler(self)

    def items(self, n: int) -> list:
        return [self.term() for _ in range(n)]


def _atom_text(reader: _Reader, size_fmt: str, encoding: str) -> Atom:
    (size,) = reader.take(size_fmt)
    try:
        name = Atom(reader.raw(size).decode(encoding))
    except UnicodeDecodeError:
        raise DecodeError("atom text is not valid UTF-8") from None
    if len(name) > 255:
        raise DecodeError("atom longer than 255 characters")
    return name


def _big(reader: _Reader, size_fmt: str) -> int:
    (size,) = reader.take(size_fmt)
    (sign,) = reader.take(">B")
    n = int.from_bytes(reader.raw(size), "little")
    return -n if sign else n


def _list_ext(reader: _Reader) -> object:
    (n,) = reader.take(">I")
    items = reader.items(n)
    tail = reader.term()
    # [1 | [2]] is the proper list [1, 2], however the bytes spell it
    if isinstance(tail, list):
        return items + tail
    if isinstance(tail, ImproperList):
        return ImproperList(tuple(items) + tail.items, tail.tail)
    return ImproperList(tuple(items), tail)


def _map(reader: _Reader) -> dict:
    (n,) = reader.take(">I")
    out = {}
    for _ in range(n):
        key = reader.term()
        try:
            out[key] = reader.term()
        except TypeError:
            raise DecodeError(f"a map key of type {type(key).__name__} has no Python equivalent") from None
    return out


def _pid(reader: _Reader, creation_fmt: str) -> Pid:
    node = reader.atom()
    ident, serial, creation = reader.take(">II" + creation_fmt)
    return Pid(node, ident, serial, creation)


def _ref(reader: _Reader, creation_fmt: str) -> Ref:
    (n,) = reader.take(">H")
    node = reader.atom()
    (creation,) = reader.take(">" + creation_fmt)
    return Ref(node, creation, reader.take(f">{n}I"))


def _port(reader: _Reader, fmt: str) -> Port:
    node = reader.atom()
    ident, creation = reader.take(fmt)
    return Port(node, ident, creation)


def _bit_binary(reader: _Reader) -> BitBinary:
    size, bits = reader.take(">IB")
    return BitBinary(reader.raw(size), bits)


def _float_text(reader: _Reader) -> float:
    try:
        return float(reader.raw(31).split(b"\0", 1)[0])
    except ValueError:
        raise DecodeError("bad FLOAT_EXT text") from None


def _export(reader: _Reader) -> Export:
    module, function = reader.atom(), reader.atom()
    arity = reader.term()
    if not isinstance(arity, int):
        raise DecodeError("export arity is not an integer")
    return Export(module, function, arity)


_HANDLERS = {
    SMALL_INTEGER: lambda r: r.take(">B")[0],
    INTEGER: lambda r: r.take(">i")[0],
    SMALL_BIG: lambda r: _big(r, ">B"),
    LARGE_BIG: lambda r: _big(r, ">I"),
    NEW_FLOAT: lambda r: r.take(">d")[0],
    FLOAT: _float_text,
    ATOM: lambda r: _atom_text(r, ">H", "latin-1"),
    SMALL_ATOM: lambda r: _atom_text(r, ">B", "latin-1"),
    ATOM_UTF8: lambda r: _atom_text(r, ">H", "utf-8"),
    SMALL_ATOM_UTF8: lambda r: _atom_text(r, ">B", "utf-8"),
    SMALL_TUPLE: lambda r: tuple(r.items(r.take(">B")[0])),
    LARGE_TUPLE: lambda r: tuple(r.items(r.take(">I")[0])),
    NIL: lambda r: [],
    STRING: lambda r: list(r.raw(r.take(">H")[0])),
    LIST: _list_ext,
    BINARY: lambda r: r.raw(r.take(">I")[0]),
    BIT_BINARY: _bit_binary,
    MAP: _map,
    PID: lambda r: _pid(r, "B"),
    NEW_PID: lambda r: _pid(r, "I"),
    NEW_REFERENCE: lambda r: _ref(r, "B"),
    NEWER_REFERENCE: lambda r: _ref(r, "I"),
    PORT: lambda r: _port(r, ">IB"),
    NEW_PORT: lambda r: _port(r, ">II"),
    V4_PORT: lambda r: _port(r, ">QI"),
    EXPORT: _export,
}
