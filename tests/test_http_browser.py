"""The web chat page in real headless Chromium: send, stream, reload, new chat, inert markup."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.http import HttpSettings, create_app
from core.service import ChatService
from tests.fakes.common import serve_asgi
from tests.fakes.http_api import settings, token
from tests.fakes.openai_server import FakeOpenAI

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
INJECTION = ('<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
             '<a href="javascript:window.pwned=3">link</a> **bold**')

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright = pytest.importorskip("playwright.async_api", reason="needs playwright")

    async with playwright.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _send(page: Any, text: str) -> Any:
    """Type and send; wait until the streamed reply is complete; return its bubble."""
    before = await page.locator(".msg.ai").count()
    await page.fill("#input", text)
    await page.click("#send")
    bubble = page.locator(".msg.ai").nth(before)
    await bubble.wait_for()
    await page.locator(".msg.ai.streaming").wait_for(state="detached")
    return bubble


@contextlib.asynccontextmanager
async def _page(browser: Any, service: ChatService, http: HttpSettings) -> AsyncIterator[Any]:
    async with serve_asgi(create_app(service, http)) as url:
        context = await browser.new_context()
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(url)
        try:
            yield page
        finally:
            await context.close()
        assert errors == []


async def test_chat_in_the_browser_as_the_local_dev_user(
        browser: Any, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with _page(browser, llm_service, HttpSettings()) as page:
        await page.locator("#status", has_text="Local development user").wait_for()
        first = await _send(page, "hello there")
        assert await first.text_content() == "echo: hello there"
        await page.reload()
        await page.locator(".msg").nth(1).wait_for()
        assert await page.locator(".msg").all_text_contents() == [
            "hello there", "echo: hello there"]
        await page.click("#new")
        assert await page.locator(".msg").count() == 0
        await _send(page, "second chat")
        assert await page.locator("#sessions button").count() == 2
        openai_fake.answer = lambda body: INJECTION
        bubble = await _send(page, "inject")
        assert await bubble.text_content() == INJECTION  # shown as text, not markup
        assert await bubble.locator("img, script, a").count() == 0
        assert await page.evaluate("window.pwned") is None


async def test_token_is_pasted_when_a_secret_is_set(browser: Any,
                                                    llm_service: ChatService) -> None:
    async with _page(browser, llm_service, settings()) as page:
        await page.locator("#status", has_text="Paste a token").wait_for()
        await page.fill("#token", token("ana"))
        await page.click("#use-token")
        await page.locator("#status", has_text="Signed in with a token").wait_for()
        bubble = await _send(page, "with a token")
        assert await bubble.text_content() == "echo: with a token"
