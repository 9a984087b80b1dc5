"""The tool loop of one turn: stream the model, run the tools it asks for, stream it again.

A small loop of our own rather than LangChain's agent (`langchain.agents.create_agent`,
which needs LangGraph, not a dependency): the turn's contract needs things that loop does not
give as a generator: per-chunk deadline waits (a timeout spanning `yield` would cancel the
consumer), status events between text pieces, write tools held for the user's confirmation
(the turn ends asking; `core.confirm`), tool output clipped, and cancellation that stops the
tool call in flight.
Tool output is untrusted: it only ever reaches the model inside a `ToolMessage`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCall, ToolMessage

from core import confirm
from core.deadline import bounded
from core.settings import CoreSettings
from core.tools import Tool, error_class
from core.turn import Work

log = logging.getLogger("switchboard.tools")
State = Literal["running", "done", "failed", "needs confirmation", "denied"]
ARGS_CHARS = 200  # of one call's arguments, in the turn's record
UNKNOWN = "Not run: there is no tool of that name."


@dataclass(frozen=True, slots=True)
class ToolStatus:
    """A tool's progress, for adapters to show ("Searching the docs…"); never its output."""

    name: str
    state: State


@dataclass(frozen=True, slots=True)
class Confirmation(ToolStatus):
    """A write tool call waiting for the user (state "needs confirmation"): answer it with
    `ChatService.confirm(..., id, approve, ...)`. `summary` is the model's arguments, clipped
    to one safe line of plain text (`delete_note(id=7)`)."""

    id: str = ""
    summary: str = ""


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
    resume: confirm.Answer | None = None  # the user's answer to a pending write call
    asked: Confirmation | None = None  # the write call this turn ends waiting for
    wrote: str = ""  # the approved write tool, once it started: then the turn must be kept

    async def pieces(self, work: Work, deadline: float
                     ) -> AsyncGenerator[str | ToolStatus, None]:
        """The answer's text pieces and tool statuses, all within `deadline` seconds."""
        try:
            async for piece in self._pieces(work, deadline):
                yield piece
        except BaseException:
            if self.wrote and not "".join(work.parts).strip():  # stored as it is: not run twice
                work.parts.append(confirm.cut_short(self.wrote))
            raise

    async def _pieces(self, work: Work, deadline: float
                      ) -> AsyncGenerator[str | ToolStatus, None]:
        if work.heard:
            yield work.heard
        end = asyncio.get_running_loop().time() + deadline
        messages: list[BaseMessage] = list(work.prompt.messages)
        if self.resume is not None and self.resume.pending is not None:
            async for status in self._resumed(self.resume.pending, self.resume.approve,
                                              messages, end):
                yield status
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
                if self.asked is not None:  # the turn ends here, asking the user
                    yield _ask(work, self.asked)
                    return

    async def _call(self, call: ToolCall, messages: list[BaseMessage], end: float
                    ) -> AsyncGenerator[ToolStatus, None]:
        """Run one call (or refuse it, or hold a write call for confirmation)."""
        tool = next((t for t in self.tools if t.name == call["name"]), None)
        name = call["name"]
        pending = confirm.asked(name, call["args"], time.time()) if tool and tool.write else None
        if tool is None or tool.write:
            if pending is not None:
                self.asked = Confirmation(name, "needs confirmation", pending.id, pending.summary)
                self._record(call, "needs confirmation", kept=pending.record)
                yield self.asked
                return
            text = UNKNOWN if tool is None else confirm.TOO_LONG
            messages.append(_result(call, text, error=True))
            self._record(call, "failed")
            yield ToolStatus(name, "failed")
            return
        async for status in self._execute(tool, call, messages, end):
            yield status

    async def _resumed(self, pending: confirm.Pending, approve: bool,
                       messages: list[BaseMessage], end: float
                       ) -> AsyncGenerator[ToolStatus, None]:
        """The held call, as the model asked it, then its result: run if approved, else not."""
        call = ToolCall(name=pending.name, args=pending.args, id=f"call_{pending.id}",
                        type="tool_call")
        messages.append(AIMessage("", tool_calls=[call]))
        tool = next((t for t in self.tools if t.name == pending.name), None)
        if not approve or tool is None:
            messages.append(_result(call, UNKNOWN if tool is None else confirm.DENIED,
                                    error=True))
            state: State = "failed" if tool is None else "denied"
            self._record(call, state)
            yield ToolStatus(pending.name, state)
            return
        self.wrote = pending.name
        async for status in self._execute(tool, call, messages, end):
            yield status

    async def _execute(self, tool: Tool, call: ToolCall, messages: list[BaseMessage],
                       end: float) -> AsyncGenerator[ToolStatus, None]:
        """Run one call within the deadline and add its clipped result to `messages`."""
        name = call["name"]
        yield ToolStatus(name, "running")
        limit = min(self.limits.timeout, end - asyncio.get_running_loop().time())
        message = await _run(tool, call, max(limit, 0.001))
        text, failed = _text(message)[:self.limits.output_chars], message.status == "error"
        messages.append(_result(call, text, error=failed))
        self._record(call, "failed" if failed else "done")
        yield ToolStatus(name, "failed" if failed else "done")

    def _record(self, call: ToolCall, state: State, kept: str = "") -> None:
        args = json.dumps(call["args"], ensure_ascii=False, default=str)
        self.ran.append(ToolRun(call["name"], args[:ARGS_CHARS], state))
        if self.record is not None:
            self.record.append(kept or f"{call['name']} {args[:ARGS_CHARS]} ({state})")


def _ask(work: Work, asked: Confirmation) -> str:
    """The line that ends an answer waiting for confirmation, added to it."""
    text = confirm.question(asked.summary)
    text = f"\n\n{text}" if "".join(work.parts).strip() else text
    work.parts.append(text)
    return text


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
    async with contextlib.aclosing(bounded(model.astream(messages), end)) as chunks:
        async for chunk in chunks:  # only the waits are bounded: see core/deadline.py
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
