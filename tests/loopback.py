"""Loopback HTTP stand-ins between the kiosk's client and the simulator, for tests that
break the network on purpose: one asyncio server on 127.0.0.1 and the HTTP framing they
need to forward a request and its reply whole."""

from __future__ import annotations

import asyncio


class LoopbackServer:
    """An asyncio server on a free loopback port; subclasses answer in ``_serve``."""

    server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


async def read_http_message(reader: asyncio.StreamReader) -> bytes:
    """One request or reply, head and ``Content-Length`` body, as it came."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


async def forward(upstream: tuple[str, int], request: bytes) -> bytes:
    """``request`` sent to ``upstream`` on a connection of its own; its whole reply."""
    reader, writer = await asyncio.open_connection(*upstream)
    try:
        writer.write(request)
        await writer.drain()
        return await read_http_message(reader)
    finally:
        writer.close()
