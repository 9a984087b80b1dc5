"""A loopback TCP proxy in front of Redis that can swallow one reply, as a flaky network does."""

from __future__ import annotations

import asyncio
import contextlib


class _Proxy:
    """A loopback listener that hands each client connection to `_client`."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server:
            self.server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class DroppingProxy(_Proxy):
    """Forwards bytes both ways; when armed, drops the reply to a request containing `needle`."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.needle: bytes | None = None
        self.hits = 0  # requests seen containing the needle

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        drop = asyncio.Event()
        await asyncio.gather(self._up(reader, up_writer, drop),
                             self._down(up_reader, writer, drop), return_exceptions=True)
        for w in (writer, up_writer):
            w.close()

    async def _up(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  drop: asyncio.Event) -> None:
        while data := await reader.read(65536):
            if self.needle and self.needle in data:
                self.hits += 1
                if self.hits == 1:
                    drop.set()
            writer.write(data)
            await writer.drain()

    async def _down(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    drop: asyncio.Event) -> None:
        while data := await reader.read(65536):
            if drop.is_set():
                # The server applied the request; the client never hears back.
                with contextlib.suppress(Exception):
                    writer.transport.abort()
                return
            writer.write(data)
            await writer.drain()


class FlightProxy(_Proxy):
    """Forwards bytes both ways and counts round trips: client sends that follow a reply."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.flights = 0

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        replied = [True]  # per connection: did the server answer since the client last sent?

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            while data := await src.read(65536):
                if up and replied[0]:
                    self.flights += 1
                replied[0] = not up
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False),
                             return_exceptions=True)
