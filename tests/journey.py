"""What every surface's journey shares: a new user's configuration file (two presets, a persona,
the test MCP server over stdio), the core built from it as `switchboard run` builds it, a gate
that holds the docs lookup open while the user watches its status, and the checks of each turn."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bots.wiring import core_on
from core.service import ChatService
from core.settings import CoreSettings
from tests.fakes.mcp_server import GATE, LOOKUP
from tests.fakes.openai_server import FakeOpenAI, ToolCalls, tool_messages
from tests.test_presets import FILE
from tests.test_tools import on_cue

ROOT = Path(__file__).resolve().parent.parent
PIRATE = "You are a helpful assistant who talks like a pirate."
QUESTION = "what is the answer, per the docs?"
ANSWER, AGAIN = "Arr, the docs say 42.", "Arr, 'tis 42 again."
STATUS = "Using docs lookup…"  # what `adapters.pager.status_line` shows, once rendered
RECORD = 'docs__lookup {"topic": "the answer"} (done)'  # what the history keeps of the tool


def config_text(gate: Path) -> str:
    """The presets and persona of `tests.test_presets.FILE`, and the test MCP server as `docs`."""
    env = {"PYTHONPATH": str(ROOT), GATE: str(gate)}
    inline = ", ".join(f"{key} = {json.dumps(value)}" for key, value in env.items())
    return (f"{FILE}\n[mcp.docs]\ncommand = {json.dumps(sys.executable)}\n"
            f'args = ["-m", "tests.fakes.mcp_server"]\nenv = {{ {inline} }}\n')


@dataclass
class Journey:
    """The core from the file, the fake model behind it, and the lookup's gate."""

    service: ChatService
    model: FakeOpenAI
    gate: Path
    asked_at: int = 0  # how many model requests came before the question

    def open_gate(self) -> None:
        """Let the held lookup finish (the user has seen its status)."""
        self.gate.touch()

    def close_gate(self) -> None:
        """Hold the next lookup open again."""
        self.gate.unlink(missing_ok=True)

    def ask(self) -> None:
        """Note where the question's model requests begin (call before asking)."""
        self.asked_at = len(self.model.requests)

    def check_answered(self, count: int = 2) -> None:
        """The question went to the chosen model, as the persona, and used the docs tool."""
        turn = self.model.requests[self.asked_at:]
        assert len(turn) == count, "one request to call the tool, one to answer with its output"
        for request in turn:
            assert request["model"] == "smart-model"
            assert request["messages"][0]["role"] == "system"
            assert request["messages"][0]["content"].startswith(PIRATE)
            assert "docs__lookup" in {t["function"]["name"] for t in request.get("tools", [])}
        [output] = tool_messages(turn[-1])
        assert LOOKUP in output["content"]

    async def check_regenerated(self, session: Any) -> None:
        """Only the new answer is stored, after the one question, with what its tool did."""
        history = await self.service.history(session)
        assert [(m.role, m.text) for m in history] == [("human", QUESTION), ("ai", AGAIN)]
        assert history[1].tools == (RECORD,)
        asked = self.model.requests[-1]["messages"]
        assert self.model.requests[-1]["model"] == "smart-model", "the choice stays"
        assert asked[0]["content"].startswith(PIRATE)
        users = [m["content"] for m in asked if m["role"] == "user"]
        assert users == [QUESTION] and ANSWER not in json.dumps(asked), "asked afresh"


# core/service.py `ChatService.regenerate` yields only the text pieces and drops the tools'
# progress, so no surface can show a tool running while an answer is regenerated.


def cue() -> Callable[[dict[str, Any]], str | ToolCalls]:
    """The model calls the docs tool, then answers; the same again when regenerated."""
    lookup = ToolCalls.of("docs__lookup", topic="the answer")
    return on_cue(lookup, ANSWER, lookup, AGAIN)  # type: ignore[no-any-return]


@pytest.fixture
async def journey(tmp_path: Path, make_settings: Callable[..., CoreSettings], redis: Redis,
                  openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
                  ) -> AsyncIterator[Journey]:
    """The core that `switchboard run` builds from the file, with the fake model cued."""
    monkeypatch.setenv("SMART_API_KEY", "sk-smart-secret-456")
    gate, path = tmp_path / "gate", tmp_path / "switchboard.toml"
    path.write_text(config_text(gate))
    settings = make_settings(OPENAI_API_KEY="sk-test-fake-key-123",
                             OPENAI_BASE_URL=openai_fake.base_url,
                             SWITCHBOARD_MODEL_MAX_RETRIES="0", SWITCHBOARD_CONFIG=str(path))
    openai_fake.answer = cue()
    async with core_on(redis, settings) as service:
        assert {tool.name for tool in service.tools} >= {"docs__lookup"}, "the server started"
        yield Journey(service, openai_fake, gate)
