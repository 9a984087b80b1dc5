"""A small MCP server for tests: a read, a slow, a failing and a write tool; stdio or HTTP.

With `FAKE_MCP_CALLS` set, the write tool appends each call it runs to that file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator

import uvicorn
from mcp.server.fastmcp import FastMCP

LOOKUP = "Switchboard docs: the answer is 42."
SLOW_SECONDS = 5.0
# A path: while no file is there, `lookup` waits, so a test can watch the tool run.
GATE = "FAKE_MCP_GATE"


async def _gate() -> None:
    if path := os.environ.get(GATE):
        while not os.path.exists(path):
            await asyncio.sleep(0.02)


def build() -> FastMCP:
    """A fresh server (a FastMCP's HTTP session manager runs only once)."""
    server = FastMCP("fake", log_level="WARNING")

    @server.tool()
    async def lookup(topic: str) -> str:
        """Look a topic up in the docs."""
        await _gate()
        return f"{LOOKUP} (topic: {topic})"

    @server.tool()
    async def slow(topic: str) -> str:
        """A lookup that takes far too long."""
        await asyncio.sleep(SLOW_SECONDS)
        return "too late"

    @server.tool()
    async def failing(topic: str) -> str:
        """A lookup that always breaks."""
        raise RuntimeError("the index is broken")

    @server.tool()
    async def delete_note(id: str) -> str:
        """Delete a note for good."""
        if calls := os.environ.get("FAKE_MCP_CALLS"):  # so tests can count what really ran
            with open(calls, "a") as out:
                out.write(f"delete_note {id}\n")
        return f"deleted {id}"

    return server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve_http() -> AsyncIterator[str]:
    """Serve a fresh server over streamable HTTP on a free loopback port; yields its URL."""
    port = _free_port()
    config = uvicorn.Config(build().streamable_http_app(), host="127.0.0.1", port=port,
                            log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, 5)
        except TimeoutError:
            task.cancel()


def main() -> None:
    """Over stdio; with `FAKE_MCP_PIDFILE` set, first append this process's pid to it."""
    if pidfile := os.environ.get("FAKE_MCP_PIDFILE"):
        with open(pidfile, "a") as out:
            out.write(f"{os.getpid()}\n")
    build().run("stdio")


if __name__ == "__main__":
    main()
