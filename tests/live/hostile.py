"""Hostile servers for the probe's robustness tests: `python hostile.py MODE PORT`.

silent: accepts and never answers · trickle: sends a status line one byte every 0.3 s ·
huge-headers: a 256 KB header · banner: an SSH banner instead of HTTP · chain: /n redirects to
/n+1 forever · bad-location: a redirect to a malformed URL · loop: / redirects to /a, /a back
to / · proxy: a working CONNECT proxy to loopback that counts its tunnels in the X-Tunnels header
of a 'GET /tunnels'."""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlsplit

TUNNELS = [0]


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def tunnel(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    method, target = head.split(b" ")[:2]
    if target == b"/tunnels":
        writer.write(f"HTTP/1.1 200 OK\r\nx-tunnels: {TUNNELS[0]}\r\ncontent-length: 0\r\n\r\n".encode())
        return
    # CONNECT host:port, or plain HTTP in absolute form (GET http://host:port/path)
    authority = target if method == b"CONNECT" else urlsplit(target.decode()).netloc.encode()
    host, port = authority.decode().rsplit(":", 1)
    if host not in ("localhost", "127.0.0.1"):  # loopback only
        writer.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
        return
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(port))
    TUNNELS[0] += 1
    if method == b"CONNECT":
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    else:
        path = urlsplit(target.decode())
        up_writer.write(head.replace(target, (path.path or "/").encode() + (b"?" + path.query.encode()
                                                                            if path.query else b""), 1))
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def handle(mode: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        if mode == "banner":
            writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
            await writer.drain()
            await reader.read(1 << 16)
            return
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ")[1].decode()
        if mode == "proxy":
            await tunnel(head, reader, writer)
        elif mode == "silent":
            await asyncio.sleep(3600)
        elif mode == "trickle":
            for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok":
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.3)
        elif mode == "huge-headers":
            writer.write(b"HTTP/1.1 200 OK\r\nx-big: " + b"a" * (256 * 1024) + b"\r\ncontent-length: 0\r\n\r\n")
        else:
            if mode == "chain":
                nxt = f"/{int(path.strip('/') or 0) + 1}"
            elif mode == "bad-location":
                nxt = "http://[::1"
            else:
                nxt = "/a" if path == "/" else "/"
            writer.write(f"HTTP/1.1 302 Found\r\nlocation: {nxt}\r\ncontent-length: 0\r\n"
                         "connection: close\r\n\r\n".encode())
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(mode: str, port: int) -> None:
    server = await asyncio.start_server(lambda r, w: handle(mode, r, w), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
