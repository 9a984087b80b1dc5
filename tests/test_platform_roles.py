"""Roles from what a platform says of a person, only where the configuration names that fact:
a Slack workspace admin, a Telegram group's administrators. Real SDKs against the fakes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from adapters import admin
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import fake_slack
from tests.fakes.telegram_api import fake_telegram, shown, telegram_bot, user
from tests.test_slack import running
from tests.test_telegram_choices import GROUP

Make = Callable[[str], Awaitable[ChatService]]
ROLES = """
[roles.admin]
budget = "unlimited"
members = ["slack:admin:T1"]
[roles.guest]
budget = "1/day"
members = ["telegram:admin:-100123"]
"""


async def test_a_slack_workspace_admin_sees_everyones_usage(make_presets: Make) -> None:
    service = await make_presets(ROLES)
    async with fake_slack() as fake, running(fake, service) as slack:
        fake.users["U1"] = {"display_name": "Ana", "is_admin": True}
        fake.users["U2"] = {"display_name": "Ben"}
        for who in ("U1", "U2"):
            count = len(fake.responses)
            form = {"token": "legacy", "team_id": "T1", "user_id": who, "channel_id": "DU1",
                    "command": "/switchboard", "text": "usage all", "trigger_id": "1.2",
                    "response_url": f"{fake.url}/respond/roles{who}"}
            await slack.send(urlencode(form))
            await wait_for(lambda c=count: len(fake.responses) > c)  # type: ignore[misc]
        ana, ben = (r["text"] for r in fake.responses[-2:])
    assert ana.startswith("Today, everyone:") and ben == admin.NOT_ADMIN


async def test_a_telegram_groups_administrators_get_the_role_named_for_them(
        make_presets: Make, openai_fake: FakeOpenAI) -> None:
    service = await make_presets(ROLES)
    alice, bob = user(11, "Alice"), user(22, "Bob")
    async with fake_telegram() as tg, telegram_bot(tg, service):
        tg.members[(GROUP["id"], alice["id"])] = "administrator"
        for text in ("@switchboard_test_bot one", "@switchboard_test_bot two"):
            await tg.send_text(GROUP, alice, text)
            await tg.send_text(GROUP, bob, text)
        refused = "You've used your token budget for today"
        await wait_for(lambda: any(refused in t for t in shown(tg, GROUP["id"])))
        await wait_for(lambda: sum("two" in t and refused not in t
                                   for t in shown(tg, GROUP["id"])) == 1)
    # Alice, a guest by her group's word, stopped at her budget; Bob went on.
    assert len(openai_fake.requests) == 3
