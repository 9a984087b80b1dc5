"""Confirming a write tool over the API (`confirm` event and endpoint) and on the web page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.http import HttpSettings
from core.service import ChatService
from core.tools import Toolbox
from tests import test_http_browser as browser_tests
from tests.fakes.http_api import auth, parse_sse, served
from tests.fakes.openai_server import FakeOpenAI, tool_messages
from tests.test_confirm import WRITE, ran
from tests.test_tools import on_cue, toolbox

browser = browser_tests.browser  # the Chromium fixture, shared
__all__ = ["browser", "toolbox"]


async def test_the_stream_asks_and_the_endpoint_answers_once(
        toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    llm_service.tools = toolbox.tools
    openai_fake.answer = on_cue(WRITE, "Deleted note 7.")
    async with served(llm_service) as api:
        events = parse_sse((await api.post("/v1/chat/stream",
                                           json={"message": "delete note 7"})).text)
        [asked] = [data for name, data in events if name == "confirm"]
        assert asked["tool"] == "docs__delete_note" and asked["summary"] == "delete_note(id=7)"
        assert events[-1][0] == "done" and "confirmation" in events[-1][1]["reply"]
        sid = events[0][1]["session_id"]
        path = f"/v1/sessions/{sid}/confirm"
        other = await api.post(path, json={"confirmation": asked["id"], "approve": True},
                               headers=auth("ben"))
        assert other.status_code == 404  # another caller's conversation: not even seen
        listed = (await api.get(f"/v1/sessions/{sid}/messages")).json()["messages"]
        assert listed[-1]["confirmation"] == asked and listed[0]["confirmation"] is None
        yes = await api.post(path, json={"confirmation": asked["id"], "approve": True})
        assert yes.status_code == 200, yes.text
        assert yes.json()["reply"] == "Deleted note 7." and yes.json()["turn_count"] == 2
        again = await api.post(path, json={"confirmation": asked["id"], "approve": False})
        assert (again.status_code, again.json()) == (
            409, {"error": "this confirmation was already answered"})
        listed = (await api.get(f"/v1/sessions/{sid}/messages")).json()["messages"]
        assert [m["confirmation"] for m in listed] == [None] * 4
        unknown = await api.post(path, json={"confirmation": "0" * 18, "approve": True})
        assert unknown.status_code == 404
        bad = await api.post(path, json={"confirmation": "<script>", "approve": True})
        assert bad.status_code == 422
    assert ran(tmp_path) == ["delete_note 7"]


async def test_the_json_api_returns_the_confirmation_and_the_stream_variant_answers(
        toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    llm_service.tools = toolbox.tools
    openai_fake.answer = on_cue(WRITE, "I left it alone.")
    async with served(llm_service) as api:
        first = (await api.post("/v1/chat", json={"message": "delete note 7"})).json()
        asked = first["confirmation"]
        assert asked["tool"] == "docs__delete_note"
        path = f"/v1/sessions/{first['session_id']}/confirm/stream"
        body = (await api.post(path, json={"confirmation": asked["id"], "approve": False})).text
        events = parse_sse(body)
        assert ("tool", {"name": "docs__delete_note", "state": "denied"}) in events
        assert events[-1][0] == "done" and events[-1][1]["reply"] == "I left it alone."
        again = await api.post(path, json={"confirmation": asked["id"], "approve": True})
        assert again.status_code == 409
        assert (await api.get("/openapi.json")).json()["paths"][
            "/v1/sessions/{session_id}/confirm"]["post"]["responses"]["409"]
    assert "Not run: the user declined" in tool_messages(openai_fake.requests[-1])[0]["content"]
    assert ran(tmp_path) == []


async def test_the_page_shows_approve_and_deny_under_the_question(
        browser: Any, toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    llm_service.tools = toolbox.tools
    openai_fake.answer = on_cue(WRITE, "Deleted note 7.", WRITE, "Kept note 7.")
    async with browser_tests._page(browser, llm_service, HttpSettings()) as page:
        await page.fill("#input", "delete note 7")
        await page.click("#send")
        box = page.locator(".confirm")
        await box.filter(has_text="delete_note(id=7)").wait_for()
        await page.reload()  # the question is still there, with its buttons
        await box.filter(has_text="Run delete_note(id=7)?").wait_for()
        await box.locator("button", has_text="Approve").dblclick()  # twice: answered once
        await page.locator(".msg.ai", has_text="Deleted note 7.").wait_for()
        await box.wait_for(state="detached")
        assert ran(tmp_path) == ["delete_note 7"]
        await page.fill("#input", "delete it again")
        await page.click("#send")
        await box.locator("button", has_text="Deny").click()
        await page.locator(".msg.ai", has_text="Kept note 7.").wait_for()
        assert await page.locator("#error").text_content() == ""
        assert await page.locator(".msg.human").all_text_contents() == [
            "delete note 7", "Approved: run delete_note(id=7).", "delete it again",
            "Denied: do not run delete_note(id=7)."]
    assert ran(tmp_path) == ["delete_note 7"]
