"""A person links Telegram and Slack with the commands, as a new user would, and continues one
conversation across both (SWITCHBOARD_LINKED_DMS=shared): real PTB and slack-bolt against the
fakes, the real ChatOpenAI against the fake OpenAI."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from adapters import commands
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import fake_slack
from tests.fakes.telegram_api import chat_of, fake_telegram, shown, telegram_bot, user
from tests.test_slack import dm, running
from tests.test_telegram_choices import GROUP

ANA = user(11, "Ana")
CHAT = chat_of(ANA)
CODE = re.compile(r"Your link code is ([A-Z2-9]{8})\.")


async def test_a_code_from_telegram_joins_slack_and_one_dm_goes_on(
        make_llm_service: Callable[..., Awaitable[ChatService]],
        openai_fake: FakeOpenAI) -> None:
    service = await make_llm_service(SWITCHBOARD_LINKED_DMS="shared")
    async with fake_telegram() as tg, telegram_bot(tg, service), fake_slack() as fake, \
            running(fake, service) as slack:
        await tg.send_text(GROUP, ANA, "/link")  # never in a group: anyone there could use it
        await wait_for(lambda: commands.IN_PRIVATE in shown(tg, GROUP["id"]))
        await tg.send_text(CHAT, ANA, "/link")
        said = await wait_for(lambda: next((m for t in shown(tg, CHAT["id"])
                                            if (m := CODE.search(t))), None))
        assert "/link " + said[1] in next(t for t in shown(tg, CHAT["id"]) if said[1] in t)
        await slack.command(f"link {said[1]}")
        await wait_for(lambda: fake.responses and "Linked" in fake.responses[-1]["text"])
        assert "telegram 11" in fake.responses[-1]["text"]
        await tg.send_text(CHAT, ANA, "my favourite colour is teal")  # linked: one DM from now
        await wait_for(lambda: "echo: my favourite colour is teal" in shown(tg, CHAT["id"]))
        await slack.event(dm("what is my favourite colour?"))
        await wait_for(lambda: "echo: what is my favourite colour?" in
                       fake.messages("DU1").values())
        await slack.command("whoami")
        await wait_for(lambda: "Your linked accounts" in fake.responses[-1]["text"])
    asked = openai_fake.requests[-1]["messages"]
    users = [m["content"] for m in asked if m["role"] == "user"]
    assert any("teal" in str(u) for u in users), "the Telegram DM goes on in Slack"
    assert fake.responses[-1]["response_type"] == "ephemeral"
