"""The tool loop of one turn: stream the model, run the tools it asks for, stream it again.

A small loop of our own rather than LangChain's agent (`langchain.agents.create_agent`,
which needs LangGraph, not a dependency): the turn's contract needs things that loop does not
give as a generator: per-chunk deadline waits (a timeout spanning `yield` would cancel the
consumer), status events between text pieces, write tools refused before they run, tool
output clipped, and cancellation that stops the tool call in flight.
Tool output is untrusted: it only ever reaches the model inside a `ToolMessage`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessageChunk, BaseMessage, ToolCall, ToolMessage

from core.settings import CoreSettings
from core.tools import Tool, error_class
from core.turn import Work

log = logging.getLogger("switchboard.tools")
State = Literal["running", "done", "failed", "needs confirmation"]
ARGS_CHARS = 200  # of one call's arguments, in the turn's record
CONFIRM = ("Not run: this tool changes data, and the user has not confirmed it. Tell the user "
           "what you would do and ask them to confirm; do not claim it was done.")
UNKNOWN = "Not run: there is no tool of that name."


@dataclass(frozen=True, slots=True)
class ToolStatus:
    """A tool's progress, for adapters to show ("Searching the docs…"); never its output."""

    name: str
    state: State


@dataclass(frozen=True, slots=True)
class ToolRun:
    """One tool call of a turn, for its record: the name, clipped arguments and how it ended."""

    name: str
    args: str
    state: State


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """Per call: `timeout` seconds and `output_chars`; per turn: `steps` model rounds."""

    timeout: float = 20.0
    steps: int = 4
    output_chars: int = 4000

    @classmethod
    def of(cls, settings: CoreSettings) -> ToolLimits:
        return cls(settings.tool_timeout, settings.tool_steps, settings.tool_output_chars)


@dataclass(slots=True)
class ToolTurn:
    """One turn's loop over the allowed `tools`; `ran` records the calls as they end."""

    tools: Sequence[Tool]
    limits: ToolLimits = ToolLimits()
    ran: list[ToolRun] = field(default_factory=list)
    record: list[str] | None = None  # `name {args}` per call, as the turn stores them
    async def pieces(self, work: Work, deadline: float
                     ) -> AsyncGenerator[str | ToolStatus, None]:
        """The answer's text pieces and tool statuses, all within `deadline` seconds."""
        if work.heard:
            yield work.heard
        end = asyncio.get_running_loop().time() + deadline
        messages: list[BaseMessage] = list(work.prompt.messages)
        bound = _bind(work.model, self.tools)
        for step in range(self.limits.steps + 1):
            model = bound if bound is not None and step < self.limits.steps else work.model
            said: list[AIMessageChunk] = []
            async for piece in _stream(work, model, messages, end, said):
                yield piece
            calls = said[0].tool_calls if said else []
            if not calls or model is work.model:
                return
            messages.append(said[0])
            for call in calls:
                async for status in self._call(call, messages, end):
                    yield status

    async def _call(self, call: ToolCall, messages: list[BaseMessage], end: float
                    ) -> AsyncGenerator[ToolStatus, None]:
        """Run one call (or refuse it) and add its result to `messages`."""
        tool = next((t for t in self.tools if t.name == call["name"]), None)
        name = call["name"]
        if tool is None or tool.write:
            state: State = "failed" if tool is None else "needs confirmation"
            messages.append(_result(call, UNKNOWN if tool is None else CONFIRM, error=True))
            self._record(call, state)
            yield ToolStatus(name, state)
            return
        yield ToolStatus(name, "running")
        limit = min(self.limits.timeout, end - asyncio.get_running_loop().time())
        message = await _run(tool, call, max(limit, 0.001))
        text, failed = _text(message)[:self.limits.output_chars], message.status == "error"
        messages.append(_result(call, text, error=failed))
        self._record(call, "failed" if failed else "done")
        yield ToolStatus(name, "failed" if failed else "done")

    def _record(self, call: ToolCall, state: State) -> None:
        args = json.dumps(call["args"], ensure_ascii=False, default=str)
        self.ran.append(ToolRun(call["name"], args[:ARGS_CHARS], state))
        if self.record is not None:
            self.record.append(f"{call['name']} {args[:ARGS_CHARS]} ({state})")


def _bind(model: Any, tools: Sequence[Tool]) -> Any:
    """The model with the tools bound, or None (no tools, or a model that takes none)."""
    if not tools or not hasattr(model, "bind_tools"):
        return None
    try:
        return model.bind_tools([tool.tool for tool in tools])
    except NotImplementedError:
        return None


async def _stream(work: Work, model: Any, messages: list[BaseMessage], end: float,
                  said: list[AIMessageChunk]) -> AsyncGenerator[str, None]:
    """One model round: yield its text; leave the whole message (with tool calls) in `said`."""
    chunks = aiter(model.astream(messages))
    async with contextlib.aclosing(chunks):
        while True:
            # A per-chunk wait, not asyncio.timeout: a timeout spanning `yield` would cancel
            # the consumer's task wherever it happens to be.
            remaining = end - asyncio.get_running_loop().time()
            if remaining <= 0:  # spent on tools: no new model call starts past the deadline
                raise TimeoutError("deadline")
            try:
                chunk = await asyncio.wait_for(anext(chunks), remaining)
            except StopAsyncIteration:
                break
            said[:] = [said[0] + chunk] if said else [chunk]
            if piece := work.add(chunk):
                yield piece


async def _run(tool: Tool, call: ToolCall, seconds: float) -> ToolMessage:
    """The tool's result; a failure or timeout is a short error result, never the turn's."""
    try:
        result = await asyncio.wait_for(tool.tool.ainvoke({**call, "type": "tool_call"}),
                                        seconds)
    except TimeoutError:
        return _result(call, f"Error: the tool took longer than {seconds:.3g} s.", error=True)
    except Exception as exc:
        log.warning("tool failed name=%s error=%s", call["name"], error_class(exc))
        return _result(call, f"Error: the tool failed ({error_class(exc)}).", error=True)
    if isinstance(result, ToolMessage):
        return result
    return _result(call, str(result), error=False)


def _text(message: ToolMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "\n".join(part if isinstance(part, str) else str(part.get("text", ""))
                     for part in content)


def _result(call: ToolCall, text: str, *, error: bool) -> ToolMessage:
    return ToolMessage(text, tool_call_id=call["id"] or "", name=call["name"],
                       status="error" if error else "success")
