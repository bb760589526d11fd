"""What failed, in words: OS, DNS and TLS errors as a person reads them (never `Unknown error -2`)."""

from __future__ import annotations

import errno
import os
import socket
import ssl

from phoenix_ops.patterns import lazy

# getaddrinfo's codes are negative, so os.strerror knows none of them. Worded as os.strerror words.
_RESOLVER = {
    socket.EAI_NONAME: "Name does not resolve (no such host)",
    socket.EAI_AGAIN: "DNS lookup failed for now (try again)",
    socket.EAI_FAIL: "DNS server failed to answer",
    socket.EAI_SERVICE: "Unknown port or service",
    socket.EAI_FAMILY: "Address family not supported",
}
for _name, _words in (("EAI_NODATA", "Name has no address"), ("EAI_ADDRFAMILY", "Name has no address of that family")):
    if hasattr(socket, _name):
        _RESOLVER[getattr(socket, _name)] = _words

_RAW = lazy(r"\[Errno -?\d+\] |Unknown error -?\d+")

_WORDS = {
    errno.ECONNREFUSED: "Connection refused (nothing listens there)",
    errno.ECONNRESET: "Connection reset by peer",
    errno.EHOSTUNREACH: "No route to host",
    errno.ENETUNREACH: "Network is unreachable",
    errno.ETIMEDOUT: "Timed out",
    errno.EADDRNOTAVAIL: "Address not available here",
}


def reason(exc: BaseException) -> str:
    """`exc` in words: an OS error said plainly; another exception by its own message, unless that
    is a raw errno text (httpx's '[Errno -2] ...'), then by the OS error underneath."""
    if isinstance(exc, OSError):
        return os_reason(exc)
    message = str(exc)
    if message and not _RAW.search(message):
        return message
    cause = _innermost_os_error(exc)
    return os_reason(cause) if cause is not None else _RAW.sub("", message).strip() or _words_of_class(exc)


def os_reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"Certificate not trusted ({exc.verify_message or 'verification failed'})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or 'SSL error'})".replace("_", " ")
    if isinstance(exc, socket.gaierror) or (exc.errno is not None and exc.errno < 0):
        return _RESOLVER.get(exc.errno, "Name could not be resolved")
    if isinstance(exc, TimeoutError) and not exc.errno:
        return "Timed out"
    if exc.errno:
        words = _WORDS.get(exc.errno) or os.strerror(exc.errno)
        return f"{exc.filename}: {words}" if exc.filename else words
    return str(exc) or _words_of_class(exc)


def _innermost_os_error(exc: BaseException) -> OSError | None:
    found, seen = None, set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError):
            found = exc
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return found


def _words_of_class(exc: BaseException) -> str:
    """'ConnectTimeout' -> 'connect timeout'."""
    name = type(exc).__name__
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()


def reply(data: bytes, limit: int = 40) -> str:
    """What a peer sent, as a person reads it: its text in quotes (`"HTTP/1.1 400 Bad Request"`), or for
    binary data its first bytes in hex; never a Python bytes literal."""
    if not data:
        return "nothing"
    head = data[:limit]
    text = " ".join(head.decode("latin-1").split())
    if text and sum(32 <= ord(c) < 127 for c in text) >= 0.75 * len(text):
        shown = "".join(c if 32 <= ord(c) < 127 else "." for c in text)  # a stray control byte, as hexdump shows it
        return f'"{shown}{"..." if len(data) > limit else ""}"'
    return "binary data " + " ".join(f"{b:02x}" for b in data[:8]) + (" ..." if len(data) > 8 else "")
