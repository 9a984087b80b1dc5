"""MCP tools: the toolbox over stdio and HTTP, and the tool loop against the real ChatOpenAI."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from core.agent import Confirmation, ToolLimits, ToolRun, ToolStatus, ToolTurn
from core.config import McpServer, Preset
from core.confirm import TOO_LONG
from core.context import Prompt
from core.keys import SessionKey, Speaker, UserKey
from core.offline import OfflineChatModel
from core.service import ChatService
from core.tools import Toolbox
from core.turn import Turn, Work
from tests.fakes.http_api import parse_sse, served
from tests.fakes.mcp_server import LOOKUP, serve_http
from tests.fakes.openai_server import FakeOpenAI, ToolCalls, tool_messages

ROOT = Path(__file__).resolve().parent.parent


def stdio(pidfile: Path | None = None, calls: Path | None = None, **extra: Any) -> McpServer:
    env = {"PYTHONPATH": str(ROOT), **({"FAKE_MCP_PIDFILE": str(pidfile)} if pidfile else {}),
           **({"FAKE_MCP_CALLS": str(calls)} if calls else {})}
    return McpServer(command=sys.executable, args=["-m", "tests.fakes.mcp_server"], env=env,
                     **extra)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pids(pidfile: Path) -> list[int]:
    return [int(line) for line in pidfile.read_text().split()] if pidfile.exists() else []


@pytest.fixture
async def toolbox(tmp_path: Path) -> AsyncIterator[Toolbox]:
    """The fake server over stdio as `docs`, with `delete_note` a write tool (its calls are
    written to `tmp_path / "calls"`)."""
    server = stdio(tmp_path / "pids", tmp_path / "calls", write_tools=["delete_note"])
    async with Toolbox({"docs": server}) as box:
        yield box


@pytest.fixture
async def llm(openai_fake: FakeOpenAI) -> AsyncIterator[ChatOpenAI]:
    async with httpx.AsyncClient() as http:
        yield ChatOpenAI(model="gpt-4o-mini", api_key="sk-test-fake-key-123",  # type: ignore[arg-type]
                         base_url=openai_fake.base_url, max_retries=0, timeout=5,
                         stream_usage=True, http_async_client=http)


def work(model: Any, question: str = "what is the answer?") -> Work:
    messages = [SystemMessage("You are a test."), HumanMessage(question)]
    return Work(Prompt(messages, [], 0), model, Preset(model="gpt-4o-mini"), "default")


async def collect(turn: ToolTurn, w: Work, deadline: float = 30) -> list[str | ToolStatus]:
    return [piece async for piece in turn.pieces(w, deadline)]


def on_cue(*answers: str | ToolCalls) -> Any:
    """Answer the n-th request with the n-th answer (the last one from then on)."""
    def answer(body: dict[str, Any]) -> str | ToolCalls:
        seen = answer.calls  # type: ignore[attr-defined]
        answer.calls = seen + 1  # type: ignore[attr-defined]
        return answers[min(seen, len(answers) - 1)]
    answer.calls = 0  # type: ignore[attr-defined]
    return answer


async def test_toolbox_loads_stdio_and_http_and_leaves_out_a_broken_server(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "switchboard.tools")
    broken = McpServer(command=str(tmp_path / "missing"), env={"API_KEY": "sk-secret-value"})
    async with serve_http() as url:
        servers = {"docs": stdio(tmp_path / "pids"), "web": McpServer(url=url),
                   "broken": broken}
        async with Toolbox(servers, start_timeout=10) as box:
            names = {tool.name for tool in box.tools}
            assert {"docs__lookup", "web__lookup", "web__delete_note"} <= names
            assert not [name for name in names if name.startswith("broken")]
            pid = pids(tmp_path / "pids")[0]
            assert alive(pid)
        assert box.tools == ()
    assert not alive(pid)  # closing stopped the stdio process
    left_out = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert left_out == ["mcp server left out name=broken error=FileNotFoundError"]
    assert "sk-secret-value" not in caplog.text


def silent(pidfile: Path) -> McpServer:
    """A process that never speaks MCP: it notes its pid and sleeps."""
    code = (f"import os, time; open({str(pidfile)!r}, 'a').write(f'{{os.getpid()}}\\n'); "
            "time.sleep(60)")
    return McpServer(command=sys.executable, args=["-c", code])


async def test_a_server_that_never_answers_is_left_out_in_bounded_time(tmp_path: Path) -> None:
    started = asyncio.get_running_loop().time()
    servers = {"silent": silent(tmp_path / "silent"), "docs": stdio()}
    async with Toolbox(servers, start_timeout=2) as box:
        assert {tool.server for tool in box.tools} == {"docs"}
        [pid] = pids(tmp_path / "silent")
        assert not alive(pid)  # left out and stopped, not left behind
    assert asyncio.get_running_loop().time() - started < 15


async def test_cancelling_the_start_leaves_no_process(tmp_path: Path) -> None:
    box = Toolbox({"silent": silent(tmp_path / "silent"), "docs": stdio(tmp_path / "pids")},
                  start_timeout=30)
    task = asyncio.create_task(box.__aenter__())
    async with asyncio.timeout(10):
        while not (pids(tmp_path / "silent") and pids(tmp_path / "pids")):
            await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not [pid for pid in pids(tmp_path / "silent") + pids(tmp_path / "pids") if alive(pid)]


async def test_a_tool_call_on_cue_runs_and_its_output_goes_back_as_a_tool_message(
        toolbox: Toolbox, llm: ChatOpenAI, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = on_cue(ToolCalls.of("docs__lookup", topic="answer"), "It is 42.")
    turn = ToolTurn(toolbox.tools)
    out = await collect(turn, w := work(llm))
    assert out == [ToolStatus("docs__lookup", "running"), ToolStatus("docs__lookup", "done"),
                   *[p for p in out if isinstance(p, str)]]
    assert "".join(w.parts) == "It is 42."
    first, second = openai_fake.requests
    assert {t["function"]["name"] for t in first["tools"]} >= {"docs__lookup"}
    [tool] = tool_messages(second)
    assert LOOKUP in tool["content"] and tool["tool_call_id"]
    assert LOOKUP not in second["messages"][0]["content"]  # never in the system prompt
    assert turn.ran == [ToolRun("docs__lookup", '{"topic": "answer"}', "done")]


async def test_tool_calls_without_streaming_are_understood(llm: ChatOpenAI,
                                                           openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = on_cue(ToolCalls.of("docs__lookup", topic="x"))
    reply = await llm.bind_tools([{"type": "function", "function": {
        "name": "docs__lookup", "parameters": {"type": "object", "properties": {}}}}]
    ).ainvoke("hi")
    assert reply.tool_calls[0]["name"] == "docs__lookup"
    assert reply.tool_calls[0]["args"] == {"topic": "x"}
    assert reply.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize(("tool", "error"), [("docs__slow", "took longer than"),
                                             ("docs__failing", "the index is broken")])
async def test_a_slow_or_failing_tool_gives_the_model_an_error_result(
        toolbox: Toolbox, llm: ChatOpenAI, openai_fake: FakeOpenAI, tool: str,
        error: str) -> None:
    openai_fake.answer = on_cue(ToolCalls.of(tool, topic="x"), "Sorry, the docs are down.")
    turn = ToolTurn(toolbox.tools, ToolLimits(timeout=0.5))
    out = await collect(turn, w := work(llm))
    assert ToolStatus(tool, "failed") in out
    assert "".join(w.parts) == "Sorry, the docs are down."
    [result] = tool_messages(openai_fake.requests[1])
    assert error in result["content"]
    assert turn.ran[0].state == "failed"


async def test_after_the_step_limit_the_model_answers_without_tools(
        toolbox: Toolbox, llm: ChatOpenAI, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = lambda body: (ToolCalls.of("docs__lookup", topic="again")
                                       if body.get("tools") else "Enough looking.")
    turn = ToolTurn(toolbox.tools, ToolLimits(steps=2))
    await collect(turn, w := work(llm))
    assert [bool(r.get("tools")) for r in openai_fake.requests] == [True, True, False]
    assert "".join(w.parts) == "Enough looking."
    assert len(turn.ran) == 2


async def test_an_unconfirmed_write_tool_is_not_run_the_turn_ends_asking(
        toolbox: Toolbox, llm: ChatOpenAI, openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    assert toolbox.get("docs__delete_note") and toolbox.get("docs__delete_note").write  # type: ignore[union-attr]
    openai_fake.answer = on_cue(ToolCalls(( ("docs__delete_note", {"id": "7"}),
                                            ("docs__lookup", {"topic": "x"}))), "never asked")
    turn = ToolTurn(toolbox.tools, record=[])
    out = await collect(turn, w := work(llm))
    [asked] = [p for p in out if isinstance(p, Confirmation)]
    assert (asked.name, asked.state, asked.summary) == (
        "docs__delete_note", "needs confirmation", "delete_note(id=7)")
    assert not [p for p in out if isinstance(p, ToolStatus) and p.state == "running"]
    assert len(openai_fake.requests) == 1  # the turn ended: no tool ran, no model call followed
    assert "".join(w.parts) == "This needs your confirmation first: delete_note(id=7). " \
                               "Approve or deny it."
    assert turn.ran == [ToolRun("docs__delete_note", '{"id": "7"}', "needs confirmation")]
    assert turn.record == [f'docs__delete_note {{"id": "7"}} (needs confirmation {asked.id})']
    assert not (tmp_path / "calls").exists()


async def test_a_write_call_too_long_to_show_is_refused(
        toolbox: Toolbox, llm: ChatOpenAI, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = on_cue(ToolCalls.of("docs__delete_note", id="7" * 2000), "Too long.")
    turn = ToolTurn(toolbox.tools)
    out = await collect(turn, work(llm))
    assert ToolStatus("docs__delete_note", "failed") in out
    [result] = tool_messages(openai_fake.requests[1])
    assert result["content"] == TOO_LONG


async def test_cancelling_mid_tool_raises_cleanly_and_leaves_no_process(
        tmp_path: Path, llm: ChatOpenAI, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = on_cue(ToolCalls.of("docs__slow", topic="x"), "late")
    pidfile = tmp_path / "pids"
    async with Toolbox({"docs": stdio(pidfile)}) as box:
        running = asyncio.Event()

        async def consume() -> None:
            async for piece in ToolTurn(box.tools).pieces(work(llm), 30):
                if piece == ToolStatus("docs__slow", "running"):
                    running.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(running.wait(), 10)
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(pids(pidfile)) == 1  # no process was started for the call
        [pid] = pids(pidfile)
    assert not alive(pid)
    assert len(openai_fake.requests) == 1


async def test_a_model_without_tools_support_just_answers(toolbox: Toolbox) -> None:
    out = await collect(ToolTurn(toolbox.tools), w := work(OfflineChatModel()))
    assert out and all(isinstance(p, str) for p in out) and "".join(w.parts)



async def test_the_whole_turn_stays_inside_its_deadline(
        toolbox: Toolbox, llm: ChatOpenAI, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = on_cue(ToolCalls.of("docs__slow", topic="x"), "late")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):  # the service maps it to ModelTimeout
        await collect(ToolTurn(toolbox.tools, ToolLimits(timeout=20)), work(llm), deadline=1.5)
    assert loop.time() - started < 3


async def test_inside_a_service_turn_only_the_answer_is_stored_and_cancel_frees_the_lock(
        toolbox: Toolbox, openai_fake: FakeOpenAI,
        make_llm_service: Callable[..., Awaitable[ChatService]]) -> None:
    service = await make_llm_service()
    service.tools = toolbox.tools
    ana = Speaker(UserKey.of("cli", "ana"), "Ana", "a terminal")
    session = SessionKey.direct(ana.user)
    openai_fake.answer = on_cue(ToolCalls.of("docs__lookup", topic="x"), "It is 42.",
                                ToolCalls.of("docs__slow", topic="x"), "late", "again")
    out = [p async for p in service.events(Turn(session, ana, "answer?"))]
    assert ToolStatus("docs__lookup", "done") in out
    assert "It is 42." in "".join(p for p in out if isinstance(p, str))
    stored = await service.history(session)
    assert [(m.role, m.text) for m in stored] == [("human", "answer?"), ("ai", "It is 42.")]
    assert stored[1].tools == ('docs__lookup {"topic": "x"} (done)',)  # what ran, not its output
    assert (await service.usage(ana.user)).day.tool_calls == 1  # counted with the tokens

    gen = service.events(Turn(session, ana, "slowly?"))
    async for piece in gen:
        if piece == ToolStatus("docs__slow", "running"):
            break
    await gen.aclose()  # the user left mid-tool: nothing stored, the lock given back
    assert len(await service.history(session)) == 2
    assert await asyncio.wait_for(service.reply(Turn(session, ana, "still there?")), 10)
    earlier = [m for m in openai_fake.requests[-1]["messages"] if m["role"] == "assistant"]
    assert 'tools used for this answer: docs__lookup {"topic": "x"} (done)' in earlier[0]["content"]


async def test_the_stream_api_tells_of_each_tool_between_the_tokens(
        toolbox: Toolbox, openai_fake: FakeOpenAI, llm_service: ChatService) -> None:
    llm_service.tools = toolbox.tools
    openai_fake.answer = on_cue(ToolCalls.of("docs__lookup", topic="x"), "It is 42.")
    async with served(llm_service) as api:
        body = (await api.post("/v1/chat/stream", json={"message": "answer?"})).text
    events = parse_sse(body)
    assert ("tool", {"name": "docs__lookup", "state": "running"}) in events
    assert ("tool", {"name": "docs__lookup", "state": "done"}) in events
    assert events[-1][0] == "done" and events[-1][1]["reply"] == "It is 42."
