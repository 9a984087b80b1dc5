"""Slack's assistant pane says which tool an answer is using while it runs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.slack.conversation import assistant_status
from core.agent import ToolStatus
from core.service import ChatService
from core.tools import Toolbox
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI, ToolCalls
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.test_slack import _ts, dm, running
from tests.test_tools import on_cue, toolbox

__all__ = ["toolbox"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with fake_slack() as slack:
        yield slack


@pytest.mark.parametrize(("status", "said"), [
    (ToolStatus("docs__lookup", "running"), "is using docs lookup…"),
    (ToolStatus("docs__lookup", "done"), "is thinking…"),
])
def test_the_pane_status_names_the_tool(status: ToolStatus, said: str) -> None:
    assert assistant_status(status) == said


async def test_a_tool_in_use_is_the_panes_status(fake: FakeSlack, toolbox: Toolbox,
                                                llm_service: ChatService,
                                                openai_fake: FakeOpenAI) -> None:
    llm_service.tools = toolbox.tools
    openai_fake.answer = on_cue(ToolCalls.of("docs__lookup", topic="x"), "It is 42.")
    thread = _ts()
    async with running(fake, llm_service) as slack:
        await slack.event(dm("answer?", thread_ts=thread))
        await wait_for(lambda: fake.called("chat.stopStream"))
    assert "It is 42." in str(fake.called("chat.update"))
    statuses = [c["status"] for c in await wait_for(
        lambda: fake.called("assistant.threads.setStatus"))]
    assert "is using docs lookup…" in statuses
