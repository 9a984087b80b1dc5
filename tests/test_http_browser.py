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
from tests.golden import SHOWCASE

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
INJECTION = ('<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
             '<a href="javascript:window.pwned=3">link</a> [click](javascript:window.pwned=4)'
             ' <svg onload="window.pwned=5"> **bold**')
MARKDOWN = ("Intro with `code` and *stress*.\n\n```python\nprint('<b>hi</b>')\n```\n\n"
            "- one\n- **two**\n\n1. first\n2. second\n\n> quoted\n\n"
            "[docs](https://example.org/x?a=1) and [bad](data:text/html,<script>)")



@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    # Never skipped: without a browser these tests fail, so a green run always drove one.
    assert CHROMIUM.exists(), "needs /usr/bin/chromium: apt-get install -y chromium"
    from playwright import async_api as playwright

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
async def _page(browser: Any, service: ChatService, http: HttpSettings,
                path: str = "/") -> AsyncIterator[Any]:
    """A page of the app; fails if it threw or asked for anything not on this server
    (its own `blob:` URLs, thumbnails of files picked in the page, are this server's)."""
    async with serve_asgi(create_app(service, http)) as url:
        context = await browser.new_context()
        context.set_default_timeout(10_000)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        ours = (url, "blob:" + url)
        page.on("request", lambda r: None if r.url.startswith(ours) else errors.append(r.url))
        await page.goto(url + path)
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
        await page.locator("#sessions button").nth(1).wait_for()  # the list reloads after a reply
        assert await page.locator("#sessions button").count() == 2
        openai_fake.answer = lambda body: INJECTION
        bubble = await _send(page, "inject")
        # Shown as text, not markup: only the Markdown `**bold**` became an element.
        assert await bubble.text_content() == INJECTION.replace("**bold**", "bold")
        assert await bubble.locator("img, script, a, svg").count() == 0
        assert await bubble.locator("strong").all_text_contents() == ["bold"]
        await page.reload()
        await page.locator(".msg.ai").nth(1).wait_for()  # this conversation: 2 replies
        assert await page.locator("img, script:not([src]), svg, #messages a").count() == 0
        assert await page.evaluate("window.pwned") is None


async def test_reply_streams_in_before_it_is_done(
        browser: Any, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer, openai_fake.chunk_delay = (lambda body: "tick " * 30), 0.02
    async with _page(browser, llm_service, HttpSettings()) as page:
        await page.fill("#input", "stream please")
        await page.click("#send")
        # Read in the page, in one go: text shown while the bubble is still streaming.
        seen = await (await page.wait_for_function(
            "() => { const b = document.querySelector('.msg.ai.streaming');"
            " return b && b.textContent.length > 0 && b.textContent; }")).json_value()
        await page.locator(".msg.ai.streaming").wait_for(state="detached")
        final = await page.locator(".msg.ai").text_content()
        # Done, it shows the server's tree: one paragraph, trailing space gone as Markdown has it.
        assert seen and 0 < len(seen) < len(final) and final == ("tick " * 30).strip()


async def test_markdown_subset_is_rendered_safely(
        browser: Any, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = lambda body: MARKDOWN
    async with _page(browser, llm_service, HttpSettings()) as page:
        bubble = await _send(page, "format it")
        assert await bubble.locator("pre code").text_content() == "print('<b>hi</b>')"
        assert await bubble.locator("pre code").get_attribute("data-lang") == "python"
        assert await bubble.locator("p").count() == 3
        assert await bubble.locator("ul li").all_text_contents() == ["one", "two"]
        assert await bubble.locator("ol li").all_text_contents() == ["first", "second"]
        assert await bubble.locator("blockquote").text_content() == "quoted"
        assert await bubble.locator("p code").text_content() == "code"
        assert await bubble.locator("em").text_content() == "stress"
        links = bubble.locator("a")
        assert await links.count() == 1 and await links.text_content() == "docs"
        assert await links.get_attribute("href") == "https://example.org/x?a=1"
        assert "noopener" in (await links.get_attribute("rel") or "")
        assert "[bad](data:text/html,<script>)" in (await bubble.text_content() or "")
        assert await bubble.locator("b, script").count() == 0


async def test_tables_and_lists_come_from_the_server_tree(
        browser: Any, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = lambda body: SHOWCASE
    async with _page(browser, llm_service, HttpSettings()) as page:
        for reloaded in (False, True):  # as streamed, then from the history after a reload
            if reloaded:
                await page.reload()
            bubble = await _send(page, "tea?") if not reloaded else page.locator(".msg.ai")
            await bubble.locator("table").wait_for()
            assert await bubble.locator("th").all_text_contents() == ["item", "price"]
            assert await bubble.locator("tbody td").all_text_contents() == \
                ["tea", "2", "cake", "3.50"]
            assert await bubble.locator("td").nth(1).evaluate("td => td.style.textAlign") == \
                "right"
            assert await bubble.locator("ol > li").all_text_contents() == \
                ["Boil the water", "Add leaves"]
            assert await bubble.locator("ol strong").text_content() == "leaves"
            assert await bubble.locator("a").get_attribute("href") == "https://example.com/tea"
            assert await bubble.locator("pre code").text_content() == "print('cheers')"
            assert "|" not in (await bubble.text_content() or "")  # never pipes


async def test_docs_page_works_offline(browser: Any, service: ChatService) -> None:
    async with _page(browser, service, settings(), "/docs") as page:
        await page.locator("section.op").first.wait_for()
        headings = await page.locator("section.op h2").all_text_contents()
        for route in ("POST/v1/chat", "POST/v1/chat/stream", "GET/v1/sessions",
                      "GET/v1/sessions/{session_id}/messages", "DELETE/v1/sessions/{session_id}",
                      "DELETE/v1/me", "GET/healthz", "GET/readyz", "GET/metrics"):
            assert route in headings
        assert "ChatIn" in await page.locator("section.op").first.text_content()


async def test_token_is_pasted_when_a_secret_is_set(browser: Any,
                                                    llm_service: ChatService) -> None:
    async with _page(browser, llm_service, settings()) as page:
        await page.locator("#status", has_text="Paste a token").wait_for()
        await page.fill("#token", token("ana"))
        await page.click("#use-token")
        await page.locator("#status", has_text="Signed in with a token").wait_for()
        bubble = await _send(page, "with a token")
        assert await bubble.text_content() == "echo: with a token"
