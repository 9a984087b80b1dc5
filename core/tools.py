"""`Toolbox`: the MCP servers' tools, opened once per process and closed with every server.

Each server gets one long-lived session, held open by its own task (the MCP SDK's anyio
scopes must be entered and left in one task). A server that fails to start or to list its
tools within `start_timeout` is logged by name and error class only (never its env, which
may hold keys) and left out; the others still serve. Closing stops every stdio process.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from langchain_core.tools import BaseTool
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.sessions import Connection
from langchain_mcp_adapters.tools import load_mcp_tools

from core.config import McpServer

log = logging.getLogger("switchboard.tools")
SEPARATOR = "__"  # between server and tool: `docs__lookup`
STOP_TIMEOUT = 10.0  # a stdio server gets 2 s after its stdin closes, then SIGTERM, SIGKILL


@dataclass(frozen=True, slots=True)
class Tool:
    """One tool as the model sees it (`name` is `<server>__<tool>`), and whether it writes."""

    name: str
    server: str
    write: bool
    tool: BaseTool


def connection(server: McpServer) -> Connection:
    """The adapters' connection for one configured server."""
    if server.url is not None:
        return {"transport": "streamable_http", "url": server.url}
    return {"transport": "stdio", "command": server.command or "", "args": server.args,
            "env": server.env or None}


def model_name(server: str, tool: str) -> str:
    """A name OpenAI accepts (`^[A-Za-z0-9_-]{1,64}$`) that says which server it comes from."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}{SEPARATOR}{tool}")[:64]


def error_class(exc: BaseException) -> str:
    """The innermost error's class name, through anyio's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return type(exc).__name__


class Toolbox:
    """The tools of every configured MCP server that started; `async with` opens and closes."""

    def __init__(self, servers: Mapping[str, McpServer], start_timeout: float = 15.0) -> None:
        self.servers, self.start_timeout = dict(servers), start_timeout
        self.tools: tuple[Tool, ...] = ()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def get(self, name: str) -> Tool | None:
        return next((tool for tool in self.tools if tool.name == name), None)

    async def __aenter__(self) -> Self:
        try:
            loaded = await asyncio.gather(*(self._start(name, server)
                                            for name, server in self.servers.items()))
        except BaseException:  # cancelled while starting: stop every server, started or not
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
            raise
        self.tools = tuple(tool for tools in loaded for tool in tools)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._stop.set()
        tasks, self._tasks, self.tools = self._tasks, [], ()
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _start(self, name: str, server: McpServer) -> list[Tool]:
        ready: asyncio.Future[list[BaseTool]] = asyncio.get_running_loop().create_future()
        ready.add_done_callback(_seen)  # its error is logged here, not as "never retrieved"
        task = asyncio.create_task(self._hold(name, connection(server), ready),
                                   name=f"mcp:{name}")
        self._tasks.append(task)
        try:
            found = await asyncio.wait_for(asyncio.shield(ready), self.start_timeout)
        except Exception as exc:
            log.warning("mcp server left out name=%s error=%s", name, error_class(exc))
            self._tasks.remove(task)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return []
        writes = set(server.write_tools)
        tools = [Tool(model_name(name, t.name), name, t.name in writes,
                      t.model_copy(update={"name": model_name(name, t.name)})) for t in found]
        log.info("mcp server ready name=%s tools=%d", name, len(tools))
        return tools

    async def _hold(self, name: str, conn: Connection,
                    ready: asyncio.Future[list[BaseTool]]) -> None:
        """Open the server's session, hand its tools over, keep it open until the close."""
        try:
            client = MultiServerMCPClient({name: conn})
            async with client.session(name) as session:
                ready.set_result(await load_mcp_tools(session, server_name=name))
                await self._stop.wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(exc)
            else:
                log.warning("mcp server stopped name=%s error=%s", name, error_class(exc))
        finally:
            if not ready.done():
                ready.cancel()


def _seen(future: asyncio.Future[list[BaseTool]]) -> None:
    if not future.cancelled():
        future.exception()


def describe(toolbox: Toolbox) -> str:
    """One line for the start-up log: the tools' names, never a server's settings."""
    return ", ".join(tool.name for tool in toolbox.tools) or "no tools"


