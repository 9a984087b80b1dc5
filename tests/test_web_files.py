"""Files on the web chat page in real headless Chromium: chosen, pasted, dropped, refused."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from adapters.http import HttpSettings
from core.service import ChatService
from tests import media
from tests import test_http_browser as browser_tests
from tests.fakes.openai_server import FakeOpenAI, image_parts

browser = browser_tests.browser  # the Chromium fixture, shared
_page, _send = browser_tests._page, browser_tests._send
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "web-files.png"

# Builds a File from base64 in the page, and a DataTransfer holding it.
TRANSFER = """([b64, name, type]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type }));
  return data;
}"""


async def _transfer(page: Any, data: bytes, name: str, content_type: str) -> Any:
    return await page.evaluate_handle(TRANSFER,
                                      [base64.b64encode(data).decode(), name, content_type])


async def _loaded(image: Any) -> bool:
    """Decoded, not blocked: a CSP-refused or broken image has no natural size."""
    return bool(await image.evaluate("img => img.complete && img.naturalWidth > 0"))


async def test_chosen_image_reaches_the_model_and_shows_in_the_bubble(
        browser: Any, llm_service: ChatService, openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    async with _page(browser, llm_service, HttpSettings()) as page:
        await page.locator("#status", has_text="Local development user").wait_for()
        attach = page.get_by_role("button", name="Attach files")
        assert await attach.is_visible()
        await page.set_input_files("#files", files=[
            {"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": media.jpeg(800, 600)}])
        chip = page.locator("#pending li")
        await chip.locator("img").wait_for()
        assert await _loaded(chip.locator("img"))
        assert await page.get_by_role("button", name="Remove holiday.jpg").is_visible()
        bubble = await _send(page, "What is in this photo?")
        assert len(image_parts(openai_fake.requests[-1])) == 1
        assert await bubble.text_content() == "echo: What is in this photo?"
        mine = page.locator(".msg.human")
        thumb = mine.locator("img")
        assert await thumb.is_visible() and await _loaded(thumb)
        assert await thumb.get_attribute("alt") == "holiday.jpg"
        assert await page.locator("#pending").is_hidden()  # chips go once sent
        await page.set_input_files("#files", files=[  # one more, pending, for the picture
            {"name": "notes.pdf", "mimeType": "application/pdf",
             "buffer": media.pdf_with_text("Budget is 40k")}])
        await page.get_by_role("button", name="Remove notes.pdf").wait_for()
        await page.set_viewport_size({"width": 1100, "height": 700})
        # The README's picture is refreshed on request only: a test run changes no tracked file.
        shot = SCREENSHOT if os.environ.get("SWITCHBOARD_SCREENSHOTS") else tmp_path / "web.png"
        await page.screenshot(path=str(shot))


async def test_pasted_image_becomes_a_removable_chip(
        browser: Any, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with _page(browser, llm_service, HttpSettings()) as page:
        data = await _transfer(page, media.png(), "pasted.png", "image/png")
        prevented = await page.locator("#input").evaluate(
            "(box, data) => !box.dispatchEvent(new ClipboardEvent('paste',"
            " { clipboardData: data, bubbles: true, cancelable: true }))", data)
        assert prevented  # only a file on the clipboard: nothing else is pasted
        chip = page.locator("#pending li")
        await chip.locator("img").wait_for()
        assert await chip.locator("img").get_attribute("alt") == "pasted.png"
        assert await _loaded(chip.locator("img"))
        await page.get_by_role("button", name="Remove pasted.png").click()
        assert await chip.count() == 0 and await page.locator("#pending").is_hidden()
        # By keyboard: the attach button opens the file chooser, a chip's button removes it.
        async with page.expect_file_chooser() as chooser:
            await page.get_by_role("button", name="Attach files").focus()
            await page.keyboard.press("Enter")
        await (await chooser.value).set_files(
            [{"name": "a.txt", "mimeType": "text/plain", "buffer": b"hello"}])
        await page.locator("#pending li", has_text="a.txt").wait_for()
        await page.get_by_role("button", name="Remove a.txt").focus()
        await page.keyboard.press("Enter")
        assert await chip.count() == 0
        assert await page.evaluate("document.activeElement.id") == "input"


async def test_dropped_pdf_is_read_and_named_in_the_bubble(
        browser: Any, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    name = '<b>Budget</b> "Q3".pdf'  # the user's text: shown as text, never markup
    async with _page(browser, llm_service, HttpSettings()) as page:
        data = await _transfer(page, media.pdf_with_text("Budget is 40k"), name,
                               "application/pdf")
        hint = page.locator("#drop-hint")
        assert await hint.is_hidden()
        for kind in ("dragenter", "dragover"):
            await page.dispatch_event("#messages", kind, {"dataTransfer": data})
        assert await hint.is_visible()
        await page.dispatch_event("#messages", "drop", {"dataTransfer": data})
        assert await hint.is_hidden()
        await page.locator("#pending li", has_text=name).wait_for()
        await _send(page, "")  # files alone may be sent
        mine = page.locator(".msg.human")
        assert await mine.locator(".file .name").text_content() == name
        assert await mine.locator("b, img").count() == 0
        assert "Budget is 40k" in str(openai_fake.requests[-1]["messages"])
        assert image_parts(openai_fake.requests[-1]) == []
        await page.locator(".msg.ai").last.wait_for()
        await page.reload()  # the history names the file; its text stays with the model
        await page.locator(".msg.human .file .name").wait_for()
        shown = await page.locator(".msg.human .file .name").text_content() or ""
        assert shown.startswith("<b>Budget</b>") and shown.endswith(".pdf")  # as text
        assert "Budget is 40k" not in (await page.locator(".msg.human").text_content() or "")


async def test_a_refused_file_shows_the_servers_error_and_stays_pending(
        browser: Any, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with _page(browser, llm_service, HttpSettings()) as page:
        await page.locator("#status", has_text="Local development user").wait_for()
        await page.set_input_files("#files", files=[
            {"name": "photo.png", "mimeType": "image/png", "buffer": media.zip_named_png()}])
        await page.fill("#input", "look")
        await page.click("#send")
        error = page.locator("#error")
        await error.filter(has_text=".zip").wait_for()
        assert "read .zip files" in (await error.text_content() or "")
        assert await page.locator(".msg").count() == 0 and openai_fake.requests == []
        # What was typed and chosen comes back, so the file can be removed and the rest sent.
        assert await page.input_value("#input") == "look"
        await page.get_by_role("button", name="Remove photo.png").click()
        bubble = await _send(page, "look")
        assert await bubble.text_content() == "echo: look"
        assert await page.locator("#error").text_content() == ""
