"""The web page's model and persona pickers and its Regenerate button, in headless Chromium."""

from __future__ import annotations

from typing import Any

from adapters.http import HttpSettings
from core.service import ChatService
from tests import test_http_browser as browser_tests
from tests import test_presets
from tests.fakes.openai_server import FakeOpenAI

browser = browser_tests.browser  # the Chromium fixture, shared
presets = test_presets.presets  # the real ChatOpenAI with a configuration file of presets
_page, _send = browser_tests._page, browser_tests._send

# The conversation's messages as the history API gives them, fetched by the page itself.
HISTORY = """async () => {
  const id = localStorage.getItem("sb.session");
  const res = await fetch("/v1/sessions/" + id + "/messages");
  return (await res.json()).messages.map((m) => m.text);
}"""


def numbered(fake: FakeOpenAI, bold: bool = False) -> None:
    """Answer each request with its number, so every take differs."""
    def answer(body: dict[str, Any]) -> str:
        return f"**take {len(fake.requests)}**" if bold else f"take {len(fake.requests)}"
    fake.answer = answer


def system_prompt(fake: FakeOpenAI) -> str:
    return str(fake.requests[-1]["messages"][0]["content"])


async def _options(page: Any, name: str) -> list[str]:
    return list(await page.locator(f"#{name} option").evaluate_all(
        "options => options.map((o) => o.value)"))


async def test_the_pickers_choose_the_model_and_persona(
        browser: Any, presets: ChatService, openai_fake: FakeOpenAI) -> None:
    async with _page(browser, presets, HttpSettings()) as page:
        model, persona = page.get_by_label("Model"), page.get_by_label("Persona")
        await model.wait_for()
        assert await _options(page, "model") == ["default", "fast", "smart"]
        assert await _options(page, "persona") == ["default", "pirate"]
        assert await page.locator("#persona option").nth(1).get_attribute("title") == \
            "Talks like a pirate"
        await _send(page, "hi")
        assert openai_fake.requests[-1]["model"] == "gpt-4o-mini"
        assert "pirate" not in system_prompt(openai_fake)
        await model.select_option("smart")
        await _send(page, "clever now")
        assert openai_fake.requests[-1]["model"] == "smart-model"
        await persona.select_option("pirate")
        bubble = await _send(page, "ahoy?")
        assert await bubble.text_content() == "echo: ahoy?"
        assert openai_fake.requests[-1]["model"] == "smart-model", "the conversation keeps it"
        assert system_prompt(openai_fake).startswith("You are a helpful assistant who talks "
                                                     "like a pirate.")
        await page.reload()  # the pickers show the conversation's choices again
        await page.locator(".msg.ai").nth(2).wait_for()
        await page.wait_for_function("() => document.getElementById('model').value === 'smart'")
        assert await persona.input_value() == "pirate"
        await model.select_option("fast")  # with a file: the multipart body carries it too
        await page.set_input_files("#files", files=[
            {"name": "a.txt", "mimeType": "text/plain", "buffer": b"hello"}])
        await page.locator("#pending li", has_text="a.txt").wait_for()
        await _send(page, "quick")
        assert openai_fake.requests[-1]["model"] == "fast-model"
        assert "pirate" in system_prompt(openai_fake)


async def test_an_unknown_name_shows_the_servers_error(
        browser: Any, presets: ChatService, openai_fake: FakeOpenAI) -> None:
    async with _page(browser, presets, HttpSettings()) as page:
        await page.get_by_label("Model").wait_for()
        # As if the server's list changed since the page read it.
        await page.locator("#model").evaluate(
            "s => { const o = document.createElement('option'); o.value = o.textContent = 'nope';"
            " s.appendChild(o); s.value = 'nope'; }")
        await page.fill("#input", "which model?")
        await page.click("#send")
        error = page.locator("#error")
        await error.filter(has_text="no model called “nope”").wait_for()
        assert await page.locator(".msg").count() == 0
        assert await page.input_value("#input") == "which model?"  # kept, to send again
        assert openai_fake.requests == []


async def test_only_the_default_shows_no_pickers(browser: Any, llm_service: ChatService) -> None:
    async with _page(browser, llm_service, HttpSettings()) as page:
        await page.locator("#model option").first.wait_for(state="attached")
        assert await _options(page, "model") == ["default"]
        assert await page.locator("#choices").is_hidden()
        await _send(page, "plain")


async def test_regenerate_replaces_the_last_answer_once_per_press(
        browser: Any, presets: ChatService, openai_fake: FakeOpenAI) -> None:
    numbered(openai_fake)
    async with _page(browser, presets, HttpSettings()) as page:
        regenerate = page.get_by_role("button", name="Regenerate")
        await _send(page, "name a colour")
        await regenerate.wait_for()
        await _send(page, "another")
        assert await regenerate.count() == 1, "under the last answer only"
        assert await page.locator("#messages > :last-child button").text_content() == "Regenerate"
        answers = page.locator(".msg.ai")
        assert await answers.all_text_contents() == ["take 1", "take 2"]
        await regenerate.click()
        await answers.nth(1).filter(has_text="take 3").wait_for()
        assert await answers.all_text_contents() == ["take 1", "take 3"]
        assert openai_fake.requests[-1]["messages"][-1]["content"] == "another"
        assert (await page.evaluate(HISTORY))[-1] == "take 3"
        await regenerate.wait_for()
        assert await regenerate.is_enabled()
        numbered(openai_fake, bold=True)  # rendered as every finished answer is: the tree
        await regenerate.dblclick()
        await answers.nth(1).locator("strong", has_text="take 4").wait_for()
        await page.wait_for_function(
            "() => { const b = document.querySelector('button.regenerate');"
            " return b && !b.disabled; }")
        assert len(openai_fake.requests) == 4, "a double click is one regeneration"
        assert await page.locator("#error").text_content() == ""
        assert (await page.evaluate(HISTORY)) == ["name a colour", "take 1", "another",
                                                  "**take 4**"]
        await page.reload()
        await answers.nth(1).wait_for()
        assert await answers.all_text_contents() == ["take 1", "take 4"]
        await regenerate.wait_for()


async def test_a_failed_regeneration_shows_its_error(
        browser: Any, llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    async with _page(browser, llm_service, HttpSettings()) as page:
        await _send(page, "hello")
        regenerate = page.get_by_role("button", name="Regenerate")
        # While it runs the button is disabled.
        openai_fake.hang_next(0.6)
        openai_fake.fail_next(503, times=5)
        await regenerate.click()
        assert await page.locator("button.regenerate").is_disabled()
        await page.wait_for_function("() => document.getElementById('error').textContent !== ''")
        assert await page.locator(".msg.ai").text_content() == "echo: hello"
        await regenerate.wait_for()
        assert await regenerate.is_enabled()
