"""Hostile servers for the probe's robustness tests: `python hostile.py MODE PORT`.

silent: accepts and never answers · trickle: sends a status line one byte every 0.3 s ·
huge-headers: a 256 KB header · banner: an SSH banner instead of HTTP · chain: /n redirects to
/n+1 forever · loop: / redirects to /a, /a back to /."""

from __future__ import annotations

import asyncio
import sys


async def handle(mode: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        if mode == "banner":
            writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
            await writer.drain()
            await reader.read(1 << 16)
            return
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ")[1].decode()
        if mode == "silent":
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
