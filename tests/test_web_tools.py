"""The web page says which tool an answer is using while it runs (SSE `tool` events)."""

from __future__ import annotations

from typing import Any

from adapters.http import HttpSettings
from core.service import ChatService
from core.tools import Toolbox
from tests import test_http_browser as browser_tests
from tests.fakes.openai_server import FakeOpenAI, ToolCalls
from tests.test_tools import on_cue, toolbox

browser = browser_tests.browser  # the Chromium fixture, shared
__all__ = ["browser", "toolbox"]


async def test_a_running_tool_is_named_until_the_answer_comes(
        browser: Any, toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    llm_service.tools = toolbox.tools
    openai_fake.answer = on_cue(ToolCalls.of("docs__slow", topic="x"), "Done waiting.")
    async with browser_tests._page(browser, llm_service, HttpSettings()) as page:
        await page.fill("#input", "take your time")
        await page.click("#send")
        status = page.locator("#tool-status")
        await status.filter(has_text="Using docs slow…").wait_for()
        await page.locator(".msg.ai", has_text="Done waiting.").wait_for()
        assert await status.text_content() == ""
