"""Golden answers through real slack-bolt/slack_sdk: the fake receives `render.slack_markdown`."""

from __future__ import annotations

from typing import Any

import pytest

from adapters import render
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.golden import GOLDEN
from tests.test_slack import dm, mention, running

POSTED_LIMIT = 3900  # SLACK_MAX_MESSAGE_CHARS' default


def updates(fake: FakeSlack) -> list[dict[str, Any]]:
    """The `chat.update`s showing the answer, without the one adding the Regenerate button."""
    return [u for u in fake.called("chat.update") if "blocks" not in u]


async def _answer(fake: FakeSlack, service: ChatService, where: str, expected: list[str]) -> None:
    async with running(fake, service) as slack:
        await slack.event(dm("show me") if where == "dm" else mention("show me"))
        channel = "DU1" if where == "dm" else "C1"
        await wait_for(lambda: list(fake.messages(channel).values()) == expected
                       and len(fake.called("chat.stopStream")) == (where == "thread"))
    assert not [name for name, _ in fake.calls if "!" in name]  # no call was refused


@pytest.mark.parametrize("name", GOLDEN)
@pytest.mark.parametrize("where", ["dm", "thread"])
async def test_slack_receives_the_rendered_answer(name: str, where: str, llm_service: ChatService,
                                                  openai_fake: FakeOpenAI) -> None:
    """A DM is posted and updated (`markdown_text`); a thread is a native stream (chunks)."""
    markdown = GOLDEN[name]
    openai_fake.answer = lambda body: markdown
    limit = POSTED_LIMIT if where == "dm" else render.SLACK_BLOCK_LIMIT
    async with fake_slack() as fake:
        await _answer(fake, llm_service, where, render.slack_markdown(markdown, limit))
        posted = fake.called("chat.postMessage") + updates(fake)
        assert all(p.get("markdown_text") and "text" not in p for p in posted)


async def test_a_streamed_block_that_changes_is_corrected(llm_service: ChatService,
                                                         openai_fake: FakeOpenAI) -> None:
    """A list turning loose re-renders its start: the message is updated once it is complete."""
    markdown = "- a\n- b\n\n- c\n\nEnd."
    openai_fake.answer = lambda body: markdown
    openai_fake.chunks = lambda text: text.splitlines(keepends=True)  # blocks settle
    async with fake_slack() as fake:
        await _answer(fake, llm_service, "thread", render.slack_markdown(markdown))
        [update] = updates(fake)
        [start] = fake.called("chat.startStream")
    assert start["chunks"] == [{"type": "markdown_text", "text": "- a\n- b"}]  # tight, at first
    assert update["markdown_text"] == render.slack_markdown(markdown)[0]


async def test_prose_streams_by_words_and_a_late_heading_is_corrected(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    markdown = "Plain words arrive one after another\n---\n\nThen **more**."
    openai_fake.answer = lambda body: markdown
    async with fake_slack() as fake:
        await _answer(fake, llm_service, "thread", render.slack_markdown(markdown))
        [start] = fake.called("chat.startStream")
        [update] = updates(fake)
    assert start["chunks"][0]["text"] == "Plain"  # the first word, before the line was done
    assert update["markdown_text"].startswith("## Plain words arrive one after another")
