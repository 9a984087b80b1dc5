"""A new user's journey on the web page, in headless Chromium (Debian's, through Playwright):
the core built from a configuration file (two presets, a persona, the test MCP server), the
real ChatOpenAI against the fake OpenAI. They pick a model and a persona, ask a question the
model answers with the docs tool, see the tool named while it runs, and press Regenerate."""

from __future__ import annotations

from typing import Any

from adapters.http import HttpSettings
from adapters.http.settings import DEV_USER
from core.keys import SessionKey, UserKey
from tests import test_http_browser as browser_tests
from tests.journey import AGAIN, ANSWER, QUESTION, STATUS, Journey, journey
from tests.test_web_choices import HISTORY

browser = browser_tests.browser  # the Chromium fixture, shared
__all__ = ["browser", "journey"]


async def test_a_new_user_chooses_asks_with_a_tool_and_regenerates(
        browser: Any, journey: Journey) -> None:
    async with browser_tests._page(browser, journey.service, HttpSettings()) as page:
        model, persona = page.get_by_label("Model"), page.get_by_label("Persona")
        await model.locator("option", has_text="smart").wait_for(state="attached")
        await model.select_option("smart")
        await persona.select_option("pirate")
        journey.ask()
        await page.fill("#input", QUESTION)
        await page.click("#send")
        status = page.locator("#tool-status")
        await status.filter(has_text=STATUS).wait_for()  # the lookup is held open meanwhile
        answers = page.locator(".msg.ai")
        assert ANSWER not in "".join(await answers.all_text_contents())
        journey.open_gate()
        await answers.filter(has_text=ANSWER).wait_for()
        await page.locator(".msg.ai.streaming").wait_for(state="detached")
        assert await status.text_content() == ""
        journey.check_answered()
        await page.get_by_role("button", name="Regenerate").click()
        await answers.filter(has_text=AGAIN).wait_for()
        assert await answers.all_text_contents() == [AGAIN]
        assert await page.evaluate(HISTORY) == [QUESTION, AGAIN]
        sid = await page.evaluate("() => localStorage.getItem('sb.session')")
        await journey.check_regenerated(SessionKey.api(UserKey.of("api", DEV_USER), sid))
